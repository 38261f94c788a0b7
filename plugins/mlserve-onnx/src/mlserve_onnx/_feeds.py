"""Turning a request into ONNX Runtime feeds, and its outputs into predictions."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from mlserve import Capabilities, InvalidParameterValue

__all__ = ["OnnxPredictor"]

# ONNX Runtime's type strings -> numpy dtype names; other types (sequences, maps) pass unchanged
_DTYPES = {
    "tensor(float)": "float32",
    "tensor(double)": "float64",
    "tensor(float16)": "float16",
    "tensor(int8)": "int8",
    "tensor(int16)": "int16",
    "tensor(int32)": "int32",
    "tensor(int64)": "int64",
    "tensor(uint8)": "uint8",
    "tensor(uint16)": "uint16",
    "tensor(uint32)": "uint32",
    "tensor(uint64)": "uint64",
    "tensor(bool)": "bool",
    "tensor(string)": "object",
}


@dataclass(frozen=True)
class _Input:
    name: str
    dtype: str | None
    rank: int | None


def _free_batch_dim(shape: Any) -> bool:
    # a symbolic ("N", "batch") or unknown (None) first dimension is a batch dimension
    return bool(shape) and not isinstance(shape[0], int)


def _cast(name: str, value: Any, spec: _Input) -> Any:
    import numpy as np

    array = np.asarray(value)
    if spec.dtype is None or array.dtype == spec.dtype:
        return array
    if spec.dtype == "object":
        return array.astype(str).astype(object)
    try:
        return array.astype(spec.dtype)
    except (TypeError, ValueError) as exc:
        raise InvalidParameterValue(
            f"input {name!r} must be {spec.dtype}; got values of type {array.dtype}"
        ) from exc


def _to_rank(array: Any, rank: int | None) -> Any:
    # a DataFrame column is 1-D; a graph input of shape [N, 1] wants it as a column
    if rank is not None and array.ndim == 1 and rank == 2:
        return array.reshape(-1, 1)
    return array


@dataclass(frozen=True)
class OnnxPredictor:
    """Runs an ``InferenceSession``; see :meth:`predict` for how data meets the graph."""

    session: Any
    inputs: tuple[_Input, ...]
    outputs: tuple[str, ...]
    capabilities: Capabilities

    @classmethod
    def for_session(cls, session: Any) -> OnnxPredictor:
        """Read the graph's inputs and outputs from ``session`` once."""
        inputs = tuple(
            _Input(i.name, _DTYPES.get(i.type), len(i.shape) if i.shape is not None else None)
            for i in session.get_inputs()
        )
        outputs = session.get_outputs()
        # row-wise as far as the graph can tell: every input and output (a dict of outputs is
        # split by rows too) has a free first dimension; a ZipMap's sequence has no shape
        batchable = all(_free_batch_dim(node.shape) for node in [*session.get_inputs(), *outputs])
        caps = Capabilities(
            accepts_dataframe=True,
            accepts_ndarray=True,
            supports_params=False,
            batchable=batchable,
            thread_safe=True,  # InferenceSession.run may be called from several threads
        )
        return cls(session, inputs, tuple(o.name for o in outputs), caps)

    def feeds(self, data: Any) -> dict[str, Any]:
        """The ``{input name: array}`` mapping for ``data``.

        A mapping is matched by input name (other keys are ignored); a DataFrame by column name,
        or whole when the graph has one input and the columns do not name it; an ndarray goes to
        the only input. Raises :class:`~mlserve.errors.InvalidParameterValue` naming the missing
        inputs, or when an ndarray meets a graph with several inputs.
        """
        names = [i.name for i in self.inputs]
        if isinstance(data, Mapping):
            source: Mapping[str, Any] = {str(k): v for k, v in data.items()}
        elif hasattr(data, "columns"):
            columns = {str(c): c for c in data.columns}
            if len(names) == 1 and names[0] not in columns:
                source = {names[0]: data.to_numpy()}
            else:
                source = {n: data[columns[n]].to_numpy() for n in names if n in columns}
        else:
            if len(names) != 1:
                raise InvalidParameterValue(
                    f"the ONNX graph has {len(names)} inputs ({', '.join(names)}); send a "
                    "dict or a DataFrame with those names, not a single array"
                )
            source = {names[0]: data}
        missing = [n for n in names if n not in source]
        if missing:
            raise InvalidParameterValue(f"missing ONNX input(s): {', '.join(missing)}")
        return {
            spec.name: _to_rank(_cast(spec.name, source[spec.name], spec), spec.rank)
            for spec in self.inputs
        }

    def predict(self, data: Any, params: dict[str, Any] | None = None) -> Any:
        """Run the graph and answer in the shape MLflow's ONNX pyfunc gives.

        A DataFrame in gives a DataFrame out: one column per output, named after it, each
        output flattened (``reshape(-1)``), so a ``[N, 1]`` output is a column of ``N`` values
        and a ZipMap's dicts one dict per row. Outputs of unequal flattened lengths (a ``[N]``
        label beside ``[N, 2]`` probabilities) cannot form that frame: pandas' ``ValueError``,
        which MLflow raises too (a ``400 BAD_REQUEST`` on both servers). Anything else in
        gives ``{output name: array}``, for one output too.
        """
        import numpy as np
        import pandas as pd

        results = self.session.run(list(self.outputs), self.feeds(data))
        if isinstance(data, pd.DataFrame):
            return pd.DataFrame.from_dict(
                {n: np.asarray(r).reshape(-1) for n, r in zip(self.outputs, results, strict=True)}
            )
        return dict(zip(self.outputs, results, strict=True))
