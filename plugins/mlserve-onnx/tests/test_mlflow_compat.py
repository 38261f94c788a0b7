"""Models written by MLflow's ``mlflow.onnx`` load through the ``loader_module`` mapping."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import onnx
from onnx import TensorProto, helper

import mlserve
from mlserve.testing import write_mlflow_mlmodel


def test_mlflow_written_onnx_model_loads(tmp_path: Path) -> None:
    x = helper.make_tensor_value_info("input", TensorProto.FLOAT, [None, 2])
    y = helper.make_tensor_value_info("output", TensorProto.FLOAT, [None, 2])
    graph = helper.make_graph([helper.make_node("Neg", ["input"], ["output"])], "neg", [x], [y])
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    target = tmp_path / "m"
    target.mkdir()
    onnx.save_model(model, str(target / "model.onnx"))
    section = {
        "code": None,
        "data": "model.onnx",
        "onnx_version": onnx.__version__,
        "providers": ["CUDAExecutionProvider", "CPUExecutionProvider"],
    }
    write_mlflow_mlmodel(target, "onnx", section, data="model.onnx")
    loaded = mlserve.load_model(target)
    assert loaded.flavor == "onnx"
    data = np.array([[1.0, -2.0], [3.5, 0.0]])
    np.testing.assert_array_equal(loaded.predict(data)["output"], -data.astype(np.float32))
