"""Our access logger writes exactly the line gunicorn's own logger writes for our format."""

from __future__ import annotations

import datetime
import logging
import os
from types import SimpleNamespace

import pytest
from gunicorn.config import Config
from gunicorn.glogging import Logger

from mlserve.server._access_log import AccessLogger
from mlserve.server._runner import ACCESS_LOG_FORMAT


class _Lines(logging.Handler):
    def __init__(self) -> None:
        super().__init__()
        self.lines: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.lines.append(record.getMessage())


def _line(logger_class: type[Logger], resp: object, environ: dict, took: datetime.timedelta) -> str:
    cfg = Config()
    cfg.set("accesslog", "-")
    cfg.set("access_log_format", ACCESS_LOG_FORMAT)
    log = logger_class(cfg)
    log.now = lambda: "[24/Nov/2026:22:00:00 +0000]"  # one clock for both loggers
    captured = _Lines()
    log.access_log.addHandler(captured)
    request = SimpleNamespace(headers=[("HOST", "x"), ("CONTENT-TYPE", "application/json")])
    log.access(resp, request, environ, took)
    (line,) = captured.lines
    return line


def _environ(method: str, uri: str) -> dict[str, str]:
    return {
        "REMOTE_ADDR": "127.0.0.1",
        "REQUEST_METHOD": method,
        "RAW_URI": uri,
        "PATH_INFO": uri.split("?")[0],
        "SERVER_PROTOCOL": "HTTP/1.1",
    }


@pytest.mark.parametrize(
    ("status", "sent", "method", "uri", "took"),
    [
        ("200 OK", 26, "POST", "/invocations", datetime.timedelta(microseconds=981)),
        ("400 BAD REQUEST", 120, "POST", "/invocations?a=%20b", datetime.timedelta(seconds=2)),
        ("204 No Content", None, "OPTIONS", "/ping", datetime.timedelta(microseconds=5)),
        (404, 77, "GET", "/100%25", datetime.timedelta(seconds=61, microseconds=7)),
        ("200 OK", 26, "POST", "/invocations", datetime.timedelta(days=1, seconds=2)),
        ("200 OK", 26, "POST", "/invocations", datetime.timedelta(seconds=-0.3)),
    ],
    ids=[
        "ok",
        "percent-in-query",
        "nothing-sent",
        "int-status",
        "over-a-day",
        "clock-stepped-back",
    ],
)
def test_the_line_is_gunicorns_own(
    status: object, sent: int | None, method: str, uri: str, took: datetime.timedelta
) -> None:
    resp = SimpleNamespace(status=status, sent=sent, headers=[("Content-Type", "application/json")])
    environ = _environ(method, uri)
    ours = _line(AccessLogger, resp, environ, took)
    assert ours == _line(Logger, resp, environ, took)
    assert ours.startswith(f"[24/Nov/2026:22:00:00 +0000] <{os.getpid()}> ")


def test_nothing_is_written_with_the_access_log_off() -> None:
    cfg = Config()
    cfg.set("access_log_format", ACCESS_LOG_FORMAT)  # no accesslog: off, as --no-access-log
    log = AccessLogger(cfg)
    captured = _Lines()
    log.access_log.addHandler(captured)
    took = datetime.timedelta(microseconds=1)
    log.access(SimpleNamespace(status="200 OK", sent=2), None, _environ("GET", "/ping"), took)
    assert captured.lines == []
