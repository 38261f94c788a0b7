"""Every MlserveError class maps to one HTTP status and keeps its error code; server faults
become a generic 500."""

from __future__ import annotations

import json
import logging

import pytest

from mlserve import errors
from mlserve.server._errors import (
    HTTP_ERROR_CODES,
    MAX_MESSAGE_CHARS,
    answer_for_error,
    answer_for_http,
    answer_for_unexpected,
    status_for,
)

CASES = [
    (errors.PayloadError("not JSON"), 400, "BAD_REQUEST"),
    (errors.UnsupportedContentType("text/plain", ["application/json"]), 415, "BAD_REQUEST"),
    (errors.SchemaMismatch("a", "double", "string"), 400, "INVALID_PARAMETER_VALUE"),
    (errors.InvalidParams("unknown param k"), 400, "INVALID_PARAMETER_VALUE"),
    (errors.ModelVersionNotFound("m", 3, [1, 2]), 404, "RESOURCE_DOES_NOT_EXIST"),
    (errors.ResourceAlreadyExists("Registered model", "m"), 409, "RESOURCE_ALREADY_EXISTS"),
    (errors.ServerBusy(2.5), 503, "TEMPORARILY_UNAVAILABLE"),
    (errors.RequestTimeout(1.0), 504, "DEADLINE_EXCEEDED"),
]


def test_a_model_error_gives_its_type_not_its_message(caplog: pytest.LogCaptureFixture) -> None:
    """The model's message can quote request values: it goes to the log, under the incident
    id the client gets with the exception type."""
    error = errors.ModelPredictError("ValueError", "could not convert string to float: 'PII'")
    with caplog.at_level(logging.WARNING, logger="mlserve.server"):
        answer = answer_for_error(error)
    body = json.loads(answer.body)
    assert (answer.status, body["error_code"]) == (400, "BAD_REQUEST")
    assert "ValueError" in body["message"] and "PII" not in body["message"]
    incident = body["message"].split("incident ")[1].split(";")[0]
    assert any(incident in r.getMessage() and "'PII'" in r.getMessage() for r in caplog.records)


@pytest.mark.parametrize(
    ("error", "status", "code"), CASES, ids=[type(c[0]).__name__ for c in CASES]
)
def test_client_errors_keep_their_code_and_message(
    error: errors.MlserveError, status: int, code: str
) -> None:
    answer = answer_for_error(error)
    assert answer.status == status == status_for(error)
    assert json.loads(answer.body) == {"error_code": code, "message": error.message}
    assert ("Content-Type", "application/json") in answer.headers


@pytest.mark.parametrize(("retry_after", "header"), [(2.5, "3"), (0.1, "1")], ids=["up", "min-1"])
def test_server_busy_says_when_to_retry(retry_after: float, header: str) -> None:
    answer = answer_for_error(errors.ServerBusy(retry_after))
    assert ("Retry-After", header) in answer.headers


@pytest.mark.parametrize(
    "error",
    [
        errors.MissingExtra("Parquet bodies", "columnar", "pyarrow"),
        errors.BrokenFlavor("xgb", "mlserve-xgboost", "import failed at /secret/path"),
        errors.MlserveError("internal detail"),
    ],
    ids=["missing-extra", "broken-flavor", "root"],
)
def test_internal_errors_are_a_generic_500(
    error: errors.MlserveError, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.ERROR, logger="mlserve.server"):
        answer = answer_for_error(error)
    body = json.loads(answer.body)
    assert answer.status == 500
    assert body["error_code"] == "INTERNAL_ERROR"
    assert error.message not in body["message"]
    assert caplog.records and caplog.records[0].exc_info[1] is error


def test_unexpected_exception_is_logged_with_its_incident_id(
    caplog: pytest.LogCaptureFixture,
) -> None:
    try:
        raise KeyError("secret-column")
    except KeyError as exc:
        with caplog.at_level(logging.ERROR, logger="mlserve.server"):
            answer = answer_for_unexpected(exc)
    message = json.loads(answer.body)["message"]
    assert "secret-column" not in message and "KeyError" not in message
    incident = message.split("incident ")[1].split(")")[0]
    assert incident in caplog.records[0].getMessage()


@pytest.mark.parametrize("status", sorted(HTTP_ERROR_CODES), ids=str)
def test_http_refusals(status: int) -> None:
    answer = answer_for_http(status, "why", [("Allow", "GET")])
    assert answer.status == status
    assert json.loads(answer.body) == {"error_code": HTTP_ERROR_CODES[status], "message": "why"}
    assert ("Allow", "GET") in answer.headers


def test_a_long_message_is_cut_and_says_how_much_was_left_out() -> None:
    # a message may quote a request's own names or a model's exception text
    long_name = "x" * 100_000
    answer = answer_for_error(errors.SchemaMismatch(long_name, "double", "a string"))
    message = json.loads(answer.body)["message"]
    assert len(message) < MAX_MESSAGE_CHARS + 60
    left_out = len(errors.SchemaMismatch(long_name, "double", "a string").message)
    assert message.endswith(f"... ({left_out - MAX_MESSAGE_CHARS:,} more characters not shown)")
    short = answer_for_error(errors.PayloadError("short"))
    assert json.loads(short.body)["message"] == errors.PayloadError("short").message
