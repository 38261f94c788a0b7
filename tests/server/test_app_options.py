"""create_app's options are one TypedDict, mlserve.server.AppOptions: create_app and ScoringApp
take exactly its keys, and a misspelt one is refused at the call (a TypeError, as a function
with named parameters gives), never ignored."""

from __future__ import annotations

import typing
from pathlib import Path

import pytest

import mlserve
from mlserve.server import AppOptions, ScoringApp, create_app


def test_the_options_are_the_typed_dicts_keys() -> None:
    keys = set(AppOptions.__annotations__)
    assert keys == set(AppOptions.__optional_keys__)  # every one optional, by keyword
    assert {"timeout", "threads", "max_body_size", "max_batch_size", "limits", "name"} <= keys


@pytest.mark.parametrize("build", [create_app, ScoringApp], ids=["create_app", "ScoringApp"])
def test_a_misspelt_option_is_refused(seed_model_dir: Path, build: typing.Any) -> None:
    model = mlserve.load_model(seed_model_dir)
    with pytest.raises(TypeError, match="unexpected keyword argument 'timout'"):
        build(model, timout=5)
    app = build(model, timeout=5, threads=2, name="seed")  # the spelt ones are taken
    assert isinstance(app, ScoringApp)
