"""Make input data fit a model's input :class:`~mlserve.schema._types.Schema`, or say why not.

:class:`SchemaEnforcer` is built once per model: it precomputes the column order, the lookup from
the names data may use to the signature's names, and one converter per column. Calling it on a
request does dtype checks and conversions only where needed; a numeric DataFrame whose dtypes
already match comes back without copying any values. The rules are tabled in
``docs/signatures.md``.
"""

from __future__ import annotations

from collections.abc import Hashable, Mapping, Sequence
from typing import Any, TypeAlias

import numpy as np
import pandas as pd

from mlserve.errors import InvalidColumnValue, SchemaMismatch
from mlserve.schema._compiled import CompiledSchema, compile_schema
from mlserve.schema._kinds import inferred_kind, value_kind
from mlserve.schema._rules import ColumnRule
from mlserve.schema._tensor_strings import string_array, string_tensor
from mlserve.schema._types import Schema, TensorSpec

__all__ = ["SchemaEnforcer", "enforce_schema"]

Data: TypeAlias = pd.DataFrame | np.ndarray | dict[str, np.ndarray]


def _quoted(names: Sequence[str]) -> str:
    return ", ".join(repr(n) for n in names)


def _count(n: int) -> str:
    return f"{n} column" if n == 1 else f"{n} columns"


def _missing(noun: str, names: list[str]) -> SchemaMismatch:
    if len(names) == 1:
        return SchemaMismatch(None, f"required {noun} {names[0]!r}", "it missing")
    return SchemaMismatch(None, f"required {noun}s {_quoted(names)}", "them missing")


def _shape_text(shape: tuple[int, ...]) -> str:
    dims = ", ".join("-1" if d == -1 else str(d) for d in shape)
    return f"({dims},)" if len(shape) == 1 else f"({dims})"


class SchemaEnforcer:
    """Checks and converts input data against one :class:`Schema`; build once, call per request.

    Built from a schema or its :class:`~mlserve.schema._compiled.CompiledSchema` (the same
    compiled rules the model's decoding plan holds; a schema is compiled once, whoever asks).

    ``enforcer(data)`` returns a DataFrame for a column schema, and an ndarray (one tensor) or a
    dict of ndarrays (named tensors) for a tensor schema. Accepted data: DataFrame, Series,
    ndarray, dict of columns or tensors, list of row dicts, nested lists.
    Raises :class:`~mlserve.errors.SchemaMismatch` naming the column, the expected type and the
    kind of value found (never the value): see ``docs/signatures.md`` for every rule.
    """

    def __init__(self, schema: Schema | CompiledSchema) -> None:
        compiled = schema if isinstance(schema, CompiledSchema) else compile_schema(schema)
        if compiled.schema is None:
            raise TypeError("a SchemaEnforcer needs an input schema")
        #: the signature's compiled rules, shared with the decoding plan of the same model
        self.compiled = compiled
        self.schema: Schema = compiled.schema
        self._tensor = compiled.kind != "columns"
        self._named = compiled.named
        self._names: tuple[str, ...] = compiled.names
        self._dict_is_row = compiled.dict_is_row
        self._converters = compiled.converters
        self._exact = compiled.exact
        self._uniform = compiled.uniform
        self._labels = compiled.labels
        # rows (labelled 0..n-1) fit as they are: unnamed, or named 0..n-1 in order
        self._rows_fit = not self._named or compiled.labels == tuple(range(len(compiled.labels)))
        # Positional data (ndarray, nested lists) gets the signature's names, as in MLflow
        # (typed as declared: the model sees integer names as integers). A prebuilt Index:
        # pandas builds a frame from one several times faster than from a list.
        assert compiled.index is not None
        self._index = compiled.index
        self._unique = compiled.unique

    @property
    def input_dtypes(self) -> dict[str, np.dtype]:
        """Signature name (or position as a string) -> the numpy dtype the input converts to.

        Decoders use it to parse straight into the right dtype. Strings and bytes map to
        ``object``, as in a pandas column; tensors to their declared dtype.
        """
        return {
            n: s.dtype if isinstance(s, TensorSpec) else s.to_pandas()
            for n, s in zip(self._names, self.schema.inputs, strict=True)
        }

    def __repr__(self) -> str:
        return f"SchemaEnforcer({self.schema!r})"

    def __call__(self, data: Any) -> Data:
        if self._tensor:
            return self._tensors(data)
        return self._columns(self._as_frame(data))

    # -- column schemas --------------------------------------------------------------------

    def _as_frame(self, data: Any) -> pd.DataFrame:
        if isinstance(data, pd.DataFrame):
            return data
        width = len(self._names)
        if isinstance(data, pd.Series):
            if width != 1:
                raise SchemaMismatch(None, _count(width), "a single column (a Series)")
            return data.to_frame(name=self._index[0])
        if isinstance(data, Mapping):
            if data and (self._dict_is_row or all(np.ndim(v) == 0 for v in data.values())):
                data = [data]  # one row given as {"a": 1, "b": 2}, or {"messages": [...]}
            else:
                return self._build(pd.DataFrame, data)
        if isinstance(data, list) and data and all(isinstance(r, Mapping) for r in data):
            return self._build(pd.DataFrame, data)
        if isinstance(data, (list, tuple)):
            data = self._build(np.asarray, data)
        if not isinstance(data, np.ndarray):
            raise SchemaMismatch(None, "a table of columns", value_kind(data))
        one_column = data.ndim == 1 and width == 1
        if one_column:
            data = data.reshape(-1, 1)  # the one column's values, as a flat list over HTTP
        if data.ndim != 2:
            raise SchemaMismatch(None, _count(width), f"an array of shape {data.shape}")
        uniform = self._uniform
        if uniform is not None and data.dtype != uniform and _castable(data.dtype, uniform):
            data = data.astype(uniform)
        if not one_column and (data.shape[1] != width or not self._rows_fit):
            # Rows are labelled by position 0..n-1, as MLflow's pd.DataFrame(rows): they meet
            # a signature named 0..n-1 (extra columns dropped), not one named "a", "b" or
            # "0", "1", whose columns are then missing; as rows sent over HTTP.
            return pd.DataFrame(data, copy=False)
        return pd.DataFrame(data, columns=self._index.view(), copy=False)

    @staticmethod
    def _build(build: Any, data: Any) -> Any:
        try:
            return build(data)
        except (ValueError, TypeError) as exc:
            raise SchemaMismatch(None, "a table of columns", "rows of unequal length") from exc

    def _locate(self, df: pd.DataFrame) -> list[int | None] | None:
        """The data's column position for each signature column (``None`` when missing); or
        ``None`` when the data's columns are the signature's, in order (the common case)."""
        columns = df.columns
        # Index.equals, not a list of the labels: iterating a pandas 3 string Index costs
        # ~0.5 us a label, comparing it against a prebuilt Index a few us in all.
        if not self._named or columns is self._index or columns.equals(self._index):
            if len(columns) != len(self._names):
                raise SchemaMismatch(None, _count(len(self._names)), _count(len(columns)))
            return None
        # A label matches a declared name by value and type, as pandas' ``name in df.columns``
        # in MLflow: the integer 0 is not the string "0" (a frame with the labels "0", "1"
        # lacks the inputs 0, 1 of an integer-named signature, and the other way round).
        by_label: dict[Hashable, int] = {}
        duplicated: set[Hashable] = set()
        for pos, label in enumerate(columns.tolist()):
            if label in by_label:
                duplicated.add(label)
            by_label[label] = pos
        wanted = [
            n for n, label in zip(self._names, self._labels, strict=True) if label in duplicated
        ]
        if wanted:
            raise SchemaMismatch(wanted[0], "one column", "duplicate columns")
        return [by_label.get(label) for label in self._labels]

    def _columns(self, df: pd.DataFrame) -> pd.DataFrame:
        located = self._locate(df)
        # One dtypes lookup, then per column only a dtype comparison: a frame that already fits
        # costs O(columns) and is returned as is.
        dtypes = df.dtypes.tolist()
        exact = self._exact
        if located is None:  # same columns, same order: nothing to select or rename
            todo = [
                i
                for i, (want, have) in enumerate(zip(exact, dtypes, strict=True))
                if want is None or have != want  # np.dtype == None means float64!
            ]
            if not todo:
                return df
            present = [(i, i) for i in range(len(dtypes))]
            out = df
        else:
            # by position: 0 and "0" may both be declared, and both be named '0' in messages
            missing_required = [
                n
                for n, pos, rule in zip(self._names, located, self.compiled.rules, strict=True)
                if pos is None and rule.required
            ]
            if missing_required:
                raise _missing("column", missing_required)
            present = [(i, pos) for i, pos in enumerate(located) if pos is not None]
            if not present:
                # none of the (all optional) columns sent: MLflow's enforcement hands the model
                # a frame of no columns and no rows, whatever else the input held
                return pd.DataFrame()
            chosen = [pos for _, pos in present]
            todo = [
                j
                for j, (i, pos) in enumerate(present)
                if exact[i] is None or dtypes[pos] != exact[i]
            ]
            out = df if chosen == list(range(df.shape[1])) else df.iloc[:, chosen]
            if self._named:
                names = [self._index[i] for i, _ in present]
                if not _same_labels(names, out.columns.tolist()):
                    full = len(names) == len(self._names)
                    out = out.set_axis(self._index.view() if full else pd.Index(names), axis=1)
            if not todo:
                return out
        uniform = self._uniform
        if uniform is not None and all(
            isinstance(dtypes[present[j][1]], np.dtype)
            and _castable(dtypes[present[j][1]], uniform)
            for j in todo
        ):
            # The common "JSON ints for a double model" case: one cast of the whole frame.
            return out.astype(uniform)
        changes: dict[int, Any] = {}
        labels = out.columns
        # By label when labels are unique: pandas' iloc machinery costs ~20 us a column more.
        # (A fresh Index works out is_unique by hashing every label, ~60 us on 20 columns. With
        # a named signature and nothing located, the labels are the signature's, checked once;
        # an unnamed signature takes any labels, duplicates too.)
        by_label = self._unique if located is None and self._named else labels.is_unique
        for j in todo:
            column = out[labels[j]] if by_label else out.iloc[:, j]
            new = self._converters[present[j][0]](column)
            if new is not None:
                changes[j] = new
        if changes:
            out = out.copy(deep=False)
            for j, values in changes.items():
                out.isetitem(j, values)
        return out

    # -- tensor schemas --------------------------------------------------------------------

    def _tensors(self, data: Any) -> Data:
        specs: tuple[TensorSpec, ...] = self.schema.inputs  # type: ignore[assignment]
        if isinstance(data, pd.DataFrame) and data.shape[0]:
            return self._frame_tensors(data, specs)
        if len(specs) == 1 and not isinstance(data, Mapping):
            if isinstance(data, (pd.DataFrame, pd.Series)):
                data = data.to_numpy()
            return _tensor(specs[0], data)
        if isinstance(data, pd.DataFrame):
            data = {str(c): data[c].to_numpy() for c in data.columns}
        if not isinstance(data, Mapping):
            raise SchemaMismatch(
                None, f"named tensors {_quoted(self._names)}", f"{value_kind(data)} without names"
            )
        if not self._named and len(data) == 1:  # one unnamed tensor sent as {"anything": [...]}
            return _tensor(specs[0], next(iter(data.values())))
        keyed = {k if isinstance(k, str) else str(k): v for k, v in data.items()}
        missing = [n for n in self._names if n not in keyed]
        if missing:
            raise _missing("tensor", missing)
        return {n: _tensor(s, keyed[n]) for n, s in zip(self._names, specs, strict=True)}

    def _frame_tensors(self, df: pd.DataFrame, specs: tuple[TensorSpec, ...]) -> Data:
        """A frame for a tensor signature, as MLflow's ``_enforce_tensor_schema`` reads one:
        named tensors take the column of their name, each reshaped to its tensor (a column
        of lists stacked); an unnamed tensor takes its one column so, or the whole frame as
        rows when its shape is ``(-1, number of columns)``."""
        if self._named:
            keyed = {str(c): i for i, c in enumerate(df.columns)}
            missing = [n for n in self._names if n not in keyed]
            if missing:
                raise _missing("tensor", missing)
            rules = self.compiled.rules
            return {
                n: _column_tensor(s, df.iloc[:, keyed[n]], rules[i])
                for i, (n, s) in enumerate(zip(self._names, specs, strict=True))
            }
        spec = specs[0]
        if df.shape[1] == 1:
            return _column_tensor(spec, df.iloc[:, 0], self.compiled.rules[0])
        expected = f"a {spec.dtype.name} tensor of shape {_shape_text(spec.shape)}"
        if tuple(spec.shape) != (-1, df.shape[1]):
            raise SchemaMismatch(spec.name, expected, f"a frame of {df.shape[1]} columns")
        if spec.dtype.kind in "US":
            # MLflow takes the frame's to_numpy() as it is and requires the tensor's dtype:
            # a frame's text is objects, never str (or bytes), so it refuses every such frame
            found = (
                f"a frame of {df.shape[1]} columns (a {spec.dtype.name} tensor is taken as rows)"
            )
            raise SchemaMismatch(spec.name, expected, found)
        return _tensor(spec, df.to_numpy())


def _column_tensor(spec: TensorSpec, column: pd.Series, rule: ColumnRule) -> np.ndarray:
    """One frame column as the tensor ``spec``, as MLflow's
    ``_reshape_and_cast_pandas_column_values``: single values fill a ``(-1,)`` or ``(-1, 1)``
    tensor, a column of lists (one per row) is stacked and reshaped to the tensor's shape;
    only shapes whose first dimension alone varies can be filled from a column."""
    shape = tuple(spec.shape)
    expected = f"a {spec.dtype.name} tensor of shape {_shape_text(spec.shape)}"
    if not shape or shape[0] != -1 or -1 in shape[1:]:
        raise SchemaMismatch(spec.name, expected, "a frame column")
    values = column.to_numpy()
    if isinstance(values[0], (list, np.ndarray)):
        try:
            arr = np.vstack(list(values)).reshape(shape)
        except ValueError:
            raise SchemaMismatch(
                spec.name, expected, "a column of lists of other lengths"
            ) from None
        if len(arr) != len(values):
            raise SchemaMismatch(spec.name, expected, "a column of lists of other lengths")
    elif shape in ((-1,), (-1, 1)):
        arr = values.reshape(shape)
    else:
        raise SchemaMismatch(spec.name, expected, "a column of single values")
    if spec.dtype.kind == "U":
        # MLflow casts the column to str as the frame holds it: 2.0 -> "2.0", True -> "True"
        return string_array(arr, spec.name, expected)
    if arr.dtype.kind in "iuf" and spec.dtype.kind == "f":
        # MLflow casts a column to the tensor's type (np.array(column, dtype=...)): numbers
        # are typed as a float tensor's nested lists are, a number past float32's range refused
        floats = rule.as_float(arr)
        if floats is not None:
            return floats
    return _tensor(spec, arr)


def _same_labels(a: list[Any], b: list[Any]) -> bool:
    """Equal labels of equal types: "0" is not 0 (a CSV header for an integer-named column)."""
    return a == b and all(type(x) is type(y) for x, y in zip(a, b, strict=True))


def _castable(src: np.dtype, dst: np.dtype) -> bool:
    """True for the casts that need no look at the values: safe casts and int -> float."""
    if src.kind == "b" and dst.kind != "b":
        return False  # numpy calls bool -> number safe; a signature does not
    if np.can_cast(src, dst, casting="safe"):
        return True
    # JSON numbers arrive as int64; any integer may fill a float tensor, as with columns.
    return src.kind in "iu" and dst.kind == "f"


def _tensor(spec: TensorSpec, data: Any) -> np.ndarray:
    expected = f"a {spec.dtype.name} tensor of shape {_shape_text(spec.shape)}"
    if not isinstance(data, np.ndarray):
        # nested lists for a str tensor: each value as written, built (and refused, in the same
        # words) as the JSON decoder builds it
        strings = None
        if spec.dtype.kind == "U":
            strings = string_tensor(data, spec.name, f"{spec.dtype.name} values")
        try:
            data = strings if strings is not None else np.asarray(data)
        except (ValueError, TypeError) as exc:
            raise SchemaMismatch(spec.name, expected, "rows of unequal length") from exc
    if data.ndim != len(spec.shape) or any(
        want not in (-1, got) for want, got in zip(spec.shape, data.shape, strict=False)
    ):
        raise SchemaMismatch(spec.name, expected, f"shape {data.shape}")
    src, dst = data.dtype, spec.dtype
    if src == dst or (src.kind == dst.kind and dst.kind in "USO"):
        return data
    if dst.kind in "fiu" and (
        src.kind in "US"
        or (src.kind == "O" and any(isinstance(v, (str, bytes)) for v in data.flat))
    ):
        # MLflow fails while casting the request to the tensor's type: BAD_REQUEST
        found = "bytes" if src.kind == "S" else "a string"
        raise InvalidColumnValue(spec.name, expected, found)
    if src.kind == "O":
        kind = inferred_kind(data.ravel())
        numeric = dst.kind in "fiu" and kind in ("an integer", "a float")
        if numeric or (dst.kind == "b" and kind == "a boolean"):
            try:
                converted = data.astype(dst)
            except (ValueError, TypeError, OverflowError):
                raise SchemaMismatch(spec.name, expected, kind) from None
            if dst.kind in "iu" and not np.array_equal(converted, data.astype(np.float64)):
                raise SchemaMismatch(spec.name, expected, "a non-integer float")
            return converted
        if dst.kind in "USO" and kind == "a string":
            return data
        raise SchemaMismatch(spec.name, expected, kind)
    if _castable(src, dst):
        return data.astype(dst)
    raise SchemaMismatch(spec.name, expected, f"dtype {src.name}")


def enforce_schema(data: Any, schema: Schema) -> Data:
    """One-off form of :class:`SchemaEnforcer`: ``SchemaEnforcer(schema)(data)``."""
    return SchemaEnforcer(schema)(data)
