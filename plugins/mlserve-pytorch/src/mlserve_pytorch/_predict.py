"""From request data to tensors, through the module, and back to arrays."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from mlserve import Capabilities

__all__ = ["TorchPredictor", "to_tensors"]


def _float_dtype(module: Any) -> Any:
    """The module's floating dtype (its first floating parameter or buffer), else float32."""
    import torch

    tensors = [*module.parameters(), *module.buffers()] if hasattr(module, "parameters") else []
    for tensor in tensors:
        if tensor.is_floating_point():
            return tensor.dtype
    return torch.float32


def _tensor(value: Any, float_dtype: Any) -> Any:
    import numpy as np
    import torch

    if isinstance(value, torch.Tensor):
        tensor = value
    else:
        if hasattr(value, "to_numpy"):  # DataFrame or Series
            value = value.to_numpy()
        array = np.asarray(value)
        if array.dtype == object:
            raise TypeError("a PyTorch model takes numbers, not text or mixed values")
        # torch.from_numpy shares memory and needs a writable, contiguous array
        tensor = torch.from_numpy(np.ascontiguousarray(array))
    # JSON numbers arrive as float64; the module's weights decide the precision
    return tensor.to(float_dtype) if tensor.is_floating_point() else tensor


def to_tensors(data: Any, module: Any) -> tuple[Any, ...]:
    """``data`` (array, DataFrame, tensor, or a tuple/list of them) as a tuple of tensors."""
    float_dtype = _float_dtype(module)
    items = data if isinstance(data, tuple | list) and not _is_rows(data) else (data,)
    return tuple(_tensor(item, float_dtype) for item in items)


def _is_rows(data: Any) -> bool:
    # a list of numbers or of lists is one input given as rows, not a tuple of inputs
    return isinstance(data, list) and (not data or not hasattr(data[0], "shape"))


def _to_numpy(output: Any) -> Any:
    import torch

    if isinstance(output, torch.Tensor):
        return output.detach().cpu().numpy()
    if isinstance(output, Mapping):
        return {str(k): _to_numpy(v) for k, v in output.items()}
    if isinstance(output, tuple | list):
        return {str(i): _to_numpy(v) for i, v in enumerate(output)}
    return output


@dataclass(frozen=True)
class TorchPredictor:
    """Calls a module on tensors made from the request, in inference mode."""

    module: Any
    float_dtype: Any
    capabilities: Capabilities

    @classmethod
    def for_module(cls, module: Any, *, batchable: bool = True) -> TorchPredictor:
        """A predictor for ``module``; ``batchable`` says whether its outputs are row-wise."""
        caps = Capabilities(
            accepts_dataframe=True,
            accepts_ndarray=True,
            supports_params=False,
            batchable=batchable,
            # inference reads the weights only; PyTorch ops may run in several threads at once
            thread_safe=True,
        )
        return cls(module, _float_dtype(module), caps)

    def predict(self, data: Any, params: dict[str, Any] | None = None) -> Any:
        """One forward pass: a dict becomes keyword arguments, anything else the single input.

        A tensor output comes back as an ndarray, a dict as a dict of arrays, a tuple as a dict
        keyed ``"0"``, ``"1"``...
        """
        import torch

        with torch.inference_mode():
            if isinstance(data, Mapping):
                kwargs = {str(k): _tensor(v, self.float_dtype) for k, v in data.items()}
                output = self.module(**kwargs)
            else:
                output = self.module(_tensor(data, self.float_dtype))
        return _to_numpy(output)
