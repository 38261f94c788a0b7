"""Start-up under the trust policy, through real ``python -m mlserve.server`` and ``mlserve
serve`` processes: the one line naming the policy, the one line for an unverified model, and
hostile models refused before anything in them runs (issue 15, items 6-8)."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest
import requests
import yaml
from _hostile_pickle import writes_marker

import mlserve

from .helpers import cli_command, server_command, server_env, start_server

MLFLOW_MODELS = Path(__file__).parent.parent / "data" / "mlflow_models"
POLICY_LINE = "Trust policy "
UNVERIFIED_LINE = "has no recorded digests"


def _fails_to_start(*command: str, env: dict[str, str] | None = None) -> str:
    """Run a server that must refuse to start; its stderr."""
    proc = subprocess.run(
        list(command), capture_output=True, text=True, timeout=60, env=env or server_env()
    )
    assert proc.returncode == 1, proc.stdout + proc.stderr
    assert "Traceback" not in proc.stderr, proc.stderr
    return proc.stderr


def test_default_policy_is_named_once_and_an_mlflow_model_is_unverified(tmp_path: Path) -> None:
    with start_server(tmp_path, "-m", str(MLFLOW_MODELS / "sklearn_skops"), "-w", "2") as server:
        assert requests.get(server.url + "/ping", timeout=10).status_code == 200
        server.wait_workers(2)
        log = server.log()
    policy = [line for line in log.splitlines() if POLICY_LINE in line]
    assert len(policy) == 1, log
    assert "'pickle' (from default)" in policy[0] and "pickle formats load" in policy[0]
    assert log.count(UNVERIFIED_LINE) == 1, log


def test_a_model_saved_by_mlserve_is_verified_silently(tmp_path: Path, seed_model) -> None:  # type: ignore[no-untyped-def]
    mlserve.save_model(seed_model, tmp_path / "m")
    env = server_env(MLSERVE_TRUST="strict,pickle")
    with start_server(tmp_path, "-m", str(tmp_path / "m"), env=env) as server:
        log = server.log()
    assert "'pickle,digests' (from --trust / MLSERVE_TRUST)" in log, log
    assert UNVERIFIED_LINE not in log


@pytest.mark.parametrize("runner", ["module", "cli"])
def test_no_pickle_refuses_a_hostile_pickle_at_start(
    tmp_path: Path, seed_model, runner: str
) -> None:  # type: ignore[no-untyped-def]
    marker = tmp_path / "ran"
    mlserve.save_model(seed_model, tmp_path / "m")
    (tmp_path / "m" / "model.pkl").write_bytes(writes_marker(marker))
    args = ("-m", str(tmp_path / "m"), "-p", "0", "--trust", "no-pickle")
    command = server_command(*args) if runner == "module" else cli_command("serve", *args)
    stderr = _fails_to_start(*command)
    # the changed pickle is caught by its digest before the policy is even asked
    assert "model.pkl has changed since the model was saved" in stderr
    assert not marker.exists()
    mlmodel = mlserve.Model.load(tmp_path / "m")
    mlmodel.mlserve_digests = None  # an MLflow-written model: no digests to catch it
    mlmodel.save(tmp_path / "m")
    stderr = _fails_to_start(*command)
    assert "model.pkl is a pickle" in stderr and "refuses pickles" in stderr
    assert not marker.exists()


def test_mlflow_variable_false_is_honoured_by_the_server(tmp_path: Path) -> None:
    env = server_env(MLFLOW_ALLOW_PICKLE_DESERIALIZATION="false")
    stderr = _fails_to_start(
        *server_command("-m", str(MLFLOW_MODELS / "sklearn_cloudpickle"), "-p", "0"), env=env
    )
    assert "refuses pickles" in stderr and "MLFLOW_ALLOW_PICKLE_DESERIALIZATION=false" in stderr


def test_code_outside_the_model_is_never_imported_at_start(tmp_path: Path) -> None:
    """The reproduction from issue 15: ``code: ../evilpkg`` shadowed skops with a package from
    outside the model, which ran when the server loaded the model."""
    marker = tmp_path / "ran"
    model = tmp_path / "models" / "m"
    shutil.copytree(MLFLOW_MODELS / "sklearn_skops", model)
    fake = tmp_path / "models" / "evilpkg" / "skops"
    fake.mkdir(parents=True)
    (fake / "__init__.py").write_text(
        f"import pathlib\npathlib.Path({str(marker)!r}).write_text('ran')\n"
    )
    data = yaml.safe_load((model / "MLmodel").read_text())
    data["flavors"]["sklearn"]["code"] = "../evilpkg"
    (model / "MLmodel").write_text(yaml.safe_dump(data))
    stderr = _fails_to_start(*server_command("-m", str(model), "-p", "0"))
    assert "sklearn.code: '../evilpkg' is not a file inside the model directory" in stderr
    assert not marker.exists()


def test_bad_trust_value_is_a_usage_error(tmp_path: Path) -> None:
    proc = subprocess.run(
        server_command("-m", str(tmp_path), "--trust", "everything"),
        capture_output=True,
        text=True,
        timeout=60,
        env=server_env(),
    )
    assert proc.returncode == 2
    assert "argument --trust: unknown term 'everything'" in proc.stderr
