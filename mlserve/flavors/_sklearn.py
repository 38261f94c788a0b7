"""The ``sklearn`` flavor: any scikit-learn estimator or Pipeline.

Writes the layout of ``mlflow.sklearn.save_model``: the pickled estimator (``model.pkl``, or
``model.skops``), an ``sklearn`` section (``pickled_model``, ``serialization_format``,
``sklearn_version``, ``code``) and a ``python_function`` section with
``loader_module: mlflow.sklearn`` so MLflow loads our models too. scikit-learn is imported only
when a model is saved or loaded.
"""

from __future__ import annotations

import pickle
import sys
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from mlserve._flavor import PYFUNC_SECTION, Capabilities, model_file
from mlserve._trust import TRUST_ENV, check_pickle, skops_trusted_types
from mlserve.errors import InvalidParameterValue, MalformedModel, MissingExtra, UntrustedModel
from mlserve.flavors._sklearn_fast import accelerate
from mlserve.flavors._sklearn_fast.names import ARRAY_SAFE_FNS

__all__ = ["SERIALIZATION_FORMATS", "SklearnFlavor", "flavor"]

SERIALIZATION_FORMATS = ("cloudpickle", "pickle", "skops")
_PREDICT_FNS = (*ARRAY_SAFE_FNS, "transform")
_CAPABILITIES = Capabilities(
    accepts_dataframe=True,
    accepts_ndarray=True,
    supports_params=False,
    batchable=True,
    thread_safe=True,
)


def _sklearn_version() -> str:
    try:
        return version("scikit-learn")
    except PackageNotFoundError:  # pragma: no cover - sklearn imported but not installed?
        import sklearn

        return str(sklearn.__version__)


def _skops_io() -> Any:
    try:
        import skops.io as sio
    except ImportError as exc:
        raise MissingExtra("serialization_format='skops'", "skops", "skops") from exc
    return sio


@dataclass(frozen=True)
class _SklearnPredictor:
    """Calls the chosen method of a fitted estimator (or an accelerator that gives its answers).

    ``wants_frame=False`` is for an estimator fitted on an ndarray: a frame is handed over as
    its values (given named columns, it would warn that it was fitted without names). With
    ``wants_frame=True`` the data goes as given.
    """

    method: Any
    wants_frame: bool
    capabilities: Capabilities = _CAPABILITIES

    def predict(self, data: Any, params: dict[str, Any] | None = None) -> Any:
        if not self.wants_frame and hasattr(data, "to_numpy") and hasattr(data, "columns"):
            data = _values(data)
        return self.method(data)


def _values(frame: Any) -> Any:
    """The frame's values as scikit-learn would take them from the frame itself: nullable
    columns (``Int64``, ``Float64``, ``boolean``, whose ``to_numpy()`` is an object array of
    ``pd.NA``) among numbers become float64 with NaN, as ``check_array`` converts them."""
    if isinstance(frame, pd.DataFrame):
        dtypes = set(frame.dtypes.tolist())
        numbers = all(
            d.kind in "biuf" and (isinstance(d, np.dtype) or d.na_value is pd.NA) for d in dtypes
        )
        if numbers and not all(isinstance(d, np.dtype) for d in dtypes):
            # (an estimator asking for float32 converts these floats again: rounded as
            # scikit-learn's direct conversion rounds every integer below 2**53)
            return frame.to_numpy(dtype=np.float64, na_value=np.nan)
    return frame.to_numpy()


def _input_step(native: Any) -> tuple[Any, bool]:
    """The step that gets ``native``'s input (a Pipeline's first step that is not "passthrough"
    or None, as ``Pipeline.predict`` skips them), and whether it is inside a Pipeline."""
    pipeline = sys.modules.get("sklearn.pipeline")  # loaded already if native is a Pipeline
    step, inside = native, False
    while pipeline is not None and isinstance(step, pipeline.Pipeline):
        steps = [s for _, s in step.steps if s is not None and not _passthrough(s)]
        if not steps:
            break
        step, inside = steps[0], True
    return step, inside


def _passthrough(step: Any) -> bool:
    return isinstance(step, str) and step == "passthrough"


def _fitted_on_array(step: Any, inside: bool) -> bool:
    """Whether the input step was fitted on an ndarray (no ``feature_names_in_``). A Pipeline
    step that recorded neither names nor a width (a custom selector) may select columns by
    name, so it keeps the frame; a lone estimator without names gets the values, as it always
    has."""
    try:
        if getattr(step, "feature_names_in_", None) is not None:
            return False
        return not inside or hasattr(step, "n_features_in_")
    except Exception:  # a property of someone else's estimator: give it what the caller gave
        return False


def _load_skops(path: Path, target: Path, model_types: Any) -> Any:
    # the trusted list comes from the trust policy: the model's own list counts only where the
    # policy lets pickles load anyway (mlserve._trust.TrustPolicy.skops_trusted)
    sio = _skops_io()
    trusted = skops_trusted_types(model_types if isinstance(model_types, list) else None)
    untrusted = sorted(set(sio.get_untrusted_types(file=target)) - set(trusted))
    if untrusted:
        terms = ",".join(f"skops-type={name}" for name in untrusted)
        raise UntrustedModel(
            str(path),
            f"{target.name} holds types skops does not trust by default and the trust policy "
            f"does not list: {', '.join(untrusted)}. If you trust them, add them to --trust or "
            f"{TRUST_ENV} ({terms})",
        )
    return sio.load(target, trusted=trusted)


class SklearnFlavor:
    """Saves and loads scikit-learn estimators; the ``sklearn`` entry point's object."""

    name = "sklearn"

    def can_save(self, obj: Any) -> bool:
        """True for instances of ``sklearn.base.BaseEstimator`` (no import if sklearn isn't
        loaded: then nothing can be an estimator)."""
        base = sys.modules.get("sklearn.base")
        return base is not None and isinstance(obj, base.BaseEstimator)

    def save(
        self,
        obj: Any,
        path: Path,
        *,
        serialization_format: str = "cloudpickle",
        pyfunc_predict_fn: str = "predict",
        skops_trusted_types: Sequence[str] | None = None,
    ) -> dict[str, Any]:
        """Pickle ``obj`` into ``path`` and return the ``sklearn`` section.

        With ``skops``, the types skops does not trust by default are recorded as the model's
        ``skops_trusted_types`` (loading trusts exactly those). ``skops_trusted_types=[...]``
        is MLflow's argument: the saver names them, and a type the file holds that the list
        leaves out is refused, as MLflow refuses it; the list is recorded as given.

        Raises :class:`~mlserve.errors.InvalidParameterValue` for an unknown format, a
        ``pyfunc_predict_fn`` the estimator does not have or an incomplete
        ``skops_trusted_types``, :class:`~mlserve.errors.MissingExtra` for ``skops`` when it is
        not installed.
        """
        if serialization_format not in SERIALIZATION_FORMATS:
            raise InvalidParameterValue(
                f"serialization_format must be one of {', '.join(SERIALIZATION_FORMATS)}; "
                f"got {serialization_format!r}"
            )
        if pyfunc_predict_fn not in _PREDICT_FNS:
            raise InvalidParameterValue(
                f"pyfunc_predict_fn must be one of {', '.join(_PREDICT_FNS)}; "
                f"got {pyfunc_predict_fn!r}"
            )
        if not callable(getattr(obj, pyfunc_predict_fn, None)):
            raise InvalidParameterValue(
                f"pyfunc_predict_fn={pyfunc_predict_fn!r}: {type(obj).__name__} has no such method"
            )
        section: dict[str, Any] = {
            "sklearn_version": _sklearn_version(),
            "serialization_format": serialization_format,
            "code": None,
        }
        if serialization_format == "skops":
            sio = _skops_io()
            filename = "model.skops"
            sio.dump(obj, path / filename)
            # the saver vouches for the types it wrote; loading trusts exactly those
            untrusted = sorted(sio.get_untrusted_types(file=path / filename))
            if skops_trusted_types is not None:
                named = [str(name) for name in skops_trusted_types]
                left_out = [name for name in untrusted if name not in named]
                if left_out:
                    raise InvalidParameterValue(
                        f"the model holds types skops does not trust that skops_trusted_types "
                        f"leaves out: {', '.join(left_out)}; add them if loading them is safe"
                    )
                untrusted = named
            section["skops_trusted_types"] = untrusted
        else:
            filename = "model.pkl"
            with open(path / filename, "wb") as out:
                if serialization_format == "cloudpickle":
                    import cloudpickle

                    cloudpickle.dump(obj, out)
                else:
                    pickle.dump(obj, out, protocol=pickle.DEFAULT_PROTOCOL)
        section["pickled_model"] = filename
        section[PYFUNC_SECTION] = {
            "loader_module": "mlflow.sklearn",
            "model_path": filename,
            "predict_fn": pyfunc_predict_fn,
        }
        return section

    def load(self, path: Path, section: Mapping[str, Any]) -> Any:
        """Unpickle the estimator (the file is ``pickled_model``, or pyfunc's ``model_path``).

        Raises :class:`~mlserve.errors.MalformedModel` when the file is missing or unreadable,
        or refers to a module that cannot be imported here.
        """
        pyfunc = section.get(PYFUNC_SECTION) or {}
        filename = section.get("pickled_model") or pyfunc.get("model_path")
        if not filename:
            raise MalformedModel(str(path), "the sklearn section names no pickled_model")
        target = model_file(path, filename)
        fmt = section.get("serialization_format", "cloudpickle")
        if fmt not in SERIALIZATION_FORMATS:
            raise MalformedModel(str(path), f"unknown sklearn serialization_format {fmt!r}")
        if not target.is_file():
            raise MalformedModel(str(path), f"the model file {filename} is missing")
        if fmt == "skops":
            return _load_skops(path, target, section.get("skops_trusted_types"))
        check_pickle(path, filename)
        try:
            with open(target, "rb") as src:
                # cloudpickle output is read by the standard unpickler
                return pickle.load(src)  # loading a model runs its code by design
        except (pickle.UnpicklingError, EOFError) as exc:
            raise MalformedModel(str(path), f"cannot unpickle {filename}: {exc}") from exc
        except (ImportError, AttributeError) as exc:
            # a custom transformer's module, or a class this scikit-learn version lacks
            raise MalformedModel(
                str(path),
                f"cannot unpickle {filename}: {type(exc).__name__}: {exc}. The model refers "
                "to code that is not importable here: save it with code_paths=[<the module's "
                "file or package>], install that module, or install the scikit-learn version "
                f"it was saved with ({section.get('sklearn_version', 'unknown')})",
            ) from exc

    def predictor(self, native: Any, section: Mapping[str, Any]) -> Any:
        """Wrap ``native`` so ``predict`` calls its ``predict_fn`` (default ``predict``).

        Raises :class:`~mlserve.errors.MalformedModel` if the estimator lacks that method.
        """
        pyfunc = section.get(PYFUNC_SECTION) or {}
        name = str(pyfunc.get("predict_fn") or "predict")
        method = getattr(native, name, None)
        if name not in _PREDICT_FNS or not callable(method):
            raise MalformedModel("<sklearn>", f"{type(native).__name__} has no method {name!r}")
        # Chosen once here, so a request pays no estimator inspection.
        step, inside = _input_step(native)
        array = _fitted_on_array(step, inside)
        fast = accelerate(native, name, method, array=array, input_step=step)
        return _SklearnPredictor(fast, wants_frame=not array)

    def requirements(self, obj: Any | None = None) -> list[str]:
        """scikit-learn and what its pickles need."""
        return ["scikit-learn", "numpy", "scipy", "cloudpickle", "pandas"]


flavor = SklearnFlavor()
