"""The conformance checks on a flavor and one fitted model, and :func:`check_flavor`, which runs
them in order: the protocol, the requirements, save and load, the predictions, the signature's
enforcement, batching, and (in :mod:`mlserve.testing._fresh_process`) a fresh process."""

from __future__ import annotations

import json
import os
import re
from collections.abc import Iterable, Mapping
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import Any

import yaml

from mlserve._api._models import load_model, save_model
from mlserve._flavor import PYFUNC_SECTION, Capabilities, Flavor, Predictor
from mlserve.errors import InvalidParameterValue
from mlserve.mlmodel import MLMODEL_FILE_NAME, Model
from mlserve.pyfunc import PyFuncModel, choose_flavor, flavor_section
from mlserve.testing._compare import assert_predictions_equal, assert_split_equal
from mlserve.testing._fresh_process import check_fresh_process

__all__ = [
    "check_batchable",
    "check_flavor",
    "check_mlmodel",
    "check_predictions",
    "check_protocol",
    "check_requirements",
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


_BARE_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]*(\[[A-Za-z0-9,._-]+\])?$")


def check_requirements(flavor: Flavor, model: Any, *, includes: Iterable[str] = ()) -> None:
    """Every bare name ``requirements(model)`` returns is an installed distribution, so it is
    pinned in ``requirements.txt`` (the import name is not always the pip name: ``sklearn`` is
    ``scikit-learn``). Entries with a version specifier or a URL are taken as given.

    ``includes`` are names the list must hold (your distribution and your framework, say).
    """
    reqs = flavor.requirements(model)
    assert isinstance(reqs, list) and all(isinstance(r, str) for r in reqs), (
        f"flavor {flavor.name!r}: requirements(model) must return a list of str, got {reqs!r}"
    )
    missing = [name for name in includes if name not in reqs]
    assert not missing, (
        f"flavor {flavor.name!r}: requirements() for a {type(model).__name__} lacks "
        f"{', '.join(missing)}; it lists {reqs}"
    )
    for req in reqs:
        if not _BARE_NAME.match(req.strip()):
            continue
        name = req.strip().split("[", 1)[0]
        try:
            version(name)
        except PackageNotFoundError:
            raise AssertionError(
                f"flavor {flavor.name!r}: requirements() lists {req!r}, which is not an installed "
                "distribution, so it cannot be pinned; use the name pip installs it under"
            ) from None


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
    is inferred) writes a valid directory, and ``load_model`` reads it back with a flavor of
    this name. Returns the model loaded by ``flavor`` itself (not the installed flavor of that
    name), which the other checks use."""
    assert flavor.can_save(model), f"{flavor.name}.can_save() rejects the model it should save"
    target = Path(tmp_path) / f"conformance-{flavor.name}"
    saved = save_model(model, target, flavor=flavor, input_example=input_example, **save_options)
    assert saved.signature is not None, "no signature was inferred from the input example"
    check_mlmodel(target, flavor)
    registered = load_model(target)
    assert registered.flavor == flavor.name, (
        f"loaded with {registered.flavor!r}, not {flavor.name!r}"
    )
    # the checks that follow exercise the object under test, not whatever is installed
    # under its name (an older release of the plugin, say)
    loaded = PyFuncModel.from_directory(target, flavor=flavor)
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
        predictor: Predictor = flavor.predictor(model, flavor_section(loaded.metadata, flavor.name))
        expected = predictor.predict(input_example, None)
    actual = loaded.predict(data)
    assert_predictions_equal(actual, expected, what="loaded model's predictions")
    return actual


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


def _row_counts(output: Any, what: str) -> list[tuple[str, int | None]]:
    """The first-dimension length of each array in ``output`` (a dict's values one by one)."""
    import numpy as np

    if isinstance(output, Mapping):
        return [
            pair for key, value in output.items() for pair in _row_counts(value, f"{what}[{key!r}]")
        ]
    if isinstance(output, list | tuple):
        return [(what, len(output))]
    shape = np.shape(output)
    return [(what, shape[0] if shape else None)]


def _join_halves(first: Any, second: Any, whole: Any) -> Any:
    """The outputs for the two halves of an input put back together like ``whole``."""
    import numpy as np
    import pandas as pd

    if isinstance(whole, Mapping):
        return {key: _join_halves(first[key], second[key], whole[key]) for key in whole}
    if isinstance(whole, pd.DataFrame | pd.Series):
        joined: Any = pd.concat([first, second])
        joined.index = whole.index
        return joined
    return np.concatenate([np.asarray(first), np.asarray(second)])


def check_batchable(loaded: PyFuncModel) -> None:
    """A model declared ``batchable`` predicts row by row: its output has one row per input
    row (for a dict of outputs, every value does), which is what lets the server split a merged
    batch, and predicting the example in two halves and joining the results equals predicting
    it whole."""
    import numpy as np
    import pandas as pd

    if not loaded.capabilities.batchable:
        return
    example = loaded.input_example
    if not isinstance(example, pd.DataFrame | np.ndarray) or len(example) < 2:
        return
    half = len(example) // 2
    whole = loaded.predict(example)
    for what, rows in _row_counts(whole, "output"):
        assert rows == len(example), (
            f"a batchable model must give one output row per input row: {what} has "
            f"{'no rows' if rows is None else f'{rows} rows'} for {len(example)} input rows"
        )
    first, second = loaded.predict(example[:half]), loaded.predict(example[half:])
    for part in (first, second):
        if isinstance(whole, Mapping):
            assert isinstance(part, Mapping) and set(part) == set(whole), (
                f"a batchable model's outputs have other keys for part of the input: "
                f"{sorted(part) if isinstance(part, Mapping) else type(part).__name__} "
                f"instead of {sorted(whole)}"
            )
    joined = _join_halves(first, second, whole)
    assert_split_equal(joined, whole, what="batchable model's split predictions")


def check_flavor(
    flavor: Flavor,
    model: Any,
    input_example: Any,
    tmp_path: str | os.PathLike[str],
    *,
    expected: Any = None,
    fresh_process: bool = True,
    **save_options: Any,
) -> PyFuncModel:
    """Run every conformance check on ``flavor`` with a fitted ``model`` and an input example
    of at least two rows; returns the loaded model for further checks.

    ``expected`` are the native model's predictions on the example (computed with the flavor's
    predictor on the in-memory model when not given; pass them from the native model itself
    where you can, so a broken predictor cannot agree with itself); ``fresh_process=False``
    skips :func:`check_fresh_process` (about a second: a new interpreter imports the
    framework); ``save_options`` go to ``save_model``.
    """
    check_protocol(flavor)
    check_requirements(flavor, model)
    loaded = check_save_load(flavor, model, input_example, tmp_path, **save_options)
    check_predictions(flavor, model, loaded, input_example, expected)
    check_signature_enforced(loaded)
    check_batchable(loaded)
    if fresh_process:
        check_fresh_process(flavor, loaded, tmp_path)
    return loaded
