"""Typed pandas frames and numpy arrays from decoded JSON values, one column at a time.

Numbers go straight into numpy arrays of the signature's dtype (``np.asarray(values, dtype)``,
no per-cell Python work); anything else is typed the way ``pandas.DataFrame(rows)`` would type
it, so a request decodes to the frame MLflow builds. Integers are never narrowed silently: a value
outside the declared integer type's range is an :class:`InvalidColumnValue`, and floats meant for an
integer column are left as floats for the schema enforcer to reject.
"""

from __future__ import annotations

import base64
import binascii
import functools
from collections.abc import Hashable, Sequence
from typing import Any

import numpy as np
import pandas as pd

from mlserve.codecs.plan import ANY, ColumnRule, DecodePlan
from mlserve.errors import InvalidColumnValue, PayloadError, SchemaMismatch
from mlserve.schema._columns import as_ns, names_the_clock

__all__ = [
    "check_column_names",
    "coerce_column",
    "coerce_frame",
    "frame_from_columns",
    "frame_from_rows",
    "to_array",
]

_SCALARS = (str, int, float, bool)
# signature type names of the numeric dtypes, for messages matching the schema enforcer's
_TYPE_NAMES = {"float64": "double", "float32": "float", "int64": "long", "int32": "integer"}


def _has_bool(data: object) -> bool:
    """True when nested lists hold a JSON boolean (only asked when the body has one)."""
    if isinstance(data, bool):
        return True
    return isinstance(data, list) and any(map(_has_bool, data))


def check_column_names(columns: object, where: str) -> list[Hashable]:
    """Validate a list of column names: strings or integers, unique.

    Raises :class:`PayloadError` naming ``where`` (e.g. ``"dataframe_split.columns"``).
    """
    if not isinstance(columns, list):
        raise PayloadError(f"'{where}' must be a list of column names")
    if not all(type(c) is str or type(c) is int for c in columns):
        raise PayloadError(f"'{where}' must hold only strings or integers")
    if len(set(columns)) != len(columns):
        raise PayloadError(f"'{where}' has duplicate column names")
    return columns


def _infer(values: Sequence[Any]) -> Any:
    """Type a column exactly as pandas types a column of a frame built from Python rows."""
    if values and not isinstance(values[0], str):
        try:
            arr = np.asarray(values)
        except (ValueError, TypeError):  # ragged nested lists: an object column
            arr = None
        if arr is not None and arr.ndim == 1 and arr.dtype.kind in "biuf":
            return arr
    try:
        if values and all(type(v) is str for v in values):
            # what pandas infers for strings alone, built directly (a third of the time)
            return pd.array(list(values), dtype=_string_dtype())
        return pd.Series(list(values), dtype=None if values else object).array
    except UnicodeEncodeError as exc:
        # a lone surrogate (a "\ud800" escape): JSON's syntax allows it, Unicode text does not,
        # and pandas' pyarrow-backed strings cannot hold it
        raise PayloadError(
            "a string holds a lone surrogate (an unpaired \\ud800-\\udfff escape), which is "
            "not valid Unicode text"
        ) from exc


@functools.lru_cache(maxsize=1)
def _string_dtype() -> Any:
    """The dtype pandas infers for a column of strings (``str`` from pandas 3, ``object``
    before), asked of pandas once (pandas 3 deprecates turning that inference off)."""
    return pd.Series(["a"]).dtype


def _as_float(values: Any, dtype: np.dtype, name: str | None) -> np.ndarray | None:
    """``values`` as a float array of ``dtype``; None when they are not all numbers (or nulls).

    Strings are not numbers here even where numpy would parse them (``"1.0"``, ``" 1e5 "``,
    ``"1_000"``): the schema enforcer refuses a string for a double in process, and the HTTP
    path must agree with it.
    """
    try:
        with np.errstate(over="raise"):
            arr = np.asarray(values)
            if arr.dtype.kind in "USV" or (arr.dtype == object and _holds_str(arr)):
                return None
            return arr.astype(dtype, copy=False)
    except (FloatingPointError, OverflowError) as exc:
        # a column's value, or a tensor's (unnamed here: tensors keep the plain SchemaMismatch)
        error = InvalidColumnValue if name is not None else SchemaMismatch
        raise error(name, f"{dtype.name} values", "a number out of range") from exc
    except (ValueError, TypeError):
        return None  # strings, objects, ragged nesting: someone else names what was found


def _holds_str(arr: np.ndarray) -> bool:
    # only for object arrays (nulls or huge integers among the numbers): rare, so a loop
    return any(isinstance(v, (str, bytes)) for v in arr.flat)


def _narrow_int(arr: np.ndarray, rule: ColumnRule) -> np.ndarray:
    target = rule.dtype
    assert target is not None
    if arr.dtype == target or arr.size == 0:
        return arr.astype(target, copy=False)
    info = np.iinfo(target)
    if arr.min() < info.min or arr.max() > info.max:
        raise InvalidColumnValue(rule.name, f"{target.name} values", "an integer out of range")
    return arr.astype(target)


def _decode_base64(values: Sequence[Any], rule: ColumnRule) -> Any:
    out: list[Any] = []
    for v in values:
        if isinstance(v, str):
            try:
                # MLflow's client wraps base64 at 76 columns (encodebytes): drop the newlines
                out.append(base64.b64decode("".join(v.split()), validate=True))
            except (binascii.Error, ValueError) as exc:
                raise InvalidColumnValue(
                    rule.name, "binary (a base64 string)", "a string that is not base64"
                ) from exc
        else:
            out.append(v)
    arr = np.empty(len(out), dtype=object)
    arr[:] = out
    return arr


def coerce_column(
    values: Sequence[Any] | np.ndarray, rule: ColumnRule, booleans: bool = False
) -> Any:
    """Type one column (a sequence of JSON values or an array) according to ``rule``.

    Values that do not fit are returned as typed by inference, for the schema enforcer to
    reject with a precise message; only an out-of-range integer, and with ``booleans`` a JSON
    boolean in a numeric column, raise here (:class:`InvalidColumnValue`).
    """
    kind = rule.kind
    if kind == "object":
        return _objects(values)
    if kind in ("float", "int") and (
        (booleans and not isinstance(values, np.ndarray) and bool in set(map(type, values)))
        # a boolean column read from CSV or Parquet: refused as the JSON true is, and as the
        # enforcer refuses it in process
        or (isinstance(values, np.ndarray) and values.dtype.kind == "b")
    ):
        assert rule.dtype is not None
        raise InvalidColumnValue(
            rule.name, _TYPE_NAMES.get(rule.dtype.name, rule.dtype.name), "a boolean"
        )
    if kind == "float":
        assert rule.dtype is not None
        floats = _as_float(values, rule.dtype, rule.name)
        # a column of equal-length lists converts to a 2-D array: not a column of numbers
        if floats is not None and floats.ndim == 1:
            return floats
    elif kind == "binary":
        if isinstance(values, np.ndarray) and values.dtype.kind not in "OUT":
            return values
        return _decode_base64(list(values), rule)
    elif (
        kind == "datetime"
        and len(values)
        and isinstance(values[0], str)
        # strings only (and nulls): pandas would read a number among them as a year, or as
        # nanoseconds; the enforcer names what else was found
        and all(isinstance(v, str) or v is None or (type(v) is float and v != v) for v in values)
    ):
        return _iso_datetimes(list(values), rule)
    arr = values if isinstance(values, np.ndarray) else _infer(values)
    if kind == "int" and isinstance(arr, np.ndarray) and arr.dtype.kind in "iu":
        return _narrow_int(arr, rule)
    return arr


def _objects(values: Sequence[Any] | np.ndarray) -> np.ndarray:
    """One Python object per row, as decoded: nested lists must not become a 2-D array."""
    out = np.empty(len(values), dtype=object)
    for i, v in enumerate(values):
        out[i] = v
    return out


def _iso_datetimes(values: list[Any], rule: ColumnRule) -> Any:
    """Parse ISO 8601 strings (and nulls) into nanosecond datetimes (the unit MLflow gives a
    model), or raise :class:`InvalidColumnValue`."""
    if names_the_clock(values):
        raise InvalidColumnValue(rule.name, "datetime (an ISO 8601 string)", "'now' or 'today'")
    try:
        return as_ns(pd.to_datetime(pd.Series(values, dtype=object), format="ISO8601").array)
    except (ValueError, TypeError, OverflowError) as exc:
        raise InvalidColumnValue(
            rule.name, "datetime (an ISO 8601 string)", "a string that is not a date"
        ) from exc


def frame_from_columns(
    columns: Sequence[Hashable],
    values: Sequence[Sequence[Any]],
    plan: DecodePlan,
    index: Sequence[Any] | None = None,
    nrows: int | None = None,
) -> pd.DataFrame:
    """Build a DataFrame from column-major values, typing each column by the plan's rules."""
    data = {
        name: coerce_column(col, plan.rule(name, i), plan.json_booleans)
        for i, (name, col) in enumerate(zip(columns, values, strict=True))
    }
    try:
        frame = _uniform_frame(data, index)
        if frame is None:
            frame = pd.DataFrame(data, index=index, copy=False)
    except ValueError as exc:  # lengths are checked before; keep any other refusal a 400
        raise PayloadError("the columns cannot form a table") from exc
    if not data and nrows:
        frame = pd.DataFrame(index=pd.RangeIndex(nrows) if index is None else index)
    return frame


def _uniform_frame(data: dict[Hashable, Any], index: Sequence[Any] | None) -> pd.DataFrame | None:
    """The frame ``pd.DataFrame(data, index=index)`` gives, built faster when every column is a
    1-D numpy array of one numeric dtype (the common all-double signature); else ``None``.

    ``DataFrame(dict)`` checks and wraps column by column (most of a small request's decode
    time, and with ``copy=False`` it leaves one block per column, which the model's
    ``np.asarray(frame)`` then interleaves on every call). Here the columns are copied once
    into the ``(columns, rows)`` block that ``DataFrame(dict)`` makes when it consolidates, and
    pandas gets its transpose: the same values, dtypes, column and row index, in one block.
    """
    if len(data) < 2:
        return None
    arrays = list(data.values())
    dtype = arrays[0].dtype if isinstance(arrays[0], np.ndarray) else None
    if dtype is None or dtype.kind not in "fiub":
        return None
    nrows = len(arrays[0])
    if not nrows:  # pandas lays empty frames out its own way; they are not worth a fast path
        return None
    for arr in arrays:
        if not isinstance(arr, np.ndarray) or arr.dtype != dtype or arr.shape != (nrows,):
            return None
    block = np.empty((len(arrays), nrows), dtype=dtype)
    for row, arr in zip(block, arrays, strict=True):
        row[:] = arr
    names = tuple((type(name), name) for name in data)  # 0, 0.0 and False are one dict key
    # a view per frame: an Index's name can be set in place, and the cached object is shared
    columns = _column_index(names).view()
    return pd.DataFrame(block.T, columns=columns, index=index, copy=False)


@functools.lru_cache(maxsize=64)
def _column_index(names: tuple[tuple[type, Hashable], ...]) -> pd.Index:
    """The column index ``DataFrame(dict)`` makes for these keys (``[0, 1, 2]`` becomes a
    RangeIndex, strings a ``str`` index...), worked out by pandas once per set of names."""
    return pd.DataFrame({name: () for _, name in names}).columns


def frame_from_rows(
    rows: object,
    columns: Sequence[Hashable] | None,
    plan: DecodePlan,
    where: str,
    index: Sequence[Any] | None = None,
) -> pd.DataFrame:
    """Build a DataFrame from row-major lists (``dataframe_split`` or a 2-D ``inputs``).

    ``columns`` None gives positional integer names (a RangeIndex), as pandas does. Raises
    :class:`PayloadError` for rows that are not lists or are of unequal length.
    """
    if not isinstance(rows, list):
        raise PayloadError(f"'{where}' must be a list of rows")
    if rows and set(map(type, rows)) != {list}:
        raise PayloadError(f"'{where}' must be a list of rows, each a list of values")
    widths = set(map(len, rows))
    if len(widths) > 1:
        raise PayloadError(f"rows of '{where}' have unequal lengths {sorted(widths)[:5]}")
    width = widths.pop() if widths else (len(columns) if columns is not None else 0)
    if columns is not None and width != len(columns):
        raise PayloadError(
            f"rows of '{where}' have {width} values but {len(columns)} column names are given"
        )
    if index is not None and len(index) != len(rows):
        raise PayloadError(f"'index' has {len(index)} entries but there are {len(rows)} rows")
    plan.check_rows(len(rows))
    names = list(columns) if columns is not None else list(range(width))
    keep = plan.kept(names)
    if keep is not None:  # only the declared columns are taken out of the rows at all
        names = [names[i] for i in keep]
        rows = [[row[i] for i in keep] for row in rows]
    values = list(zip(*rows, strict=True)) if rows else [()] * len(names)
    frame = frame_from_columns(names, values, plan, index, len(rows))
    if columns is None:
        frame.columns = pd.RangeIndex(width)
    return frame


def coerce_frame(frame: pd.DataFrame, plan: DecodePlan) -> pd.DataFrame:
    """Apply the plan's column rules to a frame read by pandas or pyarrow (CSV, Parquet, Arrow)."""
    if plan.kind == "none":
        return frame
    out = {}
    changed = False
    for i, name in enumerate(frame.columns):
        rule = plan.rule(name, i)
        col = frame.iloc[:, i]
        if (
            rule is ANY
            or rule.kind in ("any", "bool", "string", "object")
            or (rule.dtype is not None and col.dtype == rule.dtype)
        ):
            # already typed as the plan wants (a float64 CSV column for a double): rebuilding
            # the frame column by column would only copy it
            out[name] = col
            continue
        values = col.to_numpy() if col.dtype.kind in "biuf" else list(col)
        new = coerce_column(values, rule)
        out[name] = new
        changed = True
    if not changed:
        return frame
    return pd.DataFrame(out, index=frame.index, copy=False)


def to_array(
    data: object, dtype: np.dtype | None, where: str, booleans: bool = False
) -> np.ndarray:
    """A numpy array from nested lists, typed ``dtype`` where that is lossless.

    Floating dtypes are applied directly; integer dtypes only to integer data (range-checked);
    other data keeps numpy's inferred dtype for the enforcer to judge. Raises
    :class:`PayloadError` for ragged nesting, and with ``booleans`` :class:`SchemaMismatch`
    for a JSON boolean where ``dtype`` is numeric.
    """
    if booleans and dtype is not None and dtype.kind in "fiu" and _has_bool(data):
        raise SchemaMismatch(None, f"{dtype.name} values", "a boolean")
    if dtype is not None and dtype.kind == "f":
        floats = _as_float(data, dtype, None)
        if floats is not None:
            return floats
    try:
        arr = np.asarray(data)
    except (ValueError, TypeError) as exc:
        reason = f"'{where}' is not a rectangular array (rows of unequal length)"
        raise PayloadError(reason) from exc
    if dtype is not None and dtype.kind in "iu" and arr.dtype.kind in "iu" and arr.ndim:
        return _narrow_int(arr.ravel(), ColumnRule("int", dtype)).reshape(arr.shape)
    return arr
