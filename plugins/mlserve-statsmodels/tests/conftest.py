"""Fixtures: each test in its own directory, and the data set the tests fit models on.

Serving a model over HTTP is ``mlserve.testing.serve_model``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest


@pytest.fixture(autouse=True)
def _isolated_cwd(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # a test that logs a model must never leave ./mlruns in the source tree
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("MLSERVE_TRACKING_URI", raising=False)


@pytest.fixture(scope="session")
def data() -> Any:
    """A well-conditioned frame: features a, b, c, a linear target y and a binary target yb."""
    import numpy as np
    import pandas as pd

    rng = np.random.default_rng(42)
    X = rng.normal(size=(100, 3))
    signal = X @ np.array([1.5, -2.0, 0.5])
    frame = pd.DataFrame(X, columns=["a", "b", "c"])
    frame["y"] = signal + 1.0 + rng.normal(scale=0.1, size=100)
    frame["yb"] = (signal + rng.logistic(size=100) > 0).astype("int64")
    return frame
