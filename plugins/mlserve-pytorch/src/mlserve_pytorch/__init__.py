"""The ``pytorch`` flavor for mlserve: ``torch.nn.Module`` as TorchScript or a torch.export program.

Models are saved in PyTorch's own portable formats, in the layout of
``mlflow.pytorch.save_model``: a ``data/`` directory (``model_data: data``) holding either
``model.pth`` (TorchScript, the default: no example input needed) or ``model.pt2``
(``serialization_format="pt2"``: ``torch.export``, which needs ``example_inputs``), a
``pytorch`` section with ``pytorch_version`` and a ``python_function`` section with
``loader_module: mlflow.pytorch``.

MLflow-written models load too: TorchScript and ``pt2`` files, and MLflow's ``pickle`` format
(a whole module saved with ``torch.save``; its class must be importable, e.g. from the model's
``code/``). PyTorch 2.13 deprecates TorchScript in favour of torch.export; its warnings are
silenced here because the format still works and reads older models. Everything runs on the CPU.
torch is imported only when a model is saved or loaded.
"""

from __future__ import annotations

import sys
import warnings
import zipfile
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from mlserve import (
    PYFUNC_SECTION,
    InvalidParameterValue,
    MalformedModel,
    UntrustedModel,
    check_pickle,
    model_file,
    require_module,
)
from mlserve_pytorch._predict import TorchPredictor, to_tensors

__all__ = ["SERIALIZATION_FORMATS", "PyTorchFlavor", "TorchPredictor", "flavor"]

__version__ = "0.1.0"


require_module("torch", "torch")

#: ``torchscript`` (``model.pth``, the default) or ``pt2`` (``torch.export``, ``model.pt2``).
SERIALIZATION_FORMATS = ("torchscript", "pt2")
_DATA_DIR = "data"
_TORCHSCRIPT_FILE = "model.pth"
_PT2_FILE = "model.pt2"
# MLflow's reader opens this file before model.pth; we never read it (it names code to import)
_MLFLOW_PICKLE_INFO = ("pickle_module_info.txt", "mlflow.pytorch.pickle_module")


def _torch() -> Any:
    import torch

    return torch


def _script(obj: Any) -> Any:
    torch = _torch()
    if isinstance(obj, torch.jit.ScriptModule):
        return obj
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", category=DeprecationWarning, module=r"torch\.jit")
        try:
            return torch.jit.script(obj)
        except Exception as exc:  # TorchScript's compiler raises many kinds of errors
            raise InvalidParameterValue(
                f"{type(obj).__name__} cannot be compiled to TorchScript ({type(exc).__name__}); "
                "save it with serialization_format='pt2' and example_inputs instead"
            ) from exc


def _export(obj: Any, example_inputs: Any) -> Any:
    torch = _torch()
    if example_inputs is None:
        raise InvalidParameterValue(
            "serialization_format='pt2' needs example_inputs (a batch of at least two rows)"
        )
    args = to_tensors(example_inputs, obj)
    # every input's first dimension is the batch dimension, free at serving time
    batch = torch.export.Dim("batch")
    dynamic = tuple({0: batch} for _ in args)
    try:
        return torch.export.export(obj.eval(), args, dynamic_shapes=dynamic)
    except Exception as exc:  # export raises UserError, constraint violations, ...
        raise InvalidParameterValue(
            f"torch.export cannot export {type(obj).__name__} ({type(exc).__name__}: {exc})"
        ) from exc


def _is_torchscript(path: Path) -> bool:
    # a TorchScript archive carries its compiled code; torch.save's pickle archive does not
    try:
        with zipfile.ZipFile(path) as archive:
            return any("/code/" in name for name in archive.namelist())
    except zipfile.BadZipFile:
        return False


class PyTorchFlavor:
    """Saves and loads PyTorch modules; the object behind the ``pytorch`` entry point."""

    name = "pytorch"

    def can_save(self, obj: Any) -> bool:
        """True for ``torch.nn.Module`` instances, scripted ones included (torch is not imported
        for the check)."""
        torch = sys.modules.get("torch")
        return torch is not None and isinstance(obj, torch.nn.Module)

    def save(
        self,
        obj: Any,
        path: Path,
        *,
        serialization_format: str = "torchscript",
        example_inputs: Any = None,
        batchable: bool = True,
    ) -> dict[str, Any]:
        """Write ``data/model.pth`` (TorchScript) or ``data/model.pt2`` (torch.export) and
        return the ``pytorch`` section.

        ``example_inputs`` (an array, DataFrame, tensor, or a tuple of them: one per ``forward``
        argument) is required for ``pt2``; every first dimension is exported as a free batch
        dimension, so give at least two rows. ``batchable=False`` declares that the model's
        outputs are not row by row (then the server never merges requests).

        Raises :class:`~mlserve.errors.InvalidParameterValue` for an unknown format, an object
        that is not a module, or one TorchScript or torch.export cannot compile.
        """
        if serialization_format not in SERIALIZATION_FORMATS:
            raise InvalidParameterValue(
                f"serialization_format must be one of {', '.join(SERIALIZATION_FORMATS)}; "
                f"got {serialization_format!r}"
            )
        if not self.can_save(obj):
            raise InvalidParameterValue(f"{type(obj).__name__} is not a torch.nn.Module")
        torch = _torch()
        data = Path(path) / _DATA_DIR
        data.mkdir()
        if serialization_format == "torchscript":
            scripted = _script(obj)
            was_training = scripted.training
            scripted.eval()  # saved in inference mode (dropout off, batch-norm frozen)
            scripted.save(str(data / _TORCHSCRIPT_FILE))
            scripted.train(was_training)
            name, content = _MLFLOW_PICKLE_INFO
            (data / name).write_text(content)
        else:
            torch.export.save(_export(obj, example_inputs), str(data / _PT2_FILE))
        section: dict[str, Any] = {
            "pytorch_version": str(torch.__version__),
            "model_data": _DATA_DIR,
            "serialization_format": serialization_format,
            "batchable": bool(batchable),
            "code": None,
            PYFUNC_SECTION: {"loader_module": "mlflow.pytorch", "data": _DATA_DIR},
        }
        if serialization_format == "torchscript":
            section[PYFUNC_SECTION]["pickle_module_name"] = _MLFLOW_PICKLE_INFO[1]
        return section

    def load(self, path: Path, section: Mapping[str, Any]) -> Any:
        """Load the module from ``model_data`` (default ``data``) onto the CPU, in eval mode:
        ``model.pt2`` with torch.export, ``model.pth`` as TorchScript or, when it is MLflow's
        pickle format, with ``torch.load``.

        Raises :class:`~mlserve.errors.MalformedModel` when no model file is there, the
        directory is outside the model, or PyTorch cannot read the file.
        """
        pyfunc = section.get(PYFUNC_SECTION) or {}
        relative = str(section.get("model_data") or pyfunc.get("data") or _DATA_DIR)
        data = model_file(path, relative)
        if data.is_file():  # MLflow < 1.? pointed pyfunc's data at the file itself
            data = data.parent
        torch = _torch()
        try:
            if (data / _PT2_FILE).is_file():
                module = torch.export.load(str(data / _PT2_FILE)).module()
            elif (data / _TORCHSCRIPT_FILE).is_file():
                target = data / _TORCHSCRIPT_FILE
                if _is_torchscript(target):
                    with warnings.catch_warnings():
                        warnings.filterwarnings("ignore", category=DeprecationWarning)
                        module = torch.jit.load(str(target), map_location="cpu")
                else:
                    # MLflow's "pickle" format: a whole module pickled by torch.save, which
                    # mlserve's trust policy must allow
                    check_pickle(path, target.relative_to(Path(path).resolve()))
                    module = torch.load(str(target), map_location="cpu", weights_only=False)
            else:
                raise MalformedModel(
                    str(path), f"no {_TORCHSCRIPT_FILE} or {_PT2_FILE} in {relative}/"
                )
        except (MalformedModel, UntrustedModel):
            raise
        except Exception as exc:  # torch raises RuntimeError, pickle errors, ...
            raise MalformedModel(
                str(path), f"PyTorch cannot load the model ({type(exc).__name__}: {exc})"
            ) from exc
        if not isinstance(module, torch.nn.Module):
            raise MalformedModel(str(path), f"the file holds a {type(module).__name__}, no module")
        if hasattr(module, "eval") and not isinstance(module, torch.fx.GraphModule):
            module.eval()
        return module

    def predictor(self, native: Any, section: Mapping[str, Any]) -> TorchPredictor:
        """Call the module under ``torch.inference_mode`` on tensors made from the request.

        Takes DataFrames, ndarrays and dicts of arrays (passed as keyword arguments); floating
        inputs are cast to the module's floating dtype; thread safe; batchable unless saved with
        ``batchable=False``.
        """
        return TorchPredictor.for_module(native, batchable=bool(section.get("batchable", True)))

    def requirements(self, obj: Any | None = None) -> list[str]:
        """This plugin, torch and the data libraries."""
        return ["mlserve-pytorch", "torch", "numpy", "pandas"]


flavor = PyTorchFlavor()
