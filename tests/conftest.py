"""Shared fixtures: an isolated tracking store per test, the seed model, and MLflow's
interpreters (the peer harness, tests/store/mlflow/_mlflow_peer.py)."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

# MLSERVE_TEST_REQUIRE_PEERS=1 (the README's test command, after .ci/peers) requires every real
# peer: a test whose peer is missing fails instead of skipping. Each peer has its own variable
# too, for running one suite.
PEER_REQUIREMENTS = (
    "MLSERVE_TEST_REQUIRE_MLFLOW",
    "MLSERVE_TEST_REQUIRE_MLSERVER",
    "MLSERVE_TEST_REQUIRE_BROWSER",
    "MLSERVE_TEST_REQUIRE_BUILDAH",
    "MLSERVE_TEST_REQUIRE_UV",
)
if os.environ.get("MLSERVE_TEST_REQUIRE_PEERS") == "1":
    for _name in PEER_REQUIREMENTS:
        os.environ.setdefault(_name, "1")

# isolated_tracking (autouse) and seed_data: the fixtures flavor plugins use too
pytest_plugins = ["mlserve.testing.fixtures"]


@pytest.fixture(scope="session")
def seed_model(seed_data):
    """The seed scenario's ``RandomForestClassifier(random_state=42)`` fitted on ``seed_data``."""
    from sklearn.ensemble import RandomForestClassifier

    X, y = seed_data
    return RandomForestClassifier(random_state=42).fit(X, y)


@pytest.fixture(scope="session")
def mlflow3_python() -> Path:
    """MLflow 3's interpreter (the peer harness, tests/store/mlflow/_mlflow_peer.py), checked to
    have the test venv's scikit-learn: skipped without it, a failure where MLflow is required."""
    from store.mlflow._mlflow_peer import check_peer, peer_python

    python = peer_python(3)
    check_peer(python, 3)
    return python


@pytest.fixture(scope="session")
def mlflow2_python() -> Path:
    """MLflow 2's interpreter, checked as :func:`mlflow3_python` is."""
    from store.mlflow._mlflow_peer import check_peer, peer_python

    python = peer_python(2)
    check_peer(python, 2)
    return python


@pytest.fixture
def site(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """An empty site-packages on ``sys.path`` for test distributions (``_flavor_dists``), with
    the flavor registry reset before and after, and the test flavors' modules forgotten."""
    from _flavor_dists import forget_modules

    from mlserve._flavor import reset_registry

    target = tmp_path / "site-packages"
    target.mkdir()
    monkeypatch.syspath_prepend(str(target))
    reset_registry()
    yield target
    reset_registry()
    forget_modules("mlserve_fake_flavor")
    forget_modules("mlserve_broken_flavor")
