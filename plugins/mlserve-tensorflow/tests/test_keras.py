"""The keras flavor: conformance kit, the native .keras file, named inputs and outputs."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import keras
import numpy as np
import pandas as pd
import pytest
from mlserve_tensorflow import keras_flavor, tensorflow_flavor

import mlserve
from mlserve import InvalidParameterValue, MalformedModel
from mlserve.testing import check_flavor, check_mlflow_sections


def _sequential() -> Any:
    keras.utils.set_random_seed(0)
    return keras.Sequential(
        [
            keras.Input(shape=(4,)),
            keras.layers.Dense(8, activation="relu"),
            keras.layers.Dense(2, activation="softmax"),
        ]
    )


def _two_inputs_two_outputs() -> Any:
    """inputs a, b (one feature each); outputs "total" (a + b) and "score" (a dense layer)."""
    keras.utils.set_random_seed(0)
    a = keras.Input(shape=(1,), name="a")
    b = keras.Input(shape=(1,), name="b")
    joined = keras.layers.Concatenate()([a, b])
    total = keras.layers.Add(name="total")([a, b])
    score = keras.layers.Dense(1, name="score")(joined)
    return keras.Model(inputs={"a": a, "b": b}, outputs={"total": total, "score": score})


@pytest.fixture(scope="module")
def sequential() -> Any:
    return _sequential()


def test_conformance_ndarray(sequential: Any, seed_data: tuple[Any, Any], tmp_path: Path) -> None:
    X, _ = seed_data
    check_flavor(keras_flavor, sequential, X[:10], tmp_path)


def test_conformance_dataframe(sequential: Any, seed_data: tuple[Any, Any], tmp_path: Path) -> None:
    X, _ = seed_data
    frame = pd.DataFrame(X, columns=["a", "b", "c", "d"])
    check_flavor(keras_flavor, sequential, frame.iloc[:10], tmp_path)


def test_saves_the_keras_file_with_mlflow_section(
    sequential: Any, seed_data: tuple[Any, Any], tmp_path: Path
) -> None:
    X, _ = seed_data
    mlserve.save_model(sequential, tmp_path / "m")  # a Keras model is picked automatically
    section = {
        "data": "data",
        "keras_version": keras.__version__,
        "keras_backend": "tensorflow",
        "save_exported_model": False,
        "code": None,
    }
    check_mlflow_sections(tmp_path / "m", "keras", section, exact=True)
    native = keras.saving.load_model(str(tmp_path / "m" / "data" / "model.keras"))
    loaded = mlserve.load_model(tmp_path / "m")
    assert loaded.flavor == "keras"
    expected = sequential.predict_on_batch(X)
    np.testing.assert_array_equal(native.predict_on_batch(X), expected)
    np.testing.assert_array_equal(loaded.predict(X), expected)
    assert "tensorflow" in (tmp_path / "m" / "requirements.txt").read_text()


def test_named_inputs_and_outputs(tmp_path: Path) -> None:
    model = _two_inputs_two_outputs()
    frame = pd.DataFrame({"b": [10.0, 20.0, 30.0], "a": [1.0, 2.0, 3.0]})
    loaded = check_flavor(keras_flavor, model, frame, tmp_path)
    assert loaded.capabilities.batchable  # both outputs are [N, 1]: split by rows
    out = loaded.predict(frame)
    assert set(out) == {"total", "score"}
    np.testing.assert_allclose(out["total"], [[11.0], [22.0], [33.0]])
    columns = {"a": np.array([[1.0]]), "b": np.array([[2.0]])}
    np.testing.assert_allclose(loaded.unwrap().predict_on_batch(columns)["total"], [[3.0]])


def test_missing_input_is_refused(tmp_path: Path) -> None:
    predictor = keras_flavor.predictor(_two_inputs_two_outputs(), {})
    with pytest.raises(InvalidParameterValue, match="missing model input"):
        predictor.predict(pd.DataFrame({"a": [1.0]}))
    with pytest.raises(InvalidParameterValue, match="2 inputs"):
        predictor.predict(np.ones((1, 2)))


def test_can_save_only_keras_models(sequential: Any) -> None:
    assert keras_flavor.can_save(sequential)
    assert not keras_flavor.can_save(np.zeros(2))
    assert not tensorflow_flavor.can_save(sequential)  # Keras models go to the keras flavor
    assert {"mlserve-tensorflow", "keras"} <= set(keras_flavor.requirements(sequential))


def test_unreadable_keras_file_is_a_malformed_model(tmp_path: Path) -> None:
    (tmp_path / "data").mkdir()
    (tmp_path / "data" / "model.keras").write_bytes(b"not a zip")
    with pytest.raises(MalformedModel, match="Keras cannot load"):
        keras_flavor.load(tmp_path, {"data": "data"})
    (tmp_path / "elsewhere").mkdir()
    with pytest.raises(MalformedModel, match="outside"):
        keras_flavor.load(tmp_path / "data", {"data": "../elsewhere"})
