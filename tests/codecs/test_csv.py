"""text/csv request bodies."""

from __future__ import annotations

import threading
import warnings

import numpy as np
import pandas as pd
import pytest

from mlserve.codecs import RequestDecoder, decode_request
from mlserve.errors import PayloadError, UnsupportedContentType
from mlserve.schema import Array, ColSpec, Object, Property, Schema, TensorSpec

CSV = "text/csv"


@pytest.mark.parametrize(
    ("body", "schema", "expected"),
    [
        pytest.param(
            b"a,b\n1.5,x\n2,y\n", None, pd.DataFrame({"a": [1.5, 2.0], "b": ["x", "y"]}), id="plain"
        ),
        pytest.param(
            b'a,b\n1,"hello, world"\n2,"say ""hi"""\n',
            None,
            pd.DataFrame({"a": [1, 2], "b": ["hello, world", 'say "hi"']}),
            id="quoted-strings",
        ),
        pytest.param(
            "a,b\n1,ünïcødé\n".encode(),
            None,
            pd.DataFrame({"a": [1], "b": ["ünïcødé"]}),
            id="utf8",
        ),
        pytest.param(
            b"\xef\xbb\xbfa,b\n1,x\n", None, pd.DataFrame({"a": [1], "b": ["x"]}), id="utf8-bom"
        ),
        pytest.param(
            b"a,b\r\n1,x\r\n", None, pd.DataFrame({"a": [1], "b": ["x"]}), id="crlf-line-ends"
        ),
        pytest.param(
            b"code,n\n007,1\n010,2\n",
            Schema([ColSpec("string", "code"), ColSpec("double", "n")]),
            pd.DataFrame({"code": ["007", "010"], "n": [1.0, 2.0]}),
            id="signature-keeps-leading-zeros",
        ),
        pytest.param(
            b"n,f\n1,2\n",
            Schema([ColSpec("integer", "n"), ColSpec("float", "f")]),
            pd.DataFrame({"n": np.array([1], "int32"), "f": np.array([2.0], "float32")}),
            id="signature-narrow-dtypes",
        ),
        pytest.param(
            b"a,b\n1,2\n3\n", None, pd.DataFrame({"a": [1, 3], "b": [2.0, np.nan]}), id="short-row"
        ),
        pytest.param(
            b"blob\naGk=\n",
            Schema([ColSpec("binary", "blob")]),
            pd.DataFrame({"blob": np.array([b"hi"], dtype=object)}),
            id="binary-base64",
        ),
        pytest.param(
            b"a\n1.5\n",
            Schema([ColSpec("double", "a"), ColSpec("datetime", "t", required=False)]),
            pd.DataFrame({"a": [1.5]}),
            id="datetime-column-not-sent",
        ),
    ],
)
def test_csv_bodies(body: bytes, schema: Schema | None, expected: object) -> None:
    got = decode_request(body, CSV, schema).data
    if isinstance(expected, np.ndarray):
        np.testing.assert_array_equal(got, expected)
        assert got.dtype == expected.dtype
        return
    pd.testing.assert_frame_equal(got, expected, check_dtype=False, check_index_type=False)
    for col in expected.columns:  # numeric and datetime dtypes exactly
        if expected[col].dtype.kind in "biufM":
            assert got[col].dtype.kind == expected[col].dtype.kind
            assert got[col].dtype.itemsize == expected[col].dtype.itemsize, col


def test_csv_content_type_as_mlflow_reads_it() -> None:
    """The charset's value in any case; the media type and the parameter's name as written."""
    assert RequestDecoder().decode(b"a\n1\n", "text/csv; charset=UTF-8").input_format == "csv"
    for header in ("Text/CSV", "text/csv; Charset=utf-8", "text/csv; header=present"):
        with pytest.raises(UnsupportedContentType):
            RequestDecoder().decode(b"a\n1\n", header)


def test_seed_model_predicts_from_csv(seed_model, seed_data) -> None:
    X = seed_data[0][:10]
    body = pd.DataFrame(X).to_csv(index=False).encode()
    names = Schema([ColSpec("double", str(i)) for i in range(4)])
    data = decode_request(body, CSV, names).data
    np.testing.assert_array_equal(seed_model.predict(data.to_numpy()), seed_model.predict(X))


@pytest.mark.parametrize(
    ("schema", "body"),
    [
        pytest.param(
            Schema([TensorSpec(np.dtype("float64"), (-1, 4))]), b"0,1,2,3\n1,2,3,4\n", id="tensor"
        ),
        pytest.param(
            Schema([TensorSpec(np.dtype("float64"), (-1,), "a")]), b"a\n1\n", id="named-tensor"
        ),
        pytest.param(Schema([ColSpec(Array("double"), "a")]), b'a\n"[1.0]"\n', id="array-column"),
        pytest.param(
            Schema([ColSpec("double", "a"), ColSpec(Object([Property("p", "long")]), "o")]),
            b"a\n1\n",
            id="object-column-not-sent",
        ),
        pytest.param(
            Schema([ColSpec("datetime", "t")]), b"t\n2024-01-02T03:04:05\n", id="datetime"
        ),
        pytest.param(Schema([ColSpec("datetime")]), b"t\n2024-01-02\n", id="unnamed-datetime"),
    ],
)
def test_csv_is_refused_where_mlflow_cannot_parse_it(schema: Schema, body: bytes) -> None:
    # MLflow's parse_csv_input passes pandas the signature's dtypes: a tensor or complex
    # signature has none, and read_csv refuses a datetime dtype for a column the body has
    # (400 BAD_REQUEST "Failed to parse input as a Pandas DataFrame", tests/server/test_mlflow_wire)
    with pytest.raises(PayloadError, match="a CSV body cannot carry") as info:
        decode_request(body, CSV, schema)
    assert info.value.error_code == "BAD_REQUEST"


def test_decoding_from_many_threads_leaves_the_warning_filters_alone() -> None:
    # The filters are the process's: a codec that changed them per request (catch_warnings)
    # left one of its own behind when two request threads interleaved, turning every later
    # warning into an error (or silence) for the whole server.
    # CSV cannot carry a datetime column (as in MLflow): JSON's datetime strings are parsed too
    csv_decoder = RequestDecoder(Schema([ColSpec("double", "a"), ColSpec("string", "s")]), None)
    body = b"a,s\n1.5,x\n2.5,\n"
    json_decoder = RequestDecoder(Schema([ColSpec("double", "a"), ColSpec("datetime", "t")]), None)
    datetimes = b'{"dataframe_split": {"columns": ["a", "t"], "data": [[1.5, "2020-01-01"]]}}'
    before = list(warnings.filters)
    failures: list[BaseException] = []

    def decode_many() -> None:
        try:
            for _ in range(200):
                csv_decoder.decode(body, "text/csv")
                json_decoder.decode(datetimes, "application/json")
        except BaseException as exc:  # pragma: no cover - reported below
            failures.append(exc)

    threads = [threading.Thread(target=decode_many) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert failures == []
    assert warnings.filters == before


@pytest.mark.parametrize(
    "body",
    [
        # every row one field longer: pandas takes the first field for an index whether it
        # reads 0, 1, ... (which looked like no index at all) or anything else
        b"a,b\n0,x,2\n1,y,4\n",
        b"a,b\n1,x,2\n2,y,4\n",
        b"a,b\n\n0,x,2\n",  # after a blank line, which pandas skips
    ],
)
def test_rows_longer_than_the_header_are_refused_not_shifted(body: bytes) -> None:
    with pytest.raises(PayloadError, match="the rows have more fields than the header row"):
        decode_request(body, CSV)


def test_a_repeated_header_name_is_refused_not_renamed() -> None:
    # pandas would read the second "a" as "a.1"
    with pytest.raises(PayloadError, match="duplicate column names"):
        decode_request(b"a,a\n1,2\n", CSV)
