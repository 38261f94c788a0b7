"""Fixtures: the seed data set, and a real ``python -m mlserve.server`` process for a model."""

from __future__ import annotations

import contextlib
import json
import os
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest


@pytest.fixture(autouse=True)
def _isolated_cwd(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # a test that logs a model must never leave ./mlruns in the source tree
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("MLSERVE_TRACKING_URI", raising=False)


@pytest.fixture(scope="session")
def seed_data() -> tuple[Any, Any]:
    """The seed scenario's data: 100 rows, 4 features, 2 classes."""
    from sklearn.datasets import make_classification

    return make_classification(n_samples=100, n_features=4, random_state=42)


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextlib.contextmanager
def serving(
    model_uri: str | os.PathLike[str], *args: str, ready_timeout: float = 60.0
) -> Iterator[str]:
    """Run ``python -m mlserve.server`` on ``model_uri`` (plus ``args``) on a free loopback
    port; yield its base URL once ``/ping`` answers 200, and stop it afterwards."""
    port = _free_port()
    cmd = [sys.executable, "-m", "mlserve.server", "-m", str(model_uri), "-p", str(port), *args]
    base = f"http://127.0.0.1:{port}"
    # the server's output goes to a file, shown if it fails to start
    with tempfile.TemporaryFile() as log:
        proc = subprocess.Popen(cmd, stdout=log, stderr=subprocess.STDOUT)
        try:
            _wait_ready(proc, base, log, ready_timeout)
            yield base
        finally:
            proc.terminate()
            try:
                proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()


def _wait_ready(proc: subprocess.Popen[bytes], base: str, log: Any, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while True:
        if proc.poll() is not None:
            log.seek(0)
            raise AssertionError(f"server exited {proc.returncode}:\n{log.read().decode()}")
        try:
            with urllib.request.urlopen(f"{base}/ping", timeout=2) as resp:
                if resp.status == 200:
                    return
        except (urllib.error.URLError, ConnectionError, TimeoutError):
            pass
        if time.monotonic() > deadline:
            log.seek(0)
            raise AssertionError(f"server not ready in {timeout}s:\n{log.read().decode()}")
        time.sleep(0.2)


def invoke(base: str, payload: dict[str, Any], *, timeout: float = 60) -> Any:
    """POST ``payload`` as JSON to ``/invocations``; return the decoded ``predictions``."""
    request = urllib.request.Request(
        f"{base}/invocations",
        data=json.dumps(payload).encode(),
        headers={"Content-Type": "application/json"},
        method="POST",
    )
    try:
        with urllib.request.urlopen(request, timeout=timeout) as resp:
            return json.loads(resp.read())["predictions"]
    except urllib.error.HTTPError as exc:
        raise AssertionError(f"HTTP {exc.code}: {exc.read().decode()}") from exc


@pytest.fixture
def serve() -> Any:
    """The :func:`serving` context manager, for tests that serve a model over HTTP."""
    return serving


@pytest.fixture
def post() -> Any:
    """The :func:`invoke` helper: POST a JSON payload, get the predictions back."""
    return invoke
