"""mlserve reads stores that real MLflow wrote, without mlflow importable, and predicts as MLflow.

Every URI the seed fixtures recorded (versions, latest, aliases, stages, ``models:/m-<id>``,
``runs:/``) is resolved by mlserve in this process and must predict what MLflow's own pyfunc
predicted for it; then the seed is served over HTTP from MLflow's default store (no
configuration, the server started where MLflow ran) and from a tracking server.
"""

from __future__ import annotations

import sys
from pathlib import Path

import pandas as pd
import pytest
import requests
from server.helpers import server_env, start_server

import mlserve
from mlserve.store import resolve_model_uri
from mlserve.store._locations import read_locations

from ._mlflow_peer import MODEL, SEED_COLUMNS, SEED_ROWS, MlflowServer, MlflowStore

pytestmark = pytest.mark.slow

STORES = ["mlflow3_sqlite_store", "mlflow3_file_store", "mlflow2_file_store", "mlflow3_server"]
SEED_BODY = {"dataframe_split": {"columns": SEED_COLUMNS, "data": SEED_ROWS}}


def _use(store: MlflowStore, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """Point mlserve at ``store`` as its user would: from the store's directory with nothing
    set for MLflow's default stores, with ``MLFLOW_TRACKING_URI`` otherwise."""
    monkeypatch.setenv("MLSERVE_CACHE_DIR", str(tmp_path / "cache"))
    for key, value in store.extra_env.items():
        monkeypatch.setenv(key, value)
    if store.tracking_uri is None:
        monkeypatch.chdir(store.directory)
    else:
        monkeypatch.setenv("MLFLOW_TRACKING_URI", store.tracking_uri)


def test_mlflow_is_not_importable_here() -> None:
    # the point of reading MLflow's stores ourselves: a serving environment without mlflow
    assert "mlflow" not in sys.modules
    with pytest.raises(ImportError):
        __import__("mlflow")


@pytest.mark.parametrize("fixture", STORES)
def test_every_uri_predicts_as_mlflow(
    fixture: str,
    request: pytest.FixtureRequest,
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
) -> None:
    store: MlflowStore = request.getfixturevalue(fixture)
    _use(store, monkeypatch, tmp_path)
    rows = pd.DataFrame(SEED_ROWS, columns=SEED_COLUMNS)
    got = {uri: mlserve.load_model(uri).predict(rows).tolist() for uri in store.predictions}
    assert got == store.predictions
    # v1 and v2 answer the seed rows differently, so latest, aliases and stages really chose
    assert store.predictions[f"models:/{MODEL}/1"] != store.predictions[f"models:/{MODEL}/2"]
    uris = set(store.predictions)
    assert {f"models:/{MODEL}/latest", f"models:/{MODEL}@champion"} <= uris
    assert any(u.startswith("runs:/") for u in uris)
    if store.mlflow_version.startswith("3."):
        assert any(u.startswith("models:/m-") for u in uris)
    else:
        assert {f"models:/{MODEL}/Production", f"models:/{MODEL}/Staging"} <= uris


def test_default_chain_finds_mlflow_3_default_store(
    mlflow3_sqlite_store: MlflowStore, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    _use(mlflow3_sqlite_store, monkeypatch, tmp_path)
    assert [loc.kind for loc in read_locations()] == ["mlserve", "mlflow-sqlite"]
    # from anywhere else, by an explicit sqlite URI
    monkeypatch.chdir(tmp_path)
    uri = f"sqlite:///{mlflow3_sqlite_store.directory / 'mlflow.db'}"
    path = resolve_model_uri(f"models:/{MODEL}/1", tracking_uri=uri)
    assert (path / "MLmodel").is_file()
    assert path.is_relative_to(mlflow3_sqlite_store.directory)  # read in place, not copied


def test_a_downloaded_model_is_cached_once(
    mlflow3_server: MlflowServer, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    _use(mlflow3_server, monkeypatch, tmp_path)
    first = resolve_model_uri(f"models:/{MODEL}/1")
    again = resolve_model_uri(f"models:/{MODEL}@champion")
    assert first == again and first.is_relative_to(tmp_path / "cache")
    entries = [p.name for p in (tmp_path / "cache" / "mlflow-artifacts").iterdir()]
    assert len(entries) == 1 and not entries[0].startswith(".")
    # the proxy's copy is byte-identical to what MLflow stored behind it
    stored = {p.read_bytes() for p in mlflow3_server.artifacts_destination.rglob("model.pkl")}
    assert (first / "model.pkl").read_bytes() in stored


@pytest.mark.parametrize(
    "fixture", ["mlflow3_sqlite_store", "mlflow2_file_store", "mlflow3_server"]
)
def test_seed_is_served_over_http(
    fixture: str, request: pytest.FixtureRequest, tmp_path: Path
) -> None:
    store: MlflowStore = request.getfixturevalue(fixture)
    env = server_env(MLSERVE_CACHE_DIR=str(tmp_path / "cache"), **store.extra_env)
    env.pop("MLFLOW_TRACKING_URI", None)
    if store.tracking_uri is not None:
        env["MLFLOW_TRACKING_URI"] = store.tracking_uri
    # MLflow's default stores: the server starts where MLflow ran, with nothing configured
    cwd = store.directory if store.tracking_uri is None else tmp_path
    with start_server(
        tmp_path / "logs", "-m", f"models:/{MODEL}/latest", env=env, cwd=cwd
    ) as server:
        answer = requests.post(f"{server.url}/invocations", json=SEED_BODY, timeout=30)
    assert answer.status_code == 200, answer.text
    assert answer.json() == {"predictions": store.predictions[f"models:/{MODEL}/latest"]}
