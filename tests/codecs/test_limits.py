"""A request's cost follows what the model needs: width and row limits, undeclared columns dropped
before any per-column work, in every body format (JSON shapes, CSV, Parquet, Arrow)."""

from __future__ import annotations

import io
import json
from collections.abc import Callable
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from mlserve.codecs import DecodeLimits, RequestDecoder
from mlserve.codecs import _tabular as tabular
from mlserve.errors import PayloadTooLarge, SchemaMismatch
from mlserve.schema import ColSpec, Schema

SIGNATURE = Schema([ColSpec("double", n) for n in "abcd"])
JSON = "application/json"


def _frame(extra: int, rows: int = 1) -> pd.DataFrame:
    names = [*"abcd", *(f"x{i}" for i in range(extra))]
    return pd.DataFrame(np.full((rows, len(names)), 0.5), columns=names)


def _csv(f: pd.DataFrame) -> tuple[bytes, str]:
    return f.to_csv(index=False).encode(), "text/csv"


def _split(f: pd.DataFrame) -> tuple[bytes, str]:
    doc = {"dataframe_split": {"columns": list(f.columns), "data": f.to_numpy().tolist()}}
    return json.dumps(doc).encode(), JSON


def _records(f: pd.DataFrame) -> tuple[bytes, str]:
    return json.dumps({"dataframe_records": f.to_dict("records")}).encode(), JSON


def _instances(f: pd.DataFrame) -> tuple[bytes, str]:
    return json.dumps({"instances": f.to_dict("records")}).encode(), JSON


def _inputs(f: pd.DataFrame) -> tuple[bytes, str]:
    return json.dumps({"inputs": f.to_dict("list")}).encode(), JSON


def _parquet(f: pd.DataFrame) -> tuple[bytes, str]:
    out = io.BytesIO()
    pq.write_table(pa.Table.from_pandas(f, preserve_index=False), out)
    return out.getvalue(), "application/vnd.apache.parquet"


def _arrow(f: pd.DataFrame) -> tuple[bytes, str]:
    table = pa.Table.from_pandas(f, preserve_index=False)
    sink = pa.BufferOutputStream()
    with pa.ipc.new_stream(sink, table.schema) as writer:
        writer.write_table(table)
    return sink.getvalue().to_pybytes(), "application/vnd.apache.arrow.stream"


FORMATS: dict[str, Callable[[pd.DataFrame], tuple[bytes, str]]] = {
    "csv": _csv,
    "split": _split,
    "records": _records,
    "instances": _instances,
    "inputs": _inputs,
    "parquet": _parquet,
    "arrow": _arrow,
}


@pytest.fixture
def typed_columns(monkeypatch: pytest.MonkeyPatch) -> list[Any]:
    """The names of the columns the decoder typed, one entry per column (a spy on the two
    per-column steps every codec goes through)."""
    seen: list[Any] = []
    column, frame = tabular.coerce_column, tabular.coerce_frame

    def coerce_column(values: Any, rule: Any, *args: Any) -> Any:
        seen.append(rule.name)
        return column(values, rule, *args)

    def coerce_frame(f: pd.DataFrame, plan: Any) -> pd.DataFrame:
        seen.extend(f.columns)
        return frame(f, plan)

    monkeypatch.setattr(tabular, "coerce_column", coerce_column)
    monkeypatch.setattr(tabular, "coerce_frame", coerce_frame)
    for module in ("_json_input", "_csv", "_columnar"):
        mod = __import__(f"mlserve.codecs.{module}", fromlist=["x"])
        for name, spy in (("coerce_frame", coerce_frame), ("coerce_column", coerce_column)):
            if hasattr(mod, name):
                monkeypatch.setattr(mod, name, spy)
    return seen


@pytest.mark.parametrize("fmt", FORMATS)
def test_undeclared_columns_are_never_typed(fmt: str, typed_columns: list[Any]) -> None:
    body, content_type = FORMATS[fmt](_frame(extra=2000, rows=3))
    data = RequestDecoder(SIGNATURE).decode(body, content_type).data
    assert list(data.columns) == list("abcd")
    assert data.to_numpy().tolist() == [[0.5] * 4] * 3
    assert sorted(map(str, typed_columns)) == list("abcd")  # not one of the 2,000 others


@pytest.mark.parametrize("fmt", FORMATS)
def test_too_many_columns_is_refused_before_decoding(fmt: str, typed_columns: list[Any]) -> None:
    body, content_type = FORMATS[fmt](_frame(extra=10_000))
    with pytest.raises(PayloadTooLarge) as info:
        RequestDecoder(SIGNATURE).decode(body, content_type)
    assert (info.value.what, info.value.count, info.value.limit) == ("columns", 10_004, 10_000)
    assert info.value.error_code == "RESOURCE_EXHAUSTED"
    assert typed_columns == []


@pytest.mark.parametrize("fmt", FORMATS)
def test_row_limit(fmt: str) -> None:
    decoder = RequestDecoder(SIGNATURE, limits=DecodeLimits(max_columns=100, max_rows=5))
    body, content_type = FORMATS[fmt](_frame(extra=1, rows=5))
    assert len(decoder.decode(body, content_type).data) == 5
    body, content_type = FORMATS[fmt](_frame(extra=1, rows=6))
    with pytest.raises(PayloadTooLarge, match="6 rows; the limit is 5"):
        decoder.decode(body, content_type)


@pytest.mark.parametrize("fmt", ["csv", "split", "parquet"])
def test_a_wide_signature_may_always_be_sent_whole(fmt: str) -> None:
    wide = Schema([ColSpec("double", f"c{i}") for i in range(30)])
    decoder = RequestDecoder(wide, limits=DecodeLimits(max_columns=10))
    frame = pd.DataFrame(np.ones((1, 30)), columns=[f"c{i}" for i in range(30)])
    assert decoder.decode(*FORMATS[fmt](frame)).data.shape == (1, 30)
    frame["extra"] = 1.0
    with pytest.raises(PayloadTooLarge, match="31 columns; the limit is 30"):
        decoder.decode(*FORMATS[fmt](frame))


@pytest.mark.parametrize("fmt", ["csv", "split", "records"])
def test_without_a_signature_every_column_counts(fmt: str) -> None:
    decoder = RequestDecoder(None, limits=DecodeLimits(max_columns=8))
    assert decoder.decode(*FORMATS[fmt](_frame(extra=4))).data.shape == (1, 8)
    with pytest.raises(PayloadTooLarge):
        decoder.decode(*FORMATS[fmt](_frame(extra=5)))


def test_no_limits() -> None:
    decoder = RequestDecoder(None, limits=DecodeLimits.none())
    assert decoder.decode(*_csv(_frame(extra=12_000))).data.shape == (1, 12_004)


def test_undeclared_columns_are_dropped_by_value_and_type() -> None:
    # a CSV header says "0".."3": the columns of a signature named so, not of one named 0..3
    frame = pd.DataFrame(np.ones((2, 6)), columns=["0", "1", "2", "3", "x", "y"])
    strings = Schema([ColSpec("double", c) for c in "0123"])
    assert RequestDecoder(strings).decode(*_csv(frame)).data.shape == (2, 4)
    ints = Schema([ColSpec("double", i) for i in range(4)])
    with pytest.raises(SchemaMismatch, match="required columns '0', '1', '2', '3'"):
        RequestDecoder(ints).decode(*_csv(frame))


@pytest.mark.parametrize("fmt", FORMATS)
def test_memory_limit(fmt: str) -> None:
    """20,000 rows of 5 random columns take several MiB to decode in every format: refused
    under a 1 MiB max_memory before the memory is spent, decoded without it. Constant values
    (tiny when Parquet encodes them) are counted at their decoded size too."""
    rng = np.random.default_rng(0)
    for frame in (pd.DataFrame(rng.random((20_000, 5)), columns=[*"abcd", "x"]), _frame(1, 20_000)):
        body, content_type = FORMATS[fmt](frame)
        limited = RequestDecoder(SIGNATURE, limits=DecodeLimits(max_memory=1024 * 1024))
        with pytest.raises(PayloadTooLarge, match=r"about \d+ MiB of memory; the limit is 1 MiB"):
            limited.decode(body, content_type)
        unlimited = RequestDecoder(SIGNATURE, limits=DecodeLimits(max_memory=None))
        assert unlimited.decode(body, content_type).data.shape == (20_000, 4)


def test_a_small_body_is_not_scanned_for_its_memory() -> None:
    """Below the limit divided by the worst cost a byte can have, no estimate is made (the
    check costs nothing on ordinary requests); at or above it, the estimate decides."""
    body, content_type = _split(_frame(0, 10))
    assert RequestDecoder(SIGNATURE, limits=DecodeLimits(max_memory=len(body) * 200)).decode(
        body, content_type
    ).data.shape == (10, 4)
    with pytest.raises(PayloadTooLarge):
        RequestDecoder(SIGNATURE, limits=DecodeLimits(max_memory=len(body) * 2)).decode(
            body, content_type
        )


def test_memory_limit_on_a_v2_request() -> None:
    """A V2 inference body is held to the same memory limit as /invocations."""
    from mlserve.codecs._v2 import decode_v2_request

    values = np.random.default_rng(0).random(20_000).tolist()
    doc = {"inputs": [{"name": n, "shape": [20_000], "datatype": "FP64", "data": values}
                      for n in "abcd"]}  # fmt: skip
    body = json.dumps(doc).encode()
    limited = RequestDecoder(SIGNATURE, limits=DecodeLimits(max_memory=1024 * 1024)).plan
    with pytest.raises(PayloadTooLarge, match="max_request_memory"):
        decode_v2_request(body, limited)
    unlimited = RequestDecoder(SIGNATURE, limits=DecodeLimits(max_memory=None)).plan
    assert len(decode_v2_request(body, unlimited).data) == 20_000
