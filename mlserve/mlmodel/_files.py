"""The files of a model directory: where an ``MLmodel`` may point, and what they hold.

Two guards for a model directory that may come from someone else (``docs/security.md``):

- :func:`model_file` confines a path named by ``MLmodel`` to the directory, after resolving
  symlinks; :func:`check_paths` applies it, before anything is loaded, to every path the core
  knows a section may name (``code``, ``data``, ``model_path``, ``pickled_model``, artifacts,
  environment files, input examples). Flavors resolve their own names with :func:`model_file`
  too.
- :func:`compute_digests` records a sha256 of every file when a model is saved (under the
  ``mlserve_digests`` key of ``MLmodel``, which MLflow ignores), and :func:`verify_digests`
  refuses a directory whose files changed, went missing or were added since.
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

from mlserve.errors import DigestMismatch, MalformedModel

__all__ = [
    "DIGEST_ALGORITHM",
    "check_paths",
    "compute_digests",
    "model_file",
    "verify_digests",
]

DIGEST_ALGORITHM = "sha256"
# not among the digests: MLmodel holds them; MLflow's models:/ download adds
# registered_model_meta (the name and version, which no loader reads) after the model was saved
_UNLISTED = frozenset({"MLmodel", "registered_model_meta"})
# written by Python itself when the model's code/ is imported: never part of what was saved
_CACHE_DIRS = frozenset({"__pycache__"})
# keys whose string value, in any flavor section, is a path inside the model directory (MLflow's
# pyfunc keys, the built-in flavors' and the plugins' own): confined before any flavor runs
_PATH_KEYS = (
    "code",
    "data",
    "model_path",
    "model_data",
    "pickled_model",
    "python_model",
    "saved_model_dir",
)
_EXAMPLE_KEYS = ("artifact_path", "serving_input_path")


def model_file(directory: str | Path, name: object, *, must_exist: bool = False) -> Path:
    """The file (or directory) ``name``, as an ``MLmodel`` section gives it, inside the model
    ``directory``.

    A model directory is self-contained and may be moved, so a section names its files
    relative to it; an absolute name, one climbing out with ``..`` or through a symlink, and the
    directory itself are refused with :class:`~mlserve.errors.MalformedModel`, as is (with
    ``must_exist``) a name that is not there. Flavors, the built-in ones and plugins, resolve
    every name this way.
    """
    root = Path(directory).resolve()
    target = (root / str(name)).resolve()
    if target == root or not target.is_relative_to(root):
        where = "it names the directory itself" if target == root else "it points outside it"
        raise MalformedModel(
            str(directory), f"{name!r} is not a file inside the model directory: {where}"
        )
    if must_exist and not target.exists():
        raise MalformedModel(str(directory), f"{name} is missing from the model directory")
    return target


def _named_paths(
    flavors: Mapping[str, Any], example_info: Mapping[str, Any] | None
) -> Iterator[tuple[str, str]]:
    """``(where, path)`` for every path the ``MLmodel`` names, as far as the core knows."""
    for flavor, section in flavors.items():
        if not isinstance(section, Mapping):
            continue
        for key in _PATH_KEYS:
            value = section.get(key)
            if isinstance(value, str) and value:
                yield f"{flavor}.{key}", value
        env = section.get("env")
        entries = env.items() if isinstance(env, Mapping) else [("", env)]
        for kind, value in entries:
            if isinstance(value, str) and value:
                yield f"{flavor}.env{'.' + str(kind) if kind else ''}", value
        artifacts = section.get("artifacts")
        if isinstance(artifacts, Mapping):
            for name, entry in artifacts.items():
                value = entry.get("path") if isinstance(entry, Mapping) else entry
                if isinstance(value, str) and value:
                    yield f"{flavor}.artifacts.{name}", value
    for key in _EXAMPLE_KEYS:
        value = (example_info or {}).get(key)
        if isinstance(value, str) and value:
            yield f"saved_input_example_info.{key}", value


def check_paths(
    directory: str | Path,
    flavors: Mapping[str, Any],
    example_info: Mapping[str, Any] | None = None,
) -> None:
    """Refuse a model whose ``MLmodel`` names a path outside ``directory``.

    Checked before anything is imported or unpickled: a ``code: ../pkg`` would otherwise put a
    directory the model does not own first on ``sys.path``. Raises
    :class:`~mlserve.errors.MalformedModel` naming the key.
    """
    for where, value in _named_paths(flavors, example_info):
        try:
            model_file(directory, value)
        except MalformedModel as exc:
            raise MalformedModel(str(directory), f"{where}: {exc.reason}") from None


def _files(root: Path) -> Iterator[str]:
    """Every file under ``root`` as a POSIX path relative to it, in a stable order; symlinks
    are listed, not followed, so a link is recorded and checked as what it points to."""
    for current, dirs, names in os.walk(root):
        dirs[:] = sorted(d for d in dirs if d not in _CACHE_DIRS)
        base = Path(current)
        for name in sorted(names):
            rel = (base / name).relative_to(root).as_posix()
            if rel not in _UNLISTED:
                yield rel
        for name in dirs:
            if (base / name).is_symlink():  # os.walk does not descend into it: record it too
                yield (base / name).relative_to(root).as_posix()


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as src:
        for block in iter(lambda: src.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def compute_digests(directory: str | Path) -> dict[str, Any]:
    """The ``mlserve_digests`` entry for the model files in ``directory``: the algorithm and a
    sha256 per file (every file but ``MLmodel`` itself, MLflow's ``registered_model_meta`` and
    Python's ``__pycache__``)."""
    root = Path(directory)
    files = {}
    for rel in _files(root):
        target = model_file(root, rel)  # a symlink out of the model is refused at save too
        if target.is_dir():
            raise MalformedModel(str(root), f"{rel} is a link to a directory")
        files[rel] = _sha256(target)
    return {"algorithm": DIGEST_ALGORITHM, "files": files}


def verify_digests(directory: str | Path, recorded: Mapping[str, Any]) -> None:
    """Check the files of ``directory`` against ``recorded`` (from :func:`compute_digests`).

    Raises :class:`~mlserve.errors.DigestMismatch` naming the first file that changed, is
    missing, was added since, or resolves outside the model through a symlink;
    :class:`~mlserve.errors.MalformedModel` when the entry itself is malformed.
    """
    root = Path(directory)
    files = recorded.get("files") if isinstance(recorded, Mapping) else None
    if recorded.get("algorithm") != DIGEST_ALGORITHM or not isinstance(files, Mapping):
        raise MalformedModel(
            str(root), f"mlserve_digests must have algorithm: {DIGEST_ALGORITHM} and files"
        )
    for rel, expected in files.items():
        try:
            target = model_file(root, rel)
        except MalformedModel:
            raise DigestMismatch(str(root), str(rel), "points outside the model") from None
        if not target.is_file():
            raise DigestMismatch(str(root), str(rel), "went missing")
        if _sha256(target) != expected:
            raise DigestMismatch(str(root), str(rel), "has changed")
    for rel in _files(root):
        if rel not in files:
            raise DigestMismatch(str(root), rel, "was added")
