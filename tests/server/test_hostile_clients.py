"""Hostile and unlucky clients against real ``python -m mlserve.server`` processes: slow
clients, large rejected bodies, stops under load, a replaced worker. Each test prints the figure
it measures (``pytest -s`` shows them)."""

from __future__ import annotations

import collections
import concurrent.futures
import contextlib
import gzip
import json
import os
import re
import signal
import socket
import threading
import time
from pathlib import Path

import pytest
import requests

from .helpers import SEED_BODY, Server, rss_bytes, start_server

MiB = 1024 * 1024
ACCESS_PID = re.compile(r'<(\d+)> 127\.0\.0\.1 "POST /invocations HTTP/1\.1" 200 ')
SEED_JSON = json.dumps(SEED_BODY).encode()


def _address(server: Server) -> tuple[str, int]:
    host, port = server.url.removeprefix("http://").split(":")
    return host, int(port)


def _post_head(length: int, *extra: str) -> bytes:
    lines = ["POST /invocations HTTP/1.1", "Host: test", "Content-Type: application/json",
             f"Content-Length: {length}", *extra]  # fmt: skip
    return ("\r\n".join(lines) + "\r\n\r\n").encode()


class _Tricklers:
    """``heads`` connections sending their headers and ``bodies`` sending their body, one byte
    per connection every ``every`` seconds, from one thread, until stopped."""

    def __init__(self, address: tuple[str, int], heads: int, bodies: int, every: float) -> None:
        self.socks: list[socket.socket] = []
        for _ in range(heads):
            sock = socket.create_connection(address, timeout=5)
            sock.sendall(b"POST /invocations HTTP/1.1\r\nHost: test\r\n")
            self.socks.append(sock)
        for _ in range(bodies):
            sock = socket.create_connection(address, timeout=5)
            sock.sendall(_post_head(100_000))
            self.socks.append(sock)
        self.every = every
        self.stopped = threading.Event()
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()

    def _run(self) -> None:
        while not self.stopped.wait(self.every):
            for sock in self.socks:
                with contextlib.suppress(OSError):
                    sock.send(b"X")

    def stop(self) -> None:
        self.stopped.set()
        self.thread.join()
        for sock in self.socks:
            sock.close()


@pytest.mark.slow
def test_fifty_slow_clients_leave_valid_clients_fast(tmp_path: Path, seed_model_dir: Path) -> None:
    """10 connections trickling their headers and 40 trickling a body, all within their limits,
    while 4 valid clients send requests for 5 s: the valid clients' p99 stays under a second.
    (Before, the slow ones held all 8 request threads and valid requests waited for --timeout.)"""
    with start_server(tmp_path, "-m", str(seed_model_dir), "-w", "2") as server:
        server.wait_workers(2)
        slow = _Tricklers(_address(server), heads=10, bodies=40, every=0.5)
        time.sleep(1.0)  # every slow connection has been accepted and has sent something
        latencies: list[float] = []
        until = time.monotonic() + 5.0

        def client() -> None:
            with requests.Session() as session:
                while time.monotonic() < until:
                    started = time.monotonic()
                    try:
                        response = session.post(
                            server.url + "/invocations", data=SEED_JSON, timeout=3,
                            headers={"Content-Type": "application/json"},
                        )  # fmt: skip
                        assert response.status_code == 200, response.text
                        latencies.append(time.monotonic() - started)
                    except requests.Timeout:
                        latencies.append(3.0)

        try:
            with concurrent.futures.ThreadPoolExecutor(4) as pool:
                for done in [pool.submit(client) for _ in range(4)]:
                    done.result()
        finally:
            slow.stop()
    latencies.sort()
    p99 = latencies[int(len(latencies) * 0.99)] if latencies else float("inf")
    print(f"\nvalid-client p99 with 50 slow connections: {p99 * 1000:.1f} ms "
          f"({len(latencies)} requests)")  # fmt: skip
    assert len(latencies) > 50
    assert p99 < 1.0


@pytest.mark.slow
def test_clients_slower_than_the_limits_are_cut_off(tmp_path: Path, seed_model_dir: Path) -> None:
    """--header-timeout 1 --min-body-rate 1K: headers trickled past 1 s are disconnected without
    an answer; a body that falls below the rate (after its allowance) gets 408."""
    args = ("-m", str(seed_model_dir), "--header-timeout", "1", "--min-body-rate", "1K")
    with start_server(tmp_path, *args) as server:
        address = _address(server)
        started = time.monotonic()
        with socket.create_connection(address, timeout=10) as head:
            head.sendall(b"POST /invocations HTTP/1.1\r\nHost: test\r\n")
            try:
                for _ in range(40):
                    time.sleep(0.1)
                    head.sendall(b"X")
                received = head.recv(1024)
            except OSError:
                received = b""
        assert received == b""
        assert time.monotonic() - started < 2.5

        started = time.monotonic()
        with socket.create_connection(address, timeout=10) as body:
            body.sendall(_post_head(100_000) + b"x" * 500)  # then nothing: below 1 KiB/s
            answer = body.recv(65536)
        assert answer.startswith(b"HTTP/1.1 408 "), answer
        assert b'"DEADLINE_EXCEEDED"' in answer
        # 1 s for the head, 1 s of allowance for the body and 0.5 s for its 500 bytes
        assert 2.0 < time.monotonic() - started < 4.0
        assert requests.post(server.url + "/invocations", json=SEED_BODY).status_code == 200


@pytest.mark.slow
@pytest.mark.parametrize(
    ("header_timeout", "extra"),
    [(1, ()), (2, ("--no-preload",))],
    ids=["preloaded-header-timeout-1", "loaded-in-each-worker-header-timeout-2"],
)
def test_the_workers_apply_the_read_policy_the_server_was_started_with(
    tmp_path: Path, seed_model_dir: Path, header_timeout: int, extra: tuple[str, ...]
) -> None:
    """Bodies that stall after 500 bytes, on two workers at once, are answered 408 when this
    server's own options say: the head's --header-timeout, as much again for the body plus
    0.5 s for its 500 bytes at --min-body-rate 1K (the policy reaches each worker on gunicorn's
    application object; a worker with another policy would answer at another time)."""
    args = ("-m", str(seed_model_dir), "-w", "2", "--header-timeout", str(header_timeout),
            "--min-body-rate", "1K", *extra)  # fmt: skip
    expected = 2 * header_timeout + 500 / 1024
    with start_server(tmp_path, *args) as server:
        server.wait_workers(2)
        address = _address(server)

        def stalled() -> tuple[bytes, float]:
            started = time.monotonic()
            with socket.create_connection(address, timeout=expected + 10) as body:
                body.sendall(_post_head(100_000) + b"x" * 500)  # then nothing
                answer = body.recv(65536)
            return answer, time.monotonic() - started

        with concurrent.futures.ThreadPoolExecutor(4) as pool:
            answers = [done.result() for done in [pool.submit(stalled) for _ in range(4)]]
        assert requests.post(server.url + "/invocations", json=SEED_BODY).status_code == 200
    for answer, took in answers:
        assert answer.startswith(b"HTTP/1.1 408 "), answer
        assert b'"DEADLINE_EXCEEDED"' in answer
        assert expected - 0.2 < took < expected + 1.5, (took, expected)


@pytest.mark.slow
def test_rejected_large_bodies_are_freed(tmp_path: Path, sleepy_model_dir: Path) -> None:
    """20 invalid 95 MB bodies, one after the other: each is answered 400 and freed with its
    answer, so the worker does not grow by a body per request (it grew to 888 MB: a cycle
    through the prediction pool's future kept every body until a full collection)."""
    body = b"{" + b" " * (95 * MiB) + b"x}"
    with start_server(tmp_path, "-m", str(sleepy_model_dir), "--no-access-log") as server:
        (worker,) = server.wait_workers(1)
        before = rss_bytes(worker)
        with requests.Session() as session:
            for _ in range(20):
                response = session.post(
                    server.url + "/invocations", data=body, timeout=60,
                    headers={"Content-Type": "application/json"},
                )  # fmt: skip
                assert response.status_code == 400, response.text
        time.sleep(1.5)  # past the idle trim
        after = rss_bytes(worker)
    print(f"\nworker RSS before {before / MiB:.0f} MiB, after 20 rejected 95 MB bodies "
          f"{after / MiB:.0f} MiB")  # fmt: skip
    assert after - before < 250 * MiB


def _post_once(address: tuple[str, int]) -> str:
    """One POST on a new connection: "ok", "refused" (nothing was sent), or "lost" (the
    connection was accepted and the request sent, but no answer came)."""
    try:
        sock = socket.create_connection(address, timeout=5)
    except ConnectionRefusedError:
        return "refused"
    with sock:
        try:
            sock.sendall(_post_head(len(SEED_JSON), "Connection: close") + SEED_JSON)
            data = b""
            while chunk := sock.recv(65536):
                data += chunk
        except OSError:
            return "lost"
    return "ok" if data.startswith(b"HTTP/1.1 200 ") else "lost"


@pytest.mark.slow
def test_stops_under_load_lose_no_request(tmp_path: Path, seed_model_dir: Path) -> None:
    """Three SIGTERMs, each while 8 clients post on new connections as fast as they can: every
    request is answered 200 or refused at connect (safe to retry elsewhere); none is accepted
    and then dropped (7-9 were reset per stop while workers drained with the listener open)."""
    outcomes: collections.Counter[str] = collections.Counter()
    for stop in range(3):
        with start_server(tmp_path / str(stop), "-m", str(seed_model_dir), "-w", "2") as server:
            server.wait_workers(2)
            address = _address(server)
            done = threading.Event()

            def client(done: threading.Event, address: tuple[str, int]) -> None:
                while not done.is_set():
                    outcome = _post_once(address)
                    outcomes[outcome] += 1
                    if outcome == "refused":
                        return  # the server stopped listening: this instance is gone

            with concurrent.futures.ThreadPoolExecutor(8) as pool:
                clients = [pool.submit(client, done, address) for _ in range(8)]
                time.sleep(1.0)
                assert server.stop(signal.SIGTERM) == 0
                done.set()
                for each in clients:
                    each.result()
    print(f"\nacross 3 SIGTERMs under load: {dict(outcomes)}")
    assert outcomes["ok"] > 100, dict(outcomes)
    assert outcomes["lost"] == 0, dict(outcomes)


@pytest.mark.slow
def test_a_replacement_worker_gets_its_share_within_seconds(
    tmp_path: Path, seed_model_dir: Path
) -> None:
    """16 keep-alive clients on 2 workers; one worker is killed. Between 3 and 5 s after its
    replacement starts, the replacement serves a real share of the requests (it served none for
    15 s: every keep-alive client had moved to the survivor). An even split is not promised:
    reconnecting clients go to whichever worker has a free thread, and the share measured here
    ran from 21 % to 60 %, so the bar is 15 %."""
    with start_server(tmp_path, "-m", str(seed_model_dir), "-w", "2") as server:
        first = server.wait_workers(2)
        until = [time.monotonic() + 60.0]

        def client() -> None:
            with requests.Session() as session:
                while time.monotonic() < until[0]:
                    try:
                        response = session.post(server.url + "/invocations", json=SEED_BODY)
                    # on the killed worker: reconnect; SIGKILL can land between the head and
                    # the body of an answer, which requests reports as a broken chunked body
                    except (requests.ConnectionError, requests.exceptions.ChunkedEncodingError):
                        continue
                    assert response.status_code == 200

        with concurrent.futures.ThreadPoolExecutor(16) as pool:
            clients = [pool.submit(client) for _ in range(16)]
            time.sleep(1.0)
            os.kill(first[0], signal.SIGKILL)
            deadline = time.monotonic() + 10
            while time.monotonic() < deadline:
                workers = server.workers()
                new = set(workers) - set(first)
                if len(workers) == 2 and new:
                    break
                time.sleep(0.02)
            (replacement,) = new
            time.sleep(3.0)
            start = len(server.log())
            time.sleep(2.0)
            window = server.log()[start:]
            until[0] = 0.0
            for each in clients:
                each.result()
    served = collections.Counter(int(pid) for pid in ACCESS_PID.findall(window))
    share = served[replacement] / max(sum(served.values()), 1)
    print(f"\nreplacement worker's share 3-5 s after it started: {share:.0%} of "
          f"{sum(served.values())} requests")  # fmt: skip
    assert share >= 0.15


def test_a_compressed_transfer_coding_is_501(tmp_path: Path, seed_model_dir: Path) -> None:
    """``Transfer-Encoding: gzip, chunked``: gunicorn frames the chunks but does not decode
    gzip; the answer is 501 NOT_IMPLEMENTED as documented (the compressed bytes were decoded
    as if they were the JSON body), and the connection closes."""
    compressed = gzip.compress(SEED_JSON)
    body = b"%x\r\n%s\r\n0\r\n\r\n" % (len(compressed), compressed)
    head = (
        b"POST /invocations HTTP/1.1\r\nHost: test\r\nContent-Type: application/json\r\n"
        b"Transfer-Encoding: gzip, chunked\r\n\r\n"
    )
    with (
        start_server(tmp_path, "-m", str(seed_model_dir)) as server,
        socket.create_connection(_address(server), timeout=10) as sock,
    ):
        sock.sendall(head + body)
        answer = b""
        while chunk := sock.recv(65536):
            answer += chunk
    headers, _, payload = answer.partition(b"\r\n\r\n")
    assert headers.startswith(b"HTTP/1.1 501 "), answer
    assert json.loads(payload)["error_code"] == "NOT_IMPLEMENTED"
    assert b"connection: close" in headers.lower()
