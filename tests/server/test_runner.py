"""The production runner, through real ``python -m mlserve.server`` processes on 127.0.0.1:
the seed request, every route and error over HTTP, workers, signals, limits and deadlines."""

from __future__ import annotations

import concurrent.futures
import contextlib
import http.client
import io
import json
import os
import re
import signal
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import requests

import mlserve

from .helpers import (
    SEED_BODY,
    SEED_ROWS,
    Server,
    cli_command,
    memory,
    rss_bytes,
    server_env,
    start_server,
)

MiB = 1024 * 1024
ACCESS_LINE = re.compile(
    r'<(?P<pid>\d+)> 127\.0\.0\.1 "(?P<method>[A-Z]+) (?P<path>\S+) HTTP/1\.1" '
    r"(?P<status>\d{3}) (?P<size>\d+) (?P<seconds>\d+\.\d+)s"
)


@pytest.fixture(scope="module")
def seed_server(tmp_path_factory: pytest.TempPathFactory, registry: Path) -> Server:  # type: ignore[misc]
    """The seed scenario: ``models:/MyRandomForest/latest`` from a tracking store, 2 workers."""
    log_dir = tmp_path_factory.mktemp("seed-server")
    args = ("-m", "models:/MyRandomForest/latest", "--tracking-uri", str(registry), "-w", "2")
    with start_server(log_dir, *args) as server:
        yield server


def _expected(seed_model) -> list[int]:  # type: ignore[no-untyped-def]
    return seed_model.predict(np.array(SEED_ROWS)).tolist()


def _raw_request(url: str, head: bytes, body: bytes = b"") -> tuple[socket.socket, bytes]:
    """Send ``head`` and ``body`` on a new socket and read the first response (headers and a
    Content-Length body); returns the still-open socket and the raw response."""
    host, port = url.removeprefix("http://").split(":")
    sock = socket.create_connection((host, int(port)), timeout=10)
    sock.sendall(head + body)
    data = b""
    while b"\r\n\r\n" not in data:
        data += sock.recv(65536)
    headers, _, rest = data.partition(b"\r\n\r\n")
    length = int(re.search(rb"(?i)content-length: (\d+)", headers)[1])  # type: ignore[index]
    while len(rest) < length:
        rest += sock.recv(65536)
    return sock, headers + b"\r\n\r\n" + rest


def _status_and_json(raw: bytes) -> tuple[int, dict]:
    headers, _, body = raw.partition(b"\r\n\r\n")
    return int(headers.split()[1]), json.loads(body)


# -- the seed scenario and the routes -------------------------------------------------------


def test_seed_request(seed_server: Server, seed_model, registry: Path) -> None:  # type: ignore[no-untyped-def]
    response = requests.post(seed_server.url + "/invocations", json=SEED_BODY, timeout=10)
    assert response.status_code == 200
    assert response.headers["Content-Type"] == "application/json"
    assert response.json() == {"predictions": _expected(seed_model)}
    # the same answer as load_model(...).predict in process
    mlserve.set_tracking_uri(str(registry))
    try:
        model = mlserve.load_model("models:/MyRandomForest/latest")
    finally:
        mlserve.set_tracking_uri(None)
    frame = pd.DataFrame(SEED_ROWS, columns=[0, 1, 2, 3])
    assert response.json()["predictions"] == model.predict(frame).tolist()


def test_routes(seed_server: Server) -> None:
    url = seed_server.url
    assert requests.get(url + "/ping", timeout=10).content == b"\n"
    assert requests.get(url + "/health", timeout=10).content == b"\n"
    assert requests.get(url + "/version", timeout=10).text == mlserve.__version__
    meta = requests.get(url + "/metadata", timeout=10).json()
    assert meta["model_uri"] == "models:/MyRandomForest/latest"
    assert meta["run_id"] and meta["artifact_path"] == "random-forest-model"
    assert "sklearn" in meta["flavors"]


@pytest.mark.parametrize(
    ("method", "path", "headers", "body", "status", "code"),
    [
        ("GET", "/missing", {}, None, 404, "ENDPOINT_NOT_FOUND"),
        ("GET", "/invocations", {}, None, 405, "BAD_REQUEST"),
        ("POST", "/invocations", {"Content-Type": "text/plain"}, b"{}", 415, "BAD_REQUEST"),
        ("POST", "/invocations", {}, b"{}", 415, "BAD_REQUEST"),
        ("POST", "/invocations", {"Content-Type": "application/json"}, b"{", 400, "BAD_REQUEST"),
        (
            "POST",
            "/invocations",
            {"Content-Type": "application/json"},
            b'{"dataframe_split": {"columns": [0], "data": [["x"]]}}',
            400,
            "BAD_REQUEST",
        ),
    ],
    ids=["404", "405", "415-text", "415-missing", "400-json", "400-model-raises"],
)
def test_error_statuses(
    seed_server: Server,
    method: str,
    path: str,
    headers: dict[str, str],
    body: bytes | None,
    status: int,
    code: str,
) -> None:
    # requests adds no Content-Type of its own for raw bytes
    response = requests.request(
        method, seed_server.url + path, headers=headers, data=body, timeout=10
    )
    assert response.status_code == status
    assert response.headers["Content-Type"] == "application/json"
    payload = response.json()
    assert payload["error_code"] == code
    assert set(payload) == {"error_code", "message"}


_JSON_HEAD = b"POST /invocations HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"


@pytest.mark.parametrize(
    ("raw", "status", "code"),
    [
        (b"GARBAGE <script>\r\n\r\n", 400, "BAD_REQUEST"),
        (b"GET /" + b"a" * 9000 + b" HTTP/1.1\r\nHost: x\r\n\r\n", 414, "RESOURCE_EXHAUSTED"),
        (
            b"GET /ping HTTP/1.1\r\nHost: x\r\nX-A: " + b"a" * 9000 + b"\r\n\r\n",
            431,
            "RESOURCE_EXHAUSTED",
        ),
        (_JSON_HEAD + b"Content-Length: <script>\r\n\r\n{}", 400, "BAD_REQUEST"),
        # gunicorn's body reader raises its own parse error inside the app: once a 500
        (
            _JSON_HEAD + b"Transfer-Encoding: chunked\r\n\r\nZZ\r\n{}\r\n0\r\n\r\n",
            400,
            "BAD_REQUEST",
        ),
    ],
    ids=["request-line", "uri-too-long", "headers-too-large", "content-length", "bad-chunk"],
)
def test_malformed_http_gets_a_json_error(
    seed_server: Server, raw: bytes, status: int, code: str
) -> None:
    """What gunicorn refuses before the app sees it is JSON too (it writes HTML), never echoes
    the request, and a client's bad framing is never a 500."""
    sock, response = _raw_request(seed_server.url, raw)
    sock.close()
    got, payload = _status_and_json(response)
    assert (got, payload["error_code"]) == (status, code)
    assert b"Content-Type: application/json" in response
    assert "<script>" not in payload["message"] and "ZZ" not in payload["message"]


def _strict_json(response: requests.Response) -> object:
    """The body parsed by a parser that refuses NaN and Infinity (as browsers and Go do)."""

    def refuse(constant: str) -> None:
        raise AssertionError(f"not strict JSON: {constant}")

    assert response.headers["Content-Type"] == "application/json"
    return json.loads(response.content, parse_constant=refuse)


def test_string_pipeline_over_http(tmp_path: Path, text_pipeline) -> None:  # type: ignore[no-untyped-def]
    """A string-column sklearn Pipeline served for real: CSV with quoted commas, quotes and
    newlines, JSON records, Parquet and an Arrow stream all give the in-process predictions,
    and the /metadata example posts back."""
    import pyarrow as pa

    pipeline, frame, path = text_pipeline
    expected = {"predictions": pipeline.predict(frame).tolist()}
    arrow = pa.BufferOutputStream()
    table = pa.Table.from_pandas(frame, preserve_index=False)
    with pa.ipc.new_stream(arrow, table.schema) as writer:
        writer.write_table(table)
    parquet = io.BytesIO()
    frame.to_parquet(parquet, index=False)
    bodies = {
        "text/csv": frame.to_csv(index=False).encode(),
        "application/json": json.dumps({"dataframe_records": frame.to_dict("records")}).encode(),
        "application/vnd.apache.parquet": parquet.getvalue(),
        "application/vnd.apache.arrow.stream": arrow.getvalue().to_pybytes(),
    }
    assert b'"say ""hi"""' in bodies["text/csv"] and b'"london, uk"' in bodies["text/csv"]
    with start_server(tmp_path, "-m", str(path)) as server, requests.Session() as session:
        for content_type, body in bodies.items():
            response = session.post(
                server.url + "/invocations",
                data=body,
                headers={"Content-Type": content_type},
                timeout=10,
            )
            assert (content_type, _strict_json(response)) == (content_type, expected)
        example = session.get(server.url + "/metadata", timeout=10).json()["input_example"]
        response = session.post(server.url + "/invocations", json=example, timeout=10)
        assert _strict_json(response) == {"predictions": pipeline.predict(frame.head(3)).tolist()}


def test_every_output_kind_is_strict_json_and_params_reach_predict(
    tmp_path: Path, shapes_model_dir: Path
) -> None:
    """A PythonModel's DataFrame, dict, NaN/Infinity and datetime outputs over HTTP, chosen by
    params sent in the body (defaults filled from the signature)."""
    rows = {"dataframe_split": {"columns": ["v"], "data": [[1], [2.5]]}}
    cases = [
        ({"kind": "frame", "scale": 10}, [{"x": 10.0, "label": "a"}, {"x": 25.0, "label": "a"}]),
        ({"kind": "dict"}, {"a": [0, 1], "b": [None, None]}),
        ({"kind": "nan"}, [None, None, None, 1.5]),
        (
            {"kind": "datetime"},
            [
                {"t": "2024-01-01T00:00:00", "tz": "2024-01-01T00:00:00+00:00", "d": "2024-01-02"},
                {"t": "2024-01-01T01:00:00", "tz": "2024-01-01T01:00:00+00:00", "d": "2024-01-02"},
            ],
        ),
        ({"kind": "echo"}, {"params": {"kind": "echo", "scale": 2.0}}),
    ]
    with start_server(tmp_path, "-m", str(shapes_model_dir)) as server, requests.Session() as s:
        for params, predictions in cases:
            response = s.post(server.url + "/invocations", json={**rows, "params": params})
            assert _strict_json(response) == {"predictions": predictions}, params
        response = s.post(server.url + "/invocations", json=rows)  # every param defaulted
        assert _strict_json(response) == {
            "predictions": [{"x": 2.0, "label": "a"}, {"x": 5.0, "label": "a"}]
        }
        response = s.post(server.url + "/invocations", json={**rows, "params": {"scale": "x"}})
        assert response.status_code == 400
        assert _strict_json(response)["error_code"] == "INVALID_PARAMETER_VALUE"


def test_keep_alive(seed_server: Server) -> None:
    host, port = seed_server.url.removeprefix("http://").split(":")
    conn = http.client.HTTPConnection(host, int(port), timeout=10)
    body = json.dumps(SEED_BODY)
    sockets = []
    for _ in range(3):
        conn.request("POST", "/invocations", body, {"Content-Type": "application/json"})
        response = conn.getresponse()
        assert response.status == 200
        assert response.getheader("Connection") == "keep-alive"
        response.read()
        sockets.append(conn.sock)
    assert sockets[0] is not None and all(s is sockets[0] for s in sockets)
    conn.close()


def test_access_log(seed_server: Server) -> None:
    requests.get(seed_server.url + "/ping?probe=access-log", timeout=10)
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline:
        lines = [m for m in ACCESS_LINE.finditer(seed_server.log()) if "access-log" in m["path"]]
        if lines:
            break
        time.sleep(0.05)
    assert lines, seed_server.log()
    line = lines[0]
    assert (line["method"], line["status"]) == ("GET", "200")
    assert int(line["pid"]) in seed_server.workers()
    assert float(line["seconds"]) < 5


def test_two_workers_serve_concurrent_requests(seed_server: Server, seed_model) -> None:  # type: ignore[no-untyped-def]
    seed_server.wait_workers(2)

    def post(_: int) -> tuple[int, list[int]]:
        with requests.Session() as session:
            responses = [
                session.post(seed_server.url + "/invocations", json=SEED_BODY, timeout=20)
                for _ in range(5)
            ]
        return responses[-1].status_code, responses[-1].json()["predictions"]

    with concurrent.futures.ThreadPoolExecutor(16) as pool:
        results = list(pool.map(post, range(16)))
    assert results == [(200, _expected(seed_model))] * 16
    time.sleep(0.2)  # the access log is written after the response
    served_by = {
        int(m["pid"]) for m in ACCESS_LINE.finditer(seed_server.log()) if m["method"] == "POST"
    }
    assert set(seed_server.workers()) <= served_by  # both workers took requests


@pytest.mark.slow
def test_413_for_a_200_mib_body_without_reading_it(seed_server: Server) -> None:
    """200 MiB announced and streamed: answered 413 from the header; the workers' memory
    does not grow by anything like the body."""
    workers = seed_server.workers()
    before = sum(rss_bytes(pid) for pid in workers)
    head = (
        b"POST /invocations HTTP/1.1\r\nHost: test\r\nContent-Type: application/json\r\n"
        b"Content-Length: " + str(200 * MiB).encode() + b"\r\n\r\n"
    )
    chunk = b"1" * MiB  # the same MiB is sent over and over: the test holds no 200 MiB either
    sock, raw = _raw_request(seed_server.url, head, chunk)
    status, payload = _status_and_json(raw)
    assert status == 413
    assert payload["error_code"] == "RESOURCE_EXHAUSTED"
    sent = MiB
    try:
        while sent < 200 * MiB:
            sock.sendall(chunk)
            sent += MiB
    except OSError:
        pass  # the server closed the connection instead of swallowing 200 MiB: good
    finally:
        sock.close()
    after = sum(rss_bytes(pid) for pid in workers)
    assert after - before < 20 * MiB, (before, after, sent)
    assert requests.get(seed_server.url + "/ping", timeout=10).status_code == 200


# -- workers, signals -----------------------------------------------------------------------


@pytest.mark.slow
def test_workers_share_the_model_copy_on_write(tmp_path: Path, heavy_model_dir: Path) -> None:
    """The model is loaded once, before the fork: each of 2 workers maps the 64 MiB of weights
    but holds almost none of it privately, even after predicting."""
    with start_server(tmp_path, "-m", str(heavy_model_dir), "-w", "2") as server:
        workers = server.wait_workers(2)
        with requests.Session() as session:
            for _ in range(8):  # through both workers, most likely
                response = session.post(
                    server.url + "/invocations", json={"inputs": [[1.0]]}, timeout=10
                )
                assert response.json() == {"predictions": [8 * MiB]}
        for pid in workers:
            used = memory(pid)
            assert used["Rss"] > 64 * MiB, used  # the weights are mapped in the worker...
            assert used["Private_Dirty"] < 24 * MiB, used  # ...but not copied into it


def test_killed_worker_is_replaced_and_service_continues(
    tmp_path: Path, seed_model_dir: Path, seed_model
) -> None:  # type: ignore[no-untyped-def]
    with start_server(tmp_path, "-m", str(seed_model_dir), "-w", "2") as server:
        victim, survivor = server.wait_workers(2)
        os.kill(victim, signal.SIGKILL)
        for _ in range(10):  # served meanwhile, by the survivor or the replacement
            response = requests.post(server.url + "/invocations", json=SEED_BODY, timeout=10)
            assert response.json() == {"predictions": _expected(seed_model)}
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            pids = server.workers()
            if len(pids) == 2 and victim not in pids:
                break
            time.sleep(0.05)
        assert survivor in pids and victim not in pids and len(pids) == 2
        response = requests.post(server.url + "/invocations", json=SEED_BODY, timeout=10)
        assert response.status_code == 200


@pytest.mark.slow
@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT], ids=["SIGTERM", "SIGINT"])
def test_stop_signal_finishes_the_request_in_flight(
    tmp_path: Path, sleepy_model_dir: Path, sig: int
) -> None:
    with start_server(tmp_path, "-m", str(sleepy_model_dir)) as server:
        result: dict[str, requests.Response] = {}

        def slow() -> None:
            result["response"] = requests.post(
                server.url + "/invocations", json={"instances": [[1.5]]}, timeout=20
            )

        client = threading.Thread(target=slow)
        client.start()
        time.sleep(0.5)  # the request is in the model now
        server.proc.send_signal(sig)
        client.join(20)
        assert result["response"].status_code == 200
        assert result["response"].json() == {"predictions": [1.5]}
        assert server.proc.wait(20) == 0
        with pytest.raises(requests.ConnectionError):
            requests.get(server.url + "/ping", timeout=2)


# -- limits and deadlines -------------------------------------------------------------------


@pytest.mark.slow
def test_deadline_and_chunked_limit(tmp_path: Path, sleepy_model_dir: Path) -> None:
    args = ("-m", str(sleepy_model_dir), "-t", "0.5", "--max-body-size", "1MiB")
    with start_server(tmp_path, *args) as server:
        started = time.monotonic()
        response = requests.post(
            server.url + "/invocations", json={"instances": [[1.5]]}, timeout=20
        )
        assert response.status_code == 504
        assert response.json()["error_code"] == "DEADLINE_EXCEEDED"
        assert time.monotonic() - started < 1.4

        # a chunked body with no length is cut off at the limit
        def chunks():  # type: ignore[no-untyped-def]
            for _ in range(8):
                yield b"1" * MiB

        try:
            response = requests.post(
                server.url + "/invocations",
                data=chunks(),
                headers={"Content-Type": "application/json"},
                timeout=20,
            )
        except requests.ConnectionError:
            pytest.fail("the server dropped the connection instead of answering 413")
        assert response.status_code == 413
        assert response.json()["error_code"] == "RESOURCE_EXHAUSTED"

        # a client that stalls in the middle of its body cannot hold a thread past the deadline
        head = (
            b"POST /invocations HTTP/1.1\r\nHost: test\r\nContent-Type: application/json\r\n"
            b"Content-Length: 100\r\n\r\n"
        )
        started = time.monotonic()
        sock, raw = _raw_request(server.url, head, b'{"instances"')
        sock.close()
        status, payload = _status_and_json(raw)
        assert (status, payload["error_code"]) == (408, "DEADLINE_EXCEEDED")
        assert time.monotonic() - started < 1.4

        # nor can one that trickles its headers: the connection is closed at the deadline
        host, port = server.url.removeprefix("http://").split(":")
        started = time.monotonic()
        with socket.create_connection((host, int(port)), timeout=10) as slow:
            slow.sendall(b"POST /invocations HTTP/1.1\r\nHost: test\r\n")
            with contextlib.suppress(OSError):
                for _ in range(20):
                    time.sleep(0.1)
                    slow.sendall(b"X-Slow: 1\r\n")
            assert slow.recv(1024) == b""  # closed, no answer to a request never completed
        assert time.monotonic() - started < 2.5

        time.sleep(1.2)  # the abandoned prediction finishes in the background
        response = requests.post(server.url + "/invocations", json={"instances": [[0]]}, timeout=20)
        assert response.status_code == 200

        # a server fault: 500, an incident id and no detail for the client; the traceback is
        # in the log under the same id
        response = requests.post(server.url + "/invocations", json={"instances": [[99]]})
        assert (response.status_code, response.json()["error_code"]) == (500, "INTERNAL_ERROR")
        message = response.json()["message"]
        incident = re.search(r"incident ([0-9a-f]+)", message)[1]  # type: ignore[index]
        assert "Traceback" not in response.text and "object" not in message
        log = server.log()
        request_id = response.headers["X-Request-ID"]
        assert f"Internal error (incident {incident}, request {request_id})\nTraceback" in log


# -- start-up failures: one line, no traceback ----------------------------------------------


def _fails(tmp_path: Path, *args: str) -> str:
    if "-p" not in args:  # not the default 5000, which another server may hold
        args = (*args, "-p", "0")
    proc = subprocess.run(
        [sys.executable, "-m", "mlserve.server", *args],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        env=server_env(),
        timeout=60,
    )
    assert proc.returncode != 0
    lines = proc.stderr.strip().splitlines()
    assert "Traceback" not in proc.stderr
    assert len(lines) == 1, proc.stderr
    return lines[0]


@pytest.mark.slow
def test_startup_failures_are_one_line(tmp_path: Path, registry: Path) -> None:
    line = _fails(tmp_path, "-m", "models:/NoSuchModel/1", "--tracking-uri", str(registry))
    assert line.startswith("mlserve: error:") and "NoSuchModel" in line
    line = _fails(tmp_path, "-m", str(tmp_path / "nowhere"))
    assert line.startswith("mlserve: error:")
    broken = tmp_path / "broken"
    broken.mkdir()
    (broken / "MLmodel").write_text("flavors: [not, a, mapping\n")
    assert _fails(tmp_path, "-m", str(broken)).startswith("mlserve: error:")
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = str(taken.getsockname()[1])
        line = _fails(tmp_path, "-m", str(broken), "-p", port)
    assert "Cannot listen on 127.0.0.1:" + port in line
    usage = subprocess.run(
        [sys.executable, "-m", "mlserve.server"], capture_output=True, text=True, env=server_env()
    )
    assert usage.returncode == 2
    assert (
        usage.stderr.strip()
        .splitlines()[-1]
        .endswith("a model URI is required: -m URI or MLSERVE_MODEL_URI")
    )


@pytest.mark.slow
def test_mlserve_serve_configured_by_environment_and_stopped_at_once(
    tmp_path: Path, registry: Path, seed_model
) -> None:  # type: ignore[no-untyped-def]
    """``mlserve serve`` with every option from its ``MLSERVE_*`` variable, each seen to take
    effect; then SIGTERM with nothing in flight exits 0 within about a second."""
    with socket.socket() as probe:  # a free port for MLSERVE_PORT
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    env = server_env(
        MLSERVE_MODEL_URI="models:/MyRandomForest/latest",
        MLSERVE_TRACKING_URI=str(registry),
        MLSERVE_HOST="127.0.0.1",
        MLSERVE_PORT=str(port),
        MLSERVE_WORKERS="2",
        MLSERVE_THREADS="2",
        MLSERVE_TIMEOUT="7",
        MLSERVE_MAX_BODY_SIZE="1KiB",
        MLSERVE_KEEP_ALIVE="0",
        MLSERVE_GRACEFUL_TIMEOUT="3",
        MLSERVE_MAX_BATCH_SIZE="32",
        MLSERVE_MAX_BATCH_DELAY_MS="1",
        MLSERVE_LOG_LEVEL="debug",
        MLSERVE_ACCESS_LOG="false",
    )
    with start_server(tmp_path, env=env, command=cli_command("serve")) as server:
        assert server.url == f"http://127.0.0.1:{port}"
        response = requests.post(server.url + "/invocations", json=SEED_BODY, timeout=10)
        assert response.json() == {"predictions": _expected(seed_model)}
        assert response.headers["Connection"] == "close"  # keep-alive 0
        big = {"inputs": [[1.0, 2.0, 3.0, 4.0]] * 100}
        response = requests.post(server.url + "/invocations", json=big, timeout=10)
        assert response.status_code == 413 and "1024 bytes" in response.json()["message"]
        log = server.log()
        assert "2 worker(s) x 2 thread(s), timeout 7s, batches of up to 32 rows" in log
        assert "graceful_timeout: 3" in log and "[DEBUG]" in log
        assert not ACCESS_LINE.search(log)
        server.wait_workers(2)
        started = time.monotonic()
        assert server.stop() == 0
        assert time.monotonic() - started < 2.0, server.log()


def test_accepted_sockets_inherit_tcp_nodelay() -> None:
    """gunicorn sets TCP_NODELAY on its listener only; the runner relies on accepted sockets
    inheriting it (Linux and macOS do), so small responses never wait for a delayed ACK."""
    import logging

    from gunicorn.config import Config
    from gunicorn.sock import close_sockets, create_sockets

    cfg = Config()
    cfg.set("bind", ["127.0.0.1:0"])
    listeners = create_sockets(cfg, logging.getLogger("test"))
    try:
        listener = listeners[0].sock
        with socket.create_connection(listener.getsockname()[:2], timeout=5):
            accepted, _ = listener.accept()
            with accepted:
                assert accepted.getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY) != 0
    finally:
        close_sockets(listeners)


_WITHOUT_EXTRA = """
import sys
sys.modules["werkzeug"] = None  # as if the server extra were not installed
sys.modules["gunicorn"] = None
import argparse
from mlserve.cli import _serve as serve
serve.add_parser(argparse.ArgumentParser().add_subparsers())  # the CLI still builds
import runpy
sys.argv = ["mlserve.server", "-m", sys.argv[1], "-p", "0"]
runpy.run_module("mlserve.server", run_name="__main__")
"""


@pytest.mark.parametrize("dev", [False, True], ids=["gunicorn", "dev"])
def test_missing_server_extra_is_one_line_with_the_pip_command(
    tmp_path: Path, seed_model_dir: Path, dev: bool
) -> None:
    env = server_env(MLSERVE_DEV="true") if dev else server_env()
    proc = subprocess.run(
        [sys.executable, "-c", _WITHOUT_EXTRA, str(seed_model_dir)],
        capture_output=True,
        text=True,
        env=env,
        cwd=tmp_path,
        timeout=60,
    )
    assert proc.returncode == 1, proc.stderr
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1, proc.stderr
    assert lines[0].startswith("mlserve: error:")
    assert lines[0].endswith("pip install 'mlserve-core[server]'")
