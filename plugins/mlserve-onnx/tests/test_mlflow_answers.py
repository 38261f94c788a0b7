"""The same ONNX models, the same rows: MLflow's ONNX pyfunc (MLflow 3.17.2 with onnxruntime, in
its own virtualenv) and ours give the same JSON, or both refuse.

A DataFrame in gives a DataFrame out in MLflow (a column per output, each flattened), an array in
gives ``{output name: array}``. MLflow's side is its pyfunc and the ``predictions_to_json`` its
scoring server writes; ours is a real ``python -m mlserve.server`` answering ``/invocations``
(``dataframe_split`` for a column signature, ``inputs`` for a tensor one). A model MLflow's
pyfunc raises for is answered ``400 BAD_REQUEST`` by its server (any exception from ``predict``),
and must be by ours. Needs MLflow's venv with onnx and onnxruntime (``.ci/mlflow-venvs`` builds
it): skipped without it, a failure when ``MLSERVE_TEST_REQUIRE_MLFLOW=1``.
"""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

import mlserve
from mlserve.testing import serve_model

# Run in MLflow's venv: each model directory loaded by mlflow.pyfunc, predicted on the rows (as
# a frame, or as an array for a tensor signature), answered as its scoring server writes it.
MLFLOW_SIDE = """
import io, json, sys
import numpy as np, pandas as pd
import mlflow.pyfunc
from mlflow.pyfunc.scoring_server import predictions_to_json

request = json.load(open(sys.argv[1]))
frame = pd.DataFrame(request["rows"], columns=request["columns"]).astype("float32")
answers = {}
for name, as_array in request["models"].items():
    model = mlflow.pyfunc.load_model(request["root"] + "/" + name)
    try:
        out = io.StringIO()
        predictions_to_json(model.predict(frame.to_numpy() if as_array else frame), out)
        answers[name] = {"json": json.loads(out.getvalue())}
    except Exception as exc:
        answers[name] = {"error": type(exc).__name__}
print(json.dumps(answers))
"""


def _models(X: np.ndarray, y: np.ndarray) -> dict[str, tuple[Any, Any]]:
    """name -> (graph, input example: a frame gives a column signature, an array a tensor one)."""
    from skl2onnx import to_onnx
    from sklearn.ensemble import RandomForestClassifier
    from sklearn.linear_model import LinearRegression

    X32 = X.astype(np.float32)
    seed_model = RandomForestClassifier(random_state=42, n_estimators=10).fit(X, y)
    frame = pd.DataFrame(X32, columns=list("abcd"))
    linear = LinearRegression().fit(X32, X32.sum(axis=1))
    one_output = to_onnx(linear, X32[:1])  # "variable" [N, 1]
    zipmap = to_onnx(seed_model, X32[:1])  # "output_label" [N], "output_probability" dicts
    arrays = to_onnx(seed_model, X32[:1], options={id(seed_model): {"zipmap": False}})
    return {
        "one-output-frame": (one_output, frame.head(3)),
        "one-output-array": (one_output, X32[:3]),
        "zipmap-frame": (zipmap, frame.head(3)),
        # "label" [N] beside "probabilities" [N, 2]: no frame holds both flattened (MLflow's
        # ValueError); fed an array, the dict of both
        "label-and-probabilities-frame": (arrays, frame.head(3)),
        "label-and-probabilities-array": (arrays, X32[:3]),
    }


def _ours(path: Path, rows: pd.DataFrame, as_array: bool) -> dict[str, Any]:
    split = {"columns": list(rows.columns), "data": rows.to_numpy().tolist()}
    payload = {"inputs": split["data"]} if as_array else {"dataframe_split": split}
    with serve_model(path) as served:
        status, answer = served.invoke(payload)
    if status == 200:
        return {"json": answer}
    # MLflow's server answers any exception from predict with 400 BAD_REQUEST
    assert (status, answer["error_code"]) == (400, "BAD_REQUEST"), answer
    return {"error": answer["message"]}


def test_same_answers_as_mlflow(
    seed_data: tuple[Any, Any], tmp_path: Path, mlflow_onnx_python: Path
) -> None:
    python = mlflow_onnx_python
    X, y = seed_data
    rows = pd.DataFrame(X[:4].astype(np.float32), columns=list("abcd"))
    models = _models(X, y)
    for name, (graph, example) in models.items():
        mlserve.save_model(graph, tmp_path / name, input_example=example)
    request = {
        "root": str(tmp_path),
        "columns": list(rows.columns),
        "rows": rows.to_numpy().tolist(),
        "models": {name: name.endswith("-array") for name in models},
    }
    (tmp_path / "request.json").write_text(json.dumps(request))
    (tmp_path / "mlflow_side.py").write_text(MLFLOW_SIDE)
    env = {**os.environ, "MLFLOW_ALLOW_FILE_STORE": "true"}
    done = subprocess.run(
        [python, tmp_path / "mlflow_side.py", tmp_path / "request.json"],
        capture_output=True, text=True, env=env, timeout=300, cwd=tmp_path,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr[-2000:]
    theirs = json.loads(done.stdout.strip().splitlines()[-1])
    ours = {name: _ours(tmp_path / name, rows, arr) for name, arr in request["models"].items()}
    refused = {name for name, answer in theirs.items() if "error" in answer}
    assert {name for name, answer in ours.items() if "error" in answer} == refused
    assert {n: a for n, a in ours.items() if n not in refused} == {
        n: a for n, a in theirs.items() if n not in refused
    }
    assert theirs["label-and-probabilities-frame"] == {"error": "ValueError"}
    assert "ValueError" in ours["label-and-probabilities-frame"]["error"]
    # what the comparison covers: a frame answered as records, an array as a dict, one refusal
    assert ours["one-output-frame"]["json"]["predictions"][0].keys() == {"variable"}
    assert ours["one-output-array"]["json"]["predictions"].keys() == {"variable"}
    assert ours["zipmap-frame"]["json"]["predictions"][0].keys() == {
        "output_label",
        "output_probability",
    }
