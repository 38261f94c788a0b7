"""Models written by MLflow's ``mlflow.onnx`` load through the ``loader_module`` mapping."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import onnx
import yaml
from onnx import TensorProto, helper

import mlserve


def test_mlflow_written_onnx_model_loads(tmp_path: Path) -> None:
    x = helper.make_tensor_value_info("input", TensorProto.FLOAT, [None, 2])
    y = helper.make_tensor_value_info("output", TensorProto.FLOAT, [None, 2])
    graph = helper.make_graph([helper.make_node("Neg", ["input"], ["output"])], "neg", [x], [y])
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    target = tmp_path / "m"
    target.mkdir()
    onnx.save_model(model, str(target / "model.onnx"))
    mlmodel: dict[str, Any] = {
        "artifact_path": "model",
        "flavors": {
            "onnx": {
                "code": None,
                "data": "model.onnx",
                "onnx_version": onnx.__version__,
                "providers": ["CUDAExecutionProvider", "CPUExecutionProvider"],
            },
            "python_function": {
                "data": "model.onnx",
                "env": {"conda": "conda.yaml", "virtualenv": "python_env.yaml"},
                "loader_module": "mlflow.onnx",
                "python_version": "3.11.7",
            },
        },
        "mlflow_version": "2.17.0",
        "model_uuid": "4a3c0a2f4c2b4a0e9a1d2c3b4a5f6e7d",
        "run_id": "0123456789abcdef0123456789abcdef",
        "utc_time_created": "2024-10-01 12:00:00.000000",
    }
    (target / "MLmodel").write_text(yaml.safe_dump(mlmodel))
    loaded = mlserve.load_model(target)
    assert loaded.flavor == "onnx"
    data = np.array([[1.0, -2.0], [3.5, 0.0]])
    np.testing.assert_array_equal(loaded.predict(data)["output"], -data.astype(np.float32))
