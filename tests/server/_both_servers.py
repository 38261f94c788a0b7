"""``mlflow models serve`` and ``python -m mlserve.server`` side by side, for the suites that
send both the same requests (test_mlflow_wire, test_mlflow_scoring_replay, and the CLI's
test_predict_mlflow): the custom models both servers load, and both servers on each model.

A custom model here subclasses neither library's PythonModel (cloudpickle would store that base
class by reference, and each server lacks the other's), so both unpickle it from the same
python_model.pkl. predict_type_hints is what MLflow 3's wrapper reads from a PythonModel; mlserve
needs nothing of the kind.
"""

from __future__ import annotations

import contextlib
import os
import subprocess
import sys
from collections.abc import Iterator, Mapping
from pathlib import Path

import numpy as np
import pandas as pd
from store.mlflow._mlflow_peer import free_port, peer_env, stop_session, wait_ping

import mlserve
from mlserve.mlmodel._files import compute_digests
from mlserve.schema import (
    AnyType,
    Array,
    ColSpec,
    Map,
    ModelSignature,
    Object,
    ParamSchema,
    ParamSpec,
    Property,
    Schema,
    TensorSpec,
)

from .helpers import CHAT_SIGNATURE, Server, by_value

# A custom model whose output kind is chosen by the "kind" param.
SHAPES_SOURCE = """
import types

import numpy as np
import pandas as pd


class Shapes:
    predict_type_hints = types.SimpleNamespace(input=None, output=None)

    def load_context(self, context):
        pass

    def predict(self, context, model_input, params=None):
        kind = params["kind"]
        n = len(model_input)
        if kind == "series":  # statsmodels' kind of prediction
            return pd.Series(np.arange(n, dtype="float64") + 0.5)
        if kind == "named-series":
            return pd.Series(np.arange(n), name="y")
        if kind == "frame":
            return pd.DataFrame({"y": np.arange(n), "label": ["a"] * n})
        if kind == "dict":
            return {"a": np.arange(n), "b": np.arange(n) * 0.5}
        if kind == "strings":
            return ["x"] * n
        if kind == "float32":
            return np.full(n, 0.1, dtype=np.float32)
        if kind == "float32-frame":
            return pd.DataFrame({"y": np.full(n, 0.1, dtype=np.float32)})
        if kind == "params":
            return {k: v for k, v in params.items() if k != "kind"}
        if kind == "colliding-frame":  # column names alike as text: 0 and "0"
            return pd.DataFrame([[1, 2]] * n, columns=[0, "0"])
        if kind == "bytes":  # long enough for MLflow's base64 to break its line
            return [b"x" * 100] * n
        if kind == "describe":  # what the model was given: each column's dtype and null count
            return {
                "dtypes": [str(d) for d in model_input.dtypes],
                "nulls": [int(model_input[c].isna().sum()) for c in model_input.columns],
            }
        return model_input
"""

# A chat model (MLflow's chat signature: messages as Array(Object(role, content)), with params)
# that answers what it was given, to compare MLflow's unwrapped LLM bodies on both servers.
CHAT_SOURCE = """
import types

import numpy as np


def _plain(value):
    if isinstance(value, (list, np.ndarray)):
        return [_plain(v) for v in value]
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    return value.item() if isinstance(value, np.generic) else value


class Chat:
    predict_type_hints = types.SimpleNamespace(input=None, output=None)

    def load_context(self, context):
        pass

    def predict(self, context, model_input, params=None):
        return {
            "columns": [str(c) for c in model_input.columns],
            "messages": _plain(list(model_input["messages"])),
            "params": params,
        }
"""

# A model saved without a signature that answers what it was given, as JSON
ECHO_SOURCE = """
import types

import numpy as np
import pandas as pd


def _plain(value):
    if isinstance(value, np.ndarray):  # 0-d included: {"ndarray": ...} says which it was
        return {"ndarray": _plain(value.tolist())}
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    return value.item() if isinstance(value, np.generic) else value


class Echo:
    predict_type_hints = types.SimpleNamespace(input=None, output=None)

    def load_context(self, context):
        pass

    def predict(self, context, model_input, params=None):
        if isinstance(model_input, pd.DataFrame):  # each cell as _plain says it
            return {"frame": {str(c): _plain(list(model_input[c])) for c in model_input.columns}}
        return {type(model_input).__name__: _plain(model_input)}
"""

# Echo that also names the frame's dtypes, which _plain hides (np.int64 and int alike)
DTYPES_SOURCE = (
    ECHO_SOURCE
    + """

class Dtypes(Echo):
    def predict(self, context, model_input, params=None):
        out = Echo.predict(self, context, model_input, params)
        if isinstance(model_input, pd.DataFrame):
            out["dtypes"] = {str(c): str(t) for c, t in model_input.dtypes.items()}
        return out
"""
)

MESSAGES = [{"role": "user", "content": "hi"}]

SHAPES_PARAMS = ParamSchema(
    [
        ParamSpec("kind", "string", "echo"),
        ParamSpec("k", "long", 1),
        ParamSpec("scale", "double", 1.0),
        ParamSpec("flag", "boolean", False),
        ParamSpec("ids", "long", [1, 2], shape=(-1,)),
    ]
)

PROMPT_PARAMS = ParamSchema([ParamSpec("temperature", "double", 0.1)])

COLUMNS = ["0", "1", "2", "3"]  # the forest's, as JSON keys and CSV headers name them


def save_custom(path: Path, source: str, cls: str, signature: ModelSignature | None) -> Path:
    """Save class ``cls`` of ``source`` (one of the sources above, or a suite's own) at ``path``
    with ``signature``, pickled by value so that MLflow's venv unpickles it too."""
    import cloudpickle

    class Placeholder(mlserve.PythonModel):  # writes the MLmodel; its pickle is replaced below
        pass

    mlserve.save_model(Placeholder(), path, signature=signature)
    (path / "python_model.pkl").write_bytes(cloudpickle.dumps(by_value(source, cls)()))
    # the swap is the test's own: record the digests of the model as it now is
    model = mlserve.Model.load(path)
    model.mlserve_digests = compute_digests(path)
    model.save(path)
    return path


def save_wire_models(root: Path) -> dict[str, Path]:
    """The models test_mlflow_wire sends its cases to, under ``root``: "rf" (a RandomForest, no
    params schema), "shapes" (double v), "typed" (string s, datetime t), "ints" (doubles named
    0 and 1), all three Shapes with SHAPES_PARAMS, "chat" (CHAT_SIGNATURE), "tensor" (a
    LogisticRegression logged with an ndarray example: a float64 [-1, 4] tensor signature) and
    "nosig" (Echo, no signature), "complex" (Echo; a: Array(double), o: Object(p: long), x: double)
    "map" (Echo; m: Map(double)) and "array" (Echo; a: Array(double)), and, answering what
    they were given with its dtypes (Dtypes): "any" (z: Any, x: optional double), "mixed-ints"
    (double 0, string 1), "tensors" (float64 tensors a and b), "int-tensor" (int64 [-1, 2]) and
    "prompt" (string prompt, a temperature param)."""
    from sklearn.ensemble import RandomForestClassifier
    from sklearn.linear_model import LogisticRegression

    rng = np.random.default_rng(42)
    X = rng.normal(size=(60, 4))
    forest = RandomForestClassifier(n_estimators=5, random_state=0).fit(X, X[:, 0] > 0)
    mlserve.save_model(forest, root / "rf", input_example=pd.DataFrame(X[:2], columns=COLUMNS))
    signatures = {
        "shapes": Schema([ColSpec("double", "v")]),
        "typed": Schema([ColSpec("string", "s"), ColSpec("datetime", "t")]),
        # integer names: what MLflow writes for a frame with integer column labels ("name": 0)
        "ints": Schema([ColSpec("double", 0), ColSpec("double", 1)]),
    }
    for name, inputs in signatures.items():
        signature = ModelSignature(inputs, params=SHAPES_PARAMS)
        save_custom(root / name, SHAPES_SOURCE, "Shapes", signature)
    save_custom(root / "chat", CHAT_SOURCE, "Chat", CHAT_SIGNATURE)
    linear = LogisticRegression().fit(X, X[:, 0] > 0)
    mlserve.save_model(linear, root / "tensor", input_example=X[:2])
    save_custom(root / "nosig", ECHO_SOURCE, "Echo", None)
    complex_columns = [
        ColSpec(Array("double"), "a"),
        ColSpec(Object([Property("p", "long")]), "o"),
        ColSpec("double", "x"),
    ]
    save_custom(root / "complex", ECHO_SOURCE, "Echo", ModelSignature(Schema(complex_columns)))
    maps = ModelSignature(Schema([ColSpec(Map("double"), "m")]))
    save_custom(root / "map", ECHO_SOURCE, "Echo", maps)
    arrays = ModelSignature(Schema([ColSpec(Array("double"), "a")]))
    save_custom(root / "array", ECHO_SOURCE, "Echo", arrays)
    anything = ModelSignature(
        Schema([ColSpec(AnyType(), "z"), ColSpec("double", "x", required=False)])
    )
    save_custom(root / "any", DTYPES_SOURCE, "Dtypes", anything)
    more = {
        # a double then a string, named 0 and 1: rows are cast whole as the first's type
        "mixed-ints": Schema([ColSpec("double", 0), ColSpec("string", 1)]),
        "tensors": Schema(
            [
                TensorSpec(np.dtype("float64"), (-1,), "a"),
                TensorSpec(np.dtype("float64"), (-1,), "b"),
            ]
        ),
        "int-tensor": Schema([TensorSpec(np.dtype("int64"), (-1, 2))]),
    }
    for name, inputs in more.items():
        save_custom(root / name, DTYPES_SOURCE, "Dtypes", ModelSignature(inputs))
    prompt = ModelSignature(Schema([ColSpec("string", "prompt")]), params=PROMPT_PARAMS)
    save_custom(root / "prompt", DTYPES_SOURCE, "Dtypes", prompt)
    names = ("rf", "shapes", "typed", "ints", "chat", "tensor", "nosig", "complex", "map", "array")
    names += ("any", "mixed-ints", "tensors", "int-tensor", "prompt")
    return {name: root / name for name in names}


@contextlib.contextmanager
def serve_both(
    python: Path, models: Mapping[str, Path], logs: Path
) -> Iterator[dict[str, tuple[str, str]]]:
    """``{model: (mlflow_url, mlserve_url)}``: ``mlflow models serve --env-manager local``, run
    by MLflow's ``python``, and ``python -m mlserve.server`` on each model directory, all
    started before any is waited for, their logs in ``logs``; all stopped when the block
    ends, however it ends."""
    bin_dir = python.parent
    # MLflow starts uvicorn by name; it refuses pickled custom models unless told they are trusted
    path = f"{bin_dir}{os.pathsep}{os.environ.get('PATH', '')}"
    env = peer_env(None, {"PATH": path, "MLFLOW_ALLOW_PICKLE_DESERIALIZATION": "true"})
    our_env = {k: v for k, v in os.environ.items() if not k.startswith("MLSERVE_")}
    theirs: list[tuple[str, subprocess.Popen[bytes], str, Path]] = []
    ours: dict[str, Server] = {}
    try:
        for name, model in models.items():
            port = free_port()
            log = logs / f"mlflow-{name}.log"
            command = [str(python), str(bin_dir / "mlflow"), "models", "serve", "-m", str(model),
                       "-p", str(port), "-h", "127.0.0.1", "--env-manager", "local"]  # fmt: skip
            with open(log, "wb") as out:
                proc = subprocess.Popen(command, stdout=out, stderr=subprocess.STDOUT, env=env,
                                        start_new_session=True)  # fmt: skip
            theirs.append((name, proc, f"http://127.0.0.1:{port}", log))
            our_log = logs / f"mlserve-{name}.log"
            with open(our_log, "wb") as out:
                our = subprocess.Popen(
                    [sys.executable, "-m", "mlserve.server", "-m", str(model), "-p", "0"],
                    stdout=out, stderr=subprocess.STDOUT, env=our_env,
                )  # fmt: skip
            ours[name] = Server(our, our_log)
        urls = {}
        for name, proc, url, log in theirs:
            wait_ping(url, proc, log)
            ours[name].wait_ready(60)
            urls[name] = (url, ours[name].url)
        yield urls
    finally:
        for _, proc, _, _ in theirs:
            stop_session(proc)
        for server in ours.values():
            server.stop()
