"""Per-column conversion rules for :class:`~mlserve.schema.enforce.SchemaEnforcer`.

Each converter takes a pandas Series and returns ``None`` when the column already has the right
dtype (the common, zero-copy case), or the converted values. It raises
:class:`~mlserve.errors.InvalidColumnValue` naming the column, the expected type and the kind of
value found. Checks are dtype checks first; only object, string and narrowing conversions look at
the values, and then with vectorized numpy/pandas calls, never a Python loop over cells. The
complex types (arrays, objects, maps) are the exception: their values are Python lists and dicts,
checked one by one by :mod:`mlserve.schema._values`.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import pandas as pd
from pandas.api.types import infer_dtype

from mlserve.errors import InvalidColumnValue
from mlserve.schema._kinds import column_kind
from mlserve.schema._values import _Bad, compile_checker, names_the_clock
from mlserve.schema.complex import type_text
from mlserve.schema.types import ColSpec, DataType

__all__ = ["Converter", "as_ns", "converter_for", "exact_dtype", "names_the_clock"]

Converter = Callable[[pd.Series], Any]

_NUMERIC_INFERRED = frozenset({"integer", "floating", "mixed-integer-float", "decimal", "empty"})
_DATETIME_INFERRED = frozenset({"string", "datetime", "datetime64", "date", "empty"})
#: the one datetime unit a model sees, as in MLflow and ``DataType.datetime.to_pandas()``
NS = "ns"


_NULLABLE_INT = {DataType.integer: "Int32", DataType.long: "Int64"}


def _ext_kind(dtype: Any) -> str | None:
    """The numpy kind of a pandas nullable extension dtype (Int64, Float64, boolean), else None."""
    if isinstance(dtype, pd.api.extensions.ExtensionDtype) and not isinstance(
        dtype, (pd.StringDtype, pd.CategoricalDtype)
    ):
        kind = getattr(dtype, "kind", None)
        return kind if kind in ("i", "u", "f", "b") else None
    return None


class _Rules:
    """The conversion rules of one column spec, bound to its name and declared type."""

    def __init__(self, spec: ColSpec, name: str) -> None:
        assert isinstance(spec.type, DataType)
        self.name = name
        self.type = spec.type
        self.required = spec.required
        self.target = spec.type.to_numpy()

    def fail(self, found: str) -> InvalidColumnValue:
        return InvalidColumnValue(self.name, self.type.name, found)

    def check_nulls(self, s: pd.Series) -> bool:
        """True if the column holds nulls that an optional column may keep; raises if required."""
        # The array's own isna: Series.isna would build a Series around the mask first.
        if not s.array.isna().any():
            return False
        if self.required:
            raise self.fail("null")
        return True

    # -- numbers -----------------------------------------------------------------------------

    def to_float(self, s: pd.Series) -> Any:
        dtype = s.dtype
        kind = getattr(dtype, "kind", "O")
        if dtype == self.target:
            return None
        if isinstance(dtype, np.dtype) and kind == "f":
            with np.errstate(over="ignore"):  # overflow is reported below, by column name
                values = s.to_numpy().astype(self.target)
            if self.target.itemsize < dtype.itemsize:
                overflow = np.isinf(values) & ~np.isinf(s.to_numpy())
                if overflow.any():
                    raise self.fail(f"a float out of range for {self.type.name}")
            return values
        if isinstance(dtype, np.dtype) and kind in "iu":
            return s.to_numpy().astype(self.target)
        ext = _ext_kind(dtype)
        if ext in ("i", "u", "f"):
            return s.to_numpy(dtype=self.target, na_value=np.nan)
        if dtype == np.dtype(object) and infer_dtype(s, skipna=True) in _NUMERIC_INFERRED:
            return s.astype(np.float64).to_numpy().astype(self.target, copy=False)
        raise self.fail(column_kind(s))

    def to_int(self, s: pd.Series) -> Any:
        dtype = s.dtype
        kind = getattr(dtype, "kind", "O")
        if dtype == self.target:
            return None
        if isinstance(dtype, np.dtype) and kind in "iu":
            values = s.to_numpy()
            return self._narrow(values, values)
        if isinstance(dtype, np.dtype) and kind == "f":
            return self._from_float(s.to_numpy())
        ext = _ext_kind(dtype)
        if ext in ("i", "u"):
            if self.check_nulls(s):
                return self._nullable(s)
            values = s.to_numpy(dtype=np.int64 if ext == "i" else np.uint64)
            return self._narrow(values, values)
        if ext == "f":
            return self._from_float(s.to_numpy(dtype=np.float64, na_value=np.nan))
        if dtype == np.dtype(object):
            inferred = infer_dtype(s, skipna=True)
            if inferred == "integer" and not s.isna().any():
                # Python ints straight to int64: a detour through float64 would round big ones.
                try:
                    values = s.to_numpy().astype(np.int64)
                except OverflowError:
                    raise self.fail(f"an integer out of range for {self.type.name}") from None
                return self._narrow(values, values)
            if inferred in _NUMERIC_INFERRED:
                return self._from_float(s.astype(np.float64).to_numpy())
        raise self.fail(column_kind(s))

    def _from_float(self, values: np.ndarray) -> Any:
        nulls = np.isnan(values)
        has_nulls = bool(nulls.any())
        if has_nulls and self.required:
            raise self.fail("null")
        present = values[~nulls] if has_nulls else values
        if not np.isfinite(present).all():
            raise self.fail("an infinite float")
        if (present != np.trunc(present)).any():
            raise self.fail("a non-integer float")
        if has_nulls:
            return self._nullable(pd.Series(values))
        return self._narrow(values, present)

    def _check_range(self, present: np.ndarray) -> None:
        info = np.iinfo(self.target)
        if present.size and (present.min() < info.min or present.max() > info.max):
            raise self.fail(f"an integer out of range for {self.type.name}")

    def _narrow(self, values: np.ndarray, present: np.ndarray) -> np.ndarray:
        self._check_range(present)
        return values.astype(self.target)

    def _nullable(self, s: pd.Series) -> Any:
        # An optional integer column with nulls cannot be int64; pandas' nullable Int64 keeps
        # both the integers and the nulls.
        values = s.to_numpy(dtype=np.float64, na_value=np.nan)
        self._check_range(values[~np.isnan(values)])
        return pd.array(values, dtype=_NULLABLE_INT[self.type])

    # -- booleans, text, bytes, time ------------------------------------------------------------

    def to_bool(self, s: pd.Series) -> Any:
        dtype = s.dtype
        if dtype == self.target:
            return None
        if _ext_kind(dtype) == "b" or (
            dtype == np.dtype(object) and infer_dtype(s, skipna=True) in ("boolean", "empty")
        ):
            if self.check_nulls(s):
                return s.astype("boolean").array
            return s.to_numpy(dtype=bool)
        raise self.fail(column_kind(s))

    def to_text(self, s: pd.Series) -> Any:
        dtype = s.dtype
        want = "string" if self.type is DataType.string else "bytes"
        if isinstance(dtype, pd.StringDtype):
            ok = want == "string"
        elif isinstance(dtype, pd.CategoricalDtype):
            ok = infer_dtype(dtype.categories, skipna=True) == want
        elif dtype == np.dtype(object):
            ok = infer_dtype(s, skipna=True) in (want, "empty")
        else:
            ok = False
        if not ok:
            raise self.fail(column_kind(s))
        self.check_nulls(s)
        return None

    def to_datetime(self, s: pd.Series) -> Any:
        dtype = s.dtype
        if getattr(dtype, "kind", "O") == "M":  # any unit, with or without a time zone
            self.check_nulls(s)
            return None if _unit(s.array) == NS else self.ns(s.array)
        textual = dtype == np.dtype(object) or isinstance(dtype, pd.StringDtype)
        if textual and infer_dtype(s, skipna=True) in _DATETIME_INFERRED:
            self.check_nulls(s)
            if names_the_clock(s.array):
                raise self.fail("'now' or 'today'")
            try:
                parsed = pd.to_datetime(s, format="ISO8601")
            except (ValueError, TypeError, OverflowError):
                parsed = None
            # mixed time zones: pandas 3 raises; pandas 2 warns and returns objects (checked
            # here, not by turning warnings into errors: the filters are the whole process's)
            if parsed is None or getattr(parsed.dtype, "kind", "O") != "M":
                raise self.fail("a string that is not an ISO 8601 datetime")
            return self.ns(parsed.array)
        raise self.fail(column_kind(s))

    def ns(self, values: Any) -> Any:
        """``values`` (a pandas datetime array) in nanoseconds."""
        if _unit(values) == NS:
            return values
        try:
            return as_ns(values)
        except (OverflowError, ValueError) as exc:  # OutOfBoundsDatetime is a ValueError
            raise self.fail("a datetime outside the nanosecond range (years 1677-2262)") from exc


def _unit(values: Any) -> str:
    # a pandas DatetimeArray knows its unit; a numpy dtype (tz-naive) has no .unit attribute
    return getattr(values, "unit", NS)


def as_ns(values: Any) -> Any:
    """Datetimes (a pandas datetime array, any unit, with or without a time zone) in
    nanoseconds: the unit MLflow gives a model, which pandas 3 no longer picks when it parses.
    Raises ``OutOfBoundsDatetime`` (a ``ValueError``) for dates past 2262 or before 1677."""
    return values.as_unit(NS)


def _complex(spec: ColSpec, name: str) -> Converter:
    """The converter of an array, object, map or any column: every value checked, one by one."""
    checker = compile_checker(spec.type, spec.required)
    expected = type_text(spec.type)

    def convert(s: pd.Series) -> Any:
        out = np.empty(len(s), dtype=object)
        try:
            for i, value in enumerate(s.array):
                out[i] = checker(value, "")
        except _Bad as bad:
            where = f" at {bad.path.lstrip('.')}" if bad.path else ""
            what = bad.expected if bad.path else expected
            raise InvalidColumnValue(name, f"{what}{where}", bad.found) from None
        return out

    return convert


def exact_dtype(spec: ColSpec) -> np.dtype | None:
    """The dtype a column of this spec may have and need no check of its values at all.

    Numeric and boolean numpy dtypes cannot hold nulls (NaN is a valid float), so a matching
    dtype settles it; strings, bytes and datetimes still need a null check, so ``None``.
    """
    if not isinstance(spec.type, DataType) or spec.type in (
        DataType.string,
        DataType.binary,
        DataType.datetime,
    ):
        return None
    return spec.type.to_numpy()


def converter_for(spec: ColSpec, name: str) -> Converter:
    """The converter for one column spec; ``name`` is what error messages call the column."""
    if not isinstance(spec.type, DataType):
        return _complex(spec, name)
    rules = _Rules(spec, name)
    return {
        DataType.boolean: rules.to_bool,
        DataType.integer: rules.to_int,
        DataType.long: rules.to_int,
        DataType.float: rules.to_float,
        DataType.double: rules.to_float,
        DataType.string: rules.to_text,
        DataType.binary: rules.to_text,
        DataType.datetime: rules.to_datetime,
    }[spec.type]
