"""Fixtures: mlserve.testing.fixtures (each test in its own directory, and seed_data), and the
small tf.Module the SavedModel and serving tests share."""

import os

import pytest

# quiet TensorFlow's C++ start-up log, and make Keras use TensorFlow (the server inherits both)
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
os.environ.setdefault("KERAS_BACKEND", "tensorflow")

# imported after the variables above, which TensorFlow and Keras read on import
import tensorflow as tf

pytest_plugins = ["mlserve.testing.fixtures"]


class Linear(tf.Module):
    """y = x @ w + 1 for x of shape [N, 4]: one input, one output, batchable."""

    def __init__(self) -> None:
        super().__init__()
        self.w = tf.Variable([[1.0], [-2.0], [0.5], [3.0]])

    @tf.function(input_signature=[tf.TensorSpec([None, 4], tf.float32, name="x")])
    def __call__(self, x: tf.Tensor) -> tf.Tensor:
        return tf.matmul(x, self.w) + 1.0


@pytest.fixture
def linear() -> Linear:
    """A fresh :class:`Linear` module."""
    return Linear()
