"""What the benchmark reports about its peers and its machine: where MLflow's Python is and
which versions it has, which optional packages our side has, and the machine's CPU, Python and
kernel."""

from __future__ import annotations

import importlib.util
import json
import os
import platform
import shutil
import subprocess
from pathlib import Path

__all__ = ["find_mlflow_python", "machine", "mlflow_versions", "optional_packages"]


def find_mlflow_python(arg: str | None) -> str | None:
    """--mlflow-python, else $MLSERVE_BENCH_MLFLOW_PYTHON, else the Python of `mlflow` on PATH."""
    if arg:
        return arg
    if env := os.environ.get("MLSERVE_BENCH_MLFLOW_PYTHON"):
        return env
    exe = shutil.which("mlflow")
    if exe is None:
        return None
    first = Path(exe).read_bytes()[:200].split(b"\n", 1)[0]
    if first.startswith(b"#!"):
        return first[2:].decode().strip().split()[0]
    return None


def mlflow_versions(python: str) -> dict[str, str] | None:
    code = (
        "import json, mlflow, sklearn; print(json.dumps([mlflow.__version__, sklearn.__version__]))"
    )
    out = subprocess.run([python, "-c", code], capture_output=True, text=True, check=False)
    if out.returncode != 0:
        return None
    mlflow_v, sklearn_v = json.loads(out.stdout.strip().splitlines()[-1])
    return {"mlflow": mlflow_v, "sklearn": sklearn_v}


def optional_packages() -> str:
    """Which optional packages our side's environment has: orjson speeds up JSON, and pandas
    imports pyarrow at start-up when it is installed (a worker's memory grows by it)."""
    found = [f"{name} {'installed' if importlib.util.find_spec(name) else 'not installed'}"
             for name in ("orjson", "pyarrow")]  # fmt: skip
    return ", ".join(found)


def machine() -> dict[str, str]:
    cpu = "unknown"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return {
        "nproc": str(os.cpu_count()),
        "cpu": cpu,
        "python": platform.python_version(),
        "kernel": platform.release(),
    }
