"""The clients bench/hostile.py drives servers with: valid keep-alive clients that time every
request, connections that trickle their headers or body, and /proc readings of a worker."""

from __future__ import annotations

import collections
import contextlib
import http.client
import socket
import threading
import time
from pathlib import Path

MiB = 1024 * 1024

SEED_JSON = b'{"dataframe_split": {"columns": [0, 1, 2, 3], "data": [[0.1, -0.2, 0.3, -0.4]]}}'
JSON = "application/json"


def vm(pid: int, key: str) -> float:
    """A /proc/<pid>/status figure (VmRSS, VmHWM) in MiB."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(key + ":"):
            return int(line.split()[1]) / 1024
    raise RuntimeError(f"no {key} for {pid}")


def connect(port: int, timeout: float) -> http.client.HTTPConnection:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    conn.connect()  # ConnectionRefusedError here means nothing was sent
    conn.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    return conn


def post(conn: http.client.HTTPConnection, body: bytes, ctype: str = JSON) -> tuple[int, bytes]:
    conn.request("POST", "/invocations", body=body, headers={"Content-Type": ctype})
    resp = conn.getresponse()
    data = resp.read()
    if resp.will_close:
        conn.close()  # the next request reconnects (http.client does it on request)
    return resp.status, data


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))] if ordered else float("nan")


def valid_load(port: int, clients: int, seconds: float, timeout: float = 5.0) -> dict:
    """``clients`` keep-alive clients posting the seed row for ``seconds``: latencies (a timeout
    counts as ``timeout`` s) and failures."""
    latencies: list[float] = []
    failures = collections.Counter()
    until = time.monotonic() + seconds

    def client() -> None:
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
        while time.monotonic() < until:
            t0 = time.monotonic()
            try:
                status, _ = post(conn, SEED_JSON)
                latencies.append(time.monotonic() - t0)
                if status != 200:
                    failures[str(status)] += 1
            except TimeoutError:
                latencies.append(timeout)
                failures["timeout"] += 1
                conn.close()
            except OSError as e:
                failures[type(e).__name__] += 1
                conn.close()
        conn.close()

    threads = [threading.Thread(target=client, daemon=True) for _ in range(clients)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(seconds + timeout + 5)
    return {"n": len(latencies), "p50_ms": pct(latencies, 0.5) * 1000,
            "p99_ms": pct(latencies, 0.99) * 1000, "max_ms": max(latencies, default=0) * 1000,
            "failures": dict(failures)}  # fmt: skip


class Tricklers:
    """``heads`` connections trickling header bytes and ``bodies`` trickling body bytes, one byte
    per connection every ``every`` seconds, from one thread."""

    def __init__(self, port: int, heads: int, bodies: int, every: float) -> None:
        self.socks: list[socket.socket] = []
        for _ in range(heads):
            s = socket.create_connection(("127.0.0.1", port), timeout=5)
            s.sendall(b"POST /invocations HTTP/1.1\r\nHost: bench\r\n")
            self.socks.append(s)
        head = (b"POST /invocations HTTP/1.1\r\nHost: bench\r\nContent-Type: application/json\r\n"
                b"Content-Length: 100000\r\n\r\n")  # fmt: skip
        for _ in range(bodies):
            s = socket.create_connection(("127.0.0.1", port), timeout=5)
            s.sendall(head)
            self.socks.append(s)
        self.every, self.stopped = every, threading.Event()
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()

    def _run(self) -> None:
        while not self.stopped.wait(self.every):
            for s in self.socks:
                with contextlib.suppress(OSError):
                    s.send(b"x")

    def states(self) -> collections.Counter:
        """How each connection stands now: open (nothing received), closed, or answered."""
        seen: collections.Counter = collections.Counter()
        for s in self.socks:
            s.setblocking(False)
            try:
                data = s.recv(200)
                seen["closed by server" if not data else data.split(b"\r\n")[0].decode()] += 1
            except BlockingIOError:
                seen["still open"] += 1
            except OSError:
                seen["reset"] += 1
        return seen

    def stop(self) -> None:
        self.stopped.set()
        self.thread.join(10)
        for s in self.socks:
            s.close()
