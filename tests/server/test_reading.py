"""The read rules without a server: when a buffered request looks complete, and its deadline."""

from __future__ import annotations

import math

import pytest

from mlserve.server._reading import ReadPolicy, RequestBuffer

HEAD = b"POST /invocations HTTP/1.1\r\nHost: t\r\n"

# (pieces fed one after the other, whether the request looks complete after the last one)
CASES = [
    ([HEAD], False),
    ([HEAD + b"\r\n"], True),  # no body
    ([HEAD + b"Content-Length: 4\r\n\r\n{}"], False),
    ([HEAD + b"Content-Length: 4\r\n\r\n{}", b"{}"], True),
    ([HEAD[:10], HEAD[10:] + b"Content-Length: 2\r", b"\n\r", b"\n{}"], True),  # split \r\n\r\n
    ([HEAD + b"Content-Length: 2000\r\n\r\n"], True),  # over the body limit: the app says 413
    ([HEAD + b"Content-Length: 2\r\nContent-Length: 2\r\n\r\n"], True),  # the parser refuses
    ([HEAD + b"Content-Length: -1\r\n\r\n"], True),
    ([HEAD + b"Expect: 100-continue\r\nContent-Length: 4\r\n\r\n"], True),  # waits for us
    ([HEAD + b"Transfer-Encoding: chunked\r\n\r\n2\r\n{}\r\n"], False),
    ([HEAD + b"Transfer-Encoding: chunked\r\n\r\n2\r\n{}\r\n", b"0\r\n\r\n"], True),
    ([HEAD + b"Transfer-Encoding: gzip, chunked\r\n\r\n"], True),  # the app answers 501
    ([HEAD + b"Transfer-Encoding: chunked\r\nContent-Length: 3\r\n\r\n"], True),
    ([b"X" * 900_000], True),  # a head past every limit: the parser answers 431
]


@pytest.mark.parametrize(
    ("pieces", "complete"),
    CASES,
    ids=["partial-head", "no-body", "partial-body", "whole-body", "split-blank-line",
         "over-limit", "two-lengths", "bad-length", "expect-continue", "partial-chunks",
         "last-chunk", "gzip-chunked", "length-and-chunked", "huge-head"],
)  # fmt: skip
def test_when_a_request_looks_complete(pieces: list[bytes], complete: bool) -> None:
    buffer = RequestBuffer(0.0)
    results = [buffer.feed(piece, max_body_size=1000) for piece in pieces]
    assert results[-1] is complete
    assert not any(results[:-1])


def test_the_deadline_gives_the_head_its_timeout_and_the_body_a_minimum_rate() -> None:
    policy = ReadPolicy(header_timeout=10, min_body_rate=1000, timeout=60)
    assert policy.deadline(100.0, head_done=False, body_received=0) == 110.0
    assert policy.deadline(100.0, head_done=True, body_received=0) == 120.0
    assert policy.deadline(100.0, head_done=True, body_received=5000) == 125.0
    assert policy.deadline(100.0, head_done=True, body_received=10**9) == 160.0  # --timeout
    assert ReadPolicy(header_timeout=0, timeout=None).deadline(0.0, True, 0) == math.inf
    assert ReadPolicy(header_timeout=0, timeout=5).deadline(0.0, True, 0) == 5.0
