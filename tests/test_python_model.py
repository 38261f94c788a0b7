"""How a PythonModel's predict is called: with or without the context, with or without params."""

from __future__ import annotations

from typing import Any

import pytest

from mlserve.python_model import PythonModel, PythonModelContext, predict_call


class WithContext(PythonModel):
    def predict(self, context, model_input, params=None):
        return ("ctx", context.model_config, model_input, params)


class WithoutContext(PythonModel):
    def predict(self, model_input, params=None):
        return ("no-ctx", model_input, params)


class NoParams(PythonModel):
    def predict(self, context, model_input):
        return ("no-params", model_input)


class Kwargs(PythonModel):
    def predict(self, model_input, **kwargs):
        return ("kwargs", model_input, kwargs)


def plain(model_input):
    return ("plain", model_input)


def positional_context(ctx, data, params=None):
    return ("positional", ctx.model_config, data, params)


CONTEXT = PythonModelContext(model_config={"k": 1})


@pytest.mark.parametrize(
    ("predict", "takes_context", "takes_params", "result"),
    [
        (WithContext().predict, True, True, ("ctx", {"k": 1}, 5, {"p": 1})),
        (WithoutContext().predict, False, True, ("no-ctx", 5, {"p": 1})),
        (NoParams().predict, True, False, ("no-params", 5)),
        (Kwargs().predict, False, True, ("kwargs", 5, {"params": {"p": 1}})),
        (plain, False, False, ("plain", 5)),
        (positional_context, True, True, ("positional", {"k": 1}, 5, {"p": 1})),
    ],
    ids=["context", "mlflow-2.20-style", "no-params", "kwargs", "function", "positional"],
)
def test_predict_call_detects_the_form(
    predict: Any, takes_context: bool, takes_params: bool, result: tuple
) -> None:
    call = predict_call(predict)
    assert (call.takes_context, call.takes_params) == (takes_context, takes_params)
    assert call(predict, CONTEXT, 5, {"p": 1}) == result


def test_builtin_without_signature_gets_the_input_only() -> None:
    call = predict_call(len)
    assert call(len, CONTEXT, [1, 2], None) == 2


def test_base_class_predict_must_be_overridden() -> None:
    with pytest.raises(NotImplementedError, match="must override predict"):
        PythonModel().predict(CONTEXT, 1)
    assert PythonModel().load_context(CONTEXT) is None


def test_context_defaults_are_empty() -> None:
    assert PythonModelContext() == PythonModelContext(artifacts={}, model_config={})
