"""A ``str`` tensor from request values, as MLflow builds one: ``np.array(values, dtype=str)``.

MLflow's scoring server types ``inputs``/``instances`` for a tensor signature with
``np.array(data, dtype=spec.type)``, so for a ``str`` tensor each JSON number becomes the text
Python writes for it: ``2`` stays ``"2"`` and ``1.5`` is ``"1.5"``. Decoding the numbers to a
float64 array first and casting that would give ``"2.0"``. A frame column is cast the same way
(``_reshape_and_cast_pandas_column_values``): its values as the frame holds them (a float64
column's ``2.0`` is ``"2.0"``, ``True`` is ``"True"``). The JSON decoder and the schema
enforcer (``load_model(...).predict``) both build the tensor here, so a request and a
``predict`` call give the model the same strings.

Where MLflow would hand the model text the client never wrote, we refuse instead (a deliberate
difference, in docs/payloads.md): a null (MLflow: ``"None"``, or ``"nan"`` from a frame column)
and a JSON object (MLflow: its Python ``repr``).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from mlserve.errors import InvalidColumnValue

__all__ = ["string_array", "string_tensor"]


def _refused(data: Any) -> str | None:
    """The kind of the first null (None or NaN) or object among nested values, or ``None``."""
    stack = [data]
    while stack:
        value = stack.pop()
        if isinstance(value, list):
            stack.extend(value)
        elif value is None or (isinstance(value, float) and value != value):
            return "null"
        elif isinstance(value, dict):
            return "an object"
    return None


def string_tensor(data: Any, name: str | None, expected: str) -> np.ndarray | None:
    """``np.array(data, dtype=str)`` of nested lists of JSON values, for a ``str`` tensor.

    Numbers are written as Python writes them, booleans as ``"True"``/``"False"``. Raises
    :class:`~mlserve.errors.InvalidColumnValue` (``BAD_REQUEST``) naming ``name`` and
    ``expected`` for a null or an object among the values. ``None`` when the lists are not
    rectangular: each caller words that as it does for numbers.
    """
    found = _refused(data)
    if found is not None:
        raise InvalidColumnValue(name, expected, found)
    try:
        return np.array(data, dtype=str)
    except ValueError:  # ragged lists, or a list where a value belongs
        return None


def string_array(values: np.ndarray, name: str | None, expected: str) -> np.ndarray:
    """An array from a frame (a column's values, or its lists stacked) as a ``str`` tensor:
    ``values.astype(str)``, as MLflow casts it; nulls and objects refused as in
    :func:`string_tensor`."""
    if values.dtype.kind == "f":
        found = "null" if np.isnan(values).any() else None
    elif values.dtype.kind == "O":
        found = _refused(values.ravel().tolist())
    else:
        found = None
    if found is not None:
        raise InvalidColumnValue(name, expected, found)
    return values.astype(str)
