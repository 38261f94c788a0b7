"""What the keras and tensorflow flavors share: safe paths, requirements, request mapping."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from importlib.metadata import PackageNotFoundError, version
from typing import Any

from mlserve import InvalidParameterValue

__all__ = [
    "map_inputs",
    "outputs_to_numpy",
    "tensorflow_distribution",
]

# the distributions that provide the ``tensorflow`` module, most specific first
_TF_DISTRIBUTIONS = ("tensorflow-cpu", "tensorflow", "tensorflow-intel", "tensorflow-macos")


def tensorflow_distribution() -> str:
    """The installed distribution that provides TensorFlow (``tensorflow-cpu`` or
    ``tensorflow``...), so a model's requirements name the one actually used."""
    for name in _TF_DISTRIBUTIONS:
        try:
            version(name)
        except PackageNotFoundError:
            continue
        return name
    return "tensorflow"


def map_inputs(data: Any, names: Sequence[str]) -> Any:
    """Request data -> what a model with inputs ``names`` takes: the bare array for one input,
    else a ``{name: array}`` dict (from a mapping's keys or a DataFrame's columns).

    A DataFrame column becomes an ``[N, 1]`` array, as Keras and TensorFlow inputs of one
    feature expect. Raises :class:`~mlserve.errors.InvalidParameterValue` naming the missing
    inputs, or when a bare array meets a model with several inputs.
    """
    import numpy as np

    if hasattr(data, "columns") and not isinstance(data, Mapping):
        if len(names) <= 1:
            return data.to_numpy()
        columns = {str(c): c for c in data.columns}
        source = {n: data[columns[n]].to_numpy().reshape(-1, 1) for n in names if n in columns}
    elif isinstance(data, Mapping):
        source = {str(k): np.asarray(v) for k, v in data.items()}
        if len(names) <= 1 and len(source) == 1:
            return next(iter(source.values()))
    else:
        if len(names) > 1:
            raise InvalidParameterValue(
                f"the model has {len(names)} inputs ({', '.join(names)}); send a dict or a "
                "DataFrame with those names, not a single array"
            )
        return np.asarray(data)
    missing = [n for n in names if n not in source]
    if missing:
        raise InvalidParameterValue(f"missing model input(s): {', '.join(missing)}")
    if len(names) == 1:
        return source[names[0]]
    return {n: source[n] for n in names}


def outputs_to_numpy(output: Any, names: Sequence[str] | None = None) -> Any:
    """One output -> an ndarray; several -> a dict keyed by output name (or position)."""
    import numpy as np

    def arr(value: Any) -> Any:
        return value.numpy() if hasattr(value, "numpy") else np.asarray(value)

    if isinstance(output, Mapping):
        if len(output) == 1:
            return arr(next(iter(output.values())))
        return {str(k): arr(v) for k, v in output.items()}
    if isinstance(output, list | tuple):
        if len(output) == 1:
            return arr(output[0])
        keys = list(names) if names and len(names) == len(output) else range(len(output))
        return {str(k): arr(v) for k, v in zip(keys, output, strict=True)}
    return arr(output)
