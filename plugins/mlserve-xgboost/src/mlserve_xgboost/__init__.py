"""The ``xgboost`` flavor for mlserve: XGBoost ``Booster`` and scikit-learn-API models.

Models are saved with XGBoost's own portable format (UBJSON by default, or JSON), in the layout
``mlflow.xgboost.save_model`` writes: ``model.ubj`` plus an ``xgboost`` section (``xgb_version``,
``data``, ``model_class``, ``model_format``) and a ``python_function`` section with
``loader_module: mlflow.xgboost``. MLflow reads our models and we read MLflow's.

The class to rebuild is taken from ``model_class`` but only from a fixed list of XGBoost
classes: a model file never chooses code to import. XGBoost is imported only when a model is
saved or loaded.
"""

from __future__ import annotations

import json
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

__all__ = ["MODEL_CLASSES", "MODEL_FORMATS", "XGBoostFlavor", "flavor"]

__version__ = "0.1.0"


require_module("xgboost", "xgboost")

#: ``model_format`` -> file suffix. ``deprecated`` is XGBoost's old binary format: read only.
MODEL_FORMATS = ("ubj", "json")
_READABLE_FORMATS = (*MODEL_FORMATS, "deprecated", "xgb", "bst")

#: ``model_class`` values we rebuild, as MLflow writes them (module path of the class).
MODEL_CLASSES = (
    "xgboost.core.Booster",
    "xgboost.sklearn.XGBClassifier",
    "xgboost.sklearn.XGBRegressor",
    "xgboost.sklearn.XGBRanker",
    "xgboost.sklearn.XGBRFClassifier",
    "xgboost.sklearn.XGBRFRegressor",
)


def _xgboost() -> Any:
    import xgboost

    return xgboost


def _class_named(name: str) -> type:
    xgb = _xgboost()
    if name not in MODEL_CLASSES:
        raise MalformedModel(
            "<xgboost>", f"model_class {name!r} is not one of {', '.join(MODEL_CLASSES)}"
        )
    return getattr(xgb, name.rsplit(".", 1)[1])


def _qualified_name(obj: Any) -> str:
    """The ``model_class`` MLflow records: the defining module plus the class name."""
    for name in MODEL_CLASSES:
        if type(obj) is _class_named(name):
            return name
    # a user subclass of XGBClassifier, say: record its nearest known base, which we can rebuild
    for name in reversed(MODEL_CLASSES):
        if isinstance(obj, _class_named(name)):
            return name
    raise InvalidParameterValue(f"{type(obj).__name__} is not an XGBoost model")


def _thread_safe(booster: Any) -> bool:
    # XGBoost documents prediction as thread safe for tree boosters (gbtree, dart) only.
    try:
        config = json.loads(booster.save_config())
        name = config["learner"]["gradient_booster"]["name"]
    except (ValueError, KeyError, TypeError):
        return False
    return name in ("gbtree", "dart")


@dataclass(frozen=True)
class _BoosterPredictor:
    """``Booster.predict`` on a ``DMatrix`` built from the request."""

    booster: Any
    capabilities: Capabilities

    def predict(self, data: Any, params: dict[str, Any] | None = None) -> Any:
        xgb = _xgboost()
        if self.booster.feature_names is None and hasattr(data, "columns"):
            # trained on an ndarray: positional features, so column labels carry no meaning
            data = data.to_numpy()
        return self.booster.predict(xgb.DMatrix(data))


@dataclass(frozen=True)
class _SklearnApiPredictor:
    """The scikit-learn-API model's own ``predict`` (class labels for classifiers)."""

    model: Any
    capabilities: Capabilities

    def predict(self, data: Any, params: dict[str, Any] | None = None) -> Any:
        if getattr(self.model, "feature_names_in_", None) is None and hasattr(data, "columns"):
            data = data.to_numpy()
        return self.model.predict(data)


class XGBoostFlavor:
    """Saves and loads XGBoost models; the object behind the ``xgboost`` entry point."""

    name = "xgboost"

    def can_save(self, obj: Any) -> bool:
        """True for ``xgboost.Booster`` and ``xgboost.XGBModel`` instances (XGBoost is not
        imported: if it is not loaded yet, nothing can be an XGBoost model)."""
        xgb = sys.modules.get("xgboost")
        return xgb is not None and isinstance(obj, xgb.Booster | xgb.XGBModel)

    def save(self, obj: Any, path: Path, *, model_format: str = "ubj") -> dict[str, Any]:
        """Write ``model.<model_format>`` into ``path`` and return the ``xgboost`` section.

        ``model_format`` is ``ubj`` (UBJSON, compact; the default, as in MLflow) or ``json``.

        Raises :class:`~mlserve.errors.InvalidParameterValue` for another format or an object
        that is not an XGBoost model.
        """
        if model_format not in MODEL_FORMATS:
            raise InvalidParameterValue(
                f"model_format must be one of {', '.join(MODEL_FORMATS)}; got {model_format!r}"
            )
        if not self.can_save(obj):
            raise InvalidParameterValue(f"{type(obj).__name__} is not an XGBoost model")
        filename = f"model.{model_format}"
        obj.save_model(str(Path(path) / filename))
        return {
            "xgb_version": _xgboost().__version__,
            "data": filename,
            "model_class": _qualified_name(obj),
            "model_format": model_format,
            "code": None,
            PYFUNC_SECTION: {"loader_module": "mlflow.xgboost", "data": filename},
        }

    def load(self, path: Path, section: Mapping[str, Any]) -> Any:
        """Rebuild the model class named by ``model_class`` (default ``Booster``, as MLflow) and
        load the model file named by ``data`` into it.

        Raises :class:`~mlserve.errors.MalformedModel` for a missing or unreadable file, a file
        outside the model directory, or a ``model_class`` that is not an XGBoost model class.
        """
        pyfunc = section.get(PYFUNC_SECTION) or {}
        filename = section.get("data") or pyfunc.get("data")
        if not filename:
            raise MalformedModel(str(path), "the xgboost section names no data file")
        fmt = section.get("model_format", "xgb")
        if fmt not in _READABLE_FORMATS:
            raise MalformedModel(str(path), f"unknown xgboost model_format {fmt!r}")
        target = model_file(path, str(filename), must_exist=True)
        cls = _class_named(str(section.get("model_class") or MODEL_CLASSES[0]))
        model = cls()
        try:
            model.load_model(str(target))
        except _xgboost().core.XGBoostError as exc:
            raise MalformedModel(str(path), f"XGBoost cannot read {filename}: {exc}") from exc
        return model

    def predictor(self, native: Any, section: Mapping[str, Any]) -> Any:
        """A predictor calling ``predict``: on a ``DMatrix`` for a ``Booster``, directly for
        scikit-learn-API models (so classifiers answer with class labels, as in MLflow).

        Takes DataFrames and ndarrays; row-wise, so requests may be batched; thread safe for
        tree boosters, as XGBoost documents.
        """
        xgb = _xgboost()
        booster = native if isinstance(native, xgb.Booster) else native.get_booster()
        caps = Capabilities(
            accepts_dataframe=True,
            accepts_ndarray=True,
            supports_params=False,
            batchable=True,
            thread_safe=_thread_safe(booster),
        )
        if isinstance(native, xgb.Booster):
            return _BoosterPredictor(native, caps)
        return _SklearnApiPredictor(native, caps)

    def requirements(self, obj: Any | None = None) -> list[str]:
        """This plugin, XGBoost and the data libraries; scikit-learn too for the
        scikit-learn-API models, whose classes import it."""
        reqs = ["mlserve-xgboost", "xgboost", "numpy", "pandas"]
        if obj is not None and not isinstance(obj, _xgboost().Booster):
            reqs.append("scikit-learn")
        return reqs


flavor = XGBoostFlavor()
