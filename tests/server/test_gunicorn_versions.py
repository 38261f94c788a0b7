"""Where gunicorn 26 and 27 differ under the worker (``GTHREAD_26`` in mlserve/server/_worker.py),
through real ``python -m mlserve.server`` processes: the same answers on both. CI runs this file
under gunicorn 26.2.0 as well as 27 (.ci/run); without the worker's 26-only code, the pipelined
request below waited unanswered and the stop below took the whole --keep-alive."""

from __future__ import annotations

import json
import signal
import socket
import time
from pathlib import Path
from typing import BinaryIO

import pytest

from mlserve.server._worker import STOP_LINGER

from .helpers import SEED_BODY, start_server

pytestmark = pytest.mark.slow

_BODY = json.dumps(SEED_BODY).encode()
_REQUEST = (
    b"POST /invocations HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
    b"Content-Length: " + str(len(_BODY)).encode() + b"\r\n\r\n" + _BODY
)


def _read_response(stream: BinaryIO) -> tuple[int, dict[str, str], bytes]:
    """One HTTP/1.1 response with a Content-Length: status, headers (lower-case), body."""
    status = int(stream.readline().split()[1])
    headers = {}
    while (line := stream.readline()) not in (b"\r\n", b""):
        name, _, value = line.decode("latin-1").partition(":")
        headers[name.strip().lower()] = value.strip()
    return status, headers, stream.read(int(headers["content-length"]))


def _address(url: str) -> tuple[str, int]:
    host, port = url.removeprefix("http://").split(":")
    return host, int(port)


def test_pipelined_requests_are_all_answered(tmp_path: Path, seed_model_dir: Path) -> None:
    """Three requests sent in one write on one connection get three answers at once (gthread
    26 left the requests read ahead in its parser's buffer waiting for the socket to become
    readable again, which it never did: the second answer never came)."""
    with (
        start_server(tmp_path, "-m", str(seed_model_dir), "--keep-alive", "30") as server,
        socket.create_connection(_address(server.url), timeout=5) as sock,
    ):
        sock.sendall(_REQUEST * 3)
        stream = sock.makefile("rb")
        answers = [_read_response(stream) for _ in range(3)]
    assert [status for status, _, _ in answers] == [200, 200, 200]
    assert all(json.loads(body) == {"predictions": [0, 1]} for _, _, body in answers)


def test_a_stop_keeps_idle_kept_alive_connections_only_briefly(
    tmp_path: Path, seed_model_dir: Path
) -> None:
    """SIGTERM with a client's kept-alive connection idle: a request it sends during the drain
    is answered with ``Connection: close``, and the server exits STOP_LINGER (2 s) into the
    drain, not after the connection's --keep-alive (30 s here; gthread 26's own drain waited
    for it)."""
    with (
        start_server(tmp_path, "-m", str(seed_model_dir), "--keep-alive", "30") as server,
        socket.create_connection(_address(server.url), timeout=10) as sock,
    ):
        stream = sock.makefile("rb")
        sock.sendall(_REQUEST)
        status, headers, _ = _read_response(stream)
        assert (status, headers["connection"]) == (200, "keep-alive")

        stopped = time.monotonic()
        server.proc.send_signal(signal.SIGTERM)
        time.sleep(0.5)  # the worker is draining now
        sock.sendall(_REQUEST)
        status, headers, body = _read_response(stream)
        assert (status, headers["connection"]) == (200, "close")
        assert json.loads(body) == {"predictions": [0, 1]}

        assert server.proc.wait(STOP_LINGER + 8) == 0
        took = time.monotonic() - stopped
    assert took < STOP_LINGER + 3, f"the stop took {took:.1f} s"


def test_an_idle_kept_alive_connection_does_not_hold_a_stop(
    tmp_path: Path, seed_model_dir: Path
) -> None:
    """The same stop with the client silent: the connection is closed by the worker about
    STOP_LINGER into the drain and the server exits then."""
    with (
        start_server(tmp_path, "-m", str(seed_model_dir), "--keep-alive", "30") as server,
        socket.create_connection(_address(server.url), timeout=10) as sock,
    ):
        stream = sock.makefile("rb")
        sock.sendall(_REQUEST)
        assert _read_response(stream)[0] == 200
        stopped = time.monotonic()
        server.proc.send_signal(signal.SIGTERM)
        assert stream.read() == b""  # closed by the server, nothing more sent
        closed = time.monotonic() - stopped
        assert server.proc.wait(10) == 0
        took = time.monotonic() - stopped
    assert closed < STOP_LINGER + 1.5, f"closed {closed:.1f} s into the stop"
    assert took < STOP_LINGER + 3, f"the stop took {took:.1f} s"
