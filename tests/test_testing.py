"""The conformance kit passes good flavors and fails broken ones with a useful message."""

from __future__ import annotations

from collections.abc import Iterator
from importlib.metadata import EntryPoint
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from mlserve.flavor import ENTRY_POINT_GROUP, get_flavor, reset_registry
from mlserve.flavors.sklearn import SklearnFlavor
from mlserve.testing import (
    assert_predictions_equal,
    check_flavor,
    check_mlmodel,
    check_protocol,
)


class ForgetfulFlavor(SklearnFlavor):
    """Loads a fresh, differently-fitted model instead of the saved one."""

    name = "forgetful"

    def save(self, obj, path, **options):
        section = super().save(obj, path, **options)
        del section["python_function"]  # or loading would pick the real sklearn flavor
        return section

    def load(self, path, section):
        from sklearn.dummy import DummyClassifier

        return DummyClassifier(strategy="constant", constant=7).fit([[0] * 4], [7])


class NoMethods:
    name = "nomethods"


forgetful = ForgetfulFlavor()


@pytest.fixture
def registry() -> Iterator[None]:
    def source():
        yield EntryPoint("forgetful", f"{__name__}:forgetful", ENTRY_POINT_GROUP)
        yield from (
            EntryPoint(n, f"mlserve.flavors.{n}:flavor", ENTRY_POINT_GROUP)
            for n in ("sklearn", "python_function")
        )

    reset_registry(source)
    yield
    reset_registry()


def test_our_sklearn_flavor_passes(seed_model, seed_data, tmp_path: Path) -> None:
    X, _ = seed_data
    loaded = check_flavor(get_flavor("sklearn"), seed_model, X[:6], tmp_path)
    assert loaded.flavor == "sklearn"


@pytest.mark.usefixtures("registry")
def test_wrong_predictions_fail(seed_model, seed_data, tmp_path: Path) -> None:
    X, _ = seed_data
    with pytest.raises(AssertionError, match="loaded model's predictions"):
        check_flavor(forgetful, seed_model, X[:6], tmp_path)


@pytest.mark.usefixtures("registry")
def test_a_section_that_routes_to_another_flavor_fails(seed_model, seed_data, tmp_path) -> None:
    class Impostor(SklearnFlavor):
        name = "forgetful"  # saves an mlflow.sklearn pyfunc section: loads as "sklearn"

    X, _ = seed_data
    with pytest.raises(AssertionError, match="loading picks flavor 'sklearn'"):
        check_flavor(Impostor(), seed_model, X[:6], tmp_path)


def test_protocol_shape_is_checked() -> None:
    with pytest.raises(AssertionError, match="lacks the method"):
        check_protocol(NoMethods())  # type: ignore[arg-type]


def test_an_edited_mlmodel_that_does_not_round_trip_fails(seed_model, tmp_path: Path) -> None:
    import mlserve

    mlserve.save_model(seed_model, tmp_path / "m")
    check_mlmodel(tmp_path / "m")
    (tmp_path / "m" / "requirements.txt").unlink()
    with pytest.raises(AssertionError, match=r"requirements\.txt is missing"):
        check_mlmodel(tmp_path / "m")


@pytest.mark.parametrize(
    ("actual", "expected"),
    [
        (np.array([1, 2]), [1, 2]),
        (pd.DataFrame({"a": [1]}), pd.DataFrame({"a": [1]})),
        (pd.Series([1.5]), pd.Series([1.5])),
        ({"a": np.array([1])}, {"a": np.array([1])}),
    ],
    ids=["array", "frame", "series", "dict"],
)
def test_assert_predictions_equal(actual, expected) -> None:
    assert_predictions_equal(actual, expected)


def test_assert_predictions_equal_fails_on_difference() -> None:
    with pytest.raises(AssertionError):
        assert_predictions_equal(np.array([1, 2]), np.array([1, 3]))
    with pytest.raises(AssertionError, match="keys"):
        assert_predictions_equal({"a": 1}, {"b": 1})
