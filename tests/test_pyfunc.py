"""PyFuncModel: flavor choice from MLmodel, enforcement before predict, the model's errors."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml

import mlserve
from mlserve.errors import FlavorNotFound, SchemaMismatch
from mlserve.mlmodel import Model
from mlserve.pyfunc import PyFuncModel, choose_flavor
from mlserve.schema import ColSpec, ModelSignature, Schema


@pytest.mark.parametrize(
    ("flavors", "chosen"),
    [
        ({"python_function": {"loader_module": "mlflow.sklearn"}, "sklearn": {}}, "sklearn"),
        ({"python_function": {"loader_module": "mlflow.sklearn"}}, "sklearn"),
        ({"sklearn": {}}, "sklearn"),
        ({"python_function": {"loader_module": "mlflow.pyfunc.model"}}, "python_function"),
        ({"python_function": {"loader_module": "my_company.evil"}, "sklearn": {}}, "sklearn"),
        ({"python_function": {"loader_module": "mlflow.xgboost"}, "sklearn": {}}, "sklearn"),
    ],
    ids=[
        "mlflow-sklearn",
        "pyfunc-only",
        "sklearn-only",
        "custom-pyfunc",
        "unknown-loader-ignored",
        "uninstalled-loader-falls-back",
    ],
)
def test_choose_flavor(flavors: dict, chosen: str) -> None:
    flavor, section = choose_flavor(Model(flavors=flavors))
    assert flavor.name == chosen
    if chosen != "python_function" and "python_function" in flavors:
        assert section["python_function"] == flavors["python_function"]


@pytest.mark.parametrize(
    ("flavors", "named"),
    [
        ({"python_function": {"loader_module": "mlflow.xgboost"}, "xgboost": {}}, "xgboost"),
        ({"python_function": {"loader_module": "some.module"}}, "python_function"),
        ({"h2o": {}}, "h2o"),
        ({"python_function": {"loader_module": "some.module"}, "h2o": {}}, "some.module"),
    ],
    ids=["not-installed", "unknown-loader-module", "unknown-flavor", "unknown-both"],
)
def test_no_installed_flavor_lists_the_installed_ones(flavors: dict, named: str) -> None:
    with pytest.raises(FlavorNotFound) as info:
        choose_flavor(Model(flavors=flavors))
    assert named in info.value.name
    assert {"python_function", "sklearn"} <= set(info.value.installed)
    assert "Installed flavors:" in str(info.value)


def test_a_data_file_never_imports_its_loader_module(tmp_path: Path) -> None:
    (tmp_path / "evil_loader.py").write_text("raise SystemExit('imported!')\n")
    Model(flavors={"python_function": {"loader_module": "evil_loader"}}).save(tmp_path / "m")
    import sys

    sys.path.insert(0, str(tmp_path))
    try:
        with pytest.raises(FlavorNotFound):
            mlserve.load_model(tmp_path / "m")
    finally:
        sys.path.remove(str(tmp_path))
    assert "evil_loader" not in sys.modules


@pytest.fixture
def signed(seed_model, tmp_path: Path) -> PyFuncModel:
    signature = ModelSignature(inputs=Schema([ColSpec("double", str(i)) for i in range(4)]))
    mlserve.save_model(seed_model, tmp_path / "m", signature=signature)
    return mlserve.load_model(tmp_path / "m")


def test_signature_is_enforced_once_built(signed: PyFuncModel, seed_model, seed_data) -> None:
    X, _ = seed_data
    enforcer = signed.enforcer
    assert enforcer is not None
    frame = pd.DataFrame(X, columns=["0", "1", "2", "3"])
    np.testing.assert_array_equal(signed.predict(frame), seed_model.predict(X))
    np.testing.assert_array_equal(
        signed.predict(frame[["3", "1", "0", "2"]]), seed_model.predict(X)
    )
    assert signed.enforcer is enforcer


def test_data_that_does_not_fit_is_rejected(signed: PyFuncModel, seed_data) -> None:
    X, _ = seed_data
    with pytest.raises(SchemaMismatch) as info:
        signed.predict(pd.DataFrame(X[:, :3], columns=["0", "1", "2"]))
    assert "3" in str(info.value)
    assert "0.4967" not in str(info.value)  # no data echoed back


def test_params_without_a_param_schema_are_ignored_with_a_warning(
    signed: PyFuncModel, seed_data, caplog: pytest.LogCaptureFixture, monkeypatch
) -> None:
    # as mlflow.pyfunc's predict: a client's extra params never fail the prediction
    monkeypatch.setattr("mlserve.schema._params._LOGGED", set())  # forget earlier tests' warnings
    X, _ = seed_data
    frame = pd.DataFrame(X, columns=["0", "1", "2", "3"])
    expected = signed.predict(frame)
    with caplog.at_level("WARNING", logger="mlserve.schema"):
        np.testing.assert_array_equal(signed.predict(frame, {"k": 1}), expected)
        np.testing.assert_array_equal(signed.predict(frame, "k"), expected)  # type: ignore[arg-type]
    assert "declares no params" in caplog.text


@pytest.mark.parametrize("supports_params", [False, True], ids=["not-declared", "declared"])
def test_params_reach_a_predictor_only_if_it_declares_it_uses_them(
    supports_params: bool, seed_model, seed_data, tmp_path: Path, caplog, monkeypatch
) -> None:
    """Capabilities.supports_params: a predictor that declares it takes no params is passed
    none (once said in the log); one that declares it does gets them, checked. Either way a
    param of the wrong type is the client's error."""
    from dataclasses import replace

    from mlserve.errors import InvalidParams
    from mlserve.flavors._sklearn import SklearnFlavor
    from mlserve.schema import ParamSchema, ParamSpec

    monkeypatch.setattr("mlserve.pyfunc._PARAMS_NOT_USED", set())
    seen: list[object] = []

    class Recording(SklearnFlavor):
        def predictor(self, native, section):  # type: ignore[no-untyped-def]
            inner = super().predictor(native, section)

            class Predictor:
                capabilities = replace(inner.capabilities, supports_params=supports_params)

                def predict(self, data, params=None):  # type: ignore[no-untyped-def]
                    seen.append(params)
                    return inner.predict(data, params)

            return Predictor()

    signature = ModelSignature(
        inputs=Schema([ColSpec("double", str(i)) for i in range(4)]),
        params=ParamSchema([ParamSpec("k", "double", 1.0)]),
    )
    mlserve.save_model(seed_model, tmp_path / "m", signature=signature)
    loaded = PyFuncModel.from_directory(tmp_path / "m", flavor=Recording())
    frame = pd.DataFrame(seed_data[0][:3], columns=["0", "1", "2", "3"])
    with caplog.at_level("WARNING", logger="mlserve"):
        loaded.predict(frame, {"k": 2})
        loaded.predict(frame)
    assert seen == ([{"k": 2.0}, {"k": 1.0}] if supports_params else [None, None])
    said = caplog.text.count("takes no inference params")
    assert said == (0 if supports_params else 1)
    with pytest.raises(InvalidParams):
        loaded.predict(frame, {"k": "two"})


def test_attributes(signed: PyFuncModel, tmp_path: Path) -> None:
    assert signed.metadata.flavors["sklearn"]["pickled_model"] == "model.pkl"
    assert signed.signature.inputs.input_names() == ["0", "1", "2", "3"]
    assert signed.input_example is None
    assert signed.params_schema is None
    assert signed.path == (tmp_path / "m").resolve()
    assert signed.model_uri == str(tmp_path / "m")
    assert "sklearn" in repr(signed)


def test_input_example_is_loaded_lazily(seed_model, seed_data, tmp_path: Path) -> None:
    X, _ = seed_data
    mlserve.save_model(seed_model, tmp_path / "m", input_example=X[:2])
    loaded = mlserve.load_model(tmp_path / "m")
    np.testing.assert_array_equal(loaded.input_example, X[:2])


def test_code_directory_is_put_on_sys_path(tmp_path: Path) -> None:
    import sys

    helper = tmp_path / "src" / "mlserve_test_helper_mod.py"
    helper.parent.mkdir()
    helper.write_text("def triple(x):\n    return x * 3\n")
    sys.path.insert(0, str(helper.parent))
    try:
        import mlserve_test_helper_mod

        mlserve.save_model(
            lambda x: mlserve_test_helper_mod.triple(x), tmp_path / "m", code_paths=[helper]
        )
    finally:
        sys.path.remove(str(helper.parent))
        del sys.modules["mlserve_test_helper_mod"]
    helper.unlink()
    doc = yaml.safe_load((tmp_path / "m" / "MLmodel").read_text())
    assert doc["flavors"]["python_function"]["code"] == "code"
    loaded = mlserve.load_model(tmp_path / "m")
    try:
        assert loaded.predict(np.array([2])).tolist() == [6]
    finally:
        sys.path.remove(str((tmp_path / "m" / "code").resolve()))
        sys.modules.pop("mlserve_test_helper_mod", None)


def test_decoder_and_enforcer_share_one_compiled_schema(seed_model, tmp_path: Path) -> None:
    """The signature is compiled once per model: the server's decoder (built from
    ``model.signature``, as ``server/_served.py`` and ``cli/_predict.py`` build it) and the
    model's enforcer hold the same rules, converters, complex validators and param converters,
    not equal copies."""
    from mlserve.codecs import DecodeLimits, RequestDecoder
    from mlserve.schema import Array, ParamSchema, ParamSpec
    from mlserve.server._app import create_app

    signature = ModelSignature(
        inputs=Schema(
            [*(ColSpec("double", str(i)) for i in range(4)), ColSpec(Array("long"), "ids")]
        ),
        params=ParamSchema([ParamSpec("k", "long", 1)]),
    )
    mlserve.save_model(seed_model, tmp_path / "m", signature=signature)
    model = mlserve.load_model(tmp_path / "m")
    compiled = model.compiled
    assert model.enforcer is not None and model.enforcer.compiled is compiled
    assert compiled.params is not None and list(compiled.params.converters) == ["k"]

    app = create_app(model)
    try:
        served = app.models[next(iter(app.models))]
        plans = [served.decoder.plan]
    finally:
        app.close()
    loaded = model.signature
    assert loaded is not None
    plans.append(RequestDecoder(loaded.inputs, loaded.params, limits=DecodeLimits.none()).plan)
    for plan in plans:
        assert plan.compiled is compiled
        for name, rule in zip(compiled.names, compiled.rules, strict=True):
            assert plan.by_name[name] is rule
    # the enforcer's converters are built from those rule objects, the array column's validator
    # among them, and a decoder that enforces too builds its enforcer on the same instance
    assert RequestDecoder(loaded.inputs, loaded.params).plan.enforce.compiled is compiled  # type: ignore[union-attr]
    assert len(compiled.converters) == 5

    # another model with an equal signature compiles its own (by identity, not equality)
    mlserve.save_model(seed_model, tmp_path / "n", signature=signature)
    assert mlserve.load_model(tmp_path / "n").compiled is not compiled
