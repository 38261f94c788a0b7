"""The DataFrame side of the column rules, for :class:`~mlserve.schema._enforce.SchemaEnforcer`.

Each converter is built from the column's :class:`~mlserve.schema._rules.ColumnRule` (whose value
rules and errors the decoding path applies too). It takes a pandas Series and returns ``None``
when the column already has the right dtype (the common, zero-copy case), or the converted
values. It raises :class:`~mlserve.errors.InvalidColumnValue` naming the column, the expected type
and the kind of value found. Checks are dtype checks first; only object, string and narrowing
conversions look at the values, and then with vectorized numpy/pandas calls, never a Python loop
over cells. The complex types (arrays, objects, maps) are the exception: their values are Python
lists and dicts, checked one by one by :mod:`mlserve.schema._values`.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import pandas as pd
from pandas.api.types import infer_dtype

from mlserve.errors import InvalidColumnValue
from mlserve.schema._complex import AnyType, type_text
from mlserve.schema._kinds import column_kind
from mlserve.schema._rules import ColumnRule, numeric_strings
from mlserve.schema._types import ColSpec, DataType
from mlserve.schema._values import _Bad, compile_checker

__all__ = ["Converter", "converter_for", "exact_dtype"]

Converter = Callable[[pd.Series], Any]

_NUMERIC_INFERRED = frozenset({"integer", "floating", "mixed-integer-float", "decimal", "empty"})
_DATETIME_INFERRED = frozenset({"string", "datetime", "datetime64", "date", "empty"})


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
    """The Series converters of one column's rule (a scalar DataType)."""

    def __init__(self, rule: ColumnRule) -> None:
        assert rule.type is not None
        self.rule = rule
        self.type = rule.type
        self.required = rule.required
        self.target = rule.type.to_numpy()
        self.fail = rule.fail

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
                    # the rule's words: the decoding path says the same for a JSON number
                    raise self.rule.number_out_of_range()
            return values
        if isinstance(dtype, np.dtype) and kind in "iu":
            return s.to_numpy().astype(self.target)
        ext = _ext_kind(dtype)
        if ext in ("i", "u", "f"):
            return s.to_numpy(dtype=self.target, na_value=np.nan)
        if dtype == np.dtype(object) and infer_dtype(s, skipna=True) in _NUMERIC_INFERRED:
            try:
                values = s.astype(np.float64).to_numpy()
            except OverflowError:  # a Python int past float64's range
                raise self.rule.number_out_of_range() from None
            return values.astype(self.target, copy=False)
        if (parsed := self._numeric_strings(s, float)) is not None:
            converted = self.to_float(parsed)  # None: already the target dtype
            return parsed.to_numpy() if converted is None else converted
        raise self.fail(column_kind(s))

    def _numeric_strings(self, s: pd.Series, parse: type[float] | type[int]) -> pd.Series | None:
        """A text column's numbers read as MLflow's server reads a JSON column's strings for
        a numeric type (``numeric_strings``), so a frame given to ``predict`` and the same values
        sent over HTTP get one answer; ``None`` when it holds no string or a non-number."""
        if not (s.dtype == np.dtype(object) or isinstance(s.dtype, pd.StringDtype)):
            return None
        parsed = numeric_strings(s.to_numpy(dtype=object, na_value=None), parse)
        if parsed is None:
            return None
        return pd.Series(parsed, index=s.index, dtype=object).infer_objects()

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
                    raise self.rule.out_of_range() from None
                return self._narrow(values, values)
            if inferred in _NUMERIC_INFERRED:
                return self._from_float(s.astype(np.float64).to_numpy())
        if (parsed := self._numeric_strings(s, int)) is not None:
            converted = self.to_int(parsed)  # None: already the target dtype
            return parsed.to_numpy() if converted is None else converted
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

    def _narrow(self, values: np.ndarray, present: np.ndarray) -> np.ndarray:
        self.rule.check_range(present, self.target)
        return values.astype(self.target)

    def _nullable(self, s: pd.Series) -> Any:
        # An optional integer column with nulls cannot be int64; pandas' nullable Int64 keeps
        # both the integers and the nulls.
        values = s.to_numpy(dtype=np.float64, na_value=np.nan)
        self.rule.check_range(values[~np.isnan(values)], self.target)
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
            # MLflow hands a string column of Python objects on as it is, numbers included (a
            # JSON number for a string is the client's value, unchanged); a binary one holds bytes
            ok = want == "string" or infer_dtype(s, skipna=True) in (want, "empty")
        else:
            ok = False
        if not ok:
            raise self.fail(column_kind(s))
        if self.type is not DataType.string:
            self.check_nulls(s)
        # a null in a string column, even a required one, reaches the model as it is (NaN, or
        # None when every value is null), as MLflow 3.17.2 passes it: refusing it would turn away
        # requests MLflow's clients get answers for, and nothing is lost by keeping it
        return None

    def to_datetime(self, s: pd.Series) -> Any:
        dtype = s.dtype
        # a null, even in a required column, is NaT (the datetime's own missing value), as
        # MLflow 3.17.2 gives it to the model
        if getattr(dtype, "kind", "O") == "M":  # any unit
            self.rule.check_naive(dtype)
            return None if getattr(s.array, "unit", "ns") == "ns" else self.rule.ns(s.array)
        textual = dtype == np.dtype(object) or isinstance(dtype, pd.StringDtype)
        if textual and infer_dtype(s, skipna=True) in _DATETIME_INFERRED:
            parsed = self.rule.parse_datetimes(s)
            self.rule.check_naive(parsed.dtype)  # aware datetime objects, offset strings
            return parsed
        raise self.fail(column_kind(s))


def _as_given(s: pd.Series) -> None:
    return None


def _complex(spec: ColSpec, rule: ColumnRule) -> Converter:
    """The converter of an array, object or map column: every value checked, one by one. An
    any column's values pass as given (MLflow's enforcement checks nothing there either)."""
    if isinstance(spec.type, AnyType):
        return _as_given  # anything fits, in the dtype it came in (MLflow's enforcement)
    checker = compile_checker(spec.type, spec.required)
    expected = type_text(spec.type)
    name = rule.name

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


def converter_for(spec: ColSpec, rule: ColumnRule) -> Converter:
    """The converter for one column spec, built from its compiled ``rule`` (whose name is what
    error messages call the column)."""
    if not isinstance(spec.type, DataType):
        return _complex(spec, rule)
    rules = _Rules(rule)
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
