"""Validators for the vendored Kubernetes and KServe JSON schemas (see schemas/README.md)."""

from __future__ import annotations

import gzip
import json
from functools import cache
from pathlib import Path
from typing import Any

from jsonschema import Draft202012Validator

SCHEMAS = Path(__file__).resolve().parent / "schemas"
KUBERNETES = SCHEMAS / "kubernetes-v1.33.0-strict.json.gz"
KSERVE = SCHEMAS / "kserve-v0.20.0-inferenceservice-v1beta1-strict.json.gz"


@cache
def _load(path: Path) -> dict[str, Any]:
    loaded: dict[str, Any] = json.loads(gzip.decompress(path.read_bytes()))
    return loaded


def kubernetes(definition: str) -> Draft202012Validator:
    """A validator for one Kubernetes definition, e.g. ``io.k8s.api.apps.v1.Deployment``."""
    document = _load(KUBERNETES)
    schema = {
        "$schema": document["$schema"],
        "$ref": f"#/$defs/{definition}",
        "$defs": document["$defs"],
    }
    return Draft202012Validator(schema)


def inference_service() -> Draft202012Validator:
    """A validator for KServe's ``serving.kserve.io/v1beta1`` InferenceService."""
    return Draft202012Validator(_load(KSERVE))


def errors(validator: Draft202012Validator, document: Any) -> list[str]:
    """Every schema violation of ``document``, as ``path: message`` lines."""
    return [
        f"{'/'.join(str(p) for p in error.absolute_path)}: {error.message}"
        for error in validator.iter_errors(document)
    ]
