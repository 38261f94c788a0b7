"""Install each flavor plugin into this interpreter's environment and run its tests.

    python plugins/run_tests.py                      # every plugin under plugins/
    python plugins/run_tests.py xgboost onnx         # only these (with or without "mlserve-")
    python plugins/run_tests.py --no-install onnx    # already installed: just run the tests
    python plugins/run_tests.py onnx -- -k named     # arguments after "--" go to pytest

Each plugin is installed with ``pip install -e 'plugins/<name>[<extras>]'`` (its ``test`` extra,
plus a CPU-only framework where one is published), then ``pytest`` runs in the plugin's directory
so its own ``pyproject.toml`` configures pytest. A per-plugin summary with timings is printed at
the end; the exit status is non-zero if any plugin failed to install, failed a test or ran none.

mlserve itself must already be installed in this environment (``pip install -e '.[dev]'``).
"""

from __future__ import annotations

import argparse
import importlib.metadata
import os
import re
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

HERE = Path(__file__).resolve().parent

#: Extras installed with each plugin: ``test`` always; a CPU-only framework build where the
#: plugin offers one as an extra.
EXTRAS = {"mlserve-tensorflow": ["test", "cpu"]}

#: Requirements installed before the plugin, when the distribution is not installed yet, so pip
#: does not resolve the framework itself. PyTorch: the CPU build (a plain ``torch`` requirement
#: pulls a CUDA build of several GB). Override with MLSERVE_TORCH_REQUIREMENT.
PREINSTALL = {
    "mlserve-pytorch": [("torch", os.environ.get("MLSERVE_TORCH_REQUIREMENT", "torch==2.13.0"))],
}

#: A plugin's install plus tests may take this long before it is stopped and counted failed.
PLUGIN_TIMEOUT = float(os.environ.get("MLSERVE_PLUGIN_TIMEOUT", "1800"))

_COUNTS = re.compile(r"(\d+) (passed|failed|errors?|skipped|xfailed|xpassed)")
_CLOSING = re.compile(r" in [\d.]+s\b")


@dataclass
class Outcome:
    """What happened to one plugin."""

    name: str
    install_seconds: float = 0.0
    test_seconds: float = 0.0
    status: str = "not run"
    counts: dict[str, int] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return self.status == "ok"


def discover() -> list[str]:
    """The plugin directories under plugins/: those holding a pyproject.toml."""
    return sorted(p.name for p in HERE.iterdir() if (p / "pyproject.toml").is_file())


def _run(cmd: list[str], cwd: Path | None = None, timeout: float | None = None) -> tuple[int, str]:
    """Run ``cmd``, echoing its output as it comes; return the exit status and the output."""
    print("$", " ".join(cmd), flush=True)
    proc = subprocess.Popen(
        cmd, cwd=cwd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, bufsize=1
    )
    lines: list[str] = []
    # a hung test prints nothing, so the limit is kept by a timer, not by the read loop
    watchdog = threading.Timer(timeout, proc.kill) if timeout else None
    if watchdog is not None:
        watchdog.start()
    assert proc.stdout is not None
    try:
        for line in proc.stdout:
            sys.stdout.write(line)
            lines.append(line)
        code = proc.wait()
    finally:
        if watchdog is not None:
            watchdog.cancel()
    if code < 0:
        lines.append(f"stopped (signal {-code}) after the {timeout:.0f} s limit\n")
    return code, "".join(lines)


def _installed(dist: str) -> bool:
    try:
        importlib.metadata.version(dist)
    except importlib.metadata.PackageNotFoundError:
        return False
    return True


def install(name: str) -> bool:
    """``pip install -e`` the plugin with its extras (and any framework pre-install)."""
    pip = [sys.executable, "-m", "pip", "install", "--disable-pip-version-check", "-q"]
    for dist, requirement in PREINSTALL.get(name, []):
        if not _installed(dist) and _run([*pip, requirement])[0] != 0:
            return False
    extras = ",".join(EXTRAS.get(name, ["test"]))
    return _run([*pip, "-e", f"{HERE / name}[{extras}]"])[0] == 0


def run_tests(name: str, pytest_args: list[str]) -> tuple[int, str]:
    """pytest in the plugin's directory, so its pyproject.toml is the pytest configuration."""
    cmd = [sys.executable, "-m", "pytest", "-p", "no:cacheprovider", *pytest_args]
    return _run(cmd, cwd=HERE / name, timeout=PLUGIN_TIMEOUT)


def _counts(output: str) -> dict[str, int]:
    lines = [ln for ln in output.splitlines() if _CLOSING.search(ln) and _COUNTS.search(ln)]
    if not lines:
        return {}
    counts: dict[str, int] = {}
    for number, word in _COUNTS.findall(lines[-1]):
        key = "errors" if word.startswith("error") else word
        counts[key] = counts.get(key, 0) + int(number)
    return counts


def run_plugin(name: str, *, do_install: bool, pytest_args: list[str]) -> Outcome:
    """Install (unless told not to) and test one plugin."""
    outcome = Outcome(name)
    print(f"\n===== {name} =====", flush=True)
    if do_install:
        start = time.monotonic()
        installed = install(name)
        outcome.install_seconds = time.monotonic() - start
        if not installed:
            outcome.status = "install failed"
            return outcome
    start = time.monotonic()
    code, output = run_tests(name, pytest_args)
    outcome.test_seconds = time.monotonic() - start
    outcome.counts = _counts(output)
    if code == 0:
        outcome.status = "ok"
    elif code == 5:
        outcome.status = "ran no test"
    else:
        outcome.status = f"failed (pytest exit {code})"
    return outcome


def _resolve(requested: list[str], available: list[str]) -> list[str]:
    chosen = []
    for name in requested:
        full = name if name.startswith("mlserve-") else f"mlserve-{name}"
        if full not in available:
            raise SystemExit(f"unknown plugin {name!r}; known: {', '.join(available)}")
        chosen.append(full)
    return chosen


def summary(outcomes: list[Outcome], elapsed: float) -> str:
    """The per-plugin table and a closing ``N passed, N failed`` line over all plugins."""
    rows = [f"{'plugin':<22} {'install':>8} {'tests':>8}  result"]
    for o in outcomes:
        detail = ", ".join(f"{n} {k}" for k, n in o.counts.items())
        result = o.status + (f" ({detail})" if detail else "")
        rows.append(f"{o.name:<22} {o.install_seconds:>7.1f}s {o.test_seconds:>7.1f}s  {result}")
    passed = sum(o.counts.get("passed", 0) for o in outcomes)
    failed = sum(o.counts.get("failed", 0) + o.counts.get("errors", 0) for o in outcomes)
    bad = [o.name for o in outcomes if not o.ok]
    rows.append(f"total {elapsed:.0f} s; plugins failing: {', '.join(bad) or 'none'}")
    rows.append(f"plugins: {passed} passed, {failed} failed")
    return "\n".join(rows)


def main(argv: list[str] | None = None) -> int:
    """Parse the command line, run the plugins, print the summary; 1 if any plugin failed."""
    argv = list(sys.argv[1:] if argv is None else argv)
    pytest_args: list[str] = []
    if "--" in argv:
        cut = argv.index("--")
        argv, pytest_args = argv[:cut], argv[cut + 1 :]
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("plugins", nargs="*", help="plugin names (default: all)")
    parser.add_argument("--no-install", action="store_true", help="do not pip install")
    args = parser.parse_args(argv)
    available = discover()
    names = _resolve(args.plugins, available) if args.plugins else available
    start = time.monotonic()
    outcomes = [
        run_plugin(n, do_install=not args.no_install, pytest_args=pytest_args) for n in names
    ]
    print("\n" + summary(outcomes, time.monotonic() - start), flush=True)
    return 0 if outcomes and all(o.ok for o in outcomes) else 1


if __name__ == "__main__":
    sys.exit(main())
