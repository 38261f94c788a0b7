"""One ``/invocations`` request on a prediction thread: decode the body, predict, encode.

:func:`score` is the plain path; :func:`score_timed` is the same with the read, queue, decode
and encode stages and the rows recorded (``--metrics``, the default when the ``metrics`` extra
is installed); the served predict callable itself observes the enforce and predict stages.
"""

from __future__ import annotations

import time
from typing import TYPE_CHECKING

from mlserve.codecs import encode_predictions
from mlserve.codecs._json_input import llm_errors
from mlserve.server._metrics import count_rows

if TYPE_CHECKING:
    from mlserve.server._metrics import ModelMetrics
    from mlserve.server._served import ServedModel

__all__ = ["score", "score_timed"]


def score(served: ServedModel, body: bytes, content_type: str | None) -> bytes:
    """The JSON answer to ``body`` (raises the request's error)."""
    decoded = served.decoder.decode(body, content_type)
    if not decoded.unwrapped:
        return encode_predictions(served.predict(decoded.data, decoded.params))
    with llm_errors():  # the model's predict enforces the signature
        output = served.predict(decoded.data, decoded.params)
    return encode_predictions(output, unwrapped=True)


def score_timed(
    served: ServedModel,
    body: bytes,
    content_type: str | None,
    stages: ModelMetrics,
    read_body: float,
    queued_at: float,
) -> bytes:
    """:func:`score`, recording the read, queue, decode and encode stages and the rows as far
    as the request got (``read_body`` seconds were spent reading it; ``queued_at`` is when it
    was handed to the prediction threads, on ``time.perf_counter``'s clock)."""
    clock = time.perf_counter
    started = clock()
    decode = rows = encode = None
    try:
        decoded = served.decoder.decode(body, content_type)
        decode = clock() - started
        rows = count_rows(decoded.data)
        if not decoded.unwrapped:
            output = served.predict(decoded.data, decoded.params)
        else:
            with llm_errors():  # the model's predict enforces the signature
                output = served.predict(decoded.data, decoded.params)
        predicted_at = clock()
        answer = encode_predictions(output, unwrapped=decoded.unwrapped)
        encode = clock() - predicted_at
        return answer
    finally:
        stages.request(read_body, started - queued_at, decode, rows, encode)
