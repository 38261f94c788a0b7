"""The pieces the OpenAPI documents of :mod:`mlserve.server._openapi` and
:mod:`mlserve.server._openapi_v2` are built from: operations, answers, error answers."""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

__all__ = ["JSON", "REQUEST_ID", "STRING", "error", "get", "json_ok", "segment"]

JSON = "application/json"
STRING = {"type": "string"}
REQUEST_ID = "#/components/headers/RequestId"

# why each error status happens, per kind of route
_WHY = {
    400: "The body cannot be decoded, does not fit the signature, or the model raised.",
    404: "The model is not served (it was unloaded).",
    408: "The request body did not arrive in time.",
    413: "The body is larger than --max-body-size, or has too many rows or columns.",
    415: "A missing or unsupported Content-Type, or a charset other than UTF-8.",
    500: "A fault in the server; the message carries only an incident id.",
    503: "Batching is on and its queue is full; retry after Retry-After seconds.",
    504: "Decoding, predicting and encoding took longer than --timeout.",
}


def segment(name: str) -> str:
    """A model name or version as one path segment (percent-encoded)."""
    return quote(name, safe="")


def get(summary: str, ok: dict[str, Any]) -> dict[str, Any]:
    """A GET operation answering ``ok`` (or a 500)."""
    return {"get": {"summary": summary, "responses": {"200": ok, "500": error(500)}}}


def json_ok(schema: dict[str, Any], description: str = "OK") -> dict[str, Any]:
    """A JSON answer of ``schema``."""
    return {"description": description, "content": {JSON: {"schema": schema}}}


def error(status: int, v2: bool = False, why: str | None = None) -> dict[str, Any]:
    """An error answer: ``{"error_code", "message"}``, or V2's ``{"error"}``."""
    ref = "#/components/schemas/V2Error" if v2 else "#/components/schemas/Error"
    answer: dict[str, Any] = {
        "description": why or _WHY.get(status, "An error."),
        "content": {JSON: {"schema": {"$ref": ref}}},
    }
    if status == 503:
        answer["headers"] = {
            "Retry-After": {"description": "seconds", "schema": {"type": "string"}}
        }
    return answer
