"""What defines a model's environment, read from its directory: the Python version it was saved
with (``python_env.yaml``, else MLmodel's ``python_version``) and its ``requirements.txt``, with
the lines naming mlserve's own distributions set apart (they come from wheels of this
installation, never from an index: :mod:`mlserve.env._wheels`).

mlserve's distributions an environment gets are mlserve-core, those ``requirements.txt`` names
(earlier mlserve listed them for every model; a custom PythonModel still lists mlserve-core) and,
for each key under MLmodel's ``flavors:``, the installed distribution registering that flavor:
a model MLflow loads natively lists only its framework's requirements, so the plugin that
serves it here is known from its flavors alone.

``mlserve._environment`` writes these files when a model is saved; this module only reads them.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterable
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import yaml

from mlserve._distribution import DISTRIBUTION
from mlserve._environment import PYTHON_ENV_FILENAME, REQUIREMENTS_FILENAME
from mlserve._flavor import list_flavors
from mlserve.env._errors import MissingRequirements
from mlserve.env._wheels import canonical_name, local_distributions
from mlserve.errors import MalformedModel

__all__ = [
    "MIRRORED_EXTRAS",
    "SERVER_EXTRA",
    "EnvSpec",
    "mirrored_extras",
    "read_spec",
    "requested_extras",
    "with_extras",
]

_log = logging.getLogger(__name__)

# a requirement's name and extras: "scikit-learn[alldeps] >= 1.0 ; ..." -> scikit-learn, alldeps
_NAME = re.compile(r"^([A-Za-z0-9][A-Za-z0-9._-]*)\s*(?:\[([^\]]*)\])?")
# options naming another file, resolved against the model directory
_FILE_OPTIONS = ("-r", "--requirement", "-c", "--constraint")
#: the extra every environment gets: the server runs inside it
SERVER_EXTRA = "server"
#: extras an environment gets when they are installed here: they change what the server does
#: (JSON speed, GET /metrics); others (columnar, skops, scan) only when asked for
MIRRORED_EXTRAS = ("fast", "metrics")
_EXTRAS_ENV = "MLSERVE_ENV_EXTRAS"
# the loader_module of MLflow's custom PythonModel (a pickle of a subclass of MLflow's class)
_MLFLOW_PYTHON_MODEL = "mlflow.pyfunc.model"


@dataclass(frozen=True)
class EnvSpec:
    """A model's environment as its files describe it.

    ``python`` is the version it was saved with (``3.11.7``; empty when no file says);
    ``requirements`` the other lines of ``requirements.txt`` in order (``-r``/``-c`` paths made
    absolute); ``local`` the mlserve distributions it needs as ``(name, extras)``, always
    ``mlserve-core`` with the ``server`` extra first, then those registering its flavors, then
    those its requirements name; ``included`` the text of files that
    ``-r``/``-c`` lines name, so an edit to them changes the environment's hash. mlserve-core's
    extras are :func:`requested_extras`'s (and :func:`mirrored_extras`, added once its wheel is
    known).
    """

    model_dir: Path
    python: str
    requirements: tuple[str, ...]
    local: tuple[tuple[str, tuple[str, ...]], ...]
    included: tuple[str, ...] = ()


def _yaml(path: Path) -> dict[str, Any]:
    if not path.is_file():
        return {}
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as exc:
        raise MalformedModel(str(path), f"cannot read it: {exc}") from exc
    return data if isinstance(data, dict) else {}


def _flavors(model_dir: Path) -> dict[str, Any]:
    flavors = _yaml(model_dir / "MLmodel").get("flavors")
    return flavors if isinstance(flavors, dict) else {}


def _pyfunc_section(flavors: dict[str, Any]) -> dict[str, Any]:
    section = flavors.get("python_function")
    return section if isinstance(section, dict) else {}


def _flavor_distributions(names: Iterable[str]) -> list[str]:
    """The installed distributions registering the flavors ``names``, canonical names. A flavor
    that is broken here still counts (its framework may be missing here and listed in the
    model's requirements); one no distribution registers, or two claim, adds nothing (loading
    then says so, by name)."""
    by_flavor: dict[str, set[str]] = {}
    for info in list_flavors():
        if info.distribution != "<unknown>":  # an entry point without distribution metadata
            by_flavor.setdefault(info.name, set()).add(canonical_name(info.distribution))
    out = []
    for name in names:
        dists = by_flavor.get(str(name), set())
        if len(dists) == 1:
            out.append(next(iter(dists)))
    return out


def _python(model_dir: Path, pyfunc: dict[str, Any]) -> str:
    value = _yaml(model_dir / PYTHON_ENV_FILENAME).get("python") or pyfunc.get("python_version")
    return str(value).strip() if value else ""


def _mlflow_line(line: str, pyfunc: dict[str, Any]) -> str | None:
    """What becomes of a model's ``mlflow`` requirement: MLflow lists itself because its server
    runs in the environment; here mlserve is the server, and full MLflow's own pins (gunicorn<27
    in 3.17) even conflict with it. A custom PythonModel's pickle still refers to MLflow's
    classes, which ``mlflow-skinny`` (same version, no server) provides; any other model needs
    nothing from MLflow."""
    if pyfunc.get("loader_module") != _MLFLOW_PYTHON_MODEL:
        _log.info("Leaving out %s: mlserve serves the model without MLflow", line)
        return None
    skinny = "mlflow-skinny" + line[len("mlflow") :]
    _log.info("Installing %s for %s: the model's pickle refers to MLflow's classes", skinny, line)
    return skinny


def _lines(path: Path) -> list[str]:
    out = []
    for line in path.read_text(encoding="utf-8").splitlines():
        line = line.split(" #", 1)[0].strip()
        if line and not line.startswith("#"):
            out.append(line)
    return out


def requested_extras(requested: Iterable[str] = ()) -> list[str]:
    """The extras of ``mlserve-core`` an environment is asked for: ``server`` (the server runs
    there), ``requested``, and the comma-separated ``$MLSERVE_ENV_EXTRAS``."""
    import os

    out = [SERVER_EXTRA, *requested]
    out += [e.strip() for e in os.environ.get(_EXTRAS_ENV, "").split(",") if e.strip()]
    return sorted(set(out))


def mirrored_extras(requires_dist: Iterable[str]) -> list[str]:
    """Of :data:`MIRRORED_EXTRAS`, those whose every distribution is installed here, read from
    the ``Requires-Dist`` lines of the mlserve-core the environment gets (its wheel's)."""
    from importlib.metadata import PackageNotFoundError, distribution

    lines = list(requires_dist)
    out = []
    for extra in MIRRORED_EXTRAS:
        marker = re.compile(r"""extra\s*==\s*["']""" + re.escape(extra) + r"""["']""")
        names = [m.group(1) for m in (_NAME.match(x) for x in lines if marker.search(x)) if m]
        try:
            for name in names:
                distribution(name)
        except PackageNotFoundError:
            continue
        if names:
            out.append(extra)
    return out


def with_extras(spec: EnvSpec, name: str, extras: Iterable[str]) -> EnvSpec:
    """``spec`` with ``extras`` added to the local distribution ``name``'s."""
    local = tuple(
        (n, tuple(sorted({*have, *extras})) if n == name else have) for n, have in spec.local
    )
    return replace(spec, local=local)


def read_spec(model_dir: str | Path, extras: Iterable[str] = ()) -> EnvSpec:
    """Read the environment of the model in ``model_dir``; ``extras`` are mlserve-core extras
    it gets beyond :func:`requested_extras`'s.

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
    flavors = _flavors(directory)
    pyfunc = _pyfunc_section(flavors)
    requirements: list[str] = []
    included: list[str] = []
    local: dict[str, set[str]] = {DISTRIBUTION: set(requested_extras(extras))}
    for name in _flavor_distributions(flavors):
        local.setdefault(name, set())
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
        if name == "mlflow" and not match.group(2):
            replacement = _mlflow_line(line, pyfunc)
            if replacement is not None:
                requirements.append(replacement)
        elif name in installed or name.startswith("mlserve-"):
            extras = {e.strip() for e in (match.group(2) or "").split(",") if e.strip()}
            local.setdefault(name, set()).update(extras)
            _check_version(line, name, installed.get(name))
        else:
            requirements.append(line)
    return EnvSpec(
        directory,
        _python(directory, pyfunc),
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
