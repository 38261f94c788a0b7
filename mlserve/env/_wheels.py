"""Wheels of the running installation's own distributions (``mlserve-core`` and its plugins).

A model needs ``mlserve-core`` and the ``mlserve-<plugin>`` distributions of its flavors (named
in its ``requirements.txt`` only when MLflow could not load it without them: see
:mod:`mlserve.env._spec`), which are not on the public package index (``mlserve`` there is
another project). Environments and images must therefore get them from this installation, at
the installed version, never by name from an index: :func:`build_wheels` makes those wheels.

Where a wheel comes from:

* an install from a source directory (editable or not; ``direct_url.json`` names the directory):
  the files that go into the wheel (the build configuration and the distribution's top-level
  packages) are copied to a scratch directory and built there with ``pip wheel --no-deps``, so
  the source tree is never written to;
* an install from a wheel or an index (no source directory): the installed files, as ``RECORD``
  lists them, are packed back into a wheel.

Wheels are cached under ``$MLSERVE_CACHE_DIR/wheels/<name>-<version>-<hash>/``, keyed by the
installed version and a hash of the source files (or of ``RECORD``), so an edit to an editable
checkout builds a new wheel and an unchanged one is reused. A source tree whose version differs
from the installed one (edited, not reinstalled) is refused rather than shipped under the wrong
version.
"""

from __future__ import annotations

import base64
import contextlib
import errno
import hashlib
import importlib.util
import json
import os
import re
import shutil
import subprocess
import sys
import uuid
import zipfile
from collections.abc import Iterable
from dataclasses import dataclass
from importlib.metadata import Distribution, distributions
from pathlib import Path
from urllib.parse import unquote, urlsplit

from mlserve._distribution import DISTRIBUTION
from mlserve.env._errors import WheelBuildFailed
from mlserve.store._mlflow._artifacts import cache_root

__all__ = [
    "LocalWheel",
    "build_wheels",
    "canonical_name",
    "local_distributions",
    "wheel_requires",
]

_FLAVOR_GROUP = "mlserve.flavors"
_CONFIG_FILES = ("pyproject.toml", "setup.cfg", "setup.py", "MANIFEST.in")
_DOC_PREFIXES = ("README", "LICENSE", "LICENCE", "NOTICE")
_SKIP_DIRS = {"__pycache__", ".mypy_cache", ".ruff_cache", ".pytest_cache"}
_BUILD_TIMEOUT_S = 600
_DONE = ".complete"  # written last: a cache directory without it is never used


@dataclass(frozen=True)
class LocalWheel:
    """A wheel of an installed distribution: ``distribution`` is the canonical name
    (``mlserve-core``), ``version`` the installed version, ``source_hash`` the sha256 of what it
    was built from, ``path`` the wheel file."""

    distribution: str
    version: str
    source_hash: str
    path: Path


def wheel_requires(wheel: Path) -> list[str]:
    """The ``Requires-Dist`` lines of a wheel's METADATA."""
    with zipfile.ZipFile(wheel) as zf:
        meta = next(n for n in zf.namelist() if n.endswith(".dist-info/METADATA"))
        text = zf.read(meta).decode("utf-8")
    prefix = "Requires-Dist:"
    return [line[len(prefix) :].strip() for line in text.splitlines() if line.startswith(prefix)]


def canonical_name(name: str) -> str:
    """PEP 503 normalisation: ``Mlserve_Core`` -> ``mlserve-core``."""
    return re.sub(r"[-_.]+", "-", name).lower()


def local_distributions() -> dict[str, str]:
    """The installed distributions that are mlserve's own, by canonical name -> version:
    ``mlserve-core`` and every distribution registering an ``mlserve.flavors`` entry point."""
    found: dict[str, str] = {}
    for dist in distributions():
        name = canonical_name(dist.metadata["Name"] or "")
        if not name or name in found:
            continue
        if name == DISTRIBUTION or any(ep.group == _FLAVOR_GROUP for ep in dist.entry_points):
            found[name] = dist.version
    return found


def build_wheels(
    names: Iterable[str], dest: str | os.PathLike[str] | None, *, cache_dir: Path | None = None
) -> list[LocalWheel]:
    """Wheels of the installed distributions ``names``, copied into ``dest``.

    Each wheel has the installed version and is built from the installed source (see the
    module's docstring), or taken from the cache (``cache_dir``, default
    ``$MLSERVE_CACHE_DIR/wheels``) when its version and source hash match. ``dest`` is created
    if needed; the returned paths are inside it, in the order of ``names``. With ``dest=None``
    nothing is copied and the paths are the cache's own files (read them, never change them).

    Raises :class:`~mlserve.env.WheelBuildFailed` when a name is not installed, its source tree
    is gone or builds another version, or the build fails (with the builder's output).
    """
    root = Path(cache_dir) if cache_dir is not None else cache_root() / "wheels"
    target = Path(dest) if dest is not None else None
    if target is not None:
        target.mkdir(parents=True, exist_ok=True)
    out: list[LocalWheel] = []
    for name in dict.fromkeys(canonical_name(n) for n in names):
        cached = _cached_wheel(_installed(name), root)
        if target is None:
            out.append(cached)
            continue
        copy = target / cached.path.name
        if not copy.exists():
            tmp = target / f".{copy.name}.{uuid.uuid4().hex}.tmp"
            shutil.copyfile(cached.path, tmp)
            os.replace(tmp, copy)
        out.append(LocalWheel(cached.distribution, cached.version, cached.source_hash, copy))
    return out


def _installed(name: str) -> Distribution:
    """The installed distribution ``name``; one with a ``direct_url.json`` (a real install) is
    preferred over an ``.egg-info`` a source checkout on ``sys.path`` may show."""
    matches = [d for d in distributions() if canonical_name(d.metadata["Name"] or "") == name]
    if not matches:
        raise WheelBuildFailed(
            name,
            "it is not installed here; install it in this environment (mlserve's own "
            "distributions are not on the package index: environments get them from here)",
        )
    for dist in matches:
        if dist.read_text("direct_url.json") is not None:
            return dist
    for dist in matches:
        if dist.read_text("RECORD") is not None:
            return dist
    return matches[0]


def _source_dir(dist: Distribution, name: str) -> Path | None:
    """The directory ``dist`` was installed from, when it was installed from one."""
    raw = dist.read_text("direct_url.json")
    if raw is None:
        return None
    info = json.loads(raw)
    parts = urlsplit(info.get("url", ""))
    if "dir_info" not in info or parts.scheme != "file":
        return None
    path = Path(unquote(parts.path))
    if any((path / f).is_file() for f in _CONFIG_FILES):
        return path
    if info["dir_info"].get("editable"):
        raise WheelBuildFailed(name, f"it is installed in editable mode from {path}, which is gone")
    return None  # installed (copied) from a directory since removed: repack what is installed


def _source_files(project: Path, dist: Distribution, name: str) -> list[Path]:
    """What goes into the wheel: the build configuration, the README/LICENSE it may read, and
    the distribution's top-level packages (``top_level.txt``), at the root or under ``src/``."""
    files = [
        p
        for p in sorted(project.iterdir())
        if p.is_file() and (p.name in _CONFIG_FILES or p.name.startswith(_DOC_PREFIXES))
    ]
    tops = (dist.read_text("top_level.txt") or "").split()
    found = False
    for top in tops:
        for base in (project, project / "src"):
            if (base / top).is_dir():
                found = True
                files += sorted(
                    p
                    for p in (base / top).rglob("*")
                    if p.is_file()
                    and not _SKIP_DIRS.intersection(p.relative_to(base).parts)
                    and p.suffix != ".pyc"
                )
            elif (base / f"{top}.py").is_file():
                found = True
                files.append(base / f"{top}.py")
    if not found:
        raise WheelBuildFailed(
            name, f"no package of {tops or 'top_level.txt'} found in its source tree {project}"
        )
    return files


def _hash_files(project: Path, files: list[Path]) -> str:
    digest = hashlib.sha256()
    for path in files:
        digest.update(path.relative_to(project).as_posix().encode() + b"\0")
        digest.update(hashlib.sha256(path.read_bytes()).digest())
    return digest.hexdigest()


def _cached_wheel(dist: Distribution, root: Path) -> LocalWheel:
    name = canonical_name(dist.metadata["Name"])
    project = _source_dir(dist, name)
    if project is not None:
        files = _source_files(project, dist, name)
        source_hash = _hash_files(project, files)
    else:
        record = dist.read_text("RECORD")
        if record is None:
            raise WheelBuildFailed(name, "it has no RECORD to rebuild it from")
        files = []
        source_hash = hashlib.sha256(record.encode()).hexdigest()
    final = root / f"{name}-{dist.version}-{source_hash[:16]}"
    wheel = _complete_wheel(final)
    if wheel is None:
        root.mkdir(parents=True, exist_ok=True)
        staging = root / f".tmp-{final.name}-{uuid.uuid4().hex}"
        staging.mkdir()
        try:
            if project is not None:
                _build_from_source(name, dist.version, project, files, staging)
            else:
                _repack(dist, name, staging)
            (staging / _DONE).write_text(source_hash + "\n", encoding="utf-8")
            try:
                os.rename(staging, final)
            except OSError as exc:  # another process published the same wheel first
                if exc.errno not in (errno.EEXIST, errno.ENOTEMPTY):
                    raise
        finally:
            with contextlib.suppress(FileNotFoundError):
                shutil.rmtree(staging)
        wheel = _complete_wheel(final)
        if wheel is None:
            raise WheelBuildFailed(name, f"the cache entry {final} is incomplete")
    return LocalWheel(name, dist.version, source_hash, wheel)


def _complete_wheel(directory: Path) -> Path | None:
    if not (directory / _DONE).is_file():
        return None
    wheels = sorted(directory.glob("*.whl"))
    return wheels[0] if len(wheels) == 1 else None


def _build_from_source(
    name: str, version: str, project: Path, files: list[Path], staging: Path
) -> None:
    """``pip wheel --no-deps`` of a copy of ``files``, checked to carry ``version``."""
    src = staging / "src"
    for path in files:
        copy = src / path.relative_to(project)
        copy.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(path, copy)
    if importlib.util.find_spec("pip") is None:
        raise WheelBuildFailed(name, f"building it needs pip in {sys.executable}")
    command = [sys.executable, "-m", "pip", "wheel", "--no-deps", "--quiet", "-w", str(staging)]
    attempts = [[*command, "--no-build-isolation", str(src)], [*command, str(src)]]
    if importlib.util.find_spec("setuptools") is None:
        attempts.pop(0)
    # first with the setuptools installed here: no index needed, and much faster than an
    # isolated build environment; when that setuptools is too old for the project (or lacks
    # what its build-system asks for), pip's isolated build fetches what it needs
    for attempt in attempts:
        try:
            done = subprocess.run(
                attempt, capture_output=True, text=True, timeout=_BUILD_TIMEOUT_S, check=False
            )
        except subprocess.TimeoutExpired as exc:
            raise WheelBuildFailed(name, f"pip wheel took over {_BUILD_TIMEOUT_S} s") from exc
        if done.returncode == 0:
            break
        for leftover in staging.glob("*.whl"):
            leftover.unlink()
    else:
        raise WheelBuildFailed(name, done.stdout + done.stderr)
    shutil.rmtree(src)
    wheels = list(staging.glob("*.whl"))
    if len(wheels) != 1:
        raise WheelBuildFailed(name, f"pip wheel made {len(wheels)} wheels, expected one")
    built = wheels[0].name.split("-")[1]
    if _normal_version(built) != _normal_version(version):
        wheels[0].unlink()
        raise WheelBuildFailed(
            name,
            f"its source tree {project} now builds version {built}, but {version} is installed;"
            f" reinstall it (pip install -e {project}) so the environment gets what runs here",
        )


def _normal_version(text: str) -> str:
    try:
        from packaging.version import Version
    except ImportError:  # packaging is not a dependency; compare the spelling then
        return text.replace("_", "-").lower()
    return str(Version(text))


def _record_hash(data: bytes) -> str:
    digest = base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode()
    return f"sha256={digest}"


def _repack(dist: Distribution, name: str, staging: Path) -> None:
    """Pack the installed files of ``dist`` (as its RECORD lists them) back into a wheel.

    Files outside the installation directory (console scripts, which pip writes again from
    ``entry_points.txt``) and bytecode are left out; the installer's own files are dropped and
    RECORD is written anew.
    """
    site = Path(str(dist.locate_file(""))).resolve()
    info_dir = Path(str(dist._path)).name  # type: ignore[attr-defined]
    tags = [
        line.split(":", 1)[1].strip()
        for line in (dist.read_text("WHEEL") or "").splitlines()
        if line.startswith("Tag:")
    ]
    if not info_dir.endswith(".dist-info") or not tags:
        raise WheelBuildFailed(name, "it was not installed from a wheel (no .dist-info/WHEEL)")
    dropped = {f"{info_dir}/{n}" for n in ("INSTALLER", "REQUESTED", "direct_url.json", "RECORD")}
    stem = f"{re.sub(r'[-_.]+', '_', name)}-{dist.version}-{tags[0]}"
    records: list[str] = []
    with zipfile.ZipFile(staging / f"{stem}.whl", "w", zipfile.ZIP_DEFLATED) as zf:
        for entry in dist.files or []:
            rel = entry.as_posix()
            path = (site / rel).resolve()
            if (
                rel in dropped
                or site not in path.parents
                or "__pycache__" in entry.parts
                or rel.endswith(".pyc")
                or not path.is_file()
            ):
                continue
            data = path.read_bytes()
            zf.writestr(rel, data)
            records.append(f"{rel},{_record_hash(data)},{len(data)}")
        records.append(f"{info_dir}/RECORD,,")
        zf.writestr(f"{info_dir}/RECORD", "\n".join(records) + "\n")
