"""Keras and SavedModel models served by a real ``python -m mlserve.server`` answer as the
framework does.

TensorFlow cannot run in a process forked after it started (its thread pools do not survive
``fork``). The flavor declares ``Capabilities(fork_safe=False)``, so the default pre-fork runner
loads these models in each worker instead of once before forking; these tests use that runner,
with two workers, exactly as a user would.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import keras
import numpy as np
import pytest
import tensorflow as tf

import mlserve
from mlserve.testing import serve_model


def _keras_model() -> Any:
    keras.utils.set_random_seed(0)
    return keras.Sequential(
        [keras.Input(shape=(4,)), keras.layers.Dense(8, activation="relu"), keras.layers.Dense(2)]
    )


@pytest.mark.slow
def test_served_predictions_equal_keras_and_tensorflow(
    linear: tf.Module, seed_data: tuple[Any, Any], tmp_path: Path
) -> None:
    X, _ = seed_data
    model = _keras_model()
    module = linear
    mlserve.save_model(model, tmp_path / "keras", input_example=X[:3])
    mlserve.save_model(module, tmp_path / "tf", input_example=X[:3])
    rows = X[:20]
    payload = {"inputs": rows.tolist()}
    with serve_model(tmp_path / "keras", workers=2, timeout=120) as served:
        from_keras = served.predictions(payload, timeout=30)
    with serve_model(tmp_path / "tf", workers=2, timeout=120) as served:
        from_tf = served.predictions(payload, timeout=30)
    np.testing.assert_allclose(from_keras, model.predict_on_batch(rows), rtol=1e-6, atol=1e-7)
    expected = module(tf.constant(rows, tf.float32)).numpy()
    np.testing.assert_allclose(from_tf, expected, rtol=1e-6, atol=1e-7)
