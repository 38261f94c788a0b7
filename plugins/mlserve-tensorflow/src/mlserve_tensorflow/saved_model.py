"""The ``tensorflow`` flavor: ``tf.Module``s as TensorFlow SavedModels.

The layout is ``mlflow.tensorflow.save_model``'s for a ``tf.Module`` (``model_type:
tf2-module``, ``saved_model_dir: tf2model``). MLflow's ``tensorflow`` flavor also holds Keras
models (``model_type: keras``, ``data/model.keras``); those load here too.
"""

from __future__ import annotations

import sys
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from mlserve import (
    PYFUNC_SECTION,
    Capabilities,
    InvalidParameterValue,
    MalformedModel,
    model_file,
    require_module,
)
from mlserve_tensorflow._common import (
    map_inputs,
    outputs_to_numpy,
    tensorflow_distribution,
)

__all__ = ["SavedModelPredictor", "TensorFlowFlavor", "flavor"]

require_module("tensorflow", "tensorflow-cpu")

_SAVED_MODEL_DIR = "tf2model"
_TF2_MODULE = "tf2-module"
_KERAS = "keras"
_SIGNATURE = "serving_default"


def _free_batch_dim(spec: Any) -> bool:
    shape = getattr(spec, "shape", None)
    return shape is not None and shape.rank is not None and shape.rank > 0 and shape[0] is None


def _cast(inputs: Any, specs: Mapping[str, Any]) -> Any:
    """Cast each input to its signature dtype (JSON numbers arrive as float64)."""
    import tensorflow as tf

    def one(value: Any, spec: Any) -> Any:
        try:
            tensor = tf.convert_to_tensor(value)
        except (TypeError, ValueError) as exc:
            raise InvalidParameterValue(f"an input is not a tensor: {type(exc).__name__}") from exc
        if tensor.dtype == spec.dtype:
            return tensor
        numeric = (tensor.dtype.is_floating or tensor.dtype.is_integer) and (
            spec.dtype.is_floating or spec.dtype.is_integer
        )
        if not numeric:
            raise InvalidParameterValue(
                f"an input of type {tensor.dtype.name} cannot be fed as {spec.dtype.name}"
            )
        return tf.cast(tensor, spec.dtype)

    if isinstance(inputs, Mapping):
        return {k: one(v, specs[k]) for k, v in inputs.items()}
    return one(inputs, next(iter(specs.values())))


@dataclass(frozen=True)
class SavedModelPredictor:
    """Calls the SavedModel's ``serving_default`` signature with inputs matched by name."""

    function: Any
    specs: Mapping[str, Any]
    capabilities: Capabilities

    def predict(self, data: Any, params: dict[str, Any] | None = None) -> Any:
        """One call of the signature: an ndarray for one output, else a dict by name."""
        names = list(self.specs)
        feeds = _cast(map_inputs(data, names), self.specs)
        if not isinstance(feeds, Mapping):
            feeds = {names[0]: feeds}
        return outputs_to_numpy(self.function(**feeds))


class TensorFlowFlavor:
    """Saves ``tf.Module``s as SavedModels and serves them; the ``tensorflow`` entry point."""

    name = "tensorflow"

    def can_save(self, obj: Any) -> bool:
        """True for a ``tf.Module`` that is not a Keras model (Keras models go to the ``keras``
        flavor); TensorFlow is not imported for the check."""
        tf = sys.modules.get("tensorflow")
        keras = sys.modules.get("keras")
        if tf is None or not isinstance(obj, tf.Module):
            return False
        return keras is None or not isinstance(obj, keras.Model)

    def save(self, obj: Any, path: Path, *, signatures: Any = None) -> dict[str, Any]:
        """``tf.saved_model.save`` into ``tf2model/`` and return the ``tensorflow`` section.

        ``signatures`` is passed on; by default TensorFlow exports the module's one
        ``@tf.function`` with an ``input_signature`` as ``serving_default``, which is what is
        served.

        Raises :class:`~mlserve.errors.InvalidParameterValue` for an object that is not a
        ``tf.Module`` or a module with no ``serving_default`` signature to serve.
        """
        if not self.can_save(obj):
            raise InvalidParameterValue(
                f"{type(obj).__name__} is not a tf.Module (Keras models use the keras flavor)"
            )
        import tensorflow as tf

        target = Path(path) / _SAVED_MODEL_DIR
        try:
            tf.saved_model.save(obj, str(target), signatures=signatures)
        except (ValueError, TypeError) as exc:
            raise InvalidParameterValue(f"TensorFlow cannot save the module: {exc}") from exc
        if _SIGNATURE not in tf.saved_model.load(str(target)).signatures:
            raise InvalidParameterValue(
                "the SavedModel has no 'serving_default' signature: decorate __call__ with "
                "@tf.function(input_signature=[...]) or pass signatures="
            )
        return {
            "saved_model_dir": _SAVED_MODEL_DIR,
            "model_type": _TF2_MODULE,
            "tensorflow_version": tf.__version__,
            "code": None,
            PYFUNC_SECTION: {"loader_module": "mlflow.tensorflow"},
        }

    def load(self, path: Path, section: Mapping[str, Any]) -> Any:
        """``tf.saved_model.load`` on ``saved_model_dir``; for MLflow's Keras models
        (``model_type: keras``), ``keras.saving.load_model`` on ``data/model.keras``.

        Raises :class:`~mlserve.errors.MalformedModel` for a missing directory, one outside the
        model, an unsupported ``model_type`` (TF1 estimators) or files TensorFlow cannot read.
        """
        model_type = section.get("model_type") or _TF2_MODULE
        try:
            if model_type == _KERAS:
                return _load_mlflow_keras(Path(path), section)
            if model_type != _TF2_MODULE:
                reason = f"tensorflow model_type {model_type!r} is not supported (TF1 estimators)"
                raise MalformedModel(str(path), reason)
            import tensorflow as tf

            directory = model_file(
                path, str(section.get("saved_model_dir") or _SAVED_MODEL_DIR), must_exist=True
            )
            return tf.saved_model.load(str(directory))
        except MalformedModel:
            raise
        except Exception as exc:  # TF raises OSError, its own NotFoundError, ValueError...
            raise MalformedModel(
                str(path), f"TensorFlow cannot load the model ({type(exc).__name__}: {exc})"
            ) from exc

    def predictor(self, native: Any, section: Mapping[str, Any]) -> Any:
        """Serve the ``serving_default`` signature (a Keras model: ``predict_on_batch``).

        Takes DataFrames, ndarrays and dicts; thread safe (concrete functions are); batchable
        when every input and every output has a free first dimension (a dict of outputs is
        split by rows, output by output).

        Raises :class:`~mlserve.errors.MalformedModel` when the SavedModel has no
        ``serving_default`` signature.
        """
        keras = sys.modules.get("keras")
        if keras is not None and isinstance(native, keras.Model):
            from mlserve_tensorflow.keras_model import KerasFlavor

            return KerasFlavor().predictor(native, section)
        signatures = getattr(native, "signatures", None) or {}
        function = signatures.get(_SIGNATURE)
        if function is None:
            raise MalformedModel(
                "<tensorflow>", "the SavedModel has no 'serving_default' signature"
            )
        specs = dict(function.structured_input_signature[1])
        outputs = function.structured_outputs
        batchable = (
            isinstance(outputs, Mapping)
            and len(outputs) >= 1
            and all(_free_batch_dim(s) for s in [*specs.values(), *outputs.values()])
        )
        caps = Capabilities(
            accepts_dataframe=True,
            accepts_ndarray=True,
            supports_params=False,
            batchable=batchable,
            thread_safe=True,
            fork_safe=False,  # TensorFlow's runtime hangs in a process forked after it started
        )
        return SavedModelPredictor(function, specs, caps)

    def requirements(self, obj: Any | None = None) -> list[str]:
        """This plugin and the installed TensorFlow distribution."""
        return ["mlserve-tensorflow", tensorflow_distribution(), "numpy", "pandas"]


def _load_mlflow_keras(path: Path, section: Mapping[str, Any]) -> Any:
    """MLflow's ``tensorflow`` flavor with ``model_type: keras``: ``data/model.keras`` (TF >=
    2.16) or ``data/model.h5``; the TF-2.15-and-older SavedModel directory is not Keras 3's."""
    import keras

    data = model_file(path, str(section.get("data") or "data"), must_exist=True)
    for name in ("model.keras", "model.h5"):
        if (data / name).is_file():
            return keras.saving.load_model(str(data / name), compile=False)
    raise MalformedModel(
        str(path), "no data/model.keras or data/model.h5 (Keras 2 SavedModel dirs need Keras 2)"
    )


#: The ``tensorflow`` entry point's object.
flavor = TensorFlowFlavor()
