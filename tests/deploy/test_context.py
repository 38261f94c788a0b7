"""``write_build_context`` / ``mlserve generate-dockerfile``: the build context is complete,
resolved on the host, and never half-written."""

from __future__ import annotations

import stat
from importlib.metadata import version
from pathlib import Path

import pytest
from _flavor_dists import DATA, forget_modules, pip_install_distribution

import mlserve
from mlserve.cli import main
from mlserve.deploy import (
    NoRequirements,
    OutputExists,
    RequirementsUnresolvable,
    render_dockerfile,
    write_build_context,
)
from mlserve.env import WheelBuildFailed
from mlserve.errors import ResourceNotFound


def _leftovers(parent: Path) -> list[Path]:
    return sorted(parent.glob(".*.tmp-*"))


def test_the_context_is_complete(tmp_path: Path, saved_seed: Path) -> None:
    out = tmp_path / "ctx"
    context = write_build_context(saved_seed, out, base_image="localhost/debian-python")
    assert context.directory == out
    assert sorted(p.name for p in out.iterdir()) == [
        "Dockerfile",
        "model",
        "requirements.txt",
        "wheels",
    ]
    assert _leftovers(tmp_path) == []

    # the model, byte for byte, readable by the image's unprivileged user
    for source in saved_seed.rglob("*"):
        copy = out / "model" / source.relative_to(saved_seed)
        if source.is_file():
            assert copy.read_bytes() == source.read_bytes()
            assert stat.S_IMODE(copy.stat().st_mode) & 0o444 == 0o444
    assert stat.S_IMODE((out / "model").stat().st_mode) == 0o755

    # every wheel is pinned, mlserve-core at the installed version with the server's extras
    wheels = {
        p.name.split("-")[0].lower().replace("_", "-") for p in (out / "wheels").glob("*.whl")
    }
    pins = (out / "requirements.txt").read_text().split()
    assert pins == list(context.requirements)
    assert {p.split("==")[0].split("[")[0] for p in pins} == wheels
    assert f"mlserve-core[server,metrics]=={version('mlserve-core')}" in pins
    for needed in ("scikit-learn", "numpy", "pandas", "werkzeug", "gunicorn", "prometheus-client"):
        assert needed in wheels, needed
    assert f"scikit-learn=={version('scikit-learn')}" in pins
    assert not list((out / "wheels").glob("*.tar.gz")), "sdists are built into wheels on the host"

    dockerfile = (out / "Dockerfile").read_text()
    assert "ARG BASE_IMAGE=localhost/debian-python" in dockerfile
    assert "pip install --no-index" in dockerfile
    # a base image with another Python fails first, saying so (the wheels are for this one)
    assert "this context needs 3." in dockerfile
    assert "COPY model /opt/ml/model" in dockerfile
    assert "USER 10001:10001" in dockerfile
    assert 'ENTRYPOINT ["python", "-m", "mlserve.server"]' in dockerfile
    assert "HEALTHCHECK" in dockerfile and "curl" not in dockerfile
    assert "apt-get" not in dockerfile and "gcc" not in dockerfile


def test_mount_model_leaves_the_model_out() -> None:
    dockerfile = render_dockerfile("python:3.11-slim", mount_model=True)
    assert "COPY model" not in dockerfile
    assert "MLSERVE_MODEL_URI=/opt/ml/model" in dockerfile
    # the final stage starts from the base again: the wheels stay in the build stage
    final = dockerfile.split("FROM ${BASE_IMAGE}\n", 1)[1]
    assert "wheels" not in final


def test_no_requirements(tmp_path: Path, saved_seed: Path) -> None:
    (saved_seed / "requirements.txt").unlink()
    with pytest.raises(NoRequirements, match=r"no requirements\.txt"):
        write_build_context(saved_seed, tmp_path / "ctx")
    assert not (tmp_path / "ctx").exists()
    assert _leftovers(tmp_path) == []


def test_requirements_that_do_not_resolve(tmp_path: Path, saved_seed: Path) -> None:
    requirements = saved_seed / "requirements.txt"
    requirements.write_text(requirements.read_text() + "no-such-distribution-for-tests==1.0\n")
    with pytest.raises(RequirementsUnresolvable) as caught:
        write_build_context(saved_seed, tmp_path / "ctx")
    # pip's own verdict reaches the user
    assert "no-such-distribution-for-tests" in str(caught.value)
    assert "No matching distribution" in caught.value.output
    assert not (tmp_path / "ctx").exists()
    assert _leftovers(tmp_path) == []


def test_an_existing_directory_is_not_overwritten(tmp_path: Path, saved_seed: Path) -> None:
    out = tmp_path / "ctx"
    out.mkdir()
    (out / "Dockerfile").write_text("mine")
    with pytest.raises(OutputExists):
        write_build_context(saved_seed, out)
    assert (out / "Dockerfile").read_text() == "mine"


def test_a_missing_model(tmp_path: Path) -> None:
    with pytest.raises(ResourceNotFound):
        write_build_context(tmp_path / "nothing", tmp_path / "ctx")
    assert not (tmp_path / "ctx").exists()


def test_generate_dockerfile_cli(
    tmp_path: Path, saved_seed: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    saved_seed.joinpath("requirements.txt").unlink()
    code = main(["generate-dockerfile", "-m", str(saved_seed), "-d", str(tmp_path / "ctx")])
    err = capsys.readouterr().err
    assert code == 1
    assert err.startswith("mlserve: error: ") and "no requirements.txt" in err
    assert "Traceback" not in err


def test_an_mlflow_written_model_gets_no_mlflow_in_its_image(tmp_path: Path) -> None:
    # MLflow writes mlflow==X into requirements.txt; MLflow's server pins gunicorn<27, which
    # cannot be installed beside ours: the image, like a per-model environment, leaves it out
    model = Path(__file__).parents[1] / "data" / "mlflow_models" / "sklearn_skops"
    assert "mlflow==" in (model / "requirements.txt").read_text()
    context = write_build_context(model, tmp_path / "ctx", base_image="localhost/debian-python")
    names = {pin.split("==")[0].split("[")[0] for pin in context.requirements}
    assert "mlflow" not in names and "mlflow-skinny" not in names
    assert {"skops", "scikit-learn", "mlserve-core", "gunicorn"} <= names


def test_a_plugin_that_is_not_installed_is_never_fetched_by_name(
    tmp_path: Path, saved_seed: Path
) -> None:
    requirements = saved_seed / "requirements.txt"
    requirements.write_text(requirements.read_text() + "mlserve-not-installed-plugin==1.0\n")
    with pytest.raises(WheelBuildFailed, match="mlserve-not-installed-plugin: it is not installed"):
        write_build_context(saved_seed, tmp_path / "ctx")
    assert not (tmp_path / "ctx").exists() and _leftovers(tmp_path) == []


def test_a_plugin_model_gets_its_plugin_from_its_flavors(site: Path, tmp_path: Path) -> None:
    # MLflow loads such a model natively, so requirements.txt does not name the plugin (it is
    # not on the public index); the image gets it, from this installation, by MLmodel's flavors
    name = pip_install_distribution(DATA / "dist_native_flavor", site, tmp_path)
    try:
        from mlserve_native_flavor import NativeConstant

        mlserve.save_model(NativeConstant(1.5), tmp_path / "m")
        assert "mlserve" not in (tmp_path / "m" / "requirements.txt").read_text()
        context = write_build_context(
            tmp_path / "m", tmp_path / "ctx", base_image="localhost/debian-python"
        )
    finally:
        forget_modules("mlserve_native_flavor")
    assert f"{name}==0.4.0" in context.requirements
    assert list((tmp_path / "ctx" / "wheels").glob("mlserve_native_flavor-0.4.0-*.whl"))
