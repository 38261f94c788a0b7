"""The error table: every malformed request -> error class, error_code, HTTP status, message.

docs/payloads.md carries the same table; ``test_docs_error_table_matches`` holds the two together.
"""

from __future__ import annotations

import json
import re
import sys
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from _codec_support import json_backend  # noqa: F401 (a fixture)

from mlserve.codecs import RequestDecoder
from mlserve.errors import (
    InvalidColumnValue,
    InvalidParams,
    MissingExtra,
    MlserveError,
    PayloadError,
    SchemaMismatch,
    UnsupportedContentType,
)
from mlserve.schema import ColSpec, ParamSchema, ParamSpec, Schema, TensorSpec

DOCS = Path(__file__).resolve().parents[2] / "docs" / "payloads.md"
JSON = "application/json"
CSV = "text/csv"
SECRET = "SECRET-DATA-7f3a"  # planted in bodies: no message may contain it
COLS_AB = Schema([ColSpec("double", "a"), ColSpec("string", "b")])
LONG_N = Schema([ColSpec("long", "n")])
TENSOR_4 = Schema([TensorSpec(np.dtype("float64"), (-1, 4))])
PARAMS = ParamSchema([ParamSpec("k", "long", 3)])


def _j(doc: Any) -> bytes:
    return json.dumps(doc).encode()


# id, content type, body, schema, error class, a fragment the message contains
CASES: list[tuple[str, str | None, bytes, Schema | None, type[MlserveError], str]] = [
    ("no-content-type", None, b"{}", None, UnsupportedContentType, "no Content-Type header"),
    ("blank-content-type", " ", b"{}", None, UnsupportedContentType, "no Content-Type header"),
    ("unknown-media-type", "text/plain", b"x", None, UnsupportedContentType, "Supported:"),
    (
        "form-urlencoded",
        "application/x-www-form-urlencoded",
        b"a=1",
        None,
        UnsupportedContentType,
        "Supported:",
    ),
    (
        "json-charset-latin1",
        "application/json; charset=latin-1",
        b"{}",
        None,
        UnsupportedContentType,
        "charset=latin-1",
    ),
    (
        "csv-charset-utf16",
        "text/csv; charset=utf-16",
        b"a\n1",
        None,
        UnsupportedContentType,
        "charset=utf-16",
    ),
    (
        # MLflow accepts charset=utf-8 (any case) and no other spelling
        "json-charset-utf8",
        "application/json; charset=utf8",
        b"{}",
        None,
        UnsupportedContentType,
        "the only charset accepted is utf-8",
    ),
    (
        "json-unknown-parameter",
        "application/json; format=pandas-split",
        b"{}",
        None,
        UnsupportedContentType,
        "unknown parameter(s) 'format'",
    ),
    (
        # MLflow compares the media type as written
        "upper-case-media-type",
        "Application/JSON",
        b"{}",
        None,
        UnsupportedContentType,
        "Supported:",
    ),
    ("empty-body", JSON, b"", None, PayloadError, "the body is empty"),
    ("whitespace-body", JSON, b"  \n", None, PayloadError, "the body is empty"),
    ("invalid-utf8", JSON, b'{"inputs": ["\xff\xfe"]}', None, PayloadError, "not valid UTF-8"),
    (
        "malformed-json",
        JSON,
        b'{"inputs": [1, ' + SECRET.encode(),
        None,
        PayloadError,
        "malformed JSON at line 1",
    ),
    ("nested-too-deeply", JSON, b"[" * 200_000, None, PayloadError, "nested too deeply"),
    ("top-level-list", JSON, _j([[1, 2]]), None, PayloadError, "found a list"),
    ("top-level-string", JSON, _j(SECRET), None, PayloadError, "found a string"),
    ("top-level-null", JSON, b"null", None, PayloadError, "found null"),
    ("no-input-key", JSON, _j({"params": {}}), None, PayloadError, "found none of them"),
    ("empty-object", JSON, b"{}", None, PayloadError, "found none of them"),
    (
        "two-input-keys",
        JSON,
        _j({"inputs": [1], "instances": [1]}),
        None,
        PayloadError,
        "found both instances and inputs",
    ),
    (
        "unknown-top-level-key",
        JSON,
        _j({"inputs": [1], "extra": SECRET}),
        None,
        PayloadError,
        "accepted keys: dataframe_split, dataframe_records, instances, inputs, params",
    ),
    (
        "mlflow-1x-split-body",
        JSON,
        _j({"columns": ["a"], "data": [[1]]}),
        None,
        PayloadError,
        "unknown top-level key(s) 'columns', 'data'",
    ),
    (
        # MLflow's unwrapped LLM body, for a model whose signature declares none of its keys
        "llm-unwrapped-body",
        JSON,
        _j({"messages": [{"role": "user"}]}),
        COLS_AB,
        SchemaMismatch,
        "Schema mismatch",
    ),
    (
        "split-not-object",
        JSON,
        _j({"dataframe_split": [[1]]}),
        None,
        PayloadError,
        "'dataframe_split' must be an object",
    ),
    (
        "split-without-data",
        JSON,
        _j({"dataframe_split": {"columns": ["a"]}}),
        None,
        PayloadError,
        "'dataframe_split' has no 'data'",
    ),
    (
        "split-unknown-key",
        JSON,
        _j({"dataframe_split": {"data": [[1]], "dtype": "x"}}),
        None,
        PayloadError,
        "unknown key(s) 'dtype'",
    ),
    (
        "split-data-not-list",
        JSON,
        _j({"dataframe_split": {"data": {"a": [1]}}}),
        None,
        PayloadError,
        "must be a list of rows",
    ),
    (
        "split-row-not-list",
        JSON,
        _j({"dataframe_split": {"data": [1, 2]}}),
        None,
        PayloadError,
        "each a list of values",
    ),
    (
        "split-rows-unequal",
        JSON,
        _j({"dataframe_split": {"columns": ["a", "b"], "data": [[1, 2], [3]]}}),
        None,
        PayloadError,
        "unequal lengths [1, 2]",
    ),
    (
        "split-row-vs-columns",
        JSON,
        _j({"dataframe_split": {"columns": ["a"], "data": [[1, 2]]}}),
        None,
        PayloadError,
        "have 2 values but 1 column names are given",
    ),
    (
        "split-bad-column-name",
        JSON,
        _j({"dataframe_split": {"columns": [1.5], "data": [[1]]}}),
        None,
        PayloadError,
        "only strings or integers",
    ),
    (
        "split-duplicate-columns",
        JSON,
        _j({"dataframe_split": {"columns": ["a", "a"], "data": [[1, 2]]}}),
        None,
        PayloadError,
        "duplicate column names",
    ),
    (
        "split-index-length",
        JSON,
        _j({"dataframe_split": {"columns": ["a"], "data": [[1]], "index": [1, 2]}}),
        None,
        PayloadError,
        "'index' has 2 entries but there are 1 rows",
    ),
    (
        "split-index-not-list",
        JSON,
        _j({"dataframe_split": {"columns": ["a"], "data": [[1]], "index": {"x": 1}}}),
        None,
        PayloadError,
        "'dataframe_split.index' must be a list",
    ),
    (
        "records-not-list",
        JSON,
        _j({"dataframe_records": {"a": [1]}}),
        None,
        PayloadError,
        "must be a list of objects",
    ),
    (
        # a list of rows is a frame labelled 0..n-1, as MLflow's pd.DataFrame(rows); a mix is not
        "records-rows-and-objects",
        JSON,
        _j({"dataframe_records": [[1, 2], {"a": 1}]}),
        None,
        SchemaMismatch,
        "rows mixed with objects",
    ),
    (
        "instances-ragged",
        JSON,
        _j({"instances": [[1, 2], [3]]}),
        None,
        PayloadError,
        "not a rectangular array",
    ),
    (
        "inputs-ragged",
        JSON,
        _j({"inputs": [[1, 2], [3]]}),
        TENSOR_4,
        PayloadError,
        "not a rectangular array",
    ),
    (
        "inputs-columns-unequal",
        JSON,
        _j({"inputs": {"a": [1, 2], "b": ["x"]}}),
        COLS_AB,
        SchemaMismatch,
        "lists of one length",
    ),
    (
        "instances-columns-unequal",
        JSON,
        _j({"instances": {"a": [1, 2], "b": ["x"]}}),
        COLS_AB,
        PayloadError,
        "unequal lengths",
    ),
    (
        "params-wrong-type",
        JSON,
        _j({"inputs": [[1, 2, 3, 4]], "params": {"k": "x"}}),
        TENSOR_4,
        InvalidParams,
        "param 'k' expects long, found a string",
    ),
    (
        "params-not-object",
        JSON,
        _j({"inputs": [[1, 2, 3, 4]], "params": [1]}),
        TENSOR_4,
        InvalidParams,
        "params must be an object",
    ),
    (
        "string-for-double",
        JSON,
        _j({"dataframe_records": [{"a": SECRET, "b": "x"}]}),
        COLS_AB,
        InvalidColumnValue,
        "column 'a'",
    ),
    (
        "fraction-for-long",
        JSON,
        _j({"dataframe_split": {"columns": ["n"], "data": [[1.5]]}}),
        LONG_N,
        InvalidColumnValue,
        "column 'n'",
    ),
    (
        "null-for-required-long",
        JSON,
        _j({"dataframe_split": {"columns": ["n"], "data": [[None]]}}),
        LONG_N,
        InvalidColumnValue,
        "column 'n'",
    ),
    (
        "int-out-of-range",
        JSON,
        _j({"dataframe_split": {"columns": ["n"], "data": [[2**40]]}}),
        Schema([ColSpec("integer", "n")]),
        InvalidColumnValue,
        "an integer out of range",
    ),
    (
        "float32-overflow",
        JSON,
        _j({"inputs": [[1e39, 0.0]]}),
        Schema([TensorSpec(np.dtype("float32"), (-1, 2))]),
        SchemaMismatch,
        "a number out of range",
    ),
    (
        # equal-length lists in a double column once became a 2-D array and a bogus
        # "'index' must have one entry per row"
        "lists-for-double",
        JSON,
        _j({"inputs": {"a": [[1, 2, 3], [4, 5, 6]], "b": ["x", "y"]}}),
        COLS_AB,
        # MLflow's enforcement refuses lists in columnar inputs: INVALID_PARAMETER_VALUE
        SchemaMismatch,
        "column 'a'",
    ),
    (
        # numpy turned true into 1.0 while load_model(...).predict refused the same frame
        "boolean-for-double",
        JSON,
        _j({"dataframe_split": {"columns": ["a", "b"], "data": [[1.5, "x"], [True, "y"]]}}),
        COLS_AB,
        InvalidColumnValue,
        "column 'a': expected double, found a boolean",
    ),
    (
        "boolean-for-long",
        JSON,
        _j({"dataframe_records": [{"n": 2}, {"n": False}]}),
        LONG_N,
        InvalidColumnValue,
        "column 'n': expected long, found a boolean",
    ),
    (
        "boolean-in-tensor",
        JSON,
        _j({"inputs": [[1, 2, 3, True]]}),
        TENSOR_4,
        SchemaMismatch,
        "expected float64 values, found a boolean",
    ),
    ("instances-null", JSON, b'{"instances": null}', COLS_AB, PayloadError, "'instances' is null"),
    ("inputs-null-no-signature", JSON, b'{"inputs": null}', None, PayloadError, "'inputs' is null"),
    (
        # one value is a frame of one column labelled 0, as MLflow's pd.DataFrame([value])
        "string-for-rows",
        JSON,
        _j({"instances": SECRET}),
        COLS_AB,
        SchemaMismatch,
        "expected required columns 'a', 'b', found them missing",
    ),
    (
        # numbers written as text are read ("1_000", " 1e5 "), as MLflow's cast reads them;
        # a decimal comma is not a number to Python's float()
        "numeric-string-for-double",
        JSON,
        _j({"dataframe_records": [{"a": "1_000", "b": "x"}, {"a": "1,5", "b": "y"}]}),
        COLS_AB,
        InvalidColumnValue,
        "column 'a': expected double, found a string",
    ),
    (
        "integer-too-many-digits",
        JSON,
        b'{"inputs": [[' + b"9" * 5000 + b", 1, 2, 3]]}",
        TENSOR_4,
        PayloadError,
        "an integer with too many digits",
    ),
    (
        "lone-surrogate",
        JSON,
        b'{"dataframe_split": {"columns": ["a", "b"], "data": [[1.0, "\\ud800"]]}}',
        COLS_AB,
        PayloadError,
        "a lone surrogate",
    ),
    (
        # pandas read an integer after a string as a year (1370-01-01)
        "number-among-datetimes",
        JSON,
        _j({"dataframe_split": {"columns": ["t"], "data": [["2024-01-01"], [1370]]}}),
        Schema([ColSpec("datetime", "t")]),
        InvalidColumnValue,
        "column 't': expected datetime, found values of mixed types",
    ),
    (
        "datetime-now",
        JSON,
        _j({"dataframe_records": [{"t": "now"}]}),
        Schema([ColSpec("datetime", "t")]),
        InvalidColumnValue,
        "found 'now' or 'today'",
    ),
    (
        "missing-required-column",
        JSON,
        _j({"dataframe_records": [{"b": "x"}]}),
        COLS_AB,
        SchemaMismatch,
        "'a'",
    ),
    (
        "binary-not-base64",
        JSON,
        _j({"dataframe_records": [{"blob": "*" + SECRET}]}),
        Schema([ColSpec("binary", "blob")]),
        InvalidColumnValue,
        "not base64",
    ),
    (
        "object-for-unnamed-tensor",
        JSON,
        _j({"inputs": {"x": [[1, 2, 3, 4]]}}),
        TENSOR_4,
        # refused while MLflow parses the body: BAD_REQUEST
        PayloadError,
        "a single tensor",
    ),
    (
        "tensor-wrong-shape",
        JSON,
        _j({"inputs": [[1, 2, 3]]}),
        TENSOR_4,
        SchemaMismatch,
        "shape (1, 3)",
    ),
    ("csv-empty", CSV, b"", None, PayloadError, "the body is empty"),
    ("csv-invalid-utf8", CSV, b"a,b\n\xff,1\n", None, PayloadError, "not valid UTF-8"),
    (
        "csv-too-many-fields",
        CSV,
        b"a,b\n1,2\n3,4,5\n",
        None,
        PayloadError,
        "more fields than the header",
    ),
    (
        # one extra field on every row: pandas took the first field for an index, silently
        "csv-every-row-too-long",
        CSV,
        b"a,b\n1,x,2\n3,y,4\n",
        None,
        PayloadError,
        "the rows have more fields than the header row",
    ),
    ("csv-unclosed-quote", CSV, b'a,b\n"1,2\n', None, PayloadError, "a quote is not closed"),
    (
        "csv-string-for-double",
        CSV,
        b"a,b\n" + SECRET.encode() + b",x\n",
        COLS_AB,
        InvalidColumnValue,
        "column 'a'",
    ),
    (
        "csv-boolean-for-double",
        CSV,
        b"a,b\nTrue,x\n",
        COLS_AB,
        InvalidColumnValue,
        "column 'a': expected double, found a boolean",
    ),
    (
        "parquet-garbage",
        "application/vnd.apache.parquet",
        SECRET.encode(),
        None,
        PayloadError,
        "not a readable Parquet file",
    ),
    (
        "arrow-garbage",
        "application/vnd.apache.arrow.stream",
        SECRET.encode(),
        None,
        PayloadError,
        "not a readable Arrow IPC stream",
    ),
]


def http_status(exc: MlserveError) -> int:
    """The status the server answers with (mlserve/server maps classes the same way)."""
    if isinstance(exc, UnsupportedContentType):
        return 415
    if isinstance(exc, MissingExtra):
        return 500
    return 400


@pytest.mark.usefixtures("json_backend")
@pytest.mark.parametrize(
    ("content_type", "body", "schema", "error", "fragment"),
    [pytest.param(*case[1:], id=case[0]) for case in CASES],
)
def test_error_table(
    content_type: str | None,
    body: bytes,
    schema: Schema | None,
    error: type[MlserveError],
    fragment: str,
) -> None:
    decoder = RequestDecoder(schema, PARAMS if schema is TENSOR_4 else None)
    with pytest.raises(MlserveError) as info:
        decoder.decode(body, content_type)
    exc = info.value
    assert type(exc) is error, exc
    assert fragment in exc.message
    assert SECRET not in exc.message
    assert error.error_code in ("BAD_REQUEST", "INVALID_PARAMETER_VALUE")


def test_columnar_without_pyarrow_names_the_extra(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "pyarrow", None)  # makes `import pyarrow` fail
    with pytest.raises(MissingExtra) as info:
        RequestDecoder().decode(b"PAR1", "application/vnd.apache.parquet")
    assert "pip install 'mlserve-core[columnar]'" in info.value.message
    assert info.value.error_code == "INTERNAL_ERROR"


def _doc_rows() -> dict[str, list[str]]:
    rows = {}
    for line in DOCS.read_text().splitlines():
        m = re.match(r"\|\s*`([a-z0-9-]+)`\s*\|(.*)\|\s*$", line)
        if m:
            rows[m.group(1)] = [c.strip() for c in m.group(2).split("|")]
    return rows


def test_docs_error_table_matches() -> None:
    """Each case is a row `| id | class | error_code | status | message fragment |` in the docs."""
    rows = _doc_rows()
    for case_id, *_, error, fragment in CASES:
        assert case_id in rows, f"docs/payloads.md has no error-table row for {case_id}"
        cls, code, status, message = rows[case_id][:4]
        assert cls == f"`{error.__name__}`", case_id
        assert code == f"`{error.error_code}`", case_id
        expected_status = 415 if error is UnsupportedContentType else 400
        assert status == str(expected_status), case_id
        assert fragment.replace("|", "\\|") in message, case_id
    assert set(rows) >= {c[0] for c in CASES}
