"""The Open Inference Protocol (V2) codec: what the server's V2 routes import.

Requests are decoded in :mod:`mlserve.codecs._v2_request` (the inputs, typed by the model's
decoding plan), responses encoded in :mod:`mlserve.codecs._v2_response`; the datatype table is
:mod:`mlserve.codecs._v2_types` and binary tensors :mod:`mlserve.codecs._v2_binary`.
"""

from __future__ import annotations

from mlserve.codecs._v2_request import V2Request as V2Request
from mlserve.codecs._v2_request import decode_v2_request as decode_v2_request
from mlserve.codecs._v2_response import encode_v2_response as encode_v2_response

__all__ = ["V2Request", "decode_v2_request", "encode_v2_response"]
