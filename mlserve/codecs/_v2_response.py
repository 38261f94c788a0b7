"""Open Inference Protocol (V2) response bodies: predictions as the spec's output tensors.

The response has one output per DataFrame column, per dict key, or one for an array (named by
the signature's output, else ``output-0``, as the metadata numbers unnamed ones), shaped as the
model returned it; ``id`` is the request's (echoed, or generated when it had none). Outputs the
request asked for in binary follow the JSON as raw bytes (:mod:`mlserve.codecs._v2_binary`).
"""

from __future__ import annotations

import base64
from typing import Any

import numpy as np
import pandas as pd

from mlserve.codecs import _json
from mlserve.codecs._output import datetime_strings, to_jsonable
from mlserve.codecs._v2_binary import to_binary
from mlserve.codecs._v2_types import datatype_of
from mlserve.errors import PayloadError

__all__ = ["encode_v2_response"]


def _outputs_of(predictions: Any, names: tuple[str, ...]) -> list[tuple[str, np.ndarray]]:
    if isinstance(predictions, pd.DataFrame):
        return [(str(c), predictions[c].to_numpy()) for c in predictions.columns]
    if isinstance(predictions, pd.Series):
        return [
            (
                str(predictions.name) if predictions.name is not None else names[0],
                predictions.to_numpy(),
            )
        ]
    if isinstance(predictions, dict):
        return [(str(k), np.asarray(v)) for k, v in predictions.items()]
    return [(names[0], np.asarray(predictions))]


def _tensor(name: str, arr: np.ndarray) -> dict[str, Any]:
    datatype = datatype_of(arr.dtype)
    flat = arr.reshape(-1)
    # bytes as base64, datetimes as ISO 8601 (every unit: V2 has no nanosecond integers), NaN as
    # null
    data = datetime_strings(flat).tolist() if flat.dtype.kind == "M" else to_jsonable(flat)
    entry: dict[str, Any] = {"name": name, "shape": list(arr.shape), "datatype": datatype}
    if datatype == "BYTES":
        if arr.dtype.kind == "S" or any(isinstance(v, bytes) for v in flat):
            content = "base64"
            # one line each, as MLServer's base64 codec writes them (to_jsonable wraps them
            # every 76 characters, as MLflow's /invocations does)
            data = [
                base64.b64encode(v).decode("ascii") if isinstance(v, bytes) else d
                for v, d in zip(flat, data, strict=True)
            ]
        elif arr.dtype.kind == "M":
            content = "datetime"
        elif any(isinstance(v, (list, dict)) for v in data):
            # an element of BYTES is one string: structured values travel as JSON documents
            content = "pd_json"
            data = [
                v if v is None or isinstance(v, str) else _json.dumps(v, str).decode() for v in data
            ]
        else:
            content = "str"
        entry["parameters"] = {"content_type": content}
    entry["data"] = data
    return entry


def encode_v2_response(
    predictions: Any,
    *,
    model_name: str,
    model_version: str | None,
    request_id: str,
    requested: tuple[str, ...] | None,
    output_names: tuple[str, ...] = (),
    binary: tuple[str, ...] | None = (),
) -> tuple[bytes, int | None]:
    """The V2 inference response for ``predictions`` and, when some outputs go in binary (their
    names in ``binary``; ``None`` for all), the length of its JSON part for the
    ``Inference-Header-Content-Length`` header (else ``None``). ``model_version`` is left out
    when None, as the spec asks of servers without versions. Raises :class:`PayloadError` when
    the request asked for an output the model does not produce."""
    names = output_names or ("output-0",)
    outputs = _outputs_of(predictions, names)
    if requested is not None:
        produced = {name for name, _ in outputs}
        unknown = [r for r in requested if r not in produced]
        if unknown:
            raise PayloadError(
                f"unknown output {unknown[0][:100]!r}; the model's outputs: "
                f"{', '.join(sorted(produced))[:300]}"
            )
        outputs = [(n, a) for n, a in outputs if n in requested]
    document: dict[str, Any] = {"model_name": model_name}
    if model_version is not None:
        document["model_version"] = model_version
    document["id"] = request_id
    tensors, raw = [], []
    for name, arr in outputs:
        entry = _tensor(name, arr)
        if binary is None or name in binary:
            data = to_binary(arr, entry["datatype"])
            del entry["data"]
            entry.setdefault("parameters", {})["binary_data_size"] = len(data)
            raw.append(data)
        tensors.append(entry)
    document["outputs"] = tensors
    head = _json.dumps(document, str)
    if not raw:
        return head, None
    return b"".join([head, *raw]), len(head)
