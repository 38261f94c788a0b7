"""``--metrics-port``: ``GET /metrics`` answered by the server's parent, out of the workers' way.

On the model's port a scrape is one more request: under load it waits for a worker to accept it,
for a free request thread and for the GIL behind the predictions (a scrape needs ~3 ms of CPU,
and took 16-19 ms at the median and up to 270 ms on a loaded 2-CPU machine). The metrics port is
served by the parent (gunicorn's arbiter), which serves no requests: one daemon thread, one
scrape at a time, reading the metrics directory every worker writes
(:mod:`mlserve.server._metrics_files`). A client there gets 5 s to send its request line and
headers, so a stalled one cannot keep the scraper out for long.

The thread starts once the parent is ready, before it forks the first worker; a forked worker
closes its copy of the listening socket (:meth:`MetricsPort.close_in_child`). The thread writes
no log and takes no lock a worker uses except the directory's (re-made in each child by
``ProcessFiles``), so a fork while it scrapes leaves the child nothing held.
"""

from __future__ import annotations

import socket
import threading
from http.server import BaseHTTPRequestHandler, HTTPServer
from pathlib import Path
from typing import Any

from mlserve.server._errors import answer_for_http, answer_for_unexpected
from mlserve.server._tracing import HEADER, request_id_for

__all__ = ["MetricsPort"]

#: seconds a client of the metrics port may take to send its request
CLIENT_TIMEOUT = 5.0


class MetricsPort:
    """A listening socket on ``host:port`` answering ``GET /metrics`` from ``directory``."""

    def __init__(self, host: str, port: int, directory: Path) -> None:
        server_class = _IPv6Server if ":" in host else _Server
        self._server = server_class((host, port), _Handler)
        self._server.directory = directory
        self._thread: threading.Thread | None = None

    @property
    def address(self) -> str:
        """``host:port`` as bound (the port chosen by the kernel for port 0)."""
        host, port = self._server.socket.getsockname()[:2]
        return f"[{host}]:{port}" if ":" in host else f"{host}:{port}"

    def start(self) -> None:
        """Serve in a daemon thread of this process."""
        self._thread = threading.Thread(
            target=self._server.serve_forever,
            kwargs={"poll_interval": 0.5},
            name="mlserve-metrics-port",
            daemon=True,
        )
        self._thread.start()

    def close_in_child(self) -> None:
        """In a forked worker: drop the inherited listening socket (the parent serves it)."""
        self._server.socket.close()


class _Server(HTTPServer):
    directory: Path
    allow_reuse_address = True

    def server_bind(self) -> None:
        # HTTPServer looks the host's name up (a DNS query on some machines): not needed
        socket.socket.bind(self.socket, self.server_address)
        self.server_address = self.socket.getsockname()


class _IPv6Server(_Server):
    address_family = socket.AF_INET6


class _Handler(BaseHTTPRequestHandler):
    server: _Server
    timeout = CLIENT_TIMEOUT
    server_version = "mlserve"
    sys_version = ""

    def do_GET(self) -> None:
        self._answer(body=True)

    def do_HEAD(self) -> None:
        self._answer(body=False)

    def do_POST(self) -> None:
        self._refuse()

    do_PUT = do_DELETE = do_PATCH = do_OPTIONS = do_POST

    def _answer(self, *, body: bool) -> None:
        if self.path.split("?", 1)[0] != "/metrics":
            self._refuse(body=body)
            return
        try:
            from prometheus_client import CONTENT_TYPE_LATEST

            from mlserve.server._metrics_files import scrape

            payload = scrape(self.server.directory)
        except ImportError:
            from mlserve.server._metrics import missing_extra

            answer = answer_for_http(501, missing_extra().message)
            self._send(answer.status, answer.headers, answer.body, body)
            return
        except Exception as exc:
            answer = answer_for_unexpected(exc)
            self._send(answer.status, answer.headers, answer.body, body)
            return
        self._send(200, [("Content-Type", CONTENT_TYPE_LATEST)], payload, body)

    def _refuse(self, *, body: bool = True) -> None:
        answer = answer_for_http(404, "This port serves GET /metrics only.")
        self._send(answer.status, answer.headers, answer.body, body)

    def _send(
        self, status: int, headers: list[tuple[str, str]], payload: bytes, body: bool
    ) -> None:
        self.send_response_only(status)
        for name, value in headers:
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(payload)))
        self.send_header(HEADER, request_id_for(self.headers.get(HEADER)))
        self.send_header("Connection", "close")
        self.end_headers()
        if body:
            self.wfile.write(payload)

    def log_message(self, format: str, *args: Any) -> None:
        """No log lines from this thread (the server's log is written by the main thread)."""
