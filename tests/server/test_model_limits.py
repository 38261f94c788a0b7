"""Memory measured per model, and --max-models / --max-memory unloading the least recently used
idle model when a repository load needs room."""

from __future__ import annotations

import json
import subprocess
import threading
import time
from pathlib import Path

import pytest
import requests
from werkzeug.test import Client

import mlserve
from mlserve.errors import MlserveError
from mlserve.server import create_app
from mlserve.server._model_limits import (
    ModelLimits,
    ModelsInUse,
    ModelTooLarge,
    Usage,
    measure_load,
    resident_bytes,
)

from .helpers import SEED_ROWS, server_command, server_env, start_server

MiB = 1024 * 1024
SPLIT = {"dataframe_split": {"columns": list("abcd"), "data": SEED_ROWS}}


def _used(at: float, in_flight: int = 0) -> Usage:
    usage = Usage()
    usage.last_used = at
    usage._in_flight = in_flight
    return usage


# -- the choice --------------------------------------------------------------------------------


def test_unloads_the_least_recently_used_first() -> None:
    held = {"rf": (None, _used(0)), "a": (None, _used(2)), "b": (None, _used(1))}
    limits = ModelLimits(max_models=3)
    assert limits.to_unload("c", None, held, ("rf",)) == ["b"]
    assert ModelLimits(max_models=2).to_unload("c", None, held, ("rf",)) == ["b", "a"]


def test_nothing_is_unloaded_at_the_limit_or_without_one() -> None:
    held = {"rf": (None, _used(0)), "a": (None, _used(1))}
    assert ModelLimits(max_models=3).to_unload("c", None, held, ("rf",)) == []
    assert ModelLimits().to_unload("c", 10**12, held, ("rf",)) == []
    # reloading a served name replaces it: it counts once
    assert ModelLimits(max_models=2).to_unload("a", None, held, ("rf",)) == []


def test_models_in_flight_and_kept_ones_are_never_unloaded() -> None:
    held = {"rf": (None, _used(0)), "a": (None, _used(1, in_flight=1)), "b": (None, _used(2))}
    assert ModelLimits(max_models=3).to_unload("c", None, held, ("rf",)) == ["b"]
    with pytest.raises(ModelsInUse) as info:
        ModelLimits(max_models=2).to_unload("c", None, held, ("rf",))
    assert info.value.retry_after == 1.0 and "in flight" in str(info.value)


def test_memory_limit_counts_measured_bytes() -> None:
    held = {"rf": (30 * MiB, _used(0)), "a": (40 * MiB, _used(1)), "b": (20 * MiB, _used(2))}
    limits = ModelLimits(max_memory=100 * MiB)
    assert limits.to_unload("c", 10 * MiB, held, ("rf",)) == []  # exactly 100 MiB fits
    assert limits.to_unload("c", 11 * MiB, held, ("rf",)) == ["a"]
    assert limits.to_unload("c", 60 * MiB, held, ("rf",)) == ["a", "b"]
    with pytest.raises(ModelsInUse):
        limits.to_unload("c", 71 * MiB, held, ("rf",))  # only rf, which is kept, would do
    with pytest.raises(ModelTooLarge) as info:
        limits.to_unload("c", 101 * MiB, held, ("rf",))
    assert "--max-memory" in str(info.value) and "101.0 MiB" in str(info.value)


def test_both_limits_apply() -> None:
    held = {"rf": (0, _used(0)), "a": (80 * MiB, _used(2)), "b": (1 * MiB, _used(1))}
    limits = ModelLimits(max_models=3, max_memory=100 * MiB)
    # the count alone would unload b (least recent); memory also needs a
    assert limits.to_unload("c", 30 * MiB, held, ("rf",)) == ["b", "a"]


def test_start_up_over_a_limit_is_refused() -> None:
    ModelLimits(max_models=2, max_memory=10).check_start({"a": 5, "b": 5})
    with pytest.raises(MlserveError, match="--max-models is 1"):
        ModelLimits(max_models=1).check_start({"a": None, "b": None})
    with pytest.raises(MlserveError, match="--max-memory"):
        ModelLimits(max_memory=10).check_start({"a": 5, "b": 6})


# -- what is measured --------------------------------------------------------------------------


def test_measure_load_sees_what_the_load_allocated() -> None:
    import numpy as np

    before = resident_bytes()
    assert before is not None and before > 10 * MiB
    built, size = measure_load(lambda: np.ones(48 * MiB // 8))  # touched: resident
    assert built.nbytes == 48 * MiB
    assert size is not None and 40 * MiB <= size <= 64 * MiB
    _, none = measure_load(lambda: None)
    assert none is not None and none < 8 * MiB


def test_usage_counts_predictions_in_flight() -> None:
    usage = Usage()
    seen: list[int] = []

    def predict(data: object, params: object) -> object:
        seen.append(usage.in_flight)
        if data == "fail":
            raise ValueError("no")
        return data

    tracked = usage.track(predict)
    start = usage.last_used
    time.sleep(0.01)
    assert tracked("x", None) == "x"
    with pytest.raises(ValueError):
        tracked("fail", None)
    assert seen == [1, 1] and usage.in_flight == 0 and usage.last_used > start


# -- in a server -------------------------------------------------------------------------------


def _app(typed_model_dir: Path, state: Path, **limits: int):  # type: ignore[no-untyped-def]
    return create_app(
        {"rf": mlserve.load_model(typed_model_dir)},
        repository=state,
        loader=mlserve.load_model,
        model_limits=ModelLimits(**limits),
    )


def _load(client: Client, name: str, uri: Path):  # type: ignore[no-untyped-def]
    return client.post(f"/v2/repository/models/{name}/load", json={"parameters": {"uri": str(uri)}})


def _names(client: Client) -> list[str]:
    return [m["name"] for m in client.post("/v2/repository/index").get_json()]


def test_a_load_past_max_models_unloads_the_least_recently_used(
    typed_model_dir: Path, lr_dir: Path, tmp_path: Path
) -> None:
    state = tmp_path / "models.json"
    client = Client(_app(typed_model_dir, state, max_models=3))
    assert _load(client, "a", lr_dir).status_code == 200
    assert _load(client, "b", lr_dir).status_code == 200
    assert client.post("/models/a/invocations", json=SPLIT).status_code == 200  # a is used
    assert _load(client, "c", lr_dir).status_code == 200
    assert _names(client) == ["a", "c", "rf"]
    assert client.get("/v2/models/b/ready").status_code == 404
    assert sorted(json.loads(state.read_text())["models"]) == ["a", "c", "rf"]
    # the default model is never the one unloaded, however long unused
    for name in ("d", "e"):
        assert _load(client, name, lr_dir).status_code == 200
    assert "rf" in _names(client) and len(_names(client)) == 3
    assert client.post("/invocations", json=SPLIT).status_code == 200


def test_other_workers_follow_an_unload_made_for_room(
    typed_model_dir: Path, lr_dir: Path, tmp_path: Path
) -> None:
    state = tmp_path / "models.json"
    one = Client(_app(typed_model_dir, state, max_models=2))
    two = Client(_app(typed_model_dir, state, max_models=2))
    assert _load(one, "a", lr_dir).status_code == 200
    assert two.get("/v2/models/a/ready").status_code == 200
    assert _load(one, "b", lr_dir).status_code == 200
    assert two.get("/v2/models/a/ready").status_code == 404
    assert two.get("/v2/models/b/ready").status_code == 200


def test_a_model_in_flight_is_not_unloaded(
    typed_model_dir: Path, sleepy_model_dir: Path, lr_dir: Path, tmp_path: Path
) -> None:
    state = tmp_path / "models.json"
    app = _app(typed_model_dir, state, max_models=2)
    client = Client(app)
    assert _load(client, "sleepy", sleepy_model_dir).status_code == 200
    answers: list[int] = []
    slow = threading.Thread(
        target=lambda: answers.append(
            Client(app).post("/models/sleepy/invocations", json={"inputs": [[1.5]]}).status_code
        )
    )
    slow.start()
    try:
        deadline = time.monotonic() + 5
        while app.models["sleepy"].usage.in_flight == 0 and time.monotonic() < deadline:
            time.sleep(0.01)
        refused = _load(client, "a", lr_dir)
        assert refused.status_code == 503, refused.get_data()
        assert refused.headers.get("Retry-After") == "1" or "retry" in refused.get_json()["error"]
        assert _names(client) == ["rf", "sleepy"]
        assert sorted(json.loads(state.read_text())["models"]) == ["rf", "sleepy"]
    finally:
        slow.join(10)
    assert answers == [200]  # the request it was serving finished
    assert _load(client, "a", lr_dir).status_code == 200  # now idle: unloaded for a
    assert _names(client) == ["a", "rf"]


def test_max_memory_uses_the_measured_size(
    typed_model_dir: Path, heavy_model_dir: Path, tmp_path: Path
) -> None:
    # the heavy model holds 64 MiB of weights: two fit in 160 MiB, three do not
    client = Client(_app(typed_model_dir, tmp_path / "models.json", max_memory=160 * MiB))
    for name in ("h1", "h2"):
        assert _load(client, name, heavy_model_dir).status_code == 200
    index = {m["name"]: m for m in client.post("/v2/repository/index").get_json()}
    assert all(60 * MiB <= index[n]["memory_bytes"] <= 100 * MiB for n in ("h1", "h2"))
    metadata = client.get("/v2/models/h1").get_json()
    assert metadata["parameters"]["memory_bytes"] == index["h1"]["memory_bytes"]
    assert _load(client, "h3", heavy_model_dir).status_code == 200
    assert _names(client) == ["h2", "h3", "rf"]
    small = Client(_app(typed_model_dir, tmp_path / "small.json", max_memory=16 * MiB))
    refused = _load(small, "h1", heavy_model_dir)
    assert refused.status_code == 400 and "--max-memory" in refused.get_json()["error"]
    assert _names(small) == ["rf"]


@pytest.mark.slow
def test_a_real_server_measures_and_limits(
    typed_model_dir: Path, lr_dir: Path, tmp_path: Path
) -> None:
    args = ("-m", f"rf={typed_model_dir}", "--workers", "2", "--enable-repository")
    with start_server(tmp_path, *args, "--max-models", "2") as server:
        index = requests.post(f"{server.url}/v2/repository/index", timeout=30).json()
        # measured in the parent, before the fork: the first model also paid sklearn's import
        assert index[0]["name"] == "rf" and index[0]["memory_bytes"] > 1 * MiB
        for name in ("a", "b"):
            load = requests.post(
                f"{server.url}/v2/repository/models/{name}/load",
                json={"parameters": {"uri": str(lr_dir)}},
                timeout=30,
            )
            assert load.status_code == 200, load.text
        for _ in range(8):  # new connections reach either worker: a is gone from both
            with requests.Session() as session:
                assert session.get(f"{server.url}/v2/models/a/ready", timeout=30).status_code == 404
                got = session.post(f"{server.url}/models/b/invocations", json=SPLIT, timeout=30)
                assert got.status_code == 200, got.text


def test_start_up_over_max_models_fails_with_one_line(
    typed_model_dir: Path, lr_dir: Path, tmp_path: Path
) -> None:
    command = server_command(
        "-m", f"rf={typed_model_dir}", "-m", f"lr={lr_dir}", "--max-models", "1", "-p", "0"
    )
    done = subprocess.run(
        command, env=server_env(), capture_output=True, text=True, timeout=120, cwd=tmp_path
    )
    assert done.returncode != 0
    assert "--max-models is 1" in done.stderr and "Traceback" not in done.stderr
