"""mlserve: turn a trained model into a production REST API.

The public surface is listed in ``__all__``; it includes every exception class of
:mod:`mlserve.errors`, so plugins and clients need import nothing but ``mlserve``.
Names are resolved lazily on first access so that ``import mlserve`` stays fast and imports no web
server and no ML framework.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from mlserve import _flavor_modules

# `import mlserve.sklearn`, `mlserve.pyfunc.log_model`: MLflow's module names (see the module)
_flavor_modules.install()

if TYPE_CHECKING:
    from mlserve.api.client import MlserveClient
    from mlserve.api.models import load_model, save_model
    from mlserve.api.tracking import (
        active_run,
        end_run,
        get_tracking_uri,
        log_model,
        log_param,
        register_model,
        set_tag,
        set_tracking_uri,
        start_run,
    )
    from mlserve.errors import (
        AliasNotFound,
        ArtifactNotFound,
        BadRequest,
        BrokenFlavor,
        FlavorConflict,
        FlavorError,
        FlavorNotFound,
        InvalidColumnValue,
        InvalidName,
        InvalidParameterValue,
        InvalidParams,
        InvalidSignature,
        InvalidURI,
        LoggedModelNotFound,
        MalformedModel,
        MissingExtra,
        MlserveError,
        ModelPredictError,
        ModelVersionNotFound,
        NoFlavorForModel,
        PayloadError,
        PayloadTooLarge,
        ReadOnlyStore,
        RegisteredModelNotFound,
        RequestTimeout,
        ResourceAlreadyExists,
        ResourceNotFound,
        RunNotFound,
        SchemaMismatch,
        ServerBusy,
        StoreError,
        UnsupportedContentType,
        UnsupportedStore,
    )
    from mlserve.flavor import (
        Capabilities,
        Flavor,
        get_flavor,
        list_flavors,
        model_file,
        require_module,
    )
    from mlserve.mlmodel import Model, ModelInfo
    from mlserve.pyfunc import PyFuncModel
    from mlserve.python_model import PythonModel, PythonModelContext
    from mlserve.schema import (
        ColSpec,
        DataType,
        ModelSignature,
        ParamSchema,
        ParamSpec,
        Schema,
        TensorSpec,
        infer_signature,
    )

# public name -> module that defines it
_EXPORTS: dict[str, str] = {
    "AliasNotFound": "mlserve.errors",
    "ArtifactNotFound": "mlserve.errors",
    "BadRequest": "mlserve.errors",
    "BrokenFlavor": "mlserve.errors",
    "Capabilities": "mlserve.flavor",
    "ColSpec": "mlserve.schema",
    "DataType": "mlserve.schema",
    "DigestMismatch": "mlserve.errors",
    "Flavor": "mlserve.flavor",
    "FlavorConflict": "mlserve.errors",
    "FlavorError": "mlserve.errors",
    "FlavorNotFound": "mlserve.errors",
    "InvalidColumnValue": "mlserve.errors",
    "InvalidName": "mlserve.errors",
    "InvalidParameterValue": "mlserve.errors",
    "InvalidParams": "mlserve.errors",
    "InvalidSignature": "mlserve.errors",
    "InvalidURI": "mlserve.errors",
    "LoggedModelNotFound": "mlserve.errors",
    "MalformedModel": "mlserve.errors",
    "MissingExtra": "mlserve.errors",
    "MlserveClient": "mlserve.api.client",
    "MlserveError": "mlserve.errors",
    "Model": "mlserve.mlmodel",
    "ModelInfo": "mlserve.mlmodel",
    "ModelPredictError": "mlserve.errors",
    "ModelSignature": "mlserve.schema",
    "ModelVersionNotFound": "mlserve.errors",
    "NoFlavorForModel": "mlserve.errors",
    "ParamSchema": "mlserve.schema",
    "ParamSpec": "mlserve.schema",
    "PayloadError": "mlserve.errors",
    "PayloadTooLarge": "mlserve.errors",
    "PyFuncModel": "mlserve.pyfunc",
    "PythonModel": "mlserve.python_model",
    "PythonModelContext": "mlserve.python_model",
    "ReadOnlyStore": "mlserve.errors",
    "RegisteredModelNotFound": "mlserve.errors",
    "RequestTimeout": "mlserve.errors",
    "ResourceAlreadyExists": "mlserve.errors",
    "ResourceNotFound": "mlserve.errors",
    "RunNotFound": "mlserve.errors",
    "Schema": "mlserve.schema",
    "SchemaMismatch": "mlserve.errors",
    "ServerBusy": "mlserve.errors",
    "StoreError": "mlserve.errors",
    "TensorSpec": "mlserve.schema",
    "TrustPolicy": "mlserve.trust",
    "UnsupportedContentType": "mlserve.errors",
    "UnsupportedStore": "mlserve.errors",
    "UntrustedModel": "mlserve.errors",
    "active_run": "mlserve.api.tracking",
    "check_pickle": "mlserve.trust",
    "end_run": "mlserve.api.tracking",
    "get_flavor": "mlserve.flavor",
    "get_tracking_uri": "mlserve.api.tracking",
    "infer_signature": "mlserve.schema",
    "list_flavors": "mlserve.flavor",
    "load_model": "mlserve.api.models",
    "log_model": "mlserve.api.tracking",
    "log_param": "mlserve.api.tracking",
    "model_file": "mlserve.flavor",
    "register_model": "mlserve.api.tracking",
    "require_module": "mlserve.flavor",
    "save_model": "mlserve.api.models",
    "set_tag": "mlserve.api.tracking",
    "set_tracking_uri": "mlserve.api.tracking",
    "skops_trusted_types": "mlserve.trust",
    "start_run": "mlserve.api.tracking",
}

__all__ = [
    "AliasNotFound",
    "ArtifactNotFound",
    "BadRequest",
    "BrokenFlavor",
    "Capabilities",
    "ColSpec",
    "DataType",
    "DigestMismatch",
    "Flavor",
    "FlavorConflict",
    "FlavorError",
    "FlavorNotFound",
    "InvalidColumnValue",
    "InvalidName",
    "InvalidParameterValue",
    "InvalidParams",
    "InvalidSignature",
    "InvalidURI",
    "LoggedModelNotFound",
    "MalformedModel",
    "MissingExtra",
    "MlserveClient",
    "MlserveError",
    "Model",
    "ModelInfo",
    "ModelPredictError",
    "ModelSignature",
    "ModelVersionNotFound",
    "NoFlavorForModel",
    "ParamSchema",
    "ParamSpec",
    "PayloadError",
    "PayloadTooLarge",
    "PyFuncModel",
    "PythonModel",
    "PythonModelContext",
    "ReadOnlyStore",
    "RegisteredModelNotFound",
    "RequestTimeout",
    "ResourceAlreadyExists",
    "ResourceNotFound",
    "RunNotFound",
    "Schema",
    "SchemaMismatch",
    "ServerBusy",
    "StoreError",
    "TensorSpec",
    "TrustPolicy",
    "UnsupportedContentType",
    "UnsupportedStore",
    "UntrustedModel",
    "__version__",
    "active_run",
    "check_pickle",
    "end_run",
    "get_flavor",
    "get_tracking_uri",
    "infer_signature",
    "list_flavors",
    "load_model",
    "log_model",
    "log_param",
    "model_file",
    "register_model",
    "require_module",
    "save_model",
    "set_tag",
    "set_tracking_uri",
    "skops_trusted_types",
    "start_run",
]


def __getattr__(name: str) -> Any:
    if name == "__version__":
        from mlserve._distribution import installed_version

        return installed_version()
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'mlserve' has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value  # later lookups skip __getattr__
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))
