"""Serve a saved model with a real ``python -m mlserve.server`` process, for tests.

:func:`serve_model` starts the server on a free 127.0.0.1 port with this interpreter, waits
until ``/ping`` answers, and stops it (by PID) when the ``with`` block ends; :func:`check_served`
uses it to compare what the server answers with what the native model predicts. Only the
standard library talks to the server, so a plugin's tests need no HTTP client.
"""

from __future__ import annotations

import contextlib
import http.client
import json
import math
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator, Mapping, Sequence
from typing import IO, Any

__all__ = ["ServedModel", "check_served", "payload_for", "serve_model"]

_JSON = "application/json"
# the keys a JSON /invocations body is made of (MLflow's wire format)
_PAYLOAD_KEYS = frozenset({"dataframe_split", "dataframe_records", "instances", "inputs"})
# how much of the server's log an assertion message quotes
_LOG_TAIL_LINES = 40


class ServedModel:
    """A running ``python -m mlserve.server`` process, as :func:`serve_model` yields it.

    ``url`` is the base URL (``http://127.0.0.1:<port>``) and ``pid`` the server's process id.
    Every request opens its own connection, so threads may call it concurrently.
    """

    def __init__(self, process: subprocess.Popen[bytes], port: int, log: IO[bytes]) -> None:
        self._process = process
        self._log = log
        self.port = port
        self.url = f"http://127.0.0.1:{port}"
        self.pid = process.pid

    def request(
        self,
        method: str,
        path: str,
        body: bytes | None = None,
        *,
        content_type: str | None = None,
        timeout: float = 60.0,
    ) -> tuple[int, Any]:
        """Send one request; return the status and the body parsed as JSON.

        A body that is not JSON (an empty one, say) comes back as text. Raises
        ``AssertionError`` quoting the server's log when no answer arrives within ``timeout``
        seconds or the connection fails.
        """
        headers = {"Content-Type": content_type} if content_type else {}
        connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=timeout)
        try:
            connection.request(method, path, body=body, headers=headers)
            response = connection.getresponse()
            status, raw = response.status, response.read()
        except (OSError, http.client.HTTPException) as exc:  # timeouts are OSErrors too
            raise AssertionError(
                f"no answer from the server to {method} {path} ({type(exc).__name__}: {exc}); "
                f"its log:\n{self.log_tail()}"
            ) from exc
        finally:
            connection.close()
        text = raw.decode("utf-8", errors="replace")
        try:
            return status, json.loads(text)
        except ValueError:
            return status, text

    def invoke(
        self,
        payload: Mapping[str, Any] | bytes | str,
        content_type: str = _JSON,
        *,
        timeout: float = 60.0,
    ) -> tuple[int, Any]:
        """POST ``payload`` to ``/invocations``; return the status and the parsed JSON answer.

        A mapping is sent as JSON (``{"inputs": ...}``, ``{"dataframe_split": ...}``, ...);
        bytes or text are sent as they are with ``content_type`` (``"text/csv"``, say). Error
        answers are returned, not raised: ``(400, {"error_code": ..., "message": ...})``.
        """
        if isinstance(payload, Mapping):
            body = json.dumps(payload).encode("utf-8")
        elif isinstance(payload, str):
            body = payload.encode("utf-8")
        else:
            body = bytes(payload)
        return self.request(
            "POST", "/invocations", body, content_type=content_type, timeout=timeout
        )

    def predictions(
        self,
        payload: Mapping[str, Any] | bytes | str,
        content_type: str = _JSON,
        *,
        timeout: float = 60.0,
    ) -> Any:
        """:meth:`invoke`, then the answer's ``predictions``; ``AssertionError`` (with the
        status and the error body) unless the server answers 200."""
        status, answer = self.invoke(payload, content_type, timeout=timeout)
        assert status == 200 and isinstance(answer, dict) and "predictions" in answer, (
            f"/invocations answered {status}: {answer!r}"
        )
        return answer["predictions"]

    def log(self) -> str:
        """Everything the server has written to stdout and stderr so far."""
        self._log.flush()
        self._log.seek(0)
        return self._log.read().decode("utf-8", errors="replace")

    def log_tail(self, lines: int = _LOG_TAIL_LINES) -> str:
        """The last ``lines`` lines of :meth:`log`."""
        return "\n".join(self.log().rstrip().splitlines()[-lines:])

    @property
    def returncode(self) -> int | None:
        """The server's exit status, or None while it runs."""
        return self._process.poll()

    def stop(self, grace: float = 30.0) -> int:
        """Stop the server and return its exit status; calling it again does nothing more.

        Sends SIGTERM to the server's PID (gunicorn then lets its workers finish in-flight
        requests) and waits up to ``grace`` seconds; then SIGKILLs the server's whole process
        group, so a worker stuck in native code cannot outlive it.
        """
        process = self._process
        if process.poll() is None:
            process.terminate()
            try:
                process.wait(timeout=grace)
            except subprocess.TimeoutExpired:
                _kill_group(process)
        # the server is gone; a worker that ignored its stop signal must not linger
        _kill_group(process)
        return process.wait()


def _kill_group(process: subprocess.Popen[bytes]) -> None:
    """SIGKILL the process group the server leads (it was started in a session of its own)."""
    if hasattr(os, "killpg"):
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(process.pid, signal.SIGKILL)
    else:  # no process groups: the server itself is all we can reach
        with contextlib.suppress(ProcessLookupError):
            process.kill()
    with contextlib.suppress(subprocess.TimeoutExpired):
        process.wait(timeout=10)


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _child_env(env: Mapping[str, str] | None) -> dict[str, str]:
    """This process's environment, its ``sys.path`` (so code a test defines can be unpickled)
    and tracking store (so ``runs:/`` and ``models:/`` URIs resolve), then ``env`` on top."""
    from mlserve.store import get_tracking_uri

    paths = [os.path.abspath(p or os.curdir) for p in sys.path]
    child = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join(paths),
        "MLSERVE_TRACKING_URI": get_tracking_uri(),
    }
    child.update(env or {})
    return child


def _wait_ready(served: ServedModel, process: subprocess.Popen[bytes], timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while True:
        code = process.poll()
        if code is not None:
            raise AssertionError(
                f"the server exited with status {code} while starting:\n{served.log_tail()}"
            )
        with contextlib.suppress(OSError, http.client.HTTPException):
            connection = http.client.HTTPConnection("127.0.0.1", served.port, timeout=2)
            try:
                connection.request("GET", "/ping")
                if connection.getresponse().status == 200:
                    return
            finally:
                connection.close()
        if time.monotonic() > deadline:
            raise AssertionError(
                f"the server did not answer /ping within {timeout} s:\n{served.log_tail()}"
            )
        time.sleep(0.05)


@contextlib.contextmanager
def serve_model(
    model_uri: str | os.PathLike[str],
    *,
    workers: int = 1,
    extra_args: Sequence[str] = (),
    env: Mapping[str, str] | None = None,
    timeout: float = 60.0,
) -> Iterator[ServedModel]:
    """Serve ``model_uri`` with ``python -m mlserve.server`` and yield a :class:`ServedModel`.

    The server runs with this interpreter (``sys.executable``) on a free 127.0.0.1 port, with
    ``workers`` worker processes and ``extra_args`` (``["--dev"]``, ``["--max-batch-size",
    "32"]``...). It inherits this process's environment, ``sys.path`` and tracking URI, with
    ``env`` on top. The block starts once ``/ping`` answers 200; when it ends, however it ends,
    the server is stopped (:meth:`ServedModel.stop`). Example::

        with serve_model(tmp_path / "model") as served:
            assert served.predictions({"inputs": [[1.0, 2.0]]}) == [3.0]

    Raises ``AssertionError`` quoting the server's log when it exits during start-up (a bad
    URI, a model that fails to load, a missing extra) or is not ready within ``timeout``
    seconds.
    """
    port = _free_port()
    cmd = [
        sys.executable,
        "-m",
        "mlserve.server",
        "--model-uri",
        os.fspath(model_uri),
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
        "--workers",
        str(workers),
        *extra_args,
    ]
    # a file, not a pipe: a chatty server must never block on a full pipe nobody reads
    with tempfile.TemporaryFile() as log:
        process = subprocess.Popen(
            cmd,
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
            env=_child_env(env),
            start_new_session=True,  # its own process group, so stop() reaches every worker
        )
        served = ServedModel(process, port, log)
        try:
            _wait_ready(served, process, timeout)
            yield served
        finally:
            served.stop()


def _json_safe(value: Any) -> Any:
    """A cell or column name as a JSON value: numpy and pandas scalars unwrapped, timestamps
    in ISO format, NaN, NaT and NA as null."""
    import numpy as np
    import pandas as pd

    if value is None or isinstance(value, str | bool | int):
        return value
    if isinstance(value, np.ndarray | list | tuple):
        return [_json_safe(v) for v in value]
    if isinstance(value, bytes):
        return value.decode("utf-8")
    if pd.isna(value):
        return None
    if hasattr(value, "isoformat"):  # datetime, date, pandas Timestamp
        return value.isoformat()
    if isinstance(value, np.generic):
        return _json_safe(value.item())
    return value


def payload_for(data: Any) -> dict[str, Any]:
    """The JSON ``/invocations`` body for ``data``, as an MLflow client would send it.

    A DataFrame goes as ``dataframe_split`` (columns and rows, no index); an ndarray or a list
    as ``inputs``; a dict of arrays as named ``inputs``; a mapping that already has one of the
    payload keys is returned as it is. Floats keep every digit.
    """
    import numpy as np
    import pandas as pd

    if isinstance(data, Mapping) and len(data) == 1 and set(data) <= _PAYLOAD_KEYS:
        return dict(data)
    if isinstance(data, pd.DataFrame):
        rows = [[_json_safe(v) for v in row] for row in data.itertuples(index=False, name=None)]
        return {"dataframe_split": {"columns": [_json_safe(c) for c in data.columns], "data": rows}}
    if isinstance(data, Mapping):
        return {"inputs": {str(k): np.asarray(v).tolist() for k, v in data.items()}}
    return {"inputs": np.asarray(data).tolist()}


def _assert_json_close(actual: Any, expected: Any, rtol: float, where: str) -> None:
    if isinstance(expected, dict):
        assert isinstance(actual, dict), f"{where}: expected an object, got {actual!r:.200}"
        assert set(actual) == set(expected), f"{where}: keys {sorted(actual)} != {sorted(expected)}"
        for key in expected:
            _assert_json_close(actual[key], expected[key], rtol, f"{where}[{key!r}]")
    elif isinstance(expected, list):
        assert isinstance(actual, list), f"{where}: expected a list, got {actual!r:.200}"
        assert len(actual) == len(expected), f"{where}: {len(actual)} items, not {len(expected)}"
        for i, (a, e) in enumerate(zip(actual, expected, strict=True)):
            _assert_json_close(a, e, rtol, f"{where}[{i}]")
    elif (
        rtol
        and isinstance(expected, float)
        and isinstance(actual, int | float)
        and not isinstance(actual, bool)
    ):
        assert math.isclose(actual, expected, rel_tol=rtol), f"{where}: {actual!r} != {expected!r}"
    else:
        assert actual == expected and type(actual) is type(expected), (
            f"{where}: served {actual!r:.200}, expected {expected!r:.200}"
        )


def check_served(
    model_uri: str | os.PathLike[str],
    data: Any,
    expected: Any,
    *,
    rtol: float = 0.0,
    workers: int = 1,
    extra_args: Sequence[str] = (),
    env: Mapping[str, str] | None = None,
    timeout: float = 60.0,
) -> Any:
    """Serve the saved model, POST ``data`` and check the answer is ``expected``, encoded.

    ``data`` is sent as :func:`payload_for` builds it (or as is, when it already is a JSON
    payload); ``expected`` are the native model's predictions on it (ndarray, DataFrame, Series,
    dict of arrays...). The server's ``predictions`` must equal ``expected`` as mlserve encodes
    it to JSON: exactly, or within the relative tolerance ``rtol`` for floats (for frameworks
    whose float results vary with the batch). The server options are :func:`serve_model`'s.
    Returns the served predictions; raises ``AssertionError`` on a difference, an error answer
    or a server that does not start.
    """
    from mlserve.codecs import encode_predictions

    want = json.loads(encode_predictions(expected))["predictions"]
    with serve_model(
        model_uri, workers=workers, extra_args=extra_args, env=env, timeout=timeout
    ) as served:
        got = served.predictions(payload_for(data), timeout=timeout)
    _assert_json_close(got, want, rtol, "served predictions")
    return got
