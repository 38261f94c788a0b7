"""MLflow's database store, ``sqlite:///mlflow.db``, read with the standard library's ``sqlite3``.

The database is opened read-only (``mode=ro``), one short connection per question, so mlserve
never takes a write lock MLflow could wait on. Columns that some MLflow versions lack
(``storage_location``, ``workspace``, the ``logged_models`` and alias tables) are looked up once
and used only when present. ``MLFLOW_WORKSPACE`` selects a workspace where the database has them
(default ``default``).
"""

from __future__ import annotations

import os
import sqlite3
from collections.abc import Iterator
from contextlib import closing, contextmanager
from functools import cached_property
from pathlib import Path
from typing import Any

from mlserve.errors import StoreError
from mlserve.store._locations import StoreLocation
from mlserve.store._mlflow._artifacts import fetch_artifacts
from mlserve.store._mlflow._reader import _DELETED, MlflowReader
from mlserve.store._records import ModelVersion, RegisteredModel

__all__ = ["SqliteReader"]

_REQUIRED = ("registered_models", "model_versions", "runs")


class SqliteReader(MlflowReader):
    """An MLflow ``mlflow.db`` (any MLflow 2.x or 3.x schema), read-only."""

    def __init__(self, location: StoreLocation) -> None:
        super().__init__(location)
        assert location.path is not None
        self.path = location.path
        if not self.path.is_file():
            raise StoreError(self.where, "there is no database file at this path")
        missing = [t for t in _REQUIRED if t not in self._tables]
        if missing:
            raise StoreError(
                self.where, f"not an MLflow tracking database (no table {', '.join(missing)})"
            )

    @contextmanager
    def _db(self) -> Iterator[sqlite3.Connection]:
        try:
            with closing(sqlite3.connect(f"{self.path.as_uri()}?mode=ro", uri=True)) as conn:
                yield conn
        except sqlite3.Error as exc:
            raise StoreError(self.where, f"the database cannot be read ({exc})") from exc

    def _rows(self, sql: str, *args: Any) -> list[tuple[Any, ...]]:
        with self._db() as conn:
            try:
                return conn.execute(sql, args).fetchall()
            except sqlite3.Error as exc:
                raise StoreError(self.where, f"the database cannot be read ({exc})") from exc

    @cached_property
    def _tables(self) -> dict[str, set[str]]:
        """``{table: columns}`` of the tables this reader may use."""
        names = [r[0] for r in self._rows("SELECT name FROM sqlite_master WHERE type = 'table'")]
        wanted = {*_REQUIRED, "registered_model_tags", "model_version_tags"}
        wanted |= {"registered_model_aliases", "logged_models"}
        return {
            n: {r[1] for r in self._rows(f'PRAGMA table_info("{n}")')} for n in names if n in wanted
        }

    def _scope(self, table: str) -> tuple[str, tuple[Any, ...]]:
        """`` AND workspace = ?`` where the table has workspaces (MLflow 3.x), else nothing."""
        if "workspace" in self._tables.get(table, set()):
            return " AND workspace = ?", (os.environ.get("MLFLOW_WORKSPACE", "") or "default",)
        return "", ()

    # -- registry ------------------------------------------------------------------------------

    def model_names(self) -> list[str]:
        scope, args = self._scope("registered_models")
        rows = self._rows(f"SELECT name FROM registered_models WHERE 1 = 1{scope}", *args)
        return sorted(str(r[0]) for r in rows)

    def registered_model(self, name: str) -> RegisteredModel | None:
        scope, args = self._scope("registered_models")
        rows = self._rows(
            "SELECT creation_time, last_updated_time, description FROM registered_models "
            f"WHERE name = ?{scope}",
            name,
            *args,
        )
        if not rows:
            return None
        created, updated, description = rows[0]
        aliases: dict[str, int] = {}
        if "registered_model_aliases" in self._tables:
            scope, args = self._scope("registered_model_aliases")
            for alias, version in self._rows(
                f"SELECT alias, version FROM registered_model_aliases WHERE name = ?{scope}",
                name,
                *args,
            ):
                aliases[str(alias)] = int(version)
        return RegisteredModel(
            name=name,
            creation_timestamp=int(created or 0),
            last_updated_timestamp=int(updated or created or 0),
            description=str(description or ""),
            tags=self._tags("registered_model_tags", "name = ?", name),
            aliases=aliases,
        )

    def _tags(self, table: str, where: str, *args: Any) -> dict[str, str]:
        if table not in self._tables:
            return {}
        scope, extra = self._scope(table)
        rows = self._rows(f"SELECT key, value FROM {table} WHERE {where}{scope}", *args, *extra)
        return {str(k): "" if v is None else str(v) for k, v in rows}

    def versions(self, name: str) -> list[ModelVersion]:
        columns = self._tables["model_versions"]
        storage = "storage_location" if "storage_location" in columns else "NULL"
        scope, args = self._scope("model_versions")
        rows = self._rows(
            "SELECT version, creation_time, last_updated_time, description, current_stage, "
            f"source, run_id, status, {storage} FROM model_versions WHERE name = ?{scope}",
            name,
            *args,
        )
        model = self.registered_model(name)
        aliases = model.aliases if model is not None else {}
        found = []
        for number, created, updated, description, stage, source, run_id, status, where in rows:
            if str(stage or "").lower() == _DELETED:
                continue
            version = int(number)
            found.append(
                ModelVersion(
                    name=name,
                    version=version,
                    source=str(source or ""),
                    storage_location=str(where or ""),
                    run_id=str(run_id) if run_id else None,
                    creation_timestamp=int(created or 0),
                    last_updated_timestamp=int(updated or created or 0),
                    description=str(description or ""),
                    tags=self._tags(
                        "model_version_tags", "name = ? AND version = ?", name, version
                    ),
                    aliases=tuple(sorted(a for a, v in aliases.items() if v == version)),
                    status=str(status or "READY"),
                    current_stage=str(stage or "None"),
                )
            )
        return found

    # -- runs and logged models ----------------------------------------------------------------

    def run_artifact_uri(self, run_id: str) -> str | None:
        rows = self._rows("SELECT artifact_uri FROM runs WHERE run_uuid = ?", run_id)
        return str(rows[0][0]) if rows and rows[0][0] else None

    def logged_model_uri(self, model_id: str) -> str | None:
        if "logged_models" not in self._tables:
            return None
        rows = self._rows(
            "SELECT artifact_location FROM logged_models WHERE model_id = ?", model_id
        )
        return str(rows[0][0]) if rows and rows[0][0] else None

    def run_logged_model_uri(self, run_id: str, name: str) -> str | None:
        if "logged_models" not in self._tables:
            return None
        rows = self._rows(
            "SELECT artifact_location FROM logged_models WHERE source_run_id = ? AND name = ? "
            "ORDER BY creation_timestamp_ms DESC",
            run_id,
            name,
        )
        return str(rows[0][0]) if rows and rows[0][0] else None

    def fetch(self, artifact_uri: str) -> Path:
        # relative locations (MLflow's old default "./mlruns") are relative to where MLflow ran:
        # usually the database's own directory, else the current one
        bases = [self.path.parent, Path.cwd()]
        return fetch_artifacts(artifact_uri, bases=bases, server=None, where=self.where)
