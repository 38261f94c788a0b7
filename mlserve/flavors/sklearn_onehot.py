"""One-hot encoding by table lookup, for a OneHotEncoder of string categories in a Pipeline.

On one row, ``OneHotEncoder.transform`` took ~340 us of a ~1.2 ms Pipeline prediction (the
bench's pipeline), almost all of it validation and set operations around what decides the
output: for categories held as Python strings, scikit-learn finds each value's code with a dict
built from ``categories_`` (``_map_to_integer``) and after checking that every value is known
(a set difference: the same hashing and equality). With no ``drop`` and no infrequent
categories, the output is then all zeros of ``dtype`` but a one at each feature's offset plus
that code. :class:`OneHotLookup` holds those dicts, built once from the fitted encoder, and
builds the dense output itself.

It answers only what the tables answer: a frame with exactly the encoder's fitted columns,
holding values every one of which is a known category. Anything else (an unknown category, a
missing value, another dtype, no rows) goes to the encoder's own ``transform``, which handles
it, warns or raises as scikit-learn does. It is used only where the encoder's output is made
dense anyway (by the encoder, or by a ColumnTransformer whose output is dense), and only after
answering, bit for bit, the encoder's own output for a probe holding every category.
"""

from __future__ import annotations

import logging
import sys
import warnings
from collections.abc import Callable
from typing import Any

import numpy as np
import pandas as pd

from mlserve.flavors.sklearn_names import uniform_values

__all__ = ["OneHotLookup", "onehot_lookup"]

logger = logging.getLogger(__name__)

Call = Callable[[Any], Any]


class OneHotLookup:
    """``transform`` of a fitted OneHotEncoder, densified, by table lookup (see the module doc).

    ``tables`` map each feature's categories to their output columns; ``fallback`` is called for
    anything the tables do not answer.
    """

    def __init__(
        self,
        tables: list[dict[str, int]],
        width: int,
        dtype: np.dtype,
        columns: pd.Index,
        fallback: Call,
    ) -> None:
        self.tables, self.width, self.dtype = tables, width, dtype
        self.columns, self.fallback = columns, fallback

    def __call__(self, X: Any) -> Any:
        """The encoder's output for ``X``, as a dense array."""
        values = uniform_values(X, self.columns)
        if values is None or values.dtype != object or not len(values):
            return self.fallback(X)
        out = np.zeros((len(values), self.width), dtype=self.dtype)
        rows = np.arange(len(values))
        try:
            for j, table in enumerate(self.tables):
                out[rows, [table[value] for value in values[:, j]]] = 1
        except (KeyError, TypeError):  # an unknown or missing value, an unhashable one
            return self.fallback(X)
        return out


def onehot_lookup(encoder: Any, fallback: Call, *, dense: bool) -> OneHotLookup | None:
    """A :class:`OneHotLookup` for ``encoder``, or None where it would not give the same output.

    ``fallback`` is the encoder's ``transform`` (or a faster equal call); ``dense`` says the
    output is made dense after the encoder (a ColumnTransformer with dense output). Qualifies:
    scikit-learn's ``OneHotEncoder`` itself, fitted on named columns, with no ``drop``, no
    infrequent categories, and categories that are all Python strings.
    """
    preprocessing = sys.modules.get("sklearn.preprocessing")
    if (
        preprocessing is None
        or type(encoder) is not getattr(preprocessing, "OneHotEncoder", None)
        or not (dense or encoder.sparse_output is False)
        or encoder.drop is not None
        or getattr(encoder, "drop_idx_", None) is not None
        or encoder.min_frequency is not None
        or encoder.max_categories is not None
    ):
        return None
    names = getattr(encoder, "feature_names_in_", None)
    categories = getattr(encoder, "categories_", None)
    if names is None or categories is None or len(categories) != len(names):
        return None
    tables: list[dict[str, int]] = []
    offset = 0
    for cats in categories:
        labels = cats.tolist()
        if cats.dtype != object or any(type(c) is not str for c in labels):
            return None
        tables.append({c: offset + i for i, c in enumerate(labels)})
        offset += len(labels)
        if len(tables[-1]) != len(labels):  # duplicates: not a fitted encoder's categories
            return None
    lookup = OneHotLookup(tables, offset, np.dtype(encoder.dtype), pd.Index(names), fallback)
    return lookup if _answers_the_same(lookup, encoder) else None


def _answers_the_same(lookup: OneHotLookup, encoder: Any) -> bool:
    """Whether the lookup gives the encoder's own output, bit for bit, for rows that between
    them hold every category of every feature."""
    longest = max(len(cats) for cats in encoder.categories_)
    probe = pd.DataFrame(
        {
            name: pd.array([cats[i % len(cats)] for i in range(longest)], dtype=object)
            for name, cats in zip(lookup.columns, encoder.categories_, strict=True)
        }
    )
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            expected = encoder.transform(probe)
            ours = lookup(probe)
    except Exception:
        logger.debug("OneHotEncoder %s keeps its own transform", encoder, exc_info=True)
        return False
    if hasattr(expected, "toarray"):
        expected = expected.toarray()
    return (
        isinstance(expected, np.ndarray)
        and expected.dtype == ours.dtype
        and expected.shape == ours.shape
        and expected.tobytes() == ours.tobytes()
    )
