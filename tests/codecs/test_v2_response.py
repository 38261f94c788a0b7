"""V2 (Open Inference Protocol) responses: output tensors named, shaped and typed as the model
returned them (mlserve.codecs._v2_response)."""

from __future__ import annotations

import json
from typing import Any

import numpy as np
import pandas as pd
import pytest

from mlserve.codecs._v2_response import encode_v2_response
from mlserve.errors import PayloadError


def test_response_keeps_the_model_shape_and_echoes_the_id() -> None:
    out = _json_only(
        encode_v2_response(
            np.array([[0.5], [1.5]], dtype=np.float32),
            model_name="m",
            model_version=None,
            request_id="r",
            requested=None,
        )
    )
    assert out == {
        "model_name": "m",
        "id": "r",
        "outputs": [{"name": "output-0", "shape": [2, 1], "datatype": "FP32", "data": [0.5, 1.5]}],
    }


def test_response_of_a_frame_strings_bytes_and_requested_outputs() -> None:
    frame = pd.DataFrame({"label": ["a", "b"], "raw": [b"\x00", b"\x01"], "p": [0.1, np.nan]})
    out = _json_only(
        encode_v2_response(
            frame, model_name="m", model_version="3", request_id="r", requested=("label", "p")
        )
    )
    assert out["model_version"] == "3"
    assert out["outputs"] == [
        {
            "name": "label",
            "shape": [2],
            "datatype": "BYTES",
            "parameters": {"content_type": "str"},
            "data": ["a", "b"],
        },
        {"name": "p", "shape": [2], "datatype": "FP64", "data": [0.1, None]},
    ]
    with pytest.raises(PayloadError, match="unknown output 'nope'"):
        encode_v2_response(
            frame, model_name="m", model_version=None, request_id="r", requested=("nope",)
        )


def _json_only(answer: tuple[bytes, int | None]) -> Any:
    body, header_length = answer
    assert header_length is None
    return json.loads(body)
