"""The REST server: ``create_app(model)`` builds a plain WSGI app; ``python -m mlserve.server``
runs it in production (gunicorn pre-fork workers sharing one loaded model).

Needs the ``server`` extra (``pip install 'mlserve-core[server]'``); using :func:`create_app`
without it raises :class:`~mlserve.errors.MissingExtra` with that line. The names are resolved
lazily, so the option parsing (``mlserve.server.config``, used by ``mlserve --help``) works
without the extra.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from mlserve.server.app import ScoringApp, create_app

__all__ = ["ScoringApp", "create_app"]


def __getattr__(name: str) -> Any:
    if name in __all__:
        value = getattr(importlib.import_module("mlserve.server.app"), name)
        globals()[name] = value
        return value
    raise AttributeError(f"module 'mlserve.server' has no attribute {name!r}")
