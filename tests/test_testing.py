"""The conformance kit passes good flavors and fails broken ones with a useful message."""

from __future__ import annotations

import pickle
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
    # the fresh-process check runs in tests/flavors/test_sklearn.py's conformance test
    loaded = check_flavor(get_flavor("sklearn"), seed_model, X[:6], tmp_path, fresh_process=False)
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


_SAVED_IN_MEMORY: dict[str, object] = {}


class InMemoryFlavor(SklearnFlavor):
    """Writes a valid-looking directory but keeps the model in this process's memory."""

    name = "inmemory"

    def save(self, obj, path, **options):
        section = super().save(obj, path, **options)
        del section["python_function"]
        _SAVED_IN_MEMORY[str(path.name)] = obj
        (path / section["pickled_model"]).write_bytes(b"not a pickle")
        return section

    def load(self, path, section):
        # the staging directory is renamed into place: find the model by its final name's twin
        return next(iter(_SAVED_IN_MEMORY.values()))


class AbsolutePathFlavor(SklearnFlavor):
    """Records where it saved the pickle as an absolute path and reads it from there."""

    name = "abspath"

    def save(self, obj, path, **options):
        section = super().save(obj, path, **options)
        del section["python_function"]
        section["pickled_model"] = str(path.parent / path.name.split(".")[1] / "model.pkl")
        return section

    def load(self, path, section):
        with open(section["pickled_model"], "rb") as src:
            return pickle.load(src)


class PipNameFlavor(SklearnFlavor):
    """Lists the import name of scikit-learn, which pip does not know."""

    name = "pipname"

    def requirements(self, obj=None):
        return ["sklearn", "numpy>=1"]


inmemory = InMemoryFlavor()
abspath = AbsolutePathFlavor()
pipname = PipNameFlavor()


@pytest.fixture
def broken_registry() -> Iterator[None]:
    def source():
        for name in ("inmemory", "abspath", "pipname"):
            yield EntryPoint(name, f"{__name__}:{name}", ENTRY_POINT_GROUP)
        yield EntryPoint("sklearn", "mlserve.flavors.sklearn:flavor", ENTRY_POINT_GROUP)

    reset_registry(source)
    yield
    reset_registry()


@pytest.mark.slow
@pytest.mark.usefixtures("broken_registry")
@pytest.mark.parametrize(
    ("flavor", "fragment"),
    [
        (inmemory, "does not load and predict in a fresh process"),
        (abspath, "does not load and predict in a fresh process"),
    ],
    ids=["load-returns-memory", "absolute-path"],
)
def test_what_only_a_fresh_process_sees_fails(
    flavor, fragment: str, seed_model, seed_data, tmp_path: Path
) -> None:
    X, _ = seed_data
    # one process alone is fooled ...
    check_flavor(flavor, seed_model, X[:6], tmp_path / "same", fresh_process=False)
    _SAVED_IN_MEMORY.clear()
    # ... a fresh one, reading a moved copy of the directory, is not
    with pytest.raises(AssertionError, match=fragment):
        check_flavor(flavor, seed_model, X[:6], tmp_path / "fresh")
    assert (tmp_path / "fresh" / f"conformance-{flavor.name}" / "MLmodel").is_file()


@pytest.mark.usefixtures("broken_registry")
def test_an_import_name_in_requirements_fails(seed_model, seed_data, tmp_path: Path) -> None:
    X, _ = seed_data
    with pytest.raises(AssertionError, match="lists 'sklearn', which is not an installed"):
        check_flavor(pipname, seed_model, X[:6], tmp_path)


def test_a_predictor_that_ignores_the_model_fails_given_native_predictions(
    seed_model, seed_data, tmp_path: Path
) -> None:
    class Constant(SklearnFlavor):
        name = "sklearn"

        def predictor(self, native, section):
            inner = super().predictor(native, section)
            return type(inner)(method=lambda data: np.zeros(len(data)), wants_frame=False)

    X, _ = seed_data
    with pytest.raises(AssertionError, match="loaded model's predictions"):
        check_flavor(Constant(), seed_model, X[:6], tmp_path, expected=seed_model.predict(X[:6]))
