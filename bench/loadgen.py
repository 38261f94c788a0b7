"""Drive a server with one payload at a fixed concurrency: wrk when installed, else Python threads.

Both tools keep connections alive and report the same figures: requests/s, p50/p99 latency and
errors (connection errors, timeouts and non-2xx answers). The Python client is a fallback: on a
small machine its threads compete with the server for the CPU (and the GIL), so its figures are a
floor, and the table says which tool produced them.
"""

from __future__ import annotations

import http.client
import json
import shutil
import socket
import subprocess
import threading
import time
from dataclasses import dataclass
from pathlib import Path

_WRK_SCRIPT = """
local f = assert(io.open("{body}", "rb"))
wrk.method = "POST"
wrk.body = f:read("*a")
f:close()
wrk.headers["Content-Type"] = "{content_type}"

done = function(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    'BENCH_RESULT {{"requests": %d, "duration_us": %d, "p50_us": %.1f, "p99_us": %.1f, '
    .. '"errors": %d}}\\n',
    summary.requests, summary.duration, latency:percentile(50), latency:percentile(99),
    e.connect + e.read + e.write + e.timeout + e.status))
end
"""


@dataclass(frozen=True)
class LoadResult:
    """What one timed run measured."""

    tool: str
    requests: int
    seconds: float
    p50_ms: float
    p99_ms: float
    errors: int

    @property
    def rps(self) -> float:
        return self.requests / self.seconds if self.seconds else 0.0


def wrk_available() -> bool:
    return shutil.which("wrk") is not None


def run_wrk(
    port: int,
    body: Path,
    content_type: str,
    concurrency: int,
    seconds: float,
    threads: int,
    path: str = "/invocations",
) -> LoadResult:
    """One wrk run; the Lua script posts ``body`` to ``path`` and prints the figures as one JSON
    line."""
    script = body.with_suffix(".lua")
    script.write_text(_WRK_SCRIPT.format(body=body, content_type=content_type))
    argv = [
        "wrk",
        f"-t{max(1, min(threads, concurrency))}",
        f"-c{concurrency}",
        f"-d{max(1, round(seconds))}s",
        "--timeout",
        "30s",
        "-s",
        str(script),
        f"http://127.0.0.1:{port}{path}",
    ]
    out = subprocess.run(argv, capture_output=True, text=True, timeout=seconds + 60, check=False)
    for line in out.stdout.splitlines():
        if line.startswith("BENCH_RESULT "):
            r = json.loads(line.removeprefix("BENCH_RESULT "))
            return LoadResult(
                "wrk",
                r["requests"],
                r["duration_us"] / 1e6,
                r["p50_us"] / 1000,
                r["p99_us"] / 1000,
                r["errors"],
            )
    raise RuntimeError(f"wrk failed ({out.returncode}): {out.stderr.strip()[-500:]}")


def run_python(
    port: int,
    body: bytes,
    content_type: str,
    concurrency: int,
    seconds: float,
    path: str = "/invocations",
) -> LoadResult:
    """Threads, one keep-alive ``http.client`` connection each, posting to ``path`` until the
    deadline."""
    latencies: list[list[float]] = [[] for _ in range(concurrency)]
    errors = [0] * concurrency
    headers = {"Content-Type": content_type}
    start_gate = threading.Barrier(concurrency + 1)
    deadline = [0.0]

    def connect() -> http.client.HTTPConnection:
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        conn.connect()
        conn.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        return conn

    def client(i: int) -> None:
        conn = connect()
        start_gate.wait()
        mine = latencies[i]
        while True:
            t0 = time.perf_counter()
            if t0 >= deadline[0]:
                break
            try:
                conn.request("POST", path, body=body, headers=headers)
                resp = conn.getresponse()
                resp.read()
                if resp.status >= 400:
                    errors[i] += 1
                if resp.will_close:
                    conn.close()
                    conn = connect()
            except OSError:
                errors[i] += 1
                conn.close()
                conn = connect()
                continue
            mine.append(time.perf_counter() - t0)
        conn.close()

    threads = [threading.Thread(target=client, args=(i,), daemon=True) for i in range(concurrency)]
    for t in threads:
        t.start()
    began = time.perf_counter()
    deadline[0] = began + seconds
    start_gate.wait()
    for t in threads:
        t.join(seconds + 60)
    elapsed = time.perf_counter() - began
    merged = sorted(x for per in latencies for x in per)

    def pct(q: float) -> float:
        return merged[min(len(merged) - 1, int(q * len(merged)))] * 1000 if merged else 0.0

    return LoadResult("python", len(merged), elapsed, pct(0.50), pct(0.99), sum(errors))
