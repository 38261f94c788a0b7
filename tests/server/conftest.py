"""Server fixtures: the seed model and friends, saved for real with ``mlserve.save_model``."""

from __future__ import annotations

from pathlib import Path

import pytest

from .helpers import heavy_function, sleepy_function


@pytest.fixture(scope="session")
def seed_model_dir(tmp_path_factory: pytest.TempPathFactory, seed_model) -> Path:  # type: ignore[no-untyped-def]
    """The seed RandomForest saved with ``mlserve.save_model``, without a signature (as the
    seed scenario logs it)."""
    import mlserve

    path = tmp_path_factory.mktemp("models") / "seed"
    mlserve.save_model(seed_model, path)
    return path


@pytest.fixture(scope="session")
def typed_model_dir(tmp_path_factory: pytest.TempPathFactory, seed_model, seed_data) -> Path:  # type: ignore[no-untyped-def]
    """The seed RandomForest saved with a named-column input example (so it has a ColSpec
    signature and a serving input example)."""
    import pandas as pd

    import mlserve

    X, _ = seed_data
    example = pd.DataFrame(X[:2], columns=["a", "b", "c", "d"])
    path = tmp_path_factory.mktemp("models") / "typed"
    mlserve.save_model(seed_model, path, input_example=example)
    return path


@pytest.fixture(scope="session")
def sleepy_model_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A python_function model that sleeps, raises or misbehaves on demand (see
    ``SLEEPY_SOURCE``)."""
    import mlserve

    path = tmp_path_factory.mktemp("models") / "sleepy"
    mlserve.save_model(sleepy_function(), path, flavor="python_function")
    return path


@pytest.fixture(scope="session")
def registry(tmp_path_factory: pytest.TempPathFactory, seed_model) -> Path:  # type: ignore[no-untyped-def]
    """A tracking store holding the seed scenario: the RandomForest logged and registered as
    ``MyRandomForest``."""
    import mlserve

    store = tmp_path_factory.mktemp("mlruns")
    mlserve.set_tracking_uri(str(store))
    try:
        with mlserve.start_run():
            mlserve.log_model(
                seed_model, "random-forest-model", registered_model_name="MyRandomForest"
            )
    finally:
        mlserve.set_tracking_uri(None)
    return store


@pytest.fixture(scope="session")
def heavy_model_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A python_function model with 64 MiB of weights (see ``HEAVY_SOURCE``)."""
    import mlserve

    path = tmp_path_factory.mktemp("models") / "heavy"
    mlserve.save_model(heavy_function(), path, flavor="python_function")
    return path
