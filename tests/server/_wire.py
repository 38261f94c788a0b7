"""One request to MLflow's scoring server and to ours, and the checks of their answers, for the
wire-parity modules (test_mlflow_wire, test_mlflow_wire_casts). Both servers serve the models of
:func:`._both_servers.save_wire_models` (the ``wire_servers`` fixture of conftest.py)."""

from __future__ import annotations

import json
from typing import Any, NamedTuple

import requests

JSON = "application/json"


class Case(NamedTuple):
    # a model of save_wire_models: "rf" (a RandomForest, no params schema), "shapes", "typed"
    # (string s, datetime t), "ints" (doubles named 0 and 1), "chat", "tensor", "nosig",
    # "complex", "map", "array", "any"
    model: str
    body: Any  # JSON-encoded unless it is bytes or str
    content_type: str | None = JSON
    method: str = "POST"
    path: str = "/invocations"


def send(base: str, case: Case) -> requests.Response:
    body = case.body
    if body is not None and not isinstance(body, (bytes, str)):
        body = json.dumps(body)
    headers = {} if case.content_type is None else {"Content-Type": case.content_type}
    return requests.request(case.method, base + case.path, data=body, headers=headers, timeout=60)


def json_or_none(response: requests.Response) -> Any:
    try:
        return response.json()
    except ValueError:
        return None


def error_code(response: requests.Response) -> str | None:
    body = json_or_none(response)
    return body.get("error_code") if isinstance(body, dict) else None


def assert_same(servers: dict[str, tuple[str, str]], case: Case) -> None:
    """The same status; for a 2xx the same JSON, for an error the same ``error_code``."""
    theirs, ours = (send(url, case) for url in servers[case.model])
    assert ours.status_code == theirs.status_code, (theirs.text[:500], ours.text[:500])
    if theirs.status_code < 300:
        if case.path == "/invocations":
            assert ours.json() == theirs.json(), (theirs.text[:500], ours.text[:500])
        else:  # /ping and /health: MLflow's bare newline
            assert ours.content == theirs.content
        return
    # MLflow's own errors carry an error_code; its web framework's (404, 405, 415) do not
    if (code := error_code(theirs)) is not None:
        assert error_code(ours) == code, (theirs.text[:500], ours.text[:500])
    assert isinstance(json_or_none(ours), dict), "every mlserve error body is JSON"


def assert_differs(servers: dict[str, tuple[str, str]], case: Case) -> None:
    """A documented difference still differs (else its case belongs with the same answers)."""
    theirs, ours = (send(url, case) for url in servers[case.model])
    same_status = ours.status_code == theirs.status_code
    assert not (same_status and json_or_none(ours) == json_or_none(theirs)), (
        "no longer a difference: move the case to SAME"
    )
    assert isinstance(json_or_none(ours), dict), "our body is JSON"
