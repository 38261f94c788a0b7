"""What defines a model's environment, read from its directory: the Python version it was saved
with (``python_env.yaml``, else MLmodel's ``python_version``) and its ``requirements.txt``, with
the lines naming mlserve's own distributions set apart (they come from wheels of this
installation, never from an index: :mod:`mlserve.env.wheels`).

``mlserve.environment`` writes these files when a model is saved; this module only reads them.
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass
from pathlib import Path

import yaml

from mlserve._distribution import DISTRIBUTION
from mlserve.env._errors import MissingRequirements
from mlserve.env.wheels import canonical_name, local_distributions
from mlserve.environment import PYTHON_ENV_FILENAME, REQUIREMENTS_FILENAME
from mlserve.errors import MalformedModel

__all__ = ["EnvSpec", "read_spec"]

_log = logging.getLogger(__name__)

# a requirement's name and extras: "scikit-learn[alldeps] >= 1.0 ; ..." -> scikit-learn, alldeps
_NAME = re.compile(r"^([A-Za-z0-9][A-Za-z0-9._-]*)\s*(?:\[([^\]]*)\])?")
# options naming another file, resolved against the model directory
_FILE_OPTIONS = ("-r", "--requirement", "-c", "--constraint")
#: the extra every environment gets: the server runs inside it
SERVER_EXTRA = "server"


@dataclass(frozen=True)
class EnvSpec:
    """A model's environment as its files describe it.

    ``python`` is the version it was saved with (``3.11.7``; empty when no file says);
    ``requirements`` the other lines of ``requirements.txt`` in order (``-r``/``-c`` paths made
    absolute); ``local`` the mlserve distributions it needs as ``(name, extras)``, always
    ``mlserve-core`` with the ``server`` extra first; ``included`` the text of files that
    ``-r``/``-c`` lines name, so an edit to them changes the environment's hash.
    """

    model_dir: Path
    python: str
    requirements: tuple[str, ...]
    local: tuple[tuple[str, tuple[str, ...]], ...]
    included: tuple[str, ...] = ()


def _python(model_dir: Path) -> str:
    for name, key in ((PYTHON_ENV_FILENAME, "python"), ("MLmodel", None)):
        path = model_dir / name
        if not path.is_file():
            continue
        try:
            data = yaml.safe_load(path.read_text(encoding="utf-8"))
        except (OSError, yaml.YAMLError) as exc:
            raise MalformedModel(str(path), f"cannot read it: {exc}") from exc
        if not isinstance(data, dict):
            continue
        if key is None:  # MLmodel: flavors.python_function.python_version
            section = (data.get("flavors") or {}).get("python_function") or {}
            value = section.get("python_version") if isinstance(section, dict) else None
        else:
            value = data.get(key)
        if value:
            return str(value).strip()
    return ""


def _lines(path: Path) -> list[str]:
    out = []
    for line in path.read_text(encoding="utf-8").splitlines():
        line = line.split(" #", 1)[0].strip()
        if line and not line.startswith("#"):
            out.append(line)
    return out


def read_spec(model_dir: str | Path) -> EnvSpec:
    """Read the environment of the model in ``model_dir``.

    Raises :class:`~mlserve.env.MissingRequirements` when there is no ``requirements.txt`` and
    :class:`~mlserve.errors.MalformedModel` when ``python_env.yaml`` does not parse. A line
    pinning an mlserve distribution to another version than the installed one is logged: the
    environment gets this installation's version, the only one there is a wheel of.
    """
    directory = Path(model_dir)
    path = directory / REQUIREMENTS_FILENAME
    if not path.is_file():
        raise MissingRequirements(str(directory))
    installed = local_distributions()
    requirements: list[str] = []
    included: list[str] = []
    local: dict[str, set[str]] = {DISTRIBUTION: {SERVER_EXTRA}}
    for line in _lines(path):
        option, _, rest = line.partition(" ")
        if option in _FILE_OPTIONS and rest.strip():
            target = directory / rest.strip()
            if target.is_file():
                included.append(target.read_text(encoding="utf-8"))
            requirements.append(f"{option} {target}")
            continue
        match = _NAME.match(line)
        if line.startswith("-") or match is None:
            requirements.append(line)
            continue
        name = canonical_name(match.group(1))
        if name in installed or name.startswith("mlserve-"):
            extras = {e.strip() for e in (match.group(2) or "").split(",") if e.strip()}
            local.setdefault(name, set()).update(extras)
            _check_version(line, name, installed.get(name))
        else:
            requirements.append(line)
    return EnvSpec(
        directory,
        _python(directory),
        tuple(requirements),
        tuple((name, tuple(sorted(extras))) for name, extras in local.items()),
        tuple(included),
    )


def _check_version(line: str, name: str, installed: str | None) -> None:
    if installed is None:
        return  # build_wheels says it is not installed, with what to do
    try:
        from packaging.requirements import InvalidRequirement, Requirement
    except ImportError:  # packaging is not a dependency: nothing to compare with then
        return
    try:
        wanted = Requirement(line)
    except InvalidRequirement:
        return
    if wanted.specifier and not wanted.specifier.contains(installed, prereleases=True):
        _log.warning(
            "The model asks for %s; the environment gets this installation's %s %s "
            "(mlserve's distributions come from here, never from an index)",
            line,
            name,
            installed,
        )
