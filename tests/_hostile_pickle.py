"""Hostile pickles for the trust tests: files whose unpickling runs code the file chose.

One definition for the suites that swap a model's pickle for one of these (the loader, the
server and the CLI under the trust policy, a ``code:`` path that escapes the model). A flavor's
own suite uses :func:`mlserve.testing.check_refuses_untrusted_pickle` instead, which builds its
hostile file the same way.
"""

from __future__ import annotations

import pickle
from pathlib import Path
from typing import Any


class _WritesMarker:
    """Unpickling this runs ``exec`` on code chosen by whoever wrote the file: it writes
    ``marker``. The file names no class of ours, so any unpickler runs it."""

    def __init__(self, marker: Path) -> None:
        self.marker = marker

    def __reduce__(self) -> tuple[Any, tuple[str]]:
        return (exec, (f"import pathlib; pathlib.Path({str(self.marker)!r}).write_text('ran')",))


class _Imports:
    """Unpickling this imports ``module``, from wherever ``sys.path`` finds it first."""

    def __init__(self, module: str) -> None:
        self.module = module

    def __reduce__(self) -> tuple[Any, tuple[str]]:
        return (__import__, (self.module,))


def writes_marker(marker: Path) -> bytes:
    """A pickle that writes ``'ran'`` to ``marker`` when it is loaded."""
    return pickle.dumps(_WritesMarker(marker))


def imports_module(module: str) -> bytes:
    """A pickle that imports ``module`` when it is loaded (its import-time code runs)."""
    return pickle.dumps(_Imports(module))
