"""Which of mlserve's own distributions a saved model's ``requirements.txt`` lists.

mlserve-core and the plugins are not on the public index, so a model lists them only when it
cannot be loaded without them (a custom PythonModel, whose pickle refers to mlserve's classes;
a flavor MLflow has no loader for). A model MLflow loads natively lists only its framework's
requirements, and installs from the public index in a fresh virtualenv.
"""

from __future__ import annotations

import os
import pickletools
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from _flavor_dists import DATA, forget_modules, install_distribution

import mlserve
from mlserve import PythonModel
from mlserve.errors import InvalidParameterValue

_PIP_TIMEOUT_S = 300


# compiled as __main__ so cloudpickle stores the class by value, as it does a notebook's
ECHO_SOURCE = """
import mlserve


class Echo(mlserve.PythonModel):
    def predict(self, model_input, params=None):
        return model_input
"""


def _echo() -> PythonModel:
    namespace: dict[str, object] = {"__name__": "__main__"}
    exec(compile(ECHO_SOURCE, "<echo model>", "exec"), namespace)
    return namespace["Echo"]()  # type: ignore[operator,no-any-return]


def _lines(model: Path) -> list[str]:
    return (model / "requirements.txt").read_text().splitlines()


def _ours(lines: list[str]) -> list[str]:
    return [line for line in lines if line.lower().startswith("mlserve")]


@pytest.fixture
def native_site(site: Path):
    """The test distributions on sys.path: one whose models name an MLflow loader module, and
    one whose flavor MLflow has no loader for."""
    install_distribution(DATA / "dist_native_flavor", site)
    install_distribution(DATA / "dist_fake_flavor", site)
    yield site
    forget_modules("mlserve_native_flavor")


def test_a_scikit_learn_model_lists_only_its_framework(seed_model, tmp_path: Path) -> None:
    mlserve.save_model(seed_model, tmp_path / "m")
    lines = _lines(tmp_path / "m")
    assert _ours(lines) == []
    assert [line.split("==")[0] for line in lines] == [
        "scikit-learn", "numpy", "scipy", "cloudpickle", "pandas",
    ]  # fmt: skip
    mlmodel = yaml.safe_load((tmp_path / "m" / "MLmodel").read_text())
    assert mlmodel["flavors"]["python_function"]["loader_module"] == "mlflow.sklearn"
    # conda.yaml's pip list is the same
    conda = yaml.safe_load((tmp_path / "m" / "conda.yaml").read_text())
    assert conda["dependencies"][-1] == {"pip": lines}


def test_a_custom_python_model_keeps_mlserve_core(tmp_path: Path) -> None:
    mlserve.save_model(_echo(), tmp_path / "m")
    assert _ours(_lines(tmp_path / "m")) == [f"mlserve-core=={mlserve.__version__}"]
    # why: its pickle refers to mlserve's module, which only mlserve-core provides
    mlmodel = yaml.safe_load((tmp_path / "m" / "MLmodel").read_text())
    pyfunc = mlmodel["flavors"]["python_function"]
    assert pyfunc["loader_module"] == "mlflow.pyfunc.model"
    pickled = (tmp_path / "m" / pyfunc["python_model"]).read_bytes()
    strings = {arg for _, arg, _ in pickletools.genops(pickled) if isinstance(arg, str)}
    assert "mlserve.python_model" in strings


def test_a_plugin_model_mlflow_loads_natively_lists_no_mlserve_distribution(
    native_site: Path, tmp_path: Path
) -> None:
    from mlserve_native_flavor import NativeConstant

    # the plugin itself names its distribution; the core leaves it out of requirements.txt
    assert "mlserve-native-flavor" in mlserve.get_flavor("catboost").requirements(None)
    saved = mlserve.save_model(NativeConstant(1.5), tmp_path / "m")
    assert saved.flavors["python_function"]["loader_module"] == "mlflow.catboost"
    lines = _lines(tmp_path / "m")
    assert _ours(lines) == []
    assert [line.split("==")[0] for line in lines] == ["numpy"]


def test_a_flavor_mlflow_cannot_load_keeps_mlserve_core(native_site: Path, tmp_path: Path) -> None:
    from mlserve_fake_flavor import ConstantModel

    saved = mlserve.save_model(ConstantModel(2.0), tmp_path / "m")
    assert "python_function" not in saved.flavors
    assert _ours(_lines(tmp_path / "m")) == [f"mlserve-core=={mlserve.__version__}"]


def test_what_the_caller_passes_is_kept(seed_model, tmp_path: Path) -> None:
    mlserve.save_model(seed_model, tmp_path / "a", extra_pip_requirements=["mlserve-core[fast]"])
    assert _ours(_lines(tmp_path / "a")) == ["mlserve-core[fast]"]
    mlserve.save_model(
        seed_model, tmp_path / "b", pip_requirements=["mlserve-core==0.1.0", "scikit-learn"]
    )
    assert _lines(tmp_path / "b") == ["mlserve-core==0.1.0", "scikit-learn"]


def test_both_requirement_arguments_are_refused_before_anything_is_written(
    seed_model, tmp_path: Path
) -> None:
    with pytest.raises(InvalidParameterValue, match="pass only one of pip_requirements"):
        mlserve.save_model(
            seed_model, tmp_path / "m", pip_requirements=["a"], extra_pip_requirements=["b"]
        )
    assert list(tmp_path.iterdir()) == []


@pytest.mark.slow
def test_a_scikit_learn_model_installs_from_the_public_index(seed_model, tmp_path: Path) -> None:
    """pip in a fresh virtualenv, ignoring this machine's pip configuration (local mirrors,
    find-links), resolves the whole requirements.txt from https://pypi.org: what MLflow's
    virtualenv env manager runs. ``--dry-run`` resolves and fetches metadata, installs nothing."""
    mlserve.save_model(seed_model, tmp_path / "m")
    subprocess.run([sys.executable, "-m", "venv", str(tmp_path / "venv")], check=True)
    environ = {k: v for k, v in os.environ.items() if not k.startswith("PIP_")}
    done = subprocess.run(
        [str(tmp_path / "venv" / "bin" / "python"), "-m", "pip", "--isolated", "install",
         "--dry-run", "--quiet", "--disable-pip-version-check",
         "--index-url", "https://pypi.org/simple", "-r", str(tmp_path / "m" / "requirements.txt")],
        capture_output=True, text=True, timeout=_PIP_TIMEOUT_S, env=environ, check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
