"""The ``lightgbm`` flavor for mlserve: LightGBM ``Booster`` and scikit-learn-API models.

Models are saved as LightGBM's own model text (``model.lgb``), with a ``lightgbm`` section in the
layout of ``mlflow.lightgbm.save_model`` (``lgb_version``, ``data``, ``model_class``) and a
``python_function`` section with ``loader_module: mlflow.lightgbm``.

A scikit-learn-API model (``LGBMClassifier``...) is saved as its booster's text plus what its
``predict`` adds: the class labels. Loaded back, the native model is that ``Booster`` and the
predictor answers with class labels, exactly as the classifier's ``predict`` did. MLflow itself
pickles these models (``model.pkl``); we read such MLflow-written models too, and
``serialization_format="cloudpickle"`` writes that layout when MLflow must read the model.
LightGBM is imported only when a model is saved or loaded.
"""

from __future__ import annotations

import pickle
import sys
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from mlserve import Capabilities, InvalidParameterValue, MalformedModel, model_file, require_module

__all__ = ["SERIALIZATION_FORMATS", "LightGBMFlavor", "flavor"]

__version__ = "0.1.0"


require_module("lightgbm", "lightgbm")

#: How a scikit-learn-API model is written: booster text (portable, the default) or a pickle
#: of the whole estimator in MLflow's layout. A ``Booster`` is always written as text.
SERIALIZATION_FORMATS = ("text", "cloudpickle", "pickle")

_BOOSTER_CLASS = "lightgbm.basic.Booster"
_SKLEARN_CLASSES = (
    "lightgbm.sklearn.LGBMClassifier",
    "lightgbm.sklearn.LGBMRegressor",
    "lightgbm.sklearn.LGBMRanker",
    "lightgbm.sklearn.LGBMModel",
)
_PYFUNC = "python_function"
# not an MLflow value: MLflow pickles scikit-learn-API models, so it has no name for this
_TEXT = "lightgbm_text"
_CAPABILITIES = Capabilities(
    accepts_dataframe=True,
    accepts_ndarray=True,
    supports_params=False,
    batchable=True,
    # LightGBM gives no thread-safety guarantee for concurrent predict on one Booster
    thread_safe=False,
)


def _lightgbm() -> Any:
    import lightgbm

    return lightgbm


def _model_class(obj: Any) -> str:
    lgb = _lightgbm()
    if isinstance(obj, lgb.Booster):
        return _BOOSTER_CLASS
    for name in _SKLEARN_CLASSES:  # most specific first; LGBMModel is the base of the others
        if isinstance(obj, getattr(lgb, name.rsplit(".", 1)[1])):
            return name
    raise InvalidParameterValue(f"{type(obj).__name__} is not a LightGBM model")


@dataclass(frozen=True)
class _LightGBMPredictor:
    """``predict`` of a Booster or a scikit-learn-API model; with ``classes``, a Booster's
    probabilities become labels as ``LGBMClassifier.predict`` makes them."""

    model: Any
    classes: tuple[Any, ...] | None = None
    capabilities: Capabilities = _CAPABILITIES

    def predict(self, data: Any, params: dict[str, Any] | None = None) -> Any:
        import numpy as np

        out = self.model.predict(data)
        if self.classes is None:
            return out
        out = np.asarray(out)
        # binary objectives give P(class 1); multiclass one column per class
        index = (out > 0.5).astype(np.intp) if out.ndim == 1 else np.argmax(out, axis=1)
        return np.asarray(self.classes)[index]


class LightGBMFlavor:
    """Saves and loads LightGBM models; the object behind the ``lightgbm`` entry point."""

    name = "lightgbm"

    def can_save(self, obj: Any) -> bool:
        """True for ``lightgbm.Booster`` and ``lightgbm.LGBMModel`` instances (LightGBM is not
        imported: if it is not loaded yet, nothing can be a LightGBM model)."""
        lgb = sys.modules.get("lightgbm")
        return lgb is not None and isinstance(obj, lgb.Booster | lgb.LGBMModel)

    def save(self, obj: Any, path: Path, *, serialization_format: str = "text") -> dict[str, Any]:
        """Write the model into ``path`` and return the ``lightgbm`` section.

        A ``Booster`` is written as model text (``model.lgb``). A fitted scikit-learn-API model
        is written as its booster's text plus its class labels (``serialization_format="text"``,
        the default) or pickled whole into ``model.pkl`` as MLflow does (``"cloudpickle"`` or
        ``"pickle"``).

        Raises :class:`~mlserve.errors.InvalidParameterValue` for an unknown format, an object
        that is not a LightGBM model, or an estimator that is not fitted.
        """
        if serialization_format not in SERIALIZATION_FORMATS:
            raise InvalidParameterValue(
                f"serialization_format must be one of {', '.join(SERIALIZATION_FORMATS)}; "
                f"got {serialization_format!r}"
            )
        lgb = _lightgbm()
        model_class = _model_class(obj)
        section: dict[str, Any] = {
            "lgb_version": lgb.__version__,
            "model_class": model_class,
            "code": None,
        }
        if model_class == _BOOSTER_CLASS:
            filename = "model.lgb"
            obj.save_model(str(Path(path) / filename))
        elif serialization_format == "text":
            try:
                booster = obj.booster_
            except lgb.compat.LGBMNotFittedError as exc:
                raise InvalidParameterValue(f"{type(obj).__name__} is not fitted") from exc
            filename = "model.lgb"
            booster.save_model(str(Path(path) / filename))
            section["serialization_format"] = _TEXT
            classes = getattr(obj, "classes_", None)
            if classes is not None:
                section["classes"] = [c.item() if hasattr(c, "item") else c for c in classes]
        else:
            filename = "model.pkl"
            with open(Path(path) / filename, "wb") as out:
                if serialization_format == "cloudpickle":
                    import cloudpickle

                    cloudpickle.dump(obj, out)
                else:
                    pickle.dump(obj, out, protocol=pickle.DEFAULT_PROTOCOL)
            section["serialization_format"] = serialization_format
        section["data"] = filename
        section[_PYFUNC] = {"loader_module": "mlflow.lightgbm", "data": filename}
        return section

    def load(self, path: Path, section: Mapping[str, Any]) -> Any:
        """Read the model named by ``data``: model text into a ``Booster``, or MLflow's pickle of
        a scikit-learn-API model (``serialization_format`` ``cloudpickle`` or ``pickle``).

        Raises :class:`~mlserve.errors.MalformedModel` for a missing or unreadable file, a file
        outside the model directory, an unknown ``model_class`` or a format we cannot read
        (``skops``).
        """
        pyfunc = section.get(_PYFUNC) or {}
        filename = section.get("data") or pyfunc.get("data")
        if not filename:
            raise MalformedModel(str(path), "the lightgbm section names no data file")
        target = model_file(path, str(filename), must_exist=True)
        model_class = str(section.get("model_class") or _BOOSTER_CLASS)
        if model_class != _BOOSTER_CLASS and model_class not in _SKLEARN_CLASSES:
            raise MalformedModel(str(path), f"unknown lightgbm model_class {model_class!r}")
        fmt = section.get("serialization_format")
        lgb = _lightgbm()
        if model_class == _BOOSTER_CLASS or fmt == _TEXT:
            try:
                return lgb.Booster(model_file=str(target))
            except lgb.basic.LightGBMError as exc:
                raise MalformedModel(str(path), f"LightGBM cannot read {filename}: {exc}") from exc
        if fmt not in (None, "cloudpickle", "pickle"):
            raise MalformedModel(str(path), f"cannot read lightgbm serialization_format {fmt!r}")
        try:
            with open(target, "rb") as src:
                # MLflow's layout for these models is a pickle, as for the sklearn flavor
                return pickle.load(src)
        except (pickle.UnpicklingError, EOFError) as exc:
            raise MalformedModel(str(path), f"cannot unpickle {filename}: {exc}") from exc

    def predictor(self, native: Any, section: Mapping[str, Any]) -> _LightGBMPredictor:
        """A predictor calling ``native.predict``; a ``Booster`` saved from a classifier maps
        its probabilities to the saved class labels.

        Takes DataFrames and ndarrays; row-wise, so requests may be batched; not declared thread
        safe. Raises :class:`~mlserve.errors.MalformedModel` for a malformed ``classes`` entry.
        """
        classes = section.get("classes")
        if classes is None or not isinstance(native, _lightgbm().Booster):
            return _LightGBMPredictor(native)
        if not isinstance(classes, list) or len(classes) < 2:
            raise MalformedModel("<lightgbm>", "classes must be a list of at least two labels")
        return _LightGBMPredictor(native, tuple(classes))

    def requirements(self, obj: Any | None = None) -> list[str]:
        """This plugin, LightGBM and the data libraries; scikit-learn for scikit-learn-API
        models, whose classes import it."""
        reqs = ["mlserve-lightgbm", "lightgbm", "numpy", "pandas", "scipy"]
        if obj is not None and not isinstance(obj, _lightgbm().Booster):
            reqs += ["scikit-learn", "cloudpickle"]
        return reqs


flavor = LightGBMFlavor()
