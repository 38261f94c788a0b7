"""What MLflow's ``inputs``/``instances`` path (its ``_cast_schema_type`` and numpy) does to
a JSON body's values beyond building a frame, for :mod:`mlserve.codecs._json_input`: an object
of columns as its cast and ``pd.DataFrame(dict)`` read it (undeclared keys included), array
values as ndarrays, the refusals its casts give (a list or rows as the first column's type,
each declared value of a one-row object), its double check, and orjson's floats for integers
past 64 bits. ``instances`` rows are :mod:`mlserve.codecs._json_instances`'."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from mlserve.codecs import _json
from mlserve.codecs._plan import DecodePlan
from mlserve.errors import InvalidColumnValue, PayloadError, SchemaMismatch
from mlserve.schema import AnyType, Array, DataType, Map

__all__ = [
    "all_objects",
    "arrays_as_ndarrays",
    "cast_as_first_column",
    "cast_declared_values",
    "check_cells",
    "declared_columns",
    "dict_columns",
    "np_array",
    "numpy_casts",
    "pad_rows_for_any",
    "refloat",
    "refuse_float_arrays",
    "refuse_floats_for_other_types",
]


def numpy_casts(values: Any, dtype: np.dtype) -> bool:
    """Whether MLflow's ``np.array(values, dtype)`` succeeds: what it fails on is the body's
    mistake there (BAD_REQUEST). An overflow (1e300 for a float) is inf to it, not an error."""
    try:
        with np.errstate(over="ignore", invalid="ignore"):
            np.array(values, dtype)
    except (TypeError, ValueError, OverflowError):
        return False
    return True


def all_objects(values: list[Any]) -> bool:
    return set(map(type, values)) <= {dict}  # JSON's objects are dicts: C speed, no genexpr


def cast_as_first_column(value: list[Any], plan: DecodePlan, where: str) -> None:
    """A list (flat, or rows) under ``inputs``/``instances`` for several columns: MLflow's
    ``_cast_schema_type`` casts the whole list as the first column's type before its enforcement
    meets the frame it makes of it; a value that cast fails on (an object, or text among
    numbers, even for a later column of text) is the body's mistake there, BAD_REQUEST."""
    first = plan.schema.inputs[0].type if plan.schema is not None else None
    if isinstance(first, DataType):
        if not numpy_casts(value, first.to_numpy()):
            raise PayloadError(
                f"'{where}' is a list, which MLflow casts whole as the first column's type "
                f"({first.name}), and some of its values do not cast; send rows of several "
                "types under 'dataframe_split' or 'dataframe_records'"
            )
    elif first is not None and plan.compiled is not None:
        # an array, object or map column: the list is checked as one value of it
        check_cells([value], plan.compiled.converters[0])


def pad_rows_for_any(rows: list[Any], plan: DecodePlan) -> list[Any]:
    """Rows of other lengths for a signature whose first column is ``Any``: MLflow casts
    nothing then, and ``pd.DataFrame(rows)`` pads the short rows with nulls (where a cast as
    another first column's type fails on them, BAD_REQUEST)."""
    if (
        plan.schema is None
        or not isinstance(plan.schema.inputs[0].type, AnyType)
        or not all(isinstance(r, list) for r in rows)
        or len(widths := set(map(len, rows))) < 2
    ):
        return rows
    width = max(widths)
    return [r + [None] * (width - len(r)) for r in rows]


def cast_declared_values(value: dict[Any, Any], plan: DecodePlan, where: str) -> None:
    """An object of columns for a signature with an array or object column, which MLflow makes
    one row: its ``_cast_schema_type`` first casts each declared key's value against its column
    (a plain column's with ``np.array(value, dtype)``, a complex one's with its checks), and a
    value that does not cast is BAD_REQUEST there; what casts meets its enforcement."""
    for key, (spec, convert) in zip(value, declared_columns(value, plan), strict=True):
        v = value[key]
        if spec is None:
            continue
        if isinstance(spec.type, DataType):
            if not numpy_casts(v if isinstance(v, list) else [v], spec.type.to_numpy()):
                raise PayloadError(
                    f"'{where}.{key}' does not cast to the column's type ({spec.type.name})"
                )
        else:
            check_cells([v], convert)


def refuse_floats_for_other_types(plan: DecodePlan) -> None:
    """Rows under ``inputs``/``instances`` cast whole as a first column of floats: MLflow's
    enforcement then meets a float column where a later column declares text, an integer, a
    boolean, a datetime or bytes, which it refuses (INVALID_PARAMETER_VALUE). Where the first
    column holds another type our column rules judge each value instead."""
    if plan.schema is None:
        return
    first, *rest = plan.schema.inputs
    if first.type not in (DataType.double, DataType.float):
        return
    fits = (
        (DataType.double,) if first.type is DataType.double else (DataType.double, DataType.float)
    )
    for spec in rest:
        if isinstance(spec.type, DataType) and spec.type not in fits:
            raise SchemaMismatch(
                str(spec.name),
                spec.type.name,
                f"{first.type.name} values (MLflow casts rows whole as the first column's type)",
            )


def dict_columns(value: dict[Any, Any], plan: DecodePlan, where: str) -> list[list[Any]]:
    """An object of columns as MLflow makes a frame of it. Its cast keeps a declared column's
    single value single, and makes an undeclared key's value an array (``np.array(v)``). Then
    its enforcement makes one row when every value is single (or an ``any`` column's list of
    strings), else ``pd.DataFrame(dict)``: lists of one length, a single value repeated down
    their rows. Single values beside an undeclared key's (``{"v": 1.0, "e": 5}``) leave pandas
    no index there (INVALID_PARAMETER_VALUE)."""
    values = list(value.values())
    specs = declared_columns(value, plan)
    kinds = [type(spec.type) if spec is not None else None for spec, _ in specs]
    loose = [spec is None for spec, _ in specs]  # undeclared: an array in MLflow, never single
    if not any(loose) and not any(isinstance(v, (list, dict)) for v in values):
        return [[v] for v in values]
    for (key, v), kind, (_, convert) in zip(value.items(), kinds, specs, strict=True):
        if isinstance(v, list) and kind is Map:
            # MLflow casts the whole list as one map, which fails (BAD_REQUEST)
            raise PayloadError(
                f"'{where}.{key}' is a list, where a map column takes one map; send rows "
                "as a list of objects"
            )
        if isinstance(v, dict) and kind in (Map, AnyType):
            # MLflow casts the object as one value of the column first: a map whose values
            # do not fit is BAD_REQUEST there
            if convert is not None:
                check_cells([v], convert)
            # then pd.DataFrame(dict) reads an object's keys as row labels and its values as
            # the column's: a map's keys would be dropped (MLflow then refuses the numbers)
            raise SchemaMismatch(
                str(key), "one value per row; send rows as a list of objects", "an object"
            )
    for (key, v), is_loose, kind in zip(value.items(), loose, kinds, strict=True):
        if isinstance(v, list) and (
            is_loose or (kind is DataType and v and isinstance(v[0], list))
        ):
            # MLflow's np.array(v) (with the column's dtype if declared): ragged lists fail
            np_array(v, f"{where}.{key}")
    if not any(loose) and all(
        not isinstance(v, (list, dict))
        or (kind is AnyType and isinstance(v, list) and all(isinstance(x, str) for x in v))
        for v, kind in zip(values, kinds, strict=True)
    ):
        return [[v] for v in values]
    if where == "instances":
        # MLflow's parse_instances_data counts the required declared columns other than
        # arrays first (BAD_REQUEST); the other keys' lengths meet pandas below
        counted = {
            len(v)
            for v, kind, (spec, _) in zip(values, kinds, specs, strict=True)
            if isinstance(v, list) and spec is not None and spec.required and kind is not Array
        }
        if len(counted) > 1:
            raise PayloadError(f"the lists in '{where}' have unequal lengths {sorted(counted)[:5]}")
    lengths = sorted({len(v) for v in values if isinstance(v, list)})
    if not lengths and any(loose):
        raise SchemaMismatch(
            None,
            "lists of values (one per row) beside the keys the signature does not declare",
            "single values only",
        )
    if len(lengths) > 1:
        raise SchemaMismatch(
            None, "lists of one length (one per column)", f"lists of lengths {lengths[:5]}"
        )
    nrows = lengths[0] if lengths else 1  # an object for a plain column: its cast refuses it
    return [v if isinstance(v, list) else [v] * nrows for v in values]


def declared_columns(value: dict[Any, Any], plan: DecodePlan) -> list[tuple[Any, Any]]:
    """The column spec and compiled converter of each key, or ``(None, None)`` for a key the
    signature does not declare, as MLflow's ``types_dict.get(key)`` finds it: a column named
    ``0`` is not the JSON key ``"0"``, and an unnamed signature declares no key."""
    compiled = plan.compiled
    if plan.schema is None or compiled is None or not compiled.named:
        return [(None, None)] * len(value)
    columns = {
        label: (spec, convert)
        for spec, label, convert in zip(
            plan.schema.inputs, compiled.labels, compiled.converters, strict=True
        )
    }
    return [columns.get(k, (None, None)) for k in value]


_NO_FLOATS = frozenset((str, int, bool, type(None)))
_NUMBERS = frozenset((float, int, bool))
_LISTS = frozenset((list,))


def refloat(data: Any) -> bool:
    """True if ``data`` (decoded with orjson: without a signature, or a column's values) holds
    a float of an integer's size past int64, which orjson may have made of an integer
    literal."""
    if _json.backend() != "orjson":
        return False
    if isinstance(data, dict):
        return any(refloat(v) for v in data.values())
    if isinstance(data, (list, tuple)):
        kinds = set(map(type, data))
        if kinds <= _NO_FLOATS:  # text, as a string column's values are: nothing to look at
            return False
        if kinds <= _NUMBERS or kinds == _LISTS:
            # numbers, or lists of them (an Any column of vectors): one array, not a Python
            # loop per value. What numpy also reads as a number (text in nested lists) can only
            # make the body parsed again, which is slower and as exact
            try:
                floats = np.array(data, dtype=np.float64)
            except (TypeError, ValueError, OverflowError):
                pass  # ragged, or holding objects: look inside each value
            else:
                return bool((np.abs(floats) >= 2.0**63).any())
        return any(refloat(v) for v in data)
    if isinstance(data, np.ndarray) and data.dtype.kind == "f":
        # NaN compares False; an infinity re-parses to the same infinity, only slower
        return bool((np.abs(data) >= 2.0**63).any())
    if isinstance(data, np.ndarray) and data.dtype == object:
        return any(isinstance(v, float) and abs(v) >= 2.0**63 for v in data.flat)
    return isinstance(data, float) and abs(data) >= 2.0**63


def np_array(value: Any, where: str) -> np.ndarray:
    """``np.array(value)``, as MLflow's ``inputs`` path makes each value; nested lists of unequal
    lengths, which numpy cannot stack, are the client's mistake (BAD_REQUEST, as MLflow)."""
    try:
        return np.array(value)
    except ValueError as exc:
        raise PayloadError(f"'{where}' holds nested lists of unequal lengths") from exc


def refuse_float_arrays(frame: pd.DataFrame, plan: DecodePlan) -> None:
    """An ``Array(float)`` column sent as JSON: MLflow's server checks the array while parsing
    the body, which turns integer 0s and 1s into float64 values, and again in ``predict``, where
    float64 does not fit ``float`` (400 ``INVALID_PARAMETER_VALUE``); other numbers fail the
    first check (``BAD_REQUEST``, the enforcer's answer here). So no JSON array but ``[]``
    reaches such a column through MLflow's server, and none does through ours."""
    if plan.schema is None:
        return
    for spec in plan.schema.inputs:
        t = getattr(spec, "type", None)
        if not (isinstance(t, Array) and t.dtype is DataType.float and spec.name in frame):
            continue
        cells = [v for v in frame[spec.name] if isinstance(v, (list, np.ndarray)) and len(v)]
        if cells and all(all(type(x) is int and x in (0, 1) for x in v) for v in cells):
            raise SchemaMismatch(
                str(spec.name),
                "Array(float)",
                "JSON numbers, which MLflow's server reads as float64, wider than float",
            )


def arrays_as_ndarrays(frame: pd.DataFrame, plan: DecodePlan) -> pd.DataFrame:
    """An array column's values as ndarrays, as MLflow's ``inputs`` path gives them to the
    model (``_cast_schema_type``: ``np.array(...)`` of each array value; ``dataframe_records``
    and ``dataframe_split`` give lists). The enforcer keeps the container it is given."""
    if plan.schema is None:
        return frame
    names = [
        s.name
        for s in plan.schema.inputs
        if isinstance(getattr(s, "type", None), Array) and s.name in frame.columns
    ]
    for name in names:
        cells = np.empty(len(frame), dtype=object)  # one array per row, whatever its shape
        cells[:] = [np_array(v, "inputs") if isinstance(v, list) else v for v in frame[name]]
        frame[name] = cells
    return frame


def check_cells(cells: list[Any], convert: Any) -> None:
    """A column's sent values against its type, as MLflow casts each cell of ``instances`` rows
    before it stacks them: a value that does not fit (``[0.5]`` for ``Array(float)``, a null for
    a required array) is the compiled converter's :class:`~mlserve.errors.InvalidColumnValue`
    (BAD_REQUEST). Its other refusals come from MLflow's enforcement, which only sees the
    stacked arrays, and give way to the caller's refusal."""
    column = np.empty(len(cells), dtype=object)  # one value per row, whatever its shape
    column[:] = cells
    try:
        convert(pd.Series(column, dtype=object))
    except InvalidColumnValue:
        raise
    except SchemaMismatch:
        pass
