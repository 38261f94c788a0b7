"""The MLflow JSON request shapes: ``dataframe_split``, ``dataframe_records``, ``instances``,
``inputs``, plus optional ``params``.

What each shape becomes (MLflow's behaviour unless ``docs/payloads.md`` says otherwise):

- ``dataframe_split`` / ``dataframe_records``: a DataFrame (column names kept as given, so
  ``"columns": [0, 1, 2, 3]`` gives integer names).
- ``inputs`` / ``instances``: with a column signature, a DataFrame; with a tensor signature or
  none, a numpy array (nested lists) or a dict of arrays (an object of named tensors, or rows of
  objects for ``instances``); without a signature, ``inputs`` as a list of objects stays one,
  each value an ``np.array`` (MLflow's ``_cast_schema_type``).
- MLflow's unwrapped LLM bodies (``{"messages": [...], "temperature": 0.2}``, ``{"prompt": ...}``,
  ``{"input": ...}``): MLflow's rule from its scoring server, for every model, when the body has
  any of those keys: the top-level keys the params schema declares are the params and every
  other key is data. For a column signature that is one row, as ``inputs`` gives (keys the
  signature does not declare are dropped, a ``params`` key among them, so a signature declaring
  none of them lacks its columns: ``INVALID_PARAMETER_VALUE``); a model without a signature is
  given the data keys as the dict they are; a tensor signature refuses it, as MLflow's
  enforcement does. The answer is then the bare predictions, without ``{"predictions": ...}``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from typing import Any, TypeAlias

import numpy as np
import pandas as pd

from mlserve.codecs import _json
from mlserve.codecs._cost import check_memory
from mlserve.codecs._json_casts import (
    all_objects,
    arrays_as_ndarrays,
    cast_as_first_column,
    cast_declared_values,
    dict_columns,
    np_array,
    pad_rows_for_any,
    refloat,
    refuse_float_arrays,
    refuse_floats_for_other_types,
)
from mlserve.codecs._json_instances import (
    check_instance_lengths,
    check_instance_rows,
    present_cells,
)
from mlserve.codecs._json_llm import LLM_BODY, LLM_INPUT, LLM_KEYS, llm_errors, read_llm
from mlserve.codecs._plan import DecodePlan
from mlserve.codecs._tabular import (
    Refloat,
    check_column_names,
    columns_of_records,
    frame_from_columns,
    frame_from_rows,
    to_array,
)
from mlserve.errors import PayloadError, SchemaMismatch

__all__ = ["INPUT_KEYS", "LLM_INPUT", "LLM_KEYS", "PARAMS_KEY", "decode_json", "llm_errors"]

INPUT_KEYS = ("dataframe_split", "dataframe_records", "instances", "inputs")
PARAMS_KEY = "params"
_ACCEPTED = (*INPUT_KEYS, PARAMS_KEY)
_SPLIT_KEYS = frozenset({"columns", "data", "index"})

Decoded: TypeAlias = (
    "pd.DataFrame | np.ndarray | dict[str, np.ndarray] | list[dict[str, np.ndarray]]"
)


def _kind(value: object) -> str:
    """The JSON kind of a value, for messages that must not echo data."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, (int, float)):
        return "a number"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, list):
        return "a list"
    return "an object"


def decode_json(body: bytes, plan: DecodePlan) -> tuple[Decoded, Any, str]:
    """Parse a JSON request body; returns ``(data, raw params or None, input key)``.

    Raises :class:`PayloadError` for anything that is not one of the accepted shapes and
    :class:`SchemaMismatch` when the shape cannot fit the signature at all.
    """
    if not body.strip():
        raise PayloadError("the body is empty; expected a JSON object")
    check_memory(body, plan, "json")  # before parsing: the parse is most of the cost
    if b"true" in body or b"false" in body:
        # numpy silently makes true 1.0; look for booleans only when the bytes allow them
        plan = replace(plan, json_booleans=True)
    if plan.exact_columns and not plan.stdlib_json and _json.backend() == "orjson":
        plan = replace(plan, refloat_columns=True)
        try:
            return _decode_doc(body, plan)
        except Refloat:
            # orjson made an integer past 64 bits a float, where MLflow's json.loads keeps
            # the int for the model (a string or Any column's value)
            return decode_json(body, replace(plan, stdlib_json=True, refloat_columns=False))
    return _decode_doc(body, plan)


def _decode_doc(body: bytes, plan: DecodePlan) -> tuple[Decoded, Any, str]:
    try:
        doc = _json.loads(body, plan.exact_integers, plan.stdlib_json)
    except _json.DecodeFailure as exc:
        raise PayloadError(exc.reason) from exc
    if not isinstance(doc, dict):
        raise PayloadError(
            f"expected a JSON object with one of {', '.join(INPUT_KEYS)}; found {_kind(doc)}"
        )
    if any(k in doc for k in LLM_KEYS):
        # the LLM reader builds its frame as inputs would: handed _columnar, not importing it
        llm_data, llm_params = read_llm(doc, plan, _columnar)
        return llm_data, llm_params, LLM_INPUT
    unknown = [k for k in doc if k not in _ACCEPTED]
    if unknown:
        raise PayloadError(
            f"unknown top-level key(s) {', '.join(repr(k) for k in sorted(unknown)[:10])}; "
            f"accepted keys: {', '.join(_ACCEPTED)}"
        )
    present = [k for k in INPUT_KEYS if k in doc]
    if len(present) != 1:
        found = "none of them" if not present else "both " + " and ".join(present)
        raise PayloadError(f"expected exactly one of {', '.join(INPUT_KEYS)}; found {found}")
    key = present[0]
    value = doc[key]
    if plan.cast_by_shape and key in ("inputs", "instances"):
        plan = replace(plan, numpy_cast=True)
    if key == "dataframe_split":
        data: Decoded = _split(value, plan)
    elif key == "dataframe_records":
        data = _records(value, plan, key)
    elif key == "instances" and isinstance(value, list) and value and isinstance(value[0], dict):
        if plan.kind != "columns":
            data = _row_objects(value, plan)
        else:
            # MLflow casts every cell and stacks each key's (a failure: BAD_REQUEST) before its
            # enforcement refuses an array or object column's stack, or uneven keys
            cells = check_instance_rows(value, plan)
            data = _records(value, plan, key) if cells is None else _cells_frame(cells, plan)
    else:
        data = _tensor_or_columns(value, plan, key)
    if plan.kind == "none" and not plan.stdlib_json and refloat(data):
        # orjson made an integer past 64 bits a float: the standard library keeps it an int,
        # which MLflow's json.loads hands the model (checked on the arrays, not the text)
        return decode_json(body, replace(plan, stdlib_json=True))
    if plan.dict_is_row and isinstance(data, pd.DataFrame):
        refuse_float_arrays(data, plan)  # on the values as sent, before any becomes an array
        if key == "inputs":
            data = arrays_as_ndarrays(data, plan)
    return data, doc.get(PARAMS_KEY), key


def _split(value: object, plan: DecodePlan) -> pd.DataFrame:
    if not isinstance(value, dict):
        raise PayloadError(
            f"'dataframe_split' must be an object with 'columns', 'data' and optional 'index'; "
            f"found {_kind(value)}"
        )
    extra = set(value) - _SPLIT_KEYS
    if extra:
        raise PayloadError(
            f"'dataframe_split' has unknown key(s) {', '.join(sorted(map(repr, extra)))}; "
            "accepted: columns, data, index"
        )
    if "data" not in value:
        raise PayloadError("'dataframe_split' has no 'data' (a list of rows)")
    columns = value.get("columns")
    if columns is not None:
        columns = check_column_names(columns, "dataframe_split.columns")
    index = value.get("index")
    if index is not None and (
        not isinstance(index, list) or not all(isinstance(i, (str, int, float)) for i in index)
    ):
        raise PayloadError("'dataframe_split.index' must be a list of strings or numbers")
    return frame_from_rows(value["data"], columns, plan, "dataframe_split.data", index)


def _records(value: object, plan: DecodePlan, where: str) -> pd.DataFrame:
    if not isinstance(value, list):
        raise PayloadError(
            f"'{where}' must be a list of objects (one per row); found {_kind(value)}"
        )
    if not value:
        return pd.DataFrame()
    if where == "dataframe_records" and isinstance(value[0], list):
        # rows without names: pd.DataFrame(rows) in MLflow, labelled by position 0..n-1
        if not all(isinstance(r, list) for r in value):
            # MLflow's pd.DataFrame(rows) makes an object's keys a row's values, which its
            # enforcement then refuses (INVALID_PARAMETER_VALUE), or, for integer-named
            # columns, hands the model: refused here either way
            raise SchemaMismatch(None, "rows (lists of values)", "rows mixed with objects")
        return frame_from_rows(value, None, plan, where)
    plan.check_rows(len(value))
    names, values = columns_of_records(value, where, plan)
    if where != "dataframe_records":
        _refuse_lists(names, values, plan)
    return frame_from_columns(names, values, plan, nrows=len(value))


def _cells_frame(cells: dict[Any, list[Any]], plan: DecodePlan) -> pd.DataFrame:
    """A frame of each key's values (``instances`` rows of other keys, paired by position)."""
    keys, cols = list(cells), list(cells.values())
    keep = plan.kept(keys)
    if keep is not None:
        keys, cols = [keys[i] for i in keep], [cols[i] for i in keep]
    nrows = len(cols[0]) if cols else 0
    plan.check_rows(nrows)
    _refuse_lists(keys, cols, plan)
    return frame_from_columns(keys, cols, plan, nrows=nrows)


def _refuse_lists(
    keys: Sequence[Any], cols: Sequence[Sequence[Any]], plan: DecodePlan, uncast: bool = False
) -> None:
    """Lists as the values of a column of single values, in ``inputs`` or ``instances``: MLflow
    hands these bodies to its enforcement uncast, which refuses them (INVALID_PARAMETER_VALUE),
    where ``dataframe_split`` and ``dataframe_records`` fail its cast (BAD_REQUEST). The first
    row decides: a list further down is refused by the enforcer, as a cast failure."""
    for i, (key, col) in enumerate(zip(keys, cols, strict=True)):
        if col and isinstance(col[0], list):
            rule = plan.rule(key, i)
            if rule.kind == "string" and (uncast or all(map(_texts, col))):
                # lists of text (or any lists MLflow did not cast first, an unwrapped LLM
                # body's): its string column takes any object as it is
                continue
            if rule.kind not in ("object", "any"):
                raise SchemaMismatch(rule.name, rule.expected, "lists")


def _texts(value: object) -> bool:
    return isinstance(value, list) and all(isinstance(v, str) for v in value)


def _row_objects(value: list[Any], plan: DecodePlan) -> dict[str, np.ndarray]:
    """``instances`` as rows of objects, for a tensor signature or none: a dict of arrays."""
    if not all_objects(value):
        # MLflow reads each row's items: a row that is not an object fails there (BAD_REQUEST)
        raise PayloadError("'instances' must be a list of objects (one per row)")
    if plan.kind == "tensor":
        # MLflow: rows of named values for an unnamed tensor are refused by its enforcement
        raise SchemaMismatch(None, "a single tensor (nested lists)", "rows of named values")
    plan.check_rows(len(value))
    cells = present_cells(value)
    plan.check_columns(len(cells))
    arrays = {
        str(n): (
            # MLflow casts each value with np.array first: an object stays a 0-d array
            np_array([np.array(x) for x in v], f"instances.{n}")
            if plan.kind == "none" and any(isinstance(x, dict) for x in v)
            else _tensor(v, plan, str(n), f"instances.{n}")
        )
        for n, v in cells.items()
    }
    check_instance_lengths(arrays, set(plan.names) if plan.kind == "tensors" else None)
    return arrays


def _tensor(value: object, plan: DecodePlan, name: str | None, where: str) -> np.ndarray:
    dtype = None
    if plan.kind == "tensor":
        dtype = plan.tensor_dtype
    elif plan.kind == "tensors":
        rule = plan.by_name.get(str(name)) if plan.by_name else plan.default
        dtype = rule.dtype if rule is not None else None
        if rule is not None and rule.kind == "string":  # a str tensor: values as written
            dtype = np.dtype(str)
    return to_array(value, dtype, where, plan.json_booleans, objects_are_rows=name is None)


def _tensor_or_columns(value: object, plan: DecodePlan, where: str) -> Decoded:
    if value is None:
        raise PayloadError(f"'{where}' is null; expected a list of rows or an object of columns")
    if plan.kind == "columns":
        return _columnar(value, plan, where)
    if plan.kind == "none" and isinstance(value, list) and all_objects(value):
        # MLflow's _cast_schema_type without a signature: each object's values as np.array
        # (an empty list is such a list too, and stays one)
        plan.check_rows(len(value))
        plan.check_columns(max(map(len, value), default=0))
        return [{k: np_array(v, where) for k, v in row.items()} for row in value]
    if isinstance(value, dict):
        if plan.kind == "tensor":
            # MLflow refuses it while parsing the body: BAD_REQUEST
            raise PayloadError(
                f"'{where}' is an object; this model takes a single tensor (nested lists)"
            )
        arrays = {str(k): _tensor(v, plan, str(k), f"{where}.{k}") for k, v in value.items()}
        if where == "instances":
            check_instance_lengths(arrays, set(plan.names) if plan.kind == "tensors" else None)
        return arrays
    if plan.kind == "tensors":
        if plan.single_column is None:
            raise SchemaMismatch(
                None, f"an object with the named tensors {', '.join(plan.names)}", _kind(value)
            )
        return {plan.single_column: _tensor(value, plan, plan.single_column, where)}
    return _tensor(value, plan, None, where)


def _columnar(value: object, plan: DecodePlan, where: str) -> pd.DataFrame:
    """``inputs``/``instances`` for a column signature: always a DataFrame."""
    if plan.dict_is_row:
        # as MLflow: {"messages": [...]} is one row, and so is each object of a list of them
        if isinstance(value, dict):
            cast_declared_values(value, plan, where)
            return _records([value], plan, where)
        if isinstance(value, list) and value and isinstance(value[0], dict):
            return _records(value, plan, where)
    if isinstance(value, dict):
        keys = list(value)
        keep = plan.kept(keys)
        cols = dict_columns(value, plan, where)
        nrows = len(cols[0]) if cols else 0
        plan.check_rows(nrows)
        if keep is not None:
            keys, cols = [keys[i] for i in keep], [cols[i] for i in keep]
        _refuse_lists(keys, cols, plan, uncast=where == LLM_BODY)
        return frame_from_columns(keys, cols, plan, nrows=nrows)
    if isinstance(value, list) and value and all_objects(value):
        # MLflow's _cast_schema_type: a list of objects is rows of named values, also for a
        # signature of one column (a map column's values are objects too)
        return _records(value, plan, where)
    if plan.dict_is_row and isinstance(value, list) and value and where == "inputs":
        if plan.single_column is not None:
            # MLflow: the list is the one named column's value, and an array or object column's
            # value is one row: [1.5, 2.5] is one array
            return _records([{plan.labels[0]: value}], plan, where)
        # MLflow casts the list as one value of the first column, and its enforcement then
        # finds none of the columns in the one it makes of it
        cast_as_first_column(value, plan, where)
        raise SchemaMismatch(
            None, "an object of columns or a list of objects (rows)", "one list of values"
        )
    if not isinstance(value, list):
        # one value: MLflow makes it pd.DataFrame([value]), one column labelled 0 (so a model
        # whose one column is named "a" lacks it)
        return frame_from_columns([0], [[value]], plan, nrows=1)
    if plan.single_column is not None:
        # MLflow's _cast_schema_type: a list is the one named column's values, so rows of one
        # value each are a column of lists (refused unless the column holds lists)
        label = plan.labels[0]
        if plan.rule(label, 0).kind == "any" and all(isinstance(v, str) for v in value):
            # ... but an any column keeps a list of text whole, and MLflow's enforcement makes
            # one row of it (its one-row rule for texts)
            return frame_from_columns([label], [[value]], plan, nrows=1)
        _refuse_lists([label], [value], plan)
        plan.check_rows(len(value))
        return frame_from_columns([label], [value], plan, nrows=len(value))
    if value and not isinstance(value[0], list):
        if len(plan.by_position) != 1:
            cast_as_first_column(value, plan, where)
            raise SchemaMismatch(
                None, f"rows of {len(plan.names or plan.by_position)} values", "a flat list"
            )
        return frame_from_columns([0], [value], plan, nrows=len(value))
    # rows: MLflow casts them whole as the first column's type (a failure: BAD_REQUEST), then
    # pd.DataFrame(rows) labels them by position 0..n-1, which meets a signature by those
    # integer names (or an unnamed one), not one named "a", "b" or "0", "1"
    value = pad_rows_for_any(value, plan)
    cast_as_first_column(value, plan, where)
    refuse_floats_for_other_types(plan)
    return frame_from_rows(value, None, plan, where)
