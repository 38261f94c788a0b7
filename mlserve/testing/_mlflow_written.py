"""``MLmodel`` files as MLflow writes them: written, for tests that load models MLflow saved
(through the fixed ``loader_module`` table) without MLflow installed, and checked, for tests
that a flavor saves what MLflow reads back."""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import yaml

from mlserve.mlmodel import MLMODEL_FILE_NAME

__all__ = ["check_mlflow_sections", "write_mlflow_mlmodel"]

# the top-level keys MLflow writes for every model; their values are placeholders of the right
# shape (a uuid's 32 hex digits, a run id, MLflow's time format)
_IDENTITY = {
    "artifact_path": "model",
    "model_uuid": "4a3c0a2f4c2b4a0e9a1d2c3b4a5f6e7d",
    "run_id": "0123456789abcdef0123456789abcdef",
    "utc_time_created": "2024-10-01 12:00:00.000000",
}


def write_mlflow_mlmodel(
    path: str | os.PathLike[str],
    flavor: str,
    section: Mapping[str, Any],
    *,
    data: str | None = None,
    pyfunc: Mapping[str, Any] | None = None,
    mlflow_version: str = "2.17.0",
    **fields: Any,
) -> dict[str, Any]:
    """Write ``MLmodel`` into the model directory ``path`` as ``mlflow.<flavor>`` writes it, and
    return what was written.

    The file has MLflow's top-level keys (``artifact_path``, ``model_uuid``, ``run_id``,
    ``utc_time_created``, ``mlflow_version``), the flavor's ``section`` under ``flavor``, and a
    ``python_function`` section with ``loader_module: mlflow.<flavor>``, MLflow's ``env`` files
    and a ``python_version``; ``data`` (the model file or folder) goes into it when given, and
    ``pyfunc`` adds or replaces its keys. ``fields`` are further top-level keys
    (``signature``, ``model_size_bytes``, ...). The model files themselves are the caller's: write
    them with the framework, which is all MLflow does too.
    """
    python_function: dict[str, Any] = {
        **({"data": data} if data is not None else {}),
        "env": {"conda": "conda.yaml", "virtualenv": "python_env.yaml"},
        "loader_module": f"mlflow.{flavor}",
        "python_version": "3.11.7",
        **(pyfunc or {}),
    }
    mlmodel = {
        **_IDENTITY,
        "flavors": {flavor: dict(section), "python_function": python_function},
        "mlflow_version": mlflow_version,
        **fields,
    }
    directory = Path(path)
    directory.mkdir(parents=True, exist_ok=True)
    (directory / MLMODEL_FILE_NAME).write_text(yaml.safe_dump(mlmodel), encoding="utf-8")
    return mlmodel


def check_mlflow_sections(
    path: str | os.PathLike[str],
    flavor: str,
    section: Mapping[str, Any],
    *,
    pyfunc: Mapping[str, Any] | None = None,
    exact: bool = False,
) -> dict[str, Any]:
    """The ``MLmodel`` a flavor saved at ``path`` is laid out as ``mlflow.<flavor>`` writes it,
    so MLflow loads the model back: the ``flavor`` section holds the items of ``section`` (and
    nothing else when ``exact``), and the ``python_function`` section names
    ``loader_module: mlflow.<flavor>`` and holds the items of ``pyfunc``. Returns the parsed
    ``MLmodel`` for further assertions."""
    mlmodel = yaml.safe_load((Path(path) / MLMODEL_FILE_NAME).read_text(encoding="utf-8"))
    flavors = mlmodel.get("flavors") or {}
    assert flavor in flavors, f"MLmodel has no {flavor!r} section, only {sorted(flavors)}"
    own = flavors[flavor]
    if exact:
        assert own == dict(section), f"the {flavor!r} section is {own}, not {dict(section)}"
    wrong = _differences(own, section)
    assert not wrong, f"the {flavor!r} section has {wrong}, where MLflow writes {dict(section)}"
    expected = {"loader_module": f"mlflow.{flavor}", **(pyfunc or {})}
    wrong = _differences(flavors.get("python_function") or {}, expected)
    assert not wrong, f"the python_function section has {wrong}, where MLflow writes {expected}"
    return mlmodel


def _differences(found: Mapping[str, Any], expected: Mapping[str, Any]) -> dict[str, Any]:
    """What ``found`` holds (or ``<missing>``) for each key whose value is not the expected."""
    missing = object()
    return {
        key: "<missing>" if found.get(key, missing) is missing else found[key]
        for key, value in expected.items()
        if found.get(key, missing) != value
    }
