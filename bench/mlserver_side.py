"""Seldon MLServer, the V2 peer: its venv, its model repository, and the V2 request bodies.

MLServer runs from its own virtualenv (``.ci/mlserver-venv`` builds it: MLServer 1.7 with
``mlserver-sklearn``, the project's scikit-learn, fastapi below 0.116 and uvloop 0.21.0). It
serves each benchmark model the way its documentation says a scikit-learn model is served: the
fitted estimator saved with ``joblib`` as ``model.joblib`` next to a ``model-settings.json`` naming
``mlserver_sklearn.SKLearnModel``, under a repository whose ``settings.json`` sets only what a run
here must (127.0.0.1, free ports, ``parallel_workers``) and keeps MLServer's defaults otherwise.

The V2 bodies are what MLServer's own ``PandasCodec.encode_request`` builds from a DataFrame:
``parameters.content_type: "pd"`` and one input per column. Both servers get the same bytes.
"""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

DEFAULT_PYTHON = Path.home() / ".cache/mlserve-checks/mlserver-venv/bin/python"


def find_python(arg: str | None) -> str | None:
    """--mlserver-python, else $MLSERVE_BENCH_MLSERVER_PYTHON, else $MLSERVE_TEST_MLSERVER_PYTHON,
    else the venv ``.ci/mlserver-venv`` builds by default, when it exists."""
    for candidate in (
        arg,
        os.environ.get("MLSERVE_BENCH_MLSERVER_PYTHON"),
        os.environ.get("MLSERVE_TEST_MLSERVER_PYTHON"),
    ):
        if candidate:
            return candidate
    return str(DEFAULT_PYTHON) if DEFAULT_PYTHON.exists() else None


def versions(python: str) -> dict[str, str] | None:
    """The versions that matter on MLServer's side, or None when it cannot import mlserver."""
    code = (
        "import json\nfrom importlib.metadata import version\nimport mlserver, mlserver_sklearn\n"
        "print(json.dumps({n: version(n) for n in "
        "('mlserver', 'mlserver-sklearn', 'scikit-learn', 'uvloop', 'fastapi')}))"
    )
    out = subprocess.run([python, "-c", code], capture_output=True, text=True, check=False)
    if out.returncode != 0:
        return None
    return json.loads(out.stdout.strip().splitlines()[-1])


def write_repository(
    root: Path, name: str, model: Any, *, workers: int, ports: tuple[int, int, int]
) -> None:
    """An MLServer model repository serving ``model`` as ``name``; ``ports`` are HTTP, gRPC and
    metrics (MLServer opens all three; each gets a free one so parallel runs never collide)."""
    import joblib

    http, grpc, metrics = ports
    target = root / name
    target.mkdir(parents=True, exist_ok=True)
    joblib.dump(model, target / "model.joblib")
    settings = {
        "name": name,
        "implementation": "mlserver_sklearn.SKLearnModel",
        "parameters": {"uri": "./model.joblib"},
    }
    (target / "model-settings.json").write_text(json.dumps(settings))
    server = {
        "host": "127.0.0.1",
        "http_port": http,
        "grpc_port": grpc,
        "metrics_port": metrics,
        "parallel_workers": workers,
    }
    (root / "settings.json").write_text(json.dumps(server))


def argv(python: str, root: Path) -> list[str]:
    """``mlserver start ROOT`` from MLServer's venv."""
    return [str(Path(python).parent / "mlserver"), "start", str(root)]


def env() -> dict[str, str]:
    """Ours without MLSERVER_* settings (a developer's own would override settings.json)."""
    return {k: v for k, v in os.environ.items() if not k.startswith(("MLSERVER_", "MLSERVE_"))}


def v2_body(frame: pd.DataFrame) -> bytes:
    """The V2 request ``PandasCodec.encode_request(frame)`` builds for numeric and string
    columns: one input per column, shape ``[N, 1]`` as MLServer writes it (both servers read
    ``[N]`` too), strings as BYTES with ``content_type: "str"``."""
    inputs = []
    for column in frame.columns:
        series = frame[column]
        if series.dtype.kind == "f":
            datatype = "FP64" if series.dtype == np.float64 else "FP32"
        elif series.dtype.kind in "iu":
            datatype = "INT64"
        elif series.dtype.kind == "b":
            datatype = "BOOL"
        else:
            datatype = "BYTES"
        entry: dict[str, Any] = {
            "name": str(column),
            "shape": [len(series), 1],
            "datatype": datatype,
        }
        if datatype == "BYTES":
            entry["parameters"] = {"content_type": "str"}
        entry["data"] = series.tolist()
        inputs.append(entry)
    return json.dumps({"parameters": {"content_type": "pd"}, "inputs": inputs}).encode()


def v2_predictions(body: bytes) -> list | None:
    """The first output's data of a V2 response (both servers name one output for a
    classifier's predictions), or None when the body is not a V2 response."""
    try:
        return json.loads(body)["outputs"][0]["data"]
    except (ValueError, KeyError, TypeError, IndexError):
        return None
