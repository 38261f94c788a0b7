"""The V2 repository extension: index, load and unload while serving, in every worker."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import requests
from werkzeug.test import Client

import mlserve
from mlserve.server import create_app

from .helpers import SEED_ROWS, start_server

V2 = {
    "inputs": [
        {"name": c, "shape": [2], "datatype": "FP64", "data": [r[i] for r in SEED_ROWS]}
        for i, c in enumerate("abcd")
    ]
}


def _app(typed_model_dir: Path, state: Path):  # type: ignore[no-untyped-def]
    return create_app(
        {"rf": mlserve.load_model(typed_model_dir)}, repository=state, loader=mlserve.load_model
    )


def test_load_infer_unload(typed_model_dir: Path, lr_dir: Path, tmp_path: Path) -> None:
    client = Client(_app(typed_model_dir, tmp_path / "models.json"))
    assert "model_repository" in client.get("/v2").get_json()["extensions"]
    assert client.post("/v2/repository/index").get_json() == [{"name": "rf", "state": "READY"}]
    assert client.get("/v2/models/lr/ready").status_code == 404
    load = client.post("/v2/repository/models/lr/load", json={"parameters": {"uri": str(lr_dir)}})
    assert (load.status_code, load.get_data()) == (200, b"")
    answer = client.post("/v2/models/lr/infer", json=V2)
    assert answer.status_code == 200 and answer.get_json()["model_name"] == "lr"
    split = {"dataframe_split": {"columns": list("abcd"), "data": SEED_ROWS}}
    assert client.post("/models/lr/invocations", json=split).status_code == 200
    names = [m["name"] for m in client.post("/v2/repository/index").get_json()]
    assert names == ["lr", "rf"]
    assert client.post("/v2/repository/models/lr/unload").status_code == 200
    assert client.get("/v2/models/lr").status_code == 404
    missing = client.post("/v2/repository/models/lr/unload")
    assert missing.status_code == 404 and "error" in missing.get_json()


def test_a_failing_load_leaves_the_previous_model_serving(
    typed_model_dir: Path, tmp_path: Path
) -> None:
    client = Client(_app(typed_model_dir, tmp_path / "models.json"))
    bad = {"parameters": {"uri": str(tmp_path / "nowhere")}}
    answer = client.post("/v2/repository/models/rf/load", json=bad)
    assert answer.status_code == 404 and "nowhere" in answer.get_json()["error"]
    assert client.post("/v2/models/rf/infer", json=V2).status_code == 200
    state = json.loads((tmp_path / "models.json").read_text())
    assert state["models"]["rf"] == str(typed_model_dir)  # unchanged


@pytest.mark.parametrize(
    ("path", "body", "status", "fragment"),
    [
        ("/v2/repository/models/x/load", b"{", 400, "not JSON"),
        ("/v2/repository/models/x/load", b"", 400, "No URI"),
        ("/v2/repository/models/bad%20name/load", b"", 400, "1-128 characters"),
    ],
)
def test_bad_load_requests(
    typed_model_dir: Path, tmp_path: Path, path: str, body: bytes, status: int, fragment: str
) -> None:
    client = Client(_app(typed_model_dir, tmp_path / "models.json"))
    answer = client.post(path, data=body, content_type="application/json")
    assert answer.status_code == status and fragment in answer.get_json()["error"]


def test_off_by_default(typed_model_dir: Path) -> None:
    client = Client(create_app(mlserve.load_model(typed_model_dir)))
    assert client.get("/v2").get_json()["extensions"] == ["binary_tensor_data"]
    answer = client.post("/v2/repository/models/x/load", json={"parameters": {"uri": "/x"}})
    assert answer.status_code == 400 and "--enable-repository" in answer.get_json()["error"]


def test_every_process_follows_the_state_file(
    typed_model_dir: Path, lr_dir: Path, tmp_path: Path
) -> None:
    # two apps sharing one state file are two workers of one server
    state = tmp_path / "models.json"
    one, two = Client(_app(typed_model_dir, state)), Client(_app(typed_model_dir, state))
    one.post("/v2/repository/models/lr/load", json={"parameters": {"uri": str(lr_dir)}})
    assert two.post("/v2/models/lr/infer", json=V2).status_code == 200
    two.post("/v2/repository/models/lr/unload")
    assert one.get("/v2/models/lr/ready").status_code == 404
    assert one.post("/v2/models/rf/infer", json=V2).status_code == 200


@pytest.mark.slow
def test_a_real_server_loads_on_every_worker(
    typed_model_dir: Path, lr_dir: Path, tmp_path: Path
) -> None:
    args = ("-m", f"rf={typed_model_dir}", "--workers", "2", "--enable-repository")
    with start_server(tmp_path, *args) as server:
        load = requests.post(
            f"{server.url}/v2/repository/models/lr/load",
            json={"parameters": {"uri": str(lr_dir)}},
            timeout=30,
        )
        assert load.status_code == 200, load.text
        # new connections land on either worker: all of them serve the new model
        for _ in range(12):
            with requests.Session() as session:
                got = session.post(f"{server.url}/v2/models/lr/infer", json=V2, timeout=30)
                assert got.status_code == 200, got.text
        requests.post(f"{server.url}/v2/repository/models/lr/unload", timeout=30)
        for _ in range(6):
            with requests.Session() as session:
                assert (
                    session.get(f"{server.url}/v2/models/lr/ready", timeout=30).status_code == 404
                )
