"""Estimators fitted on named columns, called on arrays: when that is the same call, and how.

scikit-learn's DataFrame path checks a frame's column names against ``feature_names_in_`` and
then works on ``np.asarray(frame)``. When a frame has exactly the fitted columns, in order, and
only numeric numpy dtypes, calling a copy of the estimator without ``feature_names_in_`` on
``frame.to_numpy()`` is the same computation minus the checks (~0.4 ms of a ~0.6 ms one-row
LogisticRegression). This module decides when an estimator qualifies (:func:`nameless_copy`
for predict methods, :func:`nameless_transformer` for a Pipeline step's ``transform``) and when
a frame does (:func:`numeric_values`; :func:`uniform_values` for the encoders, which split
their input into columns themselves). :class:`NamedArrayPredict` is the accelerator for a
whole estimator; the Pipeline loop (:mod:`.pipeline`) uses the rest for its steps.
"""

from __future__ import annotations

import sys
from collections.abc import Mapping
from types import BuiltinFunctionType, FunctionType, MethodType, ModuleType
from typing import Any

import numpy as np
import pandas as pd

__all__ = [
    "ARRAY_SAFE_FNS",
    "NamedArrayPredict",
    "columnwise_encoder",
    "default_output",
    "nameless_copy",
    "nameless_transformer",
    "numeric_values",
    "uniform_values",
]

# numpy kinds sklearn's DataFrame path and its ndarray path convert alike (bool, ints, floats)
_NUMERIC_KINDS = frozenset("biuf")
#: The methods whose output does not depend on the input being a frame (``transform`` is not
#: one: with ``set_output`` it may return a frame indexed like its input).
ARRAY_SAFE_FNS = (
    "predict",
    "predict_proba",
    "predict_log_proba",
    "predict_joint_log_proba",
    "decision_function",
    "score_samples",
)
# The transformers whose ``transform`` validates the whole frame at once (``validate_data``),
# as the predictors do. Others (OneHotEncoder, OrdinalEncoder, FunctionTransformer, ...) handle
# a frame column by column, each in its own dtype, which its values as one array would not keep.
_WHOLE_FRAME_TRANSFORMERS = {
    "sklearn.preprocessing": (
        "StandardScaler",
        "MinMaxScaler",
        "MaxAbsScaler",
        "RobustScaler",
        "Normalizer",
        "PolynomialFeatures",
    ),
    "sklearn.impute": ("SimpleImputer",),
}
# The encoders that split any input into columns first (``_check_X``): given a frame whose
# columns share one dtype, its values as one array split into the same columns.
_COLUMNWISE_ENCODERS = {"sklearn.preprocessing": ("OneHotEncoder", "OrdinalEncoder")}
# A model with more nested objects than this is not searched: it keeps the DataFrame path.
_MAX_PARTS = 100_000
# What the search does not look into: values, arrays, code.
_LEAVES = (
    str,
    bytes,
    int,
    float,
    np.ndarray,
    np.generic,
    type,
    ModuleType,
    FunctionType,
    BuiltinFunctionType,
    MethodType,
)


class NamedArrayPredict:
    """For a scikit-learn estimator fitted on named columns: skips the DataFrame validation.

    When a request's frame has exactly the fitted columns, in order, and only numeric numpy
    dtypes, sklearn's DataFrame path would check the names and then predict on
    ``np.asarray(frame)``: that is ``frame.to_numpy()``, handed here to ``nameless`` (the same
    estimator without ``feature_names_in_``, so it cannot warn about missing names). Anything
    else (other columns, strings, extension dtypes, not a DataFrame) goes to ``method``, the
    estimator as fitted, which checks, warns or raises as it always would. This skips most of
    sklearn's per-call input validation (~0.4 ms of a ~0.6 ms one-row LogisticRegression).
    """

    def __init__(self, method: Any, nameless: Any, columns: Any) -> None:
        self.method, self.nameless, self.columns = method, nameless, pd.Index(columns)

    def __call__(self, data: Any) -> Any:
        """Predict ``data`` as ``method(data)`` would."""
        values = numeric_values(data, self.columns)
        if values is not None:
            return self.nameless(values)
        return self.method(data)

    def values_of(self, data: Any) -> np.ndarray | None:
        """The array handed to ``nameless`` for ``data``, or None: the DataFrame path."""
        return numeric_values(data, self.columns)


def _has_columns(data: Any, columns: pd.Index) -> bool:
    """True for a frame whose columns are exactly ``columns``, in order."""
    if not isinstance(data, pd.DataFrame):
        return False
    frame_columns = data.columns
    return frame_columns is columns or bool(frame_columns.equals(columns))


def numeric_values(data: Any, columns: pd.Index) -> np.ndarray | None:
    """``data.to_numpy()`` if ``data`` is a frame with exactly ``columns``, in order, and only
    numeric numpy dtypes (bool, ints, floats, one common dtype); otherwise None."""
    if not _has_columns(data, columns):
        return None
    # a frame has few distinct dtypes; extension dtypes (nullable, sparse, categorical)
    # get sklearn's own conversion
    if not all(
        isinstance(d, np.dtype) and d.kind in _NUMERIC_KINDS for d in set(data.dtypes.tolist())
    ):
        return None
    values = data.to_numpy()
    return values if values.dtype.kind in _NUMERIC_KINDS else None  # bool + float: object


def uniform_values(data: Any, columns: pd.Index) -> np.ndarray | None:
    """``data.to_numpy()`` if ``data`` is a frame with exactly ``columns``, in order, all of one
    numpy dtype (numeric, bool or object), or all of pandas' default ``str`` dtype (whose
    missing values are NaN, as in its object array); otherwise None."""
    if not _has_columns(data, columns):
        return None
    dtypes = set(data.dtypes.tolist())
    if len(dtypes) != 1:
        return None
    (dtype,) = dtypes
    if isinstance(dtype, np.dtype):
        if dtype.kind not in "biufO":
            return None
    elif not (isinstance(dtype, pd.StringDtype) and dtype.na_value is np.nan):
        return None
    return data.to_numpy()


def default_output(estimator: Any) -> bool:
    """True unless ``set_output`` (on ``estimator``, or scikit-learn's global
    ``transform_output``) asks for frames (pandas or polars) out of ``transform``."""
    import sklearn  # loaded already: the estimator is one of its objects

    config = getattr(estimator, "_sklearn_output_config", None) or {}
    setting = config.get("transform", "default")
    if setting == "default":
        setting = sklearn.get_config().get("transform_output", "default")
    return setting == "default"


def _one_of(native: Any, classes: Mapping[str, tuple[str, ...]]) -> bool:
    for module_name, names in classes.items():
        module = sys.modules.get(module_name)
        if module is not None and any(type(native) is getattr(module, n, None) for n in names):
            return True
    return False


def columnwise_encoder(native: Any) -> bool:
    """True for scikit-learn's OneHotEncoder and OrdinalEncoder themselves (not subclasses)."""
    return _one_of(native, _COLUMNWISE_ENCODERS)


def _fitted_names(obj: Any) -> bool:
    try:
        return getattr(obj, "feature_names_in_", None) is not None
    except Exception:  # a property of someone else's estimator; assume the worst
        return True


def _has_named_parts(native: Any) -> bool:
    """True if an object held by ``native`` (a sub-estimator, a preprocessor) was fitted on
    named columns: it would warn, or fail, when ``native`` handed it an array."""
    stack: list[Any] = list(vars(native).values())
    seen: set[int] = set()
    while stack:
        obj = stack.pop()
        if id(obj) in seen or isinstance(obj, _LEAVES):
            continue
        seen.add(id(obj))
        if len(seen) > _MAX_PARTS:
            return True
        if isinstance(obj, Mapping):
            stack.extend(obj.values())
        elif isinstance(obj, (list, tuple, set, frozenset)):
            stack.extend(obj)
        elif (state := getattr(obj, "__dict__", None)) is not None:
            if _fitted_names(obj):
                return True
            stack.extend(state.values())
    return False


def nameless_copy(native: Any, method_name: str) -> Any | None:
    """A shallow copy of ``native`` without ``feature_names_in_``, or None when handing it an
    array could change what ``method_name`` (a predict method, not ``transform``) does.

    Only scikit-learn's own estimators qualify (each validates its input and then works on
    arrays), with the names set by ``fit`` itself (a Pipeline's or a search's
    ``feature_names_in_`` is a property reaching into a step), and nothing inside fitted on
    named columns (a forest's trees are fitted on arrays; a VotingClassifier's estimators, a
    HistGradientBoosting's categorical preprocessor are not).
    """
    if method_name not in ARRAY_SAFE_FNS:
        return None
    return _without_names(native)


def nameless_transformer(native: Any, *, encoders: bool = False) -> Any | None:
    """:func:`nameless_copy` for a Pipeline step's ``transform``, or None.

    Only the scalers, ``Normalizer``, ``PolynomialFeatures`` and ``SimpleImputer`` qualify
    (they validate the frame as one array), with ``encoders=True`` the
    :func:`columnwise_encoder` classes too (for :func:`uniform_values` only); none of them with
    ``copy=False`` (scikit-learn would then scale the caller's frame in place), and only when
    ``set_output`` does not ask for frames (:func:`default_output`), checked here, once. Outside
    a Pipeline the served ``transform`` keeps the DataFrame path: its output is the answer.
    """
    kind_ok = _one_of(native, _WHOLE_FRAME_TRANSFORMERS) or (
        encoders and columnwise_encoder(native)
    )
    if not kind_ok or getattr(native, "copy", True) is False or not default_output(native):
        return None
    return _without_names(native)


def _without_names(native: Any) -> Any | None:
    state = getattr(native, "__dict__", None)
    if (
        state is None
        or state.get("feature_names_in_") is None
        or type(native).__module__.partition(".")[0] != "sklearn"
        or _has_named_parts(native)
    ):
        return None
    clone = object.__new__(type(native))
    # the fitted arrays are shared, not copied: the copy costs no memory
    clone.__dict__.update((k, v) for k, v in state.items() if k != "feature_names_in_")
    return clone
