"""A faster ``predict`` for scikit-learn Pipelines, with the same result.

On a one-row frame, ``Pipeline.predict`` over a ColumnTransformer spends about two thirds of its
time between the transformers rather than in them: the ColumnTransformer hands each transformer
to joblib (one job, wrapped in scikit-learn's configuration and warnings contexts), selects its
columns by label through ``.loc``, and checks the frame's names through narwhals; a numeric
transformer then validates its DataFrame again. :func:`pipeline_predict` makes the same public
calls in a plain loop:

- each step's ``transform`` in order, then the final step's ``predict`` (the forest loop of
  :mod:`.forest` for a forest), as ``Pipeline.predict`` does without metadata routing;
- a ColumnTransformer fitted on a frame, given a frame with exactly its fitted columns, selects
  each transformer's columns by position (``take``, what scikit-learn does for integer keys) and
  stacks the outputs as ``ColumnTransformer`` does (sparse when ``sparse_output_``, else dense);
- a scikit-learn scaler or imputer fitted on named numeric columns gets their values as an
  array, the same conversion its DataFrame path makes; inside a ColumnTransformer, a
  OneHotEncoder or OrdinalEncoder gets the values of columns that share one dtype (all strings,
  say), which it splits into the same columns its DataFrame path would (:mod:`.names`); where
  the ColumnTransformer's output is dense, a OneHotEncoder of string categories encodes known
  values by table lookup (:mod:`.onehot`).

It applies only where that holds, decided once when the model is loaded: the ``Pipeline`` and
``ColumnTransformer`` classes themselves (not subclasses), ``predict``, no metadata routing, no
``set_output`` frames, no transformer weights, ``n_jobs`` None or 1; if scikit-learn's global
settings change later, predictions go to scikit-learn. A request it does not cover (another
frame layout, an ndarray where a frame was fitted, a transformer output the ColumnTransformer
would refuse to stack) goes through the ColumnTransformer's own ``transform``; one that makes a
transformer raise is re-run by scikit-learn, so the client sees scikit-learn's own error (and
the warnings of the transformers before it twice).
"""

from __future__ import annotations

import logging
import sys
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd

from mlserve.flavors._sklearn_fast.forest import forest_predict
from mlserve.flavors._sklearn_fast.names import (
    columnwise_encoder,
    default_output,
    nameless_transformer,
    numeric_values,
    uniform_values,
)
from mlserve.flavors._sklearn_fast.onehot import onehot_lookup

__all__ = ["ColumnTransform", "PipelinePredict", "SettingsGuard", "pipeline_predict"]

logger = logging.getLogger(__name__)

Call = Callable[[Any], Any]


class PipelinePredict:
    """``Pipeline.predict`` as a loop over prepared calls (see the module doc)."""

    def __init__(self, transforms: Sequence[Call], predict: Call) -> None:
        self.transforms = tuple(transforms)
        self.predict = predict

    def __call__(self, X: Any) -> Any:
        """Transform ``X`` through every step, then predict with the final one."""
        for transform in self.transforms:
            X = transform(X)
        return self.predict(X)


class ColumnTransform:
    """``ColumnTransformer.transform`` for frames with exactly the fitted columns."""

    def __init__(self, ct: Any) -> None:
        from scipy import sparse
        from sklearn.utils import check_array

        self.fallback: Call = ct.transform
        self.columns = pd.Index(ct.feature_names_in_)
        self.sparse_output = bool(ct.sparse_output_)
        self._sparse = sparse
        self._check_array = check_array
        # (positions or one position, transform) per transformer that gets any columns
        self.parts: list[tuple[Any, Call]] = []
        self._validate_output = getattr(ct, "_validate_output", None)
        for name, trans, columns in ct.transformers_:
            positions = [int(i) for i in ct._transformer_to_input_indices[name]]
            if isinstance(trans, str) and trans == "drop":
                continue
            if not positions:
                # scikit-learn skips an empty list; a spec that only selects nothing (an empty
                # slice, a list of np.False_) it calls and stacks as an (n, 0) float block,
                # which promotes the output's dtype: its own transform it is
                if isinstance(columns, (list, tuple)) and not columns:
                    continue
                raise _Unsupported(f"transformer {name!r} selects no columns from {columns!r}")
            if isinstance(trans, str):
                raise _Unsupported(f"transformer {name!r} is {trans!r}")
            # a scalar column spec selects one column as a Series (1-D), as scikit-learn does
            key: Any = positions[0] if np.isscalar(columns) else np.asarray(positions)
            # inside this loop an encoder's error re-runs through scikit-learn (__call__), so
            # its wording for a value it refuses stays scikit-learn's own
            fast = _array_transform(trans, encoders=True) or trans.transform
            lookup = onehot_lookup(trans, fast, dense=not self.sparse_output)
            self.parts.append((key, lookup or fast))
        if not self.parts:
            raise _Unsupported("no transformer gets any columns")

    def __call__(self, X: Any) -> Any:
        """Transform ``X`` as ``ct.transform(X)`` would."""
        if type(X) is not pd.DataFrame or not (
            X.columns is self.columns or X.columns.equals(self.columns)
        ):
            return self.fallback(X)
        try:
            outputs = [
                transform(X.iloc[:, key] if isinstance(key, int) else X.take(key, axis=1))
                for key, transform in self.parts
            ]
            if not self._valid(outputs):
                return self.fallback(X)
            return self._stack(outputs)
        except Exception:
            # scikit-learn's own path raises its own error (and wording) for this input
            return self.fallback(X)

    def _valid(self, outputs: list[Any]) -> bool:
        """What ColumnTransformer checks before stacking (every output 2-D; no frame column
        holding pandas.NA), or False where only its own check can tell."""
        sparse = self._sparse
        frames = False
        for x in outputs:
            if type(x) is np.ndarray or sparse.issparse(x):
                if x.ndim != 2:
                    return False
            else:
                frames = True  # a passthrough's frame, a FunctionTransformer's anything
        if frames:
            if self._validate_output is None:
                return False
            self._validate_output(outputs)  # raises where scikit-learn would
        return True

    def _stack(self, outputs: list[Any]) -> Any:
        # ColumnTransformer._hstack, for the default (non-frame) output
        sparse = self._sparse
        if self.sparse_output:
            converted = [
                self._check_array(x, accept_sparse=True, ensure_all_finite=False) for x in outputs
            ]
            return sparse.hstack(converted).tocsr()
        return np.hstack([x.toarray() if sparse.issparse(x) else x for x in outputs])


class SettingsGuard:
    """Calls ``fast`` while scikit-learn's global settings are the ones it was built for
    (:func:`default_settings`), ``reference`` otherwise."""

    def __init__(self, fast: Call, reference: Call) -> None:
        self.fast = fast
        self.reference = reference
        import sklearn  # loaded already: a Pipeline was unpickled

        # held, so a request pays a call, not an import statement
        self._get_config = sklearn.get_config

    def __call__(self, X: Any) -> Any:
        """Predict ``X`` as ``reference(X)`` would."""
        if not default_settings(self._get_config()):
            return self.reference(X)  # set_config changed since load: scikit-learn's own path
        return self.fast(X)


def default_settings(config: Mapping[str, Any]) -> bool:
    """Whether scikit-learn's settings (``sklearn.get_config()``) are the ones the fast paths
    were built for (no metadata routing, no frames out of ``transform``); scikit-learn versions
    without these settings have no fast path."""
    return not config.get("enable_metadata_routing") and (
        config.get("transform_output") == "default"
    )


class _Unsupported(Exception):
    """A ColumnTransformer setting the loop does not reproduce."""


class _ArrayTransform:
    """``transform`` of a transformer fitted on named columns, on the values when they qualify
    (``values_of`` returns them, or None for the transformer's own DataFrame path)."""

    def __init__(
        self,
        method: Call,
        nameless: Call,
        columns: pd.Index,
        values_of: Callable[[Any, pd.Index], np.ndarray | None],
    ) -> None:
        self.method, self.nameless, self.columns = method, nameless, columns
        self.values_of = values_of

    def __call__(self, X: Any) -> Any:
        values = self.values_of(X, self.columns)
        return self.method(X) if values is None else self.nameless(values)


def _array_transform(step: Any, *, encoders: bool = False) -> Call | None:
    nameless = nameless_transformer(step, encoders=encoders)
    if nameless is None:
        return None
    # an encoder splits its input into columns itself: one dtype for all of them keeps each
    # column's dtype; the others validate the whole frame as one array, as numeric_values does
    values_of = uniform_values if columnwise_encoder(step) else numeric_values
    names = pd.Index(step.feature_names_in_)
    return _ArrayTransform(step.transform, nameless.transform, names, values_of)


def _column_transform(step: Any) -> Call | None:
    compose = sys.modules.get("sklearn.compose")
    if (
        compose is None
        or type(step) is not compose.ColumnTransformer
        or getattr(step, "feature_names_in_", None) is None
        or not isinstance(getattr(step, "_transformer_to_input_indices", None), dict)
        or step.transformer_weights
        or step.n_jobs not in (None, 1)
        or not default_output(step)
        or len(set(step.feature_names_in_)) != len(step.feature_names_in_)
    ):
        return None
    try:
        return ColumnTransform(step)
    except (_Unsupported, AttributeError, KeyError) as exc:
        logger.debug("ColumnTransformer %s keeps its own transform: %s", step, exc)
        return None


def _final_predict(final: Any) -> Call | None:
    predict = getattr(final, "predict", None)
    if not callable(predict):
        return None
    if getattr(final, "feature_names_in_", None) is None:
        # fitted on what the steps before it output (an array): the forest loop may apply
        return forest_predict(final, "predict") or predict
    return predict


def pipeline_predict(native: Any, method_name: str) -> SettingsGuard | None:
    """A loop predicting as ``native.predict`` does, or None where it does not apply
    (unverified: :func:`mlserve.flavors._sklearn_fast.accelerate` verifies it)."""
    pipeline = sys.modules.get("sklearn.pipeline")  # loaded already if native is a Pipeline
    if pipeline is None or method_name != "predict" or type(native) is not pipeline.Pipeline:
        return None
    import sklearn  # loaded already: native is one of its objects

    if not default_settings(sklearn.get_config()):
        return None
    steps = [step for _, step in native.steps]
    if not steps:
        return None
    transforms: list[Call] = []
    for step in steps[:-1]:
        if step is None or (isinstance(step, str) and step == "passthrough"):
            continue  # Pipeline.predict skips them too
        if isinstance(step, str) or not callable(getattr(step, "transform", None)):
            return None
        transforms.append(_column_transform(step) or _array_transform(step) or step.transform)
    predict = _final_predict(steps[-1])
    if predict is None:
        return None
    return SettingsGuard(PipelinePredict(transforms, predict), native.predict)
