"""V2 (Open Inference Protocol) bodies: the signature mapping both ways, decoding, and binary
outputs end to end (the response alone: test_v2_response.py)."""

from __future__ import annotations

import base64
import json
from typing import Any

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from mlserve.codecs import DecodeLimits, RequestDecoder
from mlserve.codecs._v2 import decode_v2_request, encode_v2_response
from mlserve.codecs._v2_types import DATATYPES, datatype_of, input_metadata, platform_of
from mlserve.errors import PayloadError, PayloadTooLarge, SchemaMismatch
from mlserve.schema import ColSpec, DataType, Schema, TensorSpec

EVERY_TYPE = Schema(
    [
        ColSpec("boolean", "flag"),
        ColSpec("integer", "i32"),
        ColSpec("long", "i64"),
        ColSpec("float", "f32"),
        ColSpec("double", "f64"),
        ColSpec("string", "text"),
        ColSpec("binary", "blob"),
        ColSpec("datetime", "when"),
    ]
)


def _plan(schema: Schema | None) -> Any:
    return RequestDecoder(schema, enforce=False).plan


def _body(doc: dict[str, Any]) -> bytes:
    return json.dumps(doc).encode()


def test_metadata_of_every_column_type() -> None:
    assert [
        (e["name"], e["datatype"], e["shape"], e.get("parameters"))
        for e in input_metadata(EVERY_TYPE)
    ] == [
        ("flag", "BOOL", [-1], None),
        ("i32", "INT32", [-1], None),
        ("i64", "INT64", [-1], None),
        ("f32", "FP32", [-1], None),
        ("f64", "FP64", [-1], None),
        ("text", "BYTES", [-1], {"content_type": "str"}),
        ("blob", "BYTES", [-1], {"content_type": "base64"}),
        ("when", "BYTES", [-1], {"content_type": "datetime"}),
    ]


def test_unnamed_inputs_and_tensors() -> None:
    unnamed = Schema([ColSpec("double"), ColSpec("long")])
    assert [e["name"] for e in input_metadata(unnamed)] == ["input-0", "input-1"]
    tensor = Schema([TensorSpec(np.dtype("float32"), (-1, 28, 28), "image")])
    assert input_metadata(tensor) == [{"name": "image", "datatype": "FP32", "shape": [-1, 28, 28]}]
    assert input_metadata(None) == []


@pytest.mark.parametrize("name", DATATYPES)
def test_every_v2_datatype_maps_back_to_itself(name: str) -> None:
    if name != "BYTES":
        assert datatype_of(DATATYPES[name]) == name


def test_platform() -> None:
    assert platform_of({"python_function": {}, "sklearn": {}}) == "mlflow_sklearn"
    assert platform_of({"python_function": {}}) == "mlflow_pyfunc"


_VALUES = {
    DataType.boolean: st.booleans(),
    DataType.integer: st.integers(-(2**31), 2**31 - 1),
    DataType.long: st.integers(-(2**63), 2**63 - 1),
    DataType.float: st.floats(width=32, allow_nan=False, allow_infinity=False),
    DataType.double: st.floats(allow_nan=False, allow_infinity=False),
    DataType.string: st.text(st.characters(blacklist_categories=("Cs",)), max_size=8),
    DataType.binary: st.binary(max_size=8),
}


@settings(max_examples=60, deadline=None)
@given(st.data())
def test_a_request_built_from_the_metadata_decodes_to_the_frame(data: st.DataObject) -> None:
    """Property: the published mapping is the decoder's; a client following the metadata always
    gets the frame it meant, typed as the signature says (MLServer#1390/#1625 are failures of
    this very property)."""
    types = data.draw(st.lists(st.sampled_from(list(_VALUES)), min_size=1, max_size=5))
    schema = Schema([ColSpec(t, f"c{i}") for i, t in enumerate(types)])
    rows = data.draw(st.integers(1, 4))
    columns = {
        f"c{i}": data.draw(st.lists(_VALUES[t], min_size=rows, max_size=rows))
        for i, t in enumerate(types)
    }
    inputs = []
    for entry in input_metadata(schema):
        values = columns[entry["name"]]
        if entry.get("parameters", {}).get("content_type") == "base64":
            values = [base64.b64encode(v).decode() for v in values]
        inputs.append({**entry, "shape": [rows], "data": values})
    frame = decode_v2_request(_body({"inputs": inputs}), _plan(schema)).data
    assert list(frame.columns) == list(columns)
    for i, t in enumerate(types):
        got = frame[f"c{i}"].tolist()
        want = columns[f"c{i}"]
        if t is DataType.float:
            want = np.asarray(want, dtype=np.float32).tolist()
        assert got == want, t
        if t in (DataType.integer, DataType.long, DataType.float, DataType.double):
            assert frame[f"c{i}"].dtype == t.to_numpy()


def test_shape_n_by_1_is_a_column_too() -> None:
    body = {"inputs": [{"name": "a", "shape": [2, 1], "datatype": "FP64", "data": [[1], [2]]}]}
    frame = decode_v2_request(_body(body), _plan(Schema([ColSpec("double", "a")]))).data
    assert frame["a"].tolist() == [1.0, 2.0]


def test_one_input_of_rows_for_a_column_signature() -> None:
    schema = Schema([ColSpec("double", n) for n in "abc"])
    body = {
        "inputs": [{"name": "x", "shape": [2, 3], "datatype": "FP64", "data": [1, 2, 3, 4, 5, 6]}]
    }
    frame = decode_v2_request(_body(body), _plan(schema)).data
    assert frame.to_numpy().tolist() == [[1, 2, 3], [4, 5, 6]]
    assert list(frame.columns) == list("abc")


def test_tensor_signature_gives_an_array_of_its_shape_and_dtype() -> None:
    schema = Schema([TensorSpec(np.dtype("float32"), (-1, 2))])
    body = {"inputs": [{"name": "t", "shape": [2, 2], "datatype": "FP32", "data": [1, 2, 3, 4]}]}
    arr = decode_v2_request(_body(body), _plan(schema)).data
    assert arr.dtype == np.float32 and arr.shape == (2, 2)


def test_params_id_and_requested_outputs() -> None:
    body = {
        "id": "r-1",
        "parameters": {"content_type": "pd", "k": 3},
        "inputs": [{"name": "a", "shape": [1], "datatype": "INT64", "data": [1]}],
        "outputs": [{"name": "y"}],
    }
    request = decode_v2_request(_body(body), _plan(None))
    assert (request.id, request.params, request.outputs) == ("r-1", {"k": 3}, ("y",))
    assert isinstance(request.data, pd.DataFrame)
    assert decode_v2_request(_body({"inputs": body["inputs"]}), _plan(None)).id  # generated


@pytest.mark.parametrize(
    ("inputs", "error", "fragment"),
    [
        ([], PayloadError, "non-empty list"),
        (
            [{"name": "a", "shape": [3], "datatype": "FP64", "data": [1, 2]}],
            PayloadError,
            "holds 3 values",
        ),
        (
            [{"name": "a", "shape": [1], "datatype": "FP128", "data": [1]}],
            PayloadError,
            "unknown datatype",
        ),
        (
            [{"name": "a", "shape": [-1], "datatype": "FP64", "data": [1]}],
            PayloadError,
            "non-negative",
        ),
        (  # found by schemathesis: an unhashable datatype was a TypeError (a 500)
            [{"name": "a", "shape": [1], "datatype": {"FP64": 1}, "data": [1]}],
            PayloadError,
            "unknown datatype",
        ),
        (
            [{"name": "a", "shape": [1], "datatype": "FP64", "data": ["SECRET"]}],
            SchemaMismatch,
            "not a number",
        ),
        (
            [{"name": "a", "shape": [1], "datatype": "INT8", "data": [300]}],
            SchemaMismatch,
            "out of range",
        ),
        (
            [{"name": "a", "shape": [1], "datatype": "INT64", "data": [1.5]}],
            SchemaMismatch,
            "fraction",
        ),
        ([{"name": "a", "shape": [1], "datatype": "BOOL", "data": [1]}], SchemaMismatch, "BOOL"),
        (
            [{"name": "zz", "shape": [1], "datatype": "FP64", "data": [1]}],
            SchemaMismatch,
            "found input 'zz'",
        ),
        (
            [
                {
                    "name": "b",
                    "shape": [1],
                    "datatype": "BYTES",
                    "data": ["%%%"],
                    "parameters": {"content_type": "base64"},
                }
            ],
            SchemaMismatch,
            "base64",
        ),
        (
            [
                {"name": "a", "shape": [1], "datatype": "FP64", "data": [1]},
                {"name": "a", "shape": [1], "datatype": "FP64", "data": [1]},
            ],
            PayloadError,
            "same name",
        ),
    ],
    ids=[
        "empty",
        "shape",
        "datatype",
        "negative-dim",
        "unhashable-datatype",
        "string-for-fp",
        "int-range",
        "fraction",
        "bool",
        "unknown-input",
        "bad-base64",
        "duplicate",
    ],
)
def test_bad_requests(inputs: list[Any], error: type[Exception], fragment: str) -> None:
    schema = Schema([ColSpec("double", "a"), ColSpec("binary", "b")])
    with pytest.raises(error) as info:
        decode_v2_request(_body({"inputs": inputs}), _plan(schema))
    assert fragment in str(info.value) and "SECRET" not in str(info.value)


def test_too_many_inputs() -> None:
    inputs = [{"name": f"c{i}", "shape": [1], "datatype": "FP64", "data": [1]} for i in range(12)]
    plan = RequestDecoder(None, limits=DecodeLimits(10)).plan
    with pytest.raises(PayloadTooLarge):
        decode_v2_request(_body({"inputs": inputs}), plan)


def _binary_body(doc: dict[str, Any], *chunks: bytes) -> tuple[bytes, int]:
    head = json.dumps(doc).encode()
    return head + b"".join(chunks), len(head)


def test_binary_inputs_as_tritonclient_sends_them() -> None:
    schema = Schema([ColSpec("double", "x"), ColSpec("string", "s"), ColSpec("binary", "b")])
    words = [b"caf\xc3\xa9", b""]
    prefixed = b"".join(len(w).to_bytes(4, "little") + w for w in words)
    floats = np.array([0.5, -1.25]).astype("<f8").tobytes()
    doc = {
        "inputs": [
            {
                "name": "x",
                "shape": [2],
                "datatype": "FP64",
                "parameters": {"binary_data_size": len(floats)},
            },
            {
                "name": "s",
                "shape": [2],
                "datatype": "BYTES",
                "parameters": {"binary_data_size": len(prefixed)},
            },
            {
                "name": "b",
                "shape": [2],
                "datatype": "BYTES",
                "parameters": {"binary_data_size": len(prefixed)},
            },
        ]
    }
    body, length = _binary_body(doc, floats, prefixed, prefixed)
    frame = decode_v2_request(body, _plan(schema), length).data
    assert frame["x"].tolist() == [0.5, -1.25]
    assert frame["s"].tolist() == ["café", ""]
    assert frame["b"].tolist() == words  # a binary column keeps its bytes


@pytest.mark.parametrize(
    ("size", "extra", "fragment"),
    [(16, b"", "ends before"), (8, b"", "take 16 bytes"), (16, b"x", "bytes after")],
    ids=["short", "size-mismatch", "trailing"],
)
def test_binary_framing_errors(size: int, extra: bytes, fragment: str) -> None:
    doc = {
        "inputs": [
            {
                "name": "x",
                "shape": [2],
                "datatype": "FP64",
                "parameters": {"binary_data_size": size},
            }
        ]
    }
    raw = np.zeros(2).tobytes()[: min(size, 16)] if fragment != "ends before" else b"\0" * 8
    body, length = _binary_body(doc, raw, extra)
    with pytest.raises(PayloadError, match=fragment):
        decode_v2_request(body, _plan(Schema([ColSpec("double", "x")])), length)


def test_bytes_that_are_not_utf8_for_a_string_column() -> None:
    bad = (2).to_bytes(4, "little") + b"\xff\xfe"
    doc = {
        "inputs": [
            {
                "name": "s",
                "shape": [1],
                "datatype": "BYTES",
                "parameters": {"binary_data_size": len(bad)},
            }
        ]
    }
    body, length = _binary_body(doc, bad)
    with pytest.raises(SchemaMismatch, match="UTF-8"):
        decode_v2_request(body, _plan(Schema([ColSpec("string", "s")])), length)


def test_binary_outputs_when_asked() -> None:
    doc = {
        "parameters": {"binary_data_output": True},
        "inputs": [{"name": "a", "shape": [1], "datatype": "FP64", "data": [1]}],
    }
    request = decode_v2_request(_body(doc), _plan(None))
    assert request.binary_outputs is None  # every output
    predictions = np.array([[1.5, 2.5]], dtype=np.float32)
    body, length = encode_v2_response(
        predictions,
        model_name="m",
        model_version=None,
        request_id="r",
        requested=None,
        binary=request.binary_outputs,
    )
    assert length is not None
    head = json.loads(body[:length])
    (out,) = head["outputs"]
    assert "data" not in out and out["parameters"]["binary_data_size"] == 8
    assert np.frombuffer(body[length:], "<f4").tolist() == [1.5, 2.5]
    asked = {
        "inputs": doc["inputs"],
        "outputs": [{"name": "output-0", "parameters": {"binary_data": True}}],
    }
    assert decode_v2_request(_body(asked), _plan(None)).binary_outputs == ("output-0",)


# What MLServer's PandasCodec sends (tests/server/test_v2_mlserver.py drives the real one)


def test_a_null_float_is_nan_as_mlserver_writes_it() -> None:
    body = {"inputs": [{"name": "a", "shape": [2, 1], "datatype": "FP64", "data": [1.5, None]}]}
    frame = decode_v2_request(_body(body), _plan(Schema([ColSpec("double", "a")]))).data
    assert frame["a"].iloc[0] == 1.5 and np.isnan(frame["a"].iloc[1])
    # an integer has no missing value to stand for
    body["inputs"][0]["datatype"] = "INT64"
    with pytest.raises(SchemaMismatch, match="not a number"):
        decode_v2_request(_body(body), _plan(Schema([ColSpec("long", "a")])))


def test_pd_json_elements_are_json_documents() -> None:
    from mlserve.schema import Array

    schema = Schema([ColSpec(Array("long"), "xs")])
    (entry,) = input_metadata(schema)
    assert entry["parameters"] == {"content_type": "pd_json"}
    body = {"inputs": [{**entry, "shape": [3, 1], "data": ["[1,2]", "[3]", "[]"]}]}
    frame = decode_v2_request(_body(body), _plan(schema)).data
    assert frame["xs"].tolist() == [[1, 2], [3], []]
    body["inputs"][0]["data"] = ["[1,2", "[3]", "[]"]
    with pytest.raises(SchemaMismatch, match="one JSON document per element"):
        decode_v2_request(_body(body), _plan(schema))


def test_without_a_signature_the_v2_datatype_types_the_column() -> None:
    inputs = [
        {"name": n, "shape": [2, 1], "datatype": d, "data": [1, 2]}
        for n, d in (("f", "FP32"), ("i", "INT32"), ("u", "UINT8"), ("h", "FP16"))
    ]
    body = {"parameters": {"content_type": "pd"}, "inputs": inputs}
    frame = decode_v2_request(_body(body), _plan(None)).data
    assert [str(t) for t in frame.dtypes] == ["float32", "int32", "uint8", "float16"]
