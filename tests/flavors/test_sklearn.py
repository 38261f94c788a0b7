"""The sklearn flavor: MLflow's layout, every serialization format, predict_fn, conformance."""

from __future__ import annotations

import json
import pickle
from pathlib import Path

import mlserve.sklearn
import numpy as np
import pandas as pd
import pytest
import yaml
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

import mlserve
from mlserve.errors import (
    DigestMismatch,
    InvalidParameterValue,
    MalformedModel,
    MissingExtra,
    SchemaMismatch,
    UntrustedModel,
)
from mlserve.flavors._sklearn import flavor
from mlserve.testing import check_flavor


def test_seed_model_round_trip_predicts_exactly(seed_model, seed_data, tmp_path: Path) -> None:
    X, _ = seed_data
    mlserve.save_model(seed_model, tmp_path / "rf")
    loaded = mlserve.load_model(tmp_path / "rf")
    np.testing.assert_array_equal(loaded.predict(X), seed_model.predict(X))
    np.testing.assert_array_equal(loaded.predict(pd.DataFrame(X)), seed_model.predict(X))
    assert loaded.flavor == "sklearn"
    assert type(loaded.unwrap()) is type(seed_model)


def test_layout_matches_mlflow_sklearn(seed_model, tmp_path: Path) -> None:
    mlserve.save_model(seed_model, tmp_path / "rf")
    doc = yaml.safe_load((tmp_path / "rf" / "MLmodel").read_text())
    assert doc["flavors"]["python_function"] == {
        "loader_module": "mlflow.sklearn",
        "model_path": "model.pkl",
        "predict_fn": "predict",
        "python_version": mlserve._environment.python_version(),
        "env": {"conda": "conda.yaml", "virtualenv": "python_env.yaml"},
    }
    import sklearn

    assert doc["flavors"]["sklearn"] == {
        "pickled_model": "model.pkl",
        "serialization_format": "cloudpickle",
        "sklearn_version": sklearn.__version__,
        "code": None,
    }
    names = sorted(p.name for p in (tmp_path / "rf").iterdir())
    assert names == ["MLmodel", "conda.yaml", "model.pkl", "python_env.yaml", "requirements.txt"]
    reqs = (tmp_path / "rf" / "requirements.txt").read_text().splitlines()
    assert f"scikit-learn=={sklearn.__version__}" in reqs


@pytest.mark.parametrize("fmt", ["cloudpickle", "pickle"], ids=["cloudpickle", "pickle"])
def test_serialization_formats(fmt: str, seed_model, seed_data, tmp_path: Path) -> None:
    X, _ = seed_data
    mlserve.save_model(seed_model, tmp_path / "m", serialization_format=fmt)
    with open(tmp_path / "m" / "model.pkl", "rb") as f:
        assert type(pickle.load(f)) is type(seed_model)
    loaded = mlserve.load_model(tmp_path / "m")
    assert loaded.metadata.flavors["sklearn"]["serialization_format"] == fmt
    np.testing.assert_array_equal(loaded.predict(X), seed_model.predict(X))


def test_skops_needs_its_extra(seed_model, tmp_path: Path) -> None:
    try:
        import skops  # noqa: F401
    except ImportError:
        with pytest.raises(MissingExtra, match=r"pip install 'mlserve-core\[skops\]'"):
            mlserve.save_model(seed_model, tmp_path / "m", serialization_format="skops")
        assert not (tmp_path / "m").exists()
    else:  # pragma: no cover - skops is not in the dev extra
        mlserve.save_model(seed_model, tmp_path / "m", serialization_format="skops")
        assert mlserve.load_model(tmp_path / "m").flavor == "sklearn"


@pytest.mark.parametrize(
    ("fn", "method"),
    [
        ("predict_proba", "predict_proba"),
        ("predict_log_proba", "predict_log_proba"),
        ("decision_function", "decision_function"),
    ],
    ids=["predict_proba", "predict_log_proba", "decision_function"],
)
def test_pyfunc_predict_fn(fn: str, method: str, seed_data, tmp_path: Path) -> None:
    X, y = seed_data
    model = LogisticRegression().fit(X, y)
    mlserve.save_model(model, tmp_path / "m", pyfunc_predict_fn=fn)
    loaded = mlserve.load_model(tmp_path / "m")
    assert loaded.metadata.flavors["python_function"]["predict_fn"] == fn
    np.testing.assert_array_equal(loaded.predict(X), getattr(model, method)(X))


@pytest.mark.parametrize(
    ("options", "fragment"),
    [
        ({"serialization_format": "joblib"}, "serialization_format must be one of"),
        ({"pyfunc_predict_fn": "fit"}, "pyfunc_predict_fn must be one of"),
        ({"pyfunc_predict_fn": "decision_function"}, "has no such method"),
    ],
    ids=["unknown-format", "not-a-predict-fn", "missing-method"],
)
def test_bad_options(options: dict, fragment: str, seed_model, tmp_path: Path) -> None:
    with pytest.raises(InvalidParameterValue, match=fragment):
        mlserve.save_model(seed_model, tmp_path / "m", **options)
    assert not (tmp_path / "m").exists()


def test_pipeline_with_named_columns(tmp_path: Path) -> None:
    frame = pd.DataFrame({"a": [0.0, 1.0, 2.0, 3.0], "b": [1.0, 0.0, 1.0, 0.0]})
    model = make_pipeline(StandardScaler(), LogisticRegression()).fit(frame, [0, 0, 1, 1])
    mlserve.save_model(model, tmp_path / "m", input_example=frame.head(2))
    loaded = mlserve.load_model(tmp_path / "m")
    # columns are reordered to the signature before the pipeline sees them
    np.testing.assert_array_equal(loaded.predict(frame[["b", "a"]]), model.predict(frame))


def test_ndarray_model_given_named_columns_does_not_warn(seed_model, seed_data, tmp_path) -> None:
    X, _ = seed_data
    mlserve.save_model(seed_model, tmp_path / "m")
    named = pd.DataFrame(X, columns=["w", "x", "y", "z"])
    np.testing.assert_array_equal(
        mlserve.load_model(tmp_path / "m").predict(named), seed_model.predict(X)
    )


def test_can_save_only_estimators(seed_model) -> None:
    assert flavor.can_save(seed_model)
    assert not flavor.can_save(lambda x: x)
    assert not flavor.can_save(np.zeros(3))


def test_missing_pickle_is_malformed(seed_model, tmp_path: Path) -> None:
    mlserve.save_model(seed_model, tmp_path / "m")
    (tmp_path / "m" / "model.pkl").unlink()
    with pytest.raises(DigestMismatch, match=r"model\.pkl went missing"):
        mlserve.load_model(tmp_path / "m")
    # without digests (as MLflow writes models) the flavor's own check names the file
    mlmodel = mlserve.Model.load(tmp_path / "m")
    mlmodel.mlserve_digests = None
    mlmodel.save(tmp_path / "m")
    with pytest.raises(MalformedModel, match=r"model file model\.pkl is missing"):
        mlserve.load_model(tmp_path / "m")


def test_capabilities(seed_model, tmp_path: Path) -> None:
    mlserve.save_model(seed_model, tmp_path / "m")
    caps = mlserve.load_model(tmp_path / "m").capabilities
    assert caps == mlserve.Capabilities(
        accepts_dataframe=True, accepts_ndarray=True, batchable=True, thread_safe=True
    )


@pytest.mark.parametrize(
    "kind", ["ndarray", "dataframe"], ids=["ndarray-example", "dataframe-example"]
)
def test_conformance(kind: str, seed_model, seed_data, tmp_path: Path) -> None:
    X, _ = seed_data
    example = X[:5] if kind == "ndarray" else pd.DataFrame(X[:5], columns=list("abcd"))
    model = seed_model
    if kind == "dataframe":
        from sklearn.ensemble import RandomForestClassifier

        model = RandomForestClassifier(n_estimators=10, random_state=0).fit(
            pd.DataFrame(X, columns=list("abcd")), seed_data[1]
        )
    # one fresh interpreter importing scikit-learn is enough to prove the directory stands alone
    loaded = check_flavor(flavor, model, example, tmp_path, fresh_process=kind == "dataframe")
    assert loaded.signature.outputs is not None


def _mixed_frame() -> pd.DataFrame:
    rng = np.random.default_rng(0)
    return pd.DataFrame(
        {
            "color": rng.choice(["red", "green", "blue"], 40),  # pandas 3: dtype str
            "size": rng.normal(size=40),
            "count": rng.integers(0, 5, 40),
        }
    )


def test_pipeline_with_one_hot_strings_and_a_dataframe_example(tmp_path: Path) -> None:
    from sklearn.compose import make_column_transformer
    from sklearn.preprocessing import OneHotEncoder

    frame = _mixed_frame()
    model = make_pipeline(
        make_column_transformer(
            (OneHotEncoder(handle_unknown="ignore"), ["color"]), (StandardScaler(), ["size"])
        ),
        LogisticRegression(),
    ).fit(frame, frame["color"] == "red")
    mlserve.save_model(
        model, tmp_path / "m", input_example=frame.head(4), pyfunc_predict_fn="predict_proba"
    )
    loaded = mlserve.load_model(tmp_path / "m")
    inputs = loaded.signature.inputs.to_dict()
    assert inputs == [
        {"type": "string", "name": "color", "required": True},
        {"type": "double", "name": "size", "required": True},
        {"type": "long", "name": "count", "required": True},
    ]
    np.testing.assert_array_equal(loaded.predict(frame), model.predict_proba(frame))
    # object-dtype strings, reordered columns and an extra column are all fine
    shuffled = frame[["size", "count", "color"]].astype({"color": object}).assign(extra=1)
    np.testing.assert_array_equal(loaded.predict(shuffled), model.predict_proba(frame))
    # the saved example comes back as it went in, and the serving example is ready to POST
    pd.testing.assert_frame_equal(loaded.input_example, frame.head(4))
    serving = json.loads((tmp_path / "m" / "serving_input_example.json").read_text())
    assert serving["dataframe_split"]["columns"] == ["color", "size", "count"]
    with pytest.raises(SchemaMismatch) as info:
        loaded.predict(frame.assign(color=1))
    assert info.value.column == "color" and info.value.expected == "string"
    with pytest.raises(SchemaMismatch, match="'color'"):
        loaded.predict(frame.drop(columns="color"))


CUSTOM_TRANSFORMER = """
from sklearn.base import BaseEstimator, TransformerMixin


class Doubler(TransformerMixin, BaseEstimator):
    def fit(self, X, y=None):
        return self

    def transform(self, X):
        return X * 2
"""


@pytest.mark.slow
def test_a_custom_transformer_needs_its_module_at_load(seed_data, tmp_path: Path) -> None:
    import subprocess
    import sys

    (tmp_path / "mytransformers.py").write_text(CUSTOM_TRANSFORMER)
    save = (
        "import numpy as np, mlserve\n"
        "from sklearn.pipeline import make_pipeline\n"
        "from sklearn.linear_model import LogisticRegression\n"
        "from mytransformers import Doubler\n"
        "X = np.arange(8.0).reshape(4, 2)\n"
        "model = make_pipeline(Doubler(), LogisticRegression()).fit(X, [0, 0, 1, 1])\n"
        "mlserve.save_model(model, 'bare')\n"
        "mlserve.save_model(model, 'shipped', code_paths=['mytransformers.py'])\n"
    )
    run = subprocess.run([sys.executable, "-c", save], cwd=tmp_path, capture_output=True)
    assert run.returncode == 0, run.stderr.decode()
    (tmp_path / "mytransformers.py").unlink()
    for name in list(sys.modules):
        assert not name.startswith("mytransformers")
    assert mlserve.load_model(tmp_path / "shipped").predict(np.ones((1, 2))).shape == (1,)
    sys.modules.pop("mytransformers", None)  # the shipped copy is now importable: forget it
    sys.path.remove(str((tmp_path / "shipped" / "code").resolve()))
    with pytest.raises(MalformedModel, match=r"No module named 'mytransformers'.*code_paths"):
        mlserve.load_model(tmp_path / "bare")


# mlserve.sklearn.load_model (the native estimator, as mlflow.sklearn.load_model) builds no
# predictor; the model it reads is checked as mlserve.load_model checks it
LOADS = {"load_model": mlserve.load_model, "sklearn.load_model": mlserve.sklearn.load_model}


@pytest.mark.parametrize("load", LOADS.values(), ids=LOADS)
@pytest.mark.parametrize(
    "name", ["/etc/passwd", "../outside.pkl", "code/../../outside.pkl", "."], ids=str
)
def test_a_section_naming_a_file_outside_the_model_is_malformed(
    name: str, load, seed_model, tmp_path: Path
) -> None:
    mlserve.save_model(seed_model, tmp_path / "m")
    (tmp_path / "outside.pkl").write_bytes(pickle.dumps(seed_model))
    mlmodel = tmp_path / "m" / "MLmodel"
    doc = yaml.safe_load(mlmodel.read_text())
    doc["flavors"]["sklearn"]["pickled_model"] = name
    mlmodel.write_text(yaml.safe_dump(doc))
    with pytest.raises(MalformedModel, match="is not a file inside the model directory"):
        load(tmp_path / "m")


@pytest.mark.parametrize("load", LOADS.values(), ids=LOADS)
def test_the_trust_policy_and_digests_hold_for_the_native_load(
    load, seed_model, tmp_path: Path
) -> None:
    mlserve.save_model(seed_model, tmp_path / "m")
    with pytest.raises(UntrustedModel, match="pickle"):
        load(tmp_path / "m", trust="no-pickle")
    with open(tmp_path / "m" / "model.pkl", "ab") as out:
        out.write(b"tampered")
    with pytest.raises(DigestMismatch, match=r"model\.pkl"):
        load(tmp_path / "m")


def test_the_native_load_of_a_model_with_only_a_pyfunc_section(
    seed_model, seed_data, tmp_path: Path
) -> None:
    # python_function's loader_module (mlflow.sklearn) picks the flavor when the file has no
    # sklearn section of its own: both loads read the pickle its model_path names
    X, _ = seed_data
    mlserve.save_model(seed_model, tmp_path / "m")
    mlmodel = tmp_path / "m" / "MLmodel"
    doc = yaml.safe_load(mlmodel.read_text())
    del doc["flavors"]["sklearn"]
    mlmodel.write_text(yaml.safe_dump(doc))
    assert mlserve.load_model(tmp_path / "m").flavor == "sklearn"
    native = mlserve.sklearn.load_model(tmp_path / "m")
    np.testing.assert_array_equal(native.predict(X), seed_model.predict(X))
