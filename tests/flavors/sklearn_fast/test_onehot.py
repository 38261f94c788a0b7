"""The one-hot table lookup gives a OneHotEncoder's own output, bit for bit, and hands everything
it does not answer to the encoder."""

from __future__ import annotations

import json
import tracemalloc
import warnings
from collections.abc import Callable
from typing import Any

import numpy as np
import pandas as pd
import pytest
from sklearn.preprocessing import OneHotEncoder, OrdinalEncoder

from mlserve.flavors._sklearn_fast.onehot import (
    PROBE_ROWS,
    OneHotLookup,
    _answers_the_same,
    onehot_lookup,
)

COLUMNS = ["color", "size"]
TRAIN = pd.DataFrame(
    {
        "color": ["red", "green", "blue", "red", "green", "red"],
        "size": ["S", "M", "L", "XL", "S", "M"],
    }
)


class _Counting:
    """The encoder's own transform, counting its calls (to tell who answered)."""

    def __init__(self, encoder: Any) -> None:
        self.encoder, self.calls = encoder, 0

    def __call__(self, X: Any) -> Any:
        self.calls += 1
        return self.encoder.transform(X)


def _dense(output: Any) -> np.ndarray:
    return output.toarray() if hasattr(output, "toarray") else output


def _lookup(**options: Any) -> tuple[OneHotLookup, _Counting, OneHotEncoder]:
    encoder = OneHotEncoder(**options).fit(TRAIN)
    fallback = _Counting(encoder)
    lookup = onehot_lookup(encoder, fallback, dense=True)
    assert lookup is not None
    fallback.calls = 0  # the probe at build time
    return lookup, fallback, encoder


def _rows(n: int, seed: int, dtype: Any = "str") -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    frame = pd.DataFrame(
        {
            "color": rng.choice(["red", "green", "blue"], n).tolist(),
            "size": rng.choice(["S", "M", "L", "XL"], n).tolist(),
        }
    )
    return frame.astype(dtype)


def _assert_same_bits(ours: np.ndarray, theirs: Any) -> None:
    theirs = _dense(theirs)
    assert type(ours) is np.ndarray
    assert (ours.dtype, ours.shape) == (theirs.dtype, theirs.shape)
    assert ours.tobytes() == theirs.tobytes()


@pytest.mark.parametrize(
    "options",
    [
        {},
        {"handle_unknown": "ignore"},
        {"sparse_output": False, "dtype": np.float32},
        {"dtype": np.int8, "handle_unknown": "warn"},
        {"categories": [["red", "blue", "green"], ["XL", "S", "M", "L"]]},  # not sorted
    ],
    ids=["default", "ignore", "dense-float32", "int8-warn", "given-order"],
)
@pytest.mark.parametrize("dtype", ["str", object], ids=["str", "object"])
def test_known_categories_are_answered_by_the_tables(options: dict, dtype: Any) -> None:
    lookup, fallback, encoder = _lookup(**options)
    for n, seed in [(1, 0), (1, 1), (7, 2), (500, 3)]:
        X = _rows(n, seed, dtype)
        _assert_same_bits(lookup(X), encoder.transform(X))
    assert fallback.calls == 0


class _Str(str):
    """A str subclass: equal to the plain string, but not a plain string."""


class _Lookalike:
    """Hashes and compares like "red" without being a string."""

    def __hash__(self) -> int:
        return hash("red")

    def __eq__(self, other: object) -> bool:
        return other == "red"


def _with(column: str, value: Any) -> pd.DataFrame:
    X = _rows(3, 4, object)
    X.loc[1, column] = value
    return X


@pytest.mark.parametrize(
    "X",
    [
        _with("color", "purple"),  # never seen in fit
        _with("size", None),
        _with("size", np.nan),
        _with("color", 1),
        _with("color", b"red"),
        _with("color", _Str("red")),
        _with("color", _Lookalike()),
        _rows(0, 5),
        _rows(2, 6, "category"),  # another dtype: the encoder's own conversion
        _rows(2, 7)[["size", "color"]],  # other columns (order) than fitted
    ],
    ids=[
        "unknown",
        "none",
        "nan",
        "int",
        "bytes",
        "str-subclass",
        "lookalike",
        "no-rows",
        "categorical",
        "reordered",
    ],
)
@pytest.mark.parametrize("handle_unknown", ["error", "ignore", "warn"])
def test_what_the_tables_do_not_answer_goes_to_the_encoder(
    X: pd.DataFrame, handle_unknown: str
) -> None:
    lookup, fallback, encoder = _lookup(handle_unknown=handle_unknown)

    def outcome(call: Callable[[Any], Any]) -> tuple[str, Any]:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            try:
                result = ("answer", _dense(call(X)).tobytes())
            except Exception as exc:
                result = ("error", (type(exc), str(exc)))
        return (*result, [str(w.message) for w in caught])

    assert outcome(lookup) == outcome(encoder.transform)
    assert fallback.calls == 1


@pytest.mark.parametrize(
    "build",
    [
        lambda: OneHotEncoder(drop="first").fit(TRAIN),
        lambda: OneHotEncoder(drop="if_binary").fit(TRAIN),
        lambda: OneHotEncoder(min_frequency=2, handle_unknown="infrequent_if_exist").fit(TRAIN),
        lambda: OneHotEncoder(max_categories=2).fit(TRAIN),
        lambda: OneHotEncoder().fit(pd.DataFrame({"n": [1, 2, 3]})),  # numeric categories
        lambda: OneHotEncoder().fit(pd.DataFrame({"s": ["a", None, "b"]}, dtype=object)),
        lambda: OneHotEncoder().fit(TRAIN.to_numpy()),  # no column names
        lambda: OrdinalEncoder().fit(TRAIN),
        lambda: type("MyEncoder", (OneHotEncoder,), {})().fit(TRAIN),
    ],
    ids=[
        "drop-first",
        "drop-if-binary",
        "min-frequency",
        "max-categories",
        "numbers",
        "missing-category",
        "fitted-on-array",
        "ordinal",
        "subclass",
    ],
)
def test_not_built_where_the_output_is_not_the_tables(build: Callable[[], Any]) -> None:
    encoder = build()
    assert onehot_lookup(encoder, encoder.transform, dense=True) is None


def test_sparse_output_that_stays_sparse_is_not_replaced() -> None:
    sparse = OneHotEncoder().fit(TRAIN)
    assert onehot_lookup(sparse, sparse.transform, dense=False) is None
    dense = OneHotEncoder(sparse_output=False).fit(TRAIN)
    assert onehot_lookup(dense, dense.transform, dense=False) is not None


def test_tables_that_disagree_with_the_encoder_are_not_used() -> None:
    lookup, _, encoder = _lookup()
    assert _answers_the_same(lookup, encoder)
    lookup.tables[1] = {label: lookup.width - 1 - i for label, i in lookup.tables[1].items()}
    assert not _answers_the_same(lookup, encoder)


def test_categories_pyarrow_cannot_hold_are_probed_and_encoded() -> None:
    lone = json.loads('"caf\\ud83d"')  # half a surrogate pair: a str, but not valid UTF-8
    train = pd.DataFrame({"a": pd.Series(["ok", lone, "ok"], dtype=object)})
    encoder = OneHotEncoder(sparse_output=False).fit(train)
    lookup = onehot_lookup(encoder, encoder.transform, dense=True)
    assert lookup is not None
    X = pd.DataFrame({"a": pd.Series([lone, "ok", lone], dtype=object)})
    _assert_same_bits(lookup(X), encoder.transform(X))


def test_the_load_time_probe_stays_small_however_many_categories() -> None:
    categories = 3000
    train = pd.DataFrame({"zip": [f"{i:05d}" for i in range(categories)]})
    encoder = OneHotEncoder(handle_unknown="ignore").fit(train)
    tracemalloc.start()
    try:
        lookup = onehot_lookup(encoder, encoder.transform, dense=True)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert lookup is not None
    # all 3,000 rows at once would be 3,000 x 3,000 float64: 72 MB, twice over
    assert peak < 20 * PROBE_ROWS * categories * 8
    X = pd.DataFrame({"zip": ["02999", "00000", "01234"]}, dtype=object)
    _assert_same_bits(lookup(X), encoder.transform(X))
