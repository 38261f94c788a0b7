"""The mlserve exception tree.

Every error mlserve raises on purpose derives from :class:`MlserveError`. Each class carries an
MLflow-compatible ``error_code`` as a class attribute, takes its data as constructor arguments,
keeps that data in attributes, and builds its message from it. Callers branch on the class or the
attributes, never on the message text. Foreign exceptions (yaml, json, pandas, OS errors) are
translated at the boundary with ``raise ... from exc``.

::

    MlserveError                              INTERNAL_ERROR
    ├── BadRequest (ValueError)                BAD_REQUEST
    │   ├── PayloadError                       a request body that cannot be decoded
    │   ├── UnsupportedContentType             a media type no codec handles (HTTP 415)
    │   ├── PayloadTooLarge                    columns, rows or memory past a limit (413)
    │   └── ModelPredictError                  the model raised inside predict
    ├── InvalidParameterValue (ValueError)     INVALID_PARAMETER_VALUE
    │   ├── SchemaMismatch                     data does not fit the signature
    │   │   └── InvalidColumnValue             BAD_REQUEST: a value does not fit its column's type
    │   ├── InvalidParams                      inference params do not fit the signature
    │   ├── InvalidSignature                   a signature that does not parse
    │   ├── MalformedModel                     a missing or malformed MLmodel file
    │   ├── InvalidURI                         a model URI that does not parse
    │   ├── InvalidName                        a run / model / alias name that is not allowed
    │   ├── UnsupportedStore                   a tracking URI of a store kind mlserve cannot read
    │   ├── ReadOnlyStore                      a write aimed at a store mlserve only reads
    │   └── NoFlavorForModel (TypeError)       no installed flavor can save this object
    ├── ResourceNotFound (LookupError)         RESOURCE_DOES_NOT_EXIST
    │   ├── FlavorNotFound                     the model needs a flavor that is not installed
    │   ├── RunNotFound
    │   ├── RegisteredModelNotFound
    │   ├── ModelVersionNotFound
    │   ├── AliasNotFound
    │   ├── LoggedModelNotFound                an MLflow 3 logged model id (models:/m-...)
    │   └── ArtifactNotFound
    ├── ResourceAlreadyExists                  RESOURCE_ALREADY_EXISTS
    ├── UntrustedModel                         PERMISSION_DENIED: the trust policy refuses a model
    │   └── DigestMismatch                     a model file changed since it was saved
    ├── ServerBusy                             TEMPORARILY_UNAVAILABLE: queue full (HTTP 503)
    ├── RequestTimeout                         DEADLINE_EXCEEDED: predict too slow (HTTP 504)
    ├── StoreError                             INTERNAL_ERROR: a store that cannot be read (corrupt
    │                                          database, tracking server down, refused or failing)
    ├── FlavorError                            INTERNAL_ERROR: a plugin is broken or conflicts
    │   ├── BrokenFlavor                       an entry point that fails to import or validate
    │   └── FlavorConflict                     two distributions claim one flavor name
    └── MissingExtra (ImportError)             an optional dependency is not installed
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import ClassVar

__all__ = [
    "AliasNotFound",
    "ArtifactNotFound",
    "BadRequest",
    "BrokenFlavor",
    "DigestMismatch",
    "FlavorConflict",
    "FlavorError",
    "FlavorNotFound",
    "InvalidColumnValue",
    "InvalidName",
    "InvalidParameterValue",
    "InvalidParams",
    "InvalidSignature",
    "InvalidURI",
    "LoggedModelNotFound",
    "MalformedModel",
    "MissingExtra",
    "MlserveError",
    "ModelPredictError",
    "ModelVersionNotFound",
    "NoFlavorForModel",
    "PayloadError",
    "PayloadTooLarge",
    "ReadOnlyStore",
    "RegisteredModelNotFound",
    "RequestTimeout",
    "ResourceAlreadyExists",
    "ResourceNotFound",
    "RunNotFound",
    "SchemaMismatch",
    "ServerBusy",
    "StoreError",
    "UnsupportedContentType",
    "UnsupportedStore",
    "UntrustedModel",
]


def _listing(items: Iterable[object], empty: str = "none") -> str:
    """Render a short, sorted, comma-separated list for an error message."""
    names = sorted(str(i) for i in items)
    if not names:
        return empty
    if len(names) > 20:
        return ", ".join(names[:20]) + f", ... ({len(names) - 20} more)"
    return ", ".join(names)


class MlserveError(Exception):
    """Root of every error mlserve raises on purpose.

    ``error_code`` is the MLflow-compatible code a REST client sees in the JSON error body.
    """

    error_code: ClassVar[str] = "INTERNAL_ERROR"

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message

    def __str__(self) -> str:
        return self.message


# -- BAD_REQUEST -------------------------------------------------------------------------------


class BadRequest(MlserveError, ValueError):
    """The client sent something that cannot be served."""

    error_code: ClassVar[str] = "BAD_REQUEST"


class PayloadError(BadRequest):
    """A request body that cannot be decoded; ``reason`` says what was expected.

    The message never contains the body itself.
    """

    def __init__(self, reason: str) -> None:
        self.reason = reason
        super().__init__(f"Invalid request body: {reason}")


class PayloadTooLarge(BadRequest):
    """A request with more columns or rows than the decoder accepts, or one whose decoding
    would take more memory than allowed (HTTP 413).

    Refused before any per-column work, so a body's cost is bounded by the limits, not by what
    a client chose to send. ``what`` is ``"columns"``, ``"rows"`` or ``"memory"`` (then
    ``count`` and ``limit`` are bytes, ``count`` an estimate).
    """

    error_code: ClassVar[str] = "RESOURCE_EXHAUSTED"

    def __init__(self, what: str, count: int, limit: int, option: str) -> None:
        self.what = what
        self.count = count
        self.limit = limit
        self.option = option
        if what == "memory":
            message = (
                f"Decoding the request would take about {_mib(count)} of memory; the limit is "
                f"{_mib(limit)} ({option}). Send fewer rows per request, or raise the limit."
            )
        else:
            message = (
                f"The request has {count} {what}; the limit is {limit} ({option}). Send fewer "
                f"{what} per request, or raise the limit."
            )
        super().__init__(message)


def _mib(size: int) -> str:
    return f"{size / (1024 * 1024):.0f} MiB" if size >= 1024 * 1024 else f"{size} bytes"


class UnsupportedContentType(BadRequest):
    """A request whose media type no codec handles (the server answers 415)."""

    def __init__(
        self, content_type: str | None, supported: Iterable[str], reason: str | None = None
    ) -> None:
        self.content_type = content_type
        self.supported = sorted(supported)
        got = repr(content_type) if content_type else "no Content-Type header"
        # ``reason`` says what is wrong with a media type that is supported (its parameters)
        why = reason if reason is not None else f"Supported: {_listing(self.supported)}"
        super().__init__(f"Unsupported content type: {got}{':' if reason else '.'} {why}.")


class ModelPredictError(BadRequest):
    """The model raised inside ``predict``; carries the exception type and its message."""

    def __init__(self, exc_type: str, detail: str) -> None:
        self.exc_type = exc_type
        self.detail = detail
        super().__init__(f"Model prediction failed: {exc_type}: {detail}")


# -- INVALID_PARAMETER_VALUE -------------------------------------------------------------------


class InvalidParameterValue(MlserveError, ValueError):
    """A value that does not fit what was declared (signature, name rules, URI grammar)."""

    error_code: ClassVar[str] = "INVALID_PARAMETER_VALUE"


class SchemaMismatch(InvalidParameterValue):
    """Input data that does not fit the model signature.

    ``column`` names the input (or ``None`` for a tensor / the whole input), ``expected`` the
    declared type or shape, ``found`` the kind of value seen (never the data itself).
    """

    def __init__(self, column: str | None, expected: str, found: str) -> None:
        self.column = column
        self.expected = expected
        self.found = found
        where = f"column {column!r}" if column is not None else "input"
        super().__init__(f"Schema mismatch for {where}: expected {expected}, found {found}.")


class InvalidColumnValue(SchemaMismatch):
    """A value of a column that does not fit the column's declared type (``"x"`` for a
    ``double``, a null in a required column, an object missing a required property).

    Its ``error_code`` is ``BAD_REQUEST``, as MLflow's scoring server answers these: it fails
    while casting the request to the signature's types, before enforcement, where a missing
    column (a plain :class:`SchemaMismatch`) is ``INVALID_PARAMETER_VALUE``. Still a
    :class:`SchemaMismatch`, so callers catch both alike.
    """

    error_code: ClassVar[str] = "BAD_REQUEST"


class InvalidParams(InvalidParameterValue):
    """Inference params that do not fit the signature's params."""

    def __init__(self, reason: str) -> None:
        self.reason = reason
        super().__init__(f"Invalid params: {reason}")


class InvalidSignature(InvalidParameterValue):
    """A signature (or one of its specs) that does not parse."""

    def __init__(self, reason: str) -> None:
        self.reason = reason
        super().__init__(f"Invalid model signature: {reason}")


class MalformedModel(InvalidParameterValue):
    """A model directory whose MLmodel file is missing, unreadable or malformed."""

    def __init__(self, path: str, reason: str) -> None:
        self.path = path
        self.reason = reason
        super().__init__(f"Cannot read model at {path}: {reason}")


class InvalidURI(InvalidParameterValue):
    """A model URI that does not parse; ``reason`` shows the accepted forms."""

    def __init__(self, uri: str, reason: str) -> None:
        self.uri = uri
        self.reason = reason
        super().__init__(f"Invalid model URI {uri!r}: {reason}")


class InvalidName(InvalidParameterValue):
    """A run, model, artifact or alias name that is not allowed (e.g. it could escape the store)."""

    def __init__(self, kind: str, name: str, reason: str) -> None:
        self.kind = kind
        self.name = name
        self.reason = reason
        super().__init__(f"Invalid {kind} name {name!r}: {reason}")


class NoFlavorForModel(InvalidParameterValue, TypeError):
    """No installed flavor declares it can save this object."""

    def __init__(self, type_name: str, installed: Iterable[str]) -> None:
        self.type_name = type_name
        self.installed = sorted(installed)
        super().__init__(
            f"No installed flavor can save an object of type {type_name}; pass flavor=... "
            f"explicitly. Installed flavors: {_listing(self.installed)}."
        )


# -- RESOURCE_DOES_NOT_EXIST -------------------------------------------------------------------


class ResourceNotFound(MlserveError, LookupError):
    """Something that was asked for by name does not exist."""

    error_code: ClassVar[str] = "RESOURCE_DOES_NOT_EXIST"


class FlavorNotFound(ResourceNotFound):
    """A model needs a flavor that is not installed; the message lists the installed ones."""

    def __init__(self, name: str, installed: Iterable[str]) -> None:
        self.name = name
        self.installed = sorted(installed)
        super().__init__(
            f"Flavor {name!r} is not installed. Installed flavors: {_listing(self.installed)}."
        )


class ArtifactNotFound(ResourceNotFound):
    """A path inside a run or model that does not exist."""

    def __init__(self, path: str) -> None:
        self.path = path
        super().__init__(f"No model or artifact at {path}.")


# -- RESOURCE_ALREADY_EXISTS -------------------------------------------------------------------


class ResourceAlreadyExists(MlserveError):
    """Something that must be unique already exists (a registered model, a saved model path)."""

    error_code: ClassVar[str] = "RESOURCE_ALREADY_EXISTS"

    def __init__(self, kind: str, name: str) -> None:
        self.kind = kind
        self.name = name
        super().__init__(f"{kind} {name!r} already exists.")


# -- PERMISSION_DENIED: what loading a model may run -------------------------------------------


class UntrustedModel(MlserveError):
    """The trust policy in effect refuses to load this model (see ``docs/security.md``):
    a pickle format where pickles are not allowed, no digests where they are required, or a
    pickle the scanner flags. ``path`` is the model directory; ``reason`` says what to change."""

    error_code: ClassVar[str] = "PERMISSION_DENIED"

    def __init__(self, path: str, reason: str) -> None:
        self.path = path
        self.reason = reason
        super().__init__(f"Refusing to load the model at {path}: {reason}")


class DigestMismatch(UntrustedModel):
    """A file of a model directory differs from the digest recorded when the model was saved
    (changed, missing, or added since). ``file`` is its path inside the model directory."""

    def __init__(self, path: str, file: str, reason: str) -> None:
        self.file = file
        super().__init__(path, f"{file} {reason} since the model was saved (digest mismatch)")


# -- load shedding and deadlines -------------------------------------------------------------


class ServerBusy(MlserveError):
    """The server's queue is full; the client should retry after ``retry_after`` seconds."""

    error_code: ClassVar[str] = "TEMPORARILY_UNAVAILABLE"

    def __init__(self, retry_after: float = 1.0) -> None:
        self.retry_after = retry_after
        super().__init__(f"The server is busy; retry after {retry_after:g} s.")


class RequestTimeout(MlserveError):
    """A prediction did not finish within the configured per-request timeout."""

    error_code: ClassVar[str] = "DEADLINE_EXCEEDED"

    def __init__(self, timeout: float) -> None:
        self.timeout = timeout
        super().__init__(f"The prediction did not finish within {timeout:g} s.")


# The plugins' and the stores' errors live in their own modules to keep this one readable;
# they are part of this module's surface (mlserve.errors.BrokenFlavor, .RunNotFound, ...).
from mlserve._plugin_errors import (  # noqa: E402
    BrokenFlavor,
    FlavorConflict,
    FlavorError,
    MissingExtra,
)
from mlserve._store_errors import (  # noqa: E402
    AliasNotFound,
    LoggedModelNotFound,
    ModelVersionNotFound,
    ReadOnlyStore,
    RegisteredModelNotFound,
    RunNotFound,
    StoreError,
    UnsupportedStore,
)
