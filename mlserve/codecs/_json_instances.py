"""MLflow's ``parse_instances_data`` for ``instances`` rows of objects and objects of lists, for
:mod:`mlserve.codecs._json_input`: each key's values gathered from the rows that have it, cast,
stacked into one array and counted, with the code MLflow answers each refusal with
(BAD_REQUEST for its cast, stack and count; INVALID_PARAMETER_VALUE for its enforcement)."""

from __future__ import annotations

from collections.abc import Iterable
from itertools import chain
from typing import Any

import numpy as np

from mlserve.codecs._json_casts import all_objects, check_cells, declared_columns, numpy_casts
from mlserve.codecs._plan import DecodePlan
from mlserve.errors import PayloadError, SchemaMismatch
from mlserve.schema import Array, DataType, Object

__all__ = [
    "check_instance_lengths",
    "check_instance_rows",
    "present_cells",
    "refuse_complex_instances",
]


def check_instance_rows(rows: list[Any], plan: DecodePlan) -> dict[Any, list[Any]] | None:
    """``instances`` as rows of objects for a column signature, refused as MLflow's
    ``parse_instances_data`` refuses them before its enforcement. It gathers each key's values
    from the rows that have it, casts a plain column's values with numpy and stacks each key's
    into one array (a list among them that does not stack: BAD_REQUEST), counts the required
    declared columns other than arrays (unequal counts: BAD_REQUEST), and makes a frame of the
    arrays, which pandas refuses when any two keys' counts differ (INVALID_PARAMETER_VALUE).
    The array and object columns' own refusals come between (:func:`refuse_complex_instances`).

    Returns each key's values when the rows have different keys but every key as many values
    (MLflow pairs them by position: ``[{"a": 1}, {"b": 2}]`` is one row), else None: the rows
    are read as they are. Rows of the same keys holding no list, the common body, cost two
    passes at C speed."""
    if not all_objects(rows):
        refuse_complex_instances(rows, plan)
        return None
    keys = dict.fromkeys(chain.from_iterable(rows))
    gaps = set(map(len, rows)) != {len(keys)}
    nested = list in set(map(type, chain.from_iterable(map(dict.values, rows))))
    cells: dict[Any, list[Any]] = {}
    if gaps or nested:
        plan.check_columns(len(keys))
        specs = dict(zip(keys, declared_columns(keys, plan), strict=True))
        cells = present_cells(rows, keys)
        for key, values in cells.items():
            spec = specs[key][0]
            if spec is not None and isinstance(spec.type, DataType):
                _cast_cells(key, values, spec.type.to_numpy())
            if nested and any(isinstance(v, list) for v in values):
                try:
                    np.array(values)
                except ValueError as exc:
                    raise PayloadError(
                        f"the values of {key!r} in 'instances' have unequal lengths (or are "
                        "lists among single values); send the rows under 'inputs' or "
                        "'dataframe_records'"
                    ) from exc
        counted = {
            len(cells[k])
            for k, (spec, _) in specs.items()
            if spec is not None and spec.required and not isinstance(spec.type, Array)
        }
        if len(counted) > 1:
            raise PayloadError(
                "the rows of 'instances' give the columns different numbers of values; send "
                "the rows under 'inputs' or 'dataframe_records'"
            )
    refuse_complex_instances(rows, plan)
    if not gaps:
        return None
    if len({len(v) for v in cells.values()}) > 1:
        raise SchemaMismatch(
            None,
            "as many values of every key in 'instances' (MLflow makes one array of each key's "
            "values)",
            "keys missing from some rows",
        )
    return cells


def present_cells(
    rows: list[dict[Any, Any]], keys: Iterable[Any] | None = None
) -> dict[Any, list[Any]]:
    """Each key's values from the rows that have it (no null for a row that lacks it), as
    MLflow's ``parse_instances_data`` gathers ``instances`` rows. ``keys``: the rows' keys in
    first-seen order, when the caller has them already."""
    if keys is None:
        keys = dict.fromkeys(chain.from_iterable(rows))
    return {k: [r[k] for r in rows if k in r] for k in keys}


def check_instance_lengths(arrays: dict[str, np.ndarray], counted: Any) -> None:
    """MLflow's check of ``instances`` made arrays (by key) for a tensor signature or none:
    the arrays of the ``counted`` keys (all keys without a signature, the declared tensors
    otherwise) hold as many values each (BAD_REQUEST); a single value has no length."""
    lengths = {
        len(a) if a.ndim else None for k, a in arrays.items() if counted is None or k in counted
    }
    if None in lengths or len(lengths) > 1:
        raise PayloadError(
            "the values in 'instances' have different lengths (or a single value beside lists); "
            "send one list per input, each as long as the others"
        )


def refuse_complex_instances(rows: list[Any], plan: DecodePlan) -> None:
    """``instances`` as rows of objects for a signature with an array or object column (sent
    or not), refused as MLflow's
    ``parse_instances_data`` refuses them, after :func:`check_instance_rows`' stacks and counts.
    It casts every cell against its column's type (a cell that does not fit: BAD_REQUEST), and
    then gives its enforcement a 2-D array or an array of dicts, which it refuses
    (INVALID_PARAMETER_VALUE). ``inputs`` takes the same rows."""
    compiled = plan.compiled
    if plan.schema is None or compiled is None:
        return
    complex_names = [
        s.name for s in plan.schema.inputs if isinstance(getattr(s, "type", None), (Array, Object))
    ]
    if not complex_names:
        return
    # sent or not (an optional array column), MLflow's enforcement makes one row of the stacks
    sent = [n for n in complex_names if any(isinstance(r, dict) and n in r for r in rows)]
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
            check_cells(sent_cells, compiled.converters[i])
    raise SchemaMismatch(
        str(sent[0]) if sent else None,
        "one value per row ('instances' makes each column one array of them, which a "
        "signature with an array or object column takes as one row)",
        "rows of objects; send them under 'inputs' or 'dataframe_records'",
    )


def _cast_cells(name: Any, cells: list[Any], dtype: np.dtype, where: str = "instances") -> None:
    """A plain column's sent values cast one by one as MLflow's ``convert_data_type`` casts
    them (``np.array([value], dtype)``): what that cast fails on (``"x"`` for a double) is
    BAD_REQUEST; what it takes (``true`` for a double) reaches its enforcement, which refuses
    the stacked arrays anyway."""
    if numpy_casts(cells, dtype):  # the whole column at once: the common case, one call
        return
    # a value that does not cast, or lists among single values (which do not stack): each alone
    if not all(numpy_casts([value], dtype) for value in cells):
        raise PayloadError(f"a value of {name!r} in '{where}' does not cast to {dtype.name}")
