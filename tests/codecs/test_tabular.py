"""Frames built by :mod:`mlserve.codecs._tabular` are the frames pandas builds, only faster."""

from __future__ import annotations

import json
from collections.abc import Hashable
from typing import Any

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from mlserve.codecs import RequestDecoder
from mlserve.codecs._tabular import _uniform_frame
from mlserve.schema import ColSpec, DataType, Schema
from mlserve.schema._rules import infer_values as _infer

NAMES = {
    "strings": [f"x{i}" for i in range(20)],
    "consecutive-ints": [0, 1, 2, 3],  # pandas makes these a RangeIndex
    "scattered-ints": [3, 7, 1],
    "mixed": ["a", 1, "b"],
    "floats": [0.5, 1.5],
}
DTYPES = [np.float64, np.float32, np.int64, np.int32, np.bool_]
INDEXES = {"none": None, "ints": "ints", "strings": "strings"}


def _index(kind: str | None, rows: int) -> list[Any] | None:
    if kind == "ints":
        return list(range(10, 10 + rows))
    if kind == "strings":
        return [f"r{i}" for i in range(rows)]
    return None


def _assert_same(got: pd.DataFrame, want: pd.DataFrame) -> None:
    pd.testing.assert_frame_equal(got, want, check_exact=True)
    assert type(got.columns) is type(want.columns) and got.columns.dtype == want.columns.dtype
    assert type(got.index) is type(want.index) and got.index.dtype == want.index.dtype


@pytest.mark.parametrize("names", list(NAMES.values()), ids=list(NAMES))
@pytest.mark.parametrize("dtype", DTYPES, ids=[np.dtype(d).name for d in DTYPES])
@pytest.mark.parametrize("rows", [1, 3], ids=["1-row", "3-rows"])
@pytest.mark.parametrize("index", list(INDEXES.values()), ids=list(INDEXES))
def test_uniform_columns_give_the_frame_pandas_gives(
    names: list[Hashable], dtype: Any, rows: int, index: str | None
) -> None:
    rng = np.random.default_rng(0)
    data = {name: rng.normal(size=rows).astype(dtype) for name in names}
    labels = _index(index, rows)
    got = _uniform_frame(data, labels)
    assert got is not None
    _assert_same(got, pd.DataFrame(data, index=labels))
    assert len(got._mgr.blocks) == 1  # one block: the model's np.asarray(frame) is a view


@pytest.mark.parametrize(
    "data",
    [
        {"a": np.zeros(2), "b": np.zeros(2, dtype=np.int64)},
        {"a": np.zeros(2), "b": np.array(["x", "y"], dtype=object)},
        {"a": np.zeros(2)},
        {"a": np.zeros(0), "b": np.zeros(0)},
        {"a": np.zeros(2), "b": pd.array([1, None], dtype="Int64")},
    ],
    ids=["mixed-dtypes", "object-column", "one-column", "no-rows", "extension-array"],
)
def test_other_columns_are_left_to_pandas(data: dict[str, Any]) -> None:
    assert _uniform_frame(data, None) is None


def test_one_row_of_twenty_doubles_decodes_to_the_pandas_frame() -> None:
    names = [f"x{i}" for i in range(20)]
    schema = Schema([ColSpec(DataType.double, name) for name in names])
    row = [float(i) / 3 for i in range(20)]
    body = json.dumps({"dataframe_split": {"columns": names, "data": [row]}}).encode()
    got = RequestDecoder(schema, None).decode(body, "application/json").data
    _assert_same(got, pd.DataFrame([row], columns=names))
    assert len(got._mgr.blocks) == 1  # built by the fast path, not column by column


def test_zero_and_false_names_are_not_confused() -> None:
    # 0 == False == 0.0 as dict keys; the cached column index must still follow the names' type
    ints = _uniform_frame({0: np.zeros(1), 1: np.zeros(1)}, None)
    floats = _uniform_frame({0.0: np.zeros(1), 1.0: np.zeros(1)}, None)
    assert ints is not None and floats is not None
    assert isinstance(ints.columns, pd.RangeIndex)
    assert floats.columns.dtype == np.float64


@given(
    st.lists(
        st.one_of(st.text(max_size=12), st.sampled_from(["", " ", "007", "é", "nan", "None"])),
        min_size=1,
        max_size=30,
    )
)
@settings(max_examples=200, deadline=None)
def test_a_column_of_strings_is_typed_as_pandas_types_it(values: list[str]) -> None:
    ours = _infer(values)
    theirs = pd.Series(list(values)).array
    assert type(ours) is type(theirs)
    assert ours.dtype == theirs.dtype
    assert ours.tolist() == theirs.tolist()


@pytest.mark.parametrize(
    "values",
    [["a", None], ["a", float("nan")], ["a", 1], ["a", b"b"], [np.str_("a"), "b"]],
    ids=["none", "nan", "int", "bytes", "numpy-str"],
)
def test_strings_with_anything_else_are_typed_by_pandas_itself(values: list[Any]) -> None:
    ours, theirs = _infer(values), pd.Series(list(values)).array
    assert type(ours) is type(theirs)
    assert ours.dtype == theirs.dtype
    pd.testing.assert_extension_array_equal(ours, theirs)


def test_frames_of_different_requests_do_not_share_a_column_index() -> None:
    # an Index's name can be set in place: a model doing so must not reach the next request
    decoder = RequestDecoder(Schema([ColSpec("double", "a"), ColSpec("double", "b")]), None)
    body = json.dumps({"dataframe_split": {"columns": ["a", "b"], "data": [[1.0, 2.0]]}})
    first = decoder.decode(body.encode(), "application/json").data
    first.columns.name = "set by the first request's model"
    second = decoder.decode(body.encode(), "application/json").data
    assert second.columns is not first.columns
    assert second.columns.name is None
