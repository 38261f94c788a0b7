"""Session fixtures: stores built by real MLflow (see _mlflow_peer), each built once per session.

MLflow takes seconds to import and each seed logs three models, so every store is built once,
in its own ``tmp_path_factory`` directory, and shared read-only by the tests: a test that
changes a store must copy its directory first.
"""

from __future__ import annotations

import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from ._mlflow_peer import (
    MlflowServer,
    MlflowStore,
    free_port,
    peer_env,
    seed_store,
    stop_session,
    wait_ping,
)

# MLflow 3.17 refuses its file store ("maintenance mode") unless this is set.
ALLOW_FILE_STORE = {"MLFLOW_ALLOW_FILE_STORE": "true"}
# The server's background-job runner (seven huey consumers, for GenAI scorers and trace
# archival) has nothing to do with the registry or artifacts; without it the server is ready
# in about 6 s instead of 25 and stops in 3 instead of 8.
SERVER_ENV = {"MLFLOW_SERVER_ENABLE_JOB_EXECUTION": "false"}
SERVER_READY_SECONDS = 90


@pytest.fixture(scope="session")
def mlflow3_sqlite_store(
    mlflow3_python: Path, tmp_path_factory: pytest.TempPathFactory
) -> MlflowStore:
    """MLflow 3's default store, exactly as a user gets it: the seed run in a fresh directory
    with no MLFLOW_TRACKING_URI, so MLflow picks ``sqlite:///mlflow.db`` and ``./mlruns``."""
    directory = tmp_path_factory.mktemp("mlflow3-sqlite")
    return MlflowStore(
        **seed_store(
            mlflow3_python,
            kind="sqlite",
            cwd=directory,
            tracking_uri=None,
            skops=True,
            stages=False,
        )
    )


@pytest.fixture(scope="session")
def mlflow3_file_store(
    mlflow3_python: Path, tmp_path_factory: pytest.TempPathFactory
) -> MlflowStore:
    """MLflow 3's file store (``file://<dir>/mlruns``), opted into with
    MLFLOW_ALLOW_FILE_STORE=true: the layout of a store made by MLflow 3.0 to 3.6, whose
    default it was, and of anyone who keeps it."""
    directory = tmp_path_factory.mktemp("mlflow3-file")
    return MlflowStore(
        **seed_store(
            mlflow3_python,
            kind="file",
            cwd=directory,
            tracking_uri=(directory / "mlruns").as_uri(),
            skops=True,
            stages=False,
            env=ALLOW_FILE_STORE,
        )
    )


@pytest.fixture(scope="session")
def mlflow2_file_store(
    mlflow2_python: Path, tmp_path_factory: pytest.TempPathFactory
) -> MlflowStore:
    """MLflow 2's default store (``./mlruns``, no MLFLOW_TRACKING_URI), with v1 in
    Production and v2 in Staging."""
    directory = tmp_path_factory.mktemp("mlflow2-file")
    return MlflowStore(
        **seed_store(
            mlflow2_python,
            kind="file",
            cwd=directory,
            tracking_uri=None,
            skops=False,
            stages=True,
        )
    )


@pytest.fixture(scope="session")
def mlflow3_server(
    mlflow3_python: Path, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[MlflowServer]:
    """A real ``mlflow server`` (sqlite backend, artifacts proxied: clients see only
    ``mlflow-artifacts:/`` URIs) with the seed logged through it by a client that has
    MLFLOW_TRACKING_URI=http://127.0.0.1:<port>. Stopped by process group at session end."""
    root = tmp_path_factory.mktemp("mlflow3-server")
    client_dir = root / "client"
    client_dir.mkdir()
    backend = f"sqlite:///{root / 'server.db'}"
    artifacts = root / "artifacts"
    log = root / "server.log"
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    command = [
        *(str(mlflow3_python), "-I", "-m", "mlflow", "server"),
        *("--backend-store-uri", backend),
        *("--serve-artifacts", "--artifacts-destination", str(artifacts)),
        *("--default-artifact-root", "mlflow-artifacts:/"),
        *("--host", "127.0.0.1", "--port", str(port), "--workers", "1"),
    ]
    with log.open("wb") as out:
        # a new session: the server and its workers form one process group to stop together
        process = subprocess.Popen(
            command,
            cwd=root,
            env=peer_env(None, SERVER_ENV),
            stdin=subprocess.DEVNULL,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    try:
        wait_ping(url, process, log, timeout=SERVER_READY_SECONDS, path="/health")
        built = seed_store(
            mlflow3_python,
            kind="server",
            cwd=client_dir,
            tracking_uri=url,
            skops=True,
            stages=False,
        )
        yield MlflowServer(
            **built,
            url=url,
            pid=process.pid,
            backend_store_uri=backend,
            artifacts_destination=artifacts,
            log=log,
        )
    finally:
        stop_session(process)
