"""mlserve: turn a trained model into a production REST API.

The public surface is listed in ``__all__``. Names are resolved lazily on first access so that
``import mlserve`` stays fast and imports no web server and no ML framework.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

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
    from mlserve.errors import MlserveError
    from mlserve.flavor import Capabilities, Flavor, get_flavor, list_flavors
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
    "Capabilities": "mlserve.flavor",
    "ColSpec": "mlserve.schema",
    "DataType": "mlserve.schema",
    "Flavor": "mlserve.flavor",
    "MlserveClient": "mlserve.api.client",
    "MlserveError": "mlserve.errors",
    "Model": "mlserve.mlmodel",
    "ModelInfo": "mlserve.mlmodel",
    "ModelSignature": "mlserve.schema",
    "ParamSchema": "mlserve.schema",
    "ParamSpec": "mlserve.schema",
    "PyFuncModel": "mlserve.pyfunc",
    "PythonModel": "mlserve.python_model",
    "PythonModelContext": "mlserve.python_model",
    "Schema": "mlserve.schema",
    "TensorSpec": "mlserve.schema",
    "active_run": "mlserve.api.tracking",
    "end_run": "mlserve.api.tracking",
    "get_flavor": "mlserve.flavor",
    "get_tracking_uri": "mlserve.api.tracking",
    "infer_signature": "mlserve.schema",
    "list_flavors": "mlserve.flavor",
    "load_model": "mlserve.api.models",
    "log_model": "mlserve.api.tracking",
    "log_param": "mlserve.api.tracking",
    "register_model": "mlserve.api.tracking",
    "save_model": "mlserve.api.models",
    "set_tag": "mlserve.api.tracking",
    "set_tracking_uri": "mlserve.api.tracking",
    "start_run": "mlserve.api.tracking",
}

__all__ = [
    "Capabilities",
    "ColSpec",
    "DataType",
    "Flavor",
    "MlserveClient",
    "MlserveError",
    "Model",
    "ModelInfo",
    "ModelSignature",
    "ParamSchema",
    "ParamSpec",
    "PyFuncModel",
    "PythonModel",
    "PythonModelContext",
    "Schema",
    "TensorSpec",
    "__version__",
    "active_run",
    "end_run",
    "get_flavor",
    "get_tracking_uri",
    "infer_signature",
    "list_flavors",
    "load_model",
    "log_model",
    "log_param",
    "register_model",
    "save_model",
    "set_tag",
    "set_tracking_uri",
    "start_run",
]


def __getattr__(name: str) -> Any:
    if name == "__version__":
        from importlib.metadata import PackageNotFoundError, version

        try:
            return version("mlserve")
        except PackageNotFoundError:  # running from a source tree that was never installed
            return "0.0.0+unknown"
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'mlserve' has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value  # later lookups skip __getattr__
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))
