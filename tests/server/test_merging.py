"""The batcher's merge and split rules (mlserve/server/_merging.py), case by case; the batcher
that applies them is tested in test_batching.py."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
import pytest

from mlserve.server._merging import concat, merge_key, rows_of, same_params, split

FRAME = pd.DataFrame({"a": [1.0, 2.0], "b": ["x", "y"]})

ROWS = [
    ("default-index-frame", FRAME, 2),
    ("shifted-index-frame", FRAME.set_axis([5, 6]), None),
    ("multiindex-columns", pd.DataFrame([[1, 2]], columns=pd.MultiIndex.from_tuples(
        [("a", "x"), ("a", "y")])), None),
    ("matrix", np.zeros((3, 4)), 3),
    ("scalar-array", np.float64(1.0), None),
    ("list", [[1, 2]], None),
]  # fmt: skip


@pytest.mark.parametrize(("data", "rows"), [r[1:] for r in ROWS], ids=[r[0] for r in ROWS])
def test_which_inputs_can_merge(data: Any, rows: int | None) -> None:
    assert rows_of(data) == rows


def test_inputs_share_a_batch_only_with_the_same_columns_dtypes_and_shape() -> None:
    assert merge_key(FRAME) == merge_key(FRAME.iloc[:1])
    assert merge_key(FRAME) != merge_key(FRAME.astype({"a": "float32"}))
    assert merge_key(np.zeros((2, 3))) == merge_key(np.ones((5, 3)))
    assert merge_key(np.zeros((2, 3))) != merge_key(np.zeros((2, 4)))


PARAMS = [
    ("none-and-empty", None, {}, True),
    ("equal-arrays", {"w": np.array([1, 2])}, {"w": np.array([1, 2])}, True),
    ("unequal-arrays", {"w": np.array([1, 2])}, {"w": np.array([1, 3])}, False),
    ("int-and-float", {"k": 1}, {"k": 1.0}, False),
    ("other-keys", {"k": 1}, {"j": 1}, False),
]


@pytest.mark.parametrize(("a", "b", "same"), [p[1:] for p in PARAMS], ids=[p[0] for p in PARAMS])
def test_which_params_are_the_same(a: Any, b: Any, same: bool) -> None:
    assert same_params(a, b) is same


def test_a_batch_is_cut_back_into_each_requests_rows() -> None:
    merged = concat([FRAME, FRAME.iloc[:1]])
    assert list(merged.index) == [0, 1, 2]
    first, second = split(merged, [2, 1])  # type: ignore[misc]
    pd.testing.assert_frame_equal(first, FRAME)
    assert list(second.index) == [0]  # as if predicted alone
    parts = split({"p": np.arange(3), "q": [7, 8, 9]}, [1, 2])
    assert parts is not None
    assert parts[1]["q"] == [8, 9] and list(parts[1]["p"]) == [1, 2]


SPLIT_REFUSED = [
    ("too-few-rows", np.arange(2)),
    ("scalar", np.float64(3.0)),
    ("dict-value-too-short", {"p": np.arange(3), "q": [1]}),
    ("empty-dict", {}),
    ("string", "abc"),
]


@pytest.mark.parametrize("output", [s[1] for s in SPLIT_REFUSED], ids=[s[0] for s in SPLIT_REFUSED])
def test_an_output_without_one_row_per_input_row_is_not_split(output: Any) -> None:
    assert split(output, [1, 2]) is None
