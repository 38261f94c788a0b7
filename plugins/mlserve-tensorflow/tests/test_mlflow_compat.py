"""Models written by MLflow's ``mlflow.keras`` and ``mlflow.tensorflow`` load through the
``loader_module`` mapping, laid out exactly as MLflow writes them."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import keras
import numpy as np
import pytest
import tensorflow as tf

import mlserve
from mlserve.testing import write_mlflow_mlmodel


def _mlmodel(target: Path, flavor: str, section: dict[str, Any]) -> None:
    # mlflow.tensorflow names its data folder in the pyfunc section; mlflow.keras does not
    data = section.get("data") if flavor == "tensorflow" else None
    write_mlflow_mlmodel(target, flavor, section, data=data)


def _keras_model() -> Any:
    keras.utils.set_random_seed(0)
    return keras.Sequential([keras.Input(shape=(4,)), keras.layers.Dense(3)])


@pytest.mark.parametrize("flavor", ["keras", "tensorflow"], ids=str)
def test_mlflow_written_keras_model_loads(
    flavor: str, seed_data: tuple[Any, Any], tmp_path: Path
) -> None:
    X, _ = seed_data
    model = _keras_model()
    target = tmp_path / "m"
    (target / "data").mkdir(parents=True)
    model.save(str(target / "data" / "model.keras"))
    if flavor == "keras":  # mlflow.keras (Keras 3)
        (target / "data" / "keras_module.txt").write_text("keras")
        section: dict[str, Any] = {
            "data": "data",
            "keras_backend": "tensorflow",
            "keras_version": keras.__version__,
            "save_exported_model": False,
        }
    else:  # mlflow.tensorflow with a Keras model, TensorFlow >= 2.16
        (target / "data" / "keras_module.txt").write_text("tensorflow.keras")
        (target / "data" / "save_format.txt").write_text("tf")
        section = {
            "code": None,
            "data": "data",
            "keras_version": tf.__version__,
            "model_type": "keras",
            "save_format": "tf",
        }
    _mlmodel(target, flavor, section)
    loaded = mlserve.load_model(target)
    assert loaded.flavor == flavor
    np.testing.assert_array_equal(loaded.predict(X), model.predict_on_batch(X))


def test_mlflow_written_tf2_module_loads(seed_data: tuple[Any, Any], tmp_path: Path) -> None:
    X, _ = seed_data

    class Scale(tf.Module):
        @tf.function(input_signature=[tf.TensorSpec([None, 4], tf.float32)])
        def __call__(self, x: tf.Tensor) -> tf.Tensor:
            return x * 2.0

    target = tmp_path / "m"
    target.mkdir()
    tf.saved_model.save(Scale(), str(target / "tf2model"))
    _mlmodel(
        target,
        "tensorflow",
        {"code": None, "model_type": "tf2-module", "saved_model_dir": "tf2model"},
    )
    loaded = mlserve.load_model(target)
    assert loaded.flavor == "tensorflow"
    np.testing.assert_array_equal(loaded.predict(X), (X * 2.0).astype(np.float32))
