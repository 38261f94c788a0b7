"""Hostile clients against real ``python -m mlserve.server`` processes: issue 15's five figures,
from one run each, in about two minutes.

1. slow: valid-client latency while 50 connections trickle (10 send a request line, then a
   header byte every 2 s; 40 send their headers, then a body byte every 2 s), `-w 2`, defaults;
2. wide: the time to answer a one-row CSV of 10,000 columns (4 declared, the rest not);
3. memory: a worker's RSS around 20 rejected ~95 MiB bodies, and what a valid ~95 MiB JSON body
   gets under the default --max-request-memory (status, time, the worker's peak growth);
4. stops: what clients see across 3 SIGTERMs of a server under load, restarted on the same port
   each time; clients retry nothing;
5. respread: the share of requests a replacement worker serves after one of 2 workers is killed
   with SIGKILL under 16 keep-alive clients (counted by worker pid from the access log), with the
   replacement started at once and --late s late (the parent paused meanwhile).

To measure another tree with the same script, put it first on the path:
``PYTHONPATH=/path/to/old/checkout python bench/hostile.py``.

Servers listen on 127.0.0.1, are started in their own session and stopped by pid (SIGTERM, then
SIGKILL for anything left of their tree). Every wait has a deadline, and the whole run is bounded
by --budget. See bench/README.md ("Hostile clients").
"""

from __future__ import annotations

import argparse
import collections
import http.client
import importlib.util
import json
import os
import re
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import processes
from hostile_clients import SEED_JSON, Tricklers, connect, post, valid_load, vm

MiB = 1024 * 1024
ACCESS_PID = re.compile(rb'<(\d+)> 127\.0\.0\.1 "POST /invocations HTTP/1\.1" 200 ')


def build_models(workdir: Path) -> tuple[Path, Path]:
    """The seed RandomForest saved twice: as the seed scenario does (no signature), and with a
    named-column input example (a,b,c,d: a column signature, so undeclared columns exist)."""
    import pandas as pd
    from sklearn.datasets import make_classification
    from sklearn.ensemble import RandomForestClassifier

    import mlserve

    X, y = make_classification(n_samples=100, n_features=4, random_state=42)
    model = RandomForestClassifier(random_state=42).fit(X, y)
    models = Path(tempfile.mkdtemp(prefix="models-", dir=workdir))
    seed, typed = models / "seed", models / "typed"
    mlserve.save_model(model, seed)
    mlserve.save_model(model, typed, input_example=pd.DataFrame(X[:2], columns=list("abcd")))
    return seed, typed


class Servers:
    """Starts servers for the run and stops every one of them, whatever happens."""

    def __init__(self, workdir: Path) -> None:
        self.workdir, self.started = workdir, []
        self.env = {k: v for k, v in os.environ.items() if not k.startswith("MLSERVE_")}

    def start(
        self, tag: str, model: Path, *args: str, port: int = 0, **env: str
    ) -> processes.Server:
        port = port or processes.free_port()
        argv = [sys.executable, "-m", "mlserve.server", "-m", str(model), "-p", str(port), *args]
        log = self.workdir / f"{tag}-{len(self.started)}.log"
        server = processes.Server(tag, argv, self.env | env, port, log, cwd=self.workdir)
        self.started.append(server)
        server.wait_ready(90)
        return server

    def stop_all(self) -> None:
        for server in self.started:
            server.stop(grace=10)


def slow_clients(servers: Servers, seed: Path, every: float) -> dict:
    server = servers.start("slow", seed, "-w", "2")
    server.wait_workers(2)
    quiet = valid_load(server.port, 4, 3.0)
    slow = Tricklers(server.port, heads=10, bodies=40, every=every)
    try:
        time.sleep(1.0)  # every slow connection accepted and trickling
        loaded = valid_load(server.port, 4, 6.0)
        states = slow.states()
    finally:
        slow.stop()
    return {"quiet": quiet, "with_50_slow": loaded, "slow_connections_after_7s": dict(states)}


def wide_csv(servers: Servers, seed: Path, typed: Path) -> dict:
    """A one-row CSV of 10,000 columns (a,b,c,d and 9,996 undeclared) against the typed model,
    the same width against the seed model (no signature: all columns reach it), and 200,000."""

    def csv(names: list[str]) -> bytes:
        return (",".join(names) + "\n" + ",".join(["0.5"] * len(names)) + "\n").encode()

    bodies = {
        "typed, 4 columns": (typed, csv(list("abcd"))),
        "typed, 10,000 columns": (typed, csv([*"abcd", *(f"x{i}" for i in range(9_996))])),
        "typed, 200,000 columns": (typed, csv([*"abcd", *(f"x{i}" for i in range(199_996))])),
        "seed (no signature), 10,000 columns": (seed, csv([f"c{i}" for i in range(10_000)])),
    }
    out: dict = {}
    running = {m: servers.start(f"wide-{m.name}", m, "-w", "1") for m in (typed, seed)}
    for label, (model, body) in bodies.items():
        conn = connect(running[model].port, 60)
        times, statuses = [], collections.Counter()
        for _ in range(7):
            t0 = time.perf_counter()
            status, data = post(conn, body, "text/csv")
            times.append(time.perf_counter() - t0)
            statuses[status] += 1
        conn.close()
        message = "" if status == 200 else json.loads(data).get("message", "")[:90]
        out[label] = {"bytes": len(body), "median_ms": statistics.median(times) * 1000,
                      "max_ms": max(times) * 1000, "status": dict(statuses),
                      "last_error": message}  # fmt: skip
    return out


def memory(servers: Servers, typed: Path) -> dict:
    """20 invalid ~95 MiB bodies, then a valid ~95 MiB JSON body of float rows, to one worker.
    MLSERVE_MAX_ROWS=0 so that the memory limit (default 512MiB), not the row limit, answers it
    (set in the environment, which a server older than the limits ignores)."""
    server = servers.start("memory", typed, "-w", "1", "--no-access-log", MLSERVE_MAX_ROWS="0")
    (worker,) = server.wait_workers(1)
    pid = worker.pid
    invalid = b"{" + b" " * (95 * MiB) + b"x}"
    before = vm(pid, "VmRSS")
    Path(f"/proc/{pid}/clear_refs").write_text("5")  # reset the peak (VmHWM)
    conn = connect(server.port, 60)
    statuses = collections.Counter()
    t0 = time.perf_counter()
    for _ in range(20):
        statuses[post(conn, invalid)[0]] += 1
    invalid_s = time.perf_counter() - t0
    right_after, peak = vm(pid, "VmRSS"), vm(pid, "VmHWM")
    time.sleep(1.5)  # past the worker's 1 s idle trim
    after = vm(pid, "VmRSS")
    del invalid
    row = json.dumps([0.123456789012, -1.5, 3.25, 0.001])
    rows = ",".join([row] * (95 * MiB // (len(row) + 1)))
    valid = (
        '{"dataframe_split": {"columns": ["a", "b", "c", "d"], "data": [' + rows + "]}}"
    ).encode()
    del rows
    time.sleep(1.5)
    base = vm(pid, "VmRSS")
    Path(f"/proc/{pid}/clear_refs").write_text("5")
    t0 = time.perf_counter()
    status, data = post(conn, valid)
    valid_s = time.perf_counter() - t0
    valid_peak = vm(pid, "VmHWM")
    conn.close()
    return {
        "invalid": {"count": 20, "body_mib": 95, "statuses": dict(statuses),
                    "seconds_for_20": invalid_s, "rss_before_mib": before,
                    "rss_right_after_mib": right_after, "rss_1_5s_after_mib": after,
                    "peak_mib": peak},
        "valid_json": {"body_mib": len(valid) / MiB, "status": status, "seconds": valid_s,
                       "error": json.loads(data).get("message", "")[:120] if status != 200 else "",
                       "rss_before_mib": base, "peak_growth_mib": valid_peak - base},
    }  # fmt: skip


def stops(servers: Servers, seed: Path, count: int = 3, load_s: float = 1.5) -> dict:
    """8 clients (4 opening a connection per request, 4 keep-alive) posting without retrying,
    while the server on one port is started, loaded, SIGTERMed, and started again."""
    port = processes.free_port()
    seen = {"new": collections.Counter(), "keep-alive": collections.Counter()}
    done = threading.Event()

    def client(kind: str) -> None:
        tally, conn = seen[kind], None
        while not done.is_set():
            try:
                if conn is None or conn.sock is None:
                    conn = connect(port, 10)
            except ConnectionRefusedError:
                tally["refused at connect"] += 1
                conn = None
                time.sleep(0.005)
                continue
            except OSError as e:
                tally[f"connect {type(e).__name__}"] += 1
                conn = None
                continue
            try:
                status, _ = post(conn, SEED_JSON)
                tally["200" if status == 200 else f"HTTP {status}"] += 1
            except OSError as e:  # sent, then reset / closed / timed out: a lost request
                tally[f"lost: {type(e).__name__}"] += 1
                conn.close()
            if kind == "new":
                conn.close()

    threads = [threading.Thread(target=client, args=(k,), daemon=True)
               for k in ("new",) * 4 + ("keep-alive",) * 4]  # fmt: skip
    exits = []
    for i in range(count):
        server = servers.start("stops", seed, "-w", "2", port=port)
        server.wait_workers(2, timeout=30)
        if i == 0:
            for t in threads:
                t.start()
        time.sleep(load_s)
        server.remember_tree()
        t0 = time.perf_counter()
        server.proc.send_signal(signal.SIGTERM)
        try:
            code = server.proc.wait(40)
        except subprocess.TimeoutExpired:
            code = None
        exits.append({"exit": code, "stop_s": round(time.perf_counter() - t0, 2)})
        server.stop(grace=5)  # SIGKILL by pid whatever of its tree outlived the stop
    done.set()
    for t in threads:
        t.join(15)
    lost = sum(v for c in seen.values() for k, v in c.items() if k.startswith("lost"))
    return {"lost": lost, "clients": {k: dict(v) for k, v in seen.items()}, "stops": exits}


def respread(servers: Servers, seed: Path, late: float, clients: int = 16) -> dict:
    """16 keep-alive clients on 2 workers; one worker is killed with SIGKILL. With ``late`` > 0
    the server's parent is stopped (SIGSTOP) from just before the kill until ``late`` s after,
    so the replacement starts only once the killed worker's clients have reconnected to the
    survivor (as when a replacement is slow to start): only a re-spread brings any back."""
    server = servers.start("respread", seed, "-w", "2")
    first = {p.pid for p in server.wait_workers(2)}
    failures = collections.Counter()
    until = [time.monotonic() + 40]

    def client() -> None:
        conn = http.client.HTTPConnection("127.0.0.1", server.port, timeout=10)
        while time.monotonic() < until[0]:
            try:
                post(conn, SEED_JSON)
            except OSError as e:
                failures[type(e).__name__] += 1
                conn.close()
        conn.close()

    threads = [threading.Thread(target=client, daemon=True) for _ in range(clients)]
    for t in threads:
        t.start()
    try:
        time.sleep(1.5)
        victim = min(first)
        if late:
            os.kill(server.proc.pid, signal.SIGSTOP)
        try:
            os.kill(victim, signal.SIGKILL)
            time.sleep(late)
        finally:
            os.kill(server.proc.pid, signal.SIGCONT)
        deadline, new = time.monotonic() + 15, set()
        while time.monotonic() < deadline and not new:
            now = {p.pid for p in processes.workers(server.proc.pid)}
            new = now - first if len(now) == 2 else set()
            time.sleep(0.02)
        if not new:
            raise RuntimeError("no replacement worker within 15 s")
        (replacement,) = new
        server.remember_tree()
        born, marks = time.monotonic(), {}
        for at in (0, 1, 3, 5, 7):
            time.sleep(max(0.0, born + at - time.monotonic()))
            marks[at] = server.log.stat().st_size
    finally:
        until[0] = 0.0
        for t in threads:
            t.join(15)
    log = server.log.read_bytes()
    windows = {}
    for a, b in ((0, 1), (1, 3), (3, 5), (5, 7)):
        served = collections.Counter(int(p) for p in ACCESS_PID.findall(log[marks[a] : marks[b]]))
        total = sum(served.values())
        windows[f"{a}-{b} s"] = {"share": served[replacement] / total if total else 0.0,
                                 "requests": total}  # fmt: skip
    return {"killed": victim, "replacement": replacement, "windows": windows,
            "client_errors": dict(failures)}  # fmt: skip


def tree() -> str:
    """Where the servers' mlserve comes from: its directory, and its commit when that is a git
    checkout (with a note when mlserve/ has uncommitted edits, which an editable install runs)."""
    spec = importlib.util.find_spec("mlserve")
    where = Path(spec.origin).parent.parent if spec and spec.origin else Path(".")

    def git(*args: str) -> str:
        out = subprocess.run(["git", "-C", str(where), *args], capture_output=True, text=True,
                             check=False)  # fmt: skip
        return out.stdout.strip() if out.returncode == 0 else ""

    commit = git("rev-parse", "--short", "HEAD")
    if not commit:
        return f"{where} (not a git checkout)"
    dirty = git("status", "--porcelain", "--", "mlserve")
    return f"{where} at {commit}" + (" + uncommitted edits in mlserve/" if dirty else "")


def table(r: dict) -> str:
    lines = ["| figure | measured |", "|---|---|"]
    if s := r.get("slow"):
        q, w = s["quiet"], s["with_50_slow"]
        lines.append(f"| 1. valid-client p99, 50 slow connections (4 clients, -w 2) | "
                     f"{w['p99_ms']:.0f} ms (p50 {w['p50_ms']:.1f} ms, max {w['max_ms']:.0f} ms, "
                     f"n={w['n']}, failures {w['failures'] or 0}); without them: p99 "
                     f"{q['p99_ms']:.0f} ms, p50 {q['p50_ms']:.1f} ms, n={q['n']} |")  # fmt: skip
        lines.append(f"| slow connections after 7 s | {s['slow_connections_after_7s']} |")
    for label, w in r.get("wide", {}).items():
        lines.append(f"| 2. CSV, 1 row, {label} ({w['bytes'] / 1000:.0f} KB) | median "
                     f"{w['median_ms']:.1f} ms, max {w['max_ms']:.1f} ms of 7; status "
                     f"{w['status']} {w['last_error']} |")  # fmt: skip
    if m := r.get("memory"):
        i, v = m["invalid"], m["valid_json"]
        lines.append(
            f"| 3. worker RSS, 20 rejected 95 MiB bodies ({i['statuses']}, "
            f"{i['seconds_for_20']:.1f} s) | before {i['rss_before_mib']:.0f} MiB, right "
            f"after {i['rss_right_after_mib']:.0f} MiB, 1.5 s after "
            f"{i['rss_1_5s_after_mib']:.0f} MiB, peak {i['peak_mib']:.0f} MiB |"
        )
        lines.append(f"| 3. valid {v['body_mib']:.0f} MiB JSON, --max-request-memory 512MiB | "
                     f"{v['status']} in {v['seconds']:.2f} s, worker peak "
                     f"+{v['peak_growth_mib']:.0f} MiB over {v['rss_before_mib']:.0f} MiB; "
                     f"{v['error']} |")  # fmt: skip
    if s := r.get("stops"):
        lines.append(f"| 4. requests lost across 3 SIGTERMs under load | {s['lost']} "
                     f"(new connections: {s['clients']['new']}; keep-alive: "
                     f"{s['clients']['keep-alive']}; stops: {s['stops']}) |")  # fmt: skip
    for when, p in r.get("respread", {}).items():
        shares = ", ".join(f"{k}: {w['share']:.0%} of {w['requests']}"
                           for k, w in p["windows"].items())  # fmt: skip
        errors = p["client_errors"]
        lines.append(f"| 5. replacement's share of 16 keep-alive clients' requests, s after "
                     f"it started ({when}) | {shares}; client errors {errors} |")  # fmt: skip
    for phase, err in r.get("failed", {}).items():
        lines.append(f"| {phase} | FAILED: {err} |")
    return "\n".join(lines)


class OutOfTime(BaseException):
    """The run passed its --budget (a BaseException, so no phase's error handling catches it)."""


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--only", default="slow,wide,memory,stops,respread",
                        help="comma-separated phases to run (default: all five)")  # fmt: skip
    parser.add_argument("--every", type=float, default=2.0, help="seconds between slow bytes")
    parser.add_argument("--late", type=float, default=1.0,
                        help="how late the slow replacement starts (phase respread)")  # fmt: skip
    parser.add_argument("--budget", type=int, default=300, help="abort the run after this many s")
    parser.add_argument("--json", type=Path, help="write the raw results here")
    parser.add_argument("--workdir", type=Path, help="keep models and server logs here")
    args = parser.parse_args(argv)

    def out_of_time(*_: object) -> None:
        raise OutOfTime(f"the run passed its --budget of {args.budget} s")

    signal.signal(signal.SIGALRM, out_of_time)
    signal.alarm(args.budget)
    workdir = args.workdir or Path(tempfile.mkdtemp(prefix="mlserve-hostile-"))
    workdir.mkdir(parents=True, exist_ok=True)
    results: dict = {"date": time.strftime("%Y-%m-%d %H:%M:%S UTC", time.gmtime()),
                     "tree": tree(), "cpus": os.cpu_count(),
                     "loadavg_before": Path("/proc/loadavg").read_text().strip(),
                     "python": sys.version.split()[0], "failed": {}}  # fmt: skip
    print(
        f"# {results['date']}, mlserve from {results['tree']}, {results['cpus']} CPUs, "
        f"loadavg {results['loadavg_before']}, workdir {workdir}",
        flush=True,
    )
    seed, typed = build_models(workdir)
    servers = Servers(workdir)
    phases = {"slow": lambda: slow_clients(servers, seed, args.every),
              "wide": lambda: wide_csv(servers, seed, typed),
              "memory": lambda: memory(servers, typed),
              "stops": lambda: stops(servers, seed),
              "respread": lambda: {
                  "started at once": respread(servers, seed, 0.0),
                  f"started {args.late:g} s late": respread(servers, seed, args.late)}}  # fmt: skip
    try:
        for name in args.only.split(","):
            t0 = time.monotonic()
            print(f"# {name} ...", flush=True)
            try:
                results[name] = phases[name]()
            except Exception as e:  # one phase failing still reports the others
                results["failed"][name] = f"{type(e).__name__}: {e}"[:300]
            except OutOfTime as e:
                results["failed"][name] = str(e)
                break
            finally:
                servers.stop_all()
                servers.started.clear()
            print(f"# {name}: {time.monotonic() - t0:.0f} s", flush=True)
    finally:
        signal.alarm(0)
        servers.stop_all()
    results["loadavg_after"] = Path("/proc/loadavg").read_text().strip()
    print(table(results))
    print(f"# loadavg after: {results['loadavg_after']}")
    if args.json:
        args.json.write_text(json.dumps(results, indent=2, default=str))
    return 1 if results["failed"] else 0


if __name__ == "__main__":
    sys.exit(main())
