"""Turn benchmark results into the markdown tables ``run.py`` prints and the docs quote."""

from __future__ import annotations

from dataclasses import dataclass, field

from loadgen import LoadResult
from processes import Memory


@dataclass
class CaseResult:
    """One payload at one concurrency against one server configuration, both sides."""

    model: str
    workers: int
    label: str  # e.g. "json 1 row"
    rows: int
    concurrency: int
    ours: LoadResult | None = None
    theirs: LoadResult | None = None
    ours_cpu_split: list[float] | None = None
    theirs_cpu_split: list[float] | None = None
    batching: str = ""  # the batching flags, "" for none
    foreign_cpu: float = 0.0  # highest share of all CPU other processes used during its runs


@dataclass
class StartResult:
    """Start-up and memory of one server configuration on one side."""

    side: str
    model: str
    workers: int
    first_200_s: float
    idle: list[Memory] = field(default_factory=list)  # per worker, before the first request
    after: list[Memory] = field(default_factory=list)  # per worker, right after the load runs
    settled: list[Memory] = field(default_factory=list)  # per worker, a pause after the load
    tree_pss_idle: float = 0.0
    tree_pss_after: float = 0.0


def _ratio(a: float | None, b: float | None) -> str:
    if a is None or b is None or b == 0:
        return "n/a"
    return f"{a / b:.2f}x"


def _num(x: float, digits: int = 1) -> str:
    return f"{x:,.{digits}f}"


def _side(r: LoadResult | None) -> list[str]:
    if r is None:
        return ["n/a"] * 5
    return [
        _num(r.rps),
        f"{r.requests:,}",
        _num(r.p50_ms, 2),
        _num(r.p99_ms, 2),
        str(r.errors),
    ]


def _split(shares: list[float] | None) -> str:
    return "/".join(f"{s:.0%}" for s in shares) if shares else ""


def load_table(cases: list[CaseResult]) -> str:
    """Throughput and latency, ours next to MLflow's, with ratios ours/theirs."""
    head = (
        "| model | w | case | c | ours req/s | n | p50 ms | p99 ms | err | "
        "mlflow req/s | n | p50 ms | p99 ms | err | req/s (=rows/s) ours/mlflow | "
        "p50 ours/mlflow | p99 ours/mlflow | worker CPU split ours / mlflow | other load |"
    )
    lines = [head, "|" + "---|" * 19]
    for c in cases:
        if c.batching:
            continue
        o, t = c.ours, c.theirs
        lines.append(
            "| "
            + " | ".join(
                [
                    c.model,
                    str(c.workers),
                    c.label,
                    str(c.concurrency),
                    *_side(o),
                    *_side(t),
                    _ratio(o and o.rps, t and t.rps),
                    _ratio(o and o.p50_ms, t and t.p50_ms),
                    _ratio(o and o.p99_ms, t and t.p99_ms),
                    f"{_split(c.ours_cpu_split)} / {_split(c.theirs_cpu_split)}"
                    if c.workers > 1
                    else "",
                    f"{c.foreign_cpu:.0%}",
                ]
            )
            + " |"
        )
    return "\n".join(lines)


def batching_table(cases: list[CaseResult]) -> str:
    """Ours with batching against ours without, same model, payload, concurrency and workers."""
    lines = [
        "| model | w | case | c | batching | req/s | p50 ms | p99 ms | err | "
        "req/s batched/unbatched | p99 batched/unbatched | other load |",
        "|" + "---|" * 12,
    ]
    for c in cases:
        if not c.batching or c.ours is None:
            continue
        base = next(
            (
                b.ours
                for b in cases
                if not b.batching
                and (b.model, b.workers, b.label, b.concurrency)
                == (c.model, c.workers, c.label, c.concurrency)
            ),
            None,
        )
        lines.append(
            f"| {c.model} | {c.workers} | {c.label} | {c.concurrency} | {c.batching} | "
            f"{_num(c.ours.rps)} | {_num(c.ours.p50_ms, 2)} | {_num(c.ours.p99_ms, 2)} | "
            f"{c.ours.errors} | {_ratio(c.ours.rps, base and base.rps)} | "
            f"{_ratio(c.ours.p99_ms, base and base.p99_ms)} | {c.foreign_cpu:.0%} |"
        )
    return "\n".join(lines)


def _mem(ms: list[Memory], attr: str) -> str:
    return " + ".join(_num(getattr(m, attr), 0) for m in ms) if ms else "n/a"


def _growth(before: list[Memory], after: list[Memory]) -> str:
    if not before or len(before) != len(after):
        return "n/a"
    return " + ".join(_ratio(a.rss, b.rss) for a, b in zip(after, before, strict=True))


def start_table(starts: list[StartResult]) -> str:
    """Cold start to first 200 and memory per worker, each configuration on both sides."""
    lines = [
        "| model | w | side | first 200 s | ours/mlflow | "
        "RSS MiB per worker (before 1st request) | USS MiB per worker (before 1st request) | "
        "RSS MiB per worker (right after load) | USS MiB per worker (right after load) | "
        "RSS MiB per worker (2 s after load) | RSS 2 s after / before | "
        "whole server PSS MiB idle -> after |",
        "|" + "---|" * 12,
    ]
    for s in starts:
        other = next(
            (
                o
                for o in starts
                if (o.model, o.workers) == (s.model, s.workers) and o.side != s.side
            ),
            None,
        )
        ratio = _ratio(s.first_200_s, other.first_200_s) if s.side == "ours" and other else ""
        lines.append(
            f"| {s.model} | {s.workers} | {s.side} | {s.first_200_s:.2f} | {ratio} | "
            f"{_mem(s.idle, 'rss')} | {_mem(s.idle, 'uss')} | {_mem(s.after, 'rss')} | "
            f"{_mem(s.after, 'uss')} | {_mem(s.settled, 'rss')} | {_growth(s.idle, s.settled)} | "
            f"{_num(s.tree_pss_idle, 0)} -> {_num(s.tree_pss_after, 0)} |"
        )
    return "\n".join(lines)
