"""The trust policy: the loader, not the model file, decides what loading may run (issue 15,
item 8). The hostile files are real: a pickle whose ``__reduce__`` writes a marker file, an
MLmodel that whitelists the skops types it wants."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml
from _hostile_pickle import writes_marker

import mlserve
from mlserve._trust import TrustPolicy, current_trust, trust_scope
from mlserve.errors import InvalidParameterValue, MalformedModel, UntrustedModel
from mlserve.mlmodel._files import compute_digests

MLFLOW_MODELS = Path(__file__).parent / "data" / "mlflow_models"


def _evil_model(tmp_path: Path, seed_model, flavor: str = "sklearn") -> tuple[Path, Path]:  # type: ignore[no-untyped-def]
    """A model saved by mlserve whose pickle was then replaced by a hostile one, with digests
    recomputed (whoever can write the files can write MLmodel too)."""
    marker = tmp_path / "ran"
    directory = tmp_path / "evil"
    if flavor == "sklearn":
        mlserve.save_model(seed_model, directory)
        target = directory / "model.pkl"
    else:
        mlserve.save_model(lambda df: df, directory)
        target = directory / "python_model.pkl"
    target.write_bytes(writes_marker(marker))
    mlmodel = mlserve.Model.load(directory)
    mlmodel.mlserve_digests = compute_digests(directory)
    mlmodel.save(directory)
    return directory, marker


# -- the policy and its one switch ----------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("pickle", TrustPolicy()),
        ("mlflow", TrustPolicy()),
        ("no-pickle", TrustPolicy(allow_pickle=False)),
        ("strict", TrustPolicy(allow_pickle=False, require_digests=True)),
        ("strict,pickle", TrustPolicy(allow_pickle=True, require_digests=True)),
        (" pickle , digests,scan ", TrustPolicy(require_digests=True, scan_pickles=True)),
        (
            "no-pickle,skops-type=sklearn.tree._tree.Tree,skops-type=numpy.dtype",
            TrustPolicy(allow_pickle=False, skops_types=("sklearn.tree._tree.Tree", "numpy.dtype")),
        ),
    ],
    ids=["pickle", "mlflow", "no-pickle", "strict", "later-wins", "spaces", "skops-types"],
)
def test_parse(text: str, expected: TrustPolicy) -> None:
    assert TrustPolicy.parse(text) == expected
    assert TrustPolicy.parse(expected.spec) == expected  # spec round-trips


@pytest.mark.parametrize("text", ["", "yolo", "skops-type=", "pickle,everything"])
def test_parse_refuses_unknown_terms(text: str) -> None:
    with pytest.raises(ValueError, match=r"unknown term|is empty"):
        TrustPolicy.parse(text)


@pytest.mark.parametrize(
    ("environ", "expected"),
    [
        ({}, TrustPolicy()),
        ({"MLFLOW_ALLOW_PICKLE_DESERIALIZATION": "true"}, TrustPolicy()),
        ({"MLFLOW_ALLOW_PICKLE_DESERIALIZATION": "False"}, TrustPolicy(allow_pickle=False)),
        ({"MLSERVE_TRUST": "strict"}, TrustPolicy(allow_pickle=False, require_digests=True)),
        (
            {"MLSERVE_TRUST": "pickle", "MLFLOW_ALLOW_PICKLE_DESERIALIZATION": "false"},
            TrustPolicy(),
        ),
    ],
    ids=["default", "mlflow-true", "mlflow-false", "mlserve", "mlserve-wins"],
)
def test_from_environment(environ: dict[str, str], expected: TrustPolicy) -> None:
    assert TrustPolicy.from_environment(environ) == expected


def test_malformed_variable_names_itself() -> None:
    with pytest.raises(InvalidParameterValue, match="MLSERVE_TRUST: unknown term 'nope'"):
        TrustPolicy.from_environment({"MLSERVE_TRUST": "nope"})


def test_describe_names_the_policy_and_its_origin() -> None:
    line = TrustPolicy.from_environment({"MLFLOW_ALLOW_PICKLE_DESERIALIZATION": "false"}).describe()
    assert "'no-pickle'" in line and "MLFLOW_ALLOW_PICKLE_DESERIALIZATION=false" in line
    assert "pickle formats are refused" in line and "--trust" in line


def test_scope_sets_the_policy_for_the_load_only() -> None:
    strict = TrustPolicy.parse("strict")
    with trust_scope(strict):
        assert current_trust() is strict
    assert current_trust() == TrustPolicy()


# -- pickles: what the default keeps (MLflow's behaviour) and what the policy refuses -------------


@pytest.mark.parametrize("flavor", ["sklearn", "python_function"])
def test_no_pickle_refuses_before_unpickling(tmp_path: Path, seed_model, flavor: str) -> None:  # type: ignore[no-untyped-def]
    directory, marker = _evil_model(tmp_path, seed_model, flavor)
    with pytest.raises(UntrustedModel, match=r"refuses pickles.*--trust pickle") as caught:
        mlserve.load_model(directory, trust="no-pickle")
    assert caught.value.error_code == "PERMISSION_DENIED"
    assert not marker.exists()
    # the same file under the default runs, as in MLflow 3.17 (documented, not endorsed)
    with pytest.raises((MalformedModel, AttributeError)):  # exec returns None: no model
        mlserve.load_model(directory)
    assert marker.read_text() == "ran"


def test_mlflow_variable_false_refuses_pickles(
    tmp_path: Path, seed_model, monkeypatch: pytest.MonkeyPatch
) -> None:  # type: ignore[no-untyped-def]
    directory, marker = _evil_model(tmp_path, seed_model)
    monkeypatch.setenv("MLFLOW_ALLOW_PICKLE_DESERIALIZATION", "false")
    with pytest.raises(UntrustedModel, match="MLFLOW_ALLOW_PICKLE_DESERIALIZATION=false"):
        mlserve.load_model(directory)
    assert not marker.exists()


def test_process_variable_applies_to_load_model(
    tmp_path: Path, seed_model, monkeypatch: pytest.MonkeyPatch
) -> None:  # type: ignore[no-untyped-def]
    directory, marker = _evil_model(tmp_path, seed_model)
    monkeypatch.setenv("MLSERVE_TRUST", "strict")
    with pytest.raises(UntrustedModel):
        mlserve.load_model(directory)
    assert not marker.exists()


def test_scan_refuses_a_dangerous_pickle(tmp_path: Path, seed_model) -> None:  # type: ignore[no-untyped-def]
    pytest.importorskip("picklescan")
    directory, marker = _evil_model(tmp_path, seed_model)
    with pytest.raises(UntrustedModel, match=r"picklescan flags model\.pkl.*builtins\.exec"):
        mlserve.load_model(directory, trust="pickle,scan")
    assert not marker.exists()


def test_scan_lets_an_honest_model_load(tmp_path: Path, seed_model) -> None:  # type: ignore[no-untyped-def]
    pytest.importorskip("picklescan")
    mlserve.save_model(seed_model, tmp_path / "m")
    assert mlserve.load_model(tmp_path / "m", trust="scan").verified


def test_required_digests_refuse_a_model_without_them() -> None:
    with pytest.raises(UntrustedModel, match=r"no recorded digests.*requires them"):
        mlserve.load_model(MLFLOW_MODELS / "sklearn_skops", trust="digests")


def test_bad_trust_argument() -> None:
    with pytest.raises(InvalidParameterValue, match="trust='bogus': unknown term"):
        mlserve.load_model(MLFLOW_MODELS / "sklearn_skops", trust="bogus")


# -- skops: trusted types come from the policy, never from the model alone -------------------------


@pytest.fixture
def skops_forest(tmp_path: Path, seed_model) -> Path:  # type: ignore[no-untyped-def]
    pytest.importorskip("skops")
    directory = tmp_path / "forest"
    mlserve.save_model(seed_model, directory, serialization_format="skops")
    return directory


def test_skops_types_listed_by_the_model_are_not_trusted_without_pickle(
    skops_forest: Path,
) -> None:
    # the MLmodel lists sklearn.tree._tree.Tree; under no-pickle that list counts for nothing
    listed = yaml.safe_load((skops_forest / "MLmodel").read_text())["flavors"]["sklearn"]
    assert listed["skops_trusted_types"] == ["sklearn.tree._tree.Tree"]
    with pytest.raises(UntrustedModel, match=r"sklearn\.tree\._tree\.Tree.*skops-type="):
        mlserve.load_model(skops_forest, trust="no-pickle")


def test_skops_types_from_the_policy_load(skops_forest: Path) -> None:
    model = mlserve.load_model(skops_forest, trust="no-pickle,skops-type=sklearn.tree._tree.Tree")
    assert model.predict([[0.1, -0.2, 0.3, -0.4]]).shape == (1,)


def test_skops_default_types_need_no_configuration() -> None:
    pytest.importorskip("skops")
    # what MLflow 3.17 writes by default for a LogisticRegression: nothing beyond skops' own list
    assert mlserve.load_model(MLFLOW_MODELS / "sklearn_skops", trust="no-pickle") is not None


def test_a_dangerous_type_the_model_lists_is_not_trusted(skops_forest: Path) -> None:
    mlmodel = mlserve.Model.load(skops_forest)
    mlmodel.flavors["sklearn"]["skops_trusted_types"] = ["builtins.exec", "sklearn.tree._tree.Tree"]
    mlmodel.save(skops_forest)
    policy = TrustPolicy.parse("no-pickle,skops-type=sklearn.tree._tree.Tree")
    assert policy.skops_trusted(mlmodel.flavors["sklearn"]["skops_trusted_types"]) == [
        "sklearn.tree._tree.Tree"
    ]
    assert mlserve.load_model(skops_forest, trust=policy) is not None
