"""Per-model environments, built for real: uv and venv + pip from the public index, real
servers over HTTP on 127.0.0.1, processes killed mid-build.

Every build lands in one session-wide ``$MLSERVE_CACHE_DIR`` and each test's model has its own
requirements, so each environment is built once per session. What this costs is in .ci/run.
``MLSERVE_TEST_REQUIRE_UV=1`` (CI) turns a missing uv into a failure instead of a skip.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import requests
from _flavor_dists import DATA, pip_install_distribution
from server.helpers import SEED_BODY, SEED_ROWS, cli_command, server_env, start_server

import mlserve

pytestmark = pytest.mark.slow

OLD_SKLEARN = "1.5.2"  # older than the dev extra's, with wheels for Python 3.10-3.12

# A PythonModel answering the installed version of each package named in column "package",
# compiled as __main__ so cloudpickle stores it by value (the environment has no test modules)
VERSIONS_SOURCE = """
import importlib.metadata

import mlserve


class Versions(mlserve.PythonModel):
    def predict(self, model_input, params=None):
        out = []
        for name in model_input["package"]:
            try:
                out.append(importlib.metadata.version(name))
            except importlib.metadata.PackageNotFoundError:
                out.append("missing")
        return out
"""

# run with the environment's own Python: fit the seed model and save it with what is installed
# there, then print its predictions for the seed rows
SAVE_SEED_MODEL = """
import json, sys
import mlserve
from sklearn.datasets import make_classification
from sklearn.ensemble import RandomForestClassifier
import pandas as pd

X, y = make_classification(n_samples=100, n_features=4, random_state=42)
model = RandomForestClassifier(random_state=42).fit(X, y)
mlserve.save_model(model, sys.argv[1])
rows = pd.DataFrame(json.loads(sys.argv[2]), columns=[0, 1, 2, 3])
print(json.dumps(mlserve.load_model(sys.argv[1]).predict(rows).tolist()))
"""


@pytest.fixture(scope="session")
def uv_available() -> None:
    from mlserve.errors import MissingExtra

    try:
        from mlserve.env import find_uv

        find_uv()
    except MissingExtra:
        if os.environ.get("MLSERVE_TEST_REQUIRE_UV") == "1":
            pytest.fail("uv is required here (MLSERVE_TEST_REQUIRE_UV=1): pip install uv")
        pytest.skip("uv is not installed (pip install uv)")


@pytest.fixture(scope="session")
def env_cache(frozen_mlserve: Path) -> Path:
    """One cache for the session, next to the frozen mlserve: environments and mlserve wheels
    are built once."""
    cache = frozen_mlserve.parent / "mlserve-cache"
    cache.mkdir()
    return cache


@pytest.fixture(scope="session")
def frozen_mlserve(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """This checkout's mlserve-core, installed from its wheel into a directory the commands
    run with (PYTHONPATH): the environments' hash follows the source of an editable install,
    which other work on the tree may change mid-test; a wheel install is what it is."""
    from mlserve.env import build_wheels

    root = tmp_path_factory.mktemp("frozen-mlserve")
    [wheel] = build_wheels(["mlserve-core"], root / "wheel", cache_dir=root / "cache")
    subprocess.run(
        [sys.executable, "-m", "pip", "install", "--quiet", "--no-deps", "--no-index",
         "--target", str(root / "site"), str(wheel.path)],
        check=True,
    )  # fmt: skip
    return root / "site"


def _environ(cache: Path) -> dict[str, str]:
    return server_env(MLSERVE_CACHE_DIR=str(cache), PYTHONPATH=str(cache.parent / "site"))


def _versions_model(path: Path, requirements: list[str]) -> Path:
    namespace: dict[str, object] = {"__name__": "__main__"}
    exec(compile(VERSIONS_SOURCE, "<versions model>", "exec"), namespace)
    model = namespace["Versions"]()  # type: ignore[operator]
    mlserve.save_model(model, path, pip_requirements=requirements)
    return path


def _prepare(cache: Path, model: Path, manager: str, **kwargs: object) -> subprocess.Popen[str]:
    return subprocess.Popen(
        cli_command("env", "prepare", "-m", str(model), "--env-manager", manager),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=_environ(cache),
        **kwargs,  # type: ignore[call-overload]
    )


def _envs(cache: Path) -> Path:
    return cache / "envs"


def _ask_versions(url: str, *names: str) -> list[str]:
    body = {"dataframe_split": {"columns": ["package"], "data": [[n] for n in names]}}
    answer = requests.post(url + "/invocations", json=body, timeout=30)
    assert answer.status_code == 200, answer.text
    return answer.json()["predictions"]


def test_serve_with_uv_gives_a_model_the_scikit_learn_it_was_saved_with(
    uv_available: None, env_cache: Path, tmp_path: Path
) -> None:
    import sklearn

    assert sklearn.__version__ != OLD_SKLEARN  # the server's own environment has another one
    # an environment with the older scikit-learn, made by mlserve itself
    versions = _versions_model(
        tmp_path / "versions", ["cloudpickle", "pandas", f"scikit-learn=={OLD_SKLEARN}"]
    )
    prepare = _prepare(env_cache, versions, "uv")
    out, err = prepare.communicate(timeout=900)
    assert prepare.returncode == 0, err
    env_dir = Path(out.strip())
    assert (env_dir / ".mlserve-env.json").is_file()
    assert "environment built (uv)" in err

    # the seed model, fitted and saved there: its requirements pin the older scikit-learn
    saved = subprocess.run(
        [str(env_dir / "bin" / "python"), "-c", SAVE_SEED_MODEL, str(tmp_path / "rf-old"),
         json.dumps(SEED_ROWS)],
        capture_output=True, text=True, check=False, cwd=tmp_path, env=server_env(),
    )  # fmt: skip
    assert saved.returncode == 0, saved.stderr
    expected = json.loads(saved.stdout)
    requirements = (tmp_path / "rf-old" / "requirements.txt").read_text().split()
    assert f"scikit-learn=={OLD_SKLEARN}" in requirements
    # MLflow loads it natively, so it does not list mlserve-core (not on the public index);
    # the environment below still gets it (every environment does: the server runs there)
    assert not [line for line in requirements if line.startswith("mlserve")]

    # `mlserve serve --env-manager uv`: built from those requirements, served over HTTP
    with start_server(
        tmp_path / "logs",
        "-m", str(tmp_path / "rf-old"), "--env-manager", "uv",
        command=cli_command("serve"), env=_environ(env_cache),
    ) as server:  # fmt: skip
        answer = requests.post(server.url + "/invocations", json=SEED_BODY, timeout=30)
        assert answer.status_code == 200, answer.text
        assert answer.json() == {"predictions": expected}
        # the server process (same PID, re-executed) runs the environment's Python
        interpreter = Path(f"/proc/{server.pid}/cmdline").read_bytes().split(b"\0")[0].decode()
        served_env = Path(interpreter).parent.parent
        assert served_env.parent == _envs(env_cache)
        assert served_env != env_dir  # its own requirements: its own environment
        probe = subprocess.run(
            [interpreter, "-c", "import sklearn; print(sklearn.__version__)"],
            capture_output=True, text=True, check=True,
        )  # fmt: skip
        assert probe.stdout.strip() == OLD_SKLEARN
        assert "Serving the model in its own environment (built, uv)" in server.log()

    # asked from inside a served model: the version it sees is the older one
    with start_server(
        tmp_path / "logs", "-m", str(versions), "--env-manager", "uv", env=_environ(env_cache)
    ) as server:
        assert _ask_versions(server.url, "scikit-learn", "mlserve-core") == [
            OLD_SKLEARN,
            mlserve.__version__,
        ]
        assert "(cached, uv)" in server.log()

    # mlserve predict --env-manager uv scores in the same environment
    body = json.dumps({"dataframe_split": {"columns": ["package"], "data": [["scikit-learn"]]}})
    predicted = subprocess.run(
        cli_command("predict", "-m", str(versions), "--env-manager", "uv"),
        input=body, capture_output=True, text=True, env=_environ(env_cache), check=False,
    )  # fmt: skip
    assert predicted.returncode == 0, predicted.stderr
    assert json.loads(predicted.stdout) == {"predictions": [OLD_SKLEARN]}


def test_concurrent_prepares_build_once_and_share_it(
    uv_available: None, env_cache: Path, tmp_path: Path
) -> None:
    model = _versions_model(tmp_path / "m", ["cloudpickle", "pandas"])
    first, second = (_prepare(env_cache, model, "uv") for _ in range(2))
    outputs = [p.communicate(timeout=900) for p in (first, second)]
    assert [p.returncode for p in (first, second)] == [0, 0], outputs
    paths = {out.strip() for out, _ in outputs}
    assert len(paths) == 1
    errs = [err for _, err in outputs]
    assert sum("environment built (uv)" in e for e in errs) == 1, errs
    assert sum("environment already built" in e for e in errs) == 1, errs
    assert any("Another process is building this environment" in e for e in errs), errs
    assert not list(_envs(env_cache).glob(".tmp-*"))
    python = Path(paths.pop()) / "bin" / "python"
    done = subprocess.run(
        [str(python), "-c", "import mlserve, pandas, werkzeug, gunicorn; print(mlserve.__file__)"],
        capture_output=True, text=True, check=True,
    )  # fmt: skip
    assert done.stdout.startswith(str(python.parent.parent))


def test_a_build_killed_midway_is_never_reused(env_cache: Path, tmp_path: Path) -> None:
    model = _versions_model(tmp_path / "m", ["cloudpickle", "pandas", "pyyaml"])
    builder = _prepare(env_cache, model, "virtualenv", start_new_session=True)
    deadline = time.monotonic() + 300
    staging = None
    while time.monotonic() < deadline and builder.poll() is None:
        # killed once pip is installing the requirements into the staging directory
        found = list(_envs(env_cache).glob(".tmp-*/mlserve-requirements.txt"))
        if found:
            staging = found[0].parent
            break
        time.sleep(0.05)
    assert staging is not None, builder.communicate()
    os.killpg(builder.pid, signal.SIGKILL)
    builder.communicate(timeout=30)  # also closes its pipes
    key = staging.name.split("-")[1]
    assert staging.is_dir()  # what a killed build leaves behind...
    assert not (_envs(env_cache) / key).exists()  # ...is never in place

    again = _prepare(env_cache, model, "virtualenv")
    out, err = again.communicate(timeout=900)
    assert again.returncode == 0, err
    assert "environment built (virtualenv)" in err  # built afresh, not reused
    assert "left incomplete by an interrupted build" in err
    assert Path(out.strip()) == _envs(env_cache) / key
    assert not staging.exists()
    assert (_envs(env_cache) / key / ".mlserve-env.json").is_file()


def test_requirements_that_do_not_resolve_fail_before_any_port_opens(
    uv_available: None, env_cache: Path, tmp_path: Path
) -> None:
    model = _versions_model(tmp_path / "m", ["cloudpickle", "pandas==0.0.1"])
    before = set(_envs(env_cache).iterdir()) if _envs(env_cache).exists() else set()
    done = subprocess.run(
        cli_command("serve", "-m", str(model), "--env-manager", "uv", "-p", "0"),
        capture_output=True, text=True, env=_environ(env_cache), timeout=600, check=False,
    )  # fmt: skip
    assert done.returncode == 1
    assert "building the model's environment failed" in done.stderr
    assert "pandas==0.0.1" in done.stderr  # the resolver's own words
    assert "Listening at" not in done.stderr + done.stdout
    assert "Traceback" not in done.stderr
    after = set(_envs(env_cache).iterdir())
    assert {p for p in after - before if not p.name.endswith(".lock")} == set()


@pytest.mark.parametrize("manager", ["uv", "virtualenv"])
def test_clear_errors_before_anything_is_built(
    manager: str, uv_available: None, env_cache: Path, tmp_path: Path
) -> None:
    model = _versions_model(tmp_path / "m", ["cloudpickle"])
    python_env = model / "python_env.yaml"
    python_env.write_text(python_env.read_text().replace(f"python: {sys.version.split()[0]}",
                                                         "python: 3.99.1"))  # fmt: skip
    done = subprocess.run(
        cli_command("serve", "-m", str(model), "--env-manager", manager),
        capture_output=True, text=True, env=_environ(env_cache), timeout=120, check=False,
    )  # fmt: skip
    assert done.returncode == 1
    assert f"saved with Python 3.99.1, which the {manager} env manager cannot find" in done.stderr

    shutil.rmtree(model)
    model = _versions_model(tmp_path / "m", ["cloudpickle"])
    (model / "requirements.txt").unlink()
    done = subprocess.run(
        cli_command("env", "prepare", "-m", str(model), "--env-manager", manager),
        capture_output=True, text=True, env=_environ(env_cache), timeout=120, check=False,
    )  # fmt: skip
    assert done.returncode == 1
    assert "has no requirements.txt" in done.stderr
    assert "Traceback" not in done.stderr


MLFLOW_SAVE_VERSIONS = """
import sys
import mlflow.pyfunc

{source}

mlflow.pyfunc.save_model(sys.argv[1], python_model=Versions())
"""


def test_a_python_model_mlflow_saved_gets_mlflow_skinny_not_mlflow(
    uv_available: None, env_cache: Path, tmp_path: Path
) -> None:
    # MLflow lists itself (mlflow==3.x) because its server runs in the environment; full
    # MLflow's pins conflict with mlserve's server (gunicorn<27), and the model's pickle only
    # needs MLflow's classes: mlflow-skinny at the same version
    from store.mlflow._mlflow_peer import peer_env, peer_python

    python = peer_python(3)
    source = VERSIONS_SOURCE.replace("import mlserve\n", "").replace(
        "mlserve.PythonModel", "mlflow.pyfunc.PythonModel"
    )
    saved = subprocess.run(
        [str(python), "-c", MLFLOW_SAVE_VERSIONS.format(source=source), str(tmp_path / "m")],
        capture_output=True, text=True, env=peer_env(None), timeout=300, check=False,
    )  # fmt: skip
    assert saved.returncode == 0, saved.stderr[-3000:]
    pinned = (tmp_path / "m" / "requirements.txt").read_text().split()
    [mlflow_line] = [line for line in pinned if line.startswith("mlflow==")]
    with start_server(
        tmp_path / "logs", "-m", str(tmp_path / "m"), "--env-manager", "uv",
        env=_environ(env_cache),
    ) as server:  # fmt: skip
        assert _ask_versions(server.url, "mlflow-skinny", "mlflow", "mlserve-core") == [
            mlflow_line.split("==")[1],
            "missing",
            mlserve.__version__,
        ]
        assert f"Installing mlflow-skinny=={mlflow_line.split('==')[1]}" in server.log()


SAVE_NATIVE_MODEL = """
import sys
import mlserve
from mlserve_native_flavor import NativeConstant

mlserve.save_model(NativeConstant(1.5), sys.argv[1])
"""


def test_a_plugin_model_gets_its_plugin_from_its_flavors(
    uv_available: None, env_cache: Path, tmp_path: Path
) -> None:
    # a plugin whose models MLflow loads natively: requirements.txt does not name it, and the
    # environment gets it (a wheel of this installation) because MLmodel's flavors: does
    plugin_site = tmp_path / "plugin-site"
    name = pip_install_distribution(DATA / "dist_native_flavor", plugin_site, tmp_path)
    environ = _environ(env_cache)
    environ["PYTHONPATH"] = f"{plugin_site}{os.pathsep}{environ['PYTHONPATH']}"
    saved = subprocess.run(
        [sys.executable, "-c", SAVE_NATIVE_MODEL, str(tmp_path / "m")],
        capture_output=True, text=True, env=environ, timeout=120, check=False,
    )  # fmt: skip
    assert saved.returncode == 0, saved.stderr
    assert "mlserve" not in (tmp_path / "m" / "requirements.txt").read_text()

    with start_server(
        tmp_path / "logs", "-m", str(tmp_path / "m"), "--env-manager", "uv", env=environ
    ) as server:
        body = {"dataframe_split": {"columns": ["x"], "data": [[1.0], [2.0]]}}
        answer = requests.post(server.url + "/invocations", json=body, timeout=30)
        assert answer.status_code == 200, answer.text
        assert answer.json() == {"predictions": [1.5, 1.5]}
        interpreter = Path(f"/proc/{server.pid}/cmdline").read_bytes().split(b"\0")[0].decode()
        assert Path(interpreter).parent.parent.parent == _envs(env_cache)
        # the plugin is installed in the environment itself, not seen through PYTHONPATH
        probe = subprocess.run(
            [interpreter, "-I", "-c",
             f"import importlib.metadata as m; print(m.version({name!r}))"],
            capture_output=True, text=True, timeout=60, check=False,
        )  # fmt: skip
        assert probe.stdout.strip() == "0.4.0", probe.stderr
