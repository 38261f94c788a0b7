"""The name this package is installed under, and its installed version.

The import name is ``mlserve``; the distribution is ``mlserve-core``, because ``mlserve`` on the
public package index is an unrelated project. Install lines, the requirement a saved model lists
and the flavor registry's notion of "our own flavors" all name it from here.
"""

from __future__ import annotations

from importlib.metadata import PackageNotFoundError
from importlib.metadata import version as _installed_version

__all__ = ["DISTRIBUTION", "installed_version", "pip_install"]

DISTRIBUTION = "mlserve-core"


def installed_version() -> str:
    """The installed version of this distribution; ``0.0.0+unknown`` for a source tree that was
    never installed."""
    try:
        return _installed_version(DISTRIBUTION)
    except PackageNotFoundError:
        return "0.0.0+unknown"


def pip_install(extra: str) -> str:
    """The line that installs ``extra``: ``pip install 'mlserve-core[server]'``."""
    return f"pip install '{DISTRIBUTION}[{extra}]'"
