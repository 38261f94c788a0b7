"""The server's OpenAPI 3.1 document (``GET /openapi.json``), written from the served models.

Every route the server answers is in it, with what it answers: the ``/invocations`` bodies of
each model from its signature (:mod:`mlserve.codecs._json_body_schema`: the four JSON forms with
``params``, MLflow's unwrapped LLM body where the model reads one, CSV, Parquet and Arrow when
pyarrow is installed) with the model's input example; ``{"predictions": ...}``; the error
bodies with the statuses :mod:`mlserve.server._errors` gives; the V2 routes of each model
(:mod:`mlserve.server._v2`). Paths name each served model literally (``/models/rf/invocations``,
``/v2/models/rf/infer``) because each has its own request schema. The document is rebuilt when
the served models change (the repository extension).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from mlserve.codecs import SUPPORTED_CONTENT_TYPES
from mlserve.codecs import _columnar as columnar
from mlserve.codecs._csv import csv_refusal
from mlserve.codecs._json_body_schema import json_body_forms
from mlserve.errors import MlserveError
from mlserve.server._errors import HTTP_ERROR_CODES
from mlserve.server._metadata import input_example_body
from mlserve.server._openapi_parts import JSON, REQUEST_ID, STRING, error, get, json_ok, segment
from mlserve.server._openapi_v2 import V2_SCHEMAS, v2_model_paths, v2_server_paths

if TYPE_CHECKING:
    from mlserve.server._served import ServedModel

__all__ = ["csv_example", "error_codes", "openapi_document"]


def error_codes() -> list[str]:
    """Every ``error_code`` an error body can carry: those of the :class:`MlserveError`
    classes defined so far (plugins' included) and of the HTTP refusals."""
    found = set(HTTP_ERROR_CODES.values())
    pending: list[type[MlserveError]] = [MlserveError]
    while pending:
        cls = pending.pop()
        found.add(cls.error_code)
        pending += cls.__subclasses__()
    return sorted(found)


_FORM_TITLES = {
    "dataframe_split": "pandas split orientation: columns and rows",
    "dataframe_records": "pandas records orientation: one object per row",
    "instances": "TF-serving rows",
    "inputs": "TF-serving columns or tensors",
    "llm": "MLflow's unwrapped LLM request",
}


def openapi_document(
    models: Sequence[ServedModel], *, version: str, repository: bool = False
) -> dict[str, Any]:
    """The OpenAPI 3.1 document of a server serving ``models`` (the first answers
    ``/invocations``); ``version`` is mlserve's, ``repository`` says whether the V2
    repository extension is on."""
    default = models[0]
    paths: dict[str, Any] = {
        "/": get("The model page (HTML): the served models, their signatures, a form.", _html()),
        "/openapi.json": get("This document.", json_ok({"type": "object"})),
        "/ping": get("Liveness and readiness: a bare newline, as MLflow's /ping.", _NEWLINE),
        "/health": get("Liveness and readiness (same as /ping).", _NEWLINE),
        "/version": get(
            "The serving mlserve's version, bare (text/plain, as MLflow's /version).",
            {"description": "the version", "content": {"text/plain": {"schema": STRING}}},
        ),
        "/metadata": get(
            f"Model {default.name!r}: its origin, flavors, signature and an input example.",
            json_ok(_METADATA),
        ),
        "/invocations": {"post": _invocations(default, unloadable=False)},
        "/metrics": {
            "get": {
                "summary": "Prometheus metrics (the metrics extra).",
                "responses": {
                    "200": {
                        "description": "the Prometheus text format",
                        "content": {"text/plain": {"schema": STRING}},
                    },
                    "404": error(404, why="Metrics are off (--no-metrics)."),
                    "501": error(501, why="prometheus_client is not installed."),
                },
            }
        },
    }
    for served in models:
        path = f"/models/{segment(served.name)}/invocations"
        paths[path] = {"post": _invocations(served, unloadable=True)}
    paths.update(v2_server_paths(repository))
    for served in models:
        paths.update(v2_model_paths(served))
    for operations in paths.values():
        for operation in operations.values():
            for response in operation["responses"].values():
                response.setdefault("headers", {})["X-Request-ID"] = {"$ref": REQUEST_ID}
    return {
        "openapi": "3.1.0",
        "info": {
            "title": f"mlserve: {', '.join(s.name for s in models)}",
            "version": version,
            "description": (
                "MLflow's scoring protocol (/invocations) and the Open Inference Protocol "
                "(/v2) for the models this server serves; generated from their signatures."
            ),
        },
        "paths": paths,
        "components": {
            "schemas": {"Error": _error_body(), **V2_SCHEMAS},
            "headers": {
                "RequestId": {
                    "description": "the request's X-Request-ID, or one made for it",
                    "required": True,
                    "schema": STRING,
                }
            },
        },
    }


def _error_body() -> dict[str, Any]:
    codes = {"type": "string", "enum": error_codes()}
    return {**_ERROR, "properties": {**_ERROR["properties"], "error_code": codes}}


_NEWLINE = {
    "description": "a bare newline (text/plain)",
    "content": {"text/plain": {"schema": {"const": "\n"}}},
}
_ERROR: dict[str, Any] = {
    "type": "object",
    "properties": {
        "error_code": {"type": "string"},
        "message": {"type": "string"},
    },
    "required": ["error_code", "message"],
    "additionalProperties": False,
}
_METADATA = {
    "type": "object",
    "properties": {
        "model_uri": {"type": ["string", "null"]},
        "model_uuid": {"type": ["string", "null"]},
        "run_id": {"type": ["string", "null"]},
        "artifact_path": {"type": ["string", "null"]},
        "utc_time_created": {"type": ["string", "null"]},
        "flavors": {"type": "object"},
        "signature": {"type": ["object", "null"]},
        "input_example": {},
        "metadata": {},
        "mlserve_version": {"type": "string"},
    },
    "required": ["flavors", "signature", "mlserve_version"],
}


def _html() -> dict[str, Any]:
    return {"description": "the page", "content": {"text/html": {"schema": STRING}}}


def _invocations(served: ServedModel, *, unloadable: bool) -> dict[str, Any]:
    """The ``POST`` operation scoring with ``served``."""
    forms = json_body_forms(served.decoder.plan)
    example = input_example_body(served.model)
    json_media: dict[str, Any] = {
        "schema": {
            "oneOf": [{"title": _FORM_TITLES[k], **schema} for k, schema in forms.items()],
        }
    }
    content: dict[str, Any] = {JSON: json_media}
    if example is not None:
        json_media["example"] = example
    if csv_refusal(served.decoder.plan.schema) is None:  # else refused, as MLflow refuses it
        csv_schema = {"type": "string", "minLength": 1, "description": "UTF-8, a header row"}
        csv: dict[str, Any] = {"schema": csv_schema}
        csv_text = csv_example(example)
        if csv_text is not None:
            csv["example"] = csv_text
        content["text/csv"] = csv
    if columnar.available():  # without pyarrow these media types cannot be read
        for media in SUPPORTED_CONTENT_TYPES:
            if media not in content and media != "text/csv":
                content[media] = {"schema": {"type": "string", "contentMediaType": media}}
    statuses = [400, 408, 413, 415, 500, 503, 504] + ([404] if unloadable else [])
    predictions = {
        "type": "object",
        "properties": {"predictions": {}},
        "required": ["predictions"],
    }
    ok_schema: dict[str, Any] = predictions
    if "llm" in forms:  # an unwrapped LLM body is answered with the bare predictions
        ok_schema = {"anyOf": [predictions, {}]}
    return {
        "summary": f"Score with model {served.name!r}.",
        "description": _signature_text(served),
        "requestBody": {"required": True, "content": content},
        "responses": {
            "200": json_ok(ok_schema, "the predictions"),
            **{str(s): error(s) for s in sorted(statuses)},
        },
    }


def _signature_text(served: ServedModel) -> str:
    signature = served.model.signature
    if signature is None:
        return "The model has no signature: inputs are passed as sent."
    parts = []
    for key in ("inputs", "outputs", "params"):
        part = getattr(signature, key, None)
        if part is not None:
            parts.append(f"{key}: {part.to_json()}")
    return "Signature: " + "; ".join(parts)


def csv_example(example: Any) -> str | None:
    """The ``dataframe_split`` example as CSV text, when it is one."""
    if not isinstance(example, dict) or "dataframe_split" not in example:
        return None
    split = example["dataframe_split"]
    try:
        import pandas as pd

        frame = pd.DataFrame(split["data"], columns=split.get("columns"))
        return str(frame.to_csv(index=False))
    except Exception:  # an example pandas cannot build has no CSV form
        return None
