"""Parquet and Arrow IPC stream request bodies."""

from __future__ import annotations

import io

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from mlserve.codecs import CODECS, decode_request
from mlserve.schema import ColSpec, Schema

PARQUET = "application/vnd.apache.parquet"
ARROW = "application/vnd.apache.arrow.stream"
FRAME = pd.DataFrame({"a": [1.5, 2.5], "n": [1, 2], "s": ["x", "y"], "ok": [True, False]})


def to_parquet(frame: pd.DataFrame) -> bytes:
    buf = io.BytesIO()
    pq.write_table(pa.Table.from_pandas(frame, preserve_index=False), buf)
    return buf.getvalue()


def to_arrow_stream(frame: pd.DataFrame) -> bytes:
    table = pa.Table.from_pandas(frame, preserve_index=False)
    sink = pa.BufferOutputStream()
    with pa.ipc.new_stream(sink, table.schema) as writer:
        writer.write_table(table)
    return sink.getvalue().to_pybytes()


@pytest.mark.parametrize(
    ("media_type", "encode"),
    [
        pytest.param(PARQUET, to_parquet, id="parquet"),
        pytest.param(ARROW, to_arrow_stream, id="arrow"),
    ],
)
def test_columnar_round_trip(media_type: str, encode) -> None:
    got = decode_request(encode(FRAME), media_type).data
    pd.testing.assert_frame_equal(got, FRAME, check_dtype=False)
    assert [got[c].dtype.kind for c in "an"] == ["f", "i"]


@pytest.mark.parametrize(
    ("media_type", "encode"),
    [
        pytest.param(PARQUET, to_parquet, id="parquet"),
        pytest.param(ARROW, to_arrow_stream, id="arrow"),
    ],
)
def test_columnar_typed_by_signature(media_type: str, encode) -> None:
    schema = Schema([ColSpec("float", "a"), ColSpec("integer", "n"), ColSpec("string", "s")])
    got = decode_request(encode(FRAME), media_type, schema).data
    assert list(got.columns) == ["a", "n", "s"]  # "ok" is not in the signature: dropped
    assert got["a"].dtype == np.float32 and got["n"].dtype == np.int32


def test_registry_is_keyed_by_media_type() -> None:
    assert set(CODECS) == {"application/json", "text/csv", PARQUET, ARROW}
    assert not CODECS[PARQUET].textual and CODECS["text/csv"].textual
