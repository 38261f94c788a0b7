"""The access log: one line per request, written by gunicorn's logger at a fraction of its cost.

gunicorn formats an access line from a dictionary of every atom its format language knows
(twenty fields plus one per request and response header), wrapped in a case-insensitive
mapping, for each request; on a 1-row prediction that was ~13 % of a worker's CPU. Our format
is fixed (``ACCESS_LOG_FORMAT`` in :mod:`mlserve.server.runner`), so :class:`AccessLogger`
writes the same line directly.
"""

from __future__ import annotations

import os
from typing import Any

from gunicorn.glogging import Logger

__all__ = ["AccessLogger"]


class AccessLogger(Logger):
    """gunicorn's logger, with :meth:`access` writing the runner's access line directly.

    The line is the one gunicorn would write for that format; the error log is unchanged.
    """

    def access(self, resp: Any, req: Any, environ: dict[str, Any], request_time: Any) -> None:
        """Write one access line (nothing when the access log is off)."""
        if not self.access_log_enabled:
            return
        status = resp.status
        if isinstance(status, str):
            status = status.split(None, 1)[0]
        line = '%s <%d> %s "%s %s %s" %s %s %d.%06ds' % (  # noqa: UP031 (one pass, no parsing)
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
        )
        # no arguments: logging leaves a '%' in the request line alone
        self.access_log.info(line)
