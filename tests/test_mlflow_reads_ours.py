"""Models mlserve writes load in real MLflow 3 and predict what mlserve predicts.

The other direction of tests/test_mlflow_models.py: mlserve saves, then MLflow 3.17 (in its own
virtualenv, driven by tests/store/mlflow/_mlflow_peer.py) runs ``mlflow.pyfunc.load_model`` and
``Model.load_input_example`` on the directory. A custom PythonModel's pickle refers to
``mlserve.PythonModel`` (as MLflow's refer to ``mlflow.pyfunc.PythonModel``), so the peer puts
this checkout on its ``sys.path``: the environment the model's requirements.txt describes.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
import requests
from store.mlflow._mlflow_peer import (
    REQUIRE_ENV,
    free_port,
    peer_env,
    run_peer_script,
    stop_session,
    wait_ping,
)

import mlserve

CHECKOUT = Path(__file__).resolve().parent.parent

# ARGS: {"checkout": str | null, "model": str, "rows": {"columns": [...], "data": [...]} | null}
PREDICT_SCRIPT = """\
import sys
if ARGS["checkout"] is not None:  # mlserve importable, as the model's requirements say
    sys.path.insert(0, ARGS["checkout"])

import mlflow
import numpy as np
import pandas as pd

path = ARGS["model"]
meta = mlflow.models.Model.load(path)
example = meta.load_input_example(path)
if ARGS["rows"] is None:
    data = example
else:
    data = pd.DataFrame(ARGS["rows"]["data"], columns=ARGS["rows"]["columns"])
out = mlflow.pyfunc.load_model(path).predict(data)
if isinstance(out, pd.DataFrame):
    out = out.to_numpy()
emit({
    "predictions": np.asarray(out).tolist(),
    "example": None if example is None else np.asarray(example).tolist(),
    "example_params": meta.load_input_example_params(path),
    "mlserve_imported": "mlserve" in sys.modules,
})
"""


def _mlflow_reads(
    python: Path, model: Path, rows: pd.DataFrame | None = None, *, with_mlserve: bool = True
) -> dict[str, Any]:
    frame = None if rows is None else {"columns": list(rows.columns), "data": rows.values.tolist()}
    checkout = str(CHECKOUT) if with_mlserve else None
    args = {"checkout": checkout, "model": str(model), "rows": frame}
    return run_peer_script(python, PREDICT_SCRIPT, cwd=model.parent, args=args)


def _custom_models() -> dict[str, mlserve.PythonModel]:
    # defined in a function so that cloudpickle stores the classes by value, as it does for a
    # user's script: the peer cannot import this test module

    class Doubler(mlserve.PythonModel):
        """The documented form: context first, then the input and params."""

        def predict(self, context, model_input, params=None):  # type: ignore[no-untyped-def]
            return model_input * 2

    class NoContext(mlserve.PythonModel):
        """The MLflow 2.20+ form: no context argument."""

        def predict(self, model_input, params=None):  # type: ignore[no-untyped-def]
            return model_input + 1

    return {"context": Doubler(), "no-context": NoContext()}


def test_sklearn_model_with_an_ndarray_example(
    mlflow3_python: Path, seed_model: Any, seed_data: Any, tmp_path: Path
) -> None:
    X, _ = seed_data
    mlserve.save_model(seed_model, tmp_path / "rf", input_example=X[:3])
    # without mlserve: its requirements.txt does not list it, and MLflow needs nothing from it
    got = _mlflow_reads(mlflow3_python, tmp_path / "rf", with_mlserve=False)
    assert got["mlserve_imported"] is False
    # MLflow reads the example mlserve wrote, and predicts on it what mlserve predicts
    np.testing.assert_array_equal(got["example"], X[:3])
    ours = mlserve.load_model(tmp_path / "rf")
    assert got["predictions"] == ours.predict(ours.input_example).tolist()


@pytest.mark.parametrize("kind", ["context", "no-context"])
def test_custom_python_model(mlflow3_python: Path, kind: str, tmp_path: Path) -> None:
    model = _custom_models()[kind]
    rows = pd.DataFrame({"a": [1.0, 2.5], "b": [-1.0, 0.0]})
    mlserve.save_model(model, tmp_path / "py", input_example=rows)
    got = _mlflow_reads(mlflow3_python, tmp_path / "py", rows)
    expected = np.asarray(mlserve.load_model(tmp_path / "py").predict(rows)).tolist()
    assert got["predictions"] == expected


def test_function_model_with_params_in_its_example(mlflow3_python: Path, tmp_path: Path) -> None:
    def scale(model_input: Any, params: Any = None) -> Any:
        return model_input * (params or {}).get("k", 1.0)

    rows = pd.DataFrame({"a": [1.0, 2.0]})
    mlserve.save_model(scale, tmp_path / "fn", input_example=(rows, {"k": 3.0}))
    got = _mlflow_reads(mlflow3_python, tmp_path / "fn", rows)
    assert got["example_params"] == {"k": 3.0}
    assert got["example"] == rows.to_numpy().tolist()
    # without params MLflow fills the declared default, as mlserve does
    expected = np.asarray(mlserve.load_model(tmp_path / "fn").predict(rows)).tolist()
    assert got["predictions"] == expected == [[3.0], [6.0]]


# building the environment installs the model's requirements and MLflow itself (about 140 s
# here with pip's cache warm); the environment is kept under the MLflow venvs' cache, keyed by
# MLflow on the requirements' text, so a change to what models list is built (and tested) anew
_MLFLOW_SERVE_TIMEOUT_S = 600


def _mlflow_env_manager() -> tuple[str, str]:
    """MLflow's default ``virtualenv`` env manager when pyenv (which it requires) is on PATH,
    else its ``uv`` manager; and the PATH to run it with."""
    bin_dirs = [str(Path(sys.executable).parent)]  # uv comes with the dev extra
    path = os.pathsep.join([*bin_dirs, os.environ.get("PATH", "")])
    if shutil.which("pyenv", path=path):
        return "virtualenv", path
    if shutil.which("uv", path=path):
        return "uv", path
    message = "MLflow's env managers need pyenv (virtualenv) or uv on PATH: pip install uv"
    if os.environ.get(REQUIRE_ENV) == "1":
        pytest.fail(f"{message} ({REQUIRE_ENV}=1)", pytrace=False)
    pytest.skip(message)


@pytest.mark.slow
def test_mlflow_serves_a_sklearn_model_in_the_environment_its_requirements_describe(
    mlflow3_python: Path, seed_model: Any, seed_data: Any, tmp_path: Path
) -> None:
    """``mlflow models serve`` without ``--env-manager local``: MLflow builds a virtualenv from
    the model's python_env.yaml and requirements.txt with pip (uv), from the public index
    (this machine's pip configuration, local mirrors included, is left out), then serves it.
    ``--install-mlflow`` because MLflow's server must be in that environment; MLflow-written
    models list mlflow for that, mlserve-written ones do not need it to be served by mlserve."""
    X, _ = seed_data
    model = tmp_path / "rf"
    mlserve.save_model(seed_model, model, input_example=X[:3])
    manager, path = _mlflow_env_manager()
    port = free_port()
    environ = peer_env(None, {
        "PATH": path,
        "MLFLOW_ENV_ROOT": str(mlflow3_python.parent.parent.parent / "mlflow-envs"),
        "PIP_CONFIG_FILE": os.devnull,
    })  # fmt: skip
    for key in [k for k in environ if k.startswith(("PIP_", "UV_")) and k != "PIP_CONFIG_FILE"]:
        del environ[key]
    log = tmp_path / "mlflow-serve.log"
    command = [
        str(mlflow3_python), str(mlflow3_python.parent / "mlflow"), "models", "serve",
        "-m", str(model), "--env-manager", manager, "--install-mlflow",
        "-p", str(port), "-h", "127.0.0.1",
    ]  # fmt: skip
    with open(log, "wb") as out:
        proc = subprocess.Popen(command, stdout=out, stderr=subprocess.STDOUT, env=environ,
                                start_new_session=True)  # fmt: skip
    url = f"http://127.0.0.1:{port}"
    try:
        wait_ping(url, proc, log, timeout=_MLFLOW_SERVE_TIMEOUT_S)
        answer = requests.post(url + "/invocations", json={"inputs": X[:3].tolist()}, timeout=60)
        assert answer.status_code == 200, answer.text
        expected = mlserve.load_model(model).predict(X[:3]).tolist()
        assert answer.json() == {"predictions": expected}
    finally:
        stop_session(proc, grace=30)
