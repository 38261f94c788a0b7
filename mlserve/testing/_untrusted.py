"""The trust check for flavors whose format is a pickle: the trust policy is asked before the
file is unpickled, so a model from an untrusted source cannot run code while it loads."""

from __future__ import annotations

import contextlib
import os
import pickle
import shutil
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

from mlserve._api._models import load_model
from mlserve.errors import UntrustedModel
from mlserve.mlmodel import Model

__all__ = ["check_refuses_untrusted_pickle"]


class _WritesMarker:
    """Unpickling this runs code the file chose: it writes ``marker``."""

    def __init__(self, marker: Path) -> None:
        self.marker = marker

    def __reduce__(self) -> tuple[Any, tuple[str]]:
        # exec with a string: the file names no class of ours, so any unpickler runs it
        return (exec, (f"import pathlib; pathlib.Path({str(self.marker)!r}).write_text('ran')",))


def _pickle_dump(obj: Any, target: Path) -> None:
    target.write_bytes(pickle.dumps(obj))


def check_refuses_untrusted_pickle(
    path: str | os.PathLike[str],
    pickle_file: str,
    tmp_path: str | os.PathLike[str],
    *,
    dump: Callable[[Any, Path], None] = _pickle_dump,
) -> None:
    """A flavor asks the trust policy before it unpickles ``pickle_file`` of the model at
    ``path``, so a policy that refuses pickles stops a hostile file before it runs.

    On a copy of the model under ``tmp_path``: the model loads where pickles are allowed; then
    ``pickle_file`` (relative to the model directory) is replaced by a pickle that writes a
    marker file when it is loaded, written by ``dump(obj, target)`` (``pickle.dumps`` by
    default; ``torch.save`` for a PyTorch file, say), and the digests are dropped from
    ``MLmodel``, as in a model MLflow wrote, so only the policy stands in the way. Loading
    under ``trust="no-pickle"`` must raise :class:`~mlserve.errors.UntrustedModel` naming the
    file, with the hostile code not run; loading under ``trust="pickle"`` must run it, which
    shows that this very file is what the flavor unpickles (a check on another file would pass
    for the wrong reason).
    """
    Path(tmp_path).mkdir(parents=True, exist_ok=True)
    # a directory of its own, so the check can run more than once in one test
    scratch = Path(tempfile.mkdtemp(prefix="untrusted-pickle-", dir=tmp_path))
    model = scratch / "model"
    shutil.copytree(path, model)
    load_model(model, trust="pickle")  # the model as saved loads: its failure is not ours to see
    target = model / pickle_file
    assert target.is_file(), f"the model has no file {pickle_file!r} to replace"
    marker = scratch / "ran"
    dump(_WritesMarker(marker), target)
    meta = Model.load(model)
    meta.mlserve_digests = None  # as MLflow writes models: only the policy stands in the way
    meta.save(model)
    try:
        load_model(model, trust="no-pickle")
    except UntrustedModel as exc:
        assert not marker.exists(), "the hostile pickle ran before the trust policy refused it"
        reason = str(exc)
        assert f"{pickle_file} is a pickle" in reason and "refuses pickles" in reason, (
            f"the refusal should name {pickle_file!r} and the policy; it says: {reason}"
        )
    except Exception as exc:  # the unpickled object is no model: loading it fails somehow
        raise AssertionError(
            f"a model whose {pickle_file} is a pickle was not refused under trust='no-pickle'"
            f"{': the pickle ran' if marker.exists() else ''} ({type(exc).__name__}: {exc})"
        ) from exc
    else:
        raise AssertionError(
            f"a model whose {pickle_file} is a pickle loaded under trust='no-pickle'"
            f"{': the pickle ran' if marker.exists() else ''}"
        )
    # the unpickled object is no model: whatever fails after it ran is beside the point
    with contextlib.suppress(Exception):
        load_model(model, trust="pickle")
    assert marker.exists(), (
        f"{pickle_file} was not unpickled where the policy allows pickles: pass the file the "
        "flavor loads"
    )
