"""Build a model's environment once per content hash, atomically and under a lock.

Where: ``$MLSERVE_CACHE_DIR/envs/<hash>/`` (default ``~/.cache/mlserve/envs``). The hash covers
what defines the environment: the env manager, the interpreter (its full version and
platform), the model's requirement lines (and files they include), and the name, version, extras
and source hash of each mlserve wheel.

How (what MLflow's env cache gets wrong, next-wave.md section 7.2):

* a build takes ``<hash>.lock`` (``fcntl.flock``), so concurrent servers for one model wait for
  one build instead of racing; the kernel drops the lock when a builder dies, even by SIGKILL;
* it builds in ``.tmp-<hash>-<random>``, writes the completion marker ``.mlserve-env.json``
  (what it was built from, and the installed packages) last, then renames the directory into
  place: an environment without the marker is never used;
* a failed build removes its directory, and the next builder (under the lock) removes what a
  killed one left, so nothing half-built is ever reused.

The interpreter: the model's Python at the same minor version (``3.11`` for a model saved with
3.11.7; patch releases are compatible), the running one when it matches, else ``pythonX.Y`` on
``PATH`` (``virtualenv``) or what ``uv python find`` finds (``uv``). Nothing is downloaded or
compiled: a missing Python is an error naming how to install it.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import json
import logging
import os
import platform
import shutil
import signal
import subprocess
import sys
import sysconfig
import threading
import time
import uuid
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

from mlserve._distribution import DISTRIBUTION
from mlserve.env._errors import ENV_MANAGERS, EnvBuildFailed, PythonNotAvailable, UnknownEnvManager
from mlserve.env._spec import EnvSpec, mirrored_extras, read_spec, with_extras
from mlserve.env._wheels import LocalWheel, build_wheels, wheel_requires
from mlserve.errors import InvalidParameterValue, MissingExtra
from mlserve.store import resolve_model_uri
from mlserve.store._mlflow._artifacts import cache_root

__all__ = ["MARKER", "Environment", "find_uv", "prepare_environment"]

_log = logging.getLogger(__name__)

MARKER = ".mlserve-env.json"
_FORMAT = 1  # bump when the layout of an environment changes: old ones are then not reused
_TIMEOUT_ENV = "MLSERVE_ENV_BUILD_TIMEOUT"
_DEFAULT_TIMEOUT_S = 1800.0
# variables that would leak this process's environment into the build
_DROPPED_VARS = ("PYTHONPATH", "PYTHONHOME", "VIRTUAL_ENV", "PYTHONSTARTUP", "PYTHONNOUSERSITE")


@dataclass(frozen=True)
class Environment:
    """A ready environment: ``path`` its directory, ``python`` its interpreter, ``key`` the hash
    it is cached under, ``built`` whether this call built it (``False``: it was reused), and
    ``model_dir`` the model directory the URI resolved to (serve that one: a ``models:/.../latest``
    may move on)."""

    path: Path
    python: Path
    key: str
    manager: str
    built: bool
    model_dir: Path


@dataclass(frozen=True)
class _Interpreter:
    path: str
    version: str  # full: 3.11.7


def find_uv() -> str:
    """The ``uv`` executable: on ``PATH``, else from the ``uv`` package (``pip install uv``).

    Raises :class:`~mlserve.errors.MissingExtra` with the install line when neither exists.
    """
    found = shutil.which("uv")
    if found:
        return found
    try:
        from uv import find_uv_bin
    except ImportError as exc:
        raise MissingExtra("--env-manager uv", "uv", "uv") from exc
    return str(find_uv_bin())


def prepare_environment(
    model_uri: str | os.PathLike[str],
    env_manager: str,
    *,
    tracking_uri: str | None = None,
    cache_dir: str | os.PathLike[str] | None = None,
    extras: Iterable[str] = (),
) -> Environment:
    """The environment the model at ``model_uri`` runs in, built if it is not cached yet.

    ``env_manager`` is ``uv`` (uv from the public index: fast) or ``virtualenv`` (``python -m
    venv`` + pip). ``cache_dir`` defaults to ``$MLSERVE_CACHE_DIR/envs``. The environment holds
    the model's requirements and this installation's ``mlserve-core[server]`` (plus the mlserve
    plugins the requirements name), from wheels; run ``<python> -m mlserve.server`` in it.
    ``extras`` are more extras of mlserve-core to install (``scan`` for ``--trust scan``); the
    ``fast`` and ``metrics`` extras come along when they are installed here, and
    ``$MLSERVE_ENV_EXTRAS`` adds more.

    Raises :class:`~mlserve.env.UnknownEnvManager`, :class:`~mlserve.env.MissingRequirements`
    (no ``requirements.txt``), :class:`~mlserve.env.PythonNotAvailable`,
    :class:`~mlserve.env.WheelBuildFailed`, :class:`~mlserve.env.EnvBuildFailed` (with the
    resolver's output) and :class:`~mlserve.errors.MissingExtra` (no uv), plus what resolving
    the URI raises. Nothing is cached after a failure.
    """
    manager = env_manager.strip().lower()
    if manager not in ENV_MANAGERS:
        raise UnknownEnvManager(env_manager)
    if manager == "local":
        raise InvalidParameterValue(
            "--env-manager local runs the model in this environment: there is nothing to build"
        )
    model_dir = Path(resolve_model_uri(os.fspath(model_uri), tracking_uri))
    spec = read_spec(model_dir, extras)
    uv = find_uv() if manager == "uv" else None
    python = _find_python(spec.python, manager, uv)
    wheels = build_wheels([name for name, _ in spec.local], None)
    core = next(w for w in wheels if w.distribution == DISTRIBUTION)
    spec = with_extras(spec, DISTRIBUTION, mirrored_extras(wheel_requires(core.path)))
    root = Path(cache_dir) if cache_dir is not None else cache_root() / "envs"
    definition = _definition(spec, manager, python, wheels)
    key = hashlib.sha256(json.dumps(definition, sort_keys=True).encode()).hexdigest()[:32]
    final = root / key
    if (final / MARKER).is_file():
        return Environment(final, final / "bin" / "python", key, manager, False, model_dir)
    root.mkdir(parents=True, exist_ok=True)
    with _locked(root / f"{key}.lock"):
        if (final / MARKER).is_file():  # built by whoever held the lock before us
            return Environment(final, final / "bin" / "python", key, manager, False, model_dir)
        for stale in [*root.glob(f".tmp-{key}-*"), final]:  # left by a builder that died
            if stale.exists():
                _log.info("Removing %s, left incomplete by an interrupted build", stale)
                shutil.rmtree(stale, ignore_errors=True)
        staging = root / f".tmp-{key}-{uuid.uuid4().hex[:12]}"
        started = time.monotonic()
        try:
            _log.info("Building the model's environment with %s in %s", manager, final)
            _build(staging, spec, manager, python, wheels, uv)
            _relocate(staging, final)
            record = {
                **definition,
                "freeze": _freeze(staging, manager, uv),
                "built_seconds": round(time.monotonic() - started, 1),
            }
            (staging / MARKER).write_text(json.dumps(record, indent=1) + "\n", encoding="utf-8")
            os.rename(staging, final)
        except BaseException:
            shutil.rmtree(staging, ignore_errors=True)
            raise
    _log.info("Environment ready in %.1f s: %s", time.monotonic() - started, final)
    return Environment(final, final / "bin" / "python", key, manager, True, model_dir)


@contextlib.contextmanager
def _locked(path: Path) -> Iterator[None]:
    with open(path, "a+b") as handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            _log.info("Another process is building this environment; waiting for it")
            fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def _definition(
    spec: EnvSpec, manager: str, python: _Interpreter, wheels: list[LocalWheel]
) -> dict[str, object]:
    extras = dict(spec.local)
    return {
        "format": _FORMAT,
        "manager": manager,
        "python": python.version,
        "python_path": python.path,
        "platform": sysconfig.get_platform(),
        "requirements": list(spec.requirements),
        "included": [hashlib.sha256(t.encode()).hexdigest() for t in spec.included],
        "mlserve": [
            [w.distribution, w.version, w.source_hash, list(extras[w.distribution])] for w in wheels
        ],
    }


def _version_of(python: str) -> str | None:
    try:
        done = subprocess.run(
            [python, "-c", "import platform; print(platform.python_version())"],
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )
    except OSError:
        return None
    return done.stdout.strip() if done.returncode == 0 else None


def _find_python(wanted: str, manager: str, uv: str | None) -> _Interpreter:
    running = platform.python_version()
    if not wanted:
        _log.info("The model does not say which Python it was saved with: using %s", running)
        wanted = running
    minor = ".".join(wanted.split(".")[:2])
    base = getattr(sys, "_base_executable", None) or sys.executable
    if ".".join(running.split(".")[:2]) == minor and os.path.exists(base):
        return _Interpreter(base, running)
    if uv is not None:
        done = subprocess.run(
            [uv, "python", "find", minor], capture_output=True, text=True, check=False
        )
        found = done.stdout.strip() if done.returncode == 0 else None
        hint = f"install it (uv python install {minor}) and try again"
    else:
        found = shutil.which(f"python{minor}")
        hint = (
            f"install python{minor} (with its venv module) on PATH, or use --env-manager uv "
            f"after uv python install {minor}"
        )
    version = _version_of(found) if found else None
    if not found or not version:
        raise PythonNotAvailable(wanted, manager, hint)
    if version != wanted:
        _log.info("The model was saved with Python %s; its environment uses %s", wanted, version)
    return _Interpreter(found, version)


def _timeout() -> float:
    text = os.environ.get(_TIMEOUT_ENV, "").strip()
    try:
        return float(text) if text else _DEFAULT_TIMEOUT_S
    except ValueError as exc:
        raise InvalidParameterValue(f"{_TIMEOUT_ENV} must be a number of seconds") from exc


def _die_with_parent() -> None:
    """In the installer's process: be killed when the builder dies (Linux), so a builder killed
    by SIGKILL leaves no installer writing on into a directory the next build removes."""
    if sys.platform.startswith("linux"):
        import ctypes

        with contextlib.suppress(OSError, AttributeError):
            ctypes.CDLL(None).prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG


def _run(command: list[str], cwd: Path | None = None, *, merge: bool = True) -> str:
    environ = {k: v for k, v in os.environ.items() if k not in _DROPPED_VARS}
    try:
        done = subprocess.run(
            command,
            cwd=cwd,
            env=environ,
            # preexec_fn is unsafe with other threads running: then do without
            preexec_fn=_die_with_parent if threading.active_count() == 1 else None,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT if merge else subprocess.PIPE,
            text=True,
            timeout=_timeout(),
            check=False,
        )
    except subprocess.TimeoutExpired as exc:
        message = f"timed out after {exc.timeout:.0f} s ({_TIMEOUT_ENV})"
        raise EnvBuildFailed(command, message) from exc
    except OSError as exc:
        raise EnvBuildFailed(command, str(exc)) from exc
    if done.returncode != 0:
        raise EnvBuildFailed(command, done.stdout + (done.stderr or ""))
    return done.stdout


def _build(
    staging: Path,
    spec: EnvSpec,
    manager: str,
    python: _Interpreter,
    wheels: list[LocalWheel],
    uv: str | None,
) -> None:
    if uv is not None:
        _run([uv, "venv", "--quiet", "--python", python.path, str(staging)])
    else:
        _run([python.path, "-m", "venv", str(staging)])
    # the wheels live in the environment: what it was built from stays next to it
    # (the very wheels the hash was computed from, not rebuilt: the source may move meanwhile)
    (staging / "mlserve-wheels").mkdir()
    extras = dict(spec.local)
    lines = list(spec.requirements)
    for wheel in wheels:
        copy = staging / "mlserve-wheels" / wheel.path.name
        shutil.copyfile(wheel.path, copy)
        wanted = extras[wheel.distribution]
        extra = f"[{','.join(wanted)}]" if wanted else ""
        lines.append(f"{wheel.distribution}{extra} @ {copy.as_uri()}")
    requirements = staging / "mlserve-requirements.txt"
    requirements.write_text("".join(f"{line}\n" for line in lines), encoding="utf-8")
    env_python = str(staging / "bin" / "python")
    if uv is not None:
        command = [uv, "pip", "install", "--python", env_python, "-r", str(requirements)]
    else:
        command = [env_python, "-m", "pip", "install", "--no-input"]
        command += ["--disable-pip-version-check", "-r", str(requirements)]
    # run from the model directory: relative paths and options in its requirements mean there
    _run(command, cwd=spec.model_dir)


def _relocate(staging: Path, final: Path) -> None:
    """Scripts in ``bin/`` name the directory they were installed in: point them at ``final``."""
    old, new = str(staging).encode(), str(final).encode()
    for path in (staging / "bin").iterdir():
        if path.is_symlink() or not path.is_file() or path.stat().st_size > 1_000_000:
            continue
        data = path.read_bytes()
        if old in data:
            path.write_bytes(data.replace(old, new))


def _freeze(staging: Path, manager: str, uv: str | None) -> list[str]:
    env_python = str(staging / "bin" / "python")
    if uv is not None:
        out = _run([uv, "pip", "freeze", "--python", env_python], merge=False)
    else:
        out = _run([env_python, "-m", "pip", "freeze", "--disable-pip-version-check"], merge=False)
    return [line for line in out.splitlines() if line.strip()]
