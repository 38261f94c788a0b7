"""The artifact store: a small key/value + directory protocol and its local implementation.

Everything the tracking store writes goes through :class:`ArtifactStore`, keyed by '/'-separated
relative keys (``models/MyModel/versions/3.yaml``). The protocol only asks for operations that an
object store offers with the same guarantees:

=======================  ===============================  ==========================================
operation                local file system                S3 (future optional extra)
=======================  ===============================  ==========================================
``create_if_absent``     ``os.open(O_CREAT | O_EXCL)``    ``PutObject`` with ``If-None-Match: *``
``write_bytes``          temp file + ``os.replace``       ``PutObject`` (atomic per object)
``publish_dir``          staging dir + ``os.rename``      upload files, then a conditional marker
``delete_tree``          rename to trash + ``rmtree``     delete the marker first, then the objects
=======================  ===============================  ==========================================

Readers therefore never see half a file or half a model, and two writers racing for one key get
exactly one winner.
"""

from __future__ import annotations

import contextlib
import errno
import os
import shutil
import uuid
from pathlib import Path
from typing import Protocol, runtime_checkable

from mlserve.errors import ArtifactNotFound, InvalidName, ResourceAlreadyExists

__all__ = ["ArtifactStore", "LocalArtifactStore"]

# temporary and trash entries start with a dot: valid names never do, so they never collide
# with a run, a model or an alias, and listings skip them
_TMP = ".tmp-"
_TRASH = ".trash-"


@runtime_checkable
class ArtifactStore(Protocol):
    """What the runs and the registry need from storage.

    Keys are '/'-separated relative paths built from validated names. Implementations must make
    ``create_if_absent`` atomic (exactly one concurrent caller wins), ``write_bytes`` atomic
    (readers see the old or the new content) and ``publish_dir`` all-or-nothing.
    """

    @property
    def uri(self) -> str:
        """The store's location, for messages."""
        ...

    def read_bytes(self, key: str) -> bytes:
        """Return the object's content; raise ``ArtifactNotFound`` if it does not exist."""
        ...

    def write_bytes(self, key: str, data: bytes) -> None:
        """Create or replace the object atomically."""
        ...

    def create_if_absent(self, key: str, data: bytes = b"") -> bool:
        """Create the object only if no object has this key; return whether this call created it."""
        ...

    def exists(self, key: str) -> bool:
        """Whether an object or a published directory has this key."""
        ...

    def list_dir(self, key: str) -> list[str]:
        """Sorted names directly under ``key`` (temporary entries excluded); ``[]`` if none."""
        ...

    def delete(self, key: str) -> None:
        """Delete one object; a missing object is not an error."""
        ...

    def delete_tree(self, key: str) -> None:
        """Delete everything under ``key``, making it disappear for readers at once."""
        ...

    def staging_dir(self, key: str) -> Path:
        """Return a fresh, empty local directory whose content :meth:`publish_dir` can publish."""
        ...

    def publish_dir(self, staging: Path, key: str) -> None:
        """Publish a staging directory under ``key`` all at once.

        Raises ``ResourceAlreadyExists`` if something is already published there.
        """
        ...

    def discard(self, staging: Path) -> None:
        """Remove a staging directory that will not be published."""
        ...

    def local_path(self, key: str) -> Path:
        """A local path with the content of ``key`` (a download cache for remote stores)."""
        ...


class LocalArtifactStore:
    """:class:`ArtifactStore` on a local directory (created on the first write)."""

    def __init__(self, root: str | os.PathLike[str]) -> None:
        self.root = Path(root).absolute()

    def __repr__(self) -> str:
        return f"LocalArtifactStore({str(self.root)!r})"

    @property
    def uri(self) -> str:
        """The root directory as a ``file://`` URI."""
        return self.root.as_uri()

    def _path(self, key: str) -> Path:
        # keys are built from validated names; this is the last line of defence
        parts = key.split("/")
        if not key or any(p in ("", ".", "..") or "\\" in p or "\x00" in p for p in parts):
            raise InvalidName("store key", key, "it could leave the tracking root")
        return self.root.joinpath(*parts)

    def read_bytes(self, key: str) -> bytes:
        """Return the file's content; ``ArtifactNotFound`` if it does not exist."""
        try:
            return self._path(key).read_bytes()
        except (FileNotFoundError, NotADirectoryError, IsADirectoryError) as exc:
            raise ArtifactNotFound(f"{self.uri}/{key}") from exc

    def write_bytes(self, key: str, data: bytes) -> None:
        """Write to a temporary file next to the target, fsync it, then ``os.replace`` it."""
        path = self._path(key)
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(f"{_TMP}{path.name}-{uuid.uuid4().hex}")
        try:
            with open(tmp, "wb") as fh:
                fh.write(data)
                fh.flush()
                os.fsync(fh.fileno())
            os.replace(tmp, path)
        except BaseException:
            tmp.unlink(missing_ok=True)
            raise

    def create_if_absent(self, key: str, data: bytes = b"") -> bool:
        """Create the file with ``O_CREAT | O_EXCL``; ``False`` if it already exists.

        Meant for small claim markers: the winner is decided by the create, before ``data`` is
        written, so readers must not rely on the content of a marker they race with.
        """
        path = self._path(key)
        path.parent.mkdir(parents=True, exist_ok=True)
        try:
            fd = os.open(path, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o644)
        except FileExistsError:
            return False
        try:
            os.write(fd, data)
            os.fsync(fd)
        finally:
            os.close(fd)
        return True

    def exists(self, key: str) -> bool:
        """Whether a file or directory exists at ``key``."""
        return self._path(key).exists()

    def list_dir(self, key: str) -> list[str]:
        """Sorted entry names under ``key``, without temporary and trash entries."""
        try:
            names = os.listdir(self._path(key))
        except (FileNotFoundError, NotADirectoryError):
            return []
        return sorted(n for n in names if not n.startswith("."))

    def delete(self, key: str) -> None:
        """Unlink one file; missing is fine."""
        self._path(key).unlink(missing_ok=True)

    def delete_tree(self, key: str) -> None:
        """Rename the directory to a hidden trash name (atomic), then remove it."""
        path = self._path(key)
        trash = path.with_name(f"{_TRASH}{path.name}-{uuid.uuid4().hex}")
        try:
            os.rename(path, trash)
        except FileNotFoundError:
            return
        shutil.rmtree(trash, ignore_errors=True)

    def staging_dir(self, key: str) -> Path:
        """A hidden directory next to ``key``'s final place, so publishing is a same-disk rename."""
        path = self._path(key)
        path.parent.mkdir(parents=True, exist_ok=True)
        staging = path.with_name(f"{_TMP}{path.name}-{uuid.uuid4().hex}")
        staging.mkdir()
        return staging

    def publish_dir(self, staging: Path, key: str) -> None:
        """``os.rename`` the staging directory into place; ``ResourceAlreadyExists`` if taken."""
        path = self._path(key)
        if path.exists() and (not path.is_dir() or any(path.iterdir())):
            raise ResourceAlreadyExists("Artifact", key)
        path.parent.mkdir(parents=True, exist_ok=True)
        try:
            os.rename(staging, path)
        except OSError as exc:
            # another writer published first: rename refuses a non-empty target directory
            if exc.errno in (errno.EEXIST, errno.ENOTEMPTY) or isinstance(exc, FileExistsError):
                raise ResourceAlreadyExists("Artifact", key) from exc
            raise

    def discard(self, staging: Path) -> None:
        """Remove a staging directory."""
        with contextlib.suppress(FileNotFoundError):
            shutil.rmtree(staging)

    def local_path(self, key: str) -> Path:
        """The path of ``key`` under the root (it may not exist)."""
        return self._path(key)
