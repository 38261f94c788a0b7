"""Shared fixtures: an isolated tracking store per test and the seed model."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

# isolated_tracking (autouse) and seed_data: the fixtures flavor plugins use too
pytest_plugins = ["mlserve.testing.fixtures"]


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
