"""Drive real MLflow, installed in its own virtualenv, as a subprocess ("the peer").

mlflow must never be importable in the test process (mlserve reads MLflow's stores without it),
so every MLflow call here is a short Python script run by the interpreter of an MLflow venv that
``.ci/mlflow-venvs`` builds. A script reports back by calling ``emit(value)`` once: the value goes
as JSON through a result file, because MLflow prints to stdout and stderr as it pleases.
"""

from __future__ import annotations

import contextlib
import http.client
import json
import os
import signal
import socket
import subprocess
import tempfile
import time
import urllib.parse
from collections.abc import Mapping
from dataclasses import dataclass
from importlib.metadata import version as installed_version
from pathlib import Path
from typing import Any

import pytest

# The seed scenario's rows, sent as a pandas DataFrame with integer column names (as the
# README's curl example sends them), and the registry names the seed scripts create.
SEED_ROWS = [[0.1, -0.2, 0.3, -0.4], [0.5, 0.6, -0.7, 0.8]]
SEED_COLUMNS = [0, 1, 2, 3]
MODEL = "MyRandomForest"
SKOPS_MODEL = "SkopsRF"
ARTIFACT_PATH = "random-forest-model"
SKOPS_ARTIFACT_PATH = "random-forest-skops"
# What skops 0.16 reports as untrusted in a RandomForestClassifier (skops.io.get_untrusted_types);
# MLflow 3.17 loads the model back at save time with exactly this list and refuses without it.
SKOPS_TRUSTED_TYPES = ["sklearn.tree._tree.Tree"]

PYTHON_ENV = {3: "MLSERVE_TEST_MLFLOW3_PYTHON", 2: "MLSERVE_TEST_MLFLOW2_PYTHON"}
DEFAULT_PYTHON = {
    3: Path.home() / ".cache/mlserve-checks/mlflow-venv/bin/python",
    2: Path.home() / ".cache/mlserve-checks/mlflow2-venv/bin/python",
}
REQUIRE_ENV = "MLSERVE_TEST_REQUIRE_MLFLOW"


class MlflowPeerError(RuntimeError):
    """A peer script failed, timed out or emitted nothing; ``stderr`` is MLflow's own output."""

    def __init__(self, what: str, stderr: str) -> None:
        self.what = what
        self.stderr = stderr
        # the tail holds the traceback; MLflow's INFO chatter comes before it
        super().__init__(f"{what}\n--- MLflow stderr (last 6000 chars) ---\n{stderr[-6000:]}")


@dataclass(frozen=True)
class ModelVersionRecord:
    """One registered model version as the seed script saw it right after creating it."""

    name: str
    version: int
    run_id: str
    artifact_path: str  # log_model's name= (MLflow 3) or artifact_path= (MLflow 2)
    model_id: str | None  # MLflow 3's logged-model id "m-<hex>"; None for MLflow 2
    model_uri: str  # what log_model returned: "models:/m-<hex>" (3) or "runs:/<run>/<path>" (2)
    source: str  # the version's source field in the registry
    download_uri: str  # client.get_model_version_download_uri (the stored storage_location)
    serialization_format: str


@dataclass(frozen=True)
class MlflowStore:
    """A store MLflow built, with what MLflow itself predicted through each model URI."""

    kind: str  # "sqlite", "file" or "server"
    mlflow_version: str
    python: Path  # the MLflow venv's interpreter that built it
    directory: Path  # the seed script's cwd (for the default store, where mlflow.db is)
    tracking_uri: str | None  # MLFLOW_TRACKING_URI given to the seed; None: MLflow's default
    resolved_tracking_uri: str  # mlflow.get_tracking_uri() inside the seed script
    artifact_location: str  # the default experiment's artifact root
    extra_env: dict[str, str]  # what MLflow needs besides the tracking URI to open this store
    versions: tuple[ModelVersionRecord, ...]
    aliases: dict[str, dict[str, int]]  # registered model -> alias -> version
    predictions: dict[str, list[int]]  # model URI -> MLflow's pyfunc predictions for SEED_ROWS

    def version(self, name: str, version: int) -> ModelVersionRecord:
        """The record of ``name`` version ``version``; KeyError when the seed made none."""
        for record in self.versions:
            if (record.name, record.version) == (name, version):
                return record
        raise KeyError((name, version))

    def snapshot(self) -> dict[str, Any]:
        """``mlflow_snapshot`` of this store, from its directory, as the seed script saw it."""
        return mlflow_snapshot(self.python, self.tracking_uri, self.directory, env=self.extra_env)


@dataclass(frozen=True)
class MlflowServer(MlflowStore):
    """A running ``mlflow server`` (stopped at session end) and what was logged through it."""

    url: str  # http://127.0.0.1:<port>, also in tracking_uri
    pid: int  # the server's process (and process group) id
    backend_store_uri: str  # sqlite:///<tmp>/server.db
    artifacts_destination: Path  # where the artifact proxy writes
    log: Path  # the server's stdout and stderr


def peer_python(major: int) -> Path:
    """The MLflow ``major`` interpreter; fails (CI) or skips (elsewhere) when it is missing."""
    env = PYTHON_ENV[major]
    python = Path(os.environ.get(env) or DEFAULT_PYTHON[major])
    if python.is_file() and os.access(python, os.X_OK):
        return python
    message = (
        f"MLflow {major} interpreter not found at {python} (set {env}); "
        "build both MLflow venvs with: .ci/mlflow-venvs"
    )
    if os.environ.get(REQUIRE_ENV) == "1":
        pytest.fail(f"{message} ({REQUIRE_ENV}=1: the MLflow tests must run)", pytrace=False)
    pytest.skip(message)


def check_peer(python: Path, major: int) -> str:
    """The peer's MLflow version, after checking it is ``major`` and that its scikit-learn is
    the test process's: the tests unpickle MLflow-written models, and a pickle is only
    promised to load in the scikit-learn that wrote it."""
    probe = (
        "import json\nfrom importlib.metadata import version\n"
        "print(json.dumps([version('mlflow'), version('scikit-learn')]))"
    )
    done = subprocess.run(
        [str(python), "-I", "-c", probe], capture_output=True, text=True, timeout=60, check=False
    )
    if done.returncode != 0:
        raise MlflowPeerError(f"{python} cannot report its mlflow version", done.stderr)
    mlflow_version, sklearn_version = json.loads(done.stdout)
    ours = installed_version("scikit-learn")
    if not mlflow_version.startswith(f"{major}."):
        pytest.fail(f"{python} has mlflow {mlflow_version}, not MLflow {major}", pytrace=False)
    if sklearn_version != ours:
        pytest.fail(
            f"{python} has scikit-learn {sklearn_version} but the test venv has {ours}; "
            f"rebuild the MLflow venvs with: .ci/mlflow-venvs {ours}",
            pytrace=False,
        )
    return mlflow_version


def peer_env(tracking_uri: str | None, extra: Mapping[str, str] | None = None) -> dict[str, str]:
    """The environment for a peer: ours without MLFLOW_* (a developer's own tracking URI must
    not leak in) or interpreter overrides, plus ``tracking_uri`` when one is given, plus
    ``extra``."""
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("MLFLOW_", "MLSERVE_"))
        and key not in {"PYTHONPATH", "PYTHONHOME", "VIRTUAL_ENV"}
    }
    # no usage reporting from a test run (and no network wait for it)
    env["MLFLOW_DISABLE_TELEMETRY"] = "true"
    env["DO_NOT_TRACK"] = "true"
    if tracking_uri is not None:
        env["MLFLOW_TRACKING_URI"] = tracking_uri
    env.update(extra or {})
    return env


# Prepended to every peer script: the result channel and the script's JSON arguments.
_PRELUDE = """\
import json as _json
import sys as _sys

ARGS = _json.loads(_sys.argv[2])


def emit(value):
    with open(_sys.argv[1], "w") as _out:
        _json.dump(value, _out)


"""


def run_peer_script(
    python: Path,
    source: str,
    *,
    cwd: Path,
    tracking_uri: str | None = None,
    args: Any = None,
    env: Mapping[str, str] | None = None,
    timeout: float = 240,
) -> Any:
    """Run ``source`` with the MLflow interpreter ``python`` in ``cwd`` and return what it
    passed to ``emit()``. The script sees ``args`` as ``ARGS``; ``env`` adds environment
    variables (see peer_env). Raises MlflowPeerError, with MLflow's stderr, when the script
    exits non-zero, times out or emits nothing.

    ``-I`` keeps the script's own directory, user site-packages and PYTHON* variables out of
    its ``sys.path``: the peer sees only its venv.
    """
    with tempfile.TemporaryDirectory(prefix="mlflow-peer-") as scratch:
        # outside cwd, so the store directory holds only what MLflow put there
        result = Path(scratch) / "result.json"
        command = [str(python), "-I", "-c", _PRELUDE + source, str(result), json.dumps(args)]
        try:
            done = subprocess.run(
                command,
                cwd=cwd,
                env=peer_env(tracking_uri, env),
                stdin=subprocess.DEVNULL,
                capture_output=True,
                text=True,
                timeout=timeout,
                check=False,
            )
        except subprocess.TimeoutExpired as exc:
            # what the script wrote before it was killed (bytes on POSIX, whatever text= says)
            partial = exc.stderr or b""
            stderr = partial.decode(errors="replace") if isinstance(partial, bytes) else partial
            raise MlflowPeerError(
                f"peer script timed out after {timeout} s in {cwd}", stderr
            ) from exc
        if done.returncode != 0:
            raise MlflowPeerError(
                f"peer script failed with exit code {done.returncode} in {cwd}", done.stderr
            )
        if not result.exists():
            raise MlflowPeerError(f"peer script emitted nothing in {cwd}", done.stderr)
        return json.loads(result.read_text())


# Shared by the seed and snapshot scripts: MLflow's pyfunc prediction for the seed rows.
_PREDICT = f"""\
import mlflow
import numpy as np
import pandas as pd

ROWS = pd.DataFrame({SEED_ROWS!r}, columns={SEED_COLUMNS!r})


def predict(uri):
    return np.asarray(mlflow.pyfunc.load_model(uri).predict(ROWS)).tolist()


"""

# Builds the seed scenario in whatever store the environment names. ARGS: {"skops": bool,
# "stages": bool}. Runs under MLflow 2 and 3 alike.
SEED_SCRIPT = (
    _PREDICT
    + f"""\
import mlflow.sklearn
import sklearn
from mlflow import MlflowClient
from sklearn.datasets import make_classification
from sklearn.ensemble import RandomForestClassifier

MAJOR = int(mlflow.__version__.split(".")[0])
client = MlflowClient()


def log(model, path, registered, **kwargs):
    named = {{"name": path}} if MAJOR >= 3 else {{"artifact_path": path}}
    with mlflow.start_run() as run:
        info = mlflow.sklearn.log_model(
            model, registered_model_name=registered, **named, **kwargs
        )
    found = client.search_model_versions(f"name='{{registered}}' and run_id='{{run.info.run_id}}'")
    (mv,) = found
    flavor = mlflow.models.get_model_info(info.model_uri).flavors["sklearn"]
    return {{
        "name": registered,
        "version": int(mv.version),
        "run_id": run.info.run_id,
        "artifact_path": path,
        "model_id": getattr(info, "model_id", None),
        "model_uri": info.model_uri,
        "source": mv.source,
        "download_uri": client.get_model_version_download_uri(registered, mv.version),
        "serialization_format": flavor["serialization_format"],
    }}


X, y = make_classification(n_samples=100, n_features=4, random_state=42)
seed = RandomForestClassifier(random_state=42).fit(X, y)
# v2 is trained on other data so that it answers the seed rows differently from v1
X7, y7 = make_classification(n_samples=100, n_features=4, random_state=7)
other = RandomForestClassifier(random_state=42).fit(X7, y7)

pickled = {{"serialization_format": "cloudpickle"}}
versions = [
    log(seed, {ARTIFACT_PATH!r}, {MODEL!r}, **pickled),
    log(other, {ARTIFACT_PATH!r}, {MODEL!r}, **pickled),
]
if ARGS["skops"]:
    # no serialization_format: MLflow 3's default (skops) is the point of this model
    trusted = {SKOPS_TRUSTED_TYPES!r}
    skops_rf = log(seed, {SKOPS_ARTIFACT_PATH!r}, {SKOPS_MODEL!r}, skops_trusted_types=trusted)
    versions.append(skops_rf)
client.set_registered_model_alias({MODEL!r}, "champion", "1")
client.set_registered_model_tag({MODEL!r}, "team", "mlserve-tests")
client.set_model_version_tag({MODEL!r}, "1", "validated", "true")
uris = [f"models:/{MODEL}/latest", f"models:/{MODEL}@champion"]
if ARGS["stages"]:
    client.transition_model_version_stage({MODEL!r}, "1", "Production")
    client.transition_model_version_stage({MODEL!r}, "2", "Staging")
    uris += [f"models:/{MODEL}/Production", f"models:/{MODEL}/Staging"]
for v in versions:
    uris.append(f"models:/{{v['name']}}/{{v['version']}}")
    uris.append(f"runs:/{{v['run_id']}}/{{v['artifact_path']}}")
    if v["model_id"]:
        uris.append(f"models:/{{v['model_id']}}")
experiment = client.get_experiment("0")
emit({{
    "mlflow_version": mlflow.__version__,
    "sklearn_version": sklearn.__version__,
    "resolved_tracking_uri": mlflow.get_tracking_uri(),
    "artifact_location": experiment.artifact_location,
    "versions": versions,
    "aliases": {{
        name: {{a: int(n) for a, n in client.get_registered_model(name).aliases.items()}}
        for name in sorted({{v["name"] for v in versions}})
    }},
    "predictions": {{uri: predict(uri) for uri in uris}},
}})
"""
)

# A listing of everything MLflow's client reads back from a store (see mlflow_snapshot).
SNAPSHOT_SCRIPT = (
    _PREDICT
    + """\
from mlflow import MlflowClient

client = MlflowClient()
models = []
for rm in sorted(client.search_registered_models(), key=lambda rm: rm.name):
    versions = []
    found = client.search_model_versions(f"name='{rm.name}'")
    for mv in sorted(found, key=lambda mv: int(mv.version)):
        versions.append({
            "version": int(mv.version),
            "source": mv.source,
            "run_id": mv.run_id,
            "status": mv.status,
            "stage": mv.current_stage,
            "tags": dict(mv.tags),
            "predictions": predict(f"models:/{rm.name}/{mv.version}"),
        })
    models.append({
        "name": rm.name,
        "aliases": {alias: int(v) for alias, v in sorted(rm.aliases.items())},
        "tags": dict(rm.tags),
        "versions": versions,
    })
emit({
    "tracking_uri": mlflow.get_tracking_uri(),
    "experiments": [
        {"id": e.experiment_id, "name": e.name, "artifact_location": e.artifact_location,
         "lifecycle_stage": e.lifecycle_stage}
        for e in sorted(client.search_experiments(), key=lambda e: e.experiment_id)
    ],
    "registered_models": models,
})
"""
)


def seed_store(
    python: Path,
    *,
    kind: str,
    cwd: Path,
    tracking_uri: str | None,
    skops: bool,
    stages: bool,
    env: Mapping[str, str] | None = None,
) -> dict[str, Any]:
    """Run the seed script; what it built, as the fields MlflowStore takes."""
    args = {"skops": skops, "stages": stages}
    raw = run_peer_script(
        python, SEED_SCRIPT, cwd=cwd, tracking_uri=tracking_uri, args=args, env=env
    )
    return dict(
        kind=kind,
        mlflow_version=raw["mlflow_version"],
        python=python,
        directory=cwd,
        tracking_uri=tracking_uri,
        resolved_tracking_uri=raw["resolved_tracking_uri"],
        artifact_location=raw["artifact_location"],
        extra_env=dict(env or {}),
        versions=tuple(ModelVersionRecord(**v) for v in raw["versions"]),
        aliases=raw["aliases"],
        predictions=raw["predictions"],
    )


def mlflow_snapshot(
    python: Path, tracking_uri: str | None, cwd: Path, *, env: Mapping[str, str] | None = None
) -> dict[str, Any]:
    """What MLflow's client reads from the store: the tracking URI it resolved, experiments,
    registered models (aliases, tags) and every version (source, run_id, status, stage, tags,
    and MLflow's predictions for SEED_ROWS). ``tracking_uri=None`` means MLflow's default as
    seen from ``cwd``; ``env`` as for run_peer_script. Two snapshots compare equal when MLflow
    reads the store unchanged. Raises MlflowPeerError, with MLflow's stderr, when MLflow fails."""
    return run_peer_script(python, SNAPSHOT_SCRIPT, cwd=cwd, tracking_uri=tracking_uri, env=env)


def stop_session(proc: subprocess.Popen[bytes], grace: float = 15) -> None:
    """Stop a peer server started with ``start_new_session=True`` and wait for it: ``mlflow
    models serve`` runs uvicorn as its child, so the whole session goes, by its id (SIGTERM,
    then SIGKILL after ``grace`` seconds)."""
    with contextlib.suppress(ProcessLookupError):
        os.killpg(proc.pid, signal.SIGTERM)
    try:
        proc.wait(grace)
    except subprocess.TimeoutExpired:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGKILL)
        proc.wait(5)


def free_port() -> int:
    """A port on 127.0.0.1 that was free a moment ago, for a peer server that must be told
    its port (``mlflow models serve -p``)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def wait_ping(
    url: str, proc: subprocess.Popen[bytes], log: Path, timeout: float = 120, path: str = "/ping"
) -> None:
    """Wait until the peer server ``proc`` answers ``GET {url}{path}`` with 200 (``/ping`` for
    ``mlflow models serve``, ``/health`` for ``mlflow server``). Raises AssertionError, with
    the tail of its ``log``, when it exits first or is not ready within ``timeout`` seconds.
    The standard library's client: the plugins' suites import this module too."""
    where = urllib.parse.urlsplit(url)  # no proxy in between, whatever the environment says
    deadline = time.monotonic() + timeout
    while True:
        if proc.poll() is not None:
            tail = log.read_text(errors="replace")[-6000:]
            raise AssertionError(f"the peer server exited ({proc.returncode}):\n{tail}")
        connection = http.client.HTTPConnection(where.hostname, where.port, timeout=2)
        try:
            with contextlib.suppress(OSError, http.client.HTTPException):  # not listening yet
                connection.request("GET", path)
                if connection.getresponse().status == 200:
                    return
        finally:
            connection.close()
        if time.monotonic() > deadline:
            tail = log.read_text(errors="replace")[-6000:]
            raise AssertionError(f"the peer server did not answer {path} in {timeout} s:\n{tail}")
        time.sleep(0.2)
