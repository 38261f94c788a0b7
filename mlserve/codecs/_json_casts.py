"""What MLflow's ``inputs``/``instances`` path (its ``_cast_schema_type`` and numpy) does to
a JSON body's values beyond building a frame, for :mod:`mlserve.codecs._json_input`: an object
of columns as its ``pd.DataFrame(dict)`` reads it, array values as ndarrays, the refusals its
casts (each cell of ``instances`` rows, a flat list as the first column's type), its double
check and its per-key arrays give, and orjson's floats for integers past 64 bits."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from mlserve.codecs import _json
from mlserve.codecs._plan import DecodePlan
from mlserve.errors import InvalidColumnValue, PayloadError, SchemaMismatch
from mlserve.schema import AnyType, Array, DataType, Map, Object

__all__ = [
    "all_objects",
    "arrays_as_ndarrays",
    "cast_as_first_column",
    "dict_columns",
    "np_array",
    "refloat",
    "refuse_complex_instances",
    "refuse_float_arrays",
]


def all_objects(values: list[Any]) -> bool:
    return all(isinstance(v, dict) for v in values)


def cast_as_first_column(value: list[Any], plan: DecodePlan, where: str) -> None:
    """A flat list under ``inputs``/``instances`` for several columns: MLflow's
    ``_cast_schema_type`` casts the whole list as the first column's type before its enforcement
    refuses the one column it makes of it (INVALID_PARAMETER_VALUE); a value that cast fails on
    (an object or text among numbers) is the body's mistake there, BAD_REQUEST."""
    first = plan.schema.inputs[0].type if plan.schema is not None else None
    if isinstance(first, DataType):
        try:
            np.array(value, dtype=first.to_numpy())
        except (TypeError, ValueError, OverflowError) as exc:
            raise PayloadError(
                f"'{where}' is one list of values, which does not cast to the first column's "
                f"type ({first.name}); send rows under 'dataframe_split' or 'dataframe_records'"
            ) from exc
    elif first is not None and plan.compiled is not None:
        # an array, object or map column: the list is checked as one value of it
        _check_cells([value], plan.compiled.converters[0])


def dict_columns(value: dict[Any, Any], plan: DecodePlan, where: str) -> list[list[Any]]:
    """An object of columns as MLflow's enforcement makes a frame of it: one row when every
    value is a single value (or an ``any`` column's list of strings), else
    ``pd.DataFrame(dict)``, which repeats a single value down the lists' rows."""
    values = list(value.values())
    if not any(isinstance(v, (list, dict)) for v in values):
        return [[v] for v in values]
    kinds = _complex_kinds(value, plan)
    for (key, v), (kind, convert) in zip(value.items(), kinds, strict=True):
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
                _check_cells([v], convert)
            # then pd.DataFrame(dict) reads an object's keys as row labels and its values as
            # the column's: a map's keys would be dropped (MLflow then refuses the numbers)
            raise SchemaMismatch(
                str(key), "one value per row; send rows as a list of objects", "an object"
            )
    if all(
        not isinstance(v, (list, dict))
        or (kind is AnyType and isinstance(v, list) and all(isinstance(x, str) for x in v))
        for v, (kind, _) in zip(values, kinds, strict=True)
    ):
        return [[v] for v in values]
    lengths = sorted({len(v) for v in values if isinstance(v, list)})
    if len(lengths) > 1:
        if where == "instances":
            # MLflow's parse_instances_data checks the lengths first (BAD_REQUEST)
            raise PayloadError(f"the lists in '{where}' have unequal lengths {lengths[:5]}")
        raise SchemaMismatch(
            None, "lists of one length (one per column)", f"lists of lengths {lengths[:5]}"
        )
    nrows = lengths[0] if lengths else 1
    return [v if isinstance(v, list) else [v] * nrows for v in values]


def _complex_kinds(value: dict[Any, Any], plan: DecodePlan) -> list[tuple[type | None, Any]]:
    """The type class (``Map``, ``AnyType``, ...) and compiled converter of each key's column,
    or ``(None, None)`` for a key the signature does not declare. JSON keys are text, so a
    column named ``0`` is the key ``"0"``."""
    if plan.schema is None or plan.compiled is None:
        return [(None, None)] * len(value)
    columns = {
        str(s.name): (type(s.type), convert)
        for s, convert in zip(plan.schema.inputs, plan.compiled.converters, strict=True)
    }
    return [columns.get(str(k), (None, None)) for k in value]


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


def refuse_complex_instances(rows: list[Any], plan: DecodePlan) -> None:
    """``instances`` as rows of objects holding an array or object column, refused as MLflow's
    ``parse_instances_data`` refuses them. It casts every cell against its column's type (a cell
    that does not fit: BAD_REQUEST), stacks each key's cells into one numpy array (arrays of
    unequal lengths: BAD_REQUEST), checks that the required columns other than arrays got as
    many values as each other (BAD_REQUEST), and then gives its enforcement a 2-D array or an
    array of dicts, which it refuses (INVALID_PARAMETER_VALUE). ``inputs`` takes the same rows."""
    compiled = plan.compiled
    if plan.schema is None or compiled is None:
        return
    complex_names = [
        s.name for s in plan.schema.inputs if isinstance(getattr(s, "type", None), (Array, Object))
    ]
    sent = [n for n in complex_names if any(isinstance(r, dict) and n in r for r in rows)]
    if not sent:
        return
    if not all_objects(rows):
        raise PayloadError("'instances' must be a list of objects (one per row)")
    cells = {label: [r[label] for r in rows if label in r] for label in compiled.labels}
    for i, spec in enumerate(plan.schema.inputs):
        sent_cells = cells[compiled.labels[i]]
        if not sent_cells:
            continue
        if isinstance(spec.type, DataType):
            _cast_cells(spec.name, sent_cells, spec.type.to_numpy())
        else:
            _check_cells(sent_cells, compiled.converters[i])
    for name in sent:
        try:
            np.array(cells[name])
        except ValueError as exc:
            raise PayloadError(
                f"the values of {name!r} in 'instances' have unequal lengths; send the rows "
                "under 'inputs' or 'dataframe_records'"
            ) from exc
    counted = {
        len(cells[s.name])
        for s in plan.schema.inputs
        if s.required and cells[s.name] and not isinstance(getattr(s, "type", None), Array)
    }
    if len(counted) > 1:
        raise PayloadError(
            "the rows of 'instances' give the columns different numbers of values; send the "
            "rows under 'inputs' or 'dataframe_records'"
        )
    raise SchemaMismatch(
        str(sent[0]),
        "one value per row ('instances' makes an array or object column one array of them)",
        "rows of objects; send them under 'inputs' or 'dataframe_records'",
    )


def _cast_cells(name: Any, cells: list[Any], dtype: np.dtype) -> None:
    """A plain column's sent values cast one by one as MLflow's ``convert_data_type`` casts
    them (``np.array([value], dtype)``): what that cast fails on (``"x"`` for a double) is
    BAD_REQUEST; what it takes (``true`` for a double) reaches its enforcement, which refuses
    the stacked arrays anyway."""
    for value in cells:
        try:
            np.array([value], dtype)
        except (TypeError, ValueError, OverflowError) as exc:
            raise PayloadError(
                f"a value of {name!r} in 'instances' does not cast to {dtype.name}"
            ) from exc


def _check_cells(cells: list[Any], convert: Any) -> None:
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
