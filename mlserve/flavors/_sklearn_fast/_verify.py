"""The one verification policy: an accelerator must answer its probes as scikit-learn does.

Before a model is served through an accelerator, both it and scikit-learn's own method are
called on probe inputs built from the fitted model, each side on its own copy (a step that
transforms in place, such as ``StandardScaler(copy=False)``, must not feed one side what the
other scaled). The accelerator is used only if every answer has the same dtype, shape and bits,
and it refuses exactly the probes scikit-learn refuses; at least one probe must be answered.

The probes are 256 rows at three scales and one row alone: numbers for an estimator fitted on
an array or on numeric columns, and, for a ColumnTransformer, each encoder's own categories
(cycled) in the columns it encodes and a vectorizer's own words in its text column, so that
every transformer sees values it knows.
"""

from __future__ import annotations

import copy
import logging
import sys
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np
import pandas as pd

__all__ = ["UNCHECKED", "difference", "disagreement", "numbers", "probes"]

logger = logging.getLogger(__name__)

#: what :func:`disagreement` says when scikit-learn answered none of the probes
UNCHECKED = "could not be checked: scikit-learn answered none of its probes"
_ROWS = 256


def disagreement(
    fast: Callable[[Any], Any], reference: Callable[[Any], Any], inputs: Sequence[Any]
) -> str | None:
    """How ``fast`` answers ``inputs`` otherwise than ``reference``, or None if it never does
    (see the module doc); :data:`UNCHECKED` if ``reference`` answered none of them."""
    answered = False
    for X in inputs:
        try:
            expected = reference(copy.deepcopy(X))
        except Exception:
            try:
                fast(copy.deepcopy(X))
            except Exception:
                continue  # both refuse, whatever their words: the fallback gives scikit-learn's
            return "answered a probe scikit-learn refused"
        try:
            ours = fast(copy.deepcopy(X))
        except Exception:
            logger.debug("the accelerator raised on a probe", exc_info=True)
            return "raised on a probe scikit-learn answered"
        problem = difference(ours, expected)
        if problem is not None:
            return problem
        answered = True
    return None if answered else UNCHECKED


def difference(ours: Any, theirs: Any) -> str | None:
    """How ``ours`` differs from ``theirs``, or None when they are the same bits."""
    if not (isinstance(ours, np.ndarray) and isinstance(theirs, np.ndarray)):
        return "returned something other than an array, which is not compared"
    if ours.dtype != theirs.dtype or ours.shape != theirs.shape:
        return "returned another dtype or shape than scikit-learn"
    if ours.dtype.kind == "O":
        same = np.array_equal(ours, theirs)
    else:  # bits, so 0.0 and -0.0, or two NaN payloads, are told apart
        same = np.ascontiguousarray(ours).tobytes() == np.ascontiguousarray(theirs).tobytes()
    return None if same else "returned other values than scikit-learn"


def numbers(n_features: int, rows: int = _ROWS) -> np.ndarray:
    """Generated float64 rows at three scales, so splits on both sides of most thresholds are
    taken. The first third is unscaled (the lone-row probe is its first row), and the largest
    scale stays moderate: a linear model's logits on x100 rows underflow its probabilities to 0,
    and ``predict_log_proba`` then warns at every load."""
    rng = np.random.default_rng(0)
    values = rng.standard_normal((rows, n_features))
    values[rows // 3 : 2 * rows // 3] *= 0.01
    values[2 * rows // 3 :] *= 10.0
    return values


def probes(step: Any, *, array: bool) -> list[Any]:
    """Inputs a model whose input goes to ``step`` should answer: an array (``array``) or a
    frame with the step's fitted columns, then its first row alone; none where the input is
    not known."""
    X: Any
    if array:
        width = getattr(step, "n_features_in_", None)
        if not isinstance(width, (int, np.integer)) or width <= 0:
            return []
        X = numbers(int(width))
        return [X, X[:1]]
    try:
        names = getattr(step, "feature_names_in_", None)
    except Exception:  # a property of someone else's estimator
        names = None
    if names is None or not len(names):
        return []
    X = pd.DataFrame(numbers(len(names)), columns=list(names))
    for position, values in _known_values(step).items():
        X[X.columns[position]] = values
    return [X, X.head(1)]


def _known_values(step: Any) -> dict[int, np.ndarray]:
    """For a ColumnTransformer: column position -> values its transformer there knows (an
    encoder's categories, a vectorizer's words), :data:`_ROWS` of them."""
    compose = sys.modules.get("sklearn.compose")
    indices = getattr(step, "_transformer_to_input_indices", None)
    if compose is None or not isinstance(step, compose.ColumnTransformer) or indices is None:
        return {}
    known: dict[int, np.ndarray] = {}
    for name, transformer, _ in step.transformers_:
        positions = [int(i) for i in indices.get(name, [])]
        categories = getattr(transformer, "categories_", None)
        vocabulary = getattr(transformer, "vocabulary_", None)
        if isinstance(categories, list) and len(categories) == len(positions):
            for position, cats in zip(positions, categories, strict=True):
                if len(cats):
                    known[position] = np.resize(np.asarray(cats), _ROWS)
        elif isinstance(vocabulary, dict) and vocabulary and len(positions) == 1:
            words = sorted(str(word) for word in vocabulary)
            texts = [" ".join(words[i : i + 3]) for i in range(0, len(words), 3)]
            known[positions[0]] = np.resize(np.array(texts, dtype=object), _ROWS)
    return known
