"""The conformance kit passes good flavors and fails broken ones with a useful message."""

from __future__ import annotations

import os
import pickle
import time
from collections.abc import Iterator
from dataclasses import dataclass
from importlib.metadata import EntryPoint
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from mlserve._flavor import ENTRY_POINT_GROUP, Capabilities, get_flavor, reset_registry
from mlserve.flavors._sklearn import SklearnFlavor
from mlserve.testing import (
    CHECKS,
    FlavorCase,
    assert_predictions_equal,
    check_flavor,
    check_mlmodel,
    check_protocol,
    check_served,
    parametrize_with_checks,
    payload_for,
    serve_model,
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
            EntryPoint(n, f"mlserve.flavors._{n}:flavor", ENTRY_POINT_GROUP)
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
        yield EntryPoint("sklearn", "mlserve.flavors._sklearn:flavor", ENTRY_POINT_GROUP)

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


_ROW_WISE = Capabilities(accepts_dataframe=True, accepts_ndarray=True, batchable=True)


@dataclass(frozen=True)
class NamedOutputsPredictor:
    """Two named outputs, as a multi-output graph gives; ``summary`` makes one not row-wise."""

    model: object
    summary: bool = False
    capabilities: Capabilities = _ROW_WISE

    def predict(self, data, params=None):
        out = {"label": self.model.predict(data), "proba": self.model.predict_proba(data)}
        if self.summary:
            out["mean"] = np.atleast_1d(out["proba"][:, 1].mean())
        return out


@pytest.mark.parametrize(
    ("summary", "fragment"),
    [(False, None), (True, r"output\['mean'\] has 1 rows for 6 input rows")],
    ids=["row-wise-dict", "dict-with-a-summary-value"],
)
def test_batchable_models_with_dict_outputs(
    summary: bool, fragment: str | None, seed_model, seed_data, tmp_path: Path
) -> None:
    class NamedOutputs(SklearnFlavor):
        name = "sklearn"

        def predictor(self, native, section):
            return NamedOutputsPredictor(native, summary)

    X, _ = seed_data
    if fragment is None:
        loaded = check_flavor(NamedOutputs(), seed_model, X[:6], tmp_path, fresh_process=False)
        assert set(loaded.predict(X[:6])) == {"label", "proba"}
    else:
        with pytest.raises(AssertionError, match=fragment):
            check_flavor(NamedOutputs(), seed_model, X[:6], tmp_path, fresh_process=False)


@dataclass(frozen=True)
class BatchSizedPredictor:
    """Probabilities shifted by ``drift`` per row of the batch: a prediction that depends on
    how many rows are predicted together, by as much as ``drift`` says."""

    model: object
    drift: float
    capabilities: Capabilities = _ROW_WISE

    def predict(self, data, params=None):
        return self.model.predict_proba(data)[:, 1] + self.drift * len(data)


@pytest.mark.parametrize(
    ("drift", "passes"),
    [(0.0, True), (2e-16, True), (1e-9, False)],
    ids=["exact", "last-bits-as-blas-gives", "batch-dependent"],
)
def test_batchable_split_predictions_may_differ_only_in_the_last_bits(
    drift: float, passes: bool, seed_model, seed_data, tmp_path: Path
) -> None:
    class BatchSized(SklearnFlavor):
        name = "sklearn"

        def predictor(self, native, section):
            return BatchSizedPredictor(native, drift)

    X, _ = seed_data
    if passes:
        check_flavor(BatchSized(), seed_model, X[:6], tmp_path, fresh_process=False)
    else:
        with pytest.raises(AssertionError, match="split predictions"):
            check_flavor(BatchSized(), seed_model, X[:6], tmp_path, fresh_process=False)


# -- serve_model / check_served: a real server process ------------------------------------


def _children(pid: int) -> set[int]:
    """The live processes whose parent is ``pid`` (Linux /proc)."""
    found = set()
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rpartition(")")[2].split()
        except OSError:  # exited while we looked
            continue
        if int(fields[1]) == pid:
            found.add(int(stat.parent.name))
    return found


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    # a zombie still answers signal 0 until its parent reaps it
    stat = Path(f"/proc/{pid}/stat")
    return not stat.exists() or stat.read_text().rpartition(")")[2].split()[0] != "Z"


@pytest.fixture
def saved_seed(seed_model, seed_data, tmp_path: Path) -> Path:
    import mlserve

    X, _ = seed_data
    mlserve.save_model(seed_model, tmp_path / "seed", input_example=X[:3])
    return tmp_path / "seed"


@pytest.mark.slow
def test_serve_model_answers_and_leaves_no_process(saved_seed, seed_model, seed_data) -> None:
    X, _ = seed_data
    payload = {"dataframe_split": {"columns": [0, 1, 2, 3], "data": X[:5].tolist()}}
    with serve_model(saved_seed, workers=2) as served:
        assert served.url == f"http://127.0.0.1:{served.port}"
        assert served.request("GET", "/ping")[0] == 200
        status, answer = served.invoke(payload)
        assert status == 200
        assert answer == {"predictions": seed_model.predict(X[:5]).tolist()}
        # the ndarray example gives a tensor signature, which takes no CSV (as in MLflow)
        csv = "0,1,2,3\n" + "\n".join(",".join(map(repr, row)) for row in X[:2].tolist())
        status, answer = served.invoke(csv.encode(), "text/csv")
        assert status == 400 and "a CSV body cannot carry the tensor" in answer["message"]
        status, answer = served.invoke(b"<a/>", "application/xml")
        assert status == 415 and answer["error_code"] == "BAD_REQUEST"
        with pytest.raises(AssertionError, match="answered 415"):
            served.predictions(b"<a/>", "application/xml")
        # the second worker may still be forking when the first has answered everything
        deadline = time.monotonic() + 10
        while len(_children(served.pid)) < 2 and time.monotonic() < deadline:
            time.sleep(0.05)
        pids = {served.pid, *_children(served.pid)}
        assert len(pids) == 3, "two workers under the server"
    assert served.returncode is not None
    assert not [pid for pid in pids if _alive(pid)]


@pytest.mark.slow
def test_a_server_that_cannot_start_reports_its_error(tmp_path: Path) -> None:
    missing = tmp_path / "no-such-model"
    with pytest.raises(AssertionError) as info, serve_model(missing):
        pytest.fail("the block must not run")
    message = str(info.value)
    assert "exited with status 1 while starting" in message
    assert f"No model or artifact at {missing}" in message


@pytest.mark.slow
def test_a_server_not_ready_in_time_is_stopped(saved_seed) -> None:
    before = _children(os.getpid())
    late = pytest.raises(AssertionError, match=r"did not answer /ping within 0\.01 s")
    with late, serve_model(saved_seed, timeout=0.01):
        pytest.fail("the block must not run")
    assert not [pid for pid in _children(os.getpid()) - before if _alive(pid)]


@pytest.mark.slow
def test_check_served_compares_with_the_native_model(tmp_path: Path, seed_data) -> None:
    from sklearn.linear_model import Ridge

    import mlserve

    X, y = seed_data
    frame = pd.DataFrame(X, columns=["a", "b", "c", "d"])
    ridge = Ridge().fit(frame, y)
    mlserve.save_model(ridge, tmp_path / "ridge", input_example=frame.iloc[:3])
    # floats travel as JSON with every digit: equal exactly
    served = check_served(tmp_path / "ridge", frame.iloc[:10], ridge.predict(frame.iloc[:10]))
    assert served == ridge.predict(frame.iloc[:10]).tolist()
    wrong = ridge.predict(frame.iloc[:10]) * (1 + 1e-9)
    with pytest.raises(AssertionError, match=r"served predictions\[0\]"):
        check_served(tmp_path / "ridge", frame.iloc[:10], wrong)
    check_served(tmp_path / "ridge", frame.iloc[:10], wrong, rtol=1e-6)


@pytest.mark.parametrize(
    ("data", "payload"),
    [
        (np.array([[1.0, 2.5]]), {"inputs": [[1.0, 2.5]]}),
        ({"x": np.array([1, 2])}, {"inputs": {"x": [1, 2]}}),
        (
            pd.DataFrame({0: [0.1, np.nan], "t": pd.to_datetime(["2024-01-01", None])}),
            {
                "dataframe_split": {
                    "columns": [0, "t"],
                    "data": [[0.1, "2024-01-01T00:00:00"], [None, None]],
                }
            },
        ),
        ({"instances": [[1]]}, {"instances": [[1]]}),
    ],
    ids=["ndarray", "dict-of-arrays", "frame-with-nulls-and-dates", "ready-payload"],
)
def test_payload_for(data, payload) -> None:
    assert payload_for(data) == payload


def test_check_entry_point_passes_for_a_core_flavor_and_fails_for_a_wrong_distribution() -> None:
    from mlserve.testing import check_entry_point

    check_entry_point("sklearn", "mlserve-core")
    with pytest.raises(AssertionError):
        check_entry_point("sklearn", "mlserve-sklearn")
    with pytest.raises(AssertionError, match="no flavor"):
        check_entry_point("no-such-flavor", "mlserve-core")


@pytest.mark.slow
def test_check_reported_broken_without_fails_for_a_flavor_that_still_loads() -> None:
    from mlserve.testing import check_reported_broken_without

    # the sklearn flavor imports scikit-learn only when a model is saved or loaded, so hiding
    # an unrelated module leaves it loading: the check must say so, not pass
    with pytest.raises(AssertionError, match="loaded although"):
        check_reported_broken_without("sklearn", "mlserve-core", "xml", "scikit-learn")


# -- parametrize_with_checks: one test per check ------------------------------------------------

_BUILT: list[int] = []


def _seed_case() -> tuple[object, object]:
    from sklearn.ensemble import RandomForestClassifier

    _BUILT.append(1)
    rng = np.random.default_rng(0)
    X = rng.normal(size=(40, 4))
    return RandomForestClassifier(n_estimators=5, random_state=0).fit(X, X[:, 0] > 0), X[:6]


@parametrize_with_checks([FlavorCase("rf", SklearnFlavor(), _seed_case)])
def test_each_check_is_its_own_test(case: FlavorCase, check, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    check(case, tmp_path)
    # fitted once for all the checks of the case, and only for a check that needs the model
    assert len(_BUILT) == (0 if check is CHECKS["protocol"] else 1)


def test_parametrize_with_checks_names_one_test_per_case_and_check() -> None:
    cases = [FlavorCase("a", SklearnFlavor(), _seed_case), FlavorCase("b", SklearnFlavor(), (1, 2))]
    mark = parametrize_with_checks(cases, checks=["protocol", "served"])
    names, params = mark.args
    assert names == ("case", "check")
    assert [p.id for p in params] == ["a-protocol", "a-served", "b-protocol", "b-served"]
    assert [p.values[1] for p in params] == [CHECKS["protocol"], CHECKS["served"]] * 2
    everything = parametrize_with_checks(cases[:1]).args[1]
    assert [p.id for p in everything] == [f"a-{name}" for name in CHECKS]
    assert list(CHECKS)[:7] == [
        "protocol", "requirements", "save_load", "predictions", "signature_enforced",
        "batchable", "fresh_process",
    ]  # fmt: skip
    with pytest.raises(ValueError, match="unknown checks"):
        parametrize_with_checks(cases, checks=["protocl"])
    with pytest.raises(ValueError, match="unique"):
        parametrize_with_checks([cases[0], cases[0]])


@pytest.mark.usefixtures("registry")
def test_a_broken_flavor_fails_only_the_checks_it_breaks(seed_model, seed_data, tmp_path) -> None:  # type: ignore[no-untyped-def]
    X, _ = seed_data
    case = FlavorCase("forgetful", forgetful, (seed_model, X[:6]))
    failed = []
    for name in ("protocol", "requirements", "save_load", "predictions", "fresh_process"):
        try:
            CHECKS[name](case, tmp_path / name)
        except AssertionError:
            failed.append(name)
    # it loads another model than it saved: the loaded predictions differ from the native
    # model's; a fresh process agrees with this one, since both load the wrong model
    assert failed == ["predictions"]
