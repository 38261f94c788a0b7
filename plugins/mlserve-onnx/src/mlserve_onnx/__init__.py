"""The ``onnx`` flavor for mlserve: ONNX graphs (``onnx.ModelProto``) run by ONNX Runtime.

Models are saved as the ONNX protobuf (``model.onnx``), in the layout of
``mlflow.onnx.save_model``: an ``onnx`` section (``onnx_version``, ``data``, ``providers``,
``onnx_session_options``) and a ``python_function`` section with ``loader_module: mlflow.onnx``.
MLflow reads our models and we read MLflow's.

The predictor maps the request onto the graph's inputs as MLflow's ONNX pyfunc does: a dict is
the feed, a DataFrame goes whole to a one-input graph and by column name (1-D) to several
inputs, an ndarray to the only input; float64 becomes float32 for a float input and nothing else
is converted (``_feeds``). A DataFrame in gives a DataFrame of outputs, anything else a dict keyed
by output name. onnx and onnxruntime are imported only when needed.
"""

from __future__ import annotations

import logging
import sys
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from mlserve import (
    PYFUNC_SECTION,
    InvalidParameterValue,
    MalformedModel,
    model_file,
    require_module,
)
from mlserve_onnx._feeds import OnnxPredictor

__all__ = ["DATA_FILE", "DEFAULT_PROVIDERS", "OnnxFlavor", "OnnxPredictor", "flavor"]

__version__ = "0.1.0"


require_module("onnx", "onnx")
require_module("onnxruntime", "onnxruntime")

#: The file name MLflow uses for the graph.
DATA_FILE = "model.onnx"
#: MLflow's default: CUDA where the installed onnxruntime has it, else CPU.
DEFAULT_PROVIDERS = ("CUDAExecutionProvider", "CPUExecutionProvider")
_SESSION_OPTIONS = (
    "intra_op_num_threads",
    "inter_op_num_threads",
    "execution_mode",
    "graph_optimization_level",
    "extra_session_config",
)
_log = logging.getLogger(__name__)


def _check_session_options(options: Mapping[str, Any] | None) -> dict[str, Any] | None:
    if options is None:
        return None
    unknown = sorted(set(options) - set(_SESSION_OPTIONS))
    if unknown:
        raise InvalidParameterValue(
            f"unknown onnx_session_options {', '.join(unknown)}; "
            f"known: {', '.join(_SESSION_OPTIONS)}"
        )
    mode = options.get("execution_mode")
    if mode is not None and str(mode).upper() not in ("SEQUENTIAL", "PARALLEL"):
        raise InvalidParameterValue("execution_mode must be 'sequential' or 'parallel'")
    return dict(options)


def _session_options(options: Mapping[str, Any] | None) -> Any:
    import onnxruntime as ort

    so = ort.SessionOptions()
    if not options:
        return so
    if options.get("intra_op_num_threads"):
        so.intra_op_num_threads = int(options["intra_op_num_threads"])
    if options.get("inter_op_num_threads"):
        so.inter_op_num_threads = int(options["inter_op_num_threads"])
    mode = str(options.get("execution_mode") or "").upper()
    if mode == "SEQUENTIAL":
        so.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
    elif mode == "PARALLEL":
        so.execution_mode = ort.ExecutionMode.ORT_PARALLEL
    if options.get("graph_optimization_level") is not None:
        so.graph_optimization_level = ort.GraphOptimizationLevel(
            int(options["graph_optimization_level"])
        )
    for key, value in (options.get("extra_session_config") or {}).items():
        so.add_session_config_entry(str(key), str(value))
    return so


def _providers(declared: Any) -> list[Any]:
    """The declared providers this onnxruntime build has, in order; CPU when none is left."""
    import onnxruntime as ort

    if isinstance(declared, str):
        declared = [declared]
    declared = list(declared or DEFAULT_PROVIDERS)
    # (name, options) pairs come back from YAML as two-element lists
    entries = [tuple(p) if isinstance(p, list) else p for p in declared]
    available = set(ort.get_available_providers())
    usable = [p for p in entries if (p[0] if isinstance(p, tuple) else p) in available]
    if len(usable) < len(entries):
        _log.info("onnx: providers %s are not in this onnxruntime build", declared)
    return usable or ["CPUExecutionProvider"]


def _session(model: Any, section: Mapping[str, Any]) -> Any:
    """An ``InferenceSession`` for a path or serialized bytes, with the section's options."""
    import onnxruntime as ort

    return ort.InferenceSession(
        model,
        sess_options=_session_options(section.get("onnx_session_options")),
        providers=_providers(section.get("providers")),
    )


class OnnxFlavor:
    """Saves ONNX graphs and serves them with ONNX Runtime; the ``onnx`` entry point's object."""

    name = "onnx"

    def can_save(self, obj: Any) -> bool:
        """True for an ``onnx.ModelProto`` (onnx is not imported for the check)."""
        onnx = sys.modules.get("onnx")
        return onnx is not None and isinstance(obj, onnx.ModelProto)

    def save(
        self,
        obj: Any,
        path: Path,
        *,
        providers: list[Any] | None = None,
        onnx_session_options: Mapping[str, Any] | None = None,
        save_as_external_data: bool = False,
    ) -> dict[str, Any]:
        """Check the graph, write it to ``model.onnx`` and return the ``onnx`` section.

        ``providers`` (default CUDA then CPU, as MLflow) and ``onnx_session_options``
        (``intra_op_num_threads``, ``inter_op_num_threads``, ``execution_mode``,
        ``graph_optimization_level``, ``extra_session_config``) are recorded and applied at load.
        ``save_as_external_data`` stores large tensors next to the graph (for models > 2 GB).

        Raises :class:`~mlserve.errors.InvalidParameterValue` for an object that is not an ONNX
        model, a graph the ONNX checker rejects, or unknown session options.
        """
        if not self.can_save(obj):
            raise InvalidParameterValue(f"{type(obj).__name__} is not an onnx.ModelProto")
        import onnx

        options = _check_session_options(onnx_session_options)
        try:
            onnx.checker.check_model(obj)
        except onnx.checker.ValidationError as exc:
            raise InvalidParameterValue(f"the ONNX checker rejects the model: {exc}") from exc
        onnx.save_model(
            obj, str(Path(path) / DATA_FILE), save_as_external_data=save_as_external_data
        )
        return {
            "onnx_version": onnx.__version__,
            "data": DATA_FILE,
            "providers": list(providers) if providers is not None else list(DEFAULT_PROVIDERS),
            "onnx_session_options": options,
            "code": None,
            PYFUNC_SECTION: {"loader_module": "mlflow.onnx", "data": DATA_FILE},
        }

    def load(self, path: Path, section: Mapping[str, Any]) -> Any:
        """An ONNX Runtime ``InferenceSession`` for the graph named by ``data``, with the
        section's providers (those this onnxruntime build has) and session options.

        Raises :class:`~mlserve.errors.MalformedModel` for a missing file, one outside the model
        directory, or a graph ONNX Runtime cannot load.
        """
        pyfunc = section.get(PYFUNC_SECTION) or {}
        filename = str(section.get("data") or pyfunc.get("data") or DATA_FILE)
        target = model_file(path, filename, must_exist=True)
        try:
            return _session(str(target), section)
        except Exception as exc:  # onnxruntime raises its own Fail/InvalidGraph... types
            raise MalformedModel(str(path), f"ONNX Runtime cannot load {filename}: {exc}") from exc

    def predictor(self, native: Any, section: Mapping[str, Any]) -> OnnxPredictor:
        """A predictor over ``native`` (an ``InferenceSession``, or an ``onnx.ModelProto`` that
        gets a session of its own).

        Takes DataFrames, ndarrays and dicts of arrays; thread safe (ONNX Runtime's ``run`` is);
        batchable when every input and every output has a free first (batch) dimension (a
        multi-output graph's dict is split by rows, output by output).
        """
        if self.can_save(native):
            native = _session(native.SerializeToString(), section)
        return OnnxPredictor.for_session(native)

    def requirements(self, obj: Any | None = None) -> list[str]:
        """This plugin, onnx and onnxruntime."""
        return ["mlserve-onnx", "onnx", "onnxruntime", "numpy", "pandas"]


flavor = OnnxFlavor()
