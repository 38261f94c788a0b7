"""Several models in one server: -m NAME=URI repeated, /invocations for the first,
/models/{name}/invocations and the V2 routes for each."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import requests
from werkzeug.test import Client

import mlserve
from mlserve.server import create_app
from mlserve.server._config import build_server_parser, config_from_args

from ._tritonclient import tritonclient_sees
from .helpers import SEED_ROWS, start_server

SPLIT = {"dataframe_split": {"columns": list("abcd"), "data": SEED_ROWS}}


def _expected(path: Path) -> list:
    import pandas as pd

    frame = pd.DataFrame(SEED_ROWS, columns=list("abcd"))
    return np.asarray(mlserve.load_model(path).predict(frame)).tolist()


def test_each_model_at_its_routes(typed_model_dir: Path, lr_dir: Path) -> None:
    app = create_app({"rf": mlserve.load_model(typed_model_dir), "lr": mlserve.load_model(lr_dir)})
    client = Client(app)
    rf, lr = _expected(typed_model_dir), _expected(lr_dir)
    assert client.post("/invocations", json=SPLIT).get_json() == {"predictions": rf}
    assert client.post("/models/rf/invocations", json=SPLIT).get_json() == {"predictions": rf}
    assert client.post("/models/lr/invocations", json=SPLIT).get_json() == {"predictions": lr}
    missing = client.post("/models/nope/invocations", json=SPLIT)
    assert missing.status_code == 404
    assert missing.get_json()["error_code"] == "RESOURCE_DOES_NOT_EXIST"
    assert "rf, lr" in missing.get_json()["message"]
    v2 = {
        "inputs": [
            {"name": c, "shape": [2], "datatype": "FP64", "data": [r[i] for r in SEED_ROWS]}
            for i, c in enumerate("abcd")
        ]
    }
    for name, expected in (("rf", rf), ("lr", lr)):
        doc = client.post(f"/v2/models/{name}/infer", json=v2).get_json()
        assert doc["model_name"] == name
        assert doc["outputs"][0]["data"] == expected
        assert client.get(f"/v2/models/{name}").get_json()["name"] == name
    unknown = client.get("/v2/models/nope/ready")
    assert unknown.status_code == 404 and "rf, lr" in unknown.get_json()["error"]
    app.close()


@pytest.mark.parametrize(
    ("argv", "models"),
    [
        (["-m", "dir"], ((None, "dir"),)),
        (["-m", "rf=models:/RF/1"], (("rf", "models:/RF/1"),)),
        (["-m", "rf=models:/RF/1", "-m", "lr=/x/lr"], (("rf", "models:/RF/1"), ("lr", "/x/lr"))),
    ],
)
def test_model_options(argv: list[str], models: tuple) -> None:
    parser = build_server_parser("test")
    config = config_from_args(parser, parser.parse_args(argv), environ={})
    assert config.models == models
    assert config.model_uri == models[0][1]


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["-m", "a=x", "-m", "a=y"], "same name"),
        (["-m", "x", "-m", "y"], "name each one"),
    ],
)
def test_model_options_refused(
    argv: list[str], message: str, capsys: pytest.CaptureFixture[str]
) -> None:
    parser = build_server_parser("test")
    with pytest.raises(SystemExit):
        config_from_args(parser, parser.parse_args(argv), environ={})
    assert message in capsys.readouterr().err


@pytest.mark.slow
def test_a_real_server_with_two_models(typed_model_dir: Path, lr_dir: Path, tmp_path: Path) -> None:
    rf, lr = _expected(typed_model_dir), _expected(lr_dir)
    args = ("-m", f"rf={typed_model_dir}", "-m", f"lr={lr_dir}", "--workers", "2")
    with start_server(tmp_path, *args) as server:
        assert "rf=" in server.log() and "lr=" in server.log()
        for _ in range(4):  # both workers, keep-alive or not
            got = requests.post(f"{server.url}/models/lr/invocations", json=SPLIT, timeout=10)
            assert got.json() == {"predictions": lr}
            got = requests.post(f"{server.url}/invocations", json=SPLIT, timeout=10)
            assert got.json() == {"predictions": rf}
        assert requests.get(f"{server.url}/v2/models/lr/ready", timeout=10).status_code == 200


@pytest.mark.slow
def test_the_registry_model_and_a_directory_over_v2_with_tritonclient(
    registry: Path, lr_dir: Path, tmp_path: Path, seed_model
) -> None:  # type: ignore[no-untyped-def]
    """Issue 19's 'done when': -m rf=models:/MyRandomForest/latest -m lr=<dir> serves both,
    tritonclient infers against both, and the seed request on /invocations gives the
    predictions its V2 form gives."""
    args = ("-m", "rf=models:/MyRandomForest/latest", "-m", f"lr={lr_dir}")
    with start_server(tmp_path, *args, "--tracking-uri", str(registry)) as server:
        seed = {"dataframe_split": {"columns": [0, 1, 2, 3], "data": SEED_ROWS}}
        invocations = requests.post(f"{server.url}/invocations", json=seed, timeout=10).json()
        seen = {name: tritonclient_sees(server.url, name, SEED_ROWS) for name in ("rf", "lr")}
    expected = seed_model.predict(np.array(SEED_ROWS)).tolist()
    assert invocations == {"predictions": expected}
    assert seen["rf"]["binary"] == seen["rf"]["json"] == expected
    assert seen["rf"]["metadata"]["name"] == "rf" and seen["rf"]["model_ready"] is True
    assert seen["lr"]["binary"] == seen["lr"]["json"] == _expected(lr_dir)
    # each name reached its own model: the directory's signature names a..d, the registered
    # seed model (logged without one) has none
    assert [i["name"] for i in seen["lr"]["metadata"]["inputs"]] == list("abcd")
    assert seen["lr"]["metadata"]["name"] == "lr"
    assert seen["rf"]["metadata"]["inputs"] != seen["lr"]["metadata"]["inputs"]
