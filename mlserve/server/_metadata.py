"""The documents behind ``GET /metadata`` and ``GET /version``, built once per server.

``/metadata`` tells a client what it needs to build a request: where the model came from, its
flavors, its signature (inputs, outputs, params, as parsed JSON rather than the JSON strings of
the MLmodel file) and an input example already shaped as an ``/invocations`` body.
"""

from __future__ import annotations

import json
import logging
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from mlserve import PyFuncModel

__all__ = ["input_example_body", "metadata_document", "serving_example", "version_document"]

logger = logging.getLogger("mlserve.server")


def version_document() -> bytes:
    """The serving mlserve's version, bare (``0.1.0``), as MLflow's ``/version`` answers its own.

    MLflow's ``ScoringServerClient.get_version`` returns the body as it is, so a JSON object here
    would reach its callers as a string of JSON; ``/metadata`` carries the version as JSON.
    """
    import mlserve

    return mlserve.__version__.encode()


def metadata_document(model: PyFuncModel) -> bytes:
    """The ``/metadata`` JSON for ``model``.

    Keys: ``model_uri``, ``model_uuid``, ``run_id``, ``artifact_path``, ``utc_time_created``,
    ``flavors`` (the MLmodel sections), ``signature`` (``inputs``/``outputs``/``params`` as
    lists, or ``null``), ``input_example`` (an ``/invocations`` request body, or ``null``),
    ``metadata`` (the user's metadata) and ``mlserve_version``. A part that cannot be rendered
    is ``null`` and a warning is logged; it never stops the server from starting.
    """
    import mlserve

    info = model.metadata
    document: dict[str, Any] = {
        "model_uri": _text(getattr(model, "model_uri", None)),
        "model_uuid": getattr(info, "model_uuid", None),
        "run_id": getattr(info, "run_id", None),
        "artifact_path": getattr(info, "artifact_path", None),
        "utc_time_created": _text(getattr(info, "utc_time_created", None)),
        "flavors": getattr(info, "flavors", None) or {},
        "signature": _guarded("signature", _signature, model),
        "input_example": input_example_body(model),
        "metadata": getattr(info, "metadata", None),
        "mlserve_version": mlserve.__version__,
    }
    return json.dumps(document, default=str, allow_nan=False).encode()


def _text(value: object) -> str | None:
    return None if value is None else str(value)


def _guarded(what: str, build: Any, arg: Any) -> Any:
    try:
        return build(arg)
    except Exception as exc:  # a malformed example must not stop the server
        logger.warning("Cannot render the model's %s for /metadata: %s", what, exc)
        return None


def input_example_body(model: PyFuncModel) -> Any:
    """The model's input example as an ``/invocations`` JSON body, or ``None`` (no example,
    or one that cannot be rendered: a warning is logged)."""
    return _guarded("input example", _input_example, model)


def _input_example(model: PyFuncModel) -> Any:
    """The saved ``serving_input_example.json`` if there is one, else one built from the
    input example."""
    info = getattr(model.metadata, "saved_input_example_info", None) or {}
    name = info.get("serving_input_path")
    directory = getattr(model, "path", None)
    if name and directory is not None:
        root = Path(directory).resolve()
        path = (root / name).resolve()
        if path.is_relative_to(root) and path.is_file():  # never read outside the model
            return json.loads(path.read_text(encoding="utf-8"))
    return serving_example(model.input_example)


def _signature(model: PyFuncModel) -> dict[str, Any] | None:
    signature = model.signature
    if signature is None:
        return None
    parts = {}
    for key in ("inputs", "outputs", "params"):
        part = getattr(signature, key, None)
        parts[key] = None if part is None else json.loads(part.to_json())
    return parts


def serving_example(example: Any) -> dict[str, Any] | None:
    """Turn an input example into an ``/invocations`` JSON body (``None`` stays ``None``).

    A DataFrame becomes ``dataframe_split`` (without the index), a numpy array or a list
    becomes ``inputs``, a dict of arrays becomes columnar ``inputs``. Non-finite floats become
    ``null`` so the result is always valid JSON.
    """
    if example is None:
        return None
    import numpy as np
    import pandas as pd

    if isinstance(example, pd.DataFrame):
        split = json.loads(example.to_json(orient="split", index=False, date_format="iso"))
        return {"dataframe_split": {"columns": split["columns"], "data": split["data"]}}
    if isinstance(example, pd.Series):
        return serving_example(example.to_frame())
    if isinstance(example, np.ndarray):
        return {"inputs": _json_safe(example.tolist())}
    if isinstance(example, dict):
        return {
            "inputs": {
                str(k): _json_safe(v.tolist() if isinstance(v, np.ndarray) else v)
                for k, v in example.items()
            }
        }
    if isinstance(example, list):
        return {"inputs": _json_safe(example)}
    raise TypeError(f"unsupported input example type {type(example).__name__}")


def _json_safe(value: Any) -> Any:
    """Replace NaN and infinities by ``None`` in nested lists and dicts."""
    if isinstance(value, float):
        return value if value == value and value not in (float("inf"), float("-inf")) else None
    if isinstance(value, list):
        return [_json_safe(v) for v in value]
    if isinstance(value, dict):
        return {k: _json_safe(v) for k, v in value.items()}
    return value
