"""The ``keras`` flavor: Keras 3 models in the native ``.keras`` format.

The layout is ``mlflow.keras.save_model``'s (MLflow >= 2.13, Keras 3): ``data/model.keras`` and
a ``keras`` section (``data``, ``keras_version``, ``keras_backend``, ``save_exported_model``),
with ``python_function``'s ``loader_module: mlflow.keras``.
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

__all__ = ["KerasFlavor", "KerasPredictor", "flavor"]

require_module("keras", "keras")

_DATA_DIR = "data"
_MODEL_NAME = "model"  # MLflow's stem: data/model.keras, or data/model/ for an export
_KERAS_MODULE_FILE = ("keras_module.txt", "keras")  # written for MLflow's reader; never read


def _input_names(model: Any) -> list[str]:
    inputs = getattr(model, "inputs", None) or []
    if isinstance(inputs, Mapping):
        return [str(k) for k in inputs]
    return [str(getattr(t, "name", i)) for i, t in enumerate(inputs)]


def _output_names(model: Any) -> list[str] | None:
    outputs = getattr(model, "outputs", None)
    if isinstance(outputs, Mapping):
        return [str(k) for k in outputs]
    if isinstance(outputs, list | tuple):
        return [str(getattr(t, "name", i)) for i, t in enumerate(outputs)]
    return None


def _batch_first_outputs(model: Any) -> bool:
    """Every output the model declares has a free (batch) first dimension; a model that
    declares none (subclassed, not built) is taken as row-wise, as Keras' own predict is."""
    outputs = getattr(model, "outputs", None)
    tensors = list(outputs.values()) if isinstance(outputs, Mapping) else list(outputs or ())
    for tensor in tensors:
        shape = getattr(tensor, "shape", None)
        if shape is not None and (len(shape) == 0 or shape[0] is not None):
            return False
    return True


@dataclass(frozen=True)
class KerasPredictor:
    """``model.predict_on_batch`` (or an exported model's ``serve``) on the mapped inputs."""

    call: Any
    input_names: tuple[str, ...]
    output_names: tuple[str, ...] | None
    capabilities: Capabilities

    def predict(self, data: Any, params: dict[str, Any] | None = None) -> Any:
        """One batch through the model: an ndarray for one output, else a dict by name."""
        return outputs_to_numpy(self.call(map_inputs(data, self.input_names)), self.output_names)


class KerasFlavor:
    """Saves and loads Keras 3 models; the object behind the ``keras`` entry point."""

    name = "keras"

    def can_save(self, obj: Any) -> bool:
        """True for ``keras.Model`` instances (Keras is not imported for the check)."""
        keras = sys.modules.get("keras")
        return keras is not None and isinstance(obj, keras.Model)

    def save(self, obj: Any, path: Path) -> dict[str, Any]:
        """Write ``data/model.keras`` with ``model.save`` and return the ``keras`` section.

        Raises :class:`~mlserve.errors.InvalidParameterValue` for an object that is not a Keras
        model or one Keras cannot save (an unbuilt subclassed model, say).
        """
        if not self.can_save(obj):
            raise InvalidParameterValue(f"{type(obj).__name__} is not a keras.Model")
        import keras

        data = Path(path) / _DATA_DIR
        data.mkdir()
        try:
            obj.save(str(data / f"{_MODEL_NAME}.keras"))
        except (ValueError, TypeError, NotImplementedError) as exc:
            raise InvalidParameterValue(f"Keras cannot save the model: {exc}") from exc
        name, content = _KERAS_MODULE_FILE
        (data / name).write_text(content)
        return {
            "data": _DATA_DIR,
            "keras_version": keras.__version__,
            "keras_backend": keras.backend.backend(),
            "save_exported_model": False,
            "code": None,
            PYFUNC_SECTION: {"loader_module": "mlflow.keras"},
        }

    def load(self, path: Path, section: Mapping[str, Any]) -> Any:
        """``keras.saving.load_model`` on ``data/model.keras``; an MLflow export
        (``save_exported_model: true``) is loaded with ``tf.saved_model.load``.

        Raises :class:`~mlserve.errors.MalformedModel` when the file is missing, outside the
        model directory, or unreadable.
        """
        relative = str(section.get("data") or _DATA_DIR)
        target = model_file(path, relative, must_exist=True)
        if target.is_dir():
            target = target / _MODEL_NAME
        try:
            if section.get("save_exported_model"):
                import tensorflow as tf

                return tf.saved_model.load(str(model_file(path, str(target), must_exist=True)))
            import keras

            archive = model_file(path, f"{target}.keras", must_exist=True)
            return keras.saving.load_model(str(archive), compile=False)
        except MalformedModel:
            raise
        except Exception as exc:  # Keras and TF raise ValueError, OSError, their own errors
            raise MalformedModel(
                str(path), f"Keras cannot load the model ({type(exc).__name__}: {exc})"
            ) from exc

    def predictor(self, native: Any, section: Mapping[str, Any]) -> KerasPredictor:
        """Call the model on one batch; inputs are matched by name for multi-input models.

        Takes DataFrames, ndarrays and dicts of arrays; batchable (one row in, one row out) unless
        an output of a functional model has a fixed first dimension (a dict of outputs is split
        by rows, output by output); not declared thread safe.
        """
        exported = not self.can_save(native) and hasattr(native, "serve")
        outputs = None if exported else _output_names(native)
        caps = Capabilities(
            accepts_dataframe=True,
            accepts_ndarray=True,
            supports_params=False,
            batchable=exported or _batch_first_outputs(native),
            thread_safe=False,  # Keras builds its predict function lazily, without a lock
            fork_safe=False,  # TensorFlow's runtime hangs in a process forked after it started
        )
        if exported:
            names = _signature_names(native)
            return KerasPredictor(native.serve, tuple(names), None, caps)
        return KerasPredictor(
            native.predict_on_batch,
            tuple(_input_names(native)),
            tuple(outputs) if outputs else None,
            caps,
        )

    def requirements(self, obj: Any | None = None) -> list[str]:
        """This plugin, Keras, and TensorFlow when it is the Keras backend in use."""
        reqs = ["mlserve-tensorflow", "keras", "numpy", "pandas"]
        keras = sys.modules.get("keras")
        if keras is not None and keras.backend.backend() == "tensorflow":
            reqs.append(tensorflow_distribution())
        return reqs


def _signature_names(exported: Any) -> list[str]:
    signature = getattr(exported, "signatures", {}).get("serving_default")
    if signature is None:
        return []
    return [str(k) for k in signature.structured_input_signature[1]]


#: The ``keras`` entry point's object.
flavor = KerasFlavor()
