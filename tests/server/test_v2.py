"""The V2 routes: in process for every status and body, and a real server driven by tritonclient.

tritonclient runs in a subprocess: its HTTP client imports gevent, which has no business in the
test process (and its warnings are errors here).
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import requests
from werkzeug.test import Client

import mlserve
from mlserve.server import create_app

from ._tritonclient import tritonclient_sees
from .helpers import SEED_ROWS, start_server

COLUMNS = list("abcd")


def _v2_seed(name: str = "typed") -> dict:
    return {
        "inputs": [
            {"name": c, "shape": [2], "datatype": "FP64", "data": [r[i] for r in SEED_ROWS]}
            for i, c in enumerate(COLUMNS)
        ]
    }


@pytest.fixture(scope="module")
def client(typed_model_dir: Path) -> Client:
    return Client(create_app(mlserve.load_model(typed_model_dir)))


def test_server_and_health(client: Client) -> None:
    doc = client.get("/v2").get_json()
    assert doc == {
        "name": "mlserve",
        "version": mlserve.__version__,
        "extensions": ["binary_tensor_data"],
    }
    for path in ("/v2/health/live", "/v2/health/ready", "/v2/models/typed/ready"):
        answer = client.get(path)
        assert (answer.status_code, answer.get_data()) == (200, b""), path


def test_metadata_comes_from_the_signature(client: Client) -> None:
    doc = client.get("/v2/models/typed").get_json()
    assert doc["name"] == "typed" and "versions" not in doc
    assert doc["platform"] == "mlflow_sklearn"
    assert [(i["name"], i["datatype"], i["shape"]) for i in doc["inputs"]] == [
        (c, "FP64", [-1]) for c in COLUMNS
    ]


def test_infer_answers_what_invocations_answers(client: Client, seed_model) -> None:  # type: ignore[no-untyped-def]
    body = {"id": "req-7", **_v2_seed()}
    answer = client.post("/v2/models/typed/infer", json=body)
    assert answer.status_code == 200, answer.get_data()
    doc = answer.get_json()
    expected = seed_model.predict(np.array(SEED_ROWS)).tolist()
    assert doc == {
        "model_name": "typed",
        "id": "req-7",
        "outputs": [{"name": "output-0", "shape": [2], "datatype": "INT64", "data": expected}],
    }
    split = {"dataframe_split": {"columns": COLUMNS, "data": SEED_ROWS}}
    assert client.post("/invocations", json=split).get_json() == {"predictions": expected}


@pytest.mark.parametrize(
    ("method", "path", "body", "status", "fragment"),
    [
        ("get", "/v2/models/other", None, 404, "Unknown model 'other'"),
        ("get", "/v2/models/Typed/ready", None, 404, "Unknown model"),  # case-sensitive
        ("get", "/v2/models/typed/versions/1", None, 404, "Unknown version '1'"),
        ("post", "/v2/models/other/infer", _v2_seed(), 404, "Unknown model"),
        ("post", "/v2/models/typed/infer", {"inputs": []}, 400, "non-empty"),
        (
            "post",
            "/v2/models/typed/infer",
            {"inputs": [{"name": "a", "shape": [1], "datatype": "FP64", "data": ["PII-123"]}]},
            400,
            "not a number",
        ),
        (
            "post",
            "/v2/models/typed/infer",
            {"inputs": [{"name": "e", "shape": [1], "datatype": "FP64", "data": [1.0]}]},
            400,
            "found input 'e'",
        ),
    ],
    ids=["model", "case", "version", "infer-model", "no-inputs", "type", "input-name"],
)
def test_errors_are_the_spec_body(
    client: Client, method: str, path: str, body: dict | None, status: int, fragment: str
) -> None:
    answer = getattr(client, method)(path, json=body)
    assert answer.status_code == status
    doc = json.loads(answer.get_data())
    assert list(doc) == ["error"] and fragment in doc["error"]
    assert "PII-123" not in doc["error"] and "Traceback" not in doc["error"]


def test_a_model_failing_in_predict_is_a_400_without_a_traceback(tmp_path: Path) -> None:
    def broken(model_input):  # type: ignore[no-untyped-def]
        raise ValueError("cannot")

    mlserve.save_model(broken, tmp_path / "broken", flavor="python_function")
    client = Client(create_app(mlserve.load_model(tmp_path / "broken")))
    answer = client.post("/v2/models/broken/infer", json=_v2_seed())
    assert answer.status_code == 400
    assert "ValueError" in answer.get_json()["error"]


@pytest.mark.slow
def test_tritonclient_against_a_real_server(
    typed_model_dir: Path, tmp_path: Path, seed_model
) -> None:  # type: ignore[no-untyped-def]
    with start_server(tmp_path, "-m", str(typed_model_dir), "--workers", "2") as server:
        seen = tritonclient_sees(server.url, "typed", SEED_ROWS)
        invocations = requests.post(
            f"{server.url}/invocations",
            json={"dataframe_split": {"columns": COLUMNS, "data": SEED_ROWS}},
            timeout=10,
        ).json()
    assert (seen["live"], seen["ready"], seen["model_ready"]) == (True, True, True)
    assert seen["missing_model_ready"] is False
    assert seen["metadata"]["name"] == "typed" and len(seen["metadata"]["inputs"]) == 4
    assert seen["server"]["name"] == "mlserve"
    expected = seed_model.predict(np.array(SEED_ROWS)).tolist()
    assert seen["binary"] == seen["json"] == invocations["predictions"] == expected


def test_infer_goes_through_the_servers_predict_as_invocations_does(typed_model_dir: Path) -> None:
    # the same predict callable: the lock of a model that is not thread-safe, and the batcher
    app = create_app(mlserve.load_model(typed_model_dir), max_batch_size=8, timeout=5)
    try:
        assert app.batcher is not None
        client = Client(app)
        assert client.post("/v2/models/typed/infer", json=_v2_seed()).status_code == 200
        assert app.batcher.stats.requests == 1
    finally:
        app.close()
