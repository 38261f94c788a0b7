"""Helpers for the server tests: real ``python -m mlserve.server`` processes.

A server is started on port 0 (the kernel picks a free port, so parallel runs never race for
one), its log goes to a file, the address is read from the ready line, then ``/ping`` is
polled. Teardown stops it by PID: SIGTERM, then SIGKILL for the parent and any worker left.
"""

from __future__ import annotations

import contextlib
import os
import re
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import requests

from mlserve.schema import (
    Array,
    ColSpec,
    ModelSignature,
    Object,
    ParamSchema,
    ParamSpec,
    Property,
    Schema,
)

READY = re.compile(rb"mlserve: serving .* at http://([0-9.]+):(\d+)")

# A python_function model driven by its input, so one server can be fast, slow, failing or
# broken on demand: column 0 is seconds to sleep; -1 raises inside the model; 99 returns an
# object no codec can encode (a server-side fault). Compiled as __main__ so cloudpickle stores
# the function by value and the server process does not need this test module.
SLEEPY_SOURCE = """
import time

import numpy as np

def predict(model_input):
    rows = np.asarray(model_input, dtype=float).reshape(len(model_input), -1)
    value = rows[0, 0]
    if value == -1:
        raise ValueError("the model refuses negative input")
    if value == 99:
        return {"x": object()}
    time.sleep(value)
    return rows[:, 0]
"""


# A python_function model holding 64 MiB of weights (a numpy array pickled with the function),
# to see whether forked workers share the parent's copy or make their own.
HEAVY_SOURCE = """
import numpy as np

WEIGHTS = np.arange(8 * 1024 * 1024, dtype=np.float64)  # 64 MiB

def predict(model_input):
    rows = np.asarray(model_input, dtype=float).reshape(len(model_input), -1)
    return rows[:, 0] + WEIGHTS[-1]
"""


# A PythonModel whose output kind is chosen by a param, to check every kind comes back as strict
# JSON and that params reach predict. Compiled as __main__ so cloudpickle stores it by value.
SHAPES_SOURCE = """
import datetime as dt

import numpy as np
import pandas as pd

import mlserve


class Shapes(mlserve.PythonModel):
    def predict(self, context, model_input, params=None):
        n = len(model_input)
        v = model_input["v"].to_numpy()
        kind = params["kind"]
        if kind == "frame":
            return pd.DataFrame({"x": v * params["scale"], "label": ["a"] * n})
        if kind == "dict":
            return {"a": np.arange(n), "b": np.full(n, np.nan)}
        if kind == "nan":
            return np.array([np.nan, np.inf, -np.inf, 1.5])
        if kind == "datetime":
            return pd.DataFrame({
                "t": pd.date_range("2024-01-01", periods=n, freq="h"),
                "tz": pd.date_range("2024-01-01", periods=n, freq="h", tz="UTC"),
                "d": [dt.date(2024, 1, 2)] * n,
            })
        return {"params": params}
"""


def by_value(source: str, name: str) -> Any:
    """``name`` from ``source`` compiled as ``__main__``, so that cloudpickle stores it by value
    and a server process (ours or MLflow's) unpickles it without this test module."""
    namespace: dict[str, Any] = {"__name__": "__main__"}
    exec(compile(source, f"<{name}>", "exec"), namespace)
    return namespace[name]


def shapes_model():  # type: ignore[no-untyped-def]
    return by_value(SHAPES_SOURCE, "Shapes")()


def heavy_function():  # type: ignore[no-untyped-def]
    return by_value(HEAVY_SOURCE, "predict")


def sleepy_function():  # type: ignore[no-untyped-def]
    return by_value(SLEEPY_SOURCE, "predict")


# MLflow's chat signature: messages as Array(Object(role, content)), with params
CHAT_SIGNATURE = ModelSignature(
    Schema(
        [
            ColSpec(
                Array(Object([Property("role", "string"), Property("content", "string")])),
                "messages",
            )
        ]
    ),
    params=ParamSchema(
        [ParamSpec("temperature", "double", 0.5), ParamSpec("max_tokens", "long", 16)]
    ),
)

SEED_ROWS = [[0.1, -0.2, 0.3, -0.4], [0.5, 0.6, -0.7, 0.8]]
SEED_BODY = {"dataframe_split": {"columns": [0, 1, 2, 3], "data": SEED_ROWS}}


class Server:
    """A running ``python -m mlserve.server`` process."""

    def __init__(self, proc: subprocess.Popen[bytes], log_path: Path) -> None:
        self.proc = proc
        self.log_path = log_path
        self.url = ""

    @property
    def pid(self) -> int:
        return self.proc.pid

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")

    def wait_ready(self, timeout: float = 90) -> None:
        # generous: a loaded 2-core machine (a CI run beside other work) took over 30 s to start a
        # 2-worker server once; a server that starts returns as soon as it prints its address
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise AssertionError(f"server exited with {self.proc.returncode}:\n{self.log()}")
            match = READY.search(self.log_path.read_bytes())
            if match:
                self.url = f"http://{match[1].decode()}:{match[2].decode()}"
                break
            time.sleep(0.02)
        else:
            raise AssertionError(f"server not ready in {timeout}s:\n{self.log()}")
        while time.monotonic() < deadline:
            with contextlib.suppress(requests.ConnectionError):
                if requests.get(self.url + "/ping", timeout=2).status_code == 200:
                    return
            time.sleep(0.02)
        raise AssertionError(f"/ping never answered 200:\n{self.log()}")

    def workers(self) -> list[int]:
        """PIDs of the worker processes (children of the server)."""
        return children(self.pid)

    def wait_workers(self, count: int, timeout: float = 10) -> list[int]:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            pids = self.workers()
            if len(pids) == count:
                return pids
            time.sleep(0.05)
        raise AssertionError(f"expected {count} workers, have {self.workers()}:\n{self.log()}")

    def stop(self, sig: int = signal.SIGTERM, timeout: float = 15) -> int:
        """Send ``sig`` and wait for the exit status; SIGKILL everything if it does not exit."""
        if self.proc.poll() is None:
            workers = self.workers()
            self.proc.send_signal(sig)
            try:
                self.proc.wait(timeout)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(5)
            for pid in workers:
                with contextlib.suppress(ProcessLookupError):
                    os.kill(pid, signal.SIGKILL)
        return self.proc.returncode


def children(pid: int) -> list[int]:
    """PIDs whose parent is ``pid`` (Linux /proc)."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        # the command name may contain spaces and parentheses: split after the last ")"
        fields = stat[stat.rindex(")") + 2 :].split()
        if int(fields[1]) == pid:
            found.append(int(entry.name))
    return sorted(found)


def memory(pid: int) -> dict[str, int]:
    """``/proc/<pid>/smaps_rollup`` in bytes: ``Rss``, ``Private_Dirty``, ``Shared_Dirty``..."""
    fields = {}
    for line in Path(f"/proc/{pid}/smaps_rollup").read_text().splitlines()[1:]:
        name, value, *_ = line.split()
        fields[name.rstrip(":")] = int(value) * 1024
    return fields


def rss_bytes(pid: int) -> int:
    """Resident set size of ``pid`` (Linux /proc)."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) * 1024
    raise AssertionError(f"no VmRSS for {pid}")


def server_command(*args: str) -> list[str]:
    """``python -m mlserve.server ARGS``."""
    return [sys.executable, "-m", "mlserve.server", *args]


_CLI = "import sys; from mlserve.cli import main; sys.exit(main())"


def cli_command(*args: str) -> list[str]:
    """The ``mlserve`` command line (``mlserve ARGS``), with this interpreter."""
    return [sys.executable, "-c", _CLI, *args]


def server_env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("MLSERVE_")}
    env["PYTHONWARNINGS"] = "ignore"  # the server's own warnings are not under test here
    env.update(extra)
    return env


@contextlib.contextmanager
def start_server(
    log_dir: Path,
    *args: str,
    env: dict[str, str] | None = None,
    command: list[str] | None = None,
    cwd: Path | None = None,
) -> Iterator[Server]:
    """Start a server with ``args`` (``-p 0`` is added unless a port is given, by flag or
    ``MLSERVE_PORT``) in ``cwd`` (default: ``log_dir``) and yield it
    once ``/ping`` answers; stop it by PID afterwards."""
    log_dir.mkdir(parents=True, exist_ok=True)
    log_path = log_dir / f"server-{time.monotonic_ns()}.log"
    argv = list(args)
    if "-p" not in argv and "--port" not in argv and "MLSERVE_PORT" not in (env or {}):
        argv += ["-p", "0"]
    command = [*(command or server_command()), *argv]
    with open(log_path, "wb") as log:
        proc = subprocess.Popen(
            command,
            stdout=log,
            stderr=subprocess.STDOUT,
            cwd=cwd or log_dir,
            env=env or server_env(),
        )
    server = Server(proc, log_path)
    try:
        server.wait_ready()
        yield server
    finally:
        server.stop()
