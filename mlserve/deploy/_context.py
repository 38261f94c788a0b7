"""The build context of a model's image: ``Dockerfile``, the model, and a wheelhouse.

:func:`write_build_context` resolves everything on the host, so that building the image needs
no network and gives the same image twice:

* ``wheels/``: a wheel of every package the image installs, made with ``pip wheel`` from the
  model's ``requirements.txt`` (sdists are built into wheels here, so the image needs no
  compiler), plus wheels of mlserve's own distributions made from this installation
  (:func:`mlserve.env.build_wheels`: they are not on the public index, and the image must run
  the version that wrote the context, never whatever an index has under that name);
* ``requirements.txt``: every wheel of the wheelhouse pinned (``name==version``), with
  ``mlserve-core[server,metrics]`` (the server and its ``/metrics``), so the image installs
  exactly the resolved set;
* ``model/``: a copy of the model directory (left out with ``mount_model=True``);
* ``Dockerfile``: a two-stage build: the first stage installs the wheelhouse into a virtual
  environment with ``pip install --no-index``; the second copies only that environment onto
  the base image, so neither the wheels nor any build tool reach the final image.

The context is written under a temporary name next to ``directory`` and renamed into place when
complete: an interrupted run leaves no half context behind.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import uuid
from dataclasses import dataclass
from pathlib import Path

import yaml

from mlserve._distribution import DISTRIBUTION
from mlserve._environment import PYTHON_ENV_FILENAME, REQUIREMENTS_FILENAME
from mlserve.deploy._errors import NoRequirements, OutputExists, RequirementsUnresolvable

__all__ = [
    "CONTAINER_PORT",
    "MODEL_PATH",
    "USER_ID",
    "BuildContext",
    "default_base_image",
    "render_dockerfile",
    "write_build_context",
]

#: the port the server listens on inside the image (MLflow's images use 8080 too)
CONTAINER_PORT = 8080
#: where the model is baked in (or mounted), as in MLflow's images
MODEL_PATH = "/opt/ml/model"
#: the unprivileged user the server runs as; numeric, so Kubernetes' runAsNonRoot can check it
USER_ID = 10001
_VENV = "/opt/mlserve"
# what the image runs besides the model: the server, and /metrics for the manifests' scrapers
_EXTRAS = "[server,metrics]"
_PIP_TIMEOUT_S = 1800
# a requirement line's distribution name (PEP 508), when it starts with one
_NAME = re.compile(r"^\s*([A-Za-z0-9](?:[A-Za-z0-9._-]*[A-Za-z0-9])?)")
# name-version-...whl (PEP 427); the name has its '-' escaped as '_'
_WHEEL = re.compile(r"^(?P<name>[^-]+)-(?P<version>[^-]+)-.+\.whl$")


@dataclass(frozen=True)
class BuildContext:
    """What :func:`write_build_context` wrote.

    ``directory`` is the context; ``model_dir`` the model it was made from; ``base_image`` the
    image it builds on; ``python_version`` the Python (``3.11``) the wheelhouse was resolved for;
    ``requirements`` the pinned list the image installs; ``notes`` what the user should know
    (a model saved with another Python or another mlserve version).
    """

    directory: Path
    model_dir: Path
    base_image: str
    mount_model: bool
    python_version: str
    requirements: tuple[str, ...]
    notes: tuple[str, ...]


def default_base_image() -> str:
    """``python:<major>.<minor>-slim`` of this interpreter: the wheelhouse is resolved for it."""
    return f"python:{sys.version_info.major}.{sys.version_info.minor}-slim"


def write_build_context(
    model_uri: str | os.PathLike[str],
    directory: str | os.PathLike[str],
    *,
    base_image: str | None = None,
    mount_model: bool = False,
    tracking_uri: str | None = None,
    pip_timeout: float = _PIP_TIMEOUT_S,
) -> BuildContext:
    """Write the build context of ``model_uri``'s image into ``directory`` (see the module doc).

    ``directory`` must not exist or be empty. ``base_image`` defaults to
    :func:`default_base_image`; it must have the same Python minor version as this interpreter,
    for which the wheelhouse is resolved. With ``mount_model`` the model is not copied: the image
    expects it mounted at ``/opt/ml/model`` at run time (its requirements are still installed).

    Raises :class:`~mlserve.deploy.OutputExists`, the store's errors for a URI that names no model,
    :class:`~mlserve.deploy.NoRequirements`, :class:`~mlserve.deploy.RequirementsUnresolvable`
    (with pip's output) and :class:`~mlserve.env.WheelBuildFailed`.
    """
    from mlserve.env import build_wheels, local_distributions, read_spec
    from mlserve.store import resolve_model_uri

    target = Path(directory).absolute()
    if target.exists() and (not target.is_dir() or any(target.iterdir())):
        raise OutputExists(str(target))
    model_dir = Path(resolve_model_uri(model_uri, tracking_uri))
    requirements_file = model_dir / REQUIREMENTS_FILENAME
    if not requirements_file.is_file():
        raise NoRequirements(str(model_dir))
    lines = _requirement_lines(requirements_file)
    ours = local_distributions()
    # what a per-model environment installs, read by the same rules (mlserve.env.read_spec):
    # an MLflow-written model's mlflow==X line is dropped (its server pins gunicorn<27, which
    # cannot be installed beside ours), or becomes mlflow-skinny for a custom PythonModel
    spec = read_spec(model_dir)
    others = list(spec.requirements)
    # mlserve's distributions only from this installation: one that is not installed here is
    # a WheelBuildFailed saying so, never fetched by name (the index may hold another project)
    named = {name for name, _ in spec.local}
    notes = _version_notes(lines, ours, model_dir)
    base = base_image or default_base_image()

    target.parent.mkdir(parents=True, exist_ok=True)
    staging = target.parent / f".{target.name}.tmp-{uuid.uuid4().hex}"
    staging.mkdir()
    try:
        wheels_dir = staging / "wheels"
        local = build_wheels([DISTRIBUTION, *sorted(named - {DISTRIBUTION})], wheels_dir)
        # mlserve's own distributions by file, never by name: an index may have another
        # project under the same name
        host_lines = others + [
            f"{w.distribution}{_EXTRAS if w.distribution == DISTRIBUTION else ''} @ "
            f"{w.path.as_uri()}"
            for w in local
        ]
        _pip_wheel(host_lines, wheels_dir, staging, pip_timeout)
        pinned = _pinned(wheels_dir)
        (staging / REQUIREMENTS_FILENAME).write_text("\n".join(pinned) + "\n", encoding="utf-8")
        if not mount_model:
            _copy_model(model_dir, staging / "model")
        (staging / "Dockerfile").write_text(
            render_dockerfile(base, mount_model=mount_model, model_uri=os.fspath(model_uri)),
            encoding="utf-8",
        )
        if target.exists():
            target.rmdir()  # empty, checked above
        os.rename(staging, target)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return BuildContext(
        directory=target,
        model_dir=model_dir,
        base_image=base,
        mount_model=mount_model,
        python_version=f"{sys.version_info.major}.{sys.version_info.minor}",
        requirements=tuple(pinned),
        notes=tuple(notes),
    )


def _requirement_lines(path: Path) -> list[str]:
    """The requirement lines of ``path``, without comments and blank lines."""
    out = []
    for raw in path.read_text(encoding="utf-8").splitlines():
        line = raw.split(" #", 1)[0].strip()
        if line and not line.startswith("#"):
            out.append(line)
    return out


def _name_of(line: str) -> str:
    """The canonical distribution name a requirement line names ('' for an option line)."""
    from mlserve.env import canonical_name

    if line.startswith("-"):
        return ""
    match = _NAME.match(line)
    return canonical_name(match.group(1)) if match else ""


def _version_notes(lines: list[str], ours: dict[str, str], model_dir: Path) -> list[str]:
    notes = []
    for line in lines:
        name = _name_of(line)
        if name in ours and "==" in line and line.split("==", 1)[1].strip() != ours[name]:
            notes.append(
                f"the model names {line}; the image gets {name}=={ours[name]}, the version "
                "installed here (mlserve's distributions come from this installation)"
            )
    here = f"{sys.version_info.major}.{sys.version_info.minor}"
    try:
        env = yaml.safe_load((model_dir / PYTHON_ENV_FILENAME).read_text(encoding="utf-8"))
        saved = str(env.get("python", "")) if isinstance(env, dict) else ""
    except (OSError, yaml.YAMLError):
        saved = ""
    if saved and ".".join(saved.split(".")[:2]) != here:
        notes.append(
            f"the model was saved with Python {saved}; the image runs Python {here} (the "
            "wheelhouse is resolved for this interpreter: run mlserve from a Python "
            f"{'.'.join(saved.split('.')[:2])} environment to match the model)"
        )
    return notes


def _pip_wheel(lines: list[str], wheels_dir: Path, staging: Path, timeout: float) -> None:
    """``pip wheel`` of ``lines`` into ``wheels_dir``: downloads wheels, builds sdists."""
    request = staging / ".host-requirements.txt"
    request.write_text("\n".join(lines) + "\n", encoding="utf-8")
    command = [
        sys.executable,
        "-m",
        "pip",
        "wheel",
        "--disable-pip-version-check",
        "--no-input",
        "--wheel-dir",
        str(wheels_dir),
        "--find-links",
        str(wheels_dir),
        "-r",
        str(request),
    ]
    try:
        done = subprocess.run(command, capture_output=True, text=True, timeout=timeout, check=False)
    except subprocess.TimeoutExpired as exc:
        raise RequirementsUnresolvable(command, f"pip wheel took over {timeout:.0f} s") from exc
    if done.returncode != 0:
        raise RequirementsUnresolvable(command, done.stdout + done.stderr)
    request.unlink()


def _pinned(wheels_dir: Path) -> list[str]:
    """``name==version`` for every wheel in ``wheels_dir``; mlserve-core with its extras."""
    from mlserve.env import canonical_name

    pins = []
    for wheel in sorted(wheels_dir.glob("*.whl")):
        match = _WHEEL.match(wheel.name)
        if match is None:
            continue
        name = canonical_name(match.group("name"))
        extra = _EXTRAS if name == DISTRIBUTION else ""
        pins.append(f"{name}{extra}=={match.group('version')}")
    return sorted(pins)


def _copy_model(source: Path, dest: Path) -> None:
    """Copy the model directory, readable by the image's unprivileged user.

    The store writes models with private permissions (a temporary directory is 0700); in the
    image they belong to root and the server runs as another user, so everything is made
    world-readable (and directories and executables world-searchable), never writable.
    """
    shutil.copytree(source, dest, symlinks=False)
    for root, _dirs, files in os.walk(dest):
        os.chmod(root, 0o755)
        for name in files:
            path = Path(root, name)
            executable = path.stat().st_mode & 0o111
            os.chmod(path, 0o755 if executable else 0o644)


def render_dockerfile(base_image: str, *, mount_model: bool = False, model_uri: str = "") -> str:
    """The Dockerfile of a build context (see the module doc for its layout)."""
    from mlserve import __version__

    health = (
        "import os, urllib.request; urllib.request.urlopen('http://127.0.0.1:' + "
        f"os.environ.get('MLSERVE_PORT', '{CONTAINER_PORT}') + '/ping', timeout=4)"
    )
    model_step = (
        f"# the model is mounted at run time: -v /path/to/model:{MODEL_PATH}:ro\n"
        if mount_model
        else f"# the model last: retraining changes this layer only\nCOPY model {MODEL_PATH}\n"
    )
    labels = {"org.mlserve.version": __version__, "org.mlserve.model-uri": model_uri}
    python = f"{sys.version_info.major}.{sys.version_info.minor}"
    return f"""\
# Written by mlserve {__version__} (mlserve generate-dockerfile). Build with no network:
# every package comes from wheels/, resolved on the host for Python {python}.
ARG BASE_IMAGE={base_image}

FROM ${{BASE_IMAGE}} AS build
# the wheels are for Python {python}: say so plainly if the base image has another
RUN python3 -c "import sys; v = '%d.%d' % sys.version_info[:2]; sys.exit(0 if v == '{python}' \\
    else 'the base image has Python ' + v + '; this context needs {python} (mlserve --base-image)')"
COPY wheels /tmp/wheels
COPY requirements.txt /tmp/requirements.txt
RUN python3 -m venv {_VENV} \\
 && {_VENV}/bin/python -m pip install --no-index --no-cache-dir --disable-pip-version-check \\
    --find-links /tmp/wheels -r /tmp/requirements.txt

# only the environment reaches the final image: no wheels, no build tools
FROM ${{BASE_IMAGE}}
COPY --from=build {_VENV} {_VENV}
RUN echo 'mlserve:x:{USER_ID}:{USER_ID}:mlserve:/home/mlserve:/usr/sbin/nologin' >> /etc/passwd \\
 && echo 'mlserve:x:{USER_ID}:' >> /etc/group \\
 && mkdir -p /home/mlserve && chown {USER_ID}:{USER_ID} /home/mlserve
ENV PATH={_VENV}/bin:$PATH \\
    HOME=/home/mlserve \\
    PYTHONUNBUFFERED=1 \\
    MLSERVE_HOST=0.0.0.0 \\
    MLSERVE_PORT={CONTAINER_PORT} \\
    MLSERVE_MODEL_URI={MODEL_PATH}
LABEL {" ".join(f"{key}={json.dumps(value)}" for key, value in labels.items())}
{model_step}USER {USER_ID}:{USER_ID}
EXPOSE {CONTAINER_PORT}
# the server is PID 1 (exec form, no shell): SIGTERM reaches it, it stops accepting and drains
# in-flight requests within MLSERVE_GRACEFUL_TIMEOUT; its arbiter reaps its workers
STOPSIGNAL SIGTERM
HEALTHCHECK --interval=30s --timeout=5s --start-period=60s --retries=3 \\
  CMD {json.dumps(["python", "-c", health])}
ENTRYPOINT ["python", "-m", "mlserve.server"]
"""
