"""save_model and load_model: flavor choice, atomic publication, signature inference, files."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import threading
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml

import mlserve
from mlserve import PythonModel
from mlserve.errors import (
    ArtifactNotFound,
    FlavorNotFound,
    InvalidParameterValue,
    NoFlavorForModel,
    ResourceAlreadyExists,
)
from mlserve.schema import AnyType, ColSpec, ModelSignature, Schema, TensorSpec


def test_flavor_is_picked_automatically(seed_model, tmp_path: Path) -> None:
    assert set(mlserve.save_model(seed_model, tmp_path / "a").flavors) == {
        "python_function",
        "sklearn",
    }
    pyfunc = mlserve.save_model(lambda x: x, tmp_path / "b").flavors
    assert pyfunc["python_function"]["loader_module"] == "mlflow.pyfunc.model"


def test_no_flavor_for_the_object(tmp_path: Path) -> None:
    with pytest.raises(NoFlavorForModel) as info:
        mlserve.save_model(3, tmp_path / "m")
    assert info.value.type_name == "builtins.int"
    assert "sklearn" in info.value.installed
    assert not (tmp_path / "m").exists()


def test_unknown_flavor_name(seed_model, tmp_path: Path) -> None:
    with pytest.raises(FlavorNotFound, match="Installed flavors: python_function, sklearn"):
        mlserve.save_model(seed_model, tmp_path / "m", flavor="h2o")


def test_existing_non_empty_directory_is_refused(seed_model, tmp_path: Path) -> None:
    (tmp_path / "m").mkdir()
    (tmp_path / "m" / "keep.txt").write_text("mine")
    with pytest.raises(ResourceAlreadyExists, match="model directory"):
        mlserve.save_model(seed_model, tmp_path / "m")
    assert [p.name for p in (tmp_path / "m").iterdir()] == ["keep.txt"]
    (tmp_path / "f").write_text("a file")
    with pytest.raises(ResourceAlreadyExists):
        mlserve.save_model(seed_model, tmp_path / "f")


def test_an_empty_directory_is_filled(seed_model, tmp_path: Path) -> None:
    (tmp_path / "m").mkdir()
    mlserve.save_model(seed_model, tmp_path / "m")
    assert (tmp_path / "m" / "MLmodel").is_file()


class Unpicklable(PythonModel):
    def __init__(self) -> None:
        self.lock = threading.Lock()  # cannot be pickled: save fails halfway

    def predict(self, context, model_input, params=None):
        return model_input


def test_a_failed_save_leaves_nothing_behind(tmp_path: Path) -> None:
    with pytest.raises(InvalidParameterValue, match="cannot pickle the Unpicklable model"):
        mlserve.save_model(Unpicklable(), tmp_path / "m")
    assert list(tmp_path.iterdir()) == []


def test_save_publishes_by_rename_into_the_same_parent(seed_model, tmp_path: Path) -> None:
    mlserve.save_model(seed_model, tmp_path / "nested" / "m")
    assert [p.name for p in (tmp_path / "nested").iterdir()] == ["m"]


def test_signature_is_inferred_from_an_ndarray_example(seed_model, seed_data, tmp_path) -> None:
    X, _ = seed_data
    saved = mlserve.save_model(seed_model, tmp_path / "m", input_example=X[:3])
    assert saved.signature == ModelSignature(
        inputs=Schema([TensorSpec("float64", (-1, 4))]),
        outputs=Schema([TensorSpec("int64", (-1,))]),
    )
    serving = json.loads((tmp_path / "m" / "serving_input_example.json").read_text())
    assert serving == {"inputs": X[:3].tolist()}
    loaded = mlserve.load_model(tmp_path / "m")
    assert loaded.signature == saved.signature
    np.testing.assert_array_equal(loaded.predict(X), seed_model.predict(X))


def test_signature_is_inferred_from_a_dataframe_example(seed_model, seed_data, tmp_path) -> None:
    X, _ = seed_data
    frame = pd.DataFrame(X[:2])
    saved = mlserve.save_model(seed_model, tmp_path / "m", input_example=frame)
    # integer labels stay integers, as MLflow's infer_signature writes them ("name": 0)
    assert saved.signature.inputs == Schema([ColSpec("double", i) for i in range(4)])
    body = json.loads((tmp_path / "m" / "serving_input_example.json").read_text())
    assert body == {"dataframe_split": {"data": X[:2].tolist()}}
    # the seed's request body: integer column names, as JSON sends them
    loaded = mlserve.load_model(tmp_path / "m")
    request = pd.DataFrame(X[:2], columns=[0, 1, 2, 3])
    np.testing.assert_array_equal(loaded.predict(request), seed_model.predict(X[:2]))


def test_an_explicit_signature_wins(seed_model, seed_data, tmp_path: Path) -> None:
    X, _ = seed_data
    signature = ModelSignature(inputs=Schema([TensorSpec("float64", (-1, 4))]))
    saved = mlserve.save_model(seed_model, tmp_path / "m", signature=signature, input_example=X[:2])
    assert saved.signature == signature


def test_an_example_the_model_rejects_keeps_the_input_schema(tmp_path: Path) -> None:
    def needs_columns(frame):
        return frame["missing"]

    saved = mlserve.save_model(needs_columns, tmp_path / "m", input_example={"a": [1.0]})
    assert saved.signature.inputs == Schema([ColSpec("double", "a")])
    assert saved.signature.outputs is None


def test_a_prediction_no_schema_describes_gets_an_any_output_schema(tmp_path: Path) -> None:
    # class-number keys (an ONNX ZipMap's probabilities): MLflow warns and writes outputs as one
    # AnyType column; refusing to save the model would be worse
    def zipmap_like(frame):
        return pd.DataFrame({"p": [{0: 0.25, 1: 0.75}] * len(frame)})

    saved = mlserve.save_model(zipmap_like, tmp_path / "m", input_example={"a": [1.0]})
    assert saved.signature.inputs == Schema([ColSpec("double", "a")])
    assert saved.signature.outputs == Schema([ColSpec(AnyType())])
    assert saved.signature.outputs.to_dict() == [{"type": "any", "required": True}]


def test_metadata_run_and_version_are_recorded(seed_model, tmp_path: Path) -> None:
    mlserve.save_model(
        seed_model, tmp_path / "m", metadata={"team": "fraud"}, run_id="abc", artifact_path="rf"
    )
    doc = yaml.safe_load((tmp_path / "m" / "MLmodel").read_text())
    assert doc["metadata"] == {"team": "fraud"}
    assert (doc["run_id"], doc["artifact_path"]) == ("abc", "rf")
    assert doc["mlserve_version"] == mlserve.__version__


def test_requirements(seed_model, tmp_path: Path) -> None:
    mlserve.save_model(seed_model, tmp_path / "a", extra_pip_requirements=["boto3>=1.0"])
    lines = (tmp_path / "a" / "requirements.txt").read_text().splitlines()
    # MLflow loads a scikit-learn model natively: no mlserve line (tests/api/test_requirements.py)
    assert not any(line.startswith("mlserve") for line in lines)
    assert lines[-1] == "boto3>=1.0"
    assert any(line.startswith("scikit-learn==") for line in lines)
    mlserve.save_model(seed_model, tmp_path / "b", pip_requirements=["scikit-learn"])
    assert (tmp_path / "b" / "requirements.txt").read_text() == "scikit-learn\n"


def test_code_paths_are_copied(seed_model, tmp_path: Path) -> None:
    (tmp_path / "pkg").mkdir()
    (tmp_path / "pkg" / "__init__.py").write_text("")
    (tmp_path / "util.py").write_text("X = 1\n")
    saved = mlserve.save_model(
        seed_model, tmp_path / "m", code_paths=[tmp_path / "pkg", tmp_path / "util.py"]
    )
    assert saved.flavors["sklearn"]["code"] == "code"
    assert sorted(p.name for p in (tmp_path / "m" / "code").iterdir()) == ["pkg", "util.py"]


@pytest.mark.parametrize("form", ["path", "mlmodel-file", "file-uri"], ids=str)
def test_load_model_uri_forms(form: str, seed_model, seed_data, tmp_path: Path) -> None:
    X, _ = seed_data
    mlserve.save_model(seed_model, tmp_path / "m")
    uri = {
        "path": str(tmp_path / "m"),
        "mlmodel-file": str(tmp_path / "m" / "MLmodel"),
        "file-uri": (tmp_path / "m").as_uri(),
    }[form]
    loaded = mlserve.load_model(uri)
    assert loaded.model_uri == uri
    np.testing.assert_array_equal(loaded.predict(X[:5]), seed_model.predict(X[:5]))


def test_load_model_without_mlmodel(tmp_path: Path) -> None:
    with pytest.raises(ArtifactNotFound, match="the directory has no MLmodel file"):
        mlserve.load_model(tmp_path)
    with pytest.raises(ArtifactNotFound) as info:
        mlserve.load_model(tmp_path / "nowhere")
    assert "MLmodel" not in str(info.value)


@pytest.mark.parametrize(
    ("model", "options", "fragment"),
    [
        ("sklearn", {"serialisation_format": "pickle"}, "serialization_format, pyfunc_predict_fn"),
        ("function", {"artifact": {}}, "artifacts, model_config"),
    ],
    ids=["sklearn-typo", "python_function-typo"],
)
def test_an_option_the_flavor_does_not_take_lists_those_it_does(
    model: str, options: dict, fragment: str, seed_model, tmp_path: Path
) -> None:
    obj = seed_model if model == "sklearn" else (lambda x: x)
    with pytest.raises(InvalidParameterValue, match=f"takes no option.*{fragment}"):
        mlserve.save_model(obj, tmp_path / "m", **options)
    assert list(tmp_path.iterdir()) == []


KILLED_MID_SAVE = """
import os, signal, sys
import mlserve


class Dies(mlserve.PythonModel):
    def __getstate__(self):  # runs while the model file is being written
        os.kill(os.getpid(), signal.SIGKILL)

    def predict(self, model_input, params=None):
        return model_input


mlserve.save_model(Dies(), sys.argv[1])
"""


def test_a_killed_save_publishes_nothing(tmp_path: Path) -> None:
    script = tmp_path / "dies.py"
    script.write_text(KILLED_MID_SAVE)
    target = tmp_path / "out" / "m"
    proc = subprocess.run(
        [sys.executable, str(script), str(target)], capture_output=True, timeout=60
    )
    assert proc.returncode == -signal.SIGKILL, proc.stderr.decode()
    assert not target.exists()
    # only the hidden staging directory is left, and it does not block the next save
    assert [p.name.startswith(".m.") for p in target.parent.iterdir()] == [True]
    mlserve.save_model(lambda x: x, target)
    assert mlserve.load_model(target).predict(np.array([1])).tolist() == [1]


def _rows(data, params=None):  # a model that accepts any input: one zero per row
    return np.zeros(len(next(iter(data.values()))) if isinstance(data, dict) else len(data))


EXAMPLES = {
    "frame": pd.DataFrame({"a": [1.0, 2.0], "s": ["x", "y"], "n": [1, 2]}),
    "int-column-names": pd.DataFrame(np.arange(6.0).reshape(2, 3)),
    "datetime-bool": pd.DataFrame(
        {"t": pd.to_datetime(["2024-01-01", "2024-01-02"]), "b": [1, 0]}
    ).astype({"b": bool}),
    "binary": pd.DataFrame({"b": [b"\x00\xff", b"cd"]}),
    "nan": pd.DataFrame({"a": [1.0, np.nan]}),
    "ndarray": np.arange(6.0).reshape(2, 3),
    "float32-3d": np.arange(12, dtype=np.float32).reshape(2, 2, 3),
    "int32": np.arange(4, dtype=np.int32).reshape(2, 2),
    "tensor-dict": {"a": np.array([1.0, 2.0], np.float32), "b": np.array([[1, 2], [3, 4]])},
    "column-dict": {"a": [1.0, 2.0], "s": ["x", "y"]},
    "records": [{"a": 1.0, "s": "x"}, {"a": 2.0, "s": "y"}],
    "with-params": (pd.DataFrame({"a": [1.0]}), {"k": 2, "name": "z", "v": [1.0, 2.0]}),
}


@pytest.mark.parametrize("example", list(EXAMPLES.values()), ids=list(EXAMPLES))
def test_saved_examples_fit_their_signature_and_are_ready_to_post(
    example: object, tmp_path: Path
) -> None:
    from mlserve.codecs import decode_request

    mlserve.save_model(_rows, tmp_path / "m", input_example=example)
    loaded = mlserve.load_model(tmp_path / "m")
    assert loaded.signature is not None and loaded.signature.inputs is not None
    # the example read back has the types JSON lost (float32, bytes) and fits the signature
    loaded.enforcer(loaded.input_example)
    loaded.predict(loaded.input_example)
    # serving_input_example.json is a body /invocations accepts as it is
    body = (tmp_path / "m" / "serving_input_example.json").read_bytes()
    request = decode_request(
        body, "application/json", loaded.signature.inputs, loaded.params_schema
    )
    loaded.predict(request.data, params=request.params)
    if isinstance(example, tuple):
        assert request.params == example[1]
