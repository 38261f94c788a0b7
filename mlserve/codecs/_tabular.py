"""Typed pandas frames and numpy arrays from decoded JSON values, one column at a time.

The codecs turn bytes into columns; each column is typed by its
:class:`~mlserve.schema._rules.ColumnRule` (:meth:`~mlserve.schema._rules.ColumnRule.type_values`),
the rule the schema enforcer applies too, so the decoding path and ``load_model(...).predict``
agree on every value. This module only assembles the typed columns into the frame (or array)
MLflow builds from the same body.
"""

from __future__ import annotations

import functools
from collections.abc import Hashable, Sequence
from itertools import chain
from operator import itemgetter
from typing import Any

import numpy as np
import pandas as pd

from mlserve.codecs._json_casts import refloat
from mlserve.codecs._plan import ANY, DecodePlan
from mlserve.errors import PayloadError, SchemaMismatch
from mlserve.schema._rules import ColumnRule
from mlserve.schema._tensor_strings import string_tensor

__all__ = [
    "Refloat",
    "check_column_names",
    "coerce_column",
    "coerce_frame",
    "columns_of_records",
    "frame_from_columns",
    "frame_from_rows",
    "to_array",
]


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


def coerce_column(
    values: Sequence[Any] | np.ndarray,
    rule: ColumnRule,
    booleans: bool = False,
    numpy_cast: bool = False,
) -> Any:
    """Type one column (a sequence of JSON values or an array) by its rule:
    ``rule.type_values(values, booleans, numpy_cast)`` (see
    :meth:`ColumnRule.type_values`)."""
    return rule.type_values(values, booleans, numpy_cast)


# the columns whose values MLflow hands the model as sent, or as their text: an array's or
# object's numbers go through its numeric checks, where 10**20 and orjson's 1e20 fare alike
_EXACT_KINDS = frozenset(("string", "any"))


class Refloat(Exception):
    """orjson's float for an integer literal reached a column that keeps its digits."""


def frame_from_columns(
    columns: Sequence[Hashable],
    values: Sequence[Sequence[Any]],
    plan: DecodePlan,
    index: Sequence[Any] | None = None,
    nrows: int | None = None,
) -> pd.DataFrame:
    """Build a DataFrame from column-major values, typing each column by the plan's rules.

    Raises :class:`Refloat` when ``plan.refloat_columns`` and a string or any column
    holds a float of an integer's size past int64, which orjson may have made of an integer
    literal that MLflow hands on as an int: the caller parses the body again."""
    data = {}
    for i, (name, col) in enumerate(zip(columns, values, strict=True)):
        rule = plan.rule(name, i)
        if plan.refloat_columns and rule.kind in _EXACT_KINDS and refloat(col):
            raise Refloat
        data[name] = coerce_column(col, rule, plan.json_booleans, plan.numpy_cast)
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
    if columns is None and keep is None:  # positional names (none dropped): a RangeIndex
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
    data: object,
    dtype: np.dtype | None,
    where: str,
    booleans: bool = False,
    objects_are_rows: bool = True,
) -> np.ndarray:
    """A numpy array from nested lists, typed ``dtype`` where that is lossless.

    Floating dtypes are applied directly; integer dtypes to integers (range-checked), whole
    floats and integers written as text, as MLflow's cast reads them (a fraction refused); a
    ``str`` dtype to each value as written (:func:`string_tensor`, null refused); other data
    keeps numpy's inferred dtype for the enforcer to judge. Raises
    :class:`PayloadError` for ragged nesting, and with ``booleans`` :class:`SchemaMismatch`
    for a JSON boolean where ``dtype`` is numeric. ``objects_are_rows``: a list of objects is
    rows of named values, which MLflow hands its enforcement (a whole body's ``inputs``), not
    values its ``np.array(data, dtype)`` casts (a named tensor's).
    """
    if booleans and dtype is not None and dtype.kind in "fiu" and _has_bool(data):
        raise SchemaMismatch(None, f"{dtype.name} values", "a boolean")
    reason = f"'{where}' is not a rectangular array (rows of unequal length)"
    if dtype is not None and dtype.kind == "f":
        floats = ColumnRule("float", dtype).as_float(data)
        if floats is not None:
            return floats
        if not (
            objects_are_rows
            and isinstance(data, list)
            and data
            and all(isinstance(v, dict) for v in data)
        ):
            # text or objects among the numbers: MLflow casts with np.array(data, dtype), which
            # reads numbers written as text ("0.5") and fails on anything else (BAD_REQUEST);
            # a list of objects is rows to it, which its enforcement refuses (the enforcer's)
            try:
                return np.array(data, dtype=dtype)
            except (ValueError, TypeError) as exc:
                try:
                    np.asarray(data)
                except (ValueError, TypeError):
                    raise PayloadError(reason) from exc
                raise PayloadError(
                    f"'{where}' holds values that are not {dtype.name} numbers"
                ) from exc
    if dtype is not None and dtype.kind == "U":
        # a str tensor: each value as written (2 -> "2"), as MLflow's np.array(data, dtype=str);
        # through float64 first, 2 would become "2.0"
        strings = string_tensor(data, None, f"{dtype.name} values")
        if strings is None:
            raise PayloadError(reason)
        return strings
    try:
        arr = np.asarray(data)
    except (ValueError, TypeError) as exc:
        raise PayloadError(reason) from exc
    if dtype is not None and dtype.kind in "iu" and arr.dtype.kind in "iu" and arr.ndim:
        return ColumnRule("int", dtype).narrow_int(arr.ravel()).reshape(arr.shape)
    if dtype is not None and dtype.kind in "iu" and arr.dtype.kind in "UO" and arr.ndim:
        return _integer_text(data, arr, dtype, where, objects_are_rows)
    if dtype is not None and dtype.kind in "iu" and arr.dtype.kind == "f" and arr.ndim:
        return _whole_floats(arr, dtype, where)
    return arr


def _whole_floats(arr: np.ndarray, dtype: np.dtype, where: str) -> np.ndarray:
    """Floats for an integer tensor, cast as MLflow's ``np.array(data, dtype)`` casts them when
    each is a whole number (``2.0`` -> ``2``). A NaN, an infinity or a number past the dtype's
    range fails that cast (BAD_REQUEST); a fraction, which it would truncate, is refused."""
    info = np.iinfo(dtype)
    if not np.isfinite(arr).all() or arr.min() < info.min or arr.max() > info.max:
        raise PayloadError(f"'{where}' holds values that are not {dtype.name} numbers")
    if not (arr == np.floor(arr)).all():
        raise SchemaMismatch(None, f"{dtype.name} values", "a non-integer float")
    return arr.astype(dtype)


def _integer_text(
    data: object, arr: np.ndarray, dtype: np.dtype, where: str, objects_are_rows: bool
) -> np.ndarray:
    """Text (or objects) among an integer tensor's values: MLflow casts them with
    ``np.array(data, dtype)``, which reads integers written as text (``"5"``, ``" -7"``,
    ``"1_000"``, as Python's ``int()``) and fails on other text or objects (BAD_REQUEST). A
    fraction it would truncate is refused as among numbers; rows of objects stay for the
    enforcer to refuse."""
    if objects_are_rows and isinstance(data, list) and all(isinstance(v, dict) for v in data):
        return arr
    try:
        ints = np.array(data, dtype=dtype)
    except (ValueError, TypeError, OverflowError) as exc:
        raise PayloadError(f"'{where}' holds values that are not {dtype.name} numbers") from exc
    sent = np.array(data, dtype=object)  # the values as sent: numpy made 1.5 "1.5" in arr
    whole = [type(v) is not float or v.is_integer() for v in sent.flat]
    if not all(whole):
        raise SchemaMismatch(None, f"{dtype.name} values", "a non-integer float")
    return ints


def columns_of_records(
    records: list[Any], where: str, plan: DecodePlan
) -> tuple[list[Hashable], list[Any]]:
    """Column names in first-seen order and the column-major values of a list of objects,
    only of the columns the plan keeps (the width of the body is checked first)."""
    if set(map(type, records)) != {dict}:
        raise PayloadError(f"'{where}' must be a list of objects (one per row)")
    names: list[Hashable] = list(records[0])
    plan.check_columns(len(names))
    if plan.kind == "columns" and plan.by_name:
        # the union of the rows' keys, checked and narrowed to the declared columns before a
        # single value is taken out of the rows
        seen = dict.fromkeys(chain.from_iterable(records))
        keep = plan.kept(list(seen))
        if keep is not None:
            keep_set = set(keep)
            kept = [n for i, n in enumerate(seen) if i in keep_set]
            if kept and set(map(len, records)) == {len(seen)}:  # every row has every key
                rows = list(map(itemgetter(*kept), records))
                return kept, list(zip(*rows, strict=True)) if len(kept) > 1 else [tuple(rows)]
            return kept, [tuple(r.get(n) for r in records) for n in kept]
    if names and set(map(len, records)) == {len(names)}:
        try:
            rows = list(map(itemgetter(*names), records))
        except KeyError:
            pass  # same sizes, different keys
        else:
            return names, list(zip(*rows, strict=True)) if len(names) > 1 else [tuple(rows)]
    # rows with differing keys: pandas fills the gaps with nulls, so do we
    seen = dict.fromkeys(names)
    for r in records:
        seen.update(dict.fromkeys(r))
    names = list(seen)
    return names, [tuple(r.get(n) for r in records) for n in names]
