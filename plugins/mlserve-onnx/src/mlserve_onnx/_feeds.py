"""Turning a request into ONNX Runtime feeds, and its outputs into predictions.

The mapping is MLflow's ``mlflow.onnx`` pyfunc's (3.17.2), so that a request either server
answers with 2xx gets the same JSON from both, and one MLflow refuses is refused here too:

- a mapping is the feed as it is: every key must be an input's name, every input given;
- a DataFrame goes whole to a one-input graph (``frame.to_numpy()``: ``[rows, columns]``,
  whatever the columns are named); a graph with several inputs gets each input's column by
  name, as a 1-D array (a column is never reshaped to ``[N, 1]``);
- an ndarray goes to the only input;
- the one conversion is float64 to float32 for a ``tensor(float)`` input (JSON numbers arrive
  as float64); any other element type must be the input's already (ints for a float input,
  fractions for an int64 one, numbers for a string one are refused, as ONNX Runtime refuses
  them in MLflow).

A feed that does not fit the graph's inputs (names, element type, rank, fixed dimensions) is a
:class:`~mlserve.BadRequest` naming the input, raised before ONNX Runtime runs; MLflow's server
answers the same requests ``400 BAD_REQUEST``.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from mlserve import BadRequest, Capabilities

__all__ = ["OnnxPredictor"]

# ONNX Runtime's type strings -> numpy dtype names; other types (sequences, maps) pass unchecked
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
# numpy kinds ONNX Runtime takes for a tensor(string) input: str and object arrays (bytes arrays
# it misreads, so they are refused here rather than run)
_STRING_KINDS = frozenset("UO")


@dataclass(frozen=True)
class _Input:
    name: str
    type: str  # ONNX Runtime's type string, "tensor(float)"
    dtype: str | None  # the numpy dtype name it takes; None for a type not checked here
    shape: tuple[int | str | None, ...] | None  # None: ONNX Runtime does not know the shape


def _free_batch_dim(shape: Any) -> bool:
    # a symbolic ("N", "batch") or unknown (None) first dimension is a batch dimension
    return bool(shape) and not isinstance(shape[0], int)


def _shape_text(shape: tuple[int | str | None, ...]) -> str:
    return "[" + ", ".join("?" if d is None else str(d) for d in shape) + "]"


# what a rank mismatch says about where the array came from
_FROM_FRAME = "a DataFrame goes whole to a one-input graph, as one [rows, columns] array"
_FROM_COLUMN = (
    "a DataFrame column is 1-D; send the inputs as named arrays of this rank instead "
    '({"inputs": {"name": [...]}})'
)


def _checked(value: Any, spec: _Input, origin: str | None = None) -> Any:
    """``value`` for ``spec``: float64 cast to float32 for a float input, then checked as ONNX
    Runtime checks a feed; ``origin`` explains a rank mismatch. Anything but an ndarray (a
    list from a caller's dict) is left to ONNX Runtime, which converts such values itself, as
    in MLflow."""
    import numpy as np

    if not isinstance(value, np.ndarray):
        return value
    if spec.dtype == "float32" and value.dtype == np.float64:
        value = value.astype(np.float32)
    if spec.dtype is not None:
        fits = (
            value.dtype.kind in _STRING_KINDS
            if spec.dtype == "object"
            else value.dtype == spec.dtype
        )
        if not fits:
            found = "strings or objects" if value.dtype.kind in "OUS" else str(value.dtype)
            rule = (
                "only float64 is converted (to float32)"
                if spec.dtype == "float32"
                else "values are not converted"
            )
            raise BadRequest(
                f"ONNX input {spec.name!r} is {spec.type}; got {found}: {rule}, as in MLflow's "
                "ONNX flavor"
            )
    # ONNX Runtime reports an input of unknown rank with the shape [] too, so an empty shape
    # is left to it; so is a dimension it names rather than fixes
    if spec.shape:
        if value.ndim != len(spec.shape):
            raise BadRequest(
                f"ONNX input {spec.name!r} has rank {len(spec.shape)} "
                f"({_shape_text(spec.shape)}); got an array of rank {value.ndim} "
                f"(shape {list(value.shape)})" + (f": {origin}" if origin else "")
            )
        fixed = zip(spec.shape, value.shape, strict=True)
        if any(isinstance(want, int) and want != got for want, got in fixed):
            raise BadRequest(
                f"ONNX input {spec.name!r} has shape {_shape_text(spec.shape)}; got an array "
                f"of shape {list(value.shape)}"
            )
    return value


@dataclass(frozen=True)
class OnnxPredictor:
    """Runs an ``InferenceSession``; see :meth:`feeds` for how data meets the graph."""

    session: Any
    inputs: tuple[_Input, ...]
    outputs: tuple[str, ...]
    capabilities: Capabilities

    @classmethod
    def for_session(cls, session: Any) -> OnnxPredictor:
        """Read the graph's inputs and outputs from ``session`` once."""
        inputs = tuple(
            _Input(
                i.name,
                i.type,
                _DTYPES.get(i.type),
                tuple(i.shape) if i.shape is not None else None,
            )
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
        """The ``{input name: array}`` mapping for ``data``, as MLflow's ONNX pyfunc builds it.

        A mapping is the feed itself (its keys must be exactly the inputs' names); a DataFrame
        goes whole, as one ``[rows, columns]`` array, to a one-input graph, and column by
        column (1-D, by input name; other columns ignored) to a graph with several; an ndarray
        goes to the only input. float64 becomes float32 for a float input; nothing else is
        converted. Raises :class:`~mlserve.BadRequest` naming the inputs when the data does
        not fit them (see the module's docstring).
        """
        names = [i.name for i in self.inputs]
        source: Mapping[Any, Any]
        origin = None
        if isinstance(data, Mapping):
            source = data
        elif hasattr(data, "columns"):
            if len(names) == 1:
                source, origin = {names[0]: data.to_numpy()}, _FROM_FRAME
            else:
                missing = [n for n in names if n not in data.columns]
                if missing:
                    raise BadRequest(
                        f"the ONNX graph's inputs {', '.join(names)} are read from the columns "
                        f"of those names; missing column(s): {', '.join(missing)}"
                    )
                source, origin = {n: data[n].to_numpy() for n in names}, _FROM_COLUMN
        else:
            if len(names) != 1:
                raise BadRequest(
                    f"the ONNX graph has {len(names)} inputs ({', '.join(names)}); send a "
                    "dict or a DataFrame with those names, not a single array"
                )
            source = {names[0]: data}
        unknown = [str(k) for k in source if k not in names]
        if unknown:
            raise BadRequest(
                f"the ONNX graph has no input(s) named {', '.join(sorted(unknown))}; "
                f"its inputs: {', '.join(names)}"
            )
        missing = [n for n in names if n not in source]
        if missing:
            raise BadRequest(f"missing ONNX input(s): {', '.join(missing)}")
        return {spec.name: _checked(source[spec.name], spec, origin) for spec in self.inputs}

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
