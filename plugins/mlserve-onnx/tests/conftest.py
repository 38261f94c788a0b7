"""Fixtures: mlserve.testing.fixtures (each test in its own directory, and seed_data), and
MLflow 3's Python with mlflow.onnx, onnx and onnxruntime for the suites that compare with it."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

pytest_plugins = ["mlserve.testing.fixtures"]

# the repository's MLflow peer harness (tests/store/mlflow/_mlflow_peer.py), as the lightgbm
# plugin's tests use it: this plugin lives in the same repository
sys.path.insert(0, str(Path(__file__).resolve().parents[3] / "tests" / "store" / "mlflow"))

MLFLOW_PYTHON = Path(
    os.environ.get("MLSERVE_TEST_MLFLOW3_PYTHON")
    or Path.home() / ".cache/mlserve-checks/mlflow-venv/bin/python"
)


@pytest.fixture(scope="session")
def mlflow_onnx_python() -> Path:
    """MLflow 3's Python, able to import mlflow.onnx; a failure when CI requires MLflow
    (``MLSERVE_TEST_REQUIRE_MLFLOW=1``), a skip elsewhere."""
    probe = "import mlflow.onnx, onnx, onnxruntime"
    if MLFLOW_PYTHON.exists() and subprocess.run([MLFLOW_PYTHON, "-c", probe]).returncode == 0:
        return MLFLOW_PYTHON
    hint = f"{MLFLOW_PYTHON} with mlflow, onnx and onnxruntime (.ci/mlflow-venvs builds it)"
    if os.environ.get("MLSERVE_TEST_REQUIRE_MLFLOW") == "1":
        pytest.fail(f"MLflow is required: {hint}")
    pytest.skip(f"needs {hint}")
