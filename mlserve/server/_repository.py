"""The models a server holds, and the V2 repository extension that loads and unloads them live.

Every worker process holds its own loaded models; what *should* be loaded is one small JSON file
(``{"models": {name: uri}}``) that all workers share, created by the server before it forks. A
load or unload asked of one worker:

1. (load) builds the model in that worker first: a model that fails to load changes nothing,
   and the previous version keeps serving;
2. rewrites the file under an exclusive ``flock`` (read, change one entry, write a temporary
   file, ``os.replace``), so two workers' changes never overwrite each other;
3. is seen by every other worker at its next request (one ``stat`` per request compares the
   file's identity), which loads or drops models to match before it routes the request.

A request therefore never sees half a model: a name is routed only once that process holds the
model whole, and a request already holding a model keeps it to the end even if the model is
unloaded meanwhile. Without a state file (the development server, or the extension off) the set
of models is fixed at start-up.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import logging
import os
import re
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

from mlserve.errors import InvalidParameterValue, MlserveError, PayloadError
from mlserve.server._model_limits import ModelLimits
from mlserve.server._served import ServedModel, UnknownModel

__all__ = ["Repository", "load_request_uri"]

logger = logging.getLogger("mlserve.server")

_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,127}$")


class Repository:
    """The served models by name, kept in step with the shared state file when there is one.

    ``build(name, uri)`` loads a model and returns what serves it; it is only called for
    loads asked through the repository extension or seen in the state file. ``limits`` bound
    the models held (model_limits.py): a load past them unloads the least recently used idle
    models, never the first (default) one.
    """

    def __init__(
        self,
        models: dict[str, ServedModel],
        uris: dict[str, str],
        build: Callable[[str, str], ServedModel] | None = None,
        state: Path | None = None,
        limits: ModelLimits | None = None,
    ) -> None:
        self._models = dict(models)
        self._default = next(iter(models), "")
        self._limits = limits or ModelLimits()
        self._limits.check_start({n: m.memory for n, m in models.items()})
        self._uris = dict(uris)
        self._build = build
        self._state = state
        self._failed: dict[str, str] = {}
        self._seen: tuple[int, int, int] | None = None
        self._lock = threading.Lock()
        if state is not None:
            with self._exclusive():
                # the first process of a server writes the models it starts with; a worker
                # that builds its own app later (--no-preload, a replacement) must not undo
                # the loads made since: it catches up with the file at its first request
                if not state.exists():
                    self._write({"models": self._uris})

    @property
    def enabled(self) -> bool:
        """Whether models can be loaded and unloaded while serving."""
        return self._build is not None and self._state is not None

    def models(self) -> dict[str, ServedModel]:
        """The models this process serves now (after catching up with the state file)."""
        self.sync()
        return self._models

    # -- the shared state ----------------------------------------------------------------------

    def _identity(self) -> tuple[int, int, int] | None:
        assert self._state is not None
        try:
            st = os.stat(self._state)
        except FileNotFoundError:
            return None
        return (st.st_ino, st.st_mtime_ns, st.st_size)

    def sync(self) -> None:
        """Load and drop models so this process holds what the state file says (cheap when
        nothing changed: one ``stat``)."""
        if self._state is None or self._build is None or self._identity() == self._seen:
            return
        with self._lock:
            identity = self._identity()
            if identity == self._seen:
                return
            wanted = self._read().get("models", {})
            for name in [n for n in self._models if n not in wanted]:
                del self._models[name]
                self._uris.pop(name, None)
            for name, uri in wanted.items():
                if name in self._models and self._uris.get(name) == uri:
                    continue
                try:
                    self._models[name] = self._build(name, uri)
                    self._uris[name] = uri
                    self._failed.pop(name, None)
                except MlserveError as exc:  # the other workers serve it; this one says why
                    logger.error("Loading model %r (%s) failed: %s", name, uri, exc)
                    self._failed[name] = str(exc)
            self._seen = identity

    def _read(self) -> dict[str, Any]:
        assert self._state is not None
        try:
            data = json.loads(self._state.read_bytes())
        except (OSError, ValueError):
            return {"models": dict(self._uris)}
        return data if isinstance(data, dict) else {"models": dict(self._uris)}

    @contextlib.contextmanager
    def _exclusive(self) -> Any:
        assert self._state is not None
        with open(self._state.with_suffix(".lock"), "a") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(lock, fcntl.LOCK_UN)

    def _write(self, data: dict[str, Any]) -> None:
        assert self._state is not None
        tmp = self._state.with_name(f".{self._state.name}.{os.getpid()}.tmp")
        tmp.write_text(json.dumps(data), encoding="utf-8")
        os.replace(tmp, self._state)
        # _seen stays: the next sync reads the file once more and takes in what other workers
        # changed before this write (its own change is already in place, so nothing reloads)

    def _change(self, name: str, uri: str | None, dropped: tuple[str, ...] = ()) -> None:
        with self._exclusive():
            wanted = dict(self._read().get("models", {}))
            for gone in (*dropped, name) if uri is None else dropped:
                wanted.pop(gone, None)
            if uri is not None:
                wanted[name] = uri
            self._write({"models": wanted})

    # -- the repository extension --------------------------------------------------------------

    def index(self) -> list[dict[str, Any]]:
        """``POST /v2/repository/index``: every model with its state (and memory, when
        measured), then the ones whose last load failed here, with the reason."""
        found = []
        for name, served in sorted(self.models().items()):
            entry: dict[str, Any] = {"name": name}
            if served.version is not None:
                entry["version"] = served.version
            entry["state"] = "READY"
            if served.memory is not None:
                entry["memory_bytes"] = served.memory  # what loading it took, in this process
            found.append(entry)
        for name, reason in sorted(self._failed.items()):
            found.append({"name": name, "state": "UNAVAILABLE", "reason": reason[:500]})
        return found

    def load(self, name: str, uri: str | None) -> None:
        """Load ``uri`` as ``name`` (``uri`` None: reload what ``name`` was loaded from).

        The model is built first; only then does the name point at it, here and, through the
        state file, in every worker. A failing load raises and changes nothing; so does a load
        the limits cannot make room for. Models unloaded to make room go in the same change of
        the state file, so no worker ever serves both sets.
        """
        if self._build is None or self._state is None:
            raise InvalidParameterValue("The repository extension is off (--enable-repository).")
        if not _NAME.match(name):
            raise InvalidParameterValue(
                "A model name is 1-128 characters of [A-Za-z0-9_.-], starting with a letter or "
                "digit."
            )
        self.sync()
        uri = uri or self._uris.get(name)
        if not uri:
            raise InvalidParameterValue(
                f'No URI to load {name!r} from: send {{"parameters": {{"uri": "..."}}}}.'
            )
        with self._lock:
            served = self._build(name, uri)
            dropped: list[str] = []
            if self._limits.active:
                held = {n: (m.memory, m.usage) for n, m in self._models.items()}
                dropped = self._limits.to_unload(name, served.memory, held, (self._default,))
            for gone in dropped:
                logger.info("Unloading model %r (least recently used) to load %r", gone, name)
                del self._models[gone]
                self._uris.pop(gone, None)
            self._models[name] = served
            self._uris[name] = uri
            self._failed.pop(name, None)
            self._change(name, uri, tuple(dropped))

    def unload(self, name: str) -> None:
        """Stop serving ``name`` here and, through the state file, in every worker."""
        if self._build is None or self._state is None:
            raise InvalidParameterValue("The repository extension is off (--enable-repository).")
        self.sync()
        with self._lock:
            if name not in self._models:
                raise UnknownModel(name[:100], list(self._models))
            del self._models[name]
            self._uris.pop(name, None)
            self._change(name, None)


def load_request_uri(body: bytes) -> str | None:
    """``parameters.uri`` of a repository load request (an empty body: none)."""
    if not body.strip():
        return None
    try:
        doc = json.loads(body)
    except ValueError as exc:
        raise PayloadError("the load request body is not JSON") from exc
    parameters = doc.get("parameters") if isinstance(doc, dict) else None
    uri = parameters.get("uri") if isinstance(parameters, dict) else None
    if uri is not None and not isinstance(uri, str):
        raise PayloadError("parameters.uri must be a string")
    return uri
