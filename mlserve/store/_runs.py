"""Runs: a record of one training session and the models it logged.

On disk (keys relative to the tracking root)::

    runs/<run_id>/run.yaml                   run_id, run_name, times, status, params, tags
    runs/<run_id>/artifacts/<path>/MLmodel   logged models, each published atomically

A run is written by the process that owns it; ``run.yaml`` is replaced atomically on each change,
so readers in other processes see either the old or the new record.
"""

from __future__ import annotations

import os
import uuid
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from mlserve.errors import ArtifactNotFound, InvalidParameterValue, RunNotFound
from mlserve.store._artifacts import ArtifactStore, LocalArtifactStore
from mlserve.store._files import now_ms, read_yaml, str_dict, write_yaml
from mlserve.store._names import validate_artifact_path, validate_run_id
from mlserve.store._tracking import resolve_tracking_root

__all__ = ["RUN_STATUSES", "Run", "RunData", "RunInfo", "RunStore"]

RUN_STATUSES = ("RUNNING", "FINISHED", "FAILED", "KILLED")
_RUNS = "runs"
_MLMODEL = "MLmodel"


@dataclass(frozen=True)
class RunInfo:
    """A run's identity and lifecycle: times are milliseconds since the epoch."""

    run_id: str
    run_name: str
    start_time: int
    end_time: int | None = None
    status: str = "RUNNING"
    artifact_uri: str = ""


@dataclass(frozen=True)
class RunData:
    """What was recorded in a run: ``params`` and ``tags``, both ``{str: str}``."""

    params: dict[str, str] = field(default_factory=dict)
    tags: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class Run:
    """A snapshot of a run, shaped like MLflow's: ``run.info.run_id``, ``run.data.params``."""

    info: RunInfo
    data: RunData

    def to_dict(self) -> dict[str, Any]:
        """The ``run.yaml`` form (``artifact_uri`` is derived, not stored)."""
        i = self.info
        return {
            "run_id": i.run_id,
            "run_name": i.run_name,
            "start_time": i.start_time,
            "end_time": i.end_time,
            "status": i.status,
            "params": dict(self.data.params),
            "tags": dict(self.data.tags),
        }


class RunStore:
    """Create, read and update runs in one tracking store."""

    def __init__(self, store: ArtifactStore) -> None:
        self.store = store

    @classmethod
    def at(cls, tracking_uri: str | os.PathLike[str] | None = None) -> RunStore:
        """The run store at ``tracking_uri`` (default: the tracking location in effect)."""
        return cls(LocalArtifactStore(resolve_tracking_root(tracking_uri)))

    def _key(self, run_id: str, *rest: str) -> str:
        return "/".join([_RUNS, validate_run_id(run_id), *rest])

    def _from_dict(self, data: dict[str, Any]) -> Run:
        run_id = str(data["run_id"])
        info = RunInfo(
            run_id=run_id,
            run_name=str(data.get("run_name") or run_id),
            start_time=int(data["start_time"]),
            end_time=None if data.get("end_time") is None else int(data["end_time"]),
            status=str(data.get("status", "RUNNING")),
            artifact_uri=f"{self.store.uri}/{self._key(run_id, 'artifacts')}",
        )
        return Run(info, RunData(str_dict(data.get("params")), str_dict(data.get("tags"))))

    def create_run(self, run_name: str | None = None, tags: dict[str, Any] | None = None) -> Run:
        """Create a RUNNING run with a fresh id and write its ``run.yaml``."""
        run_id = uuid.uuid4().hex
        run = self._from_dict(
            {
                "run_id": run_id,
                "run_name": run_name or f"run-{run_id[:8]}",
                "start_time": now_ms(),
                "tags": str_dict(tags),
            }
        )
        write_yaml(self.store, self._key(run_id, "run.yaml"), run.to_dict())
        return run

    def get_run(self, run_id: str) -> Run:
        """Read a run; ``RunNotFound`` if it does not exist, ``InvalidName`` for a bad id."""
        data = read_yaml(self.store, self._key(run_id, "run.yaml"))
        if data is None:
            raise RunNotFound(run_id, self.store.uri)
        return self._from_dict(data)

    def list_runs(self) -> list[Run]:
        """Every run in the store, oldest first."""
        runs = []
        for run_id in self.store.list_dir(_RUNS):
            try:
                runs.append(self.get_run(run_id))
            except (RunNotFound, InvalidParameterValue):
                continue  # a directory that is not a run (or not yet one)
        return sorted(runs, key=lambda r: (r.info.start_time, r.info.run_id))

    def _save(self, run: Run) -> Run:
        write_yaml(self.store, self._key(run.info.run_id, "run.yaml"), run.to_dict())
        return run

    def log_param(self, run_id: str, key: str, value: object) -> Run:
        """Record a parameter (stored as a string); params are write-once, as in MLflow.

        Logging the same value again is fine; a different value raises ``InvalidParameterValue``.
        """
        run = self.get_run(run_id)
        key, text = str(key), str(value)
        old = run.data.params.get(key)
        if old is not None and old != text:
            raise InvalidParameterValue(
                f"Param {key!r} of run {run_id!r} is already {old!r}; params cannot change."
            )
        params = {**run.data.params, key: text}
        return self._save(replace(run, data=replace(run.data, params=params)))

    def set_tag(self, run_id: str, key: str, value: object) -> Run:
        """Set (or overwrite) a tag on a run."""
        run = self.get_run(run_id)
        tags = {**run.data.tags, str(key): str(value)}
        return self._save(replace(run, data=replace(run.data, tags=tags)))

    def set_terminated(self, run_id: str, status: str = "FINISHED") -> Run:
        """Mark a run FINISHED, FAILED or KILLED and record its end time."""
        if status not in RUN_STATUSES[1:]:
            raise InvalidParameterValue(
                f"Invalid end status {status!r}; expected one of {', '.join(RUN_STATUSES[1:])}."
            )
        run = self.get_run(run_id)
        info = replace(run.info, status=status, end_time=now_ms())
        return self._save(replace(run, info=info))

    def artifact_key(self, run_id: str, artifact_path: str) -> str:
        """The store key of an artifact of a run (names validated, nothing touched)."""
        return self._key(run_id, "artifacts", validate_artifact_path(artifact_path))

    def list_artifacts(self, run_id: str) -> list[str]:
        """Top-level artifact names of a run (raises ``RunNotFound`` for an unknown run)."""
        self.get_run(run_id)
        return self.store.list_dir(self._key(run_id, "artifacts"))

    def artifact_dir(self, run_id: str, artifact_path: str) -> Path:
        """The local directory of a model logged in a run.

        Raises ``RunNotFound`` for an unknown run and ``ArtifactNotFound`` (naming the run's
        artifacts) when there is no MLmodel file at ``artifact_path``.
        """
        key = self.artifact_key(run_id, artifact_path)
        self.get_run(run_id)
        if not self.store.exists(f"{key}/{_MLMODEL}"):
            logged = ", ".join(self.list_artifacts(run_id)) or "none"
            raise ArtifactNotFound(f"runs:/{run_id}/{artifact_path} (run artifacts: {logged})")
        return self.store.local_path(key)
