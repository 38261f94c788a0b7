"""Model files an attacker may have written: paths that escape the model, files changed since
the model was saved (issue 15, items 6 and 7)."""

from __future__ import annotations

import pickle
import shutil
import sys
from pathlib import Path

import pytest
import yaml
from _hostile_pickle import imports_module
from sklearn.linear_model import LogisticRegression

import mlserve
from mlserve.errors import DigestMismatch, MalformedModel
from mlserve.mlmodel import Model
from mlserve.mlmodel._files import compute_digests, verify_digests

MLFLOW_MODELS = Path(__file__).parent.parent / "data" / "mlflow_models"

# imported from outside the model, this package would run at load: it leaves a marker behind
EVIL_INIT = "import pathlib\npathlib.Path({marker!r}).write_text('ran')\n"


def _edit_mlmodel(directory: Path, edit) -> None:  # type: ignore[no-untyped-def]
    path = directory / "MLmodel"
    data = yaml.safe_load(path.read_text())
    edit(data)
    path.write_text(yaml.safe_dump(data))


def _evil_package(root: Path, name: str, marker: Path) -> Path:
    """A directory holding package ``name`` whose import writes ``marker``."""
    package = root / name
    package.mkdir(parents=True)
    (package / "__init__.py").write_text(EVIL_INIT.format(marker=str(marker)))
    return root


@pytest.fixture
def saved(tmp_path: Path, seed_model) -> Path:  # type: ignore[no-untyped-def]
    directory = tmp_path / "models" / "m"
    mlserve.save_model(seed_model, directory, input_example=[[0.1, 0.2, 0.3, 0.4]])
    return directory


# -- item 6: every path an MLmodel names stays inside the model ---------------------------------


def test_code_outside_the_model_is_refused_before_anything_is_imported(
    saved: Path, tmp_path: Path
) -> None:
    marker = tmp_path / "ran"
    evil = _evil_package(tmp_path / "models" / "evilpkg", "mlserve_evil_probe", marker)
    # MLflow's own loader would put models/evilpkg first on sys.path; the pickle then imports
    # the package from there
    (saved / "model.pkl").write_bytes(imports_module("mlserve_evil_probe"))

    def edit(data: dict) -> None:
        data["flavors"]["python_function"]["code"] = "../evilpkg"
        data["flavors"]["sklearn"]["code"] = "../evilpkg"
        data.pop("mlserve_digests")  # as an MLflow-written model has none

    _edit_mlmodel(saved, edit)
    with pytest.raises(MalformedModel, match=r"python_function\.code: '\.\./evilpkg'.*outside"):
        mlserve.load_model(saved)
    assert str(evil) not in sys.path
    assert "mlserve_evil_probe" not in sys.modules
    assert not marker.exists()


def test_code_symlink_escaping_the_model_is_refused(saved: Path, tmp_path: Path) -> None:
    marker = tmp_path / "ran"
    evil = _evil_package(tmp_path / "elsewhere", "mlserve_evil_probe", marker)
    (saved / "code").symlink_to(evil, target_is_directory=True)

    def edit(data: dict) -> None:
        data["flavors"]["sklearn"]["code"] = "code"  # a name inside the model...
        data.pop("mlserve_digests")

    _edit_mlmodel(saved, edit)
    with pytest.raises(MalformedModel, match=r"sklearn\.code: 'code'.*outside"):  # ...resolved
        mlserve.load_model(saved)
    assert str(evil) not in sys.path and str(evil.resolve()) not in sys.path
    assert not marker.exists()


@pytest.mark.parametrize(
    ("key", "edit"),
    [
        ("python_function.model_path", lambda d: d["flavors"]["python_function"].update(
            model_path="../../secret.pkl")),
        ("python_function.data", lambda d: d["flavors"]["python_function"].update(
            data="/etc")),
        ("python_function.env.virtualenv", lambda d: d["flavors"]["python_function"].update(
            env={"virtualenv": "../python_env.yaml"})),
        ("python_function.env", lambda d: d["flavors"]["python_function"].update(
            env="/etc/passwd")),
        ("python_function.artifacts.weights", lambda d: d["flavors"]["python_function"].update(
            artifacts={"weights": {"path": "../../w.json", "uri": "x"}})),
        ("saved_input_example_info.artifact_path", lambda d: d["saved_input_example_info"].update(
            artifact_path="../../secret.json")),
        ("saved_input_example_info.serving_input_path",
         lambda d: d["saved_input_example_info"].update(serving_input_path="/etc/hostname")),
    ],
    ids=["model_path", "data", "env-file", "env-legacy", "artifact", "example", "serving-example"],
)  # fmt: skip
def test_every_path_mlmodel_names_is_confined(saved: Path, key: str, edit) -> None:  # type: ignore[no-untyped-def]
    _edit_mlmodel(saved, edit)
    with pytest.raises(MalformedModel, match=rf"{key}: .* outside"):
        mlserve.load_model(saved, trust="pickle")


def test_input_example_symlink_out_of_the_model_is_not_read(saved: Path, tmp_path: Path) -> None:
    secret = tmp_path / "secret.json"
    secret.write_text('{"columns": ["password"], "data": [["hunter2"]]}')
    (saved / "input_example.json").unlink()
    (saved / "input_example.json").symlink_to(secret)
    _edit_mlmodel(saved, lambda d: d.pop("mlserve_digests"))
    with pytest.raises(MalformedModel, match=r"artifact_path: .input_example\.json.*outside"):
        mlserve.load_model(saved)


# -- item 7: digests written at save, checked at load --------------------------------------------


def test_save_records_a_digest_of_every_file(saved: Path) -> None:
    digests = Model.load(saved).mlserve_digests
    assert digests is not None and digests["algorithm"] == "sha256"
    on_disk = sorted(p.relative_to(saved).as_posix() for p in saved.rglob("*") if p.is_file())
    assert sorted(digests["files"]) == [f for f in on_disk if f != "MLmodel"]
    assert "model.pkl" in digests["files"] and "requirements.txt" in digests["files"]
    assert mlserve.load_model(saved).verified


def test_pickle_overwritten_after_registration_is_refused(seed_model, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    with mlserve.start_run():
        mlserve.log_model(seed_model, "rf", registered_model_name="Guarded")
    model = mlserve.load_model("models:/Guarded/1")
    assert model.verified
    # a different, valid estimator written over the registered version's pickle: loads
    # silently without digests
    other = LogisticRegression().fit([[0.0], [1.0]], [0, 1])
    (model.path / "model.pkl").write_bytes(pickle.dumps(other))
    with pytest.raises(DigestMismatch, match=r"model\.pkl has changed") as caught:
        mlserve.load_model("models:/Guarded/1")
    assert caught.value.file == "model.pkl"
    assert caught.value.error_code == "PERMISSION_DENIED"


@pytest.mark.parametrize(
    ("tamper", "message"),
    [
        (lambda d: (d / "code" / "extra.py").write_text("x = 1\n"), r"code/extra\.py was added"),
        (lambda d: (d / "requirements.txt").unlink(), r"requirements\.txt went missing"),
        (lambda d: (d / "serving_input_example.json").write_text("{}"),
         r"serving_input_example\.json has changed"),
    ],
    ids=["added", "removed", "changed"],
)  # fmt: skip
def test_any_file_changed_since_save_is_refused(saved: Path, tamper, message: str) -> None:  # type: ignore[no-untyped-def]
    (saved / "code").mkdir(exist_ok=True)
    _edit_mlmodel(saved, lambda d: d.update(mlserve_digests=compute_digests(saved)))
    tamper(saved)
    with pytest.raises(DigestMismatch, match=message):
        mlserve.load_model(saved)


def test_listed_file_replaced_by_a_symlink_out_of_the_model(saved: Path, tmp_path: Path) -> None:
    outside = tmp_path / "same.pkl"
    shutil.copy(saved / "model.pkl", outside)  # same bytes: only where it lives differs
    (saved / "model.pkl").unlink()
    (saved / "model.pkl").symlink_to(outside)
    with pytest.raises(DigestMismatch, match=r"model\.pkl points outside the model"):
        verify_digests(saved, Model.load(saved).mlserve_digests or {})


def test_files_written_after_save_by_python_and_mlflow_are_not_model_files(saved: Path) -> None:
    (saved / "code" / "__pycache__").mkdir(parents=True)
    (saved / "code" / "__pycache__" / "m.cpython-311.pyc").write_bytes(b"\0")
    # what mlflow.artifacts.download_artifacts("models:/...") adds next to MLmodel
    (saved / "registered_model_meta").write_text("model_name: m\nmodel_version: '1'\n")
    assert mlserve.load_model(saved).verified


@pytest.mark.parametrize("name", ["sklearn_cloudpickle", "sklearn_skops"])
def test_models_without_digests_load_unverified(name: str) -> None:
    model = mlserve.load_model(MLFLOW_MODELS / name)
    assert model.metadata.mlserve_digests is None
    assert not model.verified


MLFLOW_READS_DIGESTS = """\
import mlflow
import numpy as np

path = ARGS["model"]
out = mlflow.pyfunc.load_model(path).predict(np.asarray(ARGS["rows"]))
emit({
    "predictions": np.asarray(out).tolist(),
    "kept": mlflow.models.Model.load(path).to_dict().get("mlserve_digests"),
})
"""


@pytest.mark.parametrize("serialization_format", ["cloudpickle", "skops"])
def test_mlflow_loads_a_model_with_digests_and_keeps_them(
    mlflow3_python: Path, seed_model, tmp_path: Path, serialization_format: str
) -> None:  # type: ignore[no-untyped-def]
    """The digests live under an MLmodel key of their own, which MLflow 3.17 ignores on load
    and keeps on a read/write (its Model takes unknown keys as attributes)."""
    from store.mlflow._mlflow_peer import run_peer_script

    mlserve.save_model(seed_model, tmp_path / "m", serialization_format=serialization_format)
    recorded = Model.load(tmp_path / "m").mlserve_digests
    rows = [[0.1, -0.2, 0.3, -0.4], [0.5, 0.6, -0.7, 0.8]]
    got = run_peer_script(
        mlflow3_python,
        MLFLOW_READS_DIGESTS,
        cwd=tmp_path,
        args={"model": str(tmp_path / "m"), "rows": rows},
    )
    assert got["predictions"] == mlserve.load_model(tmp_path / "m").predict(rows).tolist()
    assert got["kept"] == recorded
    assert mlserve.load_model(tmp_path / "m").verified  # MLflow wrote nothing into the model
