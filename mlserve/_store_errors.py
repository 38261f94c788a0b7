"""The store's errors: runs, registered models, versions, aliases, logged models, and stores
that cannot be read or written. Part of :mod:`mlserve.errors` (imported and listed there); see
its docstring for the whole tree.
"""

from __future__ import annotations

from collections.abc import Iterable

from mlserve.errors import InvalidParameterValue, MlserveError, ResourceNotFound, _listing

__all__ = [
    "AliasNotFound",
    "LoggedModelNotFound",
    "ModelVersionNotFound",
    "ReadOnlyStore",
    "RegisteredModelNotFound",
    "RunNotFound",
    "StoreError",
    "UnsupportedStore",
]


def _searched(store: str) -> str:
    """`` (searched: <store>)`` for not-found messages, so users see where mlserve looked."""
    return f" Searched: {store}." if store else ""


class UnsupportedStore(InvalidParameterValue):
    """A tracking or artifact URI that names a kind of store mlserve cannot read."""

    def __init__(self, uri: str, reason: str) -> None:
        self.uri = uri
        self.reason = reason
        super().__init__(f"Cannot use {uri!r}: {reason}")


class ReadOnlyStore(InvalidParameterValue):
    """A write (log, register, alias) aimed at a store mlserve only reads, such as MLflow's."""

    def __init__(self, store: str, action: str) -> None:
        self.store = store
        self.action = action
        super().__init__(
            f"Cannot {action}: {store} is read-only for mlserve, which never writes into "
            "MLflow's stores. Write to mlserve's own store instead (set_tracking_uri(<dir>), "
            "MLSERVE_TRACKING_URI=<dir> or --tracking-uri <dir>), or copy a version across "
            "with `mlserve models import`."
        )


class RunNotFound(ResourceNotFound):
    """No run with this id exists in the tracking store."""

    def __init__(self, run_id: str, tracking_uri: str) -> None:
        self.run_id = run_id
        self.tracking_uri = tracking_uri
        super().__init__(f"Run {run_id!r} does not exist in {tracking_uri}.")


class RegisteredModelNotFound(ResourceNotFound):
    """No registered model with this name exists."""

    def __init__(self, name: str, existing: Iterable[str] = (), store: str = "") -> None:
        self.name = name
        self.existing = sorted(existing)
        self.store = store
        super().__init__(
            f"Registered model {name!r} does not exist. "
            f"Registered models: {_listing(self.existing)}.{_searched(store)}"
        )


class ModelVersionNotFound(ResourceNotFound):
    """A registered model exists but not this version of it."""

    def __init__(
        self, name: str, version: int | str, versions: Iterable[int] = (), store: str = ""
    ) -> None:
        self.name = name
        self.version = version
        self.versions = sorted(versions)
        self.store = store
        super().__init__(
            f"Version {version} of registered model {name!r} does not exist. "
            f"Versions: {_listing(self.versions)}.{_searched(store)}"
        )


class AliasNotFound(ResourceNotFound):
    """A registered model exists but has no such alias."""

    def __init__(self, name: str, alias: str, aliases: Iterable[str] = (), store: str = "") -> None:
        self.name = name
        self.alias = alias
        self.aliases = sorted(aliases)
        self.store = store
        super().__init__(
            f"Registered model {name!r} has no alias {alias!r}. "
            f"Aliases: {_listing(self.aliases)}.{_searched(store)}"
        )


class LoggedModelNotFound(ResourceNotFound):
    """No MLflow 3 logged model with this id (``models:/m-...``)."""

    def __init__(self, model_id: str, store: str = "") -> None:
        self.model_id = model_id
        self.store = store
        super().__init__(f"Logged model {model_id!r} does not exist.{_searched(store)}")


class StoreError(MlserveError):
    """A store that exists but cannot be read: a corrupt database, a tracking server that is
    unreachable, times out, refuses the credentials or fails. ``store`` names it."""

    def __init__(self, store: str, reason: str) -> None:
        self.store = store
        self.reason = reason
        super().__init__(f"Cannot read {store}: {reason}")
