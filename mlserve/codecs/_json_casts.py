"""What MLflow's ``inputs``/``instances`` path (its ``_cast_schema_type`` and numpy) does to
a JSON body's values beyond building a frame, for :mod:`mlserve.codecs._json_input`: array
values as ndarrays, the refusals its double check and its per-key arrays give, and orjson's
floats for integers past 64 bits."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from mlserve.codecs import _json
from mlserve.codecs._plan import DecodePlan
from mlserve.errors import PayloadError, SchemaMismatch
from mlserve.schema import Array, DataType, Object

__all__ = [
    "all_objects",
    "arrays_as_ndarrays",
    "np_array",
    "refloat",
    "refuse_complex_instances",
    "refuse_float_arrays",
]


def all_objects(values: list[Any]) -> bool:
    return all(isinstance(v, dict) for v in values)


def refloat(data: Any) -> bool:
    """True if ``data`` (decoded without a signature, with orjson) holds a float of an
    integer's size past int64, which orjson may have made of an integer literal."""
    if _json.backend() != "orjson":
        return False
    if isinstance(data, dict):
        return any(refloat(v) for v in data.values())
    if isinstance(data, list):
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
    """``instances`` as rows of objects holding an array or object column: MLflow turns the rows
    into one numpy array per key, which fails for arrays of unequal lengths (BAD_REQUEST) and
    otherwise gives its enforcement a 2-D array or an array of dicts, which it refuses
    (INVALID_PARAMETER_VALUE). ``inputs`` takes the same rows."""
    if plan.schema is None:
        return
    complex_names = [
        s.name for s in plan.schema.inputs if isinstance(getattr(s, "type", None), (Array, Object))
    ]
    sent = [n for n in complex_names if any(isinstance(r, dict) and n in r for r in rows)]
    if not sent:
        return
    for name in sent:
        try:
            np.array([r.get(name) if isinstance(r, dict) else None for r in rows])
        except ValueError as exc:
            raise PayloadError(
                f"the values of {name!r} in 'instances' have unequal lengths; send the rows "
                "under 'inputs' or 'dataframe_records'"
            ) from exc
    raise SchemaMismatch(
        str(sent[0]),
        "one value per row ('instances' makes an array or object column one array of them)",
        "rows of objects; send them under 'inputs' or 'dataframe_records'",
    )
