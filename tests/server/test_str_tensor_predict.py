"""``load_model(...).predict`` and the server say the same for the same data, for a model whose
signature is one ``str`` tensor: the same strings reach the model (``2`` as ``"2"``), and the same
refusal (error code and message) for a null, an object or a frame of several columns.

What MLflow answers for these is in tests/codecs/test_str_tensor_bodies.py and, against
``mlflow models serve`` itself, plugins/mlserve-onnx/tests/test_mlflow_inputs.py.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest

import mlserve.pyfunc
from mlserve.errors import MlserveError
from mlserve.schema import ModelSignature, Schema, TensorSpec
from mlserve.testing import ServedModel, serve_model

pytestmark = pytest.mark.slow

SCHEMA = Schema([TensorSpec(np.dtype(str), (-1, 2))])


def _identity(model_input: Any) -> Any:
    return model_input


@pytest.fixture(scope="module")
def model_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("str-tensor") / "model"
    mlserve.pyfunc.save_model(path, python_model=_identity, signature=ModelSignature(SCHEMA))
    return path


@pytest.fixture(scope="module")
def served(model_dir: Path) -> Iterator[ServedModel]:
    with serve_model(model_dir) as server:
        yield server


# the same data in process (predict's argument) and over HTTP (a body that decodes to it)
SAME_DATA = {
    "rows-of-numbers": ([[1.5, 2]], {"inputs": [[1.5, 2]]}),
    "rows-with-null": ([["a", None]], {"inputs": [["a", None]]}),
    "rows-with-an-object": ([[{"a": 1}, "b"]], {"inputs": [[{"a": 1}, "b"]]}),
    "frame-of-strings": (
        pd.DataFrame({"p": ["a"], "q": ["c"]}),
        {"dataframe_split": {"columns": ["p", "q"], "data": [["a", "c"]]}},
    ),
    "frame-of-numbers": (
        pd.DataFrame({"p": [1.5], "q": [2.0]}),
        {"dataframe_split": {"columns": ["p", "q"], "data": [[1.5, 2]]}},
    ),
    "column-of-lists-with-null": (
        pd.DataFrame({"x": [["a", None]]}),
        {"dataframe_split": {"columns": ["x"], "data": [[["a", None]]]}},
    ),
}


@pytest.mark.parametrize(("data", "body"), list(SAME_DATA.values()), ids=list(SAME_DATA))
def test_predict_in_process_says_what_the_server_says(
    model_dir: Path, served: ServedModel, data: Any, body: Any
) -> None:
    model = mlserve.pyfunc.load_model(model_dir)
    status, answer = served.invoke(body)
    try:
        result = model.predict(data)
    except MlserveError as exc:
        assert status == 400, answer
        assert answer["error_code"] == exc.error_code
        assert answer["message"] == str(exc)
    else:
        assert status == 200, answer
        assert answer == {"predictions": np.asarray(result).tolist()}
