"""Cut the Deployment and Service schemas (with every definition they reach) out of
kubernetes-validate's strict JSON schemas for one Kubernetes version; see README.md.

    python make_kubernetes_schema.py DEFINITIONS_JSON OUT.json.gz
"""

from __future__ import annotations

import gzip
import json
import re
import sys

ROOTS = ["io.k8s.api.apps.v1.Deployment", "io.k8s.api.core.v1.Service"]


def main(source: str, out: str) -> None:
    with open(source, encoding="utf-8") as f:
        document = json.load(f)
    definitions = document["$defs"]
    seen: set[str] = set()
    todo = list(ROOTS)
    while todo:
        name = todo.pop()
        if name not in seen:
            seen.add(name)
            todo += re.findall(r'"\$ref": "#/\$defs/([^"]+)"', json.dumps(definitions[name]))
    cut = {"$schema": document["$schema"], "$defs": {k: definitions[k] for k in sorted(seen)}}
    with open(out, "wb") as raw, gzip.GzipFile("", "wb", fileobj=raw, mtime=0) as f:
        f.write(json.dumps(cut, indent=1, sort_keys=True).encode())


if __name__ == "__main__":
    main(*sys.argv[1:3])
