"""text/csv request bodies."""

from __future__ import annotations

import threading
import warnings

import numpy as np
import pandas as pd
import pytest

from mlserve.codecs import RequestDecoder, decode_request
from mlserve.errors import UnsupportedContentType
from mlserve.schema import ColSpec, Schema, TensorSpec

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
            b"0,1,2,3\n0.1,-0.2,0.3,-0.4\n",
            Schema([TensorSpec(np.dtype("float64"), (-1, 4))]),
            np.array([[0.1, -0.2, 0.3, -0.4]]),
            id="tensor-signature",
        ),
        pytest.param(
            b"blob\naGk=\n",
            Schema([ColSpec("binary", "blob")]),
            pd.DataFrame({"blob": np.array([b"hi"], dtype=object)}),
            id="binary-base64",
        ),
        pytest.param(
            b"t\n2024-01-02T03:04:05\n",
            Schema([ColSpec("datetime", "t")]),
            pd.DataFrame({"t": pd.to_datetime(["2024-01-02T03:04:05"])}),
            id="datetime-iso",
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
    data = decode_request(body, CSV, Schema([TensorSpec(np.dtype("float64"), (-1, 4))])).data
    np.testing.assert_array_equal(seed_model.predict(data), seed_model.predict(X))


def test_decoding_from_many_threads_leaves_the_warning_filters_alone() -> None:
    # The filters are the process's: a codec that changed them per request (catch_warnings)
    # left one of its own behind when two request threads interleaved, turning every later
    # warning into an error (or silence) for the whole server.
    decoder = RequestDecoder(Schema([ColSpec("double", "a"), ColSpec("datetime", "t")]), None)
    body = b"a,t\n1.5,2020-01-01T00:00:00\n2.5,2021-01-01T00:00:00\n"
    before = list(warnings.filters)
    failures: list[BaseException] = []

    def decode_many() -> None:
        try:
            for _ in range(200):
                decoder.decode(body, "text/csv")
        except BaseException as exc:  # pragma: no cover - reported below
            failures.append(exc)

    threads = [threading.Thread(target=decode_many) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert failures == []
    assert warnings.filters == before
