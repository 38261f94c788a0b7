"""The environment files of a model directory: ``requirements.txt``, ``python_env.yaml`` and
``conda.yaml``, in MLflow's formats, with versions pinned from what is installed.
"""

from __future__ import annotations

import os
import platform
import re
from collections.abc import Iterable, Sequence
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path

import yaml

from mlserve.errors import InvalidParameterValue

__all__ = [
    "CONDA_ENV_FILENAME",
    "PYTHON_ENV_FILENAME",
    "REQUIREMENTS_FILENAME",
    "distribution_key",
    "env_section",
    "pin",
    "python_version",
    "resolve_requirements",
    "write_environment",
]

REQUIREMENTS_FILENAME = "requirements.txt"
PYTHON_ENV_FILENAME = "python_env.yaml"
CONDA_ENV_FILENAME = "conda.yaml"

# a bare distribution name: what pin() may add a version to
_BARE_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]*(\[[A-Za-z0-9,._-]+\])?$")
_BUILD_TOOLS = ("pip", "setuptools", "wheel")


def python_version() -> str:
    """The running interpreter's version, e.g. ``3.11.7`` (``python_version`` in MLmodel)."""
    return platform.python_version()


def pin(requirement: str) -> str:
    """``scikit-learn`` -> ``scikit-learn==1.9.1`` when installed; anything with a specifier,
    a URL or an option (``-r``, ``git+...``) is returned unchanged, as is a name that is not
    installed.

    A local version label is dropped (``torch`` installed as ``2.13.0+cpu`` pins
    ``torch==2.13.0``): the index has no local versions, so pip could never resolve the label,
    and the public release is the same source the local build was made from (as MLflow pins).
    """
    requirement = requirement.strip()
    if not _BARE_NAME.match(requirement):
        return requirement
    name = requirement.split("[", 1)[0]
    try:
        installed = version(name)
    except PackageNotFoundError:
        return requirement
    return f"{requirement}=={installed.split('+', 1)[0]}"


def _read_requirements(value: str | os.PathLike[str] | Sequence[str]) -> list[str]:
    if isinstance(value, str | os.PathLike):
        path = Path(value)
        try:
            lines = path.read_text(encoding="utf-8").splitlines()
        except OSError as exc:
            raise InvalidParameterValue(f"cannot read requirements file {path}: {exc}") from exc
    else:
        lines = list(value)
    out = []
    for line in lines:
        line = line.split(" #", 1)[0].strip()
        if line and not line.startswith("#"):
            out.append(line)
    return out


def distribution_key(requirement: str) -> str:
    """The distribution a requirement line names, normalized as pip compares names
    (``Scikit_Learn[alldeps]>=1`` -> ``scikit-learn``)."""
    name = re.split(r"[\s\[<>=!~;@]", requirement, maxsplit=1)[0]
    return re.sub(r"[-_.]+", "-", name).lower()


def resolve_requirements(
    inferred: Iterable[str],
    pip_requirements: str | os.PathLike[str] | Sequence[str] | None = None,
    extra_pip_requirements: str | os.PathLike[str] | Sequence[str] | None = None,
) -> list[str]:
    """The model's pip requirements.

    ``pip_requirements`` (a list, or the path of a requirements file) replaces the inferred list;
    otherwise the inferred names are pinned to the installed versions. ``extra_pip_requirements``
    is appended (an entry for a distribution already listed replaces it). Duplicates are dropped,
    first one wins.

    Raises :class:`~mlserve.errors.InvalidParameterValue` when both arguments are given (as
    MLflow does) or a file cannot be read.
    """
    if pip_requirements is not None and extra_pip_requirements is not None:
        raise InvalidParameterValue(
            "pass only one of pip_requirements (replaces the inferred list) and "
            "extra_pip_requirements (adds to it)"
        )
    if pip_requirements is not None:
        base = _read_requirements(pip_requirements)
    else:
        base = [pin(r) for r in inferred]
    extra = _read_requirements(extra_pip_requirements) if extra_pip_requirements else []
    replaced = {distribution_key(r) for r in extra}
    seen: set[str] = set()
    out: list[str] = []
    for req in [*(r for r in base if distribution_key(r) not in replaced), *extra]:
        key = req if req.startswith("-") else distribution_key(req)
        if key not in seen:
            seen.add(key)
            out.append(req)
    return out


def env_section() -> dict[str, str]:
    """The ``env`` entry of the ``python_function`` section, naming the files written here."""
    return {"conda": CONDA_ENV_FILENAME, "virtualenv": PYTHON_ENV_FILENAME}


def write_environment(directory: Path, requirements: Sequence[str]) -> None:
    """Write ``requirements.txt``, ``python_env.yaml`` and ``conda.yaml`` into ``directory``.

    ``python_env.yaml`` names the running Python and the installed pip / setuptools / wheel,
    and points at ``requirements.txt`` (MLflow's ``virtualenv`` environment format).
    """
    directory = Path(directory)
    (directory / REQUIREMENTS_FILENAME).write_text(
        "".join(f"{r}\n" for r in requirements), encoding="utf-8"
    )
    python_env = {
        "python": python_version(),
        "build_dependencies": [pin(tool) for tool in _BUILD_TOOLS],
        "dependencies": [f"-r {REQUIREMENTS_FILENAME}"],
    }
    (directory / PYTHON_ENV_FILENAME).write_text(
        yaml.safe_dump(python_env, default_flow_style=False, sort_keys=False), encoding="utf-8"
    )
    conda = {
        "channels": ["conda-forge"],
        "dependencies": [f"python={python_version()}", "pip", {"pip": list(requirements)}],
        "name": "mlserve-env",
    }
    (directory / CONDA_ENV_FILENAME).write_text(
        yaml.safe_dump(conda, default_flow_style=False, sort_keys=False), encoding="utf-8"
    )
