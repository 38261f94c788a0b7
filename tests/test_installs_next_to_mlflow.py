"""mlserve-core[server] installs into the environment where MLflow 3.17 is installed: every
requirement MLflow's installed distributions place on gunicorn and werkzeug (read from their
metadata in MLflow's own virtualenv) and the server extra's ranges in setup.cfg are met by one
version, the one pip chose for MLflow there. (MLflow 3.17.2 requires ``gunicorn<27``; a
server extra asking for ``gunicorn>=27`` made ``pip install mlflow==3.17.2
'mlserve-core[server]'`` fail with ResolutionImpossible.)"""

from __future__ import annotations

import configparser
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from packaging.requirements import Requirement
from packaging.specifiers import SpecifierSet
from packaging.version import Version
from store.mlflow._mlflow_peer import peer_python

ROOT = Path(__file__).parents[1]
SHARED = ("gunicorn", "werkzeug")

# Run by MLflow's Python: what its installed distributions (mlserve's own left out: it may be
# installed there without the server extra) require of the shared packages, markers evaluated
# for that interpreter, and the versions installed.
_READ_REQUIREMENTS = """
import json, sys
from importlib.metadata import distributions, version
from packaging.requirements import Requirement

shared = sys.argv[1:]
found = {name: [] for name in shared}
for dist in distributions():
    owner = dist.metadata["Name"]
    if owner.lower().startswith("mlserve"):
        continue
    for line in dist.requires or []:
        req = Requirement(line)
        name = req.name.lower()
        if name in found and (req.marker is None or req.marker.evaluate({"extra": ""})):
            found[name].append([owner, str(req.specifier)])
print(json.dumps({
    "mlflow": version("mlflow"),
    "installed": {name: version(name) for name in shared},
    "required": found,
}))
"""


def _server_extra() -> dict[str, SpecifierSet]:
    config = configparser.ConfigParser()
    config.read(ROOT / "setup.cfg")
    lines = config["options.extras_require"]["server"].splitlines()
    requirements = [Requirement(line.strip()) for line in lines if line.strip()]
    return {req.name.lower(): req.specifier for req in requirements}


@pytest.fixture(scope="module")
def mlflow_environment() -> dict[str, object]:
    python = peer_python(3)  # skipped without it; a failure where MLflow is required
    out = subprocess.run(
        [str(python), "-c", _READ_REQUIREMENTS, *SHARED],
        capture_output=True, text=True, timeout=120, check=True,
    )  # fmt: skip
    return json.loads(out.stdout)


def test_the_server_extra_and_mlflow_3_17_agree_on_gunicorn_and_werkzeug(
    mlflow_environment: dict[str, object],
) -> None:
    env = mlflow_environment
    assert Version(str(env["mlflow"])) >= Version("3.17"), env["mlflow"]
    ours = _server_extra()
    assert set(SHARED) <= set(ours), ours
    required: dict[str, list[list[str]]] = env["required"]  # type: ignore[assignment]
    installed: dict[str, str] = env["installed"]  # type: ignore[assignment]
    # MLflow does constrain both (gunicorn directly, werkzeug through Flask): an empty list
    # would mean this reads the wrong environment, and proves nothing
    assert required["gunicorn"] and required["werkzeug"], required
    for name in SHARED:
        witness = Version(installed[name])
        theirs = [SpecifierSet(spec) for _, spec in required[name]]
        assert all(witness in spec for spec in theirs), (name, witness, required[name])
        assert witness in ours[name], (
            f"{name} {witness}, which MLflow {env['mlflow']}'s environment has (it requires "
            f"{required[name]}), is outside the server extra's {name}{ours[name]}: "
            f"pip cannot install mlserve-core[server] next to MLflow"
        )


@pytest.mark.slow
def test_pip_resolves_mlflow_3_17_with_the_server_extra(tmp_path: Path) -> None:
    """The reviewer's command: pip resolves ``mlflow==3.17.2`` and this checkout's server extra
    together from https://pypi.org (this machine's pip configuration left out), picking a
    gunicorn both accept. ``--dry-run`` resolves and fetches metadata, installs nothing (12 s
    here with pip's cache warm)."""
    report = tmp_path / "report.json"
    environ = {k: v for k, v in os.environ.items() if not k.startswith("PIP_")}
    done = subprocess.run(
        [sys.executable, "-m", "pip", "--isolated", "install", "--dry-run", "--ignore-installed",
         "--quiet", "--disable-pip-version-check", "--index-url", "https://pypi.org/simple",
         "--report", str(report), "mlflow==3.17.2", f"{ROOT}[server]"],
        capture_output=True, text=True, timeout=300, env=environ, check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    chosen = {
        item["metadata"]["name"].lower(): Version(item["metadata"]["version"])
        for item in json.loads(report.read_text())["install"]
    }
    ours = _server_extra()
    assert chosen["mlflow"] == Version("3.17.2")
    for name in SHARED:
        assert chosen[name] in ours[name], (name, chosen[name])
