"""The onnx flavor: conformance kit, skl2onnx-converted seed model, named inputs, multi-output."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import onnx
import onnxruntime as ort
import pandas as pd
import pytest
import yaml
from mlserve_onnx import flavor
from onnx import TensorProto, helper

import mlserve
from mlserve import BadRequest, InvalidParameterValue, MalformedModel
from mlserve.testing import check_flavor


@pytest.fixture(scope="session")
def seed_model(seed_data: tuple[Any, Any]) -> Any:
    """The seed scenario's fitted RandomForestClassifier(random_state=42)."""
    from sklearn.ensemble import RandomForestClassifier

    X, y = seed_data
    return RandomForestClassifier(random_state=42).fit(X, y)


def _convert(model: Any, X: Any, *, zipmap: bool = False) -> Any:
    from skl2onnx import to_onnx

    return to_onnx(model, X[:1].astype(np.float32), options={id(model): {"zipmap": zipmap}})


@pytest.fixture(scope="session")
def seed_onnx(seed_model: Any, seed_data: tuple[Any, Any]) -> Any:
    """The seed model converted by skl2onnx: input X, outputs label and probabilities."""
    return _convert(seed_model, seed_data[0])


def _two_input_graph(shape: tuple[Any, ...] = ("N",)) -> Any:
    """inputs a, b (float, [N] unless told); outputs sum = a + b and product = a * b."""
    a = helper.make_tensor_value_info("a", TensorProto.FLOAT, list(shape))
    b = helper.make_tensor_value_info("b", TensorProto.FLOAT, list(shape))
    total = helper.make_tensor_value_info("sum", TensorProto.FLOAT, list(shape))
    product = helper.make_tensor_value_info("product", TensorProto.FLOAT, list(shape))
    graph = helper.make_graph(
        [
            helper.make_node("Add", ["a", "b"], ["sum"]),
            helper.make_node("Mul", ["a", "b"], ["product"]),
        ],
        "two_inputs",
        [a, b],
        [total, product],
    )
    return helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])


def _scaler_graph() -> Any:
    """One input x [N, 3] (double), one output y = 2 * x: a batchable graph."""
    x = helper.make_tensor_value_info("x", TensorProto.DOUBLE, [None, 3])
    y = helper.make_tensor_value_info("y", TensorProto.DOUBLE, [None, 3])
    two = helper.make_tensor("two", TensorProto.DOUBLE, [], [2.0])
    graph = helper.make_graph(
        [helper.make_node("Mul", ["x", "two"], ["y"])], "scale", [x], [y], [two]
    )
    return helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])


def test_conformance_seed_model(seed_onnx: Any, seed_data: tuple[Any, Any], tmp_path: Path) -> None:
    X, _ = seed_data
    loaded = check_flavor(flavor, seed_onnx, X[:10], tmp_path)
    # label [N] and probabilities [N, 2]: the dict is split by rows (check_batchable ran)
    assert loaded.capabilities.batchable


def test_conformance_batchable_graph(tmp_path: Path) -> None:
    example = np.arange(30, dtype=np.float64).reshape(10, 3)
    loaded = check_flavor(flavor, _scaler_graph(), example, tmp_path)
    assert loaded.capabilities.batchable
    # MLflow's ONNX pyfunc answers an array with {output name: value}, for one output too
    np.testing.assert_array_equal(loaded.predict(example)["y"], example * 2)


def test_conformance_named_inputs(tmp_path: Path) -> None:
    example = pd.DataFrame({"a": np.arange(4, dtype=np.float32), "b": np.ones(4, np.float32)})
    loaded = check_flavor(flavor, _two_input_graph(), example, tmp_path)
    assert loaded.capabilities.batchable


def _graph_with_a_summary() -> Any:
    """x [N, 3] -> y = x (one row per row) and mean [1, 3] (one row per batch)."""
    x = helper.make_tensor_value_info("x", TensorProto.DOUBLE, ["N", 3])
    y = helper.make_tensor_value_info("y", TensorProto.DOUBLE, ["N", 3])
    mean = helper.make_tensor_value_info("mean", TensorProto.DOUBLE, [1, 3])
    axes = helper.make_tensor("axes", TensorProto.INT64, [1], [0])
    graph = helper.make_graph(
        [
            helper.make_node("Identity", ["x"], ["y"]),
            helper.make_node("ReduceMean", ["x", "axes"], ["mean"], keepdims=1),
        ],
        "summary",
        [x],
        [y, mean],
        [axes],
    )
    return helper.make_model(graph, opset_imports=[helper.make_opsetid("", 18)])


def test_an_output_with_a_fixed_first_dimension_is_not_batchable(tmp_path: Path) -> None:
    example = np.arange(12, dtype=np.float64).reshape(4, 3)
    loaded = check_flavor(flavor, _graph_with_a_summary(), example, tmp_path, fresh_process=False)
    assert not loaded.capabilities.batchable
    np.testing.assert_array_equal(loaded.predict(example)["mean"], [[4.5, 5.5, 6.5]])


def test_seed_model_predicts_the_same_labels(
    seed_onnx: Any, seed_model: Any, seed_data: tuple[Any, Any], tmp_path: Path
) -> None:
    X, _ = seed_data
    mlserve.save_model(seed_onnx, tmp_path / "m", input_example=X[:5])  # picked automatically
    loaded = mlserve.load_model(tmp_path / "m")
    assert loaded.flavor == "onnx"
    out = loaded.predict(X)  # float64 in; cast to the graph's float32
    assert set(out) == {"label", "probabilities"}
    np.testing.assert_array_equal(out["label"], seed_model.predict(X))
    np.testing.assert_allclose(out["probabilities"], seed_model.predict_proba(X), atol=1e-6)
    # the DataFrame of the seed request (integer column names) goes to the single input whole
    frame = pd.DataFrame(X[:5], columns=[0, 1, 2, 3])
    np.testing.assert_array_equal(loaded.predict(frame)["label"], seed_model.predict(X[:5]))


def test_zipmap_output_is_a_list_of_class_probabilities(
    seed_model: Any, seed_data: tuple[Any, Any], tmp_path: Path
) -> None:
    X, _ = seed_data
    mlserve.save_model(_convert(seed_model, X, zipmap=True), tmp_path / "m")
    out = mlserve.load_model(tmp_path / "m").predict(X[:3])
    np.testing.assert_array_equal(out["output_label"], seed_model.predict(X[:3]))
    assert [sorted(row) for row in out["output_probability"]] == [[0, 1]] * 3


def test_named_inputs_are_mapped_and_outputs_returned_by_name(tmp_path: Path) -> None:
    mlserve.save_model(_two_input_graph(), tmp_path / "m")
    loaded = mlserve.load_model(tmp_path / "m")
    frame = pd.DataFrame({"b": [10.0, 20.0], "a": [1.0, 2.0], "extra": [0.0, 0.0]})
    out = loaded.predict(frame)
    # a frame in, a frame out (MLflow's ONNX pyfunc): a column per output, each flattened
    assert isinstance(out, pd.DataFrame) and list(out.columns) == ["sum", "product"]
    np.testing.assert_array_equal(out["sum"], [11.0, 22.0])
    np.testing.assert_array_equal(out["product"], [10.0, 40.0])
    mlserve.save_model(_two_input_graph(("N", 1)), tmp_path / "m2")
    columns = {"a": np.array([[1.0], [2.0]]), "b": np.array([[3.0], [4.0]])}
    np.testing.assert_array_equal(mlserve.load_model(tmp_path / "m2").predict(columns)["sum"],
                                  [[4.0], [6.0]])  # fmt: skip


def test_a_one_input_graph_takes_the_whole_frame(seed_onnx: Any, seed_model: Any) -> None:
    # MLflow feeds frame.values to a one-input graph, whatever the columns are named, even when
    # one of them is named after the input
    frame = pd.DataFrame(np.arange(8.0).reshape(2, 4), columns=["X", "b", "c", "d"])
    predictor = flavor.predictor(seed_onnx, {})
    feeds = predictor.feeds(frame)
    assert list(feeds) == ["X"] and feeds["X"].dtype == np.float32  # float64 -> float32 only
    np.testing.assert_array_equal(feeds["X"], frame.to_numpy())
    out = predictor.predict(feeds)
    np.testing.assert_array_equal(out["label"], seed_model.predict(frame.to_numpy()))


def test_a_one_input_graph_of_rank_1_takes_no_frame() -> None:
    # the frame is [rows, columns] even with one column (MLflow: ONNX Runtime's 400 too)
    x = helper.make_tensor_value_info("x", TensorProto.FLOAT, ["N"])
    y = helper.make_tensor_value_info("y", TensorProto.FLOAT, ["N"])
    graph = helper.make_graph([helper.make_node("Neg", ["x"], ["y"])], "neg", [x], [y])
    predictor = flavor.predictor(
        helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)]), {}
    )
    with pytest.raises(BadRequest, match=r"rank 1 .*shape \[2, 1\]\): a DataFrame goes whole"):
        predictor.predict(pd.DataFrame({"x": [1.5, 2.0]}))
    np.testing.assert_array_equal(predictor.predict(np.array([1.5, 2.0]))["y"], [-1.5, -2.0])


RANK_2 = ("N", 1)


@pytest.mark.parametrize(
    ("shape", "data", "match"),
    [
        (("N",), pd.DataFrame({"a": [1.0]}), "missing column.*: b"),
        (("N",), np.ones((2, 2), np.float32), "2 inputs"),
        (("N",), {"a": np.array(["x"]), "b": np.ones(1)}, "'a' is tensor.float.; got strings"),
        (("N",), {"a": np.ones(1, np.int64), "b": np.ones(1)}, "got int64: only float64"),
        (("N",), {"a": np.ones(1), "b": np.ones(1), "c": np.ones(1)}, "no input.* named c"),
        (("N",), {"a": np.ones(1)}, "missing ONNX input.*: b"),
        (("N",), {"a": np.ones((1, 1)), "b": np.ones((1, 1))}, "'a' has rank 1 .\\[N\\]."),
        # a column is 1-D: a [N, 1] input is not fed from a frame (MLflow: 400 as well)
        (RANK_2, pd.DataFrame({"a": [1.0], "b": [2.0]}), "'a' has rank 2.*column is 1-D"),
        ((2,), {"a": np.ones(3), "b": np.ones(3)}, "'a' has shape \\[2\\]; got .* \\[3\\]"),
    ],
    ids=["missing-column", "bare-array", "text-for-float", "int-for-float", "unknown-key",
         "missing-key", "rank-2-for-rank-1", "column-for-rank-2", "fixed-dimension"],
)  # fmt: skip
def test_requests_that_do_not_fit_the_graph_are_refused(
    shape: tuple[Any, ...], data: Any, match: str
) -> None:
    predictor = flavor.predictor(_two_input_graph(shape), {})
    with pytest.raises(BadRequest, match=match):
        predictor.predict(data)


def test_saves_the_protobuf_with_mlflow_section(seed_onnx: Any, tmp_path: Path) -> None:
    mlserve.save_model(
        seed_onnx,
        tmp_path / "m",
        providers=["CPUExecutionProvider"],
        onnx_session_options={"intra_op_num_threads": 1, "execution_mode": "sequential"},
    )
    mlmodel = yaml.safe_load((tmp_path / "m" / "MLmodel").read_text())
    section = mlmodel["flavors"]["onnx"]
    assert section["data"] == "model.onnx"
    assert section["onnx_version"] == onnx.__version__
    assert section["providers"] == ["CPUExecutionProvider"]
    assert section["onnx_session_options"]["intra_op_num_threads"] == 1
    assert mlmodel["flavors"]["python_function"]["loader_module"] == "mlflow.onnx"
    assert onnx.load(str(tmp_path / "m" / "model.onnx")) == seed_onnx
    session = mlserve.load_model(tmp_path / "m").unwrap()
    assert isinstance(session, ort.InferenceSession)
    assert session.get_session_options().intra_op_num_threads == 1


def test_unavailable_providers_fall_back_to_cpu(seed_onnx: Any, tmp_path: Path) -> None:
    mlserve.save_model(seed_onnx, tmp_path / "m", providers=["NoSuchExecutionProvider"])
    session = mlserve.load_model(tmp_path / "m").unwrap()
    assert session.get_providers() == ["CPUExecutionProvider"]


@pytest.mark.parametrize(
    ("options", "match"),
    [
        ({"threads": 2}, "unknown onnx_session_options"),
        ({"execution_mode": "fast"}, "execution_mode"),
    ],
    ids=["unknown-key", "bad-mode"],
)
def test_bad_session_options_are_refused(
    options: dict[str, Any], match: str, seed_onnx: Any, tmp_path: Path
) -> None:
    with pytest.raises(InvalidParameterValue, match=match):
        flavor.save(seed_onnx, tmp_path, onnx_session_options=options)


def test_invalid_graph_is_refused_at_save(tmp_path: Path) -> None:
    broken = _two_input_graph()
    broken.graph.node[0].input[0] = "nowhere"
    with pytest.raises(InvalidParameterValue, match="ONNX checker"):
        flavor.save(broken, tmp_path)


def test_unreadable_graph_is_a_malformed_model(tmp_path: Path) -> None:
    (tmp_path / "model.onnx").write_bytes(b"not a graph")
    with pytest.raises(MalformedModel, match="ONNX Runtime cannot load"):
        flavor.load(tmp_path, {"data": "model.onnx"})
    with pytest.raises(MalformedModel, match="outside"):
        flavor.load(tmp_path, {"data": "../model.onnx"})


def test_can_save_only_onnx_models(seed_model: Any, seed_onnx: Any) -> None:
    assert flavor.can_save(seed_onnx)
    assert not flavor.can_save(seed_model)
    assert not flavor.can_save(seed_onnx.SerializeToString())
    assert {"mlserve-onnx", "onnxruntime"} <= set(flavor.requirements(seed_onnx))
