"""The WSGI app in process, through werkzeug's test Client, with real saved models: every route,
and every error answered as ``{"error_code", "message"}`` JSON with its status."""

from __future__ import annotations

import concurrent.futures
import io
import json
import logging
import threading
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from werkzeug.test import Client, EnvironBuilder, run_wsgi_app
from werkzeug.wrappers import Response

import mlserve
from mlserve.server import create_app

from .helpers import SEED_BODY, SEED_ROWS


@pytest.fixture(scope="module")
def seed_client(seed_model_dir: Path) -> Client:
    return Client(create_app(mlserve.load_model(seed_model_dir), max_body_size=64 * 1024))


@pytest.fixture(scope="module")
def typed_client(typed_model_dir: Path) -> Client:
    return Client(create_app(mlserve.load_model(typed_model_dir)))


@pytest.fixture(scope="module")
def sleepy_app(sleepy_model_dir: Path):  # type: ignore[no-untyped-def]
    app = create_app(mlserve.load_model(sleepy_model_dir), timeout=0.3)
    yield app
    app.close()


def _error(response, status: int, code: str) -> str:  # type: ignore[no-untyped-def]
    assert response.status_code == status, response.get_data(as_text=True)
    assert response.mimetype == "application/json"
    body = json.loads(response.get_data())
    assert set(body) == {"error_code", "message"}
    assert body["error_code"] == code
    assert "Traceback" not in body["message"]
    return body["message"]


def test_seed_request(seed_client: Client, seed_model) -> None:  # type: ignore[no-untyped-def]
    response = seed_client.post("/invocations", json=SEED_BODY)
    assert response.status_code == 200
    assert response.mimetype == "application/json"
    expected = seed_model.predict(np.array(SEED_ROWS)).tolist()
    assert json.loads(response.get_data()) == {"predictions": expected}


def test_csv_request(seed_client: Client, seed_model) -> None:  # type: ignore[no-untyped-def]
    body = "0,1,2,3\n" + "\n".join(",".join(map(str, row)) for row in SEED_ROWS) + "\n"
    response = seed_client.post("/invocations", data=body, content_type="text/csv")
    assert response.status_code == 200, response.get_data(as_text=True)
    expected = seed_model.predict(np.array(SEED_ROWS)).tolist()
    assert json.loads(response.get_data()) == {"predictions": expected}


@pytest.mark.parametrize("path", ["/ping", "/health"], ids=["ping", "health"])
def test_liveness(seed_client: Client, path: str) -> None:
    response = seed_client.get(path)
    # MLflow's body, a bare newline; labelled as what it is, as /version is
    assert response.status_code == 200
    assert response.get_data() == b"\n"
    assert response.headers["Content-Type"] == "text/plain; charset=utf-8"


def test_version_is_the_bare_version_string(seed_client: Client) -> None:
    # as MLflow's /version: ScoringServerClient.get_version returns the body as it is
    response = seed_client.get("/version")
    assert response.get_data(as_text=True) == mlserve.__version__
    assert response.headers["Content-Type"] == "text/plain; charset=utf-8"


def test_metadata_of_a_typed_model(typed_client: Client, typed_model_dir: Path) -> None:
    meta = typed_client.get("/metadata").json
    saved = mlserve.load_model(typed_model_dir).metadata
    assert meta["model_uri"] == str(typed_model_dir.resolve())
    assert meta["model_uuid"] == saved.model_uuid
    assert set(meta["flavors"]) == {"python_function", "sklearn"}
    assert [c["name"] for c in meta["signature"]["inputs"]] == ["a", "b", "c", "d"]
    assert meta["signature"]["params"] is None
    assert meta["mlserve_version"] == mlserve.__version__
    # the example is a ready request body: posting it back works
    example = meta["input_example"]
    assert example["dataframe_split"]["columns"] == ["a", "b", "c", "d"]
    response = typed_client.post("/invocations", json=example)
    assert response.status_code == 200
    assert len(response.json["predictions"]) == 2


def test_metadata_without_signature(seed_client: Client) -> None:
    meta = seed_client.get("/metadata").json
    assert meta["signature"] is None
    assert meta["input_example"] is None


def test_head_is_allowed_on_get_routes(seed_client: Client) -> None:
    for path in ("/ping", "/health", "/version", "/metadata"):
        response = seed_client.head(path)
        assert response.status_code == 200
        assert response.data == b"", "HEAD answers with the headers only"
        assert int(response.headers["Content-Length"]) == len(seed_client.get(path).data)
        assert response.headers["Content-Type"] == seed_client.get(path).headers["Content-Type"]


# -- errors ---------------------------------------------------------------------------------


def test_unknown_path_is_404(seed_client: Client) -> None:
    message = _error(seed_client.get("/nope/<script>"), 404, "ENDPOINT_NOT_FOUND")
    assert "POST /invocations" in message
    assert "script" not in message  # the request path is not echoed


@pytest.mark.parametrize(
    ("method", "path", "allowed"),
    [
        ("GET", "/invocations", "POST, OPTIONS"),
        ("HEAD", "/invocations", "POST, OPTIONS"),
        ("POST", "/ping", "GET, HEAD, OPTIONS"),
        ("DELETE", "/metadata", "GET, HEAD, OPTIONS"),
        ("BREW", "/health", "GET, HEAD, OPTIONS"),
    ],
    ids=["get-invocations", "head-invocations", "post-ping", "delete-metadata", "unknown-method"],
)
def test_wrong_method_is_405(seed_client: Client, method: str, path: str, allowed: str) -> None:
    response = seed_client.open(path, method=method)
    assert response.headers["Allow"] == allowed
    if method == "HEAD":  # no body, the status and Allow still say it
        assert response.status_code == 405
        assert response.get_data() == b""
        return
    message = _error(response, 405, "BAD_REQUEST")
    assert allowed in message


@pytest.mark.parametrize(
    ("path", "allowed"),
    [("/invocations", "POST, OPTIONS"), ("/metadata", "GET, HEAD, OPTIONS")],
    ids=["invocations", "metadata"],
)
def test_options_lists_the_methods(seed_client: Client, path: str, allowed: str) -> None:
    response = seed_client.options(path)
    assert response.status_code == 204
    assert response.headers["Allow"] == allowed
    assert response.get_data() == b""
    assert "Content-Type" not in response.headers


def test_options_on_an_unknown_path_is_404(seed_client: Client) -> None:
    _error(seed_client.options("/nope"), 404, "ENDPOINT_NOT_FOUND")


@pytest.mark.parametrize(
    ("content_type", "body"),
    [
        (None, b"{}"),
        ("text/plain", b"{}"),
        ("application/xml", b"<a/>"),
    ],
    ids=["missing", "text-plain", "xml"],
)
def test_unsupported_content_type_is_415(
    seed_client: Client, content_type: str | None, body: bytes
) -> None:
    headers = {} if content_type is None else {"Content-Type": content_type}
    response = seed_client.post("/invocations", data=body, headers=headers)
    message = _error(response, 415, "BAD_REQUEST")
    assert "application/json" in message and "text/csv" in message


@pytest.mark.parametrize(
    ("content_type", "status", "fragment"),
    [
        ("application/json; charset=UTF-8", 200, None),
        # as MLflow's scoring server: the media type as written, charset=utf-8 and nothing else;
        # the message says which part of the header is refused
        ("Application/JSON", 415, "Supported: application/json"),
        ("application/json; charset=utf8", 415, "the only charset accepted is utf-8"),
        ("application/json; charset=latin-1", 415, "the only charset accepted is utf-8"),
        ("application/json; format=pandas-split", 415, "unknown parameter(s) 'format'"),
    ],
)
def test_content_type_is_read_as_mlflow_reads_it(
    seed_client: Client, content_type: str, status: int, fragment: str | None
) -> None:
    response = seed_client.post(
        "/invocations", data=json.dumps(SEED_BODY), headers={"Content-Type": content_type}
    )
    assert response.status_code == status
    if fragment is not None:
        assert fragment in _error(response, 415, "BAD_REQUEST")


@pytest.mark.parametrize(
    ("body", "code"),
    [
        (b"{not json", "BAD_REQUEST"),
        (b"", "BAD_REQUEST"),
        (b'{"dataframe_split": {}, "instances": []}', "BAD_REQUEST"),
        (b"[1, 2, 3]", "BAD_REQUEST"),
    ],
    ids=["malformed", "empty", "two-shapes", "bare-list"],
)
def test_bad_payload_is_400(seed_client: Client, body: bytes, code: str) -> None:
    response = seed_client.post("/invocations", data=body, content_type="application/json")
    message = _error(response, 400, code)
    assert "not json" not in message  # the body is never echoed


def test_schema_mismatch_is_400_invalid_parameter_value(typed_client: Client) -> None:
    body = {"dataframe_split": {"columns": ["a", "b"], "data": [[1.0, 2.0]]}}
    message = _error(typed_client.post("/invocations", json=body), 400, "INVALID_PARAMETER_VALUE")
    assert "'c'" in message and "'d'" in message


def test_params_for_a_model_without_params_are_ignored_and_logged(
    seed_client: Client, caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    # MLflow's server answers 200 and logs a warning: a client that sends extra params keeps
    # working against a model that declares none
    monkeypatch.setattr("mlserve.schema._params._LOGGED", set())
    plain = seed_client.post("/invocations", json=SEED_BODY)
    with caplog.at_level("WARNING", logger="mlserve.schema"):
        for params in ({"k": 1}, {"k": 2}, "k"):
            response = seed_client.post("/invocations", json={**SEED_BODY, "params": params})
            assert response.status_code == 200
            assert response.json == plain.json
    warnings = [r for r in caplog.records if "declares no params" in r.getMessage()]
    assert len(warnings) == 1  # once per cause, not once per request


def test_model_that_raises_is_400_with_its_error_type(sleepy_app) -> None:  # type: ignore[no-untyped-def]
    response = Client(sleepy_app).post("/invocations", json={"instances": [[-1]]})
    message = _error(response, 400, "BAD_REQUEST")
    assert "ValueError" in message and "incident" in message


def test_a_model_error_never_echoes_request_values(
    sleepy_app, caplog: pytest.LogCaptureFixture
) -> None:  # type: ignore[no-untyped-def]
    """No signature, so the string reaches the model, whose numpy conversion raises
    ``could not convert string to float: 'SECRET-PII-123'``: the client gets the exception
    type and an incident id (the message was sent back as it was); the log has the message."""
    with caplog.at_level(logging.WARNING, logger="mlserve.server"):
        response = Client(sleepy_app).post("/invocations", json={"instances": [["SECRET-PII-123"]]})
    message = _error(response, 400, "BAD_REQUEST")
    assert "SECRET" not in response.get_data(as_text=True)
    assert "ValueError" in message
    incident = message.split("incident ")[1].split(";")[0]
    assert any(
        incident in r.getMessage() and "SECRET-PII-123" in r.getMessage() for r in caplog.records
    )


def test_unexpected_fault_is_500_without_details(
    sleepy_app, caplog: pytest.LogCaptureFixture
) -> None:  # type: ignore[no-untyped-def]
    with caplog.at_level(logging.ERROR, logger="mlserve.server"):
        response = Client(sleepy_app).post("/invocations", json={"instances": [[99]]})
    message = _error(response, 500, "INTERNAL_ERROR")
    assert "object" not in message and "TypeError" not in message
    incident = message.split("incident ")[1].split(")")[0]
    assert any(incident in r.getMessage() and r.exc_info for r in caplog.records)


def test_slow_prediction_is_504(sleepy_app) -> None:  # type: ignore[no-untyped-def]
    started = time.monotonic()
    response = Client(sleepy_app).post("/invocations", json={"instances": [[1.0]]})
    assert time.monotonic() - started < 0.9
    message = _error(response, 504, "DEADLINE_EXCEEDED")
    assert "0.3 s" in message
    time.sleep(0.8)  # let the abandoned prediction finish before the next test
    fast = Client(sleepy_app).post("/invocations", json={"instances": [[0]]})
    assert fast.status_code == 200


def test_requests_whose_clients_timed_out_do_not_queue_for_the_model(
    sleepy_model_dir: Path,
) -> None:
    # the sleepy model is not thread-safe: its predictions take turns on a lock
    app = create_app(mlserve.load_model(sleepy_model_dir), timeout=0.3, threads=4)
    try:
        statuses: list[int] = []

        def slow() -> None:
            response = Client(app).post("/invocations", json={"instances": [[0.6]]})
            statuses.append(response.status_code)

        burst = [threading.Thread(target=slow) for _ in range(4)]
        for thread in burst:
            thread.start()
        for thread in burst:
            thread.join()
        assert statuses == [504] * 4
        # the first prediction holds the lock until ~0.6 s; the three behind it, whose clients
        # have their 504, give up instead of predicting one after another until ~2.4 s
        time.sleep(0.45)
        fast = Client(app).post("/invocations", json={"instances": [[0]]})
        assert fast.status_code == 200
    finally:
        app.close()


def _post_stream(app, stream, headers: dict[str, str]):  # type: ignore[no-untyped-def]
    """POST ``stream`` as the raw WSGI input (the test Client would read it first)."""
    environ = EnvironBuilder("/invocations", method="POST", headers=headers).get_environ()
    environ["wsgi.input"] = stream
    length = headers.get("Content-Length")
    if length is None:
        environ.pop("CONTENT_LENGTH", None)
        environ["wsgi.input_terminated"] = True  # as gunicorn sets it for a chunked body
    else:
        environ["CONTENT_LENGTH"] = length
    app_iter, status, response_headers = run_wsgi_app(app, environ)
    return Response(b"".join(app_iter), status=status, headers=response_headers)


def test_declared_body_over_the_limit_is_413_before_reading(seed_client: Client) -> None:
    class Unreadable(io.RawIOBase):
        def readinto(self, b):  # type: ignore[no-untyped-def]
            raise AssertionError("the body was read")

    headers = {"Content-Type": "application/json", "Content-Length": str(200 * 1024**2)}
    response = _post_stream(seed_client.application, Unreadable(), headers)
    message = _error(response, 413, "RESOURCE_EXHAUSTED")
    assert str(64 * 1024) in message


def test_streamed_body_over_the_limit_is_cut_off(seed_client: Client) -> None:
    class Endless(io.RawIOBase):
        served = 0

        def readable(self) -> bool:
            return True

        def readinto(self, b):  # type: ignore[no-untyped-def]
            b[:] = b"x" * len(b)
            self.served += len(b)
            return len(b)

    stream = Endless()
    response = _post_stream(
        seed_client.application, io.BufferedReader(stream), {"Content-Type": "application/json"}
    )
    _error(response, 413, "RESOURCE_EXHAUSTED")
    assert stream.served <= 64 * 1024 + 2 * io.DEFAULT_BUFFER_SIZE  # stopped at the limit


@pytest.mark.parametrize(
    ("options", "message"),
    [({"max_body_size": -1}, "max_body_size"), ({"timeout": -1}, "timeout")],
    ids=["negative-size", "negative-timeout"],
)
def test_create_app_rejects_bad_limits(seed_model_dir: Path, options: dict, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        create_app(mlserve.load_model(seed_model_dir), **options)


def test_batching_is_wired_for_batchable_models(seed_model_dir: Path, seed_model) -> None:  # type: ignore[no-untyped-def]
    app = create_app(mlserve.load_model(seed_model_dir), max_batch_size=64, threads=8)
    assert app.batcher is not None
    expected = seed_model.predict(np.array(SEED_ROWS)).tolist()

    def post(_: int) -> list[int]:
        return Client(app).post("/invocations", json=SEED_BODY).json["predictions"]

    with concurrent.futures.ThreadPoolExecutor(8) as pool:
        assert list(pool.map(post, range(32))) == [expected] * 32
    assert app.batcher.stats.requests == 32
    app.close()


def test_batching_is_off_for_models_that_do_not_declare_it(sleepy_model_dir: Path) -> None:
    app = create_app(mlserve.load_model(sleepy_model_dir), max_batch_size=64)
    assert app.batcher is None
    assert Client(app).post("/invocations", json={"instances": [[0]]}).status_code == 200
    app.close()


def test_params_are_checked_once_after_the_data_as_in_process(
    shapes_model_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The decoder hands the params on as sent; ``PyFuncModel.predict`` checks them, once, after
    the data (MLflow's order), so one mistake gets one answer over HTTP and in process."""
    from mlserve import pyfunc
    from mlserve.errors import InvalidParams, SchemaMismatch

    model = mlserve.load_model(shapes_model_dir)
    client = Client(create_app(model))
    calls: list[object] = []
    checked = pyfunc.enforce_params

    def counting(params, schema, *, strict=True):  # type: ignore[no-untyped-def]
        calls.append(params)
        return checked(params, schema, strict=strict)

    monkeypatch.setattr(pyfunc, "enforce_params", counting)
    ok = client.post("/invocations", json={"inputs": {"v": [1.0]}, "params": {"kind": "frame"}})
    assert ok.status_code == 200 and calls == [{"kind": "frame"}]

    both = {"dataframe_split": {"columns": ["w"], "data": [[1.0]]}, "params": {"scale": "x"}}
    with pytest.raises(SchemaMismatch) as in_process:
        model.predict(pd.DataFrame({"w": [1.0]}), {"scale": "x"})
    message = _error(client.post("/invocations", json=both), 400, "INVALID_PARAMETER_VALUE")
    assert message == str(in_process.value)

    with pytest.raises(InvalidParams) as bad_params:
        model.predict(pd.DataFrame({"v": [1.0]}), {"scale": "x"})
    body = {"inputs": {"v": [1.0]}, "params": {"scale": "x"}}
    message = _error(client.post("/invocations", json=body), 400, "INVALID_PARAMETER_VALUE")
    assert message == str(bad_params.value)
