"""The REST server: ``create_app(model)`` builds a plain WSGI app; ``python -m mlserve.server``
(or ``serve(ServerConfig(...))`` from Python) runs it in production (gunicorn pre-fork workers
sharing one loaded model).

Needs the ``server`` extra (``pip install 'mlserve-core[server]'``); using :func:`create_app`
or :func:`serve` without it raises :class:`~mlserve.errors.MissingExtra` with that line. The
names are resolved lazily, so the option parsing (``ServerConfig``, used by ``mlserve --help``)
works without the extra. Every module of this package is private (``_app``, ``_runner``, ...):
the names here are its API.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from mlserve.server._app import AppOptions as AppOptions
    from mlserve.server._app import ScoringApp as ScoringApp
    from mlserve.server._app import create_app as create_app
    from mlserve.server._config import ServerConfig as ServerConfig
    from mlserve.server._runner import serve as serve

# public name -> the private module that defines it
_HOMES = {
    "AppOptions": "mlserve.server._app",
    "ScoringApp": "mlserve.server._app",
    "ServerConfig": "mlserve.server._config",
    "create_app": "mlserve.server._app",
    "serve": "mlserve.server._runner",
}
__all__ = sorted(_HOMES)


def __getattr__(name: str) -> Any:
    if name in _HOMES:
        value = getattr(importlib.import_module(_HOMES[name]), name)
        globals()[name] = value
        return value
    raise AttributeError(f"module 'mlserve.server' has no attribute {name!r}")
