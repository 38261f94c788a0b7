"""Seldon MLServer's own codecs build the V2 requests; a real mlserve server decodes them.

MLServer's clients build V2 requests with ``mlserver.codecs.PandasCodec.encode_request(df)``
(``parameters.content_type: "pd"``, one input per column, shaped ``[N, 1]``) and
``NumpyRequestCodec.encode_request(array)``. MLServer's pins (fastapi, uvloop, grpcio) clash
with ours, so it lives in its own virtualenv (``.ci/mlserver-venv``) and every request here is
built there, by a subprocess, from frames of each dtype MLServer can encode. The requests then go
over HTTP to one ``python -m mlserve.server`` serving several models:

- ``echo``: a python_function model with a column signature of every MLflow scalar type that
  MLServer encodes, returning its input: the V2 response shows the frame mlserve decoded (each
  column's datatype is its dtype), and ``/models/echo/invocations`` gets the same rows;
- ``anon``: the same model without a signature (the frame is typed by the V2 datatypes alone);
- ``rf`` and ``text``: scikit-learn models: the same predictions on V2 and on ``/invocations``;
- ``tensor``: a tensor-signature model driven by MLServer's ``NumpyRequestCodec``.

And the way back: MLServer's ``PandasCodec.decode_response`` reads the echo model's answer into
the frame the client sent.

What MLServer 1.7.1 cannot encode is left out and said here: datetime64 columns (KeyError 'M'),
pandas 3's ``str`` dtype (KeyError, so string columns are built as object dtype, as pandas 2
makes them), strings with missing values (``isnan`` on objects), nullable ``Int64`` columns, and
bytes that are not UTF-8 (pydantic cannot serialise them).

``MLSERVE_TEST_MLSERVER_PYTHON`` names the interpreter (default
``~/.cache/mlserve-checks/mlserver-venv/bin/python``); ``MLSERVE_TEST_REQUIRE_MLSERVER=1`` (CI)
makes its absence a failure instead of a skip.
"""

from __future__ import annotations

import json
import math
import os
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import requests

import mlserve
from mlserve.schema import Array, ColSpec, ModelSignature, Schema, TensorSpec

from .helpers import SEED_ROWS, start_server

PYTHON_ENV = "MLSERVE_TEST_MLSERVER_PYTHON"
DEFAULT_PYTHON = Path.home() / ".cache/mlserve-checks/mlserver-venv/bin/python"
REQUIRE_ENV = "MLSERVE_TEST_REQUIRE_MLSERVER"

pytestmark = pytest.mark.slow


def mlserver_python() -> Path:
    """MLServer's interpreter; fails (CI) or skips (elsewhere) when it is missing."""
    python = Path(os.environ.get(PYTHON_ENV) or DEFAULT_PYTHON)
    if python.is_file() and os.access(python, os.X_OK):
        return python
    message = f"MLServer interpreter not found at {python} (set {PYTHON_ENV}); build it with: "
    message += ".ci/mlserver-venv"
    if os.environ.get(REQUIRE_ENV) == "1":
        pytest.fail(f"{message} ({REQUIRE_ENV}=1: the MLServer tests must run)", pytrace=False)
    pytest.skip(message)


# Runs in MLServer's venv. ARGS: {"frames": {key: {"columns": [[name, dtype, values]],
# "use_bytes": bool}}, "arrays": {key: [nested values, dtype]}}; None in a float column is NaN.
# Prints {key: the request as JSON}, serialised by pydantic as MLServer's models serialise.
_ENCODE = """
import json, sys
import numpy as np
import pandas as pd
from mlserver.codecs import NumpyRequestCodec, PandasCodec

args = json.loads(sys.argv[1])
out = {}
for key, spec in args["frames"].items():
    frame = pd.DataFrame({
        name: pd.Series([np.nan if v is None else v for v in values], dtype=dtype)
        for name, dtype, values in spec["columns"]
    })
    request = PandasCodec.encode_request(frame, use_bytes=spec["use_bytes"])
    out[key] = json.loads(request.model_dump_json(exclude_none=True))
for key, (values, dtype) in args["arrays"].items():
    request = NumpyRequestCodec.encode_request(np.array(values, dtype=dtype))
    out[key] = json.loads(request.model_dump_json(exclude_none=True))
import mlserver
out["version"] = mlserver.__version__
print(json.dumps(out))
"""


# Runs in MLServer's venv: a V2 response (sys.argv[1]) decoded as MLServer's clients decode one.
# Prints {column: [dtype, values]}, NaN as None.
_DECODE = """
import json, sys
from mlserver.codecs import PandasCodec
from mlserver.types import InferenceResponse

frame = PandasCodec.decode_response(InferenceResponse.model_validate(json.loads(sys.argv[1])))
print(json.dumps({
    str(c): [str(frame[c].dtype), [None if v != v else v for v in frame[c].tolist()]]
    for c in frame.columns
}))
"""


def run_in_mlserver(script: str, argument: Any) -> Any:
    """What ``script`` prints (JSON) when MLServer's interpreter runs it with ``argument``."""
    python = mlserver_python()
    done = subprocess.run(
        [str(python), "-I", "-c", script, json.dumps(argument)],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
        env={k: v for k, v in os.environ.items() if not k.startswith(("MLSERVER", "PYTHON"))},
    )
    assert done.returncode == 0, done.stderr[-3000:]
    return json.loads(done.stdout)


def encode_with_mlserver(frames: dict[str, Any], arrays: dict[str, Any]) -> dict[str, Any]:
    result: dict[str, Any] = run_in_mlserver(_ENCODE, {"frames": frames, "arrays": arrays})
    assert result.pop("version").startswith("1.7."), "the MLServer venv is not MLServer 1.7"
    return result


# The echo model's columns: (name, MLflow type, pandas dtype MLServer's client frame has,
# V2 datatype mlserve's frame must have, values). None is a missing value (NaN).
ECHO_COLUMNS = [
    ("f64", "double", "float64", "FP64", [1.5, -2.25, None, 1e300]),
    ("f32", "float", "float32", "FP32", [0.5, -1.5, 2.25, 3.0]),
    ("i64", "long", "int64", "INT64", [1, -2, 2**62, 0]),
    ("i32", "integer", "int32", "INT32", [7, -8, 2**31 - 1, 0]),
    ("flag", "boolean", "bool", "BOOL", [True, False, True, False]),
    ("city", "string", "object", "BYTES", ["paris", "lön, uk", 'say "hi"', "two\nlines"]),
    # a column of lists: MLServer sends one JSON document per row (BYTES, content type pd_json)
    ("xs", Array("long"), "object", "BYTES", [[1, 2], [3], [], [4, 5, 6]]),
]
# Frames of other dtypes than the signature's, as a client's frame may be typed: mlserve converts
# them as /invocations does. (column, client dtype, values)
WIDENED = [
    ("f64", "float32", [0.5, 1.5, -2.0, 3.25]),
    ("f64", "int64", [1, -2, 3, 2**53]),
    ("i64", "int32", [1, -2, 3, 2**31 - 1]),
    ("i64", "uint8", [0, 1, 255, 7]),
    ("i64", "int16", [-(2**15), 0, 1, 2]),
    ("f32", "float16", [0.5, 1.5, -2.0, 65504.0]),
]

ECHO_SOURCE = """
def predict(model_input):
    return model_input
"""

SUM_SOURCE = """
import numpy as np

def predict(model_input):
    return np.asarray(model_input).sum(axis=1)
"""


def _function(source: str) -> Any:
    namespace: dict[str, Any] = {"__name__": "__main__"}
    exec(compile(source, "<model>", "exec"), namespace)
    return namespace["predict"]


def _echo_frame(column: str = "", dtype: str = "", values: Any = None) -> list[list[Any]]:
    """The echo frame, with ``column`` (if any) of ``dtype`` holding ``values``."""
    return [
        [name, dtype, values] if name == column else [name, client_dtype, column_values]
        for name, _, client_dtype, _, column_values in ECHO_COLUMNS
    ]


@pytest.fixture(scope="module")
def requests_from_mlserver() -> dict[str, Any]:
    frames: dict[str, Any] = {
        "echo": {"columns": _echo_frame(), "use_bytes": False},
        "echo-bytes": {"columns": _echo_frame(), "use_bytes": True},
        "seed": {
            "columns": [[c, "float64", [r[i] for r in SEED_ROWS]] for i, c in enumerate("abcd")],
            "use_bytes": True,
        },
        "text": {
            "columns": [
                ["city", "object", ["paris", "london, uk", 'say "hi"', "nowhere"]],
                ["n", "float64", [0.0, 1.0, 5.5, 19.0]],
            ],
            "use_bytes": True,
        },
    }
    for name, dtype, values in WIDENED:
        frames[f"widened-{name}-{dtype}"] = {
            "columns": _echo_frame(name, dtype, values),
            "use_bytes": True,
        }
    arrays = {"tensor": [[[0.5, 1.0, -2.0], [3.0, 4.5, 6.0]], "float32"]}
    return encode_with_mlserver(frames, arrays)


@pytest.fixture(scope="module")
def server(
    tmp_path_factory: pytest.TempPathFactory, typed_model_dir: Path, text_pipeline: Any
) -> Iterator[str]:
    mlserver_python()  # skip (or fail) before starting anything
    root = tmp_path_factory.mktemp("mlserver-codec")
    signature = ModelSignature(Schema([ColSpec(t, n) for n, t, *_ in ECHO_COLUMNS]))
    mlserve.save_model(
        _function(ECHO_SOURCE), root / "echo", flavor="python_function", signature=signature
    )
    mlserve.save_model(_function(ECHO_SOURCE), root / "anon", flavor="python_function")
    tensor = ModelSignature(Schema([TensorSpec(np.dtype(np.float32), (-1, 3))]))
    mlserve.save_model(
        _function(SUM_SOURCE), root / "tensor", flavor="python_function", signature=tensor
    )
    models = {
        "echo": root / "echo",
        "anon": root / "anon",
        "tensor": root / "tensor",
        "rf": typed_model_dir,
        "text": text_pipeline[2],
    }
    args = [a for name, path in models.items() for a in ("-m", f"{name}={path}")]
    with start_server(root, *args) as running:
        yield running.url


def _infer(url: str, model: str, body: dict[str, Any]) -> dict[str, Any]:
    answer = requests.post(f"{url}/v2/models/{model}/infer", json=body, timeout=30)
    assert answer.status_code == 200, answer.text
    return answer.json()


def _invocations(url: str, model: str, body: dict[str, Any]) -> Any:
    answer = requests.post(f"{url}/models/{model}/invocations", json=body, timeout=30)
    assert answer.status_code == 200, answer.text
    return answer.json()["predictions"]


def _split(columns: list[str], values: list[list[Any]]) -> dict[str, Any]:
    rows = [list(r) for r in zip(*values, strict=True)]
    return {"dataframe_split": {"columns": columns, "data": rows}}


def _same(a: Any, b: Any) -> bool:
    """Equal, with NaN equal to a missing value (V2 sends NaN as null)."""
    if isinstance(a, float) and math.isnan(a):
        a = None
    if isinstance(b, float) and math.isnan(b):
        b = None
    return bool(a == b)


def _values(tensor: dict[str, Any]) -> list[Any]:
    """A V2 tensor's values, its pd_json documents decoded (their spacing is the encoder's)."""
    if (tensor.get("parameters") or {}).get("content_type") == "pd_json":
        return [json.loads(v) for v in tensor["data"]]
    return list(tensor["data"])


@pytest.mark.parametrize("key", ["echo", "echo-bytes"], ids=["use_bytes=False", "use_bytes=True"])
def test_pandas_codec_requests_decode_to_the_same_frame(
    server: str, requests_from_mlserver: dict[str, Any], key: str
) -> None:
    body = requests_from_mlserver[key]
    # what MLServer sent: its own shapes and datatypes, the pandas content type
    assert body["parameters"] == {"content_type": "pd"}
    assert {i["name"]: i["shape"] for i in body["inputs"]} == {c[0]: [4, 1] for c in ECHO_COLUMNS}
    doc = _infer(server, "echo", body)
    outputs = {o["name"]: o for o in doc["outputs"]}
    assert list(outputs) == [c[0] for c in ECHO_COLUMNS]
    for name, _, _, datatype, values in ECHO_COLUMNS:
        out = outputs[name]
        assert (out["datatype"], out["shape"]) == (datatype, [4]), name
        assert all(_same(a, b) for a, b in zip(_values(out), values, strict=True)), name
    # the same rows on /invocations decode to the same frame
    columns = [c[0] for c in ECHO_COLUMNS]
    records = _invocations(server, "echo", _split(columns, [c[4] for c in ECHO_COLUMNS]))
    for name in columns:
        v2_values = _values(outputs[name])
        assert all(_same(r[name], v) for r, v in zip(records, v2_values, strict=True)), name


def test_mlserver_decodes_our_response_to_the_same_frame(
    server: str, requests_from_mlserver: dict[str, Any]
) -> None:
    # the way back: an MLServer client reads the echo model's answer with PandasCodec
    doc = _infer(server, "echo", requests_from_mlserver["echo-bytes"])
    frame = run_in_mlserver(_DECODE, doc)
    assert list(frame) == [c[0] for c in ECHO_COLUMNS]
    for name, _, client_dtype, _, values in ECHO_COLUMNS:
        dtype, decoded = frame[name]
        # strings come back as pandas' string dtype ("str" in pandas 3), not bytes
        assert dtype == client_dtype or (name == "city" and dtype == "str"), name
        assert decoded == values, name


@pytest.mark.parametrize(
    ("column", "dtype", "values"), WIDENED, ids=[f"{c}-{d}" for c, d, _ in WIDENED]
)
def test_other_client_dtypes_convert_to_the_signatures(
    server: str, requests_from_mlserver: dict[str, Any], column: str, dtype: str, values: list
) -> None:
    body = requests_from_mlserver[f"widened-{column}-{dtype}"]
    sent = next(i for i in body["inputs"] if i["name"] == column)
    declared = next(c for c in ECHO_COLUMNS if c[0] == column)
    assert sent["datatype"] != declared[3]  # MLServer sent the client's dtype, not the model's
    outputs = {o["name"]: o for o in _infer(server, "echo", body)["outputs"]}
    assert outputs[column]["datatype"] == declared[3]
    assert sent["data"] == values
    assert all(_same(a, b) for a, b in zip(_values(outputs[column]), values, strict=True))


def test_without_a_signature_the_v2_datatypes_type_the_frame(
    server: str, requests_from_mlserver: dict[str, Any]
) -> None:
    body = requests_from_mlserver["echo-bytes"]
    doc = _infer(server, "anon", body)
    assert [(o["name"], o["datatype"]) for o in doc["outputs"]] == [
        (i["name"], i["datatype"]) for i in body["inputs"]
    ]
    for out, sent in zip(doc["outputs"], body["inputs"], strict=True):
        assert all(_same(a, b) for a, b in zip(_values(out), _values(sent), strict=True))


def test_the_seed_request_predicts_the_same_on_v2_and_invocations(
    server: str, requests_from_mlserver: dict[str, Any], seed_model: Any
) -> None:
    doc = _infer(server, "rf", requests_from_mlserver["seed"])
    split = {"dataframe_split": {"columns": list("abcd"), "data": SEED_ROWS}}
    invocations = _invocations(server, "rf", split)
    expected = seed_model.predict(np.array(SEED_ROWS)).tolist()
    assert doc["outputs"][0]["data"] == invocations == expected


def test_string_columns_predict_the_same_on_v2_and_invocations(
    server: str, requests_from_mlserver: dict[str, Any], text_pipeline: Any
) -> None:
    import pandas as pd

    pipeline = text_pipeline[0]
    body = requests_from_mlserver["text"]
    values = [i["data"] for i in body["inputs"]]
    doc = _infer(server, "text", body)
    invocations = _invocations(server, "text", _split(["city", "n"], values))
    expected = pipeline.predict(pd.DataFrame(dict(zip(["city", "n"], values, strict=True))))
    assert doc["outputs"][0]["data"] == invocations == expected.tolist()


def test_numpy_codec_requests_for_a_tensor_model(
    server: str, requests_from_mlserver: dict[str, Any]
) -> None:
    body = requests_from_mlserver["tensor"]
    assert body["inputs"][0]["shape"] == [2, 3]  # named input-1 by MLServer, input-0 by us
    doc = _infer(server, "tensor", body)
    rows = [[0.5, 1.0, -2.0], [3.0, 4.5, 6.0]]
    invocations = _invocations(server, "tensor", {"inputs": rows})
    assert doc["outputs"][0]["data"] == invocations == [-0.5, 13.5]
    assert doc["outputs"][0]["datatype"] == "FP32"


def test_missing_interpreter_fails_under_ci_else_skips(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv(PYTHON_ENV, str(tmp_path / "no-such-python"))
    monkeypatch.setenv(REQUIRE_ENV, "1")
    with pytest.raises(pytest.fail.Exception, match="no-such-python"):
        mlserver_python()
    monkeypatch.delenv(REQUIRE_ENV)
    with pytest.raises(pytest.skip.Exception, match=r"\.ci/mlserver-venv"):
        mlserver_python()
