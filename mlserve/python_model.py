"""Custom Python models: subclass :class:`PythonModel` to serve any Python code.

The same contract as MLflow's ``mlflow.pyfunc.PythonModel``: ``load_context(context)`` runs once
when the model is loaded, with the model's artifacts as local paths; ``predict`` is called with
each request's validated input. ``predict`` may take the context as its first argument
(``predict(self, context, model_input, params=None)``) or leave it out
(``predict(self, model_input, params=None)``, the MLflow 2.20+ style); which form is detected
once, from the method's signature, when the model is loaded.

The pickled model also loads in MLflow (``mlflow.pyfunc.load_model``) where this package is
installed: MLflow's wrapper reads ``predict_type_hints`` from the object it unpickled, so the
base class answers it as MLflow's own ``PythonModel`` does for an unannotated ``predict``.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

# PredictCall and predict_call are the python_function flavor's, not API
__all__ = ["PythonModel", "PythonModelContext"]


@dataclass(frozen=True)
class _NoTypeHints:
    """The shape of MLflow's ``_TypeHints`` (``input``, ``output``) with both left empty.

    MLflow converts a DataFrame into a list or a dataclass when ``predict``'s input annotation
    asks for one; mlserve hands ``predict`` the validated input as it is. Reporting no
    annotation keeps MLflow doing the same, so both tools give ``predict`` the same object.
    """

    input: Any = None
    output: Any = None


@dataclass(frozen=True)
class PythonModelContext:
    """What ``load_context`` and ``predict`` see: ``artifacts`` maps each name given at save time
    to the absolute local path of its copy inside the model directory; ``model_config`` is the
    ``model_config`` dict given at save time (empty when none was)."""

    artifacts: dict[str, str] = field(default_factory=dict)
    model_config: dict[str, Any] = field(default_factory=dict)


class PythonModel:
    """Base class of a custom model; override :meth:`predict`, and :meth:`load_context` if the
    model needs its artifacts.

    The instance is pickled with cloudpickle when saved, so keep large state in artifacts and load
    it in :meth:`load_context` rather than holding it in attributes.
    """

    def load_context(self, context: PythonModelContext) -> None:
        """Load artifacts from ``context.artifacts``; called once after the model is unpickled.

        The default does nothing.
        """

    def predict(self, context: PythonModelContext, model_input: Any, params: Any = None) -> Any:
        """Return predictions for ``model_input`` (validated against the signature, if any).

        ``params`` are the inference params after enforcement (defaults filled), or ``None``.
        """
        raise NotImplementedError(f"{type(self).__name__} must override predict()")

    @property
    def predict_type_hints(self) -> _NoTypeHints:
        """What MLflow's loader asks of a custom model before each ``predict``: no input or
        output annotation to convert by (see :class:`_NoTypeHints`); unused by mlserve."""
        return _NoTypeHints()


@dataclass(frozen=True)
class PredictCall:
    """How to call a ``predict`` method, worked out once: whether it takes the context first and
    whether it accepts ``params``."""

    takes_context: bool
    takes_params: bool

    def __call__(
        self,
        predict: Callable[..., Any],
        context: PythonModelContext,
        model_input: Any,
        params: dict[str, Any] | None,
    ) -> Any:
        args: tuple[Any, ...] = (context, model_input) if self.takes_context else (model_input,)
        if self.takes_params:
            return predict(*args, params=params)
        return predict(*args)


def predict_call(predict: Callable[..., Any]) -> PredictCall:
    """Inspect a bound ``predict`` (or a plain function) once and say how to call it.

    The context is passed when the first positional parameter is named ``context`` or when
    there are at least two positional parameters besides ``params``; ``params`` is passed when a
    parameter of that name or ``**kwargs`` exists.
    """
    try:
        parameters = list(inspect.signature(predict).parameters.values())
    except (TypeError, ValueError):  # builtins without a signature: call with the input only
        return PredictCall(takes_context=False, takes_params=False)
    positional = [
        p
        for p in parameters
        if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD) and p.name != "params"
    ]
    takes_params = any(p.name == "params" or p.kind is p.VAR_KEYWORD for p in parameters)
    takes_context = bool(positional) and (positional[0].name == "context" or len(positional) >= 2)
    return PredictCall(takes_context=takes_context, takes_params=takes_params)
