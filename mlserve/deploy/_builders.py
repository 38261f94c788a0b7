"""Image builders: find one that works here (a docker engine, podman or buildah) and drive it.

A ``docker`` command whose daemon does not answer is not a builder; podman and buildah need no
daemon. buildah is run with ``--storage-driver vfs`` and ``--isolation chroot`` unless told
otherwise: the pair works as root without kernel overlay support or a container runtime, which is
where buildah is usually chosen (CI, containers); both are options. Every builder only tags an
image when its build succeeded, and is asked to remove intermediate containers even on failure
(``--force-rm``), so a failed build leaves nothing tagged.
"""

from __future__ import annotations

import collections
import json
import os
import shutil
import signal
import subprocess
import tempfile
import threading
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from mlserve.deploy._context import BuildContext, write_build_context
from mlserve.deploy._errors import BuilderNotFound, ImageBuildFailed
from mlserve.deploy._reference import ImageReference, parse_image_reference

__all__ = ["BUILDERS", "Builder", "BuiltImage", "build_image", "find_builder"]

#: the builders looked for, in order of preference
BUILDERS = ("docker", "podman", "buildah")
_BUILDAH_DEFAULTS = {"storage_driver": "vfs", "isolation": "chroot"}
_PROBE_TIMEOUT_S = 15
_BUILD_TIMEOUT_S = 3600
_KEEP_LINES = 200


@dataclass(frozen=True)
class Builder:
    """A working image builder: ``name`` (docker, podman, buildah), its ``executable`` and
    ``version``; ``storage_driver`` and ``isolation`` are passed to podman and buildah."""

    name: str
    executable: str
    version: str
    storage_driver: str | None = None
    isolation: str | None = None

    def describe(self) -> str:
        """``buildah 1.28.2 (storage driver vfs, isolation chroot)``."""
        options = [
            f"{label} {value}"
            for label, value in (
                ("storage driver", self.storage_driver),
                ("isolation", self.isolation),
            )
            if value
        ]
        return f"{self.name} {self.version}" + (f" ({', '.join(options)})" if options else "")

    def _global(self) -> list[str]:
        if self.name != "docker" and self.storage_driver:
            return [self.executable, "--storage-driver", self.storage_driver]
        return [self.executable]

    def build_command(self, context: Path, image: str) -> list[str]:
        """The command that builds ``context`` into ``image``."""
        command = [*self._global(), "build" if self.name != "buildah" else "bud"]
        if self.name != "docker":
            command += ["--format", "docker"]  # OCI images drop HEALTHCHECK
            if self.isolation:
                command += ["--isolation", self.isolation]
        if self.name == "buildah":
            command.append(
                "--no-cache"
            )  # buildah takes --force-rm only with --no-cache or --layers
        return [
            *command,
            "--force-rm",
            "--tag",
            image,
            "--file",
            str(context / "Dockerfile"),
            str(context),
        ]

    def image_size(self, image: str) -> int | None:
        """The image's size in bytes (its layers, uncompressed), or None if it cannot be read."""
        if self.name == "buildah":
            command = [*self._global(), "inspect", "--type", "image", image]
        else:
            command = [*self._global(), "image", "inspect", "--format", "{{.Size}}", image]
        try:
            done = subprocess.run(command, capture_output=True, text=True, timeout=60, check=False)
        except (OSError, subprocess.TimeoutExpired):
            return None
        if done.returncode != 0:
            return None
        try:
            if self.name == "buildah":
                manifest = json.loads(json.loads(done.stdout)["Manifest"])
                return sum(int(layer["size"]) for layer in manifest["layers"])
            return int(done.stdout.strip())
        except (KeyError, TypeError, ValueError):
            return None


@dataclass(frozen=True)
class BuiltImage:
    """An image :func:`build_image` built: its ``reference``, the ``builder``, ``size`` in
    bytes (None when the builder would not say) and the ``context`` it was built from."""

    reference: ImageReference
    builder: Builder
    size: int | None
    context: BuildContext


def find_builder(
    name: str | None = None,
    *,
    storage_driver: str | None = None,
    isolation: str | None = None,
) -> Builder:
    """The first of docker (with a daemon that answers), podman and buildah that works here,
    or only ``name`` when given. ``storage_driver`` and ``isolation`` go to podman and buildah
    (buildah's defaults: ``vfs`` and ``chroot``).

    Raises :class:`~mlserve.deploy.BuilderNotFound`, saying what was tried and what to install.
    """
    candidates = BUILDERS if name is None else (name,)
    if name is not None and name not in BUILDERS:
        from mlserve.errors import InvalidParameterValue

        raise InvalidParameterValue(
            f"unknown builder {name!r}: choose one of {', '.join(BUILDERS)}"
        )
    tried: list[str] = []
    for candidate in candidates:
        executable = shutil.which(candidate)
        if executable is None:
            tried.append(f"{candidate}: not on PATH")
            continue
        probe = (
            [executable, "version", "--format", "{{.Server.Version}}"]
            if candidate == "docker"
            else [executable, "--version"]
        )
        try:
            done = subprocess.run(
                probe, capture_output=True, text=True, timeout=_PROBE_TIMEOUT_S, check=False
            )
        except (OSError, subprocess.TimeoutExpired) as exc:
            tried.append(f"{candidate}: {exc}")
            continue
        if done.returncode != 0:
            said = (done.stderr or done.stdout).strip().splitlines()
            last = said[-1] if said else "no output"
            tried.append(
                f"{candidate}: installed, but its daemon does not answer ({last})"
                if candidate == "docker"
                else f"{candidate}: {last}"
            )
            continue
        version = done.stdout.strip().split()
        defaults = _BUILDAH_DEFAULTS if candidate == "buildah" else {}
        return Builder(
            name=candidate,
            executable=executable,
            version=(version[-1] if candidate == "docker" and version else _version_word(version)),
            storage_driver=storage_driver or defaults.get("storage_driver"),
            isolation=isolation or defaults.get("isolation"),
        )
    raise BuilderNotFound(tried)


def _version_word(words: list[str]) -> str:
    """``buildah version 1.28.2 (image-spec ...)`` -> ``1.28.2``."""
    for word in words:
        if word[:1].isdigit():
            return word.rstrip(",")
    return "?"


def build_image(
    model_uri: str | os.PathLike[str],
    name: str,
    *,
    builder: Builder | None = None,
    base_image: str | None = None,
    mount_model: bool = False,
    tracking_uri: str | None = None,
    log: Callable[[str], None] | None = None,
    timeout: float = _BUILD_TIMEOUT_S,
) -> BuiltImage:
    """Build the image of ``model_uri`` and tag it ``name`` (``:latest`` when no tag is given).

    The name is checked and the builder found (``builder``, else :func:`find_builder`) before
    anything is written; the build context (:func:`~mlserve.deploy.write_build_context`) lives
    in a temporary directory for the build only. ``log`` receives the builder's output lines.

    Raises :class:`~mlserve.deploy.InvalidImageName`, :class:`~mlserve.deploy.BuilderNotFound`,
    what :func:`~mlserve.deploy.write_build_context` raises, and
    :class:`~mlserve.deploy.ImageBuildFailed` (nothing tagged) with the builder's output.
    """
    reference = parse_image_reference(name, allow_digest=False)
    if reference.tag is None:
        reference = ImageReference(reference.name, "latest")
    chosen = builder if builder is not None else find_builder()
    with tempfile.TemporaryDirectory(prefix="mlserve-image-") as scratch:
        context = write_build_context(
            model_uri,
            Path(scratch) / "context",
            base_image=base_image,
            mount_model=mount_model,
            tracking_uri=tracking_uri,
        )
        _run_build(
            chosen,
            chosen.build_command(context.directory, str(reference)),
            str(reference),
            log,
            timeout,
        )
    return BuiltImage(reference, chosen, chosen.image_size(str(reference)), context)


def _run_build(
    builder: Builder,
    command: list[str],
    image: str,
    log: Callable[[str], None] | None,
    timeout: float,
) -> None:
    """Run ``command``, passing its output lines to ``log``; keep the end for the error."""
    tail: collections.deque[str] = collections.deque(maxlen=_KEEP_LINES)
    process = subprocess.Popen(
        command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, start_new_session=True
    )
    timer = threading.Timer(timeout, _stop, (process,))
    timer.start()
    try:
        assert process.stdout is not None
        for raw in process.stdout:
            line = raw.decode("utf-8", errors="replace").rstrip("\n")
            tail.append(line)
            if log is not None:
                log(line)
        code = process.wait()
    except BaseException:  # Ctrl-C: stop the whole build, not just the client
        _stop(process)
        raise
    finally:
        timer.cancel()
        if process.stdout is not None:
            process.stdout.close()
    if code != 0:
        if code < 0:
            tail.append(f"(stopped after {timeout:.0f} s or by signal {-code})")
        raise ImageBuildFailed(builder.name, image, "\n".join(tail))


def _stop(process: subprocess.Popen[bytes]) -> None:
    for sig in (signal.SIGTERM, signal.SIGKILL):
        try:
            os.killpg(process.pid, sig)
        except ProcessLookupError:
            return
        try:
            process.wait(timeout=10)
            return
        except subprocess.TimeoutExpired:
            continue
