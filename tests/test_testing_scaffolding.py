"""The kit's pieces that replaced test scaffolding plugins used to copy: the untrusted-pickle
check, the entry-point checks as tests, and MLmodel files as MLflow writes them. Each check
passes a good flavor and fails one written here to break it."""

from __future__ import annotations

import json
import pickle
import shutil
from collections.abc import Iterator
from importlib.metadata import EntryPoint
from pathlib import Path

import numpy as np
import pytest
import yaml

import mlserve
from mlserve._flavor import ENTRY_POINT_GROUP, reset_registry
from mlserve.flavors._sklearn import SklearnFlavor
from mlserve.testing import (
    check_refuses_untrusted_pickle,
    parametrize_entry_point_checks,
    write_mlflow_mlmodel,
)

DATA = Path(__file__).parent / "data" / "mlflow_models"


class _OwnSection(SklearnFlavor):
    """The sklearn flavor under another name, its section loading only with this flavor."""

    def save(self, obj, path, **options):
        section = super().save(obj, path, serialization_format="pickle", **options)
        del section["python_function"]  # or loading would pick the real sklearn flavor
        return section


class CarelessFlavor(_OwnSection):
    """Unpickles its file without asking the trust policy."""

    name = "careless"

    def load(self, path, section):
        with open(Path(path) / section["pickled_model"], "rb") as src:
            return pickle.load(src)


class LateFlavor(_OwnSection):
    """Asks the trust policy only after it has unpickled the file."""

    name = "late"

    def load(self, path, section):
        with open(Path(path) / section["pickled_model"], "rb") as src:
            model = pickle.load(src)
        mlserve.check_pickle(path, section["pickled_model"])
        return model


class ShadowFlavor(_OwnSection):
    """Asks the policy about model.pkl but unpickles a copy saved next to it."""

    name = "shadow"

    def save(self, obj, path, **options):
        section = super().save(obj, path, **options)
        shutil.copy(Path(path) / section["pickled_model"], Path(path) / "shadow.pkl")
        return section

    def load(self, path, section):
        mlserve.check_pickle(path, section["pickled_model"])
        with open(Path(path) / "shadow.pkl", "rb") as src:
            return pickle.load(src)


careless = CarelessFlavor()
late = LateFlavor()
shadow = ShadowFlavor()


@pytest.fixture
def registry() -> Iterator[None]:
    """The flavors above installed, with mlserve's sklearn (which save_model falls back on)."""
    names = ("careless", "late", "shadow")
    points = [EntryPoint(n, f"{__name__}:{n}", ENTRY_POINT_GROUP) for n in names]
    points.append(EntryPoint("sklearn", "mlserve.flavors._sklearn:flavor", ENTRY_POINT_GROUP))
    reset_registry(lambda: points)
    yield
    reset_registry()


@pytest.mark.parametrize("fmt", ["cloudpickle", "pickle"], ids=str)
def test_the_sklearn_flavor_refuses_an_untrusted_pickle(fmt: str, seed_model, tmp_path) -> None:  # type: ignore[no-untyped-def]
    mlserve.save_model(seed_model, tmp_path / "m", serialization_format=fmt)
    check_refuses_untrusted_pickle(tmp_path / "m", "model.pkl", tmp_path)
    # the check works on a copy: the model it was given is as it was
    assert mlserve.load_model(tmp_path / "m", trust="no-pickle,pickle").flavor == "sklearn"


@pytest.mark.usefixtures("registry")
@pytest.mark.parametrize(
    ("flavor", "fragment"),
    [
        (careless, "was not refused under trust='no-pickle': the pickle ran"),
        (late, "the hostile pickle ran before the trust policy refused it"),
        (shadow, "model.pkl was not unpickled where the policy allows pickles"),
    ],
    ids=["never-asks", "asks-after-unpickling", "asks-about-another-file"],
)
def test_a_flavor_that_lets_a_pickle_run_fails(flavor, fragment, seed_model, tmp_path) -> None:  # type: ignore[no-untyped-def]
    mlserve.save_model(seed_model, tmp_path / "m", flavor=flavor)
    assert mlserve.load_model(tmp_path / "m").flavor == flavor.name
    with pytest.raises(AssertionError, match=fragment):
        check_refuses_untrusted_pickle(tmp_path / "m", "model.pkl", tmp_path)


def test_the_refusal_must_name_the_file(seed_model, tmp_path) -> None:  # type: ignore[no-untyped-def]
    # a file the flavor never reads: the refusal of model.pkl does not name it
    mlserve.save_model(seed_model, tmp_path / "m", serialization_format="pickle")
    (tmp_path / "m" / "notes.pkl").write_bytes(pickle.dumps("notes"))
    meta = mlserve.Model.load(tmp_path / "m")
    meta.mlserve_digests = None  # or the added file is what stops the load
    meta.save(tmp_path / "m")
    with pytest.raises(AssertionError, match=r"should name 'notes\.pkl'"):
        check_refuses_untrusted_pickle(tmp_path / "m", "notes.pkl", tmp_path)
    with pytest.raises(AssertionError, match=r"no file 'gone\.pkl'"):
        check_refuses_untrusted_pickle(tmp_path / "m", "gone.pkl", tmp_path)


def test_a_pickle_written_by_the_frameworks_own_dump_is_checked(seed_model, tmp_path) -> None:  # type: ignore[no-untyped-def]
    import cloudpickle

    written: list[Path] = []

    def dump(obj: object, target: Path) -> None:
        written.append(target)
        target.write_bytes(cloudpickle.dumps(obj))

    mlserve.save_model(seed_model, tmp_path / "m")
    check_refuses_untrusted_pickle(tmp_path / "m", "model.pkl", tmp_path, dump=dump)
    assert [p.name for p in written] == ["model.pkl"] and written[0].parent != tmp_path / "m"


# -- the entry-point checks as tests ------------------------------------------------------------


def test_entry_point_checks_are_one_test_each() -> None:
    mark = parametrize_entry_point_checks(
        "mlserve-core", {"sklearn": ("sklearn", "scikit-learn"), "python_function": ("x", "y")}
    )
    (name,), params = mark.args[0:1], mark.args[1]
    assert name == "check"
    assert [p.id for p in params] == [
        "sklearn-registered",
        "sklearn-broken-without-sklearn",
        "python_function-registered",
        "python_function-broken-without-x",
    ]
    params[0].values[0]()  # registered by mlserve-core: passes
    params[2].values[0]()
    with pytest.raises(ValueError, match="at least one flavor"):
        parametrize_entry_point_checks("mlserve-core", {})


def test_entry_point_checks_fail_for_another_distribution() -> None:
    params = parametrize_entry_point_checks("mlserve-sklearn", {"sklearn": ("x", "y")}).args[1]
    with pytest.raises(AssertionError):
        params[0].values[0]()


@pytest.mark.slow
def test_the_broken_without_check_fails_for_a_flavor_that_still_loads() -> None:
    params = parametrize_entry_point_checks("mlserve-core", {"sklearn": ("xml", "x")}).args[1]
    # the sklearn flavor does not import xml at registration: it still loads, and the check says so
    with pytest.raises(AssertionError, match="loaded although 'xml' cannot be imported"):
        params[1].values[0]()


# -- MLmodel files as MLflow writes them --------------------------------------------------------


def test_write_mlflow_mlmodel_lays_out_what_mlflow_writes(tmp_path: Path) -> None:
    # sklearn_bare was written by mlflow.sklearn.save_model of MLflow 3.17.2
    real = yaml.safe_load((DATA / "sklearn_bare" / "MLmodel").read_text())
    target = tmp_path / "m"
    shutil.copytree(DATA / "sklearn_bare", target)
    extra = {k: real[k] for k in ("model_id", "model_size_bytes", "prompts")}
    pyfunc = {k: real["flavors"]["python_function"][k] for k in ("model_path", "predict_fn")}
    written = write_mlflow_mlmodel(
        target,
        "sklearn",
        real["flavors"]["sklearn"],
        pyfunc=pyfunc,
        mlflow_version="3.17.2",
        **extra,
    )
    assert yaml.safe_load((target / "MLmodel").read_text()) == written
    # log_model's keys on top of save_model's; the identity keys are placeholders
    assert written.pop("artifact_path") == "model" and len(written.pop("run_id")) == 32
    for key in ("model_uuid", "utc_time_created"):
        assert isinstance(written[key], str)
        written[key] = real[key]
    assert written == real
    # and the model loads and predicts what MLflow predicted
    case = json.loads((DATA / "sklearn_bare.expected.json").read_text())
    predicted = mlserve.load_model(target).predict(np.asarray(case["data"]))
    np.testing.assert_array_equal(predicted, np.asarray(case["predictions"]))


def test_write_mlflow_mlmodel_puts_data_in_the_pyfunc_section(tmp_path: Path) -> None:
    written = write_mlflow_mlmodel(tmp_path / "m", "onnx", {"data": "model.onnx"}, data="x.onnx")
    pyfunc = written["flavors"]["python_function"]
    assert pyfunc["data"] == "x.onnx" and pyfunc["loader_module"] == "mlflow.onnx"
    assert written["mlflow_version"] == "2.17.0"
    assert (
        "data"
        not in write_mlflow_mlmodel(tmp_path / "n", "keras", {})["flavors"]["python_function"]
    )


# -- which objects a flavor claims ---------------------------------------------------------------


class GreedyFlavor(SklearnFlavor):
    """Claims every object."""

    name = "greedy"

    def can_save(self, obj):
        return True


class ShyFlavor(SklearnFlavor):
    """Claims nothing."""

    name = "shy"

    def can_save(self, obj):
        return False


def test_check_can_save(seed_model) -> None:  # type: ignore[no-untyped-def]
    from mlserve.testing import check_can_save

    check_can_save(SklearnFlavor(), accepts=[seed_model], refuses=["model.pkl", 3])
    with pytest.raises(AssertionError, match=r"'greedy': can_save accepts str 'model\.pkl'"):
        check_can_save(GreedyFlavor(), accepts=[seed_model], refuses=["model.pkl"])
    with pytest.raises(AssertionError, match="'shy': can_save refuses RandomForestClassifier"):
        check_can_save(ShyFlavor(), accepts=[seed_model])


def test_check_saved_by_default(seed_model, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    from mlserve import get_flavor
    from mlserve.testing import check_saved_by_default

    check_saved_by_default(get_flavor("sklearn"), seed_model, tmp_path)
    # python_function takes any callable, but asks after sklearn: the estimator is not its
    with pytest.raises(AssertionError, match="with 'sklearn', not 'python_function'"):
        check_saved_by_default(get_flavor("python_function"), seed_model, tmp_path / "pyfunc")


def test_check_requirements_includes(seed_model) -> None:  # type: ignore[no-untyped-def]
    from mlserve.testing import check_requirements

    check_requirements(SklearnFlavor(), seed_model, includes=["scikit-learn"])
    with pytest.raises(AssertionError, match="lacks xgboost; it lists"):
        check_requirements(SklearnFlavor(), seed_model, includes=["scikit-learn", "xgboost"])


def test_check_mlflow_sections(seed_model, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    from mlserve.testing import check_mlflow_sections

    mlserve.save_model(seed_model, tmp_path / "m", serialization_format="cloudpickle")
    section = {"pickled_model": "model.pkl", "serialization_format": "cloudpickle"}
    pyfunc = {"model_path": "model.pkl"}
    mlmodel = check_mlflow_sections(tmp_path / "m", "sklearn", section, pyfunc=pyfunc)
    assert mlmodel["flavors"]["sklearn"]["pickled_model"] == "model.pkl"
    with pytest.raises(AssertionError, match="'serialization_format': 'cloudpickle'"):
        check_mlflow_sections(tmp_path / "m", "sklearn", {"serialization_format": "skops"})
    with pytest.raises(AssertionError, match="'data': '<missing>'"):
        check_mlflow_sections(tmp_path / "m", "sklearn", {}, pyfunc={"data": "model.pkl"})
    with pytest.raises(AssertionError, match="section is"):
        check_mlflow_sections(tmp_path / "m", "sklearn", section, exact=True)
    with pytest.raises(AssertionError, match="no 'xgboost' section"):
        check_mlflow_sections(tmp_path / "m", "xgboost", {})


@pytest.mark.usefixtures("registry")
def test_check_mlflow_sections_wants_mlflows_loader_module(seed_model, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    from mlserve.testing import check_mlflow_sections

    # careless writes no python_function section: MLflow could not load the model back
    mlserve.save_model(seed_model, tmp_path / "m", flavor=careless)
    with pytest.raises(AssertionError, match="'loader_module': '<missing>'"):
        check_mlflow_sections(tmp_path / "m", "careless", {"pickled_model": "model.pkl"})
