"""Input examples: ``input_example.json`` and the ready-to-POST ``serving_input_example.json``.

The files and the ``saved_input_example_info`` entry have MLflow's layout:

- a DataFrame (and anything tabular: a list of rows, a dict of columns) is stored as
  ``{"columns": [...], "data": [[...]]}`` with ``type: dataframe, pandas_orient: split`` (``values``
  and no ``columns`` when they are the default ``0..n-1``, as MLflow writes it) and
  served as ``{"dataframe_split": ...}``;
- an ndarray (or a dict of ndarrays) is stored bare (a nested list, or ``{name: list}``) with
  ``type: ndarray`` and served as ``{"inputs": ...}``, as MLflow 2.x and 3 write it (MLflow 3
  cannot read the ``{"inputs": ...}`` file with ``format: tf-serving`` that older mlserve
  versions wrote; those still load here).

An example may be ``(data, params)``: as MLflow does, ``input_example.json`` then holds
``{"inputs": <data>, "params": {...}}`` with ``params: "true"`` in the info, and the serving
example gets ``"params"``.
"""

from __future__ import annotations

import base64
import json
import math
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from mlserve.errors import InvalidParameterValue, MalformedModel
from mlserve.mlmodel._files import model_file
from mlserve.schema import DataType, Schema, TensorSpec

__all__ = [
    "EXAMPLE_FILENAME",
    "SERVING_INPUT_FILENAME",
    "SavedExample",
    "load_input_example",
    "save_input_example",
    "to_jsonable",
]

EXAMPLE_FILENAME = "input_example.json"
SERVING_INPUT_FILENAME = "serving_input_example.json"


@dataclass(frozen=True)
class SavedExample:
    """What :func:`save_input_example` wrote: the MLmodel ``info``, the example as a DataFrame /
    ndarray / dict of ndarrays (for signature inference) and its params (or ``None``)."""

    info: dict[str, Any]
    data: Any
    params: dict[str, Any] | None


def to_jsonable(value: Any) -> Any:
    """Turn pandas / numpy values into JSON-ready Python: NaN and NaT become ``None``,
    datetimes ISO strings, bytes base64 text."""
    if isinstance(value, pd.DataFrame):
        return [to_jsonable(row) for row in value.itertuples(index=False, name=None)]
    if isinstance(value, np.ndarray | pd.Series):
        return [to_jsonable(v) for v in value.tolist()]
    if isinstance(value, Mapping):
        return {str(k): to_jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [to_jsonable(v) for v in value]
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float) and (math.isnan(value) or math.isinf(value)):
        return None
    if value is pd.NaT or (value is not None and not isinstance(value, str) and _is_na(value)):
        return None
    if isinstance(value, datetime | date | pd.Timestamp):
        return value.isoformat()
    if isinstance(value, bytes):
        return base64.b64encode(value).decode("ascii")
    return value


def _is_na(value: Any) -> bool:
    try:
        return bool(pd.isna(value))
    except (TypeError, ValueError):
        return False


def _column_name(name: Any) -> Any:
    return name.item() if isinstance(name, np.generic) else name


def _as_frame(example: Any) -> pd.DataFrame | None:
    """The tabular forms MLflow accepts, as a DataFrame; ``None`` for tensor forms."""
    if isinstance(example, pd.DataFrame):
        return example
    if isinstance(example, pd.Series):
        return example.to_frame()
    if isinstance(example, Mapping):
        if all(isinstance(v, np.ndarray) for v in example.values()):
            return None
        if all(np.isscalar(v) or v is None for v in example.values()):
            return pd.DataFrame([dict(example)])
        return pd.DataFrame(dict(example))
    if isinstance(example, list):
        if example and all(isinstance(r, Mapping) for r in example):
            return pd.DataFrame(example)
        return pd.DataFrame(example)
    if isinstance(example, str | bytes | int | float | bool):
        return pd.DataFrame([[example]])
    return None


def save_input_example(directory: Path, example: Any) -> SavedExample:
    """Write ``input_example.json`` and ``serving_input_example.json`` into ``directory``.

    Raises :class:`~mlserve.errors.InvalidParameterValue` for a type that has no JSON form.
    """
    params = None
    if isinstance(example, tuple) and len(example) == 2 and isinstance(example[1], Mapping):
        example, params = example[0], dict(example[1])
    frame = _as_frame(example)
    if frame is not None:
        split: dict[str, Any] = {"data": to_jsonable(frame)}
        if not frame.columns.equals(pd.RangeIndex(len(frame.columns))):
            split = {"columns": [_column_name(c) for c in frame.columns], **split}
        stored: Any = split
        serving: dict[str, Any] = {"dataframe_split": split}
        # MLflow names the orient after what it wrote; both read back as split
        orient = "split" if "columns" in split else "values"
        info = {"type": "dataframe", "pandas_orient": orient}
        data: Any = frame
    elif isinstance(example, np.ndarray | Mapping):
        if isinstance(example, Mapping):
            data = {str(k): np.asarray(v) for k, v in example.items()}
        else:
            data = example
        stored = to_jsonable(data)
        serving = {"inputs": stored}
        info = {"type": "ndarray"}
    else:
        raise InvalidParameterValue(
            f"input_example of type {type(example).__name__} is not supported; pass a DataFrame, "
            "an ndarray, a dict of arrays or columns, or a list of rows"
        )
    if params:
        serving["params"] = to_jsonable(params)
        stored = {"inputs": stored, "params": serving["params"]}
        info["params"] = "true"  # MLflow's marker for the wrapped form, a string as it writes it
    (directory / EXAMPLE_FILENAME).write_text(json.dumps(stored), encoding="utf-8")
    (directory / SERVING_INPUT_FILENAME).write_text(json.dumps(serving, indent=2), encoding="utf-8")
    info = {"artifact_path": EXAMPLE_FILENAME, "serving_input_path": SERVING_INPUT_FILENAME, **info}
    return SavedExample(info=info, data=data, params=params)


def _restore_types(example: Any, schema: Schema | None) -> Any:
    """Undo what JSON lost, using the signature: tensors get their declared dtype back (JSON has
    no float32) and ``binary`` columns their bytes (stored as base64 text). Anything that does
    not convert is left as read, for the enforcer to judge."""
    if schema is None:
        return example
    specs = list(schema)
    if schema.is_tensor_spec():
        tensors = [spec for spec in specs if isinstance(spec, TensorSpec)]
        if isinstance(example, np.ndarray) and len(tensors) == 1:
            return _as_dtype(example, tensors[0].dtype)
        if isinstance(example, dict):
            dtypes = {str(spec.name): spec.dtype for spec in tensors if spec.name is not None}
            return {k: _as_dtype(v, dtypes[k]) if k in dtypes else v for k, v in example.items()}
        return example
    if isinstance(example, pd.DataFrame):
        binary = [
            str(spec.name)
            for spec in specs
            if spec.type is DataType.binary and str(spec.name) in example.columns
        ]
        if binary:
            example = example.copy()
            for name in binary:
                example[name] = [_unbase64(v) for v in example[name]]
    return example


def _as_dtype(array: np.ndarray, dtype: np.dtype) -> np.ndarray:
    try:
        return array.astype(dtype)
    except (TypeError, ValueError):
        return array


def _unbase64(value: Any) -> Any:
    if not isinstance(value, str):
        return value
    try:
        return base64.b64decode(value, validate=True)
    except ValueError:
        return value


def _truthy(value: Any) -> bool:
    # MLflow writes the string "true"; a YAML boolean means the same
    return value is True or (isinstance(value, str) and value.lower() == "true")


def load_input_example(
    directory: Path, info: Mapping[str, Any] | None, schema: Schema | None = None
) -> Any:
    """Read the input example a model directory holds, or ``None`` if it has none.

    A ``dataframe`` example comes back as a DataFrame, an ``ndarray`` one as an ndarray or a
    dict of ndarrays, anything else as the parsed JSON. Given the signature's input ``schema``,
    tensors are cast back to their declared dtypes and ``binary`` columns decoded from base64,
    so the example fits the signature it was saved with. Raises
    :class:`~mlserve.errors.MalformedModel` if the file named by ``info`` is missing or broken.
    """
    if not info or not info.get("artifact_path"):
        return None
    target = model_file(directory, info["artifact_path"])
    try:
        raw = json.loads(target.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise MalformedModel(str(directory), f"cannot read input example {target.name}") from exc
    kind = info.get("type")
    # the data is wrapped in {"inputs": ...} when params were saved with it (MLflow's layout)
    # and in mlserve's older ndarray files (format: tf-serving)
    wrapped = _truthy(info.get("params")) or info.get("format") == "tf-serving"
    if wrapped and isinstance(raw, Mapping) and "inputs" in raw:
        raw = raw["inputs"]
    if kind == "dataframe":
        if isinstance(raw, Mapping) and "data" in raw:
            return _restore_types(pd.DataFrame(raw["data"], columns=raw.get("columns")), schema)
        return _restore_types(pd.DataFrame(raw), schema)
    if kind == "ndarray":
        inputs = raw
        if isinstance(inputs, Mapping):
            return _restore_types({k: np.asarray(v) for k, v in inputs.items()}, schema)
        return _restore_types(np.asarray(inputs), schema)
    return raw
