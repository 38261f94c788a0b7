"""Models that are not fork-safe are loaded in each worker, through real ``python -m
mlserve.server`` processes and a real plugin distribution on disk.

The plugin's "framework" (``fake_runtime``) behaves as TensorFlow does for our purpose: a process
that inherits it through ``fork()`` has it broken, which every prediction reports. Its flavor's
predictor declares ``Capabilities(fork_safe=False)``.
"""

from __future__ import annotations

import importlib.util
import os
import signal
import subprocess
import time
from pathlib import Path

import pytest
import requests

import mlserve

from .helpers import SEED_BODY, Server, server_command, server_env, start_server

RUNTIME_SOURCE = """
import os

STARTED_IN = os.getpid()


def broken():
    # inherited through fork() from the process that started it: unusable, as TensorFlow is
    return int(os.getpid() != STARTED_IN)
"""

FLAVOR_SOURCE = """
import os

import numpy as np

from mlserve import Capabilities


class Predictor:
    capabilities = Capabilities(accepts_dataframe=False, accepts_ndarray=True, fork_safe=False)

    def __init__(self, load_pid):
        self.load_pid = load_pid

    def predict(self, data, params=None):
        import fake_runtime

        row = [self.load_pid, os.getpid(), fake_runtime.broken()]
        return np.array([row] * len(data))


class ForkCheckFlavor:
    name = "forkcheck"

    def can_save(self, obj):
        return obj == "forkcheck"

    def save(self, obj, path, fail=False):
        return {"fail": bool(fail)}

    def load(self, path, section):
        import fake_runtime  # the framework starts when a model is loaded

        if section.get("fail"):
            raise RuntimeError("the runtime refuses this model")
        return os.getpid()

    def predictor(self, native, section):
        return Predictor(native)

    def requirements(self, obj=None):
        return []


flavor = ForkCheckFlavor()
"""


@pytest.fixture(scope="module")
def plugin(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A directory holding the ``forkcheck-flavor`` distribution (module, runtime, dist-info
    with its ``mlserve.flavors`` entry point), for the servers' PYTHONPATH only."""
    root = tmp_path_factory.mktemp("plugin")
    (root / "fake_runtime.py").write_text(RUNTIME_SOURCE)
    (root / "forkcheck_flavor.py").write_text(FLAVOR_SOURCE)
    info = root / "forkcheck_flavor-0.1.dist-info"
    info.mkdir()
    (info / "METADATA").write_text("Metadata-Version: 2.1\nName: forkcheck-flavor\nVersion: 0.1\n")
    (info / "entry_points.txt").write_text(
        "[mlserve.flavors]\nforkcheck = forkcheck_flavor:flavor\n"
    )
    return root


def _save(plugin: Path, path: Path, **options: object) -> Path:
    # the flavor object from its file, so this process's registry never sees the plugin
    spec = importlib.util.spec_from_file_location(
        "forkcheck_flavor", plugin / "forkcheck_flavor.py"
    )
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    mlserve.save_model("forkcheck", path, flavor=module.flavor, **options)
    return path


def _env(plugin: Path) -> dict[str, str]:
    return server_env(PYTHONPATH=str(plugin))


def _rows_by_worker(server: Server, want: int, timeout: float = 30) -> dict[int, list[int]]:
    """Predictions over fresh connections until ``want`` workers have answered; the row each
    serving pid returned: ``[load pid, serving pid, runtime broken]``."""
    seen: dict[int, list[int]] = {}
    deadline = time.monotonic() + timeout
    while len(seen) < want and time.monotonic() < deadline:
        response = requests.post(
            server.url + "/invocations",
            json={"inputs": [[1.0]]},
            headers={"Connection": "close"},
            timeout=10,
        )
        assert response.status_code == 200, response.text
        row = [int(v) for v in response.json()["predictions"][0]]
        seen[row[1]] = row
    assert len(seen) == want, f"only workers {sorted(seen)} answered in {timeout}s"
    return seen


@pytest.mark.slow
def test_a_model_that_is_not_fork_safe_is_loaded_in_each_worker(
    tmp_path: Path, plugin: Path
) -> None:
    model = _save(plugin, tmp_path / "model")
    with start_server(tmp_path, "-m", str(model), "-w", "2", env=_env(plugin)) as server:
        workers = server.wait_workers(2)
        rows = _rows_by_worker(server, 2)
        log = server.log()
    assert sorted(rows) == workers
    for pid, (load_pid, serving_pid, broken) in rows.items():
        assert load_pid == serving_pid == pid  # loaded in the worker that serves it...
        assert not broken  # ...which did not inherit the runtime from its parent
    assert server.pid not in rows
    assert "not fork-safe: restarting to load it in each worker" in log
    assert "Loading the model in each worker (no preload)" in log


@pytest.mark.slow
def test_no_preload_option_serves_a_fork_safe_model_from_each_worker(
    tmp_path: Path, seed_model_dir: Path, seed_model
) -> None:  # type: ignore[no-untyped-def]
    env = server_env(MLSERVE_PRELOAD="false")
    with start_server(tmp_path, "-m", str(seed_model_dir), "-w", "2", env=env) as server:
        server.wait_workers(2)
        response = requests.post(server.url + "/invocations", json=SEED_BODY, timeout=10)
        log = server.log()
    assert response.status_code == 200
    assert "Loading the model in each worker (no preload)" in log
    assert "restarting" not in log  # nothing was loaded in the parent to find out


@pytest.mark.slow
def test_fork_safe_models_are_still_loaded_once_before_the_fork(
    tmp_path: Path, seed_model_dir: Path
) -> None:
    with start_server(tmp_path, "-m", str(seed_model_dir), "-w", "2") as server:
        server.wait_workers(2)
        log = server.log()
    assert "no preload" not in log and "restarting" not in log


@pytest.mark.slow
def test_a_model_failing_to_load_in_the_workers_stops_the_server_with_one_line(
    tmp_path: Path, plugin: Path
) -> None:
    model = _save(plugin, tmp_path / "model", fail=True)
    command = server_command("-m", str(model), "-p", "0", "-w", "2", "--no-preload")
    proc = subprocess.run(command, capture_output=True, text=True, env=_env(plugin), timeout=60)
    assert proc.returncode != 0
    errors = [line for line in proc.stderr.splitlines() if line.startswith("mlserve: error:")]
    assert errors, proc.stderr
    assert "RuntimeError: the runtime refuses this model" in errors[0]
    assert "Traceback" not in proc.stderr


@pytest.mark.slow
def test_workers_of_a_restarted_parent_stay_on_the_version_it_resolved(
    tmp_path: Path, plugin: Path
) -> None:
    """``models:/<name>/latest`` is resolved once, by the parent: a worker that starts later
    (here: the replacement of a killed one) serves that version, not a newer registration."""
    store = tmp_path / "store"
    mlserve.set_tracking_uri(str(store))
    _save(plugin, tmp_path / "v1")
    first = mlserve.register_model(str(tmp_path / "v1"), "Fork")
    args = ("-m", "models:/Fork/latest", "--tracking-uri", str(store), "-w", "1")
    with start_server(tmp_path, *args, env=_env(plugin)) as server:
        (worker,) = server.wait_workers(1)
        served = requests.get(server.url + "/metadata", timeout=10).json()["model_uuid"]
        _save(plugin, tmp_path / "v2")
        second = mlserve.register_model(str(tmp_path / "v2"), "Fork")
        assert (first.version, second.version) == (1, 2)
        os.kill(worker, signal.SIGKILL)
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline and server.workers() in ([], [worker]):
            time.sleep(0.1)
        _rows_by_worker(server, 1)  # the replacement has loaded and answers
        again = requests.get(server.url + "/metadata", timeout=10).json()["model_uuid"]
    assert server.workers() != [worker]
    uuids = [mlserve.Model.load(tmp_path / v).model_uuid for v in ("v1", "v2")]
    assert uuids[0] != uuids[1]
    assert served == again == uuids[0]


@pytest.mark.slow
def test_a_model_that_is_not_fork_safe_is_served_among_several(
    tmp_path: Path, plugin: Path, typed_model_dir: Path
) -> None:
    """One model that is not fork-safe makes every model load in each worker (pinned to the
    directories the parent resolved), and the repository extension's workers still share one
    state file: a model loaded through one worker is served by all."""
    model = _save(plugin, tmp_path / "model")
    args = ("-m", f"fork={model}", "-m", f"rf={typed_model_dir}", "-w", "2")
    with start_server(tmp_path, *args, "--enable-repository", env=_env(plugin)) as server:
        workers = server.wait_workers(2)
        rows = _rows_by_worker(server, 2)  # /invocations: the first model, "fork"
        split = {
            "dataframe_split": {
                "columns": list("abcd"),
                "data": SEED_BODY["dataframe_split"]["data"],
            }
        }  # type: ignore[index]
        load = requests.post(
            f"{server.url}/v2/repository/models/rf2/load",
            json={"parameters": {"uri": str(typed_model_dir)}},
            timeout=30,
        )
        assert load.status_code == 200, load.text
        for _ in range(8):  # fresh connections reach either worker
            with requests.Session() as session:
                got = session.post(f"{server.url}/models/rf/invocations", json=split, timeout=30)
                assert got.status_code == 200, got.text
                ready = session.get(f"{server.url}/v2/models/rf2/ready", timeout=30)
                assert ready.status_code == 200
        log = server.log()
    assert sorted(rows) == workers
    for pid, (load_pid, serving_pid, broken) in rows.items():
        assert load_pid == serving_pid == pid and not broken
    assert "not fork-safe: restarting to load it in each worker" in log
