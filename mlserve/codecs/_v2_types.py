"""The Open Inference Protocol's (V2) datatypes and the mapping from an MLflow signature to them.

One table, used in both directions: :func:`input_metadata` says what a model accepts (what
``GET /v2/models/{name}`` publishes) and :mod:`mlserve.codecs._v2` decodes requests by the same
rules, so a request built from the metadata always decodes.

==============================  ==========  =====================================================
MLflow column type              V2          notes
==============================  ==========  =====================================================
``boolean``                     ``BOOL``
``integer`` / ``long``          ``INT32`` / ``INT64``
``float`` / ``double``          ``FP32`` / ``FP64``
``string``                      ``BYTES``   ``parameters.content_type: "str"``: UTF-8 text
``binary``                      ``BYTES``   ``content_type: "base64"``: JSON carries base64
``datetime``                    ``BYTES``   ``content_type: "datetime"``: ISO 8601 strings
Array, Object, Map, Any         ``BYTES``   ``content_type: "pd_json"``: one JSON document each
a tensor of numpy dtype ``d``   by ``d``    ``UINT8``..``UINT64``, ``INT8``..``INT64``,
                                            ``FP16``..``FP64``, ``BOOL``; strings ``BYTES``
==============================  ==========  =====================================================

A column is one input named as the column (``input-{i}`` when the signature has no names), of
shape ``[-1]``: one value per row (``[N, 1]`` is accepted as well). A tensor keeps its
signature's shape. The model's ``platform`` is ``mlflow_<flavor>``.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from mlserve.schema import ColSpec, DataType, Schema, TensorSpec

__all__ = [
    "CONTENT_TYPES",
    "DATATYPES",
    "datatype_of",
    "input_metadata",
    "output_metadata",
    "platform_of",
]

#: V2 datatype -> numpy dtype of its values (``BYTES`` are Python objects: str or bytes)
DATATYPES: dict[str, np.dtype] = {
    "BOOL": np.dtype(bool),
    "UINT8": np.dtype(np.uint8),
    "UINT16": np.dtype(np.uint16),
    "UINT32": np.dtype(np.uint32),
    "UINT64": np.dtype(np.uint64),
    "INT8": np.dtype(np.int8),
    "INT16": np.dtype(np.int16),
    "INT32": np.dtype(np.int32),
    "INT64": np.dtype(np.int64),
    "FP16": np.dtype(np.float16),
    "FP32": np.dtype(np.float32),
    "FP64": np.dtype(np.float64),
    "BYTES": np.dtype(object),
}
_BY_DTYPE = {dtype: name for name, dtype in DATATYPES.items() if name != "BYTES"}

#: the ``content_type`` parameter a BYTES input carries, by what its elements mean
CONTENT_TYPES = ("str", "base64", "datetime", "pd_json")

_COLUMN: dict[DataType, tuple[str, str | None]] = {
    DataType.boolean: ("BOOL", None),
    DataType.integer: ("INT32", None),
    DataType.long: ("INT64", None),
    DataType.float: ("FP32", None),
    DataType.double: ("FP64", None),
    DataType.string: ("BYTES", "str"),
    DataType.binary: ("BYTES", "base64"),
    DataType.datetime: ("BYTES", "datetime"),
}


def datatype_of(dtype: np.dtype) -> str:
    """The V2 datatype of a numpy dtype (strings, bytes, objects and datetimes are ``BYTES``)."""
    return _BY_DTYPE.get(np.dtype(dtype), "BYTES")


def _column_entry(spec: ColSpec, name: str) -> dict[str, Any]:
    if isinstance(spec.type, DataType):
        datatype, content_type = _COLUMN[spec.type]
    else:  # MLflow's complex types travel as JSON documents
        datatype, content_type = "BYTES", "pd_json"
    entry: dict[str, Any] = {"name": name, "datatype": datatype, "shape": [-1]}
    if content_type is not None:
        entry["parameters"] = {"content_type": content_type}
    return entry


def _tensor_entry(spec: TensorSpec, name: str) -> dict[str, Any]:
    datatype = datatype_of(spec.dtype)
    entry: dict[str, Any] = {"name": name, "datatype": datatype, "shape": list(spec.shape)}
    if datatype == "BYTES":
        entry["parameters"] = {"content_type": "str" if spec.dtype.kind == "U" else "base64"}
    return entry


def _entries(schema: Schema | None, prefix: str) -> list[dict[str, Any]]:
    if schema is None:
        return []
    found = []
    for i, spec in enumerate(schema.inputs):
        name = f"{prefix}-{i}" if spec.name is None else str(spec.name)
        if isinstance(spec, TensorSpec):
            found.append(_tensor_entry(spec, name))
        else:
            found.append(_column_entry(spec, name))
    return found


def input_metadata(schema: Schema | None) -> list[dict[str, Any]]:
    """The ``inputs`` of the model's V2 metadata (``[]`` for a model without a signature)."""
    return _entries(schema, "input")


def output_metadata(schema: Schema | None) -> list[dict[str, Any]]:
    """The ``outputs`` of the model's V2 metadata (``[]`` when the signature has none)."""
    return _entries(schema, "output")


def platform_of(flavors: dict[str, Any] | None) -> str:
    """``mlflow_<flavor>``: the first flavor that is not ``python_function``, else
    ``mlflow_pyfunc`` (the spec's own platform names fit no MLflow model)."""
    for name in flavors or {}:
        if name != "python_function":
            return f"mlflow_{name}"
    return "mlflow_pyfunc"
