"""A faster ``predict`` for scikit-learn's random forests and extra-trees, with the same result.

A forest's ``predict`` hands each tree to joblib (``Parallel`` with one job for the default
``n_jobs=None``), which wraps every call in scikit-learn's configuration context and a
warnings filter: ~40 us per tree, so ~4 ms of dispatch for 100 trees, where the trees
themselves take ~1 ms on one row. :class:`ForestPredict` makes the same per-tree computation
in a plain loop, adding the trees' outputs up in the same order into the same float64 array and
dividing by the number of trees, as scikit-learn's one-job path does: the same arithmetic, so
the same bits. Each tree's output is its ``tree_.predict(X)`` sliced as the tree's own
``predict_proba`` (or, for regressors, ``predict``) slices it after checking its input, which
the loop does once for all trees; that equality is checked per tree when the model loads, and
where it does not hold the loop calls each tree's ``predict_proba(X, check_input=False)``
(``predict`` for regressors) instead.

It applies only where that holds, decided once when the model is loaded: the four forest
classes themselves (not subclasses, which may override ``predict``), one output, ``n_jobs``
None or 1 (with more jobs, scikit-learn's own sum order varies from call to call), and
``predict`` as the served method; :func:`mlserve.flavors._sklearn_fast.accelerate` then checks
it against the estimator's own ``predict`` before it is used. At request time,
anything other than a finite 2-D numeric ndarray of the fitted width goes to the estimator's
own ``predict``, which validates, raises or handles missing values as it always does.

Predictions of fewer than 256 rows run one at a time per model: each tree call releases the
GIL briefly, and concurrent request threads in the loop spent their time handing it around.
"""

from __future__ import annotations

import logging
import sys
import threading
from typing import Any

import numpy as np

from mlserve.flavors._sklearn_fast._verify import numbers

__all__ = ["ForestPredict", "forest_predict"]

logger = logging.getLogger(__name__)

_FORESTS = (
    "RandomForestClassifier",
    "ExtraTreesClassifier",
    "RandomForestRegressor",
    "ExtraTreesRegressor",
)
# below this many rows a prediction is short, and concurrent ones only fight over the GIL;
# above, each tree's GIL-free stretch is long enough for threads to overlap usefully
_LOCKED_ROWS = 256


class ForestPredict:
    """``predict`` for a fitted forest (see the module doc); falls back to ``forest.predict``."""

    def __init__(self, forest: Any) -> None:
        self.fallback = forest.predict
        self._one_at_a_time = threading.Lock()
        self.n_features = int(forest.n_features_in_)
        self.classifier = hasattr(forest, "classes_")
        if self.classifier:
            self.n_classes = int(forest.n_classes_)
            self.classes = forest.classes_
        trees = forest.estimators_
        # Each tree's own predict(_proba) with check_input=False still checks that the tree is
        # fitted and its width (two thirds of the loop's time on one row); with the input
        # validated here once, what is left of it is its tree_'s predict and a column slice.
        self.raw = _raw_agrees(trees, self.classifier, self.n_features)
        if self.raw:
            self.trees = [tree.tree_.predict for tree in trees]
        elif self.classifier:
            self.trees = [tree.predict_proba for tree in trees]  # bound methods, looked up once
        else:
            self.trees = [tree.predict for tree in trees]

    def __call__(self, X: Any) -> Any:
        """Predict ``X`` as ``forest.predict(X)`` would."""
        if type(X) is np.ndarray and X.ndim == 2 and X.shape[0] < _LOCKED_ROWS:
            # Each tree releases the GIL for a moment; with several request threads in here,
            # every release let another thread run for up to a switch interval (5 ms): one
            # worker at 16 connections did half its one-connection rate (152 vs 301 req/s),
            # 288 req/s with small predictions taken one at a time.
            with self._one_at_a_time:
                return self._predict(X)
        return self._predict(X)

    def _predict(self, X: Any) -> Any:
        if not (
            type(X) is np.ndarray
            and X.ndim == 2
            and X.shape[1] == self.n_features
            and X.shape[0] > 0
            and X.dtype.kind in "biuf"
        ):
            return self.fallback(X)
        # the forest's own validation: float32 (DTYPE), and no NaN or infinity unless it
        # handles missing values (then its own path decides)
        with np.errstate(over="ignore"):  # too large for float32: infinite, handled below
            values = np.asarray(X, dtype=np.float32)
        if not np.isfinite(values).all():
            return self.fallback(X)
        X = values
        if self.classifier:
            total = np.zeros((X.shape[0], self.n_classes), dtype=np.float64)
            if self.raw:
                n = self.n_classes
                for predict in self.trees:
                    total += predict(X)[:, :n]
            else:
                for predict_proba in self.trees:
                    total += predict_proba(X, check_input=False)
            total /= len(self.trees)
            return self.classes.take(np.argmax(total, axis=1), axis=0)
        total = np.zeros(X.shape[0], dtype=np.float64)
        if self.raw:
            for predict in self.trees:
                total += predict(X)[:, 0]
        else:
            for predict in self.trees:
                total += predict(X, check_input=False)
        total /= len(self.trees)
        return total


def _raw_agrees(trees: list[Any], classifier: bool, n_features: int) -> bool:
    """Whether every tree's ``tree_.predict``, sliced as this scikit-learn version's
    ``predict_proba`` (classifiers) or ``predict`` (regressors) slices it, gives exactly what
    that method gives, on generated float32 rows. (Versions that normalized or reshaped
    differently would fail here and keep the trees' own methods.)"""
    rows = numbers(n_features).astype(np.float32)
    try:
        for tree in trees:
            raw = tree.tree_.predict(rows)
            if classifier:
                ours = raw[:, : int(tree.n_classes_)]
                theirs = tree.predict_proba(rows, check_input=False)
            else:
                ours, theirs = raw[:, 0], tree.predict(rows, check_input=False)
            if not (
                isinstance(theirs, np.ndarray)
                and ours.dtype == theirs.dtype
                and np.array_equal(ours, theirs)
            ):
                return False
    except Exception:  # no tree_, another signature: the trees' own methods it is
        logger.debug("the trees' raw predict failed its check", exc_info=True)
        return False
    return True


def forest_predict(native: Any, method_name: str) -> ForestPredict | None:
    """A :class:`ForestPredict` for ``native``, or None where it does not apply (unverified)."""
    ensemble = sys.modules.get("sklearn.ensemble")  # loaded already if native is a forest
    if ensemble is None or method_name != "predict":
        return None
    if not any(type(native) is getattr(ensemble, name, None) for name in _FORESTS):
        return None
    if native.n_jobs not in (None, 1) or native.n_outputs_ != 1 or not native.estimators_:
        return None
    return ForestPredict(native)
