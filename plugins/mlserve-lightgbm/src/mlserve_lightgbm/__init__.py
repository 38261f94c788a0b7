"""The ``lightgbm`` flavor for mlserve: LightGBM ``Booster`` and scikit-learn-API models.

Models are written as ``mlflow.lightgbm.save_model`` writes them, so MLflow loads them too: a
``Booster`` as LightGBM's own model text (``model.lgb``); a scikit-learn-API model
(``LGBMClassifier``...) serialized whole with ``serialization_format`` ``cloudpickle`` (the
default, ``model.pkl``), ``pickle`` or ``skops`` (``model.skops``, MLflow 3's default, needs the
``skops`` extra); a ``lightgbm`` section (``lgb_version``, ``data``, ``model_class``,
``serialization_format``, ``skops_trusted_types``) and a ``python_function`` section with
``loader_module: mlflow.lightgbm``.

Earlier versions of this plugin wrote scikit-learn-API models as booster text plus class labels
(``serialization_format: lightgbm_text``), a layout MLflow does not know; such models still load
here (the predictor maps probabilities to the saved labels), but are no longer written.
LightGBM is imported only when a model is saved or loaded.
"""

from __future__ import annotations

import pickle
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
    MissingExtra,
    check_pickle,
    model_file,
    require_module,
    skops_trusted_types,
)

__all__ = ["SERIALIZATION_FORMATS", "LightGBMFlavor", "flavor"]

__version__ = "0.1.0"


require_module("lightgbm", "lightgbm")

#: How a scikit-learn-API model is written, with MLflow's names; a ``Booster`` is always written
#: as model text. cloudpickle is the default, as for mlserve's sklearn flavor.
SERIALIZATION_FORMATS = ("cloudpickle", "pickle", "skops")

_BOOSTER_CLASS = "lightgbm.basic.Booster"
_SKLEARN_CLASSES = (
    "lightgbm.sklearn.LGBMClassifier",
    "lightgbm.sklearn.LGBMRegressor",
    "lightgbm.sklearn.LGBMRanker",
    "lightgbm.sklearn.LGBMModel",
)
# written by earlier versions of this plugin (booster text + labels); read, never written
_TEXT = "lightgbm_text"
# what MLflow trusts in every LightGBM skops file (mlflow.lightgbm's builtin list); the types a
# given file holds beyond skops' own defaults are added to it at save time
_SKOPS_TRUSTED = (
    "collections.OrderedDict",
    "lightgbm.basic.Booster",
    "lightgbm.sklearn.LGBMClassifier",
    "lightgbm.sklearn.LGBMRegressor",
)
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


def _skops_io() -> Any:
    try:
        import skops.io as sio
    except ImportError as exc:
        raise MissingExtra("serialization_format='skops'", "skops", "skops") from exc
    return sio


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


def _load_skops(path: Path, target: Path, listed: Any) -> Any:
    sio = _skops_io()
    if listed is not None and not (
        isinstance(listed, list) and all(isinstance(t, str) for t in listed)
    ):
        raise MalformedModel(str(path), "skops_trusted_types must be a list of type names")
    # the file's own list counts only where mlserve's trust policy lets pickles load (then as
    # in MLflow, whose saved lists hold _SKOPS_TRUSTED); elsewhere this flavor's list, which is
    # code, stands in for it
    trusted = skops_trusted_types(listed, _SKOPS_TRUSTED)
    try:
        return sio.load(target, trusted=trusted)
    except Exception as exc:  # skops raises bare Exception subclasses for untrusted types
        raise MalformedModel(
            str(path), f"skops cannot load {target.name}: {type(exc).__name__}: {exc}"
        ) from exc


class LightGBMFlavor:
    """Saves and loads LightGBM models; the object behind the ``lightgbm`` entry point."""

    name = "lightgbm"

    def can_save(self, obj: Any) -> bool:
        """True for ``lightgbm.Booster`` and ``lightgbm.LGBMModel`` instances (LightGBM is not
        imported: if it is not loaded yet, nothing can be a LightGBM model)."""
        lgb = sys.modules.get("lightgbm")
        return lgb is not None and isinstance(obj, lgb.Booster | lgb.LGBMModel)

    def save(
        self, obj: Any, path: Path, *, serialization_format: str = "cloudpickle"
    ) -> dict[str, Any]:
        """Write the model into ``path`` and return the ``lightgbm`` section, as MLflow does.

        A ``Booster`` is written as model text (``model.lgb``). A fitted scikit-learn-API model
        is serialized whole: ``cloudpickle`` (the default) or ``pickle`` into ``model.pkl``,
        ``skops`` into ``model.skops`` with the types loading must trust.

        Raises :class:`~mlserve.errors.InvalidParameterValue` for an unknown format or an object
        that is not a LightGBM model, and :class:`~mlserve.errors.MissingExtra` for ``skops``
        without the extra.
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
            section[PYFUNC_SECTION] = {"loader_module": "mlflow.lightgbm", "data": filename}
            return {**section, "data": filename}
        try:
            obj.booster_  # noqa: B018 - raises for an estimator that was never fitted
        except lgb.compat.LGBMNotFittedError as exc:
            raise InvalidParameterValue(f"{type(obj).__name__} is not fitted") from exc
        if serialization_format == "skops":
            sio = _skops_io()
            filename = "model.skops"
            sio.dump(obj, Path(path) / filename)
            untrusted = sio.get_untrusted_types(file=Path(path) / filename)
            section["serialization_format"] = "skops"
            section["skops_trusted_types"] = sorted({*_SKOPS_TRUSTED, *untrusted})
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
        section[PYFUNC_SECTION] = {"loader_module": "mlflow.lightgbm", "data": filename}
        return section

    def load(self, path: Path, section: Mapping[str, Any]) -> Any:
        """Read the model named by ``data``: model text into a ``Booster`` (a ``Booster``, or a
        ``lightgbm_text`` model of earlier versions), or a scikit-learn-API model serialized
        with ``cloudpickle``, ``pickle`` or ``skops`` (MLflow 3's default; loaded trusting the
        ``skops_trusted_types`` the section lists, as MLflow does).

        Raises :class:`~mlserve.errors.MalformedModel` for a missing or unreadable file, a file
        outside the model directory, an unknown ``model_class`` or format, and
        :class:`~mlserve.errors.MissingExtra` for a skops model without the ``skops`` extra.
        """
        pyfunc = section.get(PYFUNC_SECTION) or {}
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
        if fmt == "skops":
            return _load_skops(path, target, section.get("skops_trusted_types"))
        if fmt not in (None, "cloudpickle", "pickle"):
            raise MalformedModel(str(path), f"cannot read lightgbm serialization_format {fmt!r}")
        check_pickle(path, filename)  # mlserve's trust policy decides whether pickles load
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
            # the format is not known here: list what any of them needs to load
            reqs += ["scikit-learn", "cloudpickle"]
        return reqs


flavor = LightGBMFlavor()
