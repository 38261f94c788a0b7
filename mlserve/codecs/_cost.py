"""What decoding a body will cost in memory, estimated before any of it is spent.

Parsing multiplies a body: a 95 MiB JSON body of float rows grew a worker by about 1 GiB
(every number a Python object in a list, then the frame and the prediction), a CSV body of the
same size by about 475 MiB. The decoding plan's ``max_memory`` (``--max-request-memory``)
bounds that: each codec asks :func:`check_memory` with an estimate taken *before* the step
that spends the memory, and a body past the limit is refused with
:class:`~mlserve.errors.PayloadTooLarge` (413), having cost its own bytes and one scan.

The estimates count tokens, not bytes, because the cost is per value: a JSON number is an
8-byte list slot and a 24-byte float whether it is written ``1`` or ``0.123456789012``.
The weights below are bytes of worker memory per token, fitted to the worker's measured peak
RSS on such bodies (parse, frame, enforcement, a RandomForest's predict and the answer: JSON
within 10 % of the measurement, CSV within 25 %). Strings cost more than the per-value weight
when they are short and many (a Python ``str`` has a ~50-byte header): a JSON body of 40 MiB
of two-letter strings took 1.4 times its estimate to decode (893 MiB against 651), while CSV
of the same came out below it (375 against 507). The estimate is an approximation, not an
exact account.

A body too small to reach the limit even at the worst cost per byte is never scanned, so the
check costs nothing on ordinary requests; a large body costs three ``bytes.count`` passes
(about 0.1 s per 100 MiB, against about 3.5 s to parse it).
"""

from __future__ import annotations

from mlserve.codecs._plan import DecodePlan

__all__ = ["check_memory", "csv_memory", "json_memory"]

# JSON: per list (56-byte header, its slot in the parent, growth slack), per object (a small
# dict and its slot), per value (a slot and a number object; separators count the values)
_JSON_LIST = 80
_JSON_OBJECT = 320
_JSON_VALUE = 64
#: the most any byte of a JSON body can cost: ``{},`` is an object and a value in 3 bytes
_JSON_WORST = (_JSON_OBJECT + _JSON_VALUE) // 3 + 2

# CSV: pandas' C reader holds the body and its tokens (about twice the body), then a column
# entry per cell
_CSV_BODY = 2
_CSV_CELL = 32
#: ``,`` alone is a cell in one byte
_CSV_WORST = _CSV_CELL + _CSV_BODY


def json_memory(body: bytes) -> int:
    """Estimated peak memory, in bytes, of decoding and predicting on a JSON body."""
    values = body.count(b",") + 1
    return (
        len(body)
        + _JSON_LIST * body.count(b"[")
        + _JSON_OBJECT * body.count(b"{")
        + _JSON_VALUE * values
    )


def csv_memory(body: bytes) -> int:
    """Estimated peak memory, in bytes, of decoding and predicting on a CSV body."""
    cells = body.count(b",") + body.count(b"\n") + 1
    return _CSV_BODY * len(body) + _CSV_CELL * cells


_ESTIMATES = {"json": (json_memory, _JSON_WORST), "csv": (csv_memory, _CSV_WORST)}


def check_memory(body: bytes, plan: DecodePlan, kind: str) -> None:
    """Refuse ``body`` (``kind`` ``"json"`` or ``"csv"``) when decoding it would take more
    than the plan's ``max_memory`` (:meth:`DecodePlan.check_memory`); free for a body too
    small to get there."""
    limit = plan.limits.max_memory
    estimate, worst = _ESTIMATES[kind]
    if limit is None or len(body) * worst <= limit:
        return
    plan.check_memory(estimate(body))
