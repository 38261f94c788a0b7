"""requirements.txt, python_env.yaml and conda.yaml with versions pinned from what is installed."""

from __future__ import annotations

from importlib.metadata import version
from pathlib import Path

import pytest
import yaml

from mlserve._environment import pin, python_version, resolve_requirements, write_environment
from mlserve.errors import InvalidParameterValue


@pytest.mark.parametrize(
    ("requirement", "expected"),
    [
        ("numpy", f"numpy=={version('numpy')}"),
        ("PyYAML", f"PyYAML=={version('pyyaml')}"),
        ("numpy>=1.0", "numpy>=1.0"),
        ("mlserve-no-such-distribution", "mlserve-no-such-distribution"),
        ("-r other.txt", "-r other.txt"),
        ("git+https://example.invalid/x.git", "git+https://example.invalid/x.git"),
    ],
    ids=["installed", "case", "specifier", "not-installed", "option", "url"],
)
def test_pin(requirement: str, expected: str) -> None:
    assert pin(requirement) == expected


def test_pin_drops_a_local_version_label(monkeypatch: pytest.MonkeyPatch) -> None:
    # the index has no "+cpu" builds: torch==2.13.0+cpu in requirements.txt cannot install
    monkeypatch.setattr("mlserve._environment.version", lambda name: "2.13.0+cpu")
    assert pin("torch") == "torch==2.13.0"
    assert pin("torch[opt]") == "torch[opt]==2.13.0"


def test_inferred_requirements_are_pinned_and_deduplicated() -> None:
    assert resolve_requirements(["numpy", "pandas", "numpy"]) == [
        f"numpy=={version('numpy')}",
        f"pandas=={version('pandas')}",
    ]


def test_pip_requirements_replace_and_extras_add(tmp_path: Path) -> None:
    assert resolve_requirements(["numpy"], pip_requirements=["torch==2.0"]) == ["torch==2.0"]
    extra = resolve_requirements(["numpy", "pandas"], extra_pip_requirements=["numpy<3", "boto3"])
    assert extra == [f"pandas=={version('pandas')}", "numpy<3", "boto3"]
    req_file = tmp_path / "reqs.txt"
    req_file.write_text("# pinned by hand\nscipy==1.0  # why\n\nrequests\n")
    assert resolve_requirements([], pip_requirements=req_file) == ["scipy==1.0", "requests"]


def test_both_kinds_at_once_is_an_error() -> None:
    with pytest.raises(InvalidParameterValue, match="only one of"):
        resolve_requirements([], pip_requirements=["a"], extra_pip_requirements=["b"])


def test_unreadable_requirements_file(tmp_path: Path) -> None:
    with pytest.raises(InvalidParameterValue, match="cannot read requirements file"):
        resolve_requirements([], pip_requirements=tmp_path / "missing.txt")


def test_written_files_have_mlflow_formats(tmp_path: Path) -> None:
    write_environment(tmp_path, ["numpy==2.0", "pandas==2.2"])
    assert (tmp_path / "requirements.txt").read_text() == "numpy==2.0\npandas==2.2\n"
    env = yaml.safe_load((tmp_path / "python_env.yaml").read_text())
    assert env["python"] == python_version()
    assert env["dependencies"] == ["-r requirements.txt"]
    assert f"pip=={version('pip')}" in env["build_dependencies"]
    conda = yaml.safe_load((tmp_path / "conda.yaml").read_text())
    assert conda["dependencies"][0] == f"python={python_version()}"
    assert {"pip": ["numpy==2.0", "pandas==2.2"]} in conda["dependencies"]
