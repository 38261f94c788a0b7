"""Stores that cannot be read give one clear MlserveError, never a traceback or a cache entry.

Corrupt and foreign databases, versions whose artifacts are gone or whose registration did not
complete (on a copy of a database real MLflow wrote), and tracking servers that refuse, fail,
stall or truncate a download. The misbehaving servers are small stdlib HTTP servers on
127.0.0.1 that answer with MLflow's REST shapes: real MLflow cannot be made to fail on demand.
"""

from __future__ import annotations

import json
import shutil
import sqlite3
import threading
import time
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest

import mlserve
from mlserve.errors import (
    ArtifactNotFound,
    MlserveError,
    ModelVersionNotFound,
    RegisteredModelNotFound,
    StoreError,
)
from mlserve.store import resolve_model_uri

from ._mlflow_peer import MODEL, MlflowStore

Handler = Callable[[BaseHTTPRequestHandler, str, dict[str, list[str]]], None]


@pytest.fixture(autouse=True)
def _cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("MLSERVE_CACHE_DIR", str(tmp_path / "cache"))
    return tmp_path / "cache"


def _answer(request: BaseHTTPRequestHandler, status: int, body: Any) -> None:
    raw = body if isinstance(body, bytes) else json.dumps(body).encode()
    request.send_response(status)
    request.send_header("Content-Length", str(len(raw)))
    request.end_headers()
    request.wfile.write(raw)


@pytest.fixture
def fake_server() -> Iterator[Callable[[Handler], str]]:
    """``start(handler) -> url``: an HTTP server on 127.0.0.1 that calls ``handler``."""
    servers: list[ThreadingHTTPServer] = []

    def start(handler: Handler) -> str:
        class Handle(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                parts = urlsplit(self.path)
                handler(self, parts.path, parse_qs(parts.query))

            do_POST = do_GET

            def log_message(self, *args: object) -> None:
                pass

        server = ThreadingHTTPServer(("127.0.0.1", 0), Handle)
        server.daemon_threads = True
        threading.Thread(target=server.serve_forever, daemon=True).start()
        servers.append(server)
        return f"http://127.0.0.1:{server.server_address[1]}"

    yield start
    for server in servers:
        server.shutdown()
        server.server_close()


def _registry(artifact_uri: str, files: dict[str, tuple[bytes, int]]) -> Handler:
    """An MLflow-shaped server with model M version 1 at ``artifact_uri``; the proxy serves
    ``files`` as ``{name: (content sent, size listed)}``."""

    def handle(request: BaseHTTPRequestHandler, path: str, query: dict[str, list[str]]) -> None:
        version = {"name": "M", "version": "1", "status": "READY", "source": artifact_uri}
        if path.endswith("/registered-models/get"):
            _answer(request, 200, {"registered_model": {"name": "M", "aliases": []}})
        elif path.endswith("/model-versions/search"):
            _answer(request, 200, {"model_versions": [version]})
        elif path.endswith("/get-download-uri"):
            _answer(request, 200, {"artifact_uri": artifact_uri})
        elif path.endswith("/mlflow-artifacts/artifacts"):
            listing = [{"path": n, "is_dir": False, "file_size": s} for n, (_, s) in files.items()]
            _answer(request, 200, {"files": listing})
        elif "/mlflow-artifacts/artifacts/" in path:
            name = path.rsplit("/", 1)[-1]
            _answer(request, 200, files[name][0])
        else:
            _answer(request, 404, {"error_code": "ENDPOINT_NOT_FOUND"})

    return handle


def _status(status: int, payload: Any = None) -> Handler:
    def handle(request: BaseHTTPRequestHandler, path: str, query: dict[str, list[str]]) -> None:
        _answer(request, status, payload if payload is not None else {"error_code": "X"})

    return handle


@pytest.mark.parametrize(
    ("status", "error", "says"),
    [
        (401, StoreError, "MLFLOW_TRACKING_TOKEN"),
        (403, StoreError, "MLFLOW_TRACKING_USERNAME"),
        (500, StoreError, "HTTP 500"),
        (503, StoreError, "HTTP 503"),
        (404, RegisteredModelNotFound, "MLflow tracking server"),
    ],
)
def test_server_errors(
    status: int,
    error: type[MlserveError],
    says: str,
    fake_server: Callable[[Handler], str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    payload = {"error_code": "RESOURCE_DOES_NOT_EXIST"} if status == 404 else None
    url = fake_server(_status(status, payload))
    monkeypatch.setenv("MLFLOW_TRACKING_URI", url)
    with pytest.raises(error) as info:
        mlserve.load_model("models:/M/1")
    assert says in str(info.value) and url in str(info.value)
    assert "Traceback" not in str(info.value)


def test_a_server_that_does_not_answer_times_out(
    fake_server: Callable[[Handler], str], monkeypatch: pytest.MonkeyPatch
) -> None:
    def stall(request: BaseHTTPRequestHandler, path: str, query: dict[str, list[str]]) -> None:
        time.sleep(3)

    monkeypatch.setenv("MLFLOW_TRACKING_URI", fake_server(stall))
    monkeypatch.setenv("MLFLOW_HTTP_REQUEST_TIMEOUT", "0.5")
    started = time.monotonic()
    with pytest.raises(StoreError, match="no answer"):
        resolve_model_uri("models:/M/1")
    assert time.monotonic() - started < 2.5


def test_nothing_listening(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MLFLOW_TRACKING_URI", "http://127.0.0.1:9")
    with pytest.raises(StoreError, match="check that it runs"):
        resolve_model_uri("models:/M/latest")


def test_credentials_from_the_environment_are_sent(
    fake_server: Callable[[Handler], str], monkeypatch: pytest.MonkeyPatch
) -> None:
    seen: list[str | None] = []

    def handle(request: BaseHTTPRequestHandler, path: str, query: dict[str, list[str]]) -> None:
        seen.append(request.headers.get("Authorization"))
        _answer(request, 404, {"error_code": "RESOURCE_DOES_NOT_EXIST"})

    monkeypatch.setenv("MLFLOW_TRACKING_URI", fake_server(handle))
    monkeypatch.setenv("MLFLOW_TRACKING_USERNAME", "ann")
    monkeypatch.setenv("MLFLOW_TRACKING_PASSWORD", "s3cret")
    with pytest.raises(RegisteredModelNotFound):
        resolve_model_uri("models:/M/1")
    assert seen and set(seen) == {"Basic YW5uOnMzY3JldA=="}
    monkeypatch.setenv("MLFLOW_TRACKING_TOKEN", "tok")  # a token wins, as in MLflow
    seen.clear()
    with pytest.raises(RegisteredModelNotFound):
        resolve_model_uri("models:/M/1")
    assert set(seen) == {"Bearer tok"}


def test_a_truncated_download_is_an_error_and_leaves_no_cache_entry(
    fake_server: Callable[[Handler], str], monkeypatch: pytest.MonkeyPatch, _cache: Path
) -> None:
    mlmodel = b"flavors:\n  python_function: {}\n"
    files = {"MLmodel": (mlmodel, len(mlmodel)), "model.pkl": (b"half", 1000)}
    url = fake_server(_registry("mlflow-artifacts:/0/models/m-1/artifacts", files))
    monkeypatch.setenv("MLFLOW_TRACKING_URI", url)
    with pytest.raises(StoreError, match="got 4 bytes, the listing says 1000"):
        resolve_model_uri("models:/M/1")
    assert list((_cache / "mlflow-artifacts").iterdir()) == []
    # the same store with the whole file downloads and is published whole
    files["model.pkl"] = (b"x" * 1000, 1000)
    path = resolve_model_uri("models:/M/1")
    assert (path / "model.pkl").read_bytes() == b"x" * 1000
    assert [p.name for p in (_cache / "mlflow-artifacts").iterdir()] == [path.name]


def test_an_unsupported_artifact_location_names_the_supported_ones(
    fake_server: Callable[[Handler], str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("MLFLOW_TRACKING_URI", fake_server(_registry("s3://bucket/m", {})))
    with pytest.raises(MlserveError, match=r"'s3' is not supported.*mlflow-artifacts"):
        resolve_model_uri("models:/M/1")


@pytest.mark.parametrize("content", [b"not a database" * 100, b""], ids=["garbage", "empty"])
def test_a_corrupt_database(
    content: bytes, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "mlflow.db").write_bytes(content)
    uri = f"sqlite:///{tmp_path / 'mlflow.db'}"
    monkeypatch.setenv("MLFLOW_TRACKING_URI", uri)
    with pytest.raises(StoreError) as info:
        mlserve.load_model("models:/M/1")
    assert uri in str(info.value)
    assert (tmp_path / "mlflow.db").read_bytes() == content  # opened read-only


def test_a_database_that_is_not_mlflows(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    with sqlite3.connect(tmp_path / "other.db") as conn:
        conn.execute("CREATE TABLE things (x)")
    monkeypatch.setenv("MLFLOW_TRACKING_URI", f"sqlite:///{tmp_path / 'other.db'}")
    with pytest.raises(StoreError, match="not an MLflow tracking database"):
        resolve_model_uri("models:/M/1")


def _db_copy(store: MlflowStore, tmp_path: Path, sql: str) -> str:
    db = tmp_path / "mlflow.db"
    shutil.copy(store.directory / "mlflow.db", db)
    with sqlite3.connect(db) as conn:
        conn.execute(sql)
    return f"sqlite:///{db}"


@pytest.mark.slow
def test_a_version_whose_artifacts_are_gone(
    mlflow3_sqlite_store: MlflowStore, tmp_path: Path
) -> None:
    uri = _db_copy(
        mlflow3_sqlite_store,
        tmp_path,
        f"UPDATE model_versions SET storage_location = '{tmp_path}/gone' WHERE version = 1",
    )
    with pytest.raises(ArtifactNotFound, match="gone"):
        resolve_model_uri(f"models:/{MODEL}/1", tracking_uri=uri)
    # the other version of the same store still resolves
    assert (resolve_model_uri(f"models:/{MODEL}/2", tracking_uri=uri) / "MLmodel").is_file()


@pytest.mark.slow
@pytest.mark.parametrize("status", ["PENDING_REGISTRATION", "FAILED_REGISTRATION"])
def test_a_version_whose_registration_did_not_complete(
    status: str, mlflow3_sqlite_store: MlflowStore, tmp_path: Path
) -> None:
    uri = _db_copy(
        mlflow3_sqlite_store,
        tmp_path,
        f"UPDATE model_versions SET status = '{status}' WHERE name = '{MODEL}' AND version = 2",
    )
    with pytest.raises(StoreError, match=f"{status}, not READY"):
        resolve_model_uri(f"models:/{MODEL}/latest", tracking_uri=uri)


@pytest.mark.slow
def test_a_deleted_version_is_not_latest(mlflow3_sqlite_store: MlflowStore, tmp_path: Path) -> None:
    uri = _db_copy(
        mlflow3_sqlite_store,
        tmp_path,
        "UPDATE model_versions SET current_stage = 'Deleted_Internal' WHERE version = 2",
    )
    one = resolve_model_uri(f"models:/{MODEL}/1", tracking_uri=uri)
    assert resolve_model_uri(f"models:/{MODEL}/latest", tracking_uri=uri) == one
    with pytest.raises(ModelVersionNotFound, match="Versions: 1"):
        resolve_model_uri(f"models:/{MODEL}/2", tracking_uri=uri)
