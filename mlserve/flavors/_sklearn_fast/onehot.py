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
holding values every one of which is a known category, as a ``str``. Anything else (an unknown
category, a missing value, another type or dtype, no rows) goes to the encoder's own
``transform``, which handles it, warns or raises as scikit-learn does. It is used only where
the encoder's output is made dense anyway (by the encoder, or by a ColumnTransformer whose
output is dense), and only after the tables have given, bit for bit, the encoder's own output
for rows holding every category (the bit comparison of :mod:`._verify`; the Pipeline's probe
alone would not reach every category of a large encoder affordably). The tables are the
encoder's as loaded: changing its ``categories_`` afterwards is not followed (as with the rest
of the accelerators, a served model is not changed in place).
"""

from __future__ import annotations

import logging
import sys
from collections.abc import Callable
from typing import Any

import numpy as np
import pandas as pd

from mlserve.flavors._sklearn_fast._verify import difference
from mlserve.flavors._sklearn_fast.names import uniform_values

__all__ = ["PROBE_ROWS", "OneHotLookup", "onehot_lookup"]

logger = logging.getLogger(__name__)

Call = Callable[[Any], Any]

#: rows per call of the load-time probe (its output is rows x all the encoder's columns)
PROBE_ROWS = 64


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
        out = self.encode(values)
        return self.fallback(X) if out is None else out

    def encode(self, values: np.ndarray) -> np.ndarray | None:
        """The one-hot rows of ``values`` (2-D, object), or None unless every value is a known
        category held as a ``str`` itself (not a subclass or a lookalike: scikit-learn compares
        a value twice, a dict lookup once)."""
        n = len(values)
        out = np.zeros((n, self.width), dtype=self.dtype)
        rows = np.arange(n)
        for j, table in enumerate(self.tables):
            try:
                columns = [table[value] for value in values[:, j] if type(value) is str]
            except KeyError:  # a string it does not know
                return None
            if len(columns) != n:  # a missing value, or anything but a str
                return None
            out[rows, columns] = 1
        return out


def onehot_lookup(encoder: Any, fallback: Call, *, dense: bool) -> OneHotLookup | None:
    """A :class:`OneHotLookup` for ``encoder``, or None where it would not give the same output.

    ``fallback`` is the encoder's ``transform`` (or a faster equal call); ``dense`` says the
    output is made dense after the encoder (a ColumnTransformer with dense output). Qualifies:
    scikit-learn's ``OneHotEncoder`` itself, fitted on named columns, with no ``drop``, no
    infrequent categories, and categories that are all Python strings.
    """
    preprocessing = sys.modules.get("sklearn.preprocessing")
    # getattr throughout: a scikit-learn version without one of these settings gets no lookup,
    # and no error that would cost the ColumnTransformer its loop
    if (
        preprocessing is None
        or type(encoder) is not getattr(preprocessing, "OneHotEncoder", None)
        or not (dense or getattr(encoder, "sparse_output", None) is False)
        or getattr(encoder, "drop", "?") is not None
        or getattr(encoder, "drop_idx_", None) is not None
        or getattr(encoder, "min_frequency", "?") is not None
        or getattr(encoder, "max_categories", "?") is not None
        or not hasattr(encoder, "dtype")
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
    """Whether the tables give the encoder's own output, bit for bit, for rows that between them
    hold every category of every feature, probed :data:`PROBE_ROWS` rows at a time (the output
    for all of them at once grows with the square of the number of categories)."""
    categories = encoder.categories_
    longest = max(len(cats) for cats in categories)
    try:
        for start in range(0, longest, PROBE_ROWS):
            rows = range(start, min(start + PROBE_ROWS, longest))
            probe = pd.DataFrame(
                {
                    name: pd.Series([cats[i % len(cats)] for i in rows], dtype=object)
                    for name, cats in zip(lookup.columns, categories, strict=True)
                }
            )
            expected = encoder.transform(probe)
            if hasattr(expected, "toarray"):
                expected = expected.toarray()
            ours = lookup.encode(probe.to_numpy())
            if ours is None or difference(ours, expected) is not None:
                return False
    except Exception:
        logger.debug("OneHotEncoder %s keeps its own transform", encoder, exc_info=True)
        return False
    return True
