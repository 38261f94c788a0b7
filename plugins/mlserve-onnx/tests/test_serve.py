"""The seed model as ONNX, served by a real ``python -m mlserve.server``, answers as
ONNX Runtime does (and with the labels scikit-learn gives)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import onnxruntime as ort
import pytest

import mlserve
from mlserve.testing import serve_model


@pytest.mark.slow
def test_served_predictions_equal_onnxruntime(seed_data: tuple[Any, Any], tmp_path: Path) -> None:
    from skl2onnx import to_onnx
    from sklearn.ensemble import RandomForestClassifier

    X, y = seed_data
    rf = RandomForestClassifier(random_state=42).fit(X, y)
    graph = to_onnx(rf, X[:1].astype(np.float32), options={id(rf): {"zipmap": False}})
    mlserve.save_model(graph, tmp_path / "m", input_example=X[:3])
    rows = X[:20]
    payload = {"dataframe_split": {"columns": [0, 1, 2, 3], "data": rows.tolist()}}
    with serve_model(tmp_path / "m") as served:
        predictions = served.predictions(payload)
    session = ort.InferenceSession(graph.SerializeToString(), providers=["CPUExecutionProvider"])
    label, probabilities = session.run(None, {"X": rows.astype(np.float32)})
    np.testing.assert_array_equal(predictions["label"], label)
    np.testing.assert_array_equal(predictions["label"], rf.predict(rows))
    np.testing.assert_allclose(predictions["probabilities"], probabilities, rtol=1e-6)


@pytest.mark.slow
def test_batched_server_splits_named_outputs_by_request(
    seed_data: tuple[Any, Any], tmp_path: Path
) -> None:
    from concurrent.futures import ThreadPoolExecutor

    from skl2onnx import to_onnx
    from sklearn.ensemble import RandomForestClassifier

    X, y = seed_data
    rf = RandomForestClassifier(random_state=42).fit(X, y)
    graph = to_onnx(rf, X[:1].astype(np.float32), options={id(rf): {"zipmap": False}})
    mlserve.save_model(graph, tmp_path / "m", input_example=X[:3])
    assert mlserve.load_model(tmp_path / "m").capabilities.batchable
    # 24 requests of 1-4 rows each, sent 12 at a time to a server merging up to 64 rows
    chunks = [X[i : i + 1 + i % 4] for i in range(24)]
    args = ["--threads", "12", "--max-batch-size", "64", "--max-batch-delay-ms", "20"]
    with serve_model(tmp_path / "m", extra_args=args) as served, ThreadPoolExecutor(12) as pool:
        answers = list(pool.map(lambda rows: served.predictions({"inputs": rows.tolist()}), chunks))
    session = ort.InferenceSession(graph.SerializeToString(), providers=["CPUExecutionProvider"])
    for rows, answer in zip(chunks, answers, strict=True):
        label, probabilities = session.run(None, {"X": rows.astype(np.float32)})
        np.testing.assert_array_equal(answer["label"], label)
        # ONNX Runtime sums the trees' float32 votes in an order that depends on the batch
        # size, so a merged batch may differ from the request alone in the last bits
        np.testing.assert_allclose(answer["probabilities"], probabilities, rtol=0, atol=1e-6)
