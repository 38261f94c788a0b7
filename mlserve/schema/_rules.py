"""How one declared input is typed, checked and converted: each rule of a signature, once.

:func:`rule_for` compiles a :class:`~mlserve.schema._types.ColSpec` or
:class:`~mlserve.schema._types.TensorSpec` into a :class:`ColumnRule` once per model. Both ways
data reaches a model go through the same rule object:

- the codecs (:mod:`mlserve.codecs`) turn bytes into columns and call
  :meth:`ColumnRule.type_values` on each (decoded JSON values, or an array read from CSV or
  Parquet): numbers go straight into numpy arrays of the declared dtype, everything else is
  typed as ``pandas.DataFrame(rows)`` would type it;
- :class:`~mlserve.schema.SchemaEnforcer` checks and converts DataFrame columns with the
  converters of :mod:`mlserve.schema._columns`, built from the same rule.

The value rules both paths apply (integer ranges, booleans in numeric columns, ISO 8601
datetimes in nanoseconds, float overflow) and their errors are methods of the rule, so one
mistake gets one answer over HTTP and in ``load_model(...).predict``. A value that does not fit
a column is :class:`~mlserve.errors.InvalidColumnValue` (MLflow's ``BAD_REQUEST``); a tensor's,
or an unnamed column's on the decoding path, is :class:`~mlserve.errors.SchemaMismatch`
(``INVALID_PARAMETER_VALUE``), as MLflow answers. Values the decoding path cannot judge on its
own are typed as inferred and left to the enforcer, which names what it found.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
from pandas.tseries.api import guess_datetime_format

from mlserve.errors import InvalidColumnValue, PayloadError, SchemaMismatch
from mlserve.schema._complex import AnyType
from mlserve.schema._scalar_values import ValueMismatch, names_the_clock, value_converter
from mlserve.schema._types import ColSpec, DataType, TensorSpec

__all__ = ["ANY", "ColumnRule", "as_ns", "infer_values", "rule_for"]

#: the one datetime unit a model sees, as in MLflow and ``DataType.datetime.to_pandas()``
NS = "ns"

_KIND_OF_TYPE = {
    DataType.boolean: "bool",
    DataType.integer: "int",
    DataType.long: "int",
    DataType.float: "float",
    DataType.double: "float",
    DataType.string: "string",
    DataType.binary: "binary",
    DataType.datetime: "datetime",
}
_KIND_OF_DTYPE = {"f": "float", "i": "int", "u": "int", "b": "bool", "U": "string", "S": "binary"}


@dataclass(frozen=True)
class ColumnRule:
    """How one declared column or tensor is typed and checked.

    ``kind`` is one of ``float``, ``int``, ``bool``, ``string``, ``binary``, ``datetime``,
    ``object`` (an array, object, map or any column: one Python object per row, each checked
    by the enforcer), ``any`` (no declaration: inferred as pandas would). ``dtype`` is the numpy
    target of a ``float`` or ``int`` rule; ``name`` the signature's name in its string form
    (``None`` for an unnamed input); ``type`` the declared :class:`DataType` (``None`` for a
    tensor or a complex column); ``required`` whether nulls are refused.
    """

    kind: str
    dtype: np.dtype | None = None
    name: str | None = None
    type: DataType | None = None
    required: bool = True

    @property
    def expected(self) -> str:
        """What error messages say the input expects: the DataType's name, or the dtype's."""
        if self.type is not None:
            return self.type.name
        return f"{self.dtype.name} values" if self.dtype is not None else "values"

    def fail(self, found: str) -> InvalidColumnValue:
        """The error for a value of kind ``found`` in this column (the value never echoed)."""
        return InvalidColumnValue(self.name, self.expected, found)

    def out_of_range(self) -> InvalidColumnValue:
        """The error for an integer outside the declared integer type."""
        suffix = f" for {self.type.name}" if self.type is not None else ""
        return self.fail(f"an integer out of range{suffix}")

    def number_out_of_range(self) -> InvalidColumnValue | SchemaMismatch:
        """The error for a number past the declared float type's range: the column's, or for
        an unnamed input (a tensor) the plain mismatch."""
        suffix = f" for {self.type.name}" if self.type is not None else ""
        if self.name is None:
            return SchemaMismatch(None, self.expected, f"a number out of range{suffix}")
        return self.fail(f"a number out of range{suffix}")

    def check_range(self, present: np.ndarray, target: np.dtype | None = None) -> None:
        """Raise :meth:`out_of_range` unless every value of ``present`` fits the target dtype."""
        info = np.iinfo(target if target is not None else self.dtype)
        if present.size and (present.min() < info.min or present.max() > info.max):
            raise self.out_of_range()

    def narrow_int(self, arr: np.ndarray) -> np.ndarray:
        """An integer array as the declared integer dtype, range-checked."""
        target = self.dtype
        assert target is not None
        if arr.dtype == target or arr.size == 0:
            return arr.astype(target, copy=False)
        self.check_range(arr, target)
        return arr.astype(target)

    def parse_datetimes(self, values: Any, numpy_cast: bool = False) -> Any:
        """ISO 8601 strings (and nulls) as a nanosecond datetime array, or raise :meth:`fail`.

        "now" and "today" are refused (pandas reads them as the clock's time, which no client
        meant), and so are mixed time zones (pandas 2 gives objects for them, pandas 3 raises).
        ``numpy_cast`` reads them as MLflow's numpy cast does: each string on its own (in
        any ISO 8601 form, offsets mixed), an offset as the instant in UTC without the zone.
        """
        if names_the_clock(values):
            raise self.fail("'now' or 'today'")
        if numpy_cast and not all(
            _NUMPY_DATETIME.match(v) for v in values if isinstance(v, str)
        ):  # numpy's forms only ("2024-1-2" and "20240102T030405" are pandas' alone)
            raise self.fail("a string that is not an ISO 8601 datetime")
        if not isinstance(values, pd.Series):
            values = pd.Series(values, dtype=object)
        try:
            parsed = pd.to_datetime(values, format="ISO8601", utc=numpy_cast)
        except (ValueError, TypeError, OverflowError):
            parsed = None
        # checked here, not by turning warnings into errors: the filters are the process's
        if parsed is None or getattr(parsed.dtype, "kind", "O") != "M":
            raise self.fail("a string that is not an ISO 8601 datetime")
        if numpy_cast:
            return self.ns(parsed.dt.tz_localize(None).array)
        if not _one_format(values):
            raise self.fail("datetimes written in more than one format")
        return self.ns(parsed.array)

    def check_naive(self, dtype: Any) -> None:
        """Refuse a time-zone-aware datetime dtype, as MLflow's enforcement does ("only contains
        timezone-naive datetime objects", ``INVALID_PARAMETER_VALUE``): a plain
        :class:`SchemaMismatch`, not a value error, since MLflow's server parses such a column
        and fails only when it enforces the signature. One dtype look, whatever the rows."""
        if getattr(dtype, "tz", None) is not None:
            raise SchemaMismatch(self.name, self.expected, "a time-zone-aware datetime")

    def ns(self, values: Any) -> Any:
        """``values`` (a pandas datetime array) in nanoseconds, or raise :meth:`fail`."""
        if getattr(values, "unit", NS) == NS:
            return values
        try:
            return as_ns(values)
        except (OverflowError, ValueError) as exc:  # OutOfBoundsDatetime is a ValueError
            raise self.fail("a datetime outside the nanosecond range (years 1677-2262)") from exc

    # -- the decoding path: a column of decoded values --------------------------------------

    def type_values(
        self,
        values: Sequence[Any] | np.ndarray,
        booleans: bool = False,
        numpy_cast: bool = False,
    ) -> Any:
        """Type one decoded column (a sequence of JSON values, or an array read by a codec).

        Values this rule cannot settle alone are returned as typed by inference, for the
        enforcer to refuse with a precise message; an out-of-range number, a string that is not
        base64 for a binary column, a string that is not a datetime for a datetime column and,
        with ``booleans`` (the body may hold JSON booleans), a boolean in a numeric column raise
        here. ``numpy_cast``: values are cast as MLflow's ``inputs``/``instances`` path (numpy)
        casts them: datetime strings each on its own, an offset as the instant in UTC without
        the zone; a number or boolean for a string column written as text. Otherwise as pandas
        reads a frame's column.
        """
        kind = self.kind
        if kind == "object":
            return _objects(values)
        if kind in ("float", "int") and (
            (booleans and not isinstance(values, np.ndarray) and bool in set(map(type, values)))
            # a boolean column read from CSV or Parquet: refused as the JSON true is, and as
            # the enforcer refuses it in process
            or (isinstance(values, np.ndarray) and values.dtype.kind == "b")
        ):
            raise self.fail("a boolean")
        if kind == "float":
            assert self.dtype is not None
            floats = self.as_float(values)
            if floats is None and (parsed := numeric_strings(values, float)) is not None:
                floats = self.as_float(parsed)
            # a column of equal-length lists converts to a 2-D array: not a column of numbers
            if floats is not None and floats.ndim == 1:
                return floats
        elif kind == "binary":
            if isinstance(values, np.ndarray) and values.dtype.kind not in "OUT":
                return values
            return self._base64(list(values))
        elif (
            kind == "datetime"
            and len(values)
            and isinstance(values[0], str)
            # strings only (and nulls): pandas would read a number among them as a year, or as
            # nanoseconds; the enforcer names what else was found
            and all(
                isinstance(v, str) or v is None or (type(v) is float and v != v) for v in values
            )
        ):
            return self.parse_datetimes(list(values), numpy_cast)
        arr = values if isinstance(values, np.ndarray) else infer_values(values, booleans)
        if kind == "string" and not isinstance(values, np.ndarray):
            return _as_text_column(values, arr, numpy_cast)
        if (
            kind == "int"
            and not (isinstance(arr, np.ndarray) and arr.dtype.kind in "biuf")
            and (parsed := numeric_strings(values, int)) is not None
        ):
            arr = infer_values(parsed, booleans)
        if kind == "int" and isinstance(arr, np.ndarray) and arr.dtype.kind in "iu":
            return self.narrow_int(arr)
        return arr

    def as_float(self, values: Any) -> np.ndarray | None:
        """``values`` as a float array of the rule's dtype; None when they are not all numbers
        (or nulls).

        Strings are not numbers here: :func:`numeric_strings` reads them first where MLflow does.
        """
        assert self.dtype is not None
        if isinstance(values, np.ndarray) and values.dtype == self.dtype:
            return values  # a codec already typed it (V2's FP64, Parquet's double): nothing to do
        try:
            with np.errstate(over="raise"):
                arr = np.asarray(values)
                if arr.dtype.kind in "USV" or (arr.dtype == object and _holds_str(arr)):
                    return None
                return arr.astype(self.dtype, copy=False)
        except (FloatingPointError, OverflowError) as exc:
            raise self.number_out_of_range() from exc
        except (ValueError, TypeError):
            return None  # strings, objects, ragged nesting: someone else names what was found

    def _base64(self, values: list[Any]) -> np.ndarray:
        out: list[Any] = []
        decode = value_converter(DataType.binary, "column")  # the one base64 rule
        for v in values:
            if isinstance(v, str):
                try:
                    out.append(decode(v))
                except ValueMismatch as bad:
                    raise InvalidColumnValue(
                        self.name, "binary (a base64 string)", bad.found
                    ) from None
            else:
                out.append(v)
        arr = np.empty(len(out), dtype=object)
        arr[:] = out
        return arr


#: the datetime strings numpy's datetime64 parser reads (MLflow's inputs/instances cast):
#: a year, month, day, hour, minute, second and fraction, each part optional from the right,
#: a "T" or a space before the time, an optional zone, leading spaces; "" and "NaT" are NaT
_NUMPY_DATETIME = re.compile(
    r"\s*(?:\d{4}(?:-\d{2}(?:-\d{2}(?:[T ]\d{2}(?::\d{2}(?::\d{2}(?:\.\d+)?)?)?"
    r"(?:Z|[+-]\d{2}(?::?\d{2})?)?)?)?)?|NaT)?\Z"
)

#: the rule of an undeclared column: typed as pandas would type it
ANY = ColumnRule("any")


def rule_for(spec: ColSpec | TensorSpec, name: str | None = None) -> ColumnRule:
    """The rule of one input spec; ``name`` overrides what messages call it (by default the
    spec's name in its string form, ``None`` when it has none)."""
    if name is None and spec.name is not None:
        name = str(spec.name)
    if isinstance(spec, TensorSpec):
        dtype = spec.dtype
        kind = _KIND_OF_DTYPE.get(dtype.kind, "datetime" if dtype.kind == "M" else "any")
        return ColumnRule(kind, dtype if kind in ("float", "int") else None, name)
    if isinstance(spec.type, AnyType):
        # MLflow keeps the dtype pandas infers for an any column (int64 for numbers)
        return ColumnRule("any", None, name, None, spec.required)
    if not isinstance(spec.type, DataType):
        return ColumnRule("object", None, name, None, spec.required)
    kind = _KIND_OF_TYPE[spec.type]
    target = spec.type.to_numpy() if kind in ("float", "int") else None
    return ColumnRule(kind, target, name, spec.type, spec.required)


def as_ns(values: Any) -> Any:
    """Datetimes (a pandas datetime array, any unit, with or without a time zone) in
    nanoseconds: the unit MLflow gives a model, which pandas 3 no longer picks when it parses.
    Raises ``OutOfBoundsDatetime`` (a ``ValueError``) for dates past 2262 or before 1677."""
    return values.as_unit(NS)


def _one_format(values: pd.Series) -> bool:
    """True if every datetime string is written as the first one is ("2024-01-01" and
    "2024-01-01T10:00:00" are two formats).

    MLflow 3.17.2 parses a datetime column with ``pd.to_datetime`` and no format, which takes
    the format of the first string and refuses the column (``BAD_REQUEST``) when another string
    does not follow it; ISO 8601 alone would accept both. A first string pandas cannot guess a
    format for is parsed one by one there, so any mix passes.
    """
    strings = values[[isinstance(v, str) for v in values]]
    if len(strings) < 2:
        return True
    fmt = guess_datetime_format(strings.iloc[0])
    if fmt is None:
        return True
    try:
        pd.to_datetime(strings, format=fmt)
    except (ValueError, TypeError, OverflowError):
        return False
    return True


def numeric_strings(values: Any, parse: type[float] | type[int]) -> list[Any] | None:
    """``values`` with each string read by ``parse`` (``float`` or ``int``), as MLflow's cast of
    a JSON column to a numeric signature type reads them (numpy's ``astype`` from Python
    strings: ``"0.1"``, ``" 2 "``, ``"1e5"``, ``"1_000"``, ``"nan"``); ``None`` when there is no
    string or one is not such a number (the caller then reports a string). Booleans stay
    refused: MLflow's cast would make ``"false"`` and ``True`` both 1."""
    seq = values.tolist() if isinstance(values, np.ndarray) else values
    if isinstance(values, np.ndarray) and values.dtype.kind not in "OUS":
        return None
    if not any(isinstance(v, str) for v in seq):
        return None
    try:
        return [parse(v) if isinstance(v, str) else v for v in seq]
    except (ValueError, OverflowError):
        return None


def infer_values(values: Sequence[Any], booleans: bool = True) -> Any:
    """Type a column exactly as pandas types a column of a frame built from Python rows.

    ``booleans=False`` says the values hold no boolean (a JSON body without ``true`` or
    ``false``), which spares a pass over every value."""
    if values and not isinstance(values[0], str):
        try:
            arr = np.asarray(values)
        except (ValueError, TypeError):  # ragged nested lists: an object column
            arr = None
        # numpy makes [1, True] the integers [1, 1]; pandas keeps both as they are
        if (
            arr is not None
            and arr.ndim == 1
            and arr.dtype.kind in "biuf"
            and (arr.dtype.kind == "b" or not booleans or bool not in set(map(type, values)))
        ):
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


def _holds_str(arr: np.ndarray) -> bool:
    # only for object arrays (nulls or huge integers among the numbers): rare, so a loop
    return any(isinstance(v, (str, bytes)) for v in arr.flat)


def _as_text_column(values: Sequence[Any], arr: Any, numpy_cast: bool) -> Any:
    """A JSON column for a ``string`` signature column, as MLflow's server hands it on: text as
    it is; another scalar (a number, a boolean) kept as sent in a frame's column
    (``dataframe_split``/``records``: pandas' ``astype(object)``), written as text under
    ``inputs``/``instances`` (``numpy_cast``: numpy's ``astype(str)``, ``2`` -> ``"2"``). A null
    stays a null (numpy would write ``"None"``, text the client never sent)."""
    dtype = getattr(arr, "dtype", None)
    if isinstance(dtype, pd.StringDtype) or getattr(dtype, "kind", "") in ("U", "S"):
        return arr  # text (and nulls): the common case, as inferred
    if numpy_cast and not len(values):
        # numpy's cast of no values is an empty array of text, which pandas makes a str column
        return pd.array([], dtype=_string_dtype())
    if dtype == np.dtype(object) and all(v is None or type(v) is str for v in values):
        return arr
    if numpy_cast:
        values = [v if v is None or isinstance(v, (str, list, dict)) else str(v) for v in values]
    return _objects(values)


def _objects(values: Sequence[Any] | np.ndarray) -> np.ndarray:
    """One Python object per row, as decoded: nested lists must not become a 2-D array."""
    out = np.empty(len(values), dtype=object)
    for i, v in enumerate(values):
        out[i] = v
    return out
