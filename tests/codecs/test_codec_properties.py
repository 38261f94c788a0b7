"""Property tests: random frames round-trip through every codec; random input never escapes
mlserve's own error types."""

from __future__ import annotations

import contextlib
import io
import json
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from _codec_support import json_backend  # noqa: F401 (a fixture)
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from mlserve.codecs import RequestDecoder, encode_predictions
from mlserve.errors import MlserveError
from mlserve.schema import ColSpec, ParamSchema, ParamSpec, Schema, TensorSpec

SETTINGS = settings(
    max_examples=25,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
# pandas' read_csv turns these into nulls (as MLflow's CSV parsing does), so text columns avoid them
CSV_NA = {"", "#N/A", "#N/A N/A", "#NA", "-1.#IND", "-1.#QNAN", "-NaN", "-nan", "1.#IND",
          "1.#QNAN", "<NA>", "N/A", "NA", "NULL", "NaN", "None", "n/a", "nan", "null"}  # fmt: skip

TEXT = st.text(
    st.characters(codec="utf-8", exclude_characters="\r\x00", exclude_categories=["Cs"]),
    min_size=1,
    max_size=12,
).filter(lambda s: s not in CSV_NA and s.strip() == s and not _numeric(s))
KINDS = {
    "double": st.floats(allow_nan=False, allow_infinity=False, width=64),
    "long": st.integers(-(2**53), 2**53),
    "boolean": st.booleans(),
    "string": TEXT,
}


def _numeric(s: str) -> bool:
    try:
        float(s)
    except ValueError:
        return s.lower() in ("true", "false")
    return True


@st.composite
def frames(draw: st.DrawFn) -> tuple[pd.DataFrame, Schema]:
    """A non-empty frame of 1-5 typed columns and the column signature that describes it."""
    kinds = draw(st.lists(st.sampled_from(sorted(KINDS)), min_size=1, max_size=5))
    names = draw(
        st.lists(
            st.text("abcdefgh_", min_size=1, max_size=6),
            min_size=len(kinds),
            max_size=len(kinds),
            unique=True,
        )
    )
    nrows = draw(st.integers(1, 8))
    data = {
        n: draw(st.lists(KINDS[k], min_size=nrows, max_size=nrows))
        for n, k in zip(names, kinds, strict=True)
    }
    frame = pd.DataFrame(data)
    frame = frame.astype(
        {n: np.float64 for n, k in zip(names, kinds, strict=True) if k == "double"}
    )
    return frame, Schema([ColSpec(k, n) for n, k in zip(names, kinds, strict=True)])


def _same(got: pd.DataFrame, want: pd.DataFrame) -> None:
    pd.testing.assert_frame_equal(
        got.reset_index(drop=True), want, check_dtype=False, check_column_type=False
    )
    for col in want.columns:
        assert got[col].dtype.kind == want[col].dtype.kind or want[col].dtype.kind in "OT", col


def _split(frame: pd.DataFrame) -> bytes:
    return json.dumps({"dataframe_split": frame.to_dict(orient="split")}).encode()


def _records(frame: pd.DataFrame) -> bytes:
    return json.dumps({"dataframe_records": frame.to_dict(orient="records")}).encode()


def _parquet(frame: pd.DataFrame) -> bytes:
    buf = io.BytesIO()
    pq.write_table(pa.Table.from_pandas(frame, preserve_index=False), buf)
    return buf.getvalue()


def _arrow(frame: pd.DataFrame) -> bytes:
    table = pa.Table.from_pandas(frame, preserve_index=False)
    sink = pa.BufferOutputStream()
    with pa.ipc.new_stream(sink, table.schema) as writer:
        writer.write_table(table)
    return sink.getvalue().to_pybytes()


ENCODERS = [
    pytest.param(_split, "application/json", id="dataframe_split"),
    pytest.param(_records, "application/json", id="dataframe_records"),
    pytest.param(lambda f: f.to_csv(index=False).encode(), "text/csv", id="csv"),
    pytest.param(_parquet, "application/vnd.apache.parquet", id="parquet"),
    pytest.param(_arrow, "application/vnd.apache.arrow.stream", id="arrow"),
]


@pytest.mark.usefixtures("json_backend")
@pytest.mark.parametrize(("encode", "media_type"), ENCODERS)
@SETTINGS
@given(case=frames())
def test_frames_round_trip(encode: Any, media_type: str, case: tuple[pd.DataFrame, Schema]) -> None:
    frame, schema = case
    body = encode(frame)
    _same(RequestDecoder(schema).decode(body, media_type).data, frame)
    if media_type != "text/csv":  # CSV without a signature re-infers types from text
        _same(RequestDecoder().decode(body, media_type).data, frame)


@SETTINGS
@given(case=frames())
def test_predictions_round_trip(case: tuple[pd.DataFrame, Schema]) -> None:
    frame, _ = case
    body = encode_predictions(frame)
    assert json.loads(body)["predictions"] == frame.to_dict(orient="records")  # exact floats


SCHEMAS = [
    None,
    Schema([ColSpec("double", "a"), ColSpec("string", "b")]),
    Schema([ColSpec("long", "a", required=False), ColSpec("binary", "b")]),
    Schema([TensorSpec(np.dtype("float32"), (-1, 2))]),
    Schema(
        [TensorSpec(np.dtype("int32"), (-1,), "x"), TensorSpec(np.dtype("float64"), (-1,), "y")]
    ),
]
PARAMS = ParamSchema([ParamSpec("k", "long", 1)])
MEDIA = [
    "application/json",
    "text/csv",
    "application/vnd.apache.parquet",
    "application/vnd.apache.arrow.stream",
]
JSON_VALUES = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(-(2**70), 2**70)
    | st.floats()
    | st.text(max_size=5)
    | st.sampled_from(["a", "b", "x", "y", "aGk=", "2024-01-01"]),
    lambda inner: (
        st.lists(inner, max_size=4)
        | st.dictionaries(
            st.sampled_from(["a", "b", "x", "y", "k", "data", "columns"]), inner, max_size=4
        )
    ),
    max_leaves=20,
)
BODIES = st.dictionaries(
    st.sampled_from(
        ["dataframe_split", "dataframe_records", "instances", "inputs", "params", "columns"]
    ),
    JSON_VALUES
    | st.fixed_dictionaries(
        {"columns": st.lists(st.sampled_from(["a", "b", 0, 1]), max_size=3)},
        optional={"data": JSON_VALUES, "index": JSON_VALUES},
    ),
    min_size=1,
    max_size=2,
)


def _only_our_errors(decoder: RequestDecoder, body: bytes, media_type: str) -> None:
    with contextlib.suppress(MlserveError):
        decoder.decode(body, media_type)


@pytest.mark.usefixtures("json_backend")
@pytest.mark.parametrize(
    "schema", SCHEMAS, ids=["none", "columns", "optional-binary", "tensor", "named-tensors"]
)
@SETTINGS
@given(doc=BODIES)
def test_random_json_only_raises_mlserve_errors(schema: Schema | None, doc: dict[str, Any]) -> None:
    decoder = RequestDecoder(schema, PARAMS)
    _only_our_errors(decoder, json.dumps(doc).encode(), "application/json")


@pytest.mark.parametrize("media_type", MEDIA)
@SETTINGS
@given(body=st.binary(max_size=200))
def test_random_bytes_only_raise_mlserve_errors(media_type: str, body: bytes) -> None:
    for schema in SCHEMAS[:2]:
        _only_our_errors(RequestDecoder(schema), body, media_type)
