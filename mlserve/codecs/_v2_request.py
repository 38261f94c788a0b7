"""Open Inference Protocol (V2) request bodies, as the spec writes them, decoded.

A request ``{"id"?, "parameters"?, "inputs": [{"name", "shape", "datatype", "data",
"parameters"?}], "outputs"?: [{"name"}]}`` becomes the model input the signature asks for, typed
by the same decoding plan as ``/invocations`` (so one mistake gets one answer):

- a column signature: one input per column (``[N]`` or ``[N, 1]``), or one input of shape
  ``[N, columns]`` holding rows: a DataFrame (MLServer's ``"pd"`` content type);
- a tensor signature: one ndarray, or a dict of ndarrays by name;
- no signature: ``parameters.content_type`` ``"pd"`` (or inputs that are all one value per row)
  gives a DataFrame, one input an ndarray, several a dict of ndarrays.

A ``null`` in a float tensor is NaN (JSON has no NaN; MLServer's codecs write ``null``); BYTES
of ``content_type: "pd_json"`` hold one JSON document per element (MLflow's Array, Object, Map
and Any columns); without a signature a column keeps its V2 datatype (``FP32`` is float32).

Request ``parameters`` other than ``content_type`` and ``headers`` become MLflow ``params`` (as
MLServer passes them). The response side is :mod:`mlserve.codecs._v2_response`.
"""

from __future__ import annotations

import base64
import binascii
import math
import uuid
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from mlserve.codecs import _json
from mlserve.codecs._cost import check_memory
from mlserve.codecs._plan import DecodePlan
from mlserve.codecs._tabular import frame_from_columns
from mlserve.codecs._v2_binary import as_text, from_binary
from mlserve.codecs._v2_types import DATATYPES
from mlserve.errors import PayloadError, SchemaMismatch

__all__ = ["V2Request", "decode_v2_request"]

# request parameters that steer the protocol (ours, MLServer's, Triton's), never model params
_RESERVED_PARAMETERS = (
    "content_type",
    "headers",
    "binary_data_output",
    "sequence_id",
    "sequence_start",
    "sequence_end",
    "priority",
    "timeout",
)


@dataclass(frozen=True)
class V2Request:
    """A decoded V2 inference request."""

    data: Any
    params: dict[str, Any] | None
    id: str
    #: the outputs asked for, or None for all of them
    outputs: tuple[str, ...] | None
    #: the outputs to send in binary; None means every output (``binary_data_output``)
    binary_outputs: tuple[str, ...] | None = ()


def _flat(data: Any, where: str) -> list[Any]:
    """Row-major flattened ``data`` (nested lists are allowed by the spec)."""
    if not isinstance(data, list):
        raise PayloadError(f"{where}: 'data' must be a list")
    if data and isinstance(data[0], list):
        out: list[Any] = []
        stack = [data]
        while stack:  # iterative: deep nesting is a client's choice, not a recursion limit
            item = stack.pop()
            if isinstance(item, list):
                stack.extend(reversed(item))
            else:
                out.append(item)
        return out
    return data


class _Binary:
    """The bytes after a request's JSON, handed out to the binary inputs in order."""

    def __init__(self, data: memoryview) -> None:
        self.data = data
        self.offset = 0

    def take(self, size: Any, where: str) -> memoryview:
        if type(size) is not int or size < 0:
            raise PayloadError(f"{where}: binary_data_size must be a non-negative integer")
        chunk = self.data[self.offset : self.offset + size]
        if len(chunk) != size:
            raise PayloadError(f"{where}: the body ends before its binary_data_size bytes")
        self.offset += size
        return chunk


def _checked_input(
    entry: Any, i: int, plan: DecodePlan, binary: _Binary | None
) -> tuple[str, list[int], str, Any, dict[str, Any]]:
    """``(name, shape, datatype, typed values, parameters)`` of one input, its values typed by
    the V2 datatype (numpy for numbers and BOOL, a list for BYTES) from JSON or from bytes."""
    where = f"inputs[{i}]"
    if not isinstance(entry, dict):
        raise PayloadError(f"{where} must be an object with name, shape, datatype and data")
    parameters = entry.get("parameters") or {}
    if not isinstance(parameters, dict):
        raise PayloadError(f"{where}: parameters must be an object")
    size = parameters.get("binary_data_size")
    required = (
        ("name", "shape", "datatype") if size is not None else ("name", "shape", "datatype", "data")
    )
    missing = [k for k in required if k not in entry]
    if missing:
        raise PayloadError(f"{where} has no {', '.join(missing)}")
    name, shape, datatype = entry["name"], entry["shape"], entry["datatype"]
    if not isinstance(name, str) or not name:
        raise PayloadError(f"{where}.name must be a non-empty string")
    where = f"input {name!r}"
    if not isinstance(shape, list) or not all(type(d) is int and d >= 0 for d in shape):
        raise PayloadError(f"{where}: shape must be a list of non-negative integers")
    if not isinstance(datatype, str) or datatype not in DATATYPES:  # a dict is unhashable
        known = ", ".join(DATATYPES)
        raise PayloadError(f"{where}: unknown datatype {str(datatype)[:20]!r}; one of {known}")
    count = math.prod(shape)
    if size is not None:
        if binary is None:
            raise PayloadError(f"{where}: binary_data_size without Inference-Header-Content-Length")
        typed = from_binary(binary.take(size, where), datatype, count, where)
        if datatype == "BYTES" and plan.rule(name, i).kind != "binary":
            typed = as_text(typed, where)  # type: ignore[arg-type]
            if parameters.get("content_type") == "pd_json":
                typed = _documents(typed, where)
        return name, shape, datatype, typed, parameters
    values = _flat(entry["data"], where)
    if len(values) != count:
        raise PayloadError(f"{where}: shape {shape} holds {count} values, 'data' has {len(values)}")
    return name, shape, datatype, _typed(values, datatype, parameters, where), parameters


def _typed(values: list[Any], datatype: str, parameters: dict[str, Any], where: str) -> Any:
    """The values of one input as numpy (numbers, booleans) or a list (BYTES).

    Types are checked with ``set(map(type, values))``: JSON gives exact ``int``, ``float``,
    ``bool``, ``str``, and the C loop is ~10x a generator of isinstance calls (which was most of
    a 1,000-row request's decode time)."""
    kinds = set(map(type, values))
    if datatype == "BYTES":
        if not kinds <= {str}:
            raise SchemaMismatch(where, "BYTES as JSON strings", "another JSON type")
        if parameters.get("content_type") == "base64":
            try:
                return [base64.b64decode(v, validate=True) for v in values]
            except (binascii.Error, ValueError) as exc:
                raise SchemaMismatch(where, "base64 strings", "a string that is not") from exc
        if parameters.get("content_type") == "pd_json":
            return _documents(values, where)
        return values
    if datatype == "BOOL":
        if not kinds <= {bool}:
            raise SchemaMismatch(where, "BOOL values (true or false)", "another JSON type")
        return np.array(values, dtype=bool)
    dtype = DATATYPES[datatype]
    if dtype.kind == "f" and type(None) in kinds:
        # JSON has no NaN: MLServer's codecs write a missing float as null (and read it back
        # as NaN), as /invocations reads a null in a float column
        values = [math.nan if v is None else v for v in values]
        kinds.discard(type(None))
    if not kinds <= {int, float}:  # a bool is not a number here (its type is bool, not int)
        raise SchemaMismatch(where, f"{datatype} numbers", "a value that is not a number")
    if dtype.kind in "iu":
        if float in kinds and not all(type(v) is int or v.is_integer() for v in values):
            raise SchemaMismatch(where, f"{datatype} integers", "a fraction")
        info = np.iinfo(dtype)
        if values and not (info.min <= min(values) and max(values) <= info.max):
            raise SchemaMismatch(where, f"{datatype} integers", "a number out of range")
    return np.array(values, dtype=dtype)


def _documents(texts: list[str], where: str) -> list[Any]:
    """BYTES of content type ``pd_json`` (MLServer's, and our metadata's for MLflow's Array,
    Object, Map and Any columns): one JSON document per element, decoded."""
    try:
        return [_json.loads(t.encode()) for t in texts]
    except _json.DecodeFailure as exc:
        raise SchemaMismatch(where, "pd_json: one JSON document per element", exc.reason) from exc


def decode_v2_request(body: bytes, plan: DecodePlan, header_length: int | None = None) -> V2Request:
    """Decode a V2 inference request body for a model with decoding plan ``plan``.

    ``header_length`` is the ``Inference-Header-Content-Length`` header: the JSON is that many
    bytes and binary tensors follow (:mod:`mlserve.codecs._v2_binary`). Raises
    :class:`PayloadError` for a body that is not a V2 request (missing fields, a shape that does
    not match its data, an unknown datatype) and :class:`SchemaMismatch` for inputs that cannot
    fit the signature (an unknown input name, values of another type, BYTES that are not UTF-8
    for a string column).
    """
    binary = None
    if header_length is not None:
        if not 0 < header_length <= len(body):
            raise PayloadError("Inference-Header-Content-Length is not within the body")
        binary = _Binary(memoryview(body)[header_length:])
        body = body[:header_length]
    check_memory(body, plan, "json")  # the binary tensors are read in place
    try:
        doc = _json.loads(body)
    except _json.DecodeFailure as exc:
        raise PayloadError(exc.reason) from exc
    if not isinstance(doc, dict):
        raise PayloadError("a V2 inference request is a JSON object with 'inputs'")
    inputs = doc.get("inputs")
    if not isinstance(inputs, list) or not inputs:
        raise PayloadError("'inputs' must be a non-empty list of input tensors")
    request_id = doc.get("id")
    if request_id is not None and not isinstance(request_id, str):
        raise PayloadError("'id' must be a string")
    parameters = doc.get("parameters") or {}
    if not isinstance(parameters, dict):
        raise PayloadError("'parameters' must be an object")
    outputs, binary_outputs = _requested_outputs(doc.get("outputs"))
    plan.check_columns(len(inputs))
    checked = [_checked_input(entry, i, plan, binary) for i, entry in enumerate(inputs)]
    if binary is not None and binary.offset != len(binary.data):
        raise PayloadError("the body has bytes after the binary inputs it declares")
    names = [c[0] for c in checked]
    if len(set(names)) != len(names):
        raise PayloadError("two inputs have the same name")
    content_type = parameters.get("content_type")
    data = _assemble(checked, plan, content_type)
    params = {k: v for k, v in parameters.items() if k not in _RESERVED_PARAMETERS}
    # binary_data_output asks for every output in binary (per-output settings then only add)
    send_binary: tuple[str, ...] | None = None
    if parameters.get("binary_data_output") is not True:
        send_binary = binary_outputs
    return V2Request(data, params or None, request_id or str(uuid.uuid4()), outputs, send_binary)


def _requested_outputs(value: Any) -> tuple[tuple[str, ...] | None, tuple[str, ...]]:
    """The names of the outputs asked for (``None``: all) and of those asked for in binary."""
    if value is None:
        return None, ()
    if not isinstance(value, list) or not all(
        isinstance(o, dict) and isinstance(o.get("name"), str) for o in value
    ):
        raise PayloadError("'outputs' must be a list of objects with a 'name'")
    binary = tuple(
        o["name"]
        for o in value
        if isinstance(o.get("parameters"), dict) and o["parameters"].get("binary_data") is True
    )
    return tuple(o["name"] for o in value), binary


def _rows(shape: list[int]) -> bool:
    """One value per row: ``[N]`` or ``[N, 1]``."""
    return len(shape) == 1 or (len(shape) == 2 and shape[1] == 1)


def _assemble(checked: list[Any], plan: DecodePlan, content_type: Any) -> Any:
    if plan.kind == "columns" or (
        plan.kind == "none"
        and (content_type == "pd" or (len(checked) > 1 and all(_rows(c[1]) for c in checked)))
    ):
        return _frame(checked, plan)
    arrays = {}
    for name, shape, _, typed, _ in checked:
        arr = np.array(typed, dtype=object) if isinstance(typed, list) else typed
        arrays[name] = arr.reshape(shape)
    if plan.kind == "tensor" or (plan.kind == "none" and len(arrays) == 1):
        if len(arrays) != 1:
            raise SchemaMismatch(None, "one input tensor", f"{len(arrays)} inputs")
        return next(iter(arrays.values()))
    if plan.kind == "tensors" and plan.names:
        unknown = sorted(set(arrays) - set(plan.names))
        if unknown:
            raise SchemaMismatch(
                None, f"inputs named {', '.join(plan.names)}", f"{', '.join(unknown)[:200]}"
            )
    return arrays


def _frame(checked: list[Any], plan: DecodePlan) -> pd.DataFrame:
    """A DataFrame: one column per input, or one ``[N, width]`` input holding rows."""
    if len(checked) == 1 and len(checked[0][1]) == 2 and checked[0][1][1] > 1 and plan.names:
        name, shape, _, typed, _ = checked[0]
        if shape[1] != len(plan.names):
            raise SchemaMismatch(
                None,
                f"rows of {len(plan.names)} values ({', '.join(plan.names)})",
                f"input {name!r} of shape {shape}",
            )
        rows = np.array(typed, dtype=object).reshape(shape)
        return frame_from_columns(list(plan.names), [list(c) for c in rows.T], plan, nrows=shape[0])
    if plan.names:
        unknown = [c[0] for c in checked if c[0] not in plan.by_name]
        if unknown:
            raise SchemaMismatch(
                None,
                f"inputs named as the model's columns ({', '.join(plan.names)[:300]})",
                f"input {unknown[0][:100]!r}",
            )
    lengths = set()
    columns, values = [], []
    for name, shape, _, typed, _ in checked:
        if not _rows(shape):
            raise PayloadError(f"input {name!r}: a column is shape [N] or [N, 1], not {shape}")
        lengths.add(shape[0])
        columns.append(name)
        values.append(typed)  # numpy keeps the V2 datatype: it types a column no signature does
    if len(lengths) > 1:
        raise PayloadError(f"the inputs have different numbers of rows {sorted(lengths)[:5]}")
    nrows = lengths.pop()
    plan.check_rows(nrows)
    return frame_from_columns(columns, values, plan, nrows=nrows)
