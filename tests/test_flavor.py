"""The flavor protocol, capabilities and the entry-point registry (validation, errors, choice)."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator
from importlib.metadata import EntryPoint, entry_points
from pathlib import Path

import pytest

from mlserve._flavor import (
    ENTRY_POINT_GROUP,
    LOADER_MODULES,
    Capabilities,
    Flavor,
    flavor_for_object,
    get_flavor,
    list_flavors,
    model_file,
    require_module,
    reset_registry,
)
from mlserve.errors import BrokenFlavor, FlavorNotFound, MalformedModel, NoFlavorForModel
from mlserve.flavors._python_function import flavor as python_function_flavor
from mlserve.flavors._sklearn import flavor as sklearn_flavor


class GoodFlavor:
    name = "good"

    def can_save(self, obj):
        return isinstance(obj, bytes)

    def save(self, obj, path, **options):
        (path / "blob").write_bytes(obj)
        return {"data": "blob"}

    def load(self, path, section):
        return (path / section["data"]).read_bytes()

    def predictor(self, native, section):
        raise NotImplementedError

    def requirements(self, obj=None):
        return []


class RaisingCanSave(GoodFlavor):
    name = "raising"

    def can_save(self, obj):
        raise RuntimeError("plugin bug")


good = GoodFlavor()
raising = RaisingCanSave()
misnamed = GoodFlavor()


def _ep(name: str, attr: str) -> EntryPoint:
    return EntryPoint(name=name, value=f"{__name__}:{attr}", group=ENTRY_POINT_GROUP)


@pytest.fixture
def registry() -> Iterator[None]:
    """A registry fed with entry points naming objects in this module."""
    reset_registry(
        lambda: [
            _ep("good", "good"),
            _ep("raising", "raising"),
            _ep("klass", "GoodFlavor"),
            _ep("misnamed", "misnamed"),
            _ep("missing_attr", "no_such_attribute"),
        ]
    )
    yield
    reset_registry()


def test_capabilities_are_a_frozen_dataclass() -> None:
    caps = Capabilities(accepts_ndarray=True)
    assert caps == Capabilities(True, True, False, False, False)
    with pytest.raises(dataclasses.FrozenInstanceError):
        caps.batchable = True  # type: ignore[misc]


def test_models_are_fork_safe_unless_their_flavor_says_otherwise() -> None:
    # the server loads a model once and forks its workers unless the predictor says no
    assert Capabilities().fork_safe is True
    assert Capabilities(True, True, False, False, False).fork_safe is True
    assert Capabilities(fork_safe=False) != Capabilities()


def test_loader_module_table_is_fixed() -> None:
    assert LOADER_MODULES["mlflow.sklearn"] == "sklearn"
    assert LOADER_MODULES["mlflow.pyfunc.model"] == "python_function"
    with pytest.raises(TypeError):
        LOADER_MODULES["evil"] = "x"  # type: ignore[index]


def test_builtin_flavors_satisfy_the_protocol() -> None:
    assert isinstance(sklearn_flavor, Flavor)
    assert isinstance(python_function_flavor, Flavor)
    assert get_flavor("sklearn") is sklearn_flavor
    assert get_flavor("python_function") is python_function_flavor


def test_builtin_flavors_are_listed_with_their_distribution() -> None:
    infos = {i.name: i for i in list_flavors()}
    assert infos["sklearn"].distribution == "mlserve-core"
    assert infos["sklearn"].entry_point == "mlserve.flavors._sklearn:flavor"
    assert infos["sklearn"].ok and infos["python_function"].ok
    assert infos["sklearn"].version


@pytest.mark.usefixtures("registry")
def test_valid_flavor_registers() -> None:
    assert get_flavor("good") is good


@pytest.mark.usefixtures("registry")
@pytest.mark.parametrize(
    ("name", "fragment"),
    [
        ("klass", "names the class GoodFlavor; it must name an instance"),
        ("misnamed", "its name attribute is 'good', not the entry-point name 'misnamed'"),
        ("missing_attr", "import failed: AttributeError"),
    ],
    ids=["class-not-instance", "name-mismatch", "import-error"],
)
def test_invalid_entry_points_are_broken(name: str, fragment: str) -> None:
    with pytest.raises(BrokenFlavor) as info:
        get_flavor(name)
    assert fragment in info.value.reason
    assert info.value.entry_point.startswith(f"{name} = {__name__}:")
    assert get_flavor("good") is good  # the others still work


@pytest.mark.usefixtures("registry")
def test_list_flavors_reports_broken_ones() -> None:
    infos = {i.name: i for i in list_flavors()}
    assert sorted(infos) == ["good", "klass", "misnamed", "missing_attr", "raising"]
    assert infos["good"].ok and infos["good"].flavor is good
    assert not infos["klass"].ok and isinstance(infos["klass"].error, BrokenFlavor)
    assert infos["klass"].flavor is None


@pytest.mark.usefixtures("registry")
def test_unknown_name_lists_the_usable_flavors() -> None:
    with pytest.raises(FlavorNotFound) as info:
        get_flavor("nope")
    assert info.value.installed == ["good", "raising"]


@pytest.mark.usefixtures("registry")
def test_flavor_for_object_skips_a_raising_can_save() -> None:
    assert flavor_for_object(b"abc") is good
    with pytest.raises(NoFlavorForModel, match=r"builtins\.int"):
        flavor_for_object(3)


def test_python_function_is_asked_last(seed_model) -> None:
    class CallableEstimatorLike:
        def __call__(self, x):
            return x

    assert flavor_for_object(seed_model) is sklearn_flavor
    assert flavor_for_object(CallableEstimatorLike()) is python_function_flavor


class EstimatorFramework:
    """A plugin flavor for a framework whose models are also scikit-learn estimators."""

    name = "xgb_like"

    def can_save(self, obj):
        return type(obj).__name__ == "RandomForestClassifier"

    save = load = predictor = requirements = GoodFlavor.save


xgb_like = EstimatorFramework()


def test_a_plugin_flavor_is_asked_before_the_builtin_sklearn(seed_model) -> None:
    def source():
        yield EntryPoint("xgb_like", f"{__name__}:xgb_like", ENTRY_POINT_GROUP)
        yield from entry_points(group=ENTRY_POINT_GROUP, name="sklearn")
        yield from entry_points(group=ENTRY_POINT_GROUP, name="python_function")

    reset_registry(source)
    try:
        assert {i.name: i.distribution for i in list_flavors()}["sklearn"] == "mlserve-core"
        assert flavor_for_object(seed_model) is xgb_like  # "x" sorts after "s": not by name
        assert flavor_for_object(lambda x: x) is get_flavor("python_function")
    finally:
        reset_registry()


def test_discovery_happens_once() -> None:
    calls = []

    def source():
        calls.append(1)
        return [_ep("good", "good")]

    reset_registry(source)
    try:
        get_flavor("good")
        list_flavors()
        get_flavor("good")
        assert calls == [1]
    finally:
        reset_registry()


def test_require_module_passes_for_an_installed_module_without_importing_it() -> None:
    import sys

    sys.modules.pop("wave", None)  # a stdlib module nothing here imports
    require_module("wave", "wave")
    require_module("xml.dom.minidom", "never-used")
    assert "wave" not in sys.modules


@pytest.mark.parametrize(
    "module", ["mlserve_no_such_framework", "mlserve_no_such_parent.child"], ids=["top", "dotted"]
)
def test_require_module_fails_the_import_with_the_pip_line(module: str) -> None:
    with pytest.raises(ImportError, match=rf"^{module} is not installed: pip install some-dist$"):
        require_module(module, "some-dist")


@pytest.mark.parametrize(
    ("name", "reason"),
    [
        ("../elsewhere.pkl", "points outside it"),
        ("/etc/passwd", "points outside it"),
        (".", "names the directory itself"),
        ("missing.pkl", "is missing from the model directory"),
    ],
    ids=["dotdot", "absolute", "itself", "missing"],
)
def test_model_file_refuses_names_that_are_not_files_of_the_model(
    tmp_path: Path, name: str, reason: str
) -> None:
    with pytest.raises(MalformedModel, match=reason):
        model_file(tmp_path, name, must_exist=True)


def test_model_file_resolves_a_name_inside_the_model(tmp_path: Path) -> None:
    (tmp_path / "data").mkdir()
    (tmp_path / "data" / "model.bin").write_bytes(b"x")
    assert (
        model_file(tmp_path, "data/model.bin", must_exist=True) == tmp_path / "data" / "model.bin"
    )
    assert model_file(tmp_path, "data", must_exist=True) == tmp_path / "data"
    assert model_file(tmp_path, "not-yet.bin") == tmp_path / "not-yet.bin"  # without must_exist
