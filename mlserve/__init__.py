"""mlserve: turn a trained model into a production REST API.

The public surface is listed once, in the ``TYPE_CHECKING`` imports below: type checkers read
them as they are, and at run time they become the lazy table that ``__all__`` and
``__getattr__`` use, so ``import mlserve`` stays fast and imports no web server and no ML
framework (a name's module is imported on first access). The surface includes every exception
class of :mod:`mlserve.errors`, so plugins and clients need import nothing but ``mlserve``.
"""

from __future__ import annotations

import importlib
from functools import cache
from typing import TYPE_CHECKING, Any

from mlserve import _flavor_modules

# `import mlserve.sklearn`, `mlserve.pyfunc.log_model`: MLflow's module names (see the module)
_flavor_modules.install()

# The public surface: add a name here and nowhere else (tests/test_public_api.py checks it).
if TYPE_CHECKING:
    from mlserve._api._client import MlserveClient as MlserveClient
    from mlserve._api._models import load_model as load_model
    from mlserve._api._models import save_model as save_model
    from mlserve._api._tracking import active_run as active_run
    from mlserve._api._tracking import end_run as end_run
    from mlserve._api._tracking import get_tracking_uri as get_tracking_uri
    from mlserve._api._tracking import log_model as log_model
    from mlserve._api._tracking import log_param as log_param
    from mlserve._api._tracking import register_model as register_model
    from mlserve._api._tracking import set_tag as set_tag
    from mlserve._api._tracking import set_tracking_uri as set_tracking_uri
    from mlserve._api._tracking import start_run as start_run
    from mlserve._flavor import PYFUNC_SECTION as PYFUNC_SECTION
    from mlserve._flavor import Capabilities as Capabilities
    from mlserve._flavor import Flavor as Flavor
    from mlserve._flavor import Predictor as Predictor
    from mlserve._flavor import get_flavor as get_flavor
    from mlserve._flavor import list_flavors as list_flavors
    from mlserve._flavor import model_file as model_file
    from mlserve._flavor import require_module as require_module
    from mlserve._flavor import reset_registry as reset_registry
    from mlserve._trust import TrustPolicy as TrustPolicy
    from mlserve._trust import check_pickle as check_pickle
    from mlserve._trust import skops_trusted_types as skops_trusted_types
    from mlserve.errors import AliasNotFound as AliasNotFound
    from mlserve.errors import ArtifactNotFound as ArtifactNotFound
    from mlserve.errors import BadRequest as BadRequest
    from mlserve.errors import BrokenFlavor as BrokenFlavor
    from mlserve.errors import DigestMismatch as DigestMismatch
    from mlserve.errors import FlavorConflict as FlavorConflict
    from mlserve.errors import FlavorError as FlavorError
    from mlserve.errors import FlavorNotFound as FlavorNotFound
    from mlserve.errors import InvalidColumnValue as InvalidColumnValue
    from mlserve.errors import InvalidName as InvalidName
    from mlserve.errors import InvalidParameterValue as InvalidParameterValue
    from mlserve.errors import InvalidParams as InvalidParams
    from mlserve.errors import InvalidSignature as InvalidSignature
    from mlserve.errors import InvalidURI as InvalidURI
    from mlserve.errors import LoggedModelNotFound as LoggedModelNotFound
    from mlserve.errors import MalformedModel as MalformedModel
    from mlserve.errors import MissingExtra as MissingExtra
    from mlserve.errors import MlserveError as MlserveError
    from mlserve.errors import ModelPredictError as ModelPredictError
    from mlserve.errors import ModelVersionNotFound as ModelVersionNotFound
    from mlserve.errors import NoFlavorForModel as NoFlavorForModel
    from mlserve.errors import PayloadError as PayloadError
    from mlserve.errors import PayloadTooLarge as PayloadTooLarge
    from mlserve.errors import ReadOnlyStore as ReadOnlyStore
    from mlserve.errors import RegisteredModelNotFound as RegisteredModelNotFound
    from mlserve.errors import RequestTimeout as RequestTimeout
    from mlserve.errors import ResourceAlreadyExists as ResourceAlreadyExists
    from mlserve.errors import ResourceNotFound as ResourceNotFound
    from mlserve.errors import RunNotFound as RunNotFound
    from mlserve.errors import SchemaMismatch as SchemaMismatch
    from mlserve.errors import ServerBusy as ServerBusy
    from mlserve.errors import StoreError as StoreError
    from mlserve.errors import UnsupportedContentType as UnsupportedContentType
    from mlserve.errors import UnsupportedStore as UnsupportedStore
    from mlserve.errors import UntrustedModel as UntrustedModel
    from mlserve.mlmodel import Model as Model
    from mlserve.mlmodel import ModelInfo as ModelInfo
    from mlserve.pyfunc import PyFuncModel as PyFuncModel
    from mlserve.python_model import PythonModel as PythonModel
    from mlserve.python_model import PythonModelContext as PythonModelContext
    from mlserve.schema import ColSpec as ColSpec
    from mlserve.schema import DataType as DataType
    from mlserve.schema import ModelSignature as ModelSignature
    from mlserve.schema import ParamSchema as ParamSchema
    from mlserve.schema import ParamSpec as ParamSpec
    from mlserve.schema import Schema as Schema
    from mlserve.schema import TensorSpec as TensorSpec
    from mlserve.schema import infer_signature as infer_signature

    __version__: str
    __all__: list[str]


@cache
def _exports() -> dict[str, str]:
    """Public name -> defining module, read from the ``TYPE_CHECKING`` imports of this file.

    Read from the module's compiled code, not its source, so an install that ships only
    bytecode lists the same names: the ``if TYPE_CHECKING`` block is compiled (it is skipped
    at run time, not removed), and its ``from mlserve.x import Name`` are the only top-level
    imports of a public name from a ``mlserve.`` submodule.
    """
    import dis

    code = __loader__.get_code(__name__)  # type: ignore[name-defined]
    found: dict[str, str] = {}
    module = ""
    for instruction in dis.get_instructions(code):
        if instruction.opname == "IMPORT_NAME":
            module = str(instruction.argval)
        elif instruction.opname == "IMPORT_FROM" and module.startswith("mlserve."):
            name = str(instruction.argval)
            if not name.startswith("_"):
                found[name] = module
    return found


# Hidden from type checkers, which then see exactly the names imported above (a typo is an error).
if not TYPE_CHECKING:

    def __getattr__(name: str) -> Any:
        if name == "__all__":
            value: Any = sorted([*_exports(), "__version__"])
            globals()[name] = value
            return value
        if name == "__version__":
            from mlserve._distribution import installed_version

            return installed_version()
        module = _exports().get(name)
        if module is None:
            # mlserve.pyfunc, mlserve.sklearn, ... as MLflow's mlflow.pyfunc after `import mlflow`
            found = _flavor_modules.submodule(name)
            if found is None:
                raise AttributeError(f"module 'mlserve' has no attribute {name!r}")
            return found
        value = getattr(importlib.import_module(module), name)
        globals()[name] = value  # later lookups skip __getattr__
        return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_exports()) | {"__all__", "__version__"})
