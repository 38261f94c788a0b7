"""Shared fixtures: an isolated tracking store per test and the seed model."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest


@pytest.fixture(autouse=True)
def _isolated_tracking(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Run every test in its own directory so the default store never lands in the repo, and
    with no tracking URI or trust policy from the developer's environment (mlserve's or
    MLflow's)."""
    monkeypatch.chdir(tmp_path)
    for name in (
        "MLSERVE_TRACKING_URI",
        "MLFLOW_TRACKING_URI",
        "MLFLOW_REGISTRY_URI",
        # the trust policy the process would load under (mlserve.trust)
        "MLSERVE_TRUST",
        "MLFLOW_ALLOW_PICKLE_DESERIALIZATION",
    ):
        monkeypatch.delenv(name, raising=False)
    yield
    # the tracking URI and the active run are process-global: leave neither to the next test
    import mlserve

    while mlserve.active_run() is not None:
        mlserve.end_run()
    mlserve.set_tracking_uri(None)


@pytest.fixture(scope="session")
def seed_data():
    """The seed scenario's training data: ``make_classification(100, 4, random_state=42)``."""
    from sklearn.datasets import make_classification

    return make_classification(n_samples=100, n_features=4, random_state=42)


@pytest.fixture(scope="session")
def seed_model(seed_data):
    """The seed scenario's ``RandomForestClassifier(random_state=42)`` fitted on ``seed_data``."""
    from sklearn.ensemble import RandomForestClassifier

    X, y = seed_data
    return RandomForestClassifier(random_state=42).fit(X, y)


@pytest.fixture
def site(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """An empty site-packages on ``sys.path`` for test distributions (``_flavor_dists``), with
    the flavor registry reset before and after, and the test flavors' modules forgotten."""
    from _flavor_dists import forget_modules

    from mlserve.flavor import reset_registry

    target = tmp_path / "site-packages"
    target.mkdir()
    monkeypatch.syspath_prepend(str(target))
    reset_registry()
    yield target
    reset_registry()
    forget_modules("mlserve_fake_flavor")
    forget_modules("mlserve_broken_flavor")
