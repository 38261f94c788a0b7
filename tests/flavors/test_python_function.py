"""The python_function flavor: PythonModel subclasses with artifacts and params, plain functions."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml

import mlserve
from mlserve import PythonModel
from mlserve.errors import DigestMismatch, InvalidParameterValue, InvalidParams, MalformedModel
from mlserve.flavors._python_function import flavor
from mlserve.mlmodel import Model
from mlserve.schema import ColSpec, ModelSignature, ParamSchema, ParamSpec, Schema
from mlserve.testing import check_flavor


class Scaler(PythonModel):
    """Multiplies column ``a`` by a weight read from an artifact and by the ``scale`` param."""

    def load_context(self, context):
        self.weight = json.loads(Path(context.artifacts["weights"]).read_text())["w"]
        self.offset = context.model_config.get("offset", 0)
        self.vocab = sorted(p.name for p in Path(context.artifacts["vocab"]).iterdir())

    def predict(self, context, model_input, params=None):
        return model_input["a"].to_numpy() * self.weight * params["scale"] + self.offset


class NewStyle(PythonModel):
    """MLflow 2.20+ style: predict without a context."""

    def predict(self, model_input, params=None):
        return np.asarray(model_input).sum(axis=1)


class Failing(PythonModel):
    def predict(self, context, model_input, params=None):
        raise ZeroDivisionError("weights sum to zero")


SIGNATURE = ModelSignature(
    inputs=Schema([ColSpec("double", "a")]),
    params=ParamSchema([ParamSpec("scale", "double", 1.0)]),
)


@pytest.fixture
def artifacts(tmp_path: Path) -> dict[str, str]:
    weights = tmp_path / "src" / "weights.json"
    weights.parent.mkdir()
    weights.write_text(json.dumps({"w": 3.0}))
    vocab = tmp_path / "src" / "vocab"
    vocab.mkdir()
    (vocab / "x.txt").write_text("x")
    (vocab / "y.txt").write_text("y")
    return {"weights": str(weights), "vocab": str(vocab)}


def test_python_model_with_artifacts_and_params(tmp_path: Path, artifacts) -> None:
    mlserve.save_model(
        Scaler(),
        tmp_path / "m",
        signature=SIGNATURE,
        artifacts=artifacts,
        model_config={"offset": 1},
    )
    for source in artifacts.values():  # the model must not depend on the originals
        path = Path(source)
        if path.is_dir():
            for child in path.iterdir():
                child.unlink()
            path.rmdir()
        else:
            path.unlink()
    loaded = mlserve.load_model(tmp_path / "m")
    data = pd.DataFrame({"a": [1, 2]})  # ints are fine for a double column
    np.testing.assert_array_equal(loaded.predict(data), [4.0, 7.0])
    np.testing.assert_array_equal(loaded.predict(data, {"scale": 2}), [7.0, 13.0])
    assert loaded.unwrap().vocab == ["x.txt", "y.txt"]
    # as in MLflow, a name the signature does not declare is dropped (with a logged warning)
    np.testing.assert_array_equal(loaded.predict(data, {"unknown": 1}), [4.0, 7.0])
    with pytest.raises(InvalidParams):
        loaded.predict(data, {"scale": "x"})


def test_layout_matches_mlflow_pyfunc(tmp_path: Path, artifacts) -> None:
    mlserve.save_model(Scaler(), tmp_path / "m", artifacts=artifacts, model_config={"offset": 1})
    section = yaml.safe_load((tmp_path / "m" / "MLmodel").read_text())["flavors"]
    assert list(section) == ["python_function"]
    pyfunc = section["python_function"]
    assert pyfunc["loader_module"] == "mlflow.pyfunc.model"
    assert pyfunc["python_model"] == "python_model.pkl"
    assert pyfunc["model_config"] == {"offset": 1}
    assert pyfunc["artifacts"]["weights"] == {
        "path": "artifacts/weights.json",
        "uri": str(Path(artifacts["weights"]).resolve()),
    }
    assert pyfunc["artifacts"]["vocab"]["path"] == "artifacts/vocab"
    assert "cloudpickle_version" in pyfunc and "python_version" in pyfunc
    assert (tmp_path / "m" / "artifacts" / "vocab" / "x.txt").read_text() == "x"


def test_predict_without_context(tmp_path: Path) -> None:
    mlserve.save_model(NewStyle(), tmp_path / "m")
    assert mlserve.load_model(tmp_path / "m").predict(np.ones((2, 3))).tolist() == [3.0, 3.0]


def double(model_input):
    return model_input * 2


def with_params(model_input, params=None):
    return model_input + (params or {}).get("add", 0)


def test_plain_function(tmp_path: Path) -> None:
    mlserve.save_model(double, tmp_path / "f")
    loaded = mlserve.load_model(tmp_path / "f")
    assert loaded.flavor == "python_function"
    np.testing.assert_array_equal(loaded.predict(np.array([1, 2])), [2, 4])


def test_plain_function_with_params(tmp_path: Path) -> None:
    signature = ModelSignature(params=ParamSchema([ParamSpec("add", "long", 0)]))
    mlserve.save_model(with_params, tmp_path / "f", signature=signature)
    loaded = mlserve.load_model(tmp_path / "f")
    np.testing.assert_array_equal(loaded.predict(np.array([1, 2]), {"add": 5}), [6, 7])


def test_lambda_is_pickled_by_value(tmp_path: Path) -> None:
    mlserve.save_model(lambda x: x + 1, tmp_path / "f")
    assert mlserve.load_model(tmp_path / "f").predict(np.array([1])).tolist() == [2]


def test_exception_in_predict_becomes_model_predict_error(tmp_path: Path) -> None:
    mlserve.save_model(Failing(), tmp_path / "m")
    with pytest.raises(mlserve.errors.ModelPredictError) as info:
        mlserve.load_model(tmp_path / "m").predict(pd.DataFrame({"a": [1.0]}))
    assert info.value.exc_type == "ZeroDivisionError"
    assert info.value.detail == "weights sum to zero"
    assert isinstance(info.value.__cause__, ZeroDivisionError)


def test_missing_artifact_is_rejected_at_save(tmp_path: Path) -> None:
    with pytest.raises(InvalidParameterValue, match="artifact 'w': no file or directory"):
        mlserve.save_model(Scaler(), tmp_path / "m", artifacts={"w": str(tmp_path / "nope")})
    assert not (tmp_path / "m").exists()


def test_artifact_removed_from_model_is_malformed(tmp_path: Path, artifacts) -> None:
    mlserve.save_model(Scaler(), tmp_path / "m", artifacts=artifacts)
    (tmp_path / "m" / "artifacts" / "weights.json").unlink()
    with pytest.raises(DigestMismatch, match=r"artifacts/weights\.json went missing"):
        mlserve.load_model(tmp_path / "m")
    # without digests (as MLflow writes models) the flavor's own check names the artifact
    mlmodel = Model.load(tmp_path / "m")
    mlmodel.mlserve_digests = None
    mlmodel.save(tmp_path / "m")
    with pytest.raises(MalformedModel, match="artifact 'weights' is missing"):
        mlserve.load_model(tmp_path / "m")


def test_cannot_save_other_objects(tmp_path: Path) -> None:
    assert not flavor.can_save(3)
    assert not flavor.can_save(PythonModel)  # a class, not an instance
    with pytest.raises(InvalidParameterValue, match="saves a PythonModel or a function"):
        mlserve.save_model(3, tmp_path / "m", flavor="python_function")


def test_capabilities_are_conservative(tmp_path: Path) -> None:
    mlserve.save_model(double, tmp_path / "f")
    caps = mlserve.load_model(tmp_path / "f").capabilities
    assert caps.supports_params and not caps.batchable and not caps.thread_safe


def test_conformance(tmp_path: Path) -> None:
    check_flavor(flavor, NewStyle(), np.arange(8.0).reshape(4, 2), tmp_path)


SAVE_SCRIPT = """
import json, sys
from pathlib import Path

import pandas as pd

import mlserve
from scaling import scale  # only importable here: the model ships it in code_paths


class Custom(mlserve.PythonModel):  # defined in __main__: cloudpickle stores it by value
    def load_context(self, context):
        self.k = json.loads(Path(context.artifacts["weights"]).read_text())["k"]
        self.unit = context.model_config["unit"]

    def predict(self, context, model_input, params=None):
        factor = self.k * params["mult"]
        return pd.DataFrame({"y": scale(model_input["x"].to_numpy(), factor), "unit": self.unit})


example = (pd.DataFrame({"x": [1.0, 2.0]}), {"mult": 1})
mlserve.save_model(
    Custom(),
    sys.argv[1],
    artifacts={"weights": "weights.json"},
    model_config={"unit": "cm"},
    code_paths=["lib/scaling.py"],
    input_example=example,
)
"""

LOAD_SCRIPT = """
import json, sys
import pandas as pd
import mlserve

model = mlserve.load_model(sys.argv[1])
frame = pd.DataFrame({"x": [1, 3]})  # ints for a double column are fine
out = {
    "default": model.predict(frame).to_dict("list"),
    "mult": model.predict(frame, params={"mult": 10}).to_dict("list"),
    "params": model.signature.params.to_json(),
}
print(json.dumps(out))
"""


def _python(script: str, *args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-c", script, *args], cwd=cwd, capture_output=True, text=True, timeout=60
    )


def test_a_python_model_saved_in_one_process_loads_in_another(tmp_path: Path) -> None:
    """The user's journey: a script defines the model class in __main__ and uses a helper module
    from code_paths; a fresh process elsewhere, without the helper on its path, serves it."""
    work = tmp_path / "work"
    (work / "lib").mkdir(parents=True)
    (work / "lib" / "scaling.py").write_text("def scale(x, k):\n    return x * k\n")
    (work / "weights.json").write_text(json.dumps({"k": 3}))
    env_path = {"PYTHONPATH": str(work / "lib")}
    saved = subprocess.run(
        [sys.executable, "-c", SAVE_SCRIPT, str(tmp_path / "m")],
        cwd=work,
        env={**os.environ, **env_path},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert saved.returncode == 0, saved.stderr
    shutil.rmtree(work)  # the model must need neither the artifacts nor the code it came from
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    loaded = _python(LOAD_SCRIPT, str(tmp_path / "m"), cwd=elsewhere)
    assert loaded.returncode == 0, loaded.stderr
    out = json.loads(loaded.stdout)
    assert out["default"] == {"y": [3.0, 9.0], "unit": ["cm", "cm"]}
    assert out["mult"] == {"y": [30.0, 90.0], "unit": ["cm", "cm"]}
    assert json.loads(out["params"]) == [
        {"name": "mult", "type": "long", "default": 1, "shape": None}
    ]


@pytest.mark.slow
def test_a_model_class_from_a_module_missing_at_load_says_to_use_code_paths(
    tmp_path: Path,
) -> None:
    """A class from an importable module is pickled by reference: without code_paths the model
    only loads where that module is importable, and the error says so."""
    (tmp_path / "mymodels.py").write_text(
        "import mlserve\n\n"
        "class Doubler(mlserve.PythonModel):\n"
        "    def predict(self, model_input, params=None):\n"
        "        return model_input * 2\n"
    )
    save = (
        "import sys, mlserve\nfrom mymodels import Doubler\n"
        "mlserve.save_model(Doubler(), 'bare')\n"
        "mlserve.save_model(Doubler(), 'shipped', code_paths=['mymodels.py'])\n"
    )
    assert _python(save, cwd=tmp_path).returncode == 0
    (tmp_path / "mymodels.py").unlink()
    load = (
        "import sys, numpy, mlserve\nm = mlserve.load_model(sys.argv[1])\n"
        "print(m.predict(numpy.array([[1.0, 2.0]])).tolist())\n"
    )
    assert _python(load, "shipped", cwd=tmp_path).stdout.strip() == "[[2.0, 4.0]]"
    bare = _python(load, "bare", cwd=tmp_path)
    assert bare.returncode == 1
    last = bare.stderr.strip().splitlines()[-1]
    assert last.startswith("mlserve.errors.MalformedModel:"), bare.stderr
    assert "No module named 'mymodels'" in last and "code_paths" in last


def test_an_artifact_path_outside_the_model_is_malformed(tmp_path: Path, artifacts) -> None:
    mlserve.save_model(Scaler(), tmp_path / "m", artifacts=artifacts)
    mlmodel = tmp_path / "m" / "MLmodel"
    doc = yaml.safe_load(mlmodel.read_text())
    doc["flavors"]["python_function"]["artifacts"]["weights"]["path"] = artifacts["weights"]
    mlmodel.write_text(yaml.safe_dump(doc))
    with pytest.raises(MalformedModel, match="is not a file inside the model directory"):
        mlserve.load_model(tmp_path / "m")
