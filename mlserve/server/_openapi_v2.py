"""The Open Inference Protocol (V2) part of the OpenAPI document (:mod:`mlserve.server._openapi`).

The server routes (``/v2``, health), the repository extension when it is on, and for each served
model its metadata, ready and infer routes (with ``/versions/{v}`` when it has a version), the
inference request and response of the spec, and the model's input example as a V2 request.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from mlserve.codecs._json_schema import params_schema
from mlserve.codecs._v2_types import CONTENT_TYPES, DATATYPES, input_metadata
from mlserve.server._metadata import input_example_body
from mlserve.server._openapi_parts import JSON, STRING, error, get, json_ok, segment

if TYPE_CHECKING:
    from mlserve.server._served import ServedModel

__all__ = ["V2_SCHEMAS", "v2_model_paths", "v2_server_paths"]

_V2_ERROR = {
    "type": "object",
    "properties": {"error": {"type": "string"}},
    "required": ["error"],
    "additionalProperties": False,
}


def v2_server_paths(repository: bool) -> dict[str, Any]:
    """``/v2``, its health routes, and the repository extension's when it is on."""
    empty = {"description": "ready (empty body)"}
    server = {
        "type": "object",
        "properties": {
            "name": STRING,
            "version": STRING,
            "extensions": {"type": "array", "items": STRING},
        },
        "required": ["name", "version", "extensions"],
    }
    paths: dict[str, Any] = {
        "/v2": get("V2 server metadata.", json_ok(server)),
        "/v2/health/live": get("V2 liveness.", empty),
        "/v2/health/ready": get("V2 readiness.", empty),
    }
    if not repository:
        return paths
    name = [{"name": "name", "in": "path", "required": True, "schema": STRING}]
    v2_errors = {str(s): error(s, v2=True) for s in (400, 403, 404, 500)}
    index = {
        "type": "array",
        "items": {
            "type": "object",
            "properties": {
                "name": STRING,
                "version": STRING,
                "state": {"enum": ["READY", "UNAVAILABLE"]},
                "reason": STRING,
            },
            "required": ["name", "state"],
        },
    }
    load_body = {
        "type": "object",
        "properties": {
            "parameters": {"type": "object", "properties": {"uri": STRING}},
        },
    }
    paths["/v2/repository/index"] = {
        "post": {"summary": "The served models.", "responses": {"200": json_ok(index)}}
    }
    paths["/v2/repository/models/{name}/load"] = {
        "post": {
            "summary": "Load (or reload) a model under a name, on every worker.",
            "parameters": name,
            "requestBody": {"required": False, "content": {JSON: {"schema": load_body}}},
            "responses": {"200": {"description": "loaded (empty body)"}, **v2_errors},
        }
    }
    paths["/v2/repository/models/{name}/unload"] = {
        "post": {
            "summary": "Unload a model, on every worker.",
            "parameters": name,
            "responses": {"200": {"description": "unloaded (empty body)"}, **v2_errors},
        }
    }
    return paths


def v2_model_paths(served: ServedModel) -> dict[str, Any]:
    """The V2 routes of one served model."""
    bases = [f"/v2/models/{segment(served.name)}"]
    if served.version is not None:
        bases.append(f"{bases[0]}/versions/{segment(served.version)}")
    signature = served.model.signature
    inputs = input_metadata(signature.inputs if signature else None)
    metadata = {
        "type": "object",
        "properties": {
            "name": {"const": served.name},
            "versions": {"type": "array", "items": STRING},
            "platform": STRING,
            "inputs": {"type": "array", "items": {"$ref": "#/components/schemas/V2Tensor"}},
            "outputs": {"type": "array", "items": {"$ref": "#/components/schemas/V2Tensor"}},
        },
        "required": ["name", "platform", "inputs", "outputs"],
    }
    paths: dict[str, Any] = {}
    gone = {"404": error(404, v2=True), "500": error(500, v2=True)}
    for base in bases:
        paths[base] = {
            "get": {
                "summary": f"V2 metadata of {served.name!r}.",
                "responses": {"200": json_ok(metadata), **gone},
            }
        }
        paths[f"{base}/ready"] = {
            "get": {
                "summary": f"Whether {served.name!r} is ready.",
                "responses": {"200": {"description": "ready (empty body)"}, **gone},
            }
        }
        paths[f"{base}/infer"] = {"post": _v2_infer(served, inputs)}
    return paths


def _v2_infer(served: ServedModel, inputs: list[dict[str, Any]]) -> dict[str, Any]:
    names = [e["name"] for e in inputs]
    tensor_in = {
        "type": "object",
        "properties": {
            "name": {"type": "string", "minLength": 1, **({"examples": names} if names else {})},
            "shape": {"type": "array", "items": {"type": "integer", "minimum": 0}},
            "datatype": {"enum": list(DATATYPES)},
            "data": {"type": "array"},
            "parameters": {
                "type": "object",
                "properties": {
                    "content_type": {"enum": [*CONTENT_TYPES, "np", "pd"]},
                    "binary_data_size": {"type": "integer", "minimum": 0},
                },
            },
        },
        "required": ["name", "shape", "datatype", "data"],
    }
    parameters = params_schema(served.model.signature.params if served.model.signature else None)
    request = {
        "type": "object",
        "properties": {
            "id": STRING,
            "parameters": parameters,
            "inputs": {"type": "array", "minItems": 1, "items": tensor_in},
            "outputs": {
                "type": "array",
                "items": {
                    "type": "object",
                    "properties": {"name": STRING, "parameters": {"type": "object"}},
                    "required": ["name"],
                },
            },
        },
        "required": ["inputs"],
    }
    media: dict[str, Any] = {"schema": request}
    example = _v2_example(input_example_body(served.model), inputs)
    if example is not None:
        media["example"] = example
    response = {
        "type": "object",
        "properties": {
            "model_name": {"const": served.name},
            "model_version": STRING,
            "id": STRING,
            "parameters": {"type": "object"},
            "outputs": {"type": "array", "items": {"$ref": "#/components/schemas/V2Tensor"}},
        },
        "required": ["model_name", "outputs"],
    }
    binary = {
        "description": "the response JSON followed by binary outputs (binary tensor extension)",
        "headers": {
            "Inference-Header-Content-Length": {
                "description": "bytes of JSON before the binary outputs",
                "schema": {"type": "string"},
            }
        },
        "content": {"application/octet-stream": {"schema": STRING}},
    }
    ok = json_ok(response, "the outputs")
    ok["content"].update(binary["content"])
    ok["headers"] = binary["headers"]
    return {
        "summary": f"V2 inference with {served.name!r}.",
        "description": (
            "The Open Inference Protocol's inference request. With an "
            "Inference-Header-Content-Length header, binary tensors follow the JSON."
        ),
        "requestBody": {"required": True, "content": {JSON: media}},
        "responses": {
            "200": ok,
            **{str(s): error(s, v2=True) for s in (400, 404, 408, 413, 500, 503, 504)},
        },
    }


def _v2_example(example: Any, inputs: list[dict[str, Any]]) -> dict[str, Any] | None:
    """The input example as a V2 request, one input per column (a ``dataframe_split``
    example whose columns are the signature's)."""
    if not isinstance(example, dict) or "dataframe_split" not in example or not inputs:
        return None
    split = example["dataframe_split"]
    columns = [str(c) for c in split.get("columns") or []]
    entries = {e["name"]: e for e in inputs}
    if not columns or set(columns) != set(entries):
        return None
    rows = split.get("data") or []
    found = []
    for i, name in enumerate(columns):
        entry = {
            "name": name,
            "shape": [len(rows)],
            "datatype": entries[name]["datatype"],
            "data": [row[i] for row in rows],
        }
        if "parameters" in entries[name]:
            entry["parameters"] = entries[name]["parameters"]
        found.append(entry)
    return {"inputs": found}


_V2_TENSOR: dict[str, Any] = {
    "type": "object",
    "properties": {
        "name": STRING,
        "datatype": {"enum": list(DATATYPES)},
        "shape": {"type": "array", "items": {"type": "integer"}},
        "data": {"type": "array"},
        "parameters": {"type": "object"},
    },
    "required": ["name", "datatype", "shape"],
}

#: the component schemas the V2 operations refer to
V2_SCHEMAS = {"V2Error": _V2_ERROR, "V2Tensor": _V2_TENSOR}
