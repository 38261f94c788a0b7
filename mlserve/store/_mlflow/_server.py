"""An MLflow tracking server, read through its public REST API (``/api/2.0/mlflow/...``).

Only documented endpoints: ``registered-models/get`` and ``/search``, ``model-versions/search``,
``model-versions/get-download-uri``, ``runs/get``, ``logged-models/<id>`` and
``logged-models/search``. Artifacts come through the server's proxy
(``mlflow server --serve-artifacts``) into the local cache, or are read in place when the server
hands out a local path this machine can see.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from mlserve.store._locations import StoreLocation
from mlserve.store._mlflow._artifacts import fetch_artifacts
from mlserve.store._mlflow._http import TrackingServer
from mlserve.store._mlflow._reader import _DELETED, MlflowReader
from mlserve.store._records import ModelVersion, RegisteredModel

__all__ = ["ServerReader"]

_PAGE = 1000


def _quoted(value: str) -> str:
    """A string literal for MLflow's search filter grammar."""
    return "'" + value.replace("\\", "\\\\").replace("'", "\\'") + "'"


def _tags(items: Any) -> dict[str, str]:
    return {str(t["key"]): str(t.get("value", "")) for t in items or [] if "key" in t}


class ServerReader(MlflowReader):
    """An MLflow tracking server at ``location.uri``."""

    def __init__(self, location: StoreLocation) -> None:
        super().__init__(location)
        self.server = TrackingServer(location.uri)

    def model_names(self) -> list[str]:
        names: list[str] = []
        token = None
        while True:
            page = (
                self.server.get("registered-models/search", max_results=_PAGE, page_token=token)
                or {}
            )
            names.extend(str(m["name"]) for m in page.get("registered_models", []))
            token = page.get("next_page_token")
            if not token:
                return sorted(names)

    def registered_model(self, name: str) -> RegisteredModel | None:
        answer = self.server.get("registered-models/get", name=name)
        if answer is None:
            return None
        model = answer.get("registered_model", {})
        created = int(model.get("creation_timestamp") or 0)
        return RegisteredModel(
            name=name,
            creation_timestamp=created,
            last_updated_timestamp=int(model.get("last_updated_timestamp") or created),
            description=str(model.get("description") or ""),
            tags=_tags(model.get("tags")),
            aliases={str(a["alias"]): int(a["version"]) for a in model.get("aliases", [])},
        )

    def versions(self, name: str) -> list[ModelVersion]:
        found: list[ModelVersion] = []
        token = None
        while True:
            page = (
                self.server.get(
                    "model-versions/search",
                    filter=f"name = {_quoted(name)}",
                    max_results=_PAGE,
                    page_token=token,
                )
                or {}
            )
            found.extend(self._version(v) for v in page.get("model_versions", []))
            token = page.get("next_page_token")
            if not token:
                return [v for v in found if v.current_stage.lower() != _DELETED]

    @staticmethod
    def _version(v: dict[str, Any]) -> ModelVersion:
        created = int(v.get("creation_timestamp") or 0)
        return ModelVersion(
            name=str(v["name"]),
            version=int(v["version"]),
            source=str(v.get("source") or ""),
            storage_location=str(v.get("storage_location") or ""),
            run_id=str(v["run_id"]) if v.get("run_id") else None,
            creation_timestamp=created,
            last_updated_timestamp=int(v.get("last_updated_timestamp") or created),
            description=str(v.get("description") or ""),
            tags=_tags(v.get("tags")),
            aliases=tuple(sorted(str(a) for a in v.get("aliases", []))),
            status=str(v.get("status") or "READY"),
            current_stage=str(v.get("current_stage") or "None"),
        )

    def version_download_uri(self, version: ModelVersion) -> str:
        # the server knows where a version's artifacts are served from; ask it, as MLflow does
        answer = self.server.get(
            "model-versions/get-download-uri", name=version.name, version=str(version.version)
        )
        uri = (answer or {}).get("artifact_uri")
        return str(uri) if uri else super().version_download_uri(version)

    def _run(self, run_id: str) -> dict[str, Any] | None:
        answer = self.server.get("runs/get", run_id=run_id)
        return None if answer is None else answer.get("run", {}).get("info", {})

    def run_artifact_uri(self, run_id: str) -> str | None:
        info = self._run(run_id)
        return str(info["artifact_uri"]) if info and info.get("artifact_uri") else None

    def logged_model_uri(self, model_id: str) -> str | None:
        answer = self.server.get(f"logged-models/{model_id}")
        info = (answer or {}).get("model", {}).get("info", {})
        return str(info["artifact_uri"]) if info.get("artifact_uri") else None

    def run_logged_model_uri(self, run_id: str, name: str) -> str | None:
        info = self._run(run_id)
        if not info:
            return None
        answer = self.server.post(
            "logged-models/search",
            {"experiment_ids": [str(info["experiment_id"])], "filter": f"name = {_quoted(name)}"},
        )
        for model in (answer or {}).get("models", []):
            found = model.get("info", {})
            if found.get("source_run_id") == run_id and found.get("artifact_uri"):
                return str(found["artifact_uri"])
        return None

    def fetch(self, artifact_uri: str) -> Path:
        return fetch_artifacts(
            artifact_uri, bases=[Path.cwd()], server=self.server, where=self.where
        )
