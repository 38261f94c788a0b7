"""Fixtures: mlserve.testing.fixtures (each test in its own directory), and the frame the tests
fit models on."""

from __future__ import annotations

from typing import Any

import pytest

pytest_plugins = ["mlserve.testing.fixtures"]


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
