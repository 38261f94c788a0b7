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
def seed_data() -> tuple[Any, Any]:
    """The seed scenario's data: 100 rows, 4 features, 2 classes."""
    from sklearn.datasets import make_classification

    return make_classification(n_samples=100, n_features=4, random_state=42)
