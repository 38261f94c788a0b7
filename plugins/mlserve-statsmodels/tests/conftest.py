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
def data() -> Any:
    """A well-conditioned frame: features a, b, c, a linear target y and a binary target yb."""
    import numpy as np
    import pandas as pd

    rng = np.random.default_rng(42)
    X = rng.normal(size=(100, 3))
    signal = X @ np.array([1.5, -2.0, 0.5])
    frame = pd.DataFrame(X, columns=["a", "b", "c"])
    frame["y"] = signal + 1.0 + rng.normal(scale=0.1, size=100)
    frame["yb"] = (signal + rng.logistic(size=100) > 0).astype("int64")
    return frame


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
