"""How the inputs of several requests merge into one batch, and its output splits back.

The rules :class:`~mlserve.server._batching.AdaptiveBatcher` applies: which inputs can be merged
at all (:func:`rows_of`), which may share a batch (:func:`merge_key`, :func:`same_params`), and
how a batch is made (:func:`concat`) and cut back into each request's output (:func:`split`). No
threads, no state: each is a function of the data.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np
import pandas as pd

__all__ = ["concat", "merge_key", "rows_of", "same_params", "split"]


def rows_of(data: Any) -> int | None:
    """Row count of a mergeable input, or None if the input cannot be merged."""
    if isinstance(data, pd.DataFrame):
        index = data.index
        # Only a default index can be rebuilt after concatenation; anything else runs alone so a
        # model that echoes its input index still sees the client's index.
        if (
            isinstance(index, pd.RangeIndex)
            and index.start == 0
            and index.step == 1
            and not isinstance(data.columns, pd.MultiIndex)
        ):
            return len(data)
        return None
    if isinstance(data, np.ndarray) and data.ndim >= 1:
        return int(data.shape[0])
    return None


def merge_key(data: Any) -> tuple[Any, ...]:
    """What two inputs must share to be concatenated without changing either one's meaning."""
    if isinstance(data, pd.DataFrame):
        return ("frame", tuple(data.columns), tuple(str(t) for t in data.dtypes))
    return ("array", data.shape[1:], data.dtype.str)


def same_params(a: dict[str, Any] | None, b: dict[str, Any] | None) -> bool:
    """Params equality that tolerates array values (whose ``==`` is element-wise)."""
    a, b = a or None, b or None
    if a is b:
        return True
    if a is None or b is None or a.keys() != b.keys():
        return False
    for name, value in a.items():
        other = b[name]
        try:
            if isinstance(value, np.ndarray) or isinstance(other, np.ndarray):
                equal = bool(np.array_equal(value, other))
            else:
                equal = bool(value == other)
        except Exception:  # values that cannot be compared are not merged
            return False
        if not equal or type(value) is not type(other):
            return False
    return True


def concat(parts: list[Any]) -> Any:
    if isinstance(parts[0], pd.DataFrame):
        return pd.concat(parts, ignore_index=True)
    return np.concatenate(parts, axis=0)


def split(output: Any, counts: list[int]) -> list[Any] | None:
    """Cut a batch output back into per-request outputs, or None if it has the wrong shape."""
    total = sum(counts)
    bounds: list[tuple[int, int]] = []
    start = 0
    for n in counts:
        bounds.append((start, start + n))
        start += n
    if isinstance(output, np.ndarray):
        if output.ndim == 0 or output.shape[0] != total:
            return None
        return [output[a:b] for a, b in bounds]
    if isinstance(output, (pd.DataFrame, pd.Series)):
        if len(output) != total:
            return None
        parts = [output.iloc[a:b] for a, b in bounds]
        if isinstance(output.index, pd.RangeIndex):
            # Each caller gets the 0-based index it would have got if predicted alone.
            parts = [p.reset_index(drop=True) for p in parts]
        return parts
    if isinstance(output, (list, tuple)):
        if len(output) != total:
            return None
        return [output[a:b] for a, b in bounds]
    if isinstance(output, Mapping) and output:
        # Named outputs (a multi-output graph): each value is split on its own, and all of
        # them must have one row per input row, or the batch is not split at all.
        per_key: dict[Any, list[Any]] = {}
        for key, value in output.items():
            pieces = split(value, counts)
            if pieces is None:
                return None
            per_key[key] = pieces
        return [{key: pieces[i] for key, pieces in per_key.items()} for i in range(len(counts))]
    return None
