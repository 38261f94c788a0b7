"""The REST server: ``create_app(model)`` builds a plain WSGI app; ``python -m mlserve.server``
runs it in production (gunicorn pre-fork workers sharing one loaded model).

Needs the ``server`` extra (``pip install 'mlserve[server]'``); importing this package without
it raises :class:`~mlserve.errors.MissingExtra` with that line.
"""

from __future__ import annotations

from mlserve.server.app import ScoringApp, create_app

__all__ = ["ScoringApp", "create_app"]
