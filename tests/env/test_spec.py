"""mlserve.env._spec: what a model directory's files say its environment is."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml
from _flavor_dists import DATA, forget_modules, install_distribution

import mlserve
from mlserve.env import MissingRequirements, read_spec
from mlserve.env._spec import mirrored_extras, with_extras


def _model(
    path: Path, requirements: str, *, python: str | None = "3.11.7", loader: str = "mlflow.sklearn"
) -> Path:
    path.mkdir()
    mlmodel = {
        "flavors": {"python_function": {"loader_module": loader, "python_version": "3.10.2"}}
    }
    (path / "MLmodel").write_text(yaml.safe_dump(mlmodel))
    (path / "requirements.txt").write_text(requirements)
    if python is not None:
        (path / "python_env.yaml").write_text(yaml.safe_dump({"python": python}))
    return path


def test_mlserve_lines_become_local_distributions_with_their_extras(tmp_path: Path) -> None:
    spec = read_spec(
        _model(
            tmp_path / "m",
            "# saved by mlserve\nmlserve-core[fast]==0.1.0\nscikit-learn==1.5.2  # pinned\n"
            "Mlserve_LightGBM>=0.1\n\n--index-url https://example.invalid/simple\n",
        )
    )
    assert spec.python == "3.11.7"
    assert spec.requirements == (
        "scikit-learn==1.5.2",
        "--index-url https://example.invalid/simple",
    )
    assert dict(spec.local) == {"mlserve-core": ("fast", "server"), "mlserve-lightgbm": ()}


def test_mlflow_is_left_out_or_made_skinny(tmp_path: Path) -> None:
    sklearn = read_spec(_model(tmp_path / "a", "mlflow==3.17.2\ncloudpickle==3.1.3\n"))
    assert sklearn.requirements == ("cloudpickle==3.1.3",)
    python_model = read_spec(
        _model(tmp_path / "b", "mlflow==3.17.2\ncloudpickle\n", loader="mlflow.pyfunc.model")
    )
    assert python_model.requirements == ("mlflow-skinny==3.17.2", "cloudpickle")


def test_included_files_are_absolute_and_hashed_by_content(tmp_path: Path) -> None:
    model = _model(tmp_path / "m", "-r extra.txt\n-c constraints.txt\n")
    (model / "extra.txt").write_text("pandas\n")
    spec = read_spec(model)
    assert spec.requirements == (f"-r {model / 'extra.txt'}", f"-c {model / 'constraints.txt'}")
    assert spec.included == ("pandas\n",)


def test_the_python_version_falls_back_to_mlmodel(tmp_path: Path) -> None:
    assert read_spec(_model(tmp_path / "m", "pandas\n", python=None)).python == "3.10.2"


def test_no_requirements_is_a_clear_error(tmp_path: Path) -> None:
    model = _model(tmp_path / "m", "pandas\n")
    (model / "requirements.txt").unlink()
    with pytest.raises(MissingRequirements, match=r"has no requirements\.txt"):
        read_spec(model)


def test_mirrored_extras_follow_what_is_installed_here(tmp_path: Path) -> None:
    requires = [
        'pyyaml>=6; extra == "fast"',  # installed here
        'mlserve-no-such-dist>=1; extra == "metrics"',
        "pandas>=1.5",
    ]
    assert mirrored_extras(requires) == ["fast"]
    spec = with_extras(read_spec(_model(tmp_path / "m", "pandas\n")), "mlserve-core", ["fast"])
    assert dict(spec.local)["mlserve-core"] == ("fast", "server")


@pytest.fixture
def plugins(site: Path):
    """A plugin whose models MLflow loads natively (flavor ``catboost``, requirements.txt
    without it) and one whose flavors are broken here, installed on sys.path."""
    install_distribution(DATA / "dist_native_flavor", site)
    install_distribution(DATA / "dist_broken_flavor", site)
    yield site
    forget_modules("mlserve_native_flavor")


def test_the_distribution_of_each_flavor_comes_from_mlmodel(plugins: Path, tmp_path: Path) -> None:
    from mlserve_native_flavor import NativeConstant

    mlserve.save_model(NativeConstant(1.0), tmp_path / "new")
    assert "mlserve" not in (tmp_path / "new" / "requirements.txt").read_text()
    spec = read_spec(tmp_path / "new")
    assert dict(spec.local) == {"mlserve-core": ("server",), "mlserve-native-flavor": ()}
    assert [r.split("==")[0] for r in spec.requirements] == ["numpy"]

    # a model saved when requirements.txt still listed the plugin: the same environment
    old = tmp_path / "old"
    mlserve.save_model(NativeConstant(1.0), old)
    (old / "requirements.txt").write_text("mlserve-core==0.1.0\nmlserve-native-flavor==0.4.0\n")
    assert read_spec(old).local == spec.local


def test_a_broken_flavor_still_names_its_distribution(plugins: Path, tmp_path: Path) -> None:
    # broken here (its module is missing here), maybe not in the environment the model's
    # requirements build: the environment gets the plugin, loading there says what is wrong
    model = _model(tmp_path / "m", "pandas\n")
    mlmodel = yaml.safe_load((model / "MLmodel").read_text())
    mlmodel["flavors"]["needs_missing_module"] = {}
    (model / "MLmodel").write_text(yaml.safe_dump(mlmodel))
    assert dict(read_spec(model).local) == {
        "mlserve-core": ("server",),
        "mlserve-broken-flavor": (),
    }


def test_a_flavor_nothing_here_registers_adds_nothing(plugins: Path, tmp_path: Path) -> None:
    model = _model(tmp_path / "m", "pandas\n")
    mlmodel = yaml.safe_load((model / "MLmodel").read_text())
    mlmodel["flavors"]["h2o"] = {}
    # "constant" is claimed by two distributions here: no guess between them
    mlmodel["flavors"]["constant"] = {}
    (model / "MLmodel").write_text(yaml.safe_dump(mlmodel))
    install_distribution(DATA / "dist_fake_flavor", plugins)
    from mlserve._flavor import reset_registry

    reset_registry()
    assert dict(read_spec(model).local) == {"mlserve-core": ("server",)}
