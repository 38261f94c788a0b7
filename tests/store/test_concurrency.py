"""Many processes, one registry: no lost or duplicated versions; crashes leave nothing visible.

These tests start real Python processes; they race on the same tracking root the way separate
training jobs would.
"""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import numpy as np
import pytest

import mlserve
from mlserve.errors import ModelVersionNotFound
from mlserve.store import resolve_model_uri
from mlserve.store._registry import Registry
from mlserve.store._runs import RunStore

pytestmark = pytest.mark.slow

N_PROCESSES = 6

# each writer logs a model that always predicts its own number, so a version can be traced back
# to the process that registered it (a python_function model: importing sklearn in six processes
# would dominate the test's time)
WRITER = textwrap.dedent(
    """
    import sys, time
    from pathlib import Path
    import mlserve
    import mlserve._api._models  # warm every import before the race starts


    class Constant(mlserve.PythonModel):
        def __init__(self, marker):
            self.marker = marker

        def predict(self, context, model_input, params=None):
            return [self.marker] * len(model_input)


    marker, sync = int(sys.argv[1]), Path(sys.argv[2])
    model = Constant(marker)
    (sync / f"ready-{marker}").touch()
    while not (sync / "go").exists():
        time.sleep(0.002)
    info = mlserve.log_model(model, "model", registered_model_name="Shared")
    print(marker, info.registered_model_version, info.run_id, flush=True)
    """
)


def _env(root: Path) -> dict[str, str]:
    return {**os.environ, "MLSERVE_TRACKING_URI": str(root), "PYTHONWARNINGS": "error"}


def test_concurrent_registrations_get_distinct_consecutive_versions(tmp_path: Path) -> None:
    root, sync = tmp_path / "mlruns", tmp_path / "sync"
    sync.mkdir()
    script = tmp_path / "writer.py"
    script.write_text(WRITER)
    procs = [
        subprocess.Popen(
            [sys.executable, str(script), str(i), str(sync)],
            env=_env(root),
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for i in range(N_PROCESSES)
    ]
    deadline = time.monotonic() + 60
    while len(list(sync.glob("ready-*"))) < N_PROCESSES:
        assert time.monotonic() < deadline, "writers did not start"
        assert all(p.poll() is None for p in procs), [p.communicate() for p in procs]
        time.sleep(0.01)
    (sync / "go").touch()
    results = {}
    for proc in procs:
        out, err = proc.communicate(timeout=60)
        assert proc.returncode == 0, err
        marker, version, run_id = out.split()
        results[int(version)] = (int(marker), run_id)

    assert sorted(results) == list(range(1, N_PROCESSES + 1))
    assert sorted(m for m, _ in results.values()) == list(range(N_PROCESSES))
    registry = Registry.at(root)
    assert registry.version_numbers("Shared") == list(range(1, N_PROCESSES + 1))
    for version, (marker, run_id) in results.items():
        record = registry.get_model_version("Shared", version)
        assert record.run_id == run_id
        model = mlserve.load_model(resolve_model_uri(f"models:/Shared/{version}", str(root)))
        assert list(model.predict(np.zeros((2, 1)))) == [marker, marker]


CRASHER = textwrap.dedent(
    """
    import os, signal, sys
    import mlserve
    from mlserve.store._artifacts import LocalArtifactStore

    where = sys.argv[1]
    model = lambda model_input: [7] * len(model_input)
    original_write = LocalArtifactStore.write_bytes
    original_publish = LocalArtifactStore.publish_dir

    def write_bytes(self, key, data):
        if where == "registration" and key.endswith(".meta.yaml"):
            os.kill(os.getpid(), signal.SIGKILL)  # the version number is claimed, not published
        return original_write(self, key, data)

    def publish_dir(self, staging, key):
        if where == "log_model":
            os.kill(os.getpid(), signal.SIGKILL)  # the model is saved, not yet renamed into place
        return original_publish(self, staging, key)

    LocalArtifactStore.write_bytes = write_bytes
    LocalArtifactStore.publish_dir = publish_dir
    mlserve.log_model(model, "model", registered_model_name="Crashy")
    """
)


def _crash(tmp_path: Path, root: Path, where: str) -> None:
    script = tmp_path / "crasher.py"
    script.write_text(CRASHER)
    proc = subprocess.run(
        [sys.executable, str(script), where], env=_env(root), capture_output=True, timeout=60
    )
    assert proc.returncode == -9, proc.stderr.decode()


def _one(model_input: object) -> list[int]:
    return [1] * len(model_input)  # type: ignore[arg-type]


def _good_version(root: Path) -> int:
    mlserve.set_tracking_uri(root)
    try:
        info = mlserve.log_model(_one, "model", registered_model_name="Crashy")
    finally:
        mlserve.set_tracking_uri(None)
    assert info.registered_model_version is not None
    return info.registered_model_version


def test_crash_between_claim_and_publish_is_invisible(tmp_path: Path) -> None:
    root = tmp_path / "mlruns"
    assert _good_version(root) == 1
    _crash(tmp_path, root, "registration")
    registry = Registry.at(root)
    assert (root / "models" / "Crashy" / "versions" / "2.claim").exists()
    assert registry.version_numbers("Crashy") == [1]
    assert registry.get_latest_version("Crashy").version == 1
    with pytest.raises(ModelVersionNotFound):
        registry.get_model_version("Crashy", 2)
    # the next registration works and never reuses the claimed number
    assert _good_version(root) == 3
    assert registry.version_numbers("Crashy") == [1, 3]


def test_crash_mid_log_model_leaves_no_model(tmp_path: Path) -> None:
    root = tmp_path / "mlruns"
    _crash(tmp_path, root, "log_model")
    runs = RunStore.at(root)
    (crashed,) = runs.list_runs()
    assert crashed.info.status == "RUNNING"  # nobody was left to end it
    assert runs.list_artifacts(crashed.info.run_id) == []
    assert Registry.at(root).names() == []
    assert _good_version(root) == 1
