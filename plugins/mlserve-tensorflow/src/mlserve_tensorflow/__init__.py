"""Keras 3 and TensorFlow SavedModel flavors for mlserve.

Two entry points, as MLflow has two flavors: ``keras`` (:mod:`mlserve_tensorflow.keras_model`,
a ``keras.Model`` in the native ``.keras`` format) and ``tensorflow``
(:mod:`mlserve_tensorflow.saved_model`, a ``tf.Module`` as a SavedModel, plus MLflow's Keras
models written under the ``tensorflow`` flavor). Each module checks only its own framework, so
Keras on another backend works without TensorFlow. Neither framework is imported until a model
is saved or loaded, so ``mlserve flavors`` stays fast.
"""

from __future__ import annotations

import importlib
from typing import Any

__all__ = ["keras_flavor", "tensorflow_flavor"]

__version__ = "0.1.0"

_LAZY = {
    "keras_flavor": ("mlserve_tensorflow.keras_model", "flavor"),
    "tensorflow_flavor": ("mlserve_tensorflow.saved_model", "flavor"),
}


def __getattr__(name: str) -> Any:
    # imported on demand, so a missing TensorFlow breaks only the tensorflow flavor
    if name not in _LAZY:
        raise AttributeError(f"module 'mlserve_tensorflow' has no attribute {name!r}")
    module, attribute = _LAZY[name]
    return getattr(importlib.import_module(module), attribute)
