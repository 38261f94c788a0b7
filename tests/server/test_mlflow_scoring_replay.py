"""The REST cases of MLflow's own ``tests/pyfunc/test_scoring_server.py`` that
``test_mlflow_wire.py`` does not already send, replayed against both servers.

Our own code with the same intent, on models MLflow itself wrote where MLflow's test uses an
MLflow-written model (a k-nearest-neighbours classifier on two iris features, saved by
``mlflow.sklearn.save_model`` in MLflow's virtualenv, with and without a datetime params
schema), and a custom model both servers unpickle (it subclasses neither library's
``PythonModel``, as in ``test_mlflow_wire.py``). Every request goes to ``mlflow models serve``
and to ``python -m mlserve.server`` on the same directory; a 2xx must give the same JSON, an
error the same status and ``error_code``. MLflow's client (``ScoringServerClient``, run in its
virtualenv) is pointed at our server. The one intent we answer otherwise on purpose, MLflow's
``stack_trace`` in error bodies, is checked to be absent (docs/rest-api.md, differences).
"""

from __future__ import annotations

import base64
import json
import math
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
import requests
from store.mlflow._mlflow_peer import run_peer_script

import mlserve
from mlserve.schema import ColSpec, ModelSignature, Schema

from ._both_servers import save_custom, serve_both

pytestmark = pytest.mark.slow

JSON = "application/json"

# MLflow's test model: KNeighborsClassifier on the first two iris features; "dt" adds a params
# schema with one datetime param (default 2023-07-01), as its test_serving_model_with_param_schema
WRITE_KNN = """
import mlflow.sklearn
import numpy as np
import pandas as pd
from mlflow.models import infer_signature
from mlflow.types import DataType, ParamSchema, ParamSpec
from sklearn import datasets
from sklearn.neighbors import KNeighborsClassifier

iris = datasets.load_iris()
X = iris.data[:, :2]
model = KNeighborsClassifier().fit(X, iris.target)
# MLflow 3 saves with skops, which wants the tree and metric types named
trusted = ["sklearn.metrics._dist_metrics.EuclideanDistance64", "sklearn.neighbors._kd_tree.KDTree"]
mlflow.sklearn.save_model(model, ARGS["plain"], skops_trusted_types=trusted)
signature = infer_signature(X)
param = ParamSpec("param1", DataType.datetime, np.datetime64("2023-07-01"))
signature.params = ParamSchema([param])
mlflow.sklearn.save_model(model, ARGS["dt"], signature=signature, skops_trusted_types=trusted)
emit(X.tolist())
"""

# What MLflow's test_serving_model_with_schema checks: the dtypes the model receives per column
DTYPES_SOURCE = """
import types


class Dtypes:
    predict_type_hints = types.SimpleNamespace(input=None, output=None)

    def load_context(self, context):
        pass

    def predict(self, context, model_input, params=None):
        return [[k, str(v)] for k, v in model_input.dtypes.items()]


class One:
    predict_type_hints = types.SimpleNamespace(input=None, output=None)

    def load_context(self, context):
        pass

    def predict(self, context, model_input, params=None):
        return 1
"""

TYPES = ["boolean", "integer", "long", "float", "double", "binary", "datetime", "string"]


def _all_types_frame() -> dict[str, list[Any]]:
    """MLflow's pandas_df_with_all_types, as JSON columns (binary base64, datetime ISO, as its
    NumpyEncoder writes them), in a shuffled column order."""
    columns = {
        "string": ["a", "b", "c"],
        "datetime": ["2021-01-01T00:00:00", "2021-02-02T00:00:00", "2021-03-03T12:00:00"],
        "boolean": [True, False, True],
        "double": [math.pi, 2 * math.pi, 3 * math.pi],
        "binary": [base64.b64encode(bytes(b)).decode() for b in ([1, 2, 3], [4, 5, 6], [7, 8, 9])],
        "integer": [1, 2, 3],
        "float": [float(np.float32(math.pi * k)) for k in (1, 2, 3)],
        "long": [1, 2, 3],
    }
    return columns


@pytest.fixture(scope="module")
def replay(
    mlflow3_python: Path, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[dict[str, Any]]:
    """``{"urls": {model: (mlflow_url, mlserve_url)}, "X": knn rows, "python": MLflow's}``."""
    python = mlflow3_python
    root = tmp_path_factory.mktemp("replay")
    X = run_peer_script(
        python, WRITE_KNN, cwd=root, args={"plain": str(root / "knn"), "dt": str(root / "knn_dt")}
    )
    types = ModelSignature(Schema([ColSpec(t, t) for t in TYPES]))
    models = {
        "knn": root / "knn",
        "knn_dt": root / "knn_dt",
        "dtypes": save_custom(root / "dtypes", DTYPES_SOURCE, "Dtypes", types),
        "one": save_custom(root / "one", DTYPES_SOURCE, "One", None),
    }
    with serve_both(python, models, root) as urls:
        yield {"urls": urls, "X": X, "python": python, "root": root}


def _both(replay: dict[str, Any], model: str, body: Any, content_type: str = JSON) -> list[Any]:
    data = body if isinstance(body, str) else json.dumps(body)
    return [
        requests.post(
            url + "/invocations", data=data, headers={"Content-Type": content_type}, timeout=60
        )
        for url in replay["urls"][model]
    ]


def _same(theirs: requests.Response, ours: requests.Response) -> None:
    assert ours.status_code == theirs.status_code, (theirs.text[:400], ours.text[:400])
    if theirs.status_code < 300:
        assert ours.json() == theirs.json()
        return
    assert ours.json()["error_code"] == theirs.json()["error_code"], (theirs.text, ours.text)
    assert "stack_trace" not in ours.json()  # our deliberate difference: no traceback


def test_every_column_type_reaches_the_model_as_in_mlflow(replay: dict[str, Any]) -> None:
    """test_serving_model_with_schema: split, records and inputs bodies of every type."""
    columns = _all_types_frame()
    split = {
        "columns": list(columns),
        "data": [list(r) for r in zip(*columns.values(), strict=True)],
    }
    records = [dict(zip(columns, r, strict=True)) for r in zip(*columns.values(), strict=True)]
    for body in ({"dataframe_split": split}, {"dataframe_records": records}, {"inputs": columns}):
        theirs, ours = _both(replay, "dtypes", body)
        _same(theirs, ours)
    assert theirs.status_code == 200  # the comparison was of two answers, not two refusals


@pytest.mark.parametrize(
    ("params", "status"),
    [
        pytest.param(None, 200, id="no-params"),
        pytest.param({"param1": "invalid_value1"}, 400, id="invalid-datetime"),
        pytest.param({"param1": "2024-01-02"}, 200, id="valid-datetime"),
        pytest.param({"invalid_param": "value"}, 200, id="undeclared-param-ignored"),
    ],
)
def test_a_datetime_params_schema(replay: dict[str, Any], params: Any, status: int) -> None:
    """test_serving_model_with_param_schema, on the model MLflow wrote."""
    body: dict[str, Any] = {"dataframe_split": {"columns": ["0", "1"], "data": replay["X"][:3]}}
    if params is not None:
        body["params"] = params
    theirs, ours = _both(replay, "knn_dt", body)
    _same(theirs, ours)
    assert theirs.status_code == status


def test_strings_that_look_like_paths_or_urls(replay: dict[str, Any]) -> None:
    """test_parse_json_input_including_path: such strings stay data."""
    frame = {"url": ["http://foo.com", "https://bar.com"], "bad_protocol": ["aaa://bbb", "a:/p"]}
    split = {"columns": list(frame), "data": [list(r) for r in zip(*frame.values(), strict=True)]}
    theirs, ours = _both(replay, "one", {"dataframe_split": split})
    _same(theirs, ours)
    assert theirs.json() == {"predictions": 1}


@pytest.mark.parametrize(
    ("body", "content_type"),
    [
        # test_scoring_server_responds_to_incompatible_inference_dataframe: 10 rows, 1 feature,
        # for a model fitted on 2 (no signature: the model itself refuses)
        pytest.param(
            {"dataframe_split": {"columns": [0], "data": [[i] for i in range(10)]}},
            JSON,
            id="incompatible-frame",
        ),
        pytest.param("", "text/csv", id="empty-csv"),
        pytest.param("this is,,,, not valid json", JSON, id="malformed-json"),
        pytest.param(
            {"dataframe_split": {"index": [1, 2], "data": [[1], [2], [3]]}},
            JSON,
            id="invalid-split",
        ),
    ],
)
def test_refusals_of_the_mlflow_written_model(
    replay: dict[str, Any], body: Any, content_type: str
) -> None:
    theirs, ours = _both(replay, "knn", body, content_type)
    _same(theirs, ours)
    assert theirs.status_code == 400


def test_records_and_split_orientations_with_and_without_charset(replay: dict[str, Any]) -> None:
    """test_..._with_pandas_records_orientation / _split_orientation, on the MLflow model."""
    frame = pd.DataFrame(replay["X"])
    for body in (
        {"dataframe_records": frame.to_dict(orient="records")},
        {"dataframe_split": frame.to_dict(orient="split")},
        {"instances": replay["X"]},
    ):
        for content_type in (JSON, JSON + "; charset=UTF-8"):
            theirs, ours = _both(replay, "knn", body, content_type)
            _same(theirs, ours)
            assert theirs.status_code == 200


CLIENT = """
import numpy as np
import pandas as pd
from mlflow.pyfunc.scoring_server.client import ScoringServerClient

host, port = ARGS["url"].rsplit("//", 1)[1].split(":")
client = ScoringServerClient(host=host, port=int(port))
client.wait_server_ready(timeout=30)
predictions = client.invoke(pd.DataFrame(ARGS["X"])).get_predictions()
emit({"predictions": np.asarray(predictions).ravel().tolist(), "version": client.get_version()})
"""


def test_mlflows_scoring_server_client_against_mlserve(replay: dict[str, Any]) -> None:
    """test_scoring_server_client: MLflow's own client, pointed at our server."""
    answers = [
        run_peer_script(
            replay["python"], CLIENT, cwd=replay["root"], args={"url": url, "X": replay["X"]}
        )
        for url in replay["urls"]["knn"]
    ]
    theirs, ours = answers
    assert ours["predictions"] == theirs["predictions"] and len(ours["predictions"]) == 150
    assert ours["version"] == mlserve.__version__
    assert theirs["version"].startswith("3.")
