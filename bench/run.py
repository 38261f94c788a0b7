"""Benchmark mlserve's server against ``mlflow models serve`` on the same models and payloads.

    python bench/run.py [--quick] [--mlflow-python /path/to/venv/bin/python]
                        [--mlserver-python /path/to/mlserver-venv/bin/python]

Builds the benchmark models, saves them with mlserve (and, when an MLflow Python is found, with
MLflow), starts each server on a free 127.0.0.1 port, drives both with the same load tool and the
same bodies, and prints the tables. Then the V2 cases (v2_bench.py): ours on the Open Inference
Protocol against Seldon MLServer (when its Python is found) and against our own /invocations.
Every process it starts is stopped by pid at the end. See bench/README.md.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import asdict, dataclass
from pathlib import Path

import bench_models
import loadgen
import metrics_bench
import mlserver_side
import options
import peers
import processes
import report
import v2_bench
from bench_models import BenchModel, Payload

HERE = Path(__file__).resolve().parent

# (payload kind, rows, concurrency)
Case = tuple[str, int, int]
ONE_ROW: tuple[Case, ...] = (("json", 1, 1), ("json", 1, 16))
ALL_CASES: tuple[Case, ...] = (
    *ONE_ROW,
    ("json", 1000, 1),
    ("json", 1000, 16),
    ("csv", 10000, 1),
    ("csv", 10000, 16),
)
BATCH_FLAGS = ["--max-batch-size", "64", "--threads", "16"]
#: pause after the last load run before memory is read again (our idle trim waits 1 s)
SETTLE_SECONDS = 2.0


@dataclass(frozen=True)
class Plan:
    """One server configuration and the cases run against it."""

    model: str
    workers: int
    cases: tuple[Case, ...]
    batching: bool = False  # ours only: BATCH_FLAGS on

    @property
    def sides(self) -> tuple[str, ...]:
        return ("ours",) if self.batching else ("ours", "mlflow")


FULL = (
    Plan("seed_rf", 1, ONE_ROW),
    Plan("lr20", 1, ALL_CASES),
    Plan("lr20", 2, ALL_CASES),
    Plan("seed_rf", 2, ONE_ROW),
    Plan("seed_rf", 2, ONE_ROW, batching=True),
    Plan("pipeline", 1, (("json", 1, 1), ("json", 1000, 16))),
    Plan("big", 1, (("json", 1, 1),)),
    Plan("big", 2, (("json", 1, 16),)),
)
QUICK = (
    Plan("seed_rf", 1, (("json", 1, 1),)),
    Plan("lr20", 1, ALL_CASES),
    Plan("lr20", 2, ONE_ROW),
    Plan("seed_rf", 2, (("json", 1, 16),)),
    Plan("seed_rf", 2, (("json", 1, 16),), batching=True),
    Plan("big", 2, (("json", 1, 1),)),
)


def server_argv(side: str, plan: Plan, model_dir: Path, port: int, mlflow_python: str | None):
    if side == "ours":
        argv = [sys.executable, "-m", "mlserve.server", "-m", str(model_dir), "-p", str(port)]
        argv += ["-w", str(plan.workers)]
        return argv + (BATCH_FLAGS if plan.batching else [])
    assert mlflow_python
    return [
        mlflow_python, "-m", "mlflow", "models", "serve", "-m", str(model_dir), "-p", str(port),
        "-h", "127.0.0.1", "--env-manager", "local", "-w", str(plan.workers),
    ]  # fmt: skip


def server_env(side: str, mlflow_python: str | None) -> dict[str, str]:
    env = dict(os.environ)
    env.pop("MLSERVE_TRACKING_URI", None)
    if side == "mlflow":
        # MLflow starts `uvicorn` by name through bash, so its venv's bin must come first.
        bindir = str(Path(mlflow_python or "").parent)
        env["PATH"] = bindir + os.pathsep + env.get("PATH", "")
        env["MLFLOW_DISABLE_TELEMETRY"] = "true"
        env["DO_NOT_TRACK"] = "true"
    return env


def predictions(body: bytes) -> list | None:
    try:
        return json.loads(body)["predictions"]
    except (ValueError, KeyError, TypeError):
        return None


class Bench:
    """State of one run: the models, payloads, servers, and what was measured."""

    def __init__(self, args: argparse.Namespace, workdir: Path, mlflow_python: str | None):
        self.args, self.workdir, self.mlflow_python = args, workdir, mlflow_python
        self.seconds = args.seconds
        self.warmup = 0.0 if args.quick else 1.0
        self.tool = "wrk" if loadgen.wrk_available() and args.load_tool != "python" else "python"
        self.models: dict[str, BenchModel] = {}
        self.dirs: dict[tuple[str, str], Path] = {}
        self.bodies: dict[tuple[str, str, int], tuple[Payload, Path]] = {}
        self.cases: list[report.CaseResult] = []
        self.starts: list[report.StartResult] = []
        self.answers: dict[tuple[str, str, str], list | None] = {}
        self.live: list[processes.Server] = []

    def log(self, msg: str) -> None:
        print(f"[{time.strftime('%H:%M:%S')}] {msg}", file=sys.stderr, flush=True)

    # -- preparation ---------------------------------------------------------------------------

    def prepare(self, plans: tuple[Plan, ...], more: tuple[str, ...] = ()) -> None:
        models = {p.model for p in plans} | set(more)
        names = sorted(models, key=list(bench_models.BUILDERS).index)
        for name in names:
            self.log(f"building {name}")
            bm = self.models[name] = bench_models.BUILDERS[name]()
            path = self.workdir / "ours" / name
            bench_models.save_ours(bm, path)
            self.dirs["ours", name] = path
        for plan in plans:
            for kind, rows, _ in plan.cases:
                key = (plan.model, kind, rows)
                if key not in self.bodies:
                    p = bench_models.payload(self.models[plan.model], kind, rows)
                    path = self.workdir / "payloads" / f"{plan.model}-{kind}-{rows}.body"
                    path.parent.mkdir(parents=True, exist_ok=True)
                    path.write_bytes(p.body)
                    self.bodies[key] = (p, path)
        if self.mlflow_python:
            self.log("saving MLflow copies (in the MLflow Python)")
            source = bench_models.dump_for_mlflow(list(self.models.values()), self.workdir)
            out = subprocess.run(
                [self.mlflow_python, str(HERE / "mlflow_side.py"), str(source),
                 str(self.workdir / "mlflow")],
                capture_output=True, text=True, check=False,
            )  # fmt: skip
            source.unlink()
            if out.returncode != 0:
                raise RuntimeError(f"saving MLflow models failed:\n{out.stderr[-2000:]}")
            info = json.loads(out.stdout.strip().splitlines()[-1])
            for name, path in info["models"].items():
                self.dirs["mlflow", name] = Path(path)

    # -- one server ----------------------------------------------------------------------------

    def run_plan(self, plan: Plan, side: str) -> None:
        port = processes.free_port()
        tag = f"{side} {plan.model} -w {plan.workers}{' batching' if plan.batching else ''}"
        argv = server_argv(side, plan, self.dirs[side, plan.model], port, self.mlflow_python)
        logfile = self.workdir / "logs" / f"{side}-{plan.model}-w{plan.workers}-{port}.log"
        logfile.parent.mkdir(exist_ok=True)
        self.log(f"starting {tag} on port {port}")
        env = server_env(side, self.mlflow_python)
        server = processes.Server(tag, argv, env, port, logfile, cwd=self.workdir)
        self.live.append(server)
        try:
            self._measure(plan, side, server)
        finally:
            server.stop()
            self.live.remove(server)

    def _measure(self, plan: Plan, side: str, server: processes.Server) -> None:
        # Cold start = until /ping answers 200, plus the first 1-row POST's own latency: what a
        # client posting the moment the server is ready waits. Between the two, memory is read
        # with no request served yet (every worker up, RSS no longer growing).
        ready = server.wait_ready(timeout=180)
        ws = server.wait_workers(plan.workers)
        idle = [m for w in ws if (m := processes.memory(w.pid))]
        pss_idle = processes.tree_pss(server.proc.pid)
        one = bench_models.payload(self.models[plan.model], "json", 1)
        t0 = time.perf_counter()
        status, body = server.request("POST", "/invocations", one.body, one.content_type)
        first = ready + (time.perf_counter() - t0)
        if status != 200:
            raise RuntimeError(f"{server.label}: first request answered {status}: {body[:300]!r}")
        start = report.StartResult(side, plan.model, plan.workers, first, idle)
        start.tree_pss_idle = pss_idle
        if not plan.batching:
            self.starts.append(start)
        for kind, rows, conc in plan.cases:
            payload, path = self.bodies[plan.model, kind, rows]
            status, body = server.request(
                "POST", "/invocations", payload.body, payload.content_type
            )
            preds = predictions(body)
            if status != 200 or preds is None or len(preds) != rows:
                raise RuntimeError(
                    f"{server.label}: {payload.name} answered {status}: {body[:300]!r}"
                )
            self.answers[side, plan.model, payload.name] = preds
            case = self._case(plan, payload, conc)
            if self.warmup:
                self._load(server, payload, path, conc, self.warmup)
            watch = processes.CpuWatch(server.proc.pid, ws)
            result = self._load(server, payload, path, conc, self.seconds)
            split, foreign = watch.stop()
            case.foreign_cpu = max(case.foreign_cpu, foreign)
            if side == "ours":
                case.ours, case.ours_cpu_split = result, split
            else:
                case.theirs, case.theirs_cpu_split = result, split
            self.log(
                f"  {tag_of(plan, side)} {payload.name} c={conc}: {result.rps:,.1f} req/s, "
                f"p50 {result.p50_ms:.2f} ms, p99 {result.p99_ms:.2f} ms, errors {result.errors}, "
                f"foreign CPU {foreign:.0%}"
            )
        start.after = [m for w in ws if (m := processes.memory(w.pid))]
        start.tree_pss_after = processes.tree_pss(server.proc.pid)
        # what a worker keeps once the load is over, after the pause our idle trim waits for
        time.sleep(SETTLE_SECONDS)
        start.settled = [m for w in ws if (m := processes.memory(w.pid))]

    def _case(self, plan: Plan, payload: Payload, conc: int) -> report.CaseResult:
        flags = " ".join(BATCH_FLAGS) if plan.batching else ""
        for c in self.cases:
            if (c.model, c.workers, c.label, c.concurrency, c.batching) == (
                plan.model, plan.workers, payload.name, conc, flags,
            ):  # fmt: skip
                return c
        c = report.CaseResult(plan.model, plan.workers, payload.name, payload.rows, conc)
        c.batching = flags
        self.cases.append(c)
        return c

    def _load(self, server, payload: Payload, path: Path, conc: int, seconds: float):
        if self.tool == "wrk":
            return loadgen.run_wrk(
                server.port, path, payload.content_type, conc, seconds, threads=2
            )
        return loadgen.run_python(server.port, payload.body, payload.content_type, conc, seconds)

    def stop_all(self) -> None:
        for server in list(self.live):
            server.stop()
            self.live.remove(server)


def tag_of(plan: Plan, side: str) -> str:
    return f"{side:6} {plan.model} w{plan.workers}{' batching' if plan.batching else ''}"


def main(argv: list[str] | None = None) -> int:
    args = options.parse(argv, description=__doc__.split("\n\n")[0])

    plans = () if args.only_v2 or args.only_metrics else QUICK if args.quick else FULL
    v2_plans = (
        ()
        if args.no_v2 or args.only_metrics
        else v2_bench.V2_QUICK
        if args.quick
        else v2_bench.V2_FULL
    )
    measure_metrics = not args.no_metrics_cost and not args.only_v2
    if args.only:
        keep = set(args.only.split(","))
        plans = tuple(p for p in plans if p.model in keep)
        v2_plans = tuple(p for p in v2_plans if p.model in keep)
    mlserver_python = None
    if v2_plans and not args.no_mlserver:
        mlserver_python = mlserver_side.find_python(args.mlserver_python)
    mlserver_versions = mlserver_side.versions(mlserver_python) if mlserver_python else None
    if mlserver_python and mlserver_versions is None:
        print(
            f"warning: {mlserver_python} cannot import mlserver; V2 measured on ours only",
            file=sys.stderr,
        )
        mlserver_python = None
    mlflow_python = None if args.no_mlflow else peers.find_mlflow_python(args.mlflow_python)
    versions = peers.mlflow_versions(mlflow_python) if mlflow_python else None
    if mlflow_python and versions is None:
        print(
            f"warning: {mlflow_python} cannot import mlflow; measuring ours only", file=sys.stderr
        )
        mlflow_python = None

    workdir = Path(args.workdir or tempfile.mkdtemp(prefix="mlserve-bench-"))
    workdir.mkdir(parents=True, exist_ok=True)
    bench = Bench(args, workdir, mlflow_python)
    began = time.perf_counter()
    v2_cases: list[v2_bench.V2Case] = []
    metrics_cost: metrics_bench.MetricsCost | None = None
    # the metrics case's model and 1-row body, prepared like a plan's
    extra = (Plan(metrics_bench.MODEL, 1, (("json", 1, 1),)),) if measure_metrics else ()
    try:
        bench.prepare(plans + extra, tuple(p.model for p in v2_plans))
        for plan in plans:
            for side in plan.sides:
                if side == "mlflow" and not mlflow_python:
                    continue
                bench.run_plan(plan, side)
        v2_cases = v2_bench.run_v2(bench, v2_plans, mlserver_python)
        if measure_metrics:
            metrics_cost = metrics_bench.run_metrics(bench)
    finally:
        bench.stop_all()
        if not args.keep and not args.workdir:
            shutil.rmtree(workdir, ignore_errors=True)

    import sklearn

    import mlserve

    info = peers.machine()
    print("\n## Benchmark: mlserve vs mlflow models serve\n")
    print(
        f"Machine: {info['nproc']} CPUs, {info['cpu']}, Linux {info['kernel']}, "
        f"Python {info['python']}. mlserve {mlserve.__version__}, scikit-learn "
        f"{sklearn.__version__}, {peers.optional_packages()}; MLflow: "
        + (f"{versions['mlflow']} (scikit-learn {versions['sklearn']})" if versions else "n/a")
        + f". Load tool: {bench.tool}; {args.seconds:g} s per run"
        + ("" if args.quick else " after a 1 s warm-up")
        + f"; total {time.perf_counter() - began:.0f} s.\n"
    )
    for name in sorted({p.model for p in plans + extra} | {p.model for p in v2_plans}):
        print(f"- {name}: {bench.models[name].description}")
    if bench.cases:
        print("\n### Throughput and latency\n")
        print(report.load_table(bench.cases))
    if any(c.batching for c in bench.cases):
        print(f"\n### Adaptive batching (ours: {' '.join(BATCH_FLAGS)})\n")
        print(report.batching_table(bench.cases))
    if bench.starts:
        print("\n### Cold start and memory\n")
        print(report.start_table(bench.starts))
    if v2_cases:
        print("\n### Open Inference Protocol (V2): ours vs Seldon MLServer\n")
        mls = mlserver_versions or {}
        print(
            "MLServer: "
            + (", ".join(f"{k} {v}" for k, v in mls.items()) if mls else "n/a")
            + " (mlserver_sklearn.SKLearnModel, model.joblib, its defaults; parallel_workers = w)."
            + " Bodies: PandasCodec-style V2 JSON; ours on /invocations gets the same rows as"
            + " dataframe_split.\n"
        )
        print(v2_bench.v2_table(v2_cases))
    if metrics_cost is not None:
        print("\n### What metrics cost (GET /metrics, docs/serving.md#operations)\n")
        print(metrics_bench.metrics_table(metrics_cost))
    agree = [
        (model, name)
        for (side, model, name), preds in bench.answers.items()
        if side == "ours" and ("mlflow", model, name) in bench.answers
        and bench.answers["mlflow", model, name] != preds
    ]  # fmt: skip
    if mlflow_python:
        print(
            "\nPredictions identical on both sides for every payload."
            if not agree
            else f"\nPredictions DIFFER for: {agree}"
        )
    if args.json:
        Path(args.json).write_text(
            json.dumps(
                {
                    "machine": info,
                    "mlflow": versions,
                    "tool": bench.tool,
                    "seconds": args.seconds,
                    "cases": [asdict(c) for c in bench.cases],
                    "starts": [asdict(s) for s in bench.starts],
                    "mlserver": mlserver_versions,
                    "v2": [asdict(c) for c in v2_cases],
                    "metrics": asdict(metrics_cost) if metrics_cost else None,
                },
                indent=2,
            )
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
