"""The Open Inference Protocol (V2) cases: ours against Seldon MLServer, and ours V2 against ours
``/invocations``, on the same models and the same rows.

For each configuration (model x workers) our server is started once and driven, case by case,
on ``POST /v2/models/<name>/infer`` and then on ``POST /invocations`` with the same rows (the V2
body is what MLServer's ``PandasCodec`` builds, the ``/invocations`` body is ``dataframe_split``);
then MLServer (``mlserver_side``) serves the same fitted model with ``parallel_workers`` = workers
and gets the same V2 bytes. Same load tool, same concurrency, same run length.
"""

from __future__ import annotations

import json
import os
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

import bench_models
import loadgen
import mlserver_side
import processes
from loadgen import LoadResult

if TYPE_CHECKING:
    from run import Bench


@dataclass(frozen=True)
class V2Plan:
    """One model at one worker count; cases are (rows, concurrency)."""

    model: str
    workers: int
    cases: tuple[tuple[int, int], ...]


V2_FULL = (
    V2Plan("seed_rf", 1, ((1, 1), (1000, 1))),
    V2Plan("seed_rf", 2, ((1, 16), (1000, 16))),
    V2Plan("lr20", 1, ((1, 1), (1000, 1))),
    V2Plan("lr20", 2, ((1, 16), (1000, 16))),
)
V2_QUICK = (
    V2Plan("seed_rf", 1, ((1, 1),)),
    V2Plan("lr20", 1, ((1, 1), (1000, 1))),
    V2Plan("lr20", 2, ((1, 16), (1000, 16))),
)


@dataclass
class V2Case:
    """One V2 case: ours on V2 and on /invocations, MLServer on V2."""

    model: str
    workers: int
    rows: int
    concurrency: int
    ours_v2: LoadResult | None = None
    ours_invocations: LoadResult | None = None
    mlserver: LoadResult | None = None
    foreign_cpu: float = 0.0
    same_predictions: bool | None = None
    answers: dict[str, list] = field(default_factory=dict)


def _path(name: str) -> str:
    return f"/v2/models/{name}/infer"


def _bodies(bench: Bench, plan: V2Plan, rows: int) -> tuple[Path, Path]:
    """(V2 body file, /invocations body file) for the same ``rows`` rows of ``plan.model``."""
    bm = bench.models[plan.model]
    frame = bm.sample(rows, 1234 + rows)  # the rows bench_models.payload sends
    folder = bench.workdir / "payloads"
    folder.mkdir(parents=True, exist_ok=True)
    v2 = folder / f"{plan.model}-v2-{rows}.body"
    v2.write_bytes(mlserver_side.v2_body(frame))
    split = folder / f"{plan.model}-split-{rows}.body"
    split.write_bytes(bench_models.json_split(frame))
    return v2, split


def _load(bench: Bench, port: int, body: Path, conc: int, path: str) -> LoadResult:
    if bench.tool == "wrk":
        return loadgen.run_wrk(port, body, "application/json", conc, bench.seconds, 2, path)
    return loadgen.run_python(
        port, body.read_bytes(), "application/json", conc, bench.seconds, path
    )


def _start(bench: Bench, side: str, plan: V2Plan, mlserver_python: str | None) -> processes.Server:
    port = processes.free_port()
    tag = f"{side} {plan.model} -w {plan.workers} (V2)"
    log = bench.workdir / "logs" / f"v2-{side}-{plan.model}-w{plan.workers}-{port}.log"
    log.parent.mkdir(exist_ok=True)
    if side == "ours":
        model_dir = str(bench.dirs["ours", plan.model])
        argv = [sys.executable, "-m", "mlserve.server", "-m", model_dir, "-p", str(port),
                "-w", str(plan.workers)]  # fmt: skip
        env = {k: v for k, v in os.environ.items() if k != "MLSERVE_TRACKING_URI"}
        cwd = bench.workdir
    else:
        assert mlserver_python
        root = bench.workdir / "mlserver" / f"{plan.model}-w{plan.workers}"
        ports = (port, processes.free_port(), processes.free_port())
        mlserver_side.write_repository(
            root, plan.model, bench.models[plan.model].model, workers=plan.workers, ports=ports
        )
        argv, env, cwd = mlserver_side.argv(mlserver_python, root), mlserver_side.env(), root
    bench.log(f"starting {tag} on port {port}")
    server = processes.Server(tag, argv, env, port, log, cwd=cwd)
    bench.live.append(server)
    return server


def _first(server: processes.Server, path: str, body: Path, rows: int) -> list:
    status, answer = server.request("POST", path, body.read_bytes(), "application/json")
    if path.startswith("/v2/"):
        preds = mlserver_side.v2_predictions(answer)
    else:
        preds = json.loads(answer).get("predictions") if status == 200 else None
    if status != 200 or preds is None or len(preds) != rows:
        raise RuntimeError(f"{server.label}: {rows} rows on {path}: {status}: {answer[:300]!r}")
    # MLServer shapes a classifier's predictions [N, 1]: compare values, not nesting
    return [p[0] if isinstance(p, list) and len(p) == 1 else p for p in preds]


def run_v2(bench: Bench, plans: tuple[V2Plan, ...], mlserver_python: str | None) -> list[V2Case]:
    """Run every V2 plan on our server and, when ``mlserver_python`` is given, on MLServer."""
    cases: dict[tuple[str, int, int, int], V2Case] = {}
    sides = ("ours", "mlserver") if mlserver_python else ("ours",)
    for plan in plans:
        for side in sides:
            server = _start(bench, side, plan, mlserver_python)
            try:
                ready = "/ping" if side == "ours" else f"/v2/models/{plan.model}/ready"
                server.wait_ready(timeout=180, path=ready)
                ws = server.wait_workers(plan.workers)
                for rows, conc in plan.cases:
                    key = (plan.model, plan.workers, rows, conc)
                    case = cases.setdefault(key, V2Case(*key))
                    v2, split = _bodies(bench, plan, rows)
                    targets = [(side, _path(plan.model), v2)]
                    if side == "ours":
                        targets.append(("ours_invocations", "/invocations", split))
                    for label, path, body in targets:
                        case.answers[label] = _first(server, path, body, rows)
                        if bench.warmup:
                            _load(bench, server.port, body, conc, path)
                        watch = processes.CpuWatch(server.proc.pid, ws)
                        result = _load(bench, server.port, body, conc, path)
                        case.foreign_cpu = max(case.foreign_cpu, watch.stop()[1])
                        setattr(case, "ours_v2" if label == "ours" else label, result)
                        bench.log(
                            f"  {label:16} {plan.model} w{plan.workers} {rows} rows c={conc}: "
                            f"{result.rps:,.1f} req/s, p50 {result.p50_ms:.2f} ms, "
                            f"p99 {result.p99_ms:.2f} ms, errors {result.errors}"
                        )
            finally:
                server.stop()
                bench.live.remove(server)
            time.sleep(0.5)  # the ports and the CPU settle before the next server
    for case in cases.values():
        case.same_predictions = len({json.dumps(a) for a in case.answers.values()}) == 1
    return list(cases.values())


def _ratio(a: LoadResult | None, b: LoadResult | None, attr: str = "rps") -> str:
    if a is None or b is None or not getattr(b, attr):
        return "n/a"
    return f"{getattr(a, attr) / getattr(b, attr):.2f}x"


def _cells(r: LoadResult | None) -> str:
    if r is None:
        return "n/a | n/a | n/a | n/a"
    return f"{r.rps:,.1f} | {r.p50_ms:.2f} | {r.p99_ms:.2f} | {r.errors}"


def v2_table(cases: list[V2Case]) -> str:
    """Ours on V2 next to MLServer on V2 and next to ours on /invocations, with ratios."""
    lines = [
        "| model | w | rows | c | ours V2 req/s | p50 ms | p99 ms | err | "
        "MLServer V2 req/s | p50 ms | p99 ms | err | ours /invocations req/s | "
        "req/s ours V2/MLServer | p50 ours/MLServer | req/s ours V2//invocations | "
        "same predictions | other load |",
        "|" + "---|" * 18,
    ]
    for c in cases:
        inv = c.ours_invocations
        lines.append(
            f"| {c.model} | {c.workers} | {c.rows:,} | {c.concurrency} | {_cells(c.ours_v2)} | "
            f"{_cells(c.mlserver)} | {f'{inv.rps:,.1f}' if inv else 'n/a'} | "
            f"{_ratio(c.ours_v2, c.mlserver)} | {_ratio(c.ours_v2, c.mlserver, 'p50_ms')} | "
            f"{_ratio(c.ours_v2, inv)} | {'yes' if c.same_predictions else 'NO'} | "
            f"{c.foreign_cpu:.0%} |"
        )
    return "\n".join(lines)
