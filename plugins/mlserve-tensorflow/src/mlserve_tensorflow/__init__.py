"""Keras 3 and TensorFlow SavedModel flavors for mlserve.

Two entry points, as MLflow has two flavors: ``keras`` (a ``keras.Model`` in the native
``.keras`` format) and ``tensorflow`` (a ``tf.Module`` as a SavedModel, plus MLflow's Keras
models written under the ``tensorflow`` flavor). Neither Keras nor TensorFlow is imported until
a model is saved or loaded, so ``mlserve flavors`` stays fast.
"""

from __future__ import annotations

from mlserve_tensorflow._keras import KerasFlavor, KerasPredictor
from mlserve_tensorflow._savedmodel import SavedModelPredictor, TensorFlowFlavor

__all__ = [
    "KerasFlavor",
    "KerasPredictor",
    "SavedModelPredictor",
    "TensorFlowFlavor",
    "keras_flavor",
    "tensorflow_flavor",
]

__version__ = "0.1.0"

#: The ``keras`` entry point's object.
keras_flavor = KerasFlavor()
#: The ``tensorflow`` entry point's object.
tensorflow_flavor = TensorFlowFlavor()
