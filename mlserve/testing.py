"""Conformance checks for flavor authors: the checks mlserve's own flavors pass.

Call :func:`check_flavor` from your plugin's test suite (with pytest's ``tmp_path``)::

    from mlserve.testing import check_flavor

    def test_my_flavor_conforms(tmp_path):
        check_flavor(my_flavor, fitted_model, input_example, tmp_path)

It runs every check below in order; each one can also be called alone. A failed check raises
``AssertionError`` with a message saying what was expected and what was found, so it reads well
in a pytest report. The guide is ``docs/writing-a-flavor.md``.
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import yaml

from mlserve.api.models import load_model, save_model
from mlserve.errors import InvalidParameterValue
from mlserve.flavor import PYFUNC_SECTION, Capabilities, Flavor, Predictor
from mlserve.mlmodel import MLMODEL_FILE_NAME, Model
from mlserve.pyfunc import PyFuncModel, choose_flavor

__all__ = [
    "assert_predictions_equal",
    "check_batchable",
    "check_flavor",
    "check_mlmodel",
    "check_predictions",
    "check_protocol",
    "check_save_load",
    "check_signature_enforced",
]

_METHODS = ("can_save", "save", "load", "predictor", "requirements")


def check_protocol(flavor: Flavor) -> None:
    """The object has the :class:`~mlserve.Flavor` shape: a string ``name``, the five methods,
    and ``requirements()`` returning a list of strings."""
    name = getattr(flavor, "name", None)
    assert isinstance(name, str) and name, f"flavor.name must be a non-empty str, got {name!r}"
    missing = [m for m in _METHODS if not callable(getattr(flavor, m, None))]
    assert not missing, f"flavor {name!r} lacks the method(s): {', '.join(missing)}"
    reqs = flavor.requirements(None)
    assert isinstance(reqs, list) and all(isinstance(r, str) for r in reqs), (
        f"flavor {name!r}: requirements(None) must return a list of str, got {reqs!r}"
    )


def assert_predictions_equal(actual: Any, expected: Any, *, what: str = "predictions") -> None:
    """Equal predictions, whatever their type (ndarray, DataFrame, Series, dict, list, scalar);
    floats are compared exactly, as a save/load round trip must not change them."""
    import numpy as np
    import pandas as pd

    if isinstance(expected, pd.DataFrame):
        assert isinstance(actual, pd.DataFrame), f"{what}: expected a DataFrame, got {actual!r}"
        pd.testing.assert_frame_equal(actual, expected)
    elif isinstance(expected, pd.Series):
        assert isinstance(actual, pd.Series), f"{what}: expected a Series, got {type(actual)}"
        pd.testing.assert_series_equal(actual, expected)
    elif isinstance(expected, Mapping):
        assert isinstance(actual, Mapping), f"{what}: expected a mapping, got {type(actual)}"
        assert set(actual) == set(expected), f"{what}: keys {set(actual)} != {set(expected)}"
        for key in expected:
            assert_predictions_equal(actual[key], expected[key], what=f"{what}[{key!r}]")
    else:
        np.testing.assert_array_equal(np.asarray(actual), np.asarray(expected), err_msg=what)


def check_mlmodel(path: str | os.PathLike[str], flavor: Flavor | None = None) -> Model:
    """The directory is a valid model: ``MLmodel`` parses and survives a write/read round trip
    unchanged, names ``flavor`` (when given), maps to an installed flavor, and the environment
    and input example files it points at exist and parse."""
    directory = Path(path)
    assert (directory / MLMODEL_FILE_NAME).is_file(), f"no {MLMODEL_FILE_NAME} in {directory}"
    model = Model.load(directory)
    raw = yaml.safe_load((directory / MLMODEL_FILE_NAME).read_text(encoding="utf-8"))
    again = Model.from_dict(yaml.safe_load(model.to_yaml()))
    assert again.to_dict() == model.to_dict() == raw, "MLmodel changes on a write/read round trip"
    if flavor is not None:
        names = set(model.flavors)
        assert flavor.name in names or (
            flavor.name == PYFUNC_SECTION and PYFUNC_SECTION in names
        ), f"MLmodel flavors {sorted(names)} do not include {flavor.name!r}"
        chosen, _ = choose_flavor(model)
        assert chosen.name == flavor.name, (
            f"loading picks flavor {chosen.name!r}, not the one that saved it ({flavor.name!r})"
        )
    reqs = directory / "requirements.txt"
    assert reqs.is_file(), "requirements.txt is missing"
    env = yaml.safe_load((directory / "python_env.yaml").read_text(encoding="utf-8"))
    assert isinstance(env, dict) and "python" in env, "python_env.yaml has no python version"
    info = model.saved_input_example_info
    if info:
        for key in ("artifact_path", "serving_input_path"):
            if info.get(key):
                json.loads((directory / info[key]).read_text(encoding="utf-8"))
        serving = info.get("serving_input_path")
        if serving:
            body = json.loads((directory / serving).read_text(encoding="utf-8"))
            keys = {"dataframe_split", "dataframe_records", "instances", "inputs"} & set(body)
            assert len(keys) == 1, f"{serving} must have one payload key, found {sorted(body)}"
    return model


def check_save_load(
    flavor: Flavor,
    model: Any,
    input_example: Any,
    tmp_path: str | os.PathLike[str],
    **save_options: Any,
) -> PyFuncModel:
    """``can_save`` accepts the model, ``save_model`` (with the input example, so a signature
    is inferred) writes a valid directory, and ``load_model`` reads it back with this flavor.
    Returns the loaded model."""
    assert flavor.can_save(model), f"{flavor.name}.can_save() rejects the model it should save"
    target = Path(tmp_path) / f"conformance-{flavor.name}"
    saved = save_model(model, target, flavor=flavor, input_example=input_example, **save_options)
    assert saved.signature is not None, "no signature was inferred from the input example"
    check_mlmodel(target, flavor)
    loaded = load_model(target)
    assert loaded.flavor == flavor.name, f"loaded with {loaded.flavor!r}, not {flavor.name!r}"
    assert isinstance(loaded.capabilities, Capabilities), (
        "predictor.capabilities is not a Capabilities"
    )
    return loaded


def check_predictions(
    flavor: Flavor, model: Any, loaded: PyFuncModel, input_example: Any, expected: Any = None
) -> Any:
    """The loaded model predicts what the native model predicts on the input example.

    ``expected`` defaults to the flavor's predictor run on the in-memory ``model``.
    """
    data = loaded.input_example if loaded.input_example is not None else input_example
    if expected is None:
        predictor: Predictor = flavor.predictor(model, _section(loaded))
        expected = predictor.predict(input_example, None)
    actual = loaded.predict(data)
    assert_predictions_equal(actual, expected, what="loaded model's predictions")
    return actual


def _section(loaded: PyFuncModel) -> dict[str, Any]:
    _, section = choose_flavor(loaded.metadata)
    return section


def check_signature_enforced(loaded: PyFuncModel) -> None:
    """The model enforces its input signature: the saved example passes, an input with a column
    (or tensor dimension) missing, or with text where numbers are expected, is rejected with an
    :class:`~mlserve.errors.InvalidParameterValue` subclass before the model sees it."""
    import numpy as np
    import pandas as pd

    assert loaded.enforcer is not None, "the loaded model has no input enforcer"
    example = loaded.input_example
    assert example is not None, "the model has no saved input example"
    loaded.enforcer(example)
    bad: list[Any] = []
    if isinstance(example, pd.DataFrame) and example.shape[1] >= 1:
        bad.append(example.iloc[:, 1:])
        bad.append(example.astype(object).map(lambda _: "not a number"))
    elif isinstance(example, np.ndarray) and example.ndim == 2 and example.shape[1] > 1:
        bad.append(example[:, :-1])
        bad.append(np.full(example.shape, "not a number"))
    for data in bad:
        try:
            loaded.predict(data)
        except InvalidParameterValue:
            continue
        raise AssertionError("an input that does not fit the signature was accepted")


def check_batchable(loaded: PyFuncModel) -> None:
    """A model declared ``batchable`` predicts row by row: predicting the example in two halves
    and joining the results equals predicting it whole."""
    import numpy as np
    import pandas as pd

    if not loaded.capabilities.batchable:
        return
    example = loaded.input_example
    if not isinstance(example, pd.DataFrame | np.ndarray) or len(example) < 2:
        return
    half = len(example) // 2
    whole = loaded.predict(example)
    first, second = loaded.predict(example[:half]), loaded.predict(example[half:])
    if isinstance(whole, pd.DataFrame | pd.Series):
        joined: Any = pd.concat([first, second])
        joined.index = whole.index
    else:
        joined = np.concatenate([np.asarray(first), np.asarray(second)])
    assert_predictions_equal(joined, whole, what="batchable model's split predictions")


def check_flavor(
    flavor: Flavor,
    model: Any,
    input_example: Any,
    tmp_path: str | os.PathLike[str],
    *,
    expected: Any = None,
    **save_options: Any,
) -> PyFuncModel:
    """Run every conformance check on ``flavor`` with a fitted ``model`` and an input example
    of at least two rows; returns the loaded model for further checks.

    ``expected`` are the native model's predictions on the example (computed with the flavor's
    predictor on the in-memory model when not given); ``save_options`` go to ``save_model``.
    """
    check_protocol(flavor)
    loaded = check_save_load(flavor, model, input_example, tmp_path, **save_options)
    check_predictions(flavor, model, loaded, input_example, expected)
    check_signature_enforced(loaded)
    check_batchable(loaded)
    return loaded
