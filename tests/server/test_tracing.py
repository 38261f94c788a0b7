"""X-Request-ID on real servers: kept, made, or replaced; on every answer and in the logs."""

from __future__ import annotations

import json
import re
import time
from pathlib import Path

import pytest
import requests

from mlserve.server._tracing import MAX_REQUEST_ID_LENGTH, request_id_for

from .helpers import SEED_BODY, Server, start_server

GENERATED = re.compile(r"[0-9a-f]{32}")


def log_line_with(server: Server, text: str, timeout: float = 5) -> str:
    """The first log line containing ``text`` (the access line is written after the answer)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        for line in server.log().splitlines():
            if text in line:
                return line
        time.sleep(0.02)
    raise AssertionError(f"no log line with {text!r}:\n{server.log()}")


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory, sleepy_model_dir: Path):  # type: ignore[no-untyped-def]
    with start_server(
        tmp_path_factory.mktemp("tracing"), "-m", f"sleepy={sleepy_model_dir}", "-w", "2"
    ) as running:
        yield running


def predict(server: Server, value: float, **headers: str) -> requests.Response:
    body = {"dataframe_split": {"columns": ["x"], "data": [[value]]}}
    return requests.post(server.url + "/invocations", json=body, headers=headers, timeout=10)


def test_a_clients_id_comes_back_and_is_in_the_access_log(server: Server) -> None:
    answer = predict(server, 0, **{"X-Request-ID": "client-7f3a.42:retry=1"})
    assert answer.status_code == 200
    assert answer.headers["X-Request-ID"] == "client-7f3a.42:retry=1"
    line = log_line_with(server, "client-7f3a.42:retry=1")
    assert '"POST /invocations HTTP/1.1" 200 ' in line and line.endswith("s client-7f3a.42:retry=1")


def test_without_one_each_request_gets_its_own(server: Server) -> None:
    ids = [predict(server, 0).headers["X-Request-ID"] for _ in range(3)]
    assert all(GENERATED.fullmatch(i) for i in ids) and len(set(ids)) == 3
    assert ids[0] in log_line_with(server, ids[0])


@pytest.mark.parametrize(
    "hostile",
    [
        "x" * (MAX_REQUEST_ID_LENGTH + 1),
        'id" 200 0 0.1s forged',
        "<script>alert(1)</script>",
        "a b",
        "",
    ],
    ids=["too-long", "quote-and-spaces", "markup", "space", "empty"],
)
def test_an_unsafe_id_is_replaced_not_logged(server: Server, hostile: str) -> None:
    answer = predict(server, 0, **{"X-Request-ID": hostile})
    assert answer.status_code == 200
    replaced = answer.headers["X-Request-ID"]
    assert GENERATED.fullmatch(replaced)
    log_line_with(server, replaced)
    if hostile:
        assert hostile not in server.log()


@pytest.mark.parametrize(
    ("method", "path", "kwargs", "status"),
    [
        ("GET", "/nowhere", {}, 404),
        ("GET", "/invocations", {}, 405),
        (
            "POST",
            "/invocations",
            {"data": "{", "headers": {"Content-Type": "application/json"}},
            400,
        ),
        ("POST", "/invocations", {"data": b"x"}, 415),
        ("OPTIONS", "/invocations", {}, 204),
        ("GET", "/ping", {}, 200),
        ("GET", "/metadata", {}, 200),
        ("GET", "/metrics", {}, 200),
        ("GET", "/v2/health/ready", {}, 200),
        ("GET", "/v2/models/nope", {}, 404),
        ("POST", "/v2/models/sleepy/infer", {"json": {"inputs": []}}, 400),
    ],
    ids=lambda v: str(v).replace("/", "_") if isinstance(v, str) else None,
)
def test_every_answer_carries_the_id(
    server: Server, method: str, path: str, kwargs: dict, status: int
) -> None:
    headers = {**kwargs.pop("headers", {}), "X-Request-ID": f"probe-{status}-{method}"}
    answer = requests.request(method, server.url + path, headers=headers, timeout=10, **kwargs)
    assert answer.status_code == status, answer.text
    assert answer.headers["X-Request-ID"] == f"probe-{status}-{method}"


def test_a_model_exception_is_logged_under_the_request_id(server: Server) -> None:
    answer = predict(server, -1, **{"X-Request-ID": "trace-model-error-1"})
    assert answer.status_code == 400
    incident = answer.json()["message"].split("incident ")[1].split(";")[0]
    line = log_line_with(server, f"incident {incident}")
    assert "request trace-model-error-1" in line and "negative input" in line


def test_a_server_fault_is_logged_under_the_request_id(server: Server) -> None:
    answer = predict(server, 99, **{"X-Request-ID": "trace-fault-1"})
    assert answer.status_code == 500
    incident = answer.json()["message"].split("incident ")[1].split(")")[0]
    assert "request trace-fault-1" in log_line_with(server, f"incident {incident}")


def test_the_json_access_log(tmp_path: Path, seed_model_dir: Path) -> None:
    with start_server(tmp_path, "-m", str(seed_model_dir), "--access-log-format", "json") as server:
        answer = requests.post(
            server.url + "/invocations?x=%22q",
            json=SEED_BODY,
            headers={"X-Request-ID": "json-log-1", "User-Agent": 'agent "quoted"'},
            timeout=10,
        )
        assert answer.status_code == 200
        record = json.loads(log_line_with(server, "json-log-1"))
        assert record["request_id"] == "json-log-1"
        assert record["method"] == "POST" and record["path"] == "/invocations?x=%22q"
        assert record["status"] == 200 and record["bytes"] == len(answer.content)
        assert record["protocol"] == "HTTP/1.1" and record["remote_addr"] == "127.0.0.1"
        assert record["user_agent"] == 'agent "quoted"'
        assert 0 < record["duration_s"] < 10 and isinstance(record["pid"], int)
        assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}\+00:00", record["time"])
        missing = requests.get(server.url + "/nowhere", timeout=10)
        record = json.loads(log_line_with(server, missing.headers["X-Request-ID"]))
        assert record["status"] == 404


@pytest.mark.parametrize(
    ("sent", "kept"),
    [
        ("abc", True),
        ("00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01", True),
        ("Root=1-67891233-abcdef012345678912345678", True),
        ("a" * MAX_REQUEST_ID_LENGTH, True),
        ("a" * (MAX_REQUEST_ID_LENGTH + 1), False),
        ("é", False),
        ("a\tb", False),
        ("a;b", False),
        (None, False),
    ],
    ids=[
        "plain",
        "traceparent",
        "aws",
        "longest",
        "too-long",
        "non-ascii",
        "tab",
        "semicolon",
        "none",
    ],
)
def test_which_ids_are_kept(sent: str | None, kept: bool) -> None:
    made = request_id_for(sent)
    assert (made == sent) is kept
    if not kept:
        assert GENERATED.fullmatch(made)
