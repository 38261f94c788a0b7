"""Faster calls to scikit-learn's ``predict``, with the same bits: every accelerator in one place.

An accelerator re-derives what scikit-learn computes, to save the per-call overhead around it
(joblib dispatch, input validation, column selection). Each is chosen once, at load, by
:func:`accelerate`, which is the only door into this package, and which:

- uses nothing outside the scikit-learn versions in :data:`TESTED_SKLEARN` (these modules
  reach private attributes, which a release may rename without notice);
- uses nothing when ``MLSERVE_SKLEARN_FAST_PATHS=0``: every model predicts through
  scikit-learn's own method;
- verifies the one candidate it finds by one policy (:func:`~._verify.disagreement`): on
  probe inputs built from the fitted model (:func:`~._verify.probes`), each side with its own
  copy, the candidate must give scikit-learn's answer bit for bit, and refuse what it refuses;
- says what it decided in one log line per model (INFO; WARNING when a candidate disagreed).

The accelerators: ``forest`` (a loop over a forest's trees), ``names`` (an estimator fitted on
named columns, called on the frame's values), ``pipeline`` (``Pipeline.predict`` as a loop,
with ``onehot``'s table lookup inside a ColumnTransformer). Each module says when it applies.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Callable
from typing import Any

from mlserve.flavors._sklearn_fast._verify import UNCHECKED, disagreement, probes
from mlserve.flavors._sklearn_fast.forest import forest_predict
from mlserve.flavors._sklearn_fast.names import NamedArrayPredict, nameless_copy
from mlserve.flavors._sklearn_fast.pipeline import pipeline_predict

__all__ = ["SWITCH", "TESTED_SKLEARN", "accelerate", "refusal"]

logger = logging.getLogger(__name__)

Call = Callable[[Any], Any]

#: the environment variable that turns every accelerator off ("0", "false", "no" or "off", as
#: the server's other switches read them)
SWITCH = "MLSERVE_SKLEARN_FAST_PATHS"
_OFF = frozenset({"0", "false", "no", "off"})
#: the scikit-learn minor versions the accelerators are tested with (first, last), inclusive;
#: widen it only after the flavor tests pass on the new version with and without them
TESTED_SKLEARN = ((1, 9), (1, 9))


def refusal() -> str | None:
    """Why no model is accelerated in this process (the switch, the version), or None."""
    value = os.environ.get(SWITCH, "").strip()
    if value.lower() in _OFF:
        return f"{SWITCH}={value}"
    import sklearn  # loaded already: a scikit-learn model is being loaded

    version = str(sklearn.__version__)
    try:
        minor = tuple(int(part) for part in version.split(".")[:2])
    except ValueError:  # a development version such as "1.10.dev0" still parses; others not
        minor = (0, 0)
    (low, high) = TESTED_SKLEARN
    if not low <= minor <= high:
        return f"scikit-learn {version} outside {_minor(low)}-{_minor(high)}"
    return None


def accelerate(
    native: Any, method_name: str, method: Call, *, array: bool, input_step: Any
) -> Call:
    """``method`` (``native``'s bound ``method_name``), or an accelerator that gives its answers.

    ``array`` says the flavor hands ``method`` the values of a frame (the estimator was fitted
    on an array) rather than the frame; ``input_step`` is what gets the input (``native``, or a
    Pipeline's first step). Logs one line saying which was chosen, or why none.
    """
    what = f"{type(native).__name__}.{method_name}"
    reason = refusal()
    if reason is not None:
        logger.info("not accelerated: %s (%s)", reason, what)
        return method
    found = _candidate(native, method_name, method, array=array)
    if found is None:
        logger.info("not accelerated: no accelerator applies (%s)", what)
        return method
    label, fast = found
    problem = disagreement(fast, method, probes(input_step, array=array))
    if problem is not None:
        # a difference from scikit-learn's own answer is worth a report, so above INFO
        level = logging.INFO if problem == UNCHECKED else logging.WARNING
        logger.log(level, "not accelerated: the %s %s (%s)", label, problem, what)
        return method
    logger.info("accelerated: %s (%s)", label, what)
    return fast


def _candidate(
    native: Any, method_name: str, method: Call, *, array: bool
) -> tuple[str, Call] | None:
    """The one accelerator for ``native``, by what it was fitted on, unverified; or None."""
    if array:
        forest = forest_predict(native, method_name)
        if forest is not None:
            return "forest loop", forest
    else:
        nameless = nameless_copy(native, method_name)
        if nameless is not None:
            forest = forest_predict(nameless, method_name)
            label = "forest loop on the frame's values" if forest else "the frame's values"
            names = native.feature_names_in_
            return label, NamedArrayPredict(method, forest or getattr(nameless, method_name), names)
    pipeline = pipeline_predict(native, method_name)
    return None if pipeline is None else ("pipeline loop", pipeline)


def _minor(version: tuple[int, ...]) -> str:
    return ".".join(str(part) for part in version)
