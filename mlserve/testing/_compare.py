"""Comparing predictions in the conformance checks: exactly, or within a few units in the last
place where a model's floats may move with the batch's size."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

__all__ = ["assert_predictions_equal", "assert_split_equal"]


def assert_predictions_equal(actual: Any, expected: Any, *, what: str = "predictions") -> None:
    """Equal predictions, whatever their type (ndarray, DataFrame, Series, dict, list, scalar);
    floats are compared exactly, as a save/load round trip must not change them."""
    import numpy as np
    import pandas as pd

    if isinstance(expected, pd.DataFrame):
        assert isinstance(actual, pd.DataFrame), f"{what}: expected a DataFrame, got {actual!r}"
        pd.testing.assert_frame_equal(actual, expected)
    elif isinstance(expected, pd.Series):
        assert isinstance(actual, pd.Series), f"{what}: expected a Series, got {type(actual)}"
        pd.testing.assert_series_equal(actual, expected)
    elif isinstance(expected, Mapping):
        assert isinstance(actual, Mapping), f"{what}: expected a mapping, got {type(actual)}"
        assert set(actual) == set(expected), f"{what}: keys {set(actual)} != {set(expected)}"
        for key in expected:
            assert_predictions_equal(actual[key], expected[key], what=f"{what}[{key!r}]")
    else:
        np.testing.assert_array_equal(np.asarray(actual), np.asarray(expected), err_msg=what)


#: how many units in the last place a float may move when the same rows are predicted in
#: smaller batches: BLAS splits a product by the batch's size (docs/serving.md, batching)
_SPLIT_ULPS = 16


def assert_split_equal(actual: Any, expected: Any, *, what: str) -> None:
    """As :func:`assert_predictions_equal`, but floats may differ in their last bits."""
    import numpy as np
    import pandas as pd

    def tolerance(values: Any) -> dict[str, float]:
        arr = np.asarray(values)
        if arr.dtype.kind != "f" or not arr.size:
            return {"rtol": 0.0, "atol": 0.0}
        eps = float(np.finfo(arr.dtype).eps) * _SPLIT_ULPS
        scale = float(np.nanmax(np.abs(arr))) if np.isfinite(arr).any() else 0.0
        return {"rtol": eps, "atol": eps * scale}

    if isinstance(expected, pd.DataFrame) and isinstance(actual, pd.DataFrame):
        for column in expected.columns:
            assert_split_equal(actual[column], expected[column], what=f"{what}[{column!r}]")
        assert list(actual.columns) == list(expected.columns), f"{what}: other columns"
    elif isinstance(expected, pd.Series) and isinstance(actual, pd.Series):
        if expected.dtype.kind == "f":
            tol = tolerance(expected)
            pd.testing.assert_series_equal(actual, expected, check_exact=False, **tol)
        else:
            assert_predictions_equal(actual, expected, what=what)
    elif isinstance(expected, Mapping) and isinstance(actual, Mapping):
        assert set(actual) == set(expected), f"{what}: keys {set(actual)} != {set(expected)}"
        for key in expected:
            assert_split_equal(actual[key], expected[key], what=f"{what}[{key!r}]")
    elif isinstance(expected, np.ndarray) and expected.dtype.kind == "f":
        got = np.asarray(actual)
        assert got.shape == expected.shape and got.dtype == expected.dtype, what
        tol = tolerance(expected)
        np.testing.assert_allclose(got, expected, rtol=tol["rtol"], atol=tol["atol"], err_msg=what)
    else:
        assert_predictions_equal(actual, expected, what=what)
