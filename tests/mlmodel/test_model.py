"""The MLmodel file: MLflow's layout, round trips, and the errors for broken files."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from mlserve.errors import InvalidSignature, MalformedModel
from mlserve.mlmodel import MLMODEL_FILE_NAME, Model, ModelInfo
from mlserve.schema import ColSpec, ModelSignature, ParamSchema, ParamSpec, Schema, TensorSpec

# what mlflow.sklearn.save_model writes (MLflow 2.x/3.x), with keys mlserve does not model
MLFLOW_MLMODEL = """\
artifact_path: model
databricks_runtime: '15.4'
flavors:
  python_function:
    env:
      conda: conda.yaml
      virtualenv: python_env.yaml
    loader_module: mlflow.sklearn
    model_path: model.pkl
    predict_fn: predict
    python_version: 3.11.7
  sklearn:
    code: null
    pickled_model: model.pkl
    serialization_format: cloudpickle
    sklearn_version: 1.9.1
mlflow_version: 2.20.3
model_size_bytes: 117149
model_uuid: 4c1b9f0a6e8e4b1c9d1f3c2b1a0e9d8c
run_id: 627648c8e53549f0acf8ebeb6b27aba8
saved_input_example_info:
  artifact_path: input_example.json
  pandas_orient: split
  serving_input_path: serving_input_example.json
  type: dataframe
signature:
  inputs: '[{"type": "double", "name": "amount", "required": true}, {"type": "long", "name":
    "age", "required": true}]'
  outputs: '[{"type": "tensor", "tensor-spec": {"dtype": "int64", "shape": [-1]}}]'
  params: null
utc_time_created: '2026-08-04 11:00:46.002863'
"""


def _write(tmp_path: Path, text: str) -> Path:
    (tmp_path / MLMODEL_FILE_NAME).write_text(text)
    return tmp_path


def test_reads_mlflow_fields(tmp_path: Path) -> None:
    model = Model.load(_write(tmp_path, MLFLOW_MLMODEL))
    assert model.flavors["python_function"]["loader_module"] == "mlflow.sklearn"
    assert model.flavors["sklearn"]["pickled_model"] == "model.pkl"
    assert model.run_id == "627648c8e53549f0acf8ebeb6b27aba8"
    assert model.artifact_path == "model"
    assert model.utc_time_created == "2026-08-04 11:00:46.002863"
    assert model.saved_input_example_info["serving_input_path"] == "serving_input_example.json"
    assert model.signature.inputs == Schema([ColSpec("double", "amount"), ColSpec("long", "age")])
    assert model.signature.outputs == Schema([TensorSpec("int64", (-1,))])
    assert model.signature.params is None
    assert model.extra == {
        "databricks_runtime": "15.4",
        "mlflow_version": "2.20.3",
        "model_size_bytes": 117149,
    }


def test_unknown_keys_and_values_round_trip(tmp_path: Path) -> None:
    original = yaml.safe_load(MLFLOW_MLMODEL)
    model = Model.load(_write(tmp_path, MLFLOW_MLMODEL))
    out = tmp_path / "again"
    model.save(out)
    assert yaml.safe_load((out / MLMODEL_FILE_NAME).read_text()) == original
    assert Model.load(out / MLMODEL_FILE_NAME) == model


def test_signature_parts_are_json_strings_inside_yaml(tmp_path: Path) -> None:
    signature = ModelSignature(
        inputs=Schema([TensorSpec("float64", (-1, 4))]),
        outputs=Schema([TensorSpec("int64", (-1,))]),
        params=ParamSchema([ParamSpec("k", "double", 1.0)]),
    )
    Model(flavors={"sklearn": {}}, signature=signature).save(tmp_path)
    raw = yaml.safe_load((tmp_path / MLMODEL_FILE_NAME).read_text())
    assert raw["signature"] == {
        "inputs": '[{"type": "tensor", "tensor-spec": {"dtype": "float64", "shape": [-1, 4]}}]',
        "outputs": '[{"type": "tensor", "tensor-spec": {"dtype": "int64", "shape": [-1]}}]',
        "params": '[{"name": "k", "type": "double", "default": 1.0, "shape": null}]',
    }
    assert Model.load(tmp_path).signature == signature


def test_none_fields_are_left_out_and_defaults_are_filled() -> None:
    model = Model(flavors={"sklearn": {"pickled_model": "model.pkl"}})
    out = model.to_dict()
    assert set(out) == {"flavors", "model_uuid", "utc_time_created"}
    assert len(model.model_uuid) == 32
    assert Model().model_uuid != Model().model_uuid


def test_add_flavor_and_schema_accessors() -> None:
    signature = ModelSignature(inputs=Schema([ColSpec("double", "a")]))
    model = Model(signature=signature).add_flavor("sklearn", pickled_model="model.pkl")
    assert model.flavors == {"sklearn": {"pickled_model": "model.pkl"}}
    assert model.get_input_schema() == signature.inputs
    assert model.get_output_schema() is None
    assert model.get_params_schema() is None


BROKEN = [
    ("flavors: [", MalformedModel, "not valid YAML at line"),
    ("just a string", MalformedModel, "expected a YAML mapping"),
    ("run_id: abc\n", MalformedModel, "'flavors' must be a non-empty mapping"),
    ("flavors: {}\n", MalformedModel, "'flavors' must be a non-empty mapping"),
    ("flavors:\n  sklearn: 3\n", MalformedModel, "flavor 'sklearn' must map to a section"),
    (
        "flavors: {sklearn: {}}\nsaved_input_example_info: [1]\n",
        MalformedModel,
        "'saved_input_example_info' must be a mapping",
    ),
    (
        "flavors: {sklearn: {}}\nsignature:\n  inputs: '[{\"type\": '\n",
        InvalidSignature,
        "signature 'inputs': schema is not valid JSON",
    ),
    ("flavors: {sklearn: {}}\nsignature:\n  inputs: 7\n", InvalidSignature, "inputs"),
    (
        'flavors: {sklearn: {}}\nsignature:\n  params: \'[{"name": "k", "type": "x"}]\'\n',
        InvalidSignature,
        "signature 'params': unknown data type 'x'",
    ),
]


@pytest.mark.parametrize(
    ("text", "error", "fragment"),
    BROKEN,
    ids=[
        "not-yaml",
        "not-a-mapping",
        "no-flavors",
        "empty-flavors",
        "section-not-mapping",
        "example-info-not-mapping",
        "signature-not-json",
        "signature-wrong-type",
        "params-bad-type",
    ],
)
def test_broken_files_raise_specific_errors(
    tmp_path: Path, text: str, error: type[Exception], fragment: str
) -> None:
    with pytest.raises(error) as info:
        Model.load(_write(tmp_path, text))
    assert fragment in str(info.value)
    assert str(tmp_path) in str(info.value)  # which model, when a server loads many


def test_missing_file_is_malformed_model(tmp_path: Path) -> None:
    with pytest.raises(MalformedModel, match="no MLmodel file found") as info:
        Model.load(tmp_path)
    assert info.value.path == str(tmp_path)


def test_model_info_from_model() -> None:
    model = Model(flavors={"sklearn": {}}, run_id="r1", artifact_path="m", metadata={"a": 1})
    info = ModelInfo.from_model(model, "runs:/r1/m", registered_model_version=3)
    assert info.model_uri == "runs:/r1/m"
    assert info.run_id == "r1"
    assert info.registered_model_version == 3
    assert info.model_uuid == model.model_uuid
    assert info.metadata == {"a": 1}
