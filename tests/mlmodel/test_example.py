"""Input examples: MLflow's file layout and a serving example that is a ready /invocations body."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from mlserve.errors import InvalidParameterValue, MalformedModel
from mlserve.mlmodel._example import load_input_example, save_input_example, to_jsonable


def _read(path: Path) -> object:
    return json.loads(path.read_text())


def test_dataframe_example(tmp_path: Path) -> None:
    frame = pd.DataFrame({"a": [1.5, np.nan], "b": ["x", "y"]})
    saved = save_input_example(tmp_path, frame)
    assert saved.info == {
        "artifact_path": "input_example.json",
        "serving_input_path": "serving_input_example.json",
        "type": "dataframe",
        "pandas_orient": "split",
    }
    split = {"columns": ["a", "b"], "data": [[1.5, "x"], [None, "y"]]}
    assert _read(tmp_path / "input_example.json") == split
    assert _read(tmp_path / "serving_input_example.json") == {"dataframe_split": split}
    loaded = load_input_example(tmp_path, saved.info)
    assert list(loaded.columns) == ["a", "b"]
    assert loaded["b"].tolist() == ["x", "y"]


def test_default_integer_columns_are_not_written(tmp_path: Path) -> None:
    saved = save_input_example(tmp_path, pd.DataFrame([[1, 2], [3, 4]]))
    assert saved.info["pandas_orient"] == "values"  # as MLflow names a frame without columns
    assert _read(tmp_path / "input_example.json") == {"data": [[1, 2], [3, 4]]}
    pd.testing.assert_frame_equal(
        load_input_example(tmp_path, saved.info), pd.DataFrame([[1, 2], [3, 4]])
    )


def test_ndarray_example(tmp_path: Path) -> None:
    array = np.array([[0.1, -0.2], [0.3, 0.4]])
    saved = save_input_example(tmp_path, array)
    # MLflow 2.x and 3 write the bare list (MLflow 3 cannot read {"inputs": ...} here)
    assert saved.info == {
        "artifact_path": "input_example.json",
        "serving_input_path": "serving_input_example.json",
        "type": "ndarray",
    }
    assert _read(tmp_path / "input_example.json") == [[0.1, -0.2], [0.3, 0.4]]
    assert _read(tmp_path / "serving_input_example.json") == {"inputs": [[0.1, -0.2], [0.3, 0.4]]}
    np.testing.assert_array_equal(load_input_example(tmp_path, saved.info), array)


@pytest.mark.parametrize(
    ("stored", "info", "expected"),
    [
        ({"inputs": [[1.0, 2.0]]}, {"format": "tf-serving"}, np.array([[1.0, 2.0]])),
        ({"inputs": {"x": [1, 2]}}, {"format": "tf-serving"}, {"x": np.array([1, 2])}),
        ({"inputs": [[1.0, 2.0]], "params": {"k": 1}}, {"params": "true"}, np.array([[1.0, 2.0]])),
        ({"inputs": [1, 2]}, {}, {"inputs": np.array([1, 2])}),  # MLflow 3: a tensor "inputs"
    ],
    ids=["old-mlserve-array", "old-mlserve-dict", "mlflow-with-params", "tensor-named-inputs"],
)
def test_ndarray_example_layouts_are_read(tmp_path: Path, stored, info, expected) -> None:
    (tmp_path / "input_example.json").write_text(json.dumps(stored))
    info = {"artifact_path": "input_example.json", "type": "ndarray", **info}
    loaded = load_input_example(tmp_path, info)
    if isinstance(expected, dict):
        assert set(loaded) == set(expected)
        for name, array in expected.items():
            np.testing.assert_array_equal(loaded[name], array)
    else:
        np.testing.assert_array_equal(loaded, expected)


def test_dict_of_arrays_is_a_tensor_dict(tmp_path: Path) -> None:
    saved = save_input_example(tmp_path, {"x": np.array([1, 2]), "y": np.array([[1.0], [2.0]])})
    assert _read(tmp_path / "serving_input_example.json") == {
        "inputs": {"x": [1, 2], "y": [[1.0], [2.0]]}
    }
    loaded = load_input_example(tmp_path, saved.info)
    assert set(loaded) == {"x", "y"}
    assert loaded["y"].shape == (2, 1)


@pytest.mark.parametrize(
    ("example", "frame"),
    [
        ({"a": [1, 2], "b": ["x", "y"]}, pd.DataFrame({"a": [1, 2], "b": ["x", "y"]})),
        ({"a": 1, "b": "x"}, pd.DataFrame({"a": [1], "b": ["x"]})),
        ([{"a": 1}, {"a": 2}], pd.DataFrame({"a": [1, 2]})),
        ([[1, 2], [3, 4]], pd.DataFrame([[1, 2], [3, 4]])),
    ],
    ids=["dict-of-columns", "dict-of-scalars", "list-of-records", "list-of-rows"],
)
def test_tabular_forms_become_dataframes(tmp_path: Path, example, frame) -> None:
    saved = save_input_example(tmp_path, example)
    assert saved.info["type"] == "dataframe"
    pd.testing.assert_frame_equal(saved.data, frame)


def test_params_go_into_the_serving_example(tmp_path: Path) -> None:
    saved = save_input_example(tmp_path, (pd.DataFrame({"a": [1.0]}), {"k": 2}))
    assert saved.params == {"k": 2}
    body = _read(tmp_path / "serving_input_example.json")
    assert body == {"dataframe_split": {"columns": ["a"], "data": [[1.0]]}, "params": {"k": 2}}
    # input_example.json keeps them too, in MLflow's wrapped layout, and still reads as data
    assert saved.info["params"] == "true"
    assert _read(tmp_path / "input_example.json") == {
        "inputs": {"columns": ["a"], "data": [[1.0]]},
        "params": {"k": 2},
    }
    pd.testing.assert_frame_equal(
        load_input_example(tmp_path, saved.info), pd.DataFrame({"a": [1.0]})
    )


def test_unsupported_type_is_rejected(tmp_path: Path) -> None:
    with pytest.raises(InvalidParameterValue, match="object is not supported"):
        save_input_example(tmp_path, object())


def test_no_example_and_broken_file(tmp_path: Path) -> None:
    assert load_input_example(tmp_path, None) is None
    (tmp_path / "input_example.json").write_text("{not json")
    with pytest.raises(MalformedModel, match="cannot read input example"):
        load_input_example(tmp_path, {"artifact_path": "input_example.json", "type": "dataframe"})


def test_to_jsonable_handles_numpy_and_missing_values() -> None:
    stamp = pd.Timestamp("2024-01-02T03:04:05")
    assert to_jsonable({"a": np.int64(3), "b": np.nan, "c": stamp, "d": b"\x00"}) == {
        "a": 3,
        "b": None,
        "c": "2024-01-02T03:04:05",
        "d": "AA==",
    }
    assert to_jsonable(np.array([1.0, np.inf])) == [1.0, None]
