"""What metrics cost: 1-row throughput at one connection with metrics on and off, and how long a
``GET /metrics`` takes on a 2-worker server under load.

The on/off servers run side by side and are driven in alternation (on, off, on, off, ...), so a
burst of load from the machine's other tenants hits both about equally; the figure quoted is the
median of each side's runs. On a shared machine the request rate swings by tens of percent from
run to run, far more than metrics cost, so each run also reads the server's own CPU time
(``schedstat``: nanoseconds on a CPU, summed over every thread of the parent and its workers) and
divides it by the requests served: what a request costs the server, whoever else runs.
The scrape is timed on a fresh connection, as Prometheus connects,
while the load tool keeps the server's threads busy: it includes waiting for a worker to take it.
"""

from __future__ import annotations

import contextlib
import http.client
import statistics
import sys
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

import processes

if TYPE_CHECKING:
    from run import Bench

MODEL = "lr20"
#: alternating runs per side
ROUNDS = 3
#: connections of the load during the scrapes (as the 1-row c=16 cases)
SCRAPE_LOAD = 16
SCRAPES = 20


@dataclass
class MetricsCost:
    """The runs of one metrics measurement."""

    model: str
    on_rps: list[float] = field(default_factory=list)
    off_rps: list[float] = field(default_factory=list)
    #: server CPU microseconds per request, per run
    on_cpu_us: list[float] = field(default_factory=list)
    off_cpu_us: list[float] = field(default_factory=list)
    load_rps: float = 0.0
    #: scrapes on the model's port (answered by a worker) and on --metrics-port (the parent)
    scrape_ms: list[float] = field(default_factory=list)
    port_scrape_ms: list[float] = field(default_factory=list)
    scrape_bytes: int = 0


def _start(bench: Bench, label: str, workers: int, *flags: str) -> processes.Server:
    port = processes.free_port()
    argv = [sys.executable, "-m", "mlserve.server", "-m", str(bench.dirs["ours", MODEL])]
    argv += ["-p", str(port), "-w", str(workers), *flags]
    log = bench.workdir / "logs" / f"metrics-{label}-{port}.log"
    log.parent.mkdir(exist_ok=True)
    server = processes.Server(f"ours {MODEL} {label}", argv, bench_env(), port, log, bench.workdir)
    bench.live.append(server)
    server.wait_ready(timeout=180)
    server.wait_workers(workers)
    return server


def bench_env() -> dict[str, str]:
    import os

    env = dict(os.environ)
    env.pop("MLSERVE_TRACKING_URI", None)
    return env


def _stop(bench: Bench, server: processes.Server) -> None:
    server.stop()
    bench.live.remove(server)


def _cpu_ns(server: processes.Server) -> int:
    """Nanoseconds the server's processes have spent on a CPU (``schedstat``'s first field)."""
    total = 0
    for pid in [server.proc.pid, *(p.pid for p in processes.descendants(server.proc.pid))]:
        # every thread's own line: the process's file counts its main thread only, and a
        # gthread worker serves requests on its pool's threads
        for task in Path(f"/proc/{pid}/task").glob("*/schedstat"):
            with contextlib.suppress(OSError, ValueError, IndexError):
                total += int(task.read_text().split()[0])
    return total


def _scrape(port: int) -> tuple[float, int]:
    started = time.perf_counter()
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    try:
        conn.request("GET", "/metrics")
        answer = conn.getresponse()
        body = answer.read()
        if answer.status != 200:
            raise RuntimeError(f"/metrics answered {answer.status}: {body[:200]!r}")
    finally:
        conn.close()
    return (time.perf_counter() - started) * 1000, len(body)


def run_metrics(bench: Bench) -> MetricsCost:
    """Measure both figures (the models and payloads must be prepared)."""
    cost = MetricsCost(MODEL)
    payload, path = bench.bodies[MODEL, "json", 1]
    on = _start(bench, "metrics-on", 1)
    off = _start(bench, "metrics-off", 1, "--no-metrics")
    try:
        for server in (on, off):  # warm both before timing either
            bench._load(server, payload, path, 1, 1.0)
        for _ in range(ROUNDS):
            for server, runs, cpu in (
                (on, cost.on_rps, cost.on_cpu_us),
                (off, cost.off_rps, cost.off_cpu_us),
            ):
                before = _cpu_ns(server)
                result = bench._load(server, payload, path, 1, bench.seconds)
                cpu.append((_cpu_ns(server) - before) / 1000 / max(result.requests, 1))
                runs.append(result.rps)
                bench.log(
                    f"  metrics {server.label}: {result.rps:,.1f} req/s c=1, "
                    f"{cpu[-1]:.0f} us server CPU per request"
                )
    finally:
        _stop(bench, on)
        _stop(bench, off)

    metrics_port = processes.free_port()
    two = _start(bench, "scrape-w2", 2, "--metrics-port", str(metrics_port))
    try:
        seconds = max(3.0, bench.seconds * 3)
        loaded: list = []
        load = threading.Thread(
            target=lambda: loaded.append(bench._load(two, payload, path, SCRAPE_LOAD, seconds))
        )
        load.start()
        time.sleep(0.5)  # the load is running
        for _ in range(SCRAPES):  # alternating, so both see the same load
            took, size = _scrape(two.port)
            cost.scrape_ms.append(took)
            cost.scrape_bytes = size
            time.sleep(0.025)
            cost.port_scrape_ms.append(_scrape(metrics_port)[0])
            time.sleep(0.025)
        load.join(seconds + 90)
        cost.load_rps = loaded[0].rps if loaded else 0.0
        bench.log(
            f"  scrape under load (w2, c={SCRAPE_LOAD}, {cost.load_rps:,.0f} req/s): p50 "
            f"{statistics.median(cost.scrape_ms):.1f} ms, max {max(cost.scrape_ms):.1f} ms; "
            f"--metrics-port p50 {statistics.median(cost.port_scrape_ms):.1f} ms, max "
            f"{max(cost.port_scrape_ms):.1f} ms"
        )
    finally:
        _stop(bench, two)
    return cost


def metrics_table(cost: MetricsCost) -> str:
    """The two figures as markdown."""
    on, off = statistics.median(cost.on_rps), statistics.median(cost.off_rps)
    cpu_on, cpu_off = statistics.median(cost.on_cpu_us), statistics.median(cost.off_cpu_us)
    ms = sorted(cost.scrape_ms)
    port = sorted(cost.port_scrape_ms)
    runs_on = ", ".join(f"{r:,.0f}" for r in cost.on_rps)
    runs_off = ", ".join(f"{r:,.0f}" for r in cost.off_rps)
    return "\n".join(
        [
            "| measure | metrics on | --no-metrics | on / off |",
            "|---|---|---|---|",
            f"| {cost.model} 1 row, c=1, w1: req/s (median of {len(cost.on_rps)} alternating "
            f"runs: on {runs_on}; off {runs_off}) | {on:,.0f} | {off:,.0f} | {on / off:.3f} |",
            f"| the same runs: server CPU per request, us (median; on "
            f"{', '.join(f'{c:.0f}' for c in cost.on_cpu_us)}; off "
            f"{', '.join(f'{c:.0f}' for c in cost.off_cpu_us)}) | {cpu_on:.0f} | {cpu_off:.0f} "
            f"| {cpu_on / cpu_off:.3f} |",
            "",
            f"GET /metrics on a 2-worker server under {cost.load_rps:,.0f} req/s "
            f"(1-row, c={SCRAPE_LOAD}), fresh connection each, {len(ms)} scrapes of "
            f"{cost.scrape_bytes:,} bytes per port, alternating: on the model's port p50 "
            f"{statistics.median(ms):.1f} ms, p90 {ms[int(0.9 * (len(ms) - 1))]:.1f} ms, max "
            f"{ms[-1]:.1f} ms; on --metrics-port (the parent) p50 "
            f"{statistics.median(port):.1f} ms, p90 {port[int(0.9 * (len(port) - 1))]:.1f} ms, "
            f"max {port[-1]:.1f} ms.",
        ]
    )
