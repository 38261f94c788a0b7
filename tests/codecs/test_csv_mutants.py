"""text/csv cases a mutation run of the CSV codec found unpinned: which columns are read as
text, where the CSV refusal applies (as MLflow's parse_csv_input fails), and the messages."""

from __future__ import annotations

import numpy as np
import pytest

from mlserve.codecs import decode_request
from mlserve.codecs._csv import csv_refusal
from mlserve.errors import PayloadError, SchemaMismatch
from mlserve.schema import Array, ColSpec, Schema, TensorSpec

CSV = "text/csv"


def test_an_unnamed_string_column_keeps_its_leading_zeros() -> None:
    # a signature without names types the columns by position: the first is text
    schema = Schema([ColSpec("string"), ColSpec("double")])
    data = decode_request(b"c,n\n007,1\n", CSV, schema).data
    assert data.iloc[0].tolist() == ["007", 1.0]


def test_a_string_column_next_to_an_undeclared_one_keeps_its_leading_zeros() -> None:
    # the undeclared column is left out (usecols); the declared one is still read as text
    data = decode_request(b"extra,code\n1,007\n", CSV, Schema([ColSpec("string", "code")])).data
    assert data.to_dict("list") == {"code": ["007"]}


@pytest.mark.parametrize(
    ("schema", "body"),
    [
        # MLflow hands read_csv a datetime dtype for "t": refused although "a" comes first
        pytest.param(
            Schema([ColSpec("double", "a"), ColSpec("datetime", "t")]),
            b"a,t\n1.5,2024-01-02\n",
            id="datetime-after-a-double",
        ),
        pytest.param(
            Schema([ColSpec("datetime"), ColSpec("double")]), b"t,a\n2024-01-02,1\n", id="unnamed"
        ),
    ],
)
def test_a_datetime_column_in_the_body_is_refused(schema: Schema, body: bytes) -> None:
    with pytest.raises(PayloadError, match="a CSV body cannot carry the datetime column"):
        decode_request(body, CSV, schema)


@pytest.mark.parametrize(
    ("schema", "header"),
    [
        # a named datetime column the header leaves out is not refused, wherever it is declared
        pytest.param(
            Schema([ColSpec("datetime", "t", required=False), ColSpec("double", "a")]),
            ["a"],
            id="named-declared-first",
        ),
        # MLflow 3.17.2: parse_csv_input(Schema([double, datetime]), "a\n1.5\n") parses (the
        # dtype for position 1 meets no column); its enforcement then finds a column missing
        pytest.param(
            Schema([ColSpec("double"), ColSpec("datetime")]), ["a"], id="unnamed-past-the-header"
        ),
    ],
)
def test_a_datetime_column_the_body_lacks_is_not_a_csv_refusal(
    schema: Schema, header: list[str]
) -> None:
    assert csv_refusal(schema, header) is None


def test_a_named_datetime_column_left_out_of_the_body_is_read() -> None:
    schema = Schema([ColSpec("datetime", "t", required=False), ColSpec("double", "a")])
    assert decode_request(b"a\n1.5\n", CSV, schema).data.to_dict("list") == {"a": [1.5]}


def test_unnamed_datetime_past_the_body_is_the_enforcers_to_refuse() -> None:
    # not a CSV refusal (BAD_REQUEST): a missing column, INVALID_PARAMETER_VALUE as in MLflow
    with pytest.raises(SchemaMismatch) as info:
        decode_request(b"a\n1.5\n", CSV, Schema([ColSpec("double"), ColSpec("datetime")]))
    assert info.value.error_code == "INVALID_PARAMETER_VALUE"


def test_a_header_the_standard_library_cannot_read_is_parsed_by_pandas() -> None:
    # a header field past the csv module's field size limit (128 KiB): the header is not read
    # first, so nothing is refused or left out before pandas parses the body whole
    schema = Schema([ColSpec("double", "a"), ColSpec("datetime", "t", required=False)])
    body = b"a," + b"x" * 140_000 + b"\n1.5,2\n"
    data = decode_request(body, CSV, schema).data
    assert data.to_dict("list") == {"a": [1.5]}


def test_rows_longer_than_the_header_from_a_later_first_field_are_refused() -> None:
    # pandas takes the first fields (1, 2) as the index, a RangeIndex starting at 1
    with pytest.raises(PayloadError, match="the rows have more fields than the header row"):
        decode_request(b"a,b\n1,x,2\n2,y,4\n", CSV)


def test_a_column_that_changes_type_deep_in_a_large_body_is_read_whole() -> None:
    # pandas' chunked reading (low_memory) would type the first ~500,000 rows alone and warn
    # (DtypeWarning, an error under this suite's filterwarnings); read whole, the column is one
    # column of text, which the enforcer can then refuse as a whole for a numeric signature
    body = b"a\n" + b"1\n" * 600_000 + b"x\n"
    column = decode_request(body, CSV).data["a"]
    assert len(column) == 600_001 and {type(column.iloc[0]), type(column.iloc[-1])} == {str}


@pytest.mark.parametrize(
    ("body", "schema", "message"),
    [
        pytest.param(b" \n", None, "the body is empty; expected CSV with a header row", id="empty"),
        pytest.param(b"\xef\xbb\xbf\n", None, "the CSV body has no header row", id="no-header-row"),
        pytest.param(
            b"a,b\n1,x,2\n3,y,4\n",
            None,
            "malformed CSV: the rows have more fields than the header row",
            id="every-row-too-long",
        ),
        pytest.param(
            b"a,b\n1,2\n3,4,5\n",
            None,
            "malformed CSV: a row has more fields than the header row, or a quote is not closed",
            id="one-row-too-long",
        ),
        pytest.param(
            b"a\n1\n",
            Schema([TensorSpec(np.dtype("float64"), (-1,))]),
            "a CSV body cannot carry the tensor this model takes; send it as JSON "
            "('inputs' or 'instances')",
            id="tensor",
        ),
        pytest.param(
            b"a\n1\n",
            Schema([ColSpec(Array("double"), "a")]),
            "a CSV body cannot carry this model's array, object, map or any columns; send JSON",
            id="complex",
        ),
        pytest.param(
            b"t\n2024-01-02\n",
            Schema([ColSpec("datetime", "t")]),
            "a CSV body cannot carry the datetime column 't', as in MLflow; send it as JSON",
            id="datetime",
        ),
        pytest.param(
            b"t\n2024-01-02\n",
            Schema([ColSpec("datetime")]),
            "a CSV body cannot carry the datetime column 0, as in MLflow; send it as JSON",
            id="unnamed-datetime",
        ),
    ],
)
def test_csv_error_messages(body: bytes, schema: Schema | None, message: str) -> None:
    with pytest.raises(PayloadError) as info:
        decode_request(body, CSV, schema)
    assert info.value.message == f"Invalid request body: {message}"
    assert info.value.error_code == "BAD_REQUEST"
