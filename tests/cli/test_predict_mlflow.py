"""``mlserve predict`` and ``mlflow models predict`` (MLflow 3.17.2, its own virtualenv) score the
same JSON files with the same chat model and write the same JSON: MLflow's unwrapped LLM bodies
(``{"messages": [...], "temperature": ...}``) get the bare predictions, as over HTTP, and the
wrapped forms ``{"predictions": ...}``. Skipped without MLflow's venv; a failure when
``MLSERVE_TEST_REQUIRE_MLFLOW=1``."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from server._both_servers import CHAT_SOURCE, MESSAGES, save_custom
from server.helpers import CHAT_SIGNATURE

BODIES = {
    "unwrapped-with-a-param": {"messages": MESSAGES, "temperature": 0.25},
    "unwrapped-defaults": {"messages": MESSAGES},
    "unwrapped-undeclared-key": {"messages": MESSAGES, "max_tokens": 3, "stream": True},
    "wrapped-inputs": {"inputs": {"messages": MESSAGES}, "params": {"max_tokens": 3}},
}


@pytest.fixture(scope="module")
def chat_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    # the chat model test_mlflow_wire compares both servers on
    path = tmp_path_factory.mktemp("models") / "chat"
    return save_custom(path, CHAT_SOURCE, "Chat", CHAT_SIGNATURE)


def _mlflow_predict(python: Path, model: Path, body: Path, out: Path) -> Any:
    env = {**os.environ, "MLFLOW_ALLOW_PICKLE_DESERIALIZATION": "true"}
    mlflow = python.parent / "mlflow"
    cmd = [python, mlflow, "models", "predict", "-m", model, "-i", body, "-o", out,
           "-t", "json", "--env-manager", "local"]  # fmt: skip
    done = subprocess.run(cmd, capture_output=True, env=env, timeout=300, cwd=out.parent)
    assert done.returncode == 0, done.stderr[-3000:]
    return json.loads(out.read_text())


def _mlserve_predict(model: Path, body: Path, out: Path) -> Any:
    cli = [sys.executable, "-c", "import sys; from mlserve.cli import main; sys.exit(main())"]
    cmd = [*cli, "predict", "-m", str(model), "-i", str(body), "-o", str(out)]
    done = subprocess.run(cmd, capture_output=True, timeout=120, cwd=out.parent)
    assert done.returncode == 0, done.stderr[-3000:]
    return json.loads(out.read_text())


@pytest.mark.parametrize("case", list(BODIES))
def test_same_output_as_mlflow_models_predict(
    mlflow3_python: Path, chat_dir: Path, tmp_path: Path, case: str
) -> None:
    body = tmp_path / "body.json"
    body.write_text(json.dumps(BODIES[case]))
    ours = _mlserve_predict(chat_dir, body, tmp_path / "ours.json")
    theirs = _mlflow_predict(mlflow3_python, chat_dir, body, tmp_path / "theirs.json")
    assert ours == theirs
    # the chat model answers what it was given: unwrapped bodies are answered bare
    assert ("predictions" in ours) is case.startswith("wrapped")
