"""The access log: one line per request, written by gunicorn's logger at a fraction of its cost.

gunicorn formats an access line from a dictionary of every atom its format language knows
(twenty fields plus one per request and response header), wrapped in a case-insensitive
mapping, for each request; on a 1-row prediction that was ~13 % of a worker's CPU. Our format
is fixed (``ACCESS_LOG_FORMAT`` in :mod:`mlserve.server._runner`), so :class:`AccessLogger`
writes the same line directly, ending with the request's ``X-Request-ID``
(:mod:`mlserve.server._tracing`). With ``--access-log-format json`` each line is one JSON
object instead, for log shippers (fields in ``docs/serving.md``).
"""

from __future__ import annotations

import datetime
import json
import os
from typing import Any

from gunicorn.glogging import Logger

from mlserve.server._tracing import ENVIRON_KEY

__all__ = ["AccessLogger"]

_JSON_FORMAT = "json"  # runner.JSON_ACCESS_LOG_FORMAT


class AccessLogger(Logger):
    """gunicorn's logger, with :meth:`access` writing the runner's access line directly.

    The text line is the one gunicorn would write for that format; the error log is unchanged.
    """

    def __init__(self, cfg: Any) -> None:
        super().__init__(cfg)
        self._json = cfg.access_log_format == _JSON_FORMAT

    def access(self, resp: Any, req: Any, environ: dict[str, Any], request_time: Any) -> None:
        """Write one access line (nothing when the access log is off)."""
        if not self.access_log_enabled:
            return
        status = resp.status
        if isinstance(status, str):
            status = status.split(None, 1)[0]
        if self._json:
            self.access_log.info(_json_line(resp, environ, status, request_time))
            return
        line = '%s <%d> %s "%s %s %s" %s %s %d.%06ds %s' % (  # noqa: UP031 (one pass, no parsing)
            self.now(),
            os.getpid(),
            environ.get("REMOTE_ADDR", "-"),
            environ["REQUEST_METHOD"],
            environ["RAW_URI"],
            environ["SERVER_PROTOCOL"],
            status,
            getattr(resp, "sent", None),  # gunicorn's %(B)s: "None" if unknown, as it writes
            # gunicorn's %(L)s, days dropped as it drops them (a clock step back shows as
            # 86399.x s, as it always has)
            request_time.seconds,
            request_time.microseconds,
            environ.get(ENVIRON_KEY, "-"),  # gunicorn's %({x-request-id}o)s
        )
        # no arguments: logging leaves a '%' in the request line alone
        self.access_log.info(line)


def _json_line(resp: Any, environ: dict[str, Any], status: Any, request_time: Any) -> str:
    """One access-log record as a JSON object on one line (a client's bytes are escaped)."""
    return json.dumps(
        {
            "time": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="milliseconds"),
            "pid": os.getpid(),
            "remote_addr": environ.get("REMOTE_ADDR"),
            "method": environ["REQUEST_METHOD"],
            "path": environ["RAW_URI"],
            "protocol": environ["SERVER_PROTOCOL"],
            "status": int(status),
            "bytes": getattr(resp, "sent", None),
            "duration_s": request_time.total_seconds(),
            "request_id": environ.get(ENVIRON_KEY),
            "user_agent": environ.get("HTTP_USER_AGENT"),
        },
        ensure_ascii=True,
        separators=(",", ":"),
    )
