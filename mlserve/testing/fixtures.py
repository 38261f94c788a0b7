"""pytest fixtures for flavor plugins' test suites: load them with one line in ``conftest.py``::

    pytest_plugins = ["mlserve.testing.fixtures"]

- ``isolated_tracking`` (autouse): each test runs in its own ``tmp_path`` with no tracking URI,
  registry URI or trust policy from the developer's environment (mlserve's or MLflow's), so a
  test that logs a model never leaves ``./mlserve-store`` or ``./mlruns`` in the source tree; the
  active run and the tracking URI are reset afterwards.
- ``seed_data``: the seed scenario's data, ``make_classification(100, 4, random_state=42)``
  (needs scikit-learn).

Serving a model over HTTP is :func:`mlserve.testing.serve_model`.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

__all__ = ["isolated_tracking", "seed_data"]

_ENVIRONMENT = (
    "MLSERVE_TRACKING_URI",
    "MLFLOW_TRACKING_URI",
    "MLFLOW_REGISTRY_URI",
    # the trust policy the process would load under (mlserve._trust)
    "MLSERVE_TRUST",
    "MLFLOW_ALLOW_PICKLE_DESERIALIZATION",
)


@pytest.fixture(autouse=True)
def isolated_tracking(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Run the test in its own directory with no tracking URI or trust policy from the
    environment; end any run it leaves active and forget its tracking URI afterwards."""
    monkeypatch.chdir(tmp_path)
    for name in _ENVIRONMENT:
        monkeypatch.delenv(name, raising=False)
    yield
    # the tracking URI and the active run are process-global: leave neither to the next test
    import mlserve

    while mlserve.active_run() is not None:
        mlserve.end_run()
    mlserve.set_tracking_uri(None)


@pytest.fixture(scope="session")
def seed_data() -> tuple[Any, Any]:
    """The seed scenario's training data: ``make_classification(100, 4, random_state=42)``."""
    from sklearn.datasets import make_classification

    return make_classification(n_samples=100, n_features=4, random_state=42)
