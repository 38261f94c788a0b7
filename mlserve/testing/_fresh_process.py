"""The fresh-process check: a moved copy of a model directory loads and predicts in a new
Python process, which catches what one process cannot."""

from __future__ import annotations

import os
import pickle
import shutil
import subprocess
import sys
from pathlib import Path

from mlserve._flavor import Flavor
from mlserve.pyfunc import PyFuncModel
from mlserve.testing._compare import assert_predictions_equal

__all__ = ["check_fresh_process"]

_FRESH_PROCESS = """
import importlib, pickle, sys
from mlserve.pyfunc import PyFuncModel

directory, how, where, out = sys.argv[1:5]
if how == "import":
    module, _, attr = where.partition(":")
    flavor = getattr(importlib.import_module(module), attr)
else:
    with open(where, "rb") as src:
        flavor = pickle.load(src)
model = PyFuncModel.from_directory(directory, flavor=flavor)
with open(out, "wb") as dst:
    pickle.dump(model.predict(model.input_example), dst)
"""


def _flavor_reference(flavor: Flavor, scratch: Path) -> tuple[str, str]:
    """How a fresh process gets this very flavor: ``module:attribute`` when it is a module-level
    object (as an entry point requires), else a cloudpickle of it (a flavor defined in a test)."""
    module = sys.modules.get(type(flavor).__module__)
    if module is not None and module.__name__ != "__main__":
        for attr, value in vars(module).items():
            if value is flavor:
                return "import", f"{module.__name__}:{attr}"
    import cloudpickle

    target = scratch / "flavor.pkl"
    try:
        target.write_bytes(cloudpickle.dumps(flavor))
    except Exception as exc:
        raise AssertionError(
            f"flavor {flavor.name!r} is neither a module-level object nor picklable ({exc}); "
            "make it a module-level object, as the entry point needs"
        ) from exc
    return "pickle", str(target)


def check_fresh_process(
    flavor: Flavor, loaded: PyFuncModel, tmp_path: str | os.PathLike[str]
) -> None:
    """A copy of the model directory, moved elsewhere, loads in a new Python process and
    predicts what ``loaded`` predicts on the saved input example.

    Catches what one process cannot: a ``load`` that hands back an object kept in memory
    instead of reading the files, and absolute paths into the saved directory (it is renamed
    while the new process runs). The new process sees this one's ``sys.path``.
    """
    scratch = Path(tmp_path) / f"fresh-process-{flavor.name}"
    scratch.mkdir(parents=True, exist_ok=True)
    copy = scratch / "relocated-model"
    shutil.copytree(loaded.path, copy)
    how, where = _flavor_reference(flavor, scratch)
    out = scratch / "predictions.pkl"
    # relative entries ("", ".") mean this process's working directory, not the child's
    paths = [os.path.abspath(p or os.curdir) for p in sys.path]
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(paths)}
    original = Path(loaded.path)
    hidden = original.with_name(original.name + ".hidden-by-check")
    original.rename(hidden)  # an absolute path into the original must not find it
    try:
        proc = subprocess.run(
            [sys.executable, "-c", _FRESH_PROCESS, str(copy), how, where, str(out)],
            cwd=scratch,
            env=env,
            capture_output=True,
            text=True,
            timeout=300,
        )
    finally:
        hidden.rename(original)
    tail = "\n".join(proc.stderr.strip().splitlines()[-5:])
    assert proc.returncode == 0, (
        f"the model does not load and predict in a fresh process from a copy of its "
        f"directory:\n{tail}"
    )
    with open(out, "rb") as src:
        fresh = pickle.load(src)  # written by the child above, from this test's own model
    expected = loaded.predict(loaded.input_example)
    assert_predictions_equal(fresh, expected, what="predictions in a fresh process")
