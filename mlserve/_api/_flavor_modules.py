"""MLflow's per-flavor modules under mlserve's name: ``mlserve.sklearn``, ``mlserve.pyfunc``,
``mlserve.xgboost``, ... each with ``save_model``, ``log_model`` and ``load_model``.

A script written for MLflow keeps working with ``mlflow`` replaced by ``mlserve``::

    import mlserve.sklearn
    mlserve.sklearn.log_model(model, name="rf", registered_model_name="MyRF")
    mlserve.pyfunc.load_model("models:/MyRF/latest").predict(df)

The functions here are built per flavor name and reach the flavor only through the registry (by
name, when called), so the core never imports a flavor. ``mlserve._flavor_modules`` makes
``import mlserve.<flavor>`` find them and forwards each call here.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from mlserve._api._models import load_model as _load_pyfunc
from mlserve._api._models import save_model as _save_model
from mlserve._api._tracking import log_model as _log_model
from mlserve._flavor import PYFUNC_SECTION, Flavor
from mlserve._trust import TrustPolicy
from mlserve.errors import FlavorNotFound, InvalidParameterValue
from mlserve.mlmodel import Model, ModelInfo
from mlserve.pyfunc import PyFuncModel, choose_flavor, read_native
from mlserve.store import resolve_model_uri

__all__ = ["FlavorFunctions", "flavor_functions", "pyfunc_functions"]

_DEFAULT_NAME = "model"  # log_model without a name or artifact_path, as in MLflow 3


@dataclass(frozen=True)
class FlavorFunctions:
    """The three functions a ``mlserve.<flavor>`` module exposes."""

    save_model: Callable[..., Any]
    log_model: Callable[..., ModelInfo]
    load_model: Callable[..., Any]


def _artifact_name(name: str | None, artifact_path: str | None) -> str:
    if name is not None and artifact_path is not None and name != artifact_path:
        raise InvalidParameterValue("give log_model either name= or artifact_path=, not both")
    return name or artifact_path or _DEFAULT_NAME


def flavor_functions(flavor: str) -> FlavorFunctions:
    """``save_model``, ``log_model`` and ``load_model`` bound to the registered flavor
    ``flavor``, with MLflow's ``mlflow.<flavor>`` calling conventions."""

    def save_model(model: Any, path: str | os.PathLike[str], **kwargs: Any) -> Any:
        return _save_model(model, path, flavor=flavor, **kwargs)

    def log_model(
        model: Any,
        artifact_path: str | None = None,
        *,
        name: str | None = None,
        registered_model_name: str | None = None,
        **kwargs: Any,
    ) -> ModelInfo:
        return _log_model(
            model,
            _artifact_name(name, artifact_path),
            registered_model_name=registered_model_name,
            flavor=flavor,
            **kwargs,
        )

    def load_model(
        model_uri: str | os.PathLike[str], *, trust: TrustPolicy | str | None = None
    ) -> Any:
        return _load_native(model_uri, flavor, trust)

    save_model.__doc__ = (
        f"Save ``model`` with the ``{flavor}`` flavor at ``path``: :func:`mlserve.save_model` "
        "with ``flavor`` fixed; the same keyword arguments (``signature``, ``input_example``, "
        "``pip_requirements``, the flavor's options...)."
    )
    log_model.__doc__ = (
        f"Log ``model`` with the ``{flavor}`` flavor into the active run: "
        ":func:`mlserve.log_model` under ``name`` (or MLflow 2's ``artifact_path``; ``model`` "
        "when neither is given), registered as ``registered_model_name`` when given."
    )
    load_model.__doc__ = (
        f"Load the model at ``model_uri`` and return the native ``{flavor}`` object (as "
        f"``mlflow.{flavor}.load_model`` does). Raises :class:`~mlserve.errors.FlavorNotFound` "
        f"when the model has no ``{flavor}`` flavor; use :func:`mlserve.load_model` for any."
    )
    return FlavorFunctions(save_model, log_model, load_model)


def _load_native(
    model_uri: str | os.PathLike[str], flavor: str, trust: TrustPolicy | str | None
) -> Any:
    """The native model at ``model_uri``, which must load with ``flavor``: read as
    :func:`mlserve.load_model` reads it (paths confined, digests, trust policy, ``code/``), with
    no predictor built, since only the native object is returned."""

    def pick(metadata: Model) -> tuple[Flavor, dict[str, Any]]:
        chosen, section = choose_flavor(metadata)  # the flavor mlserve.load_model would use
        if chosen.name != flavor and flavor not in metadata.flavors:
            raise FlavorNotFound(flavor, sorted(metadata.flavors))
        if chosen.name != flavor:  # both sections present; pyfunc preferred the other one
            raise InvalidParameterValue(
                f"{model_uri} loads with the {chosen.name} flavor; use mlserve.load_model"
            )
        return chosen, section

    return read_native(resolve_model_uri(os.fspath(model_uri)), pick, trust).native


def _python_model(python_model: Any, loader_module: Any, data_path: Any) -> Any:
    if loader_module is not None or data_path is not None:
        # MLflow's custom-loader form imports the module the file names: never done here
        raise InvalidParameterValue(
            "loader_module= and data_path= are not supported: mlserve never imports a module "
            "a model file names; save a PythonModel with python_model= and artifacts= instead"
        )
    if python_model is None:
        raise InvalidParameterValue("python_model= is required (a PythonModel or a function)")
    return python_model


def pyfunc_functions() -> FlavorFunctions:
    """``mlserve.pyfunc``'s ``save_model``, ``log_model`` and ``load_model``, with the calling
    conventions of ``mlflow.pyfunc`` (the model goes in ``python_model=``; ``load_model``
    returns the loaded :class:`~mlserve.PyFuncModel` of any flavor)."""

    def save_model(
        path: str | os.PathLike[str],
        loader_module: Any = None,
        data_path: Any = None,
        *,
        python_model: Any = None,
        **kwargs: Any,
    ) -> Any:
        model = _python_model(python_model, loader_module, data_path)
        return _save_model(model, path, flavor=PYFUNC_SECTION, **kwargs)

    def log_model(
        artifact_path: str | None = None,
        loader_module: Any = None,
        data_path: Any = None,
        *,
        python_model: Any = None,
        name: str | None = None,
        registered_model_name: str | None = None,
        **kwargs: Any,
    ) -> ModelInfo:
        model = _python_model(python_model, loader_module, data_path)
        return _log_model(
            model,
            _artifact_name(name, artifact_path),
            registered_model_name=registered_model_name,
            flavor=PYFUNC_SECTION,
            **kwargs,
        )

    def load_model(model_uri: str | os.PathLike[str], **kwargs: Any) -> PyFuncModel:
        return _load_pyfunc(model_uri, **kwargs)

    save_model.__doc__ = (
        "Save ``python_model`` (a :class:`~mlserve.PythonModel` or a function) at ``path`` "
        "with the ``python_function`` flavor; ``artifacts=``, ``model_config=`` and the "
        "keyword arguments of :func:`mlserve.save_model`."
    )
    log_model.__doc__ = (
        "Log ``python_model`` into the active run under ``name`` (or ``artifact_path``), "
        "registered as ``registered_model_name`` when given; see :func:`mlserve.log_model`."
    )
    load_model.__doc__ = _load_pyfunc.__doc__
    return FlavorFunctions(save_model, log_model, load_model)
