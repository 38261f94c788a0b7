"""A small client for an MLflow tracking server: its REST API and its artifact proxy.

Standard library only (``urllib``), with the environment variables MLflow's own client reads:
``MLFLOW_TRACKING_TOKEN`` (bearer token), ``MLFLOW_TRACKING_USERNAME`` and
``MLFLOW_TRACKING_PASSWORD`` (basic auth), ``MLFLOW_TRACKING_INSECURE_TLS`` (no certificate
checks), ``MLFLOW_TRACKING_SERVER_CERT_PATH`` (a CA bundle) and ``MLFLOW_HTTP_REQUEST_TIMEOUT``
(seconds).
Every failure becomes a :class:`~mlserve.errors.StoreError` naming the server and what to do;
a 404 with ``RESOURCE_DOES_NOT_EXIST`` becomes ``None`` for the caller to name what is missing.
"""

from __future__ import annotations

import base64
import json
import os
import shutil
import ssl
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlencode

from mlserve.errors import ArtifactNotFound, StoreError

__all__ = ["TrackingServer"]

_API = "/api/2.0/mlflow/"
_ARTIFACTS = "/api/2.0/mlflow-artifacts/artifacts"
_DEFAULT_TIMEOUT = 60.0
_CHUNK = 1 << 20


def _timeout() -> float:
    raw = os.environ.get("MLFLOW_HTTP_REQUEST_TIMEOUT", "").strip()
    try:
        return float(raw) if raw else _DEFAULT_TIMEOUT
    except ValueError:
        return _DEFAULT_TIMEOUT


def _headers() -> dict[str, str]:
    headers = {"Accept": "application/json", "User-Agent": "mlserve"}
    token = os.environ.get("MLFLOW_TRACKING_TOKEN", "")
    user = os.environ.get("MLFLOW_TRACKING_USERNAME", "")
    password = os.environ.get("MLFLOW_TRACKING_PASSWORD", "")
    if token:
        headers["Authorization"] = f"Bearer {token}"
    elif user or password:
        pair = base64.b64encode(f"{user}:{password}".encode()).decode("ascii")
        headers["Authorization"] = f"Basic {pair}"
    return headers


def _tls_context() -> ssl.SSLContext | None:
    if os.environ.get("MLFLOW_TRACKING_INSECURE_TLS", "").strip().lower() in ("true", "1"):
        context = ssl.create_default_context()
        context.check_hostname = False
        context.verify_mode = ssl.CERT_NONE
        return context
    cafile = os.environ.get("MLFLOW_TRACKING_SERVER_CERT_PATH", "").strip()
    return ssl.create_default_context(cafile=cafile) if cafile else None


class TrackingServer:
    """One MLflow tracking server at ``base_url`` (``http(s)://host:port[/prefix]``)."""

    def __init__(self, base_url: str) -> None:
        self.base_url = base_url.rstrip("/")
        self.where = f"MLflow tracking server {self.base_url}"

    def _open(self, url: str, body: bytes | None = None) -> Any:
        headers = _headers()
        if body is not None:
            headers["Content-Type"] = "application/json"
        request = urllib.request.Request(url, data=body, headers=headers)
        try:
            return urllib.request.urlopen(request, timeout=_timeout(), context=_tls_context())
        except urllib.error.HTTPError as exc:
            raise self._http_error(exc) from exc
        except (urllib.error.URLError, TimeoutError, ConnectionError) as exc:
            reason = getattr(exc, "reason", exc)
            raise StoreError(
                self.where,
                f"no answer ({reason}); check that it runs and that the tracking URI is right",
            ) from exc

    def _http_error(self, exc: urllib.error.HTTPError) -> Exception:
        try:
            payload = json.loads(exc.read(65536) or b"{}")
        except (ValueError, OSError):
            payload = {}
        code = payload.get("error_code", "") if isinstance(payload, dict) else ""
        if exc.code == 404 or code == "RESOURCE_DOES_NOT_EXIST":
            return _NotFound(exc.code)
        if exc.code in (401, 403):
            return StoreError(
                self.where,
                f"HTTP {exc.code}: the server refused the credentials; set MLFLOW_TRACKING_TOKEN, "
                "or MLFLOW_TRACKING_USERNAME and MLFLOW_TRACKING_PASSWORD",
            )
        detail = f" ({code})" if code else ""
        return StoreError(self.where, f"HTTP {exc.code}{detail} from {exc.url}")

    def get(self, endpoint: str, **params: Any) -> dict[str, Any] | None:
        """``GET /api/2.0/mlflow/<endpoint>``; ``None`` when the server says it does not exist."""
        query = urlencode({k: v for k, v in params.items() if v is not None})
        return self._json(f"{self.base_url}{_API}{endpoint}" + (f"?{query}" if query else ""))

    def post(self, endpoint: str, payload: dict[str, Any]) -> dict[str, Any] | None:
        """``POST /api/2.0/mlflow/<endpoint>`` with a JSON body (for search calls)."""
        return self._json(f"{self.base_url}{_API}{endpoint}", json.dumps(payload).encode())

    def _json(self, url: str, body: bytes | None = None) -> dict[str, Any] | None:
        try:
            with self._open(url, body) as response:
                raw = response.read()
        except _NotFound:
            return None
        try:
            data = json.loads(raw or b"{}")
        except ValueError as exc:
            raise StoreError(self.where, f"{url} did not answer JSON") from exc
        if not isinstance(data, dict):
            raise StoreError(self.where, f"{url} answered {type(data).__name__}, not an object")
        return data

    # -- the artifact proxy (mlflow server --serve-artifacts) ----------------------------------

    def download_tree(self, root: str, dest: Path, proxy_base: str | None = None) -> None:
        """Download every file under ``root`` (a path of the proxy) into ``dest``.

        Each file's size is checked against the listing, so a truncated transfer is an error,
        not a model. ``proxy_base`` is another server's base URL for ``mlflow-artifacts://host``.
        """
        base = (proxy_base or self.base_url).rstrip("/") + _ARTIFACTS
        files = self._walk(base, root.strip("/"), "")
        if not files:
            raise ArtifactNotFound(f"mlflow-artifacts:/{root.strip('/')} on {self.where}")
        for rel, size in files:
            target = dest.joinpath(*rel.split("/"))
            target.parent.mkdir(parents=True, exist_ok=True)
            url = f"{base}/{quote(root.strip('/') + '/' + rel)}"
            try:
                with self._open(url) as response, open(target, "wb") as out:
                    shutil.copyfileobj(response, out, _CHUNK)
            except _NotFound:
                raise ArtifactNotFound(f"{url} on {self.where}") from None
            got = target.stat().st_size
            if size is not None and got != size:
                raise StoreError(self.where, f"{rel}: got {got} bytes, the listing says {size}")

    def _walk(self, base: str, root: str, rel: str) -> list[tuple[str, int | None]]:
        path = f"{root}/{rel}".strip("/")
        listing = self._json(f"{base}?{urlencode({'path': path})}")
        found: list[tuple[str, int | None]] = []
        for entry in (listing or {}).get("files", []):
            name = str(entry.get("path", "")).rsplit("/", 1)[-1]
            if name in ("", ".", "..") or "\\" in name:
                raise StoreError(self.where, f"the artifact listing names {name!r}")
            child = f"{rel}/{name}".strip("/")
            if entry.get("is_dir"):
                found.extend(self._walk(base, root, child))
            else:
                size = entry.get("file_size")
                found.append((child, None if size is None else int(size)))
        return found


class _NotFound(Exception):
    """Internal: the server answered 404 / RESOURCE_DOES_NOT_EXIST."""

    def __init__(self, status: int) -> None:
        super().__init__(status)
        self.status = status
