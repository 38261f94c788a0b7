"""The tensorflow flavor: tf.Module as a SavedModel, served through its serving signature."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
import tensorflow as tf
from mlserve_tensorflow import tensorflow_flavor

import mlserve
from mlserve import InvalidParameterValue, MalformedModel
from mlserve.testing import check_flavor, check_mlflow_sections


class TwoHeads(tf.Module):
    """inputs a, b [N]; outputs sum and product (a dict)."""

    @tf.function(
        input_signature=[
            tf.TensorSpec([None, 1], tf.float64, name="a"),
            tf.TensorSpec([None, 1], tf.float64, name="b"),
        ]
    )
    def __call__(self, a: tf.Tensor, b: tf.Tensor) -> dict[str, tf.Tensor]:
        return {"sum": a + b, "product": a * b}


class NoSignature(tf.Module):
    def __init__(self) -> None:
        super().__init__()
        self.v = tf.Variable(1.0)


def test_conformance(linear: tf.Module, seed_data: tuple[Any, Any], tmp_path: Path) -> None:
    X, _ = seed_data
    module = linear
    expected = module(tf.constant(X[:10], tf.float32)).numpy()
    loaded = check_flavor(tensorflow_flavor, module, X[:10], tmp_path, expected=expected)
    assert loaded.capabilities.batchable
    assert loaded.capabilities.thread_safe


def test_saves_a_saved_model_with_mlflow_section(
    linear: tf.Module, seed_data: tuple[Any, Any], tmp_path: Path
) -> None:
    X, _ = seed_data
    module = linear
    mlserve.save_model(module, tmp_path / "m")  # a tf.Module is picked automatically
    section = {
        "saved_model_dir": "tf2model",
        "model_type": "tf2-module",
        "tensorflow_version": tf.__version__,
    }
    check_mlflow_sections(tmp_path / "m", "tensorflow", section)
    native = tf.saved_model.load(str(tmp_path / "m" / "tf2model"))
    expected = module(tf.constant(X, tf.float32)).numpy()
    np.testing.assert_array_equal(native(tf.constant(X, tf.float32)).numpy(), expected)
    loaded = mlserve.load_model(tmp_path / "m")
    assert loaded.flavor == "tensorflow"
    np.testing.assert_array_equal(loaded.predict(X), expected)  # float64 cast to float32
    np.testing.assert_array_equal(loaded.predict(pd.DataFrame(X)), expected)


def test_named_inputs_and_multiple_outputs(tmp_path: Path) -> None:
    mlserve.save_model(TwoHeads(), tmp_path / "m")
    loaded = mlserve.load_model(tmp_path / "m")
    assert loaded.capabilities.batchable  # both outputs are [N, 1]: split by rows
    out = loaded.predict(pd.DataFrame({"b": [2.0, 3.0], "a": [1.0, 4.0]}))
    assert set(out) == {"sum", "product"}
    np.testing.assert_array_equal(out["sum"], [[3.0], [7.0]])
    np.testing.assert_array_equal(out["product"], [[2.0], [12.0]])
    with pytest.raises(InvalidParameterValue, match="missing model input"):
        loaded.predict({"a": np.ones((1, 1))})


def test_conformance_multiple_outputs(tmp_path: Path) -> None:
    frame = pd.DataFrame({"a": [1.0, 2.0, 3.0, 4.0], "b": [2.0, 3.0, 4.0, 5.0]})
    a, b = frame[["a"]].to_numpy(), frame[["b"]].to_numpy()
    expected = {"sum": a + b, "product": a * b}
    # check_batchable: the dict predicted in two halves, joined, equals the whole
    loaded = check_flavor(
        tensorflow_flavor, TwoHeads(), frame, tmp_path, expected=expected, fresh_process=False
    )
    assert loaded.capabilities.batchable


def test_text_for_a_number_is_refused(linear: tf.Module, tmp_path: Path) -> None:
    mlserve.save_model(linear, tmp_path / "m")
    predictor = tensorflow_flavor.predictor(mlserve.load_model(tmp_path / "m").unwrap(), {})
    with pytest.raises(InvalidParameterValue, match="cannot be fed"):
        predictor.predict(np.array([["a", "b", "c", "d"]]))


def test_module_without_a_serving_signature_is_refused(tmp_path: Path) -> None:
    with pytest.raises(InvalidParameterValue, match="serving_default"):
        tensorflow_flavor.save(NoSignature(), tmp_path)


def test_tf1_estimator_models_are_refused_with_a_reason(tmp_path: Path) -> None:
    with pytest.raises(MalformedModel, match="TF1"):
        tensorflow_flavor.load(tmp_path, {"model_type": "tf1-estimator"})


def test_can_save_only_tf_modules(linear: tf.Module) -> None:
    assert tensorflow_flavor.can_save(linear)
    assert not tensorflow_flavor.can_save(np.zeros(2))
    reqs = tensorflow_flavor.requirements(None)
    assert "mlserve-tensorflow" in reqs
    assert any(r.startswith("tensorflow") for r in reqs)
