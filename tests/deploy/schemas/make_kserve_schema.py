"""Turn the v1beta1 ``openAPIV3Schema`` of KServe's InferenceService CRD into a strict JSON
schema (as kubeconform's ``-strict``: a field the CRD does not declare is an error); see
README.md.

    python make_kserve_schema.py serving.kserve.io_inferenceservices.yaml OUT.json.gz
"""

from __future__ import annotations

import gzip
import json
import sys
from typing import Any

import yaml


def strict(node: Any) -> Any:
    """OpenAPI v3 (Kubernetes dialect) -> JSON schema 2020-12, unknown properties refused."""
    if isinstance(node, list):
        return [strict(n) for n in node]
    if not isinstance(node, dict):
        return node
    out = {k: strict(v) for k, v in node.items()}
    if out.pop("nullable", False) and "type" in out:
        out["type"] = [out["type"], "null"]
    if out.pop("x-kubernetes-int-or-string", False):
        out.pop("type", None)
        out["anyOf"] = [{"type": "integer"}, {"type": "string"}]
    preserve = out.get("x-kubernetes-preserve-unknown-fields")
    if "properties" in out and "additionalProperties" not in out and not preserve:
        out["additionalProperties"] = False
    return out


def main(source: str, out: str) -> None:
    with open(source, encoding="utf-8") as f:
        crd = yaml.safe_load(f)
    (version,) = [v for v in crd["spec"]["versions"] if v["name"] == "v1beta1"]
    schema = strict(version["schema"]["openAPIV3Schema"])
    schema["$schema"] = "https://json-schema.org/draft/2020-12/schema"
    # what the API server checks before the CRD's schema: the kind and version, a metadata
    schema["properties"]["apiVersion"]["enum"] = ["serving.kserve.io/v1beta1"]
    schema["properties"]["kind"]["enum"] = ["InferenceService"]
    schema["required"] = ["apiVersion", "kind", "metadata", "spec"]
    with open(out, "wb") as raw, gzip.GzipFile("", "wb", fileobj=raw, mtime=0) as f:
        f.write(json.dumps(schema, indent=1, sort_keys=True).encode())


if __name__ == "__main__":
    main(*sys.argv[1:3])
