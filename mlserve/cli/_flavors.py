"""``mlserve flavors``: which flavors are installed, from which distribution, and which are broken.

Broken entry points (an import error, the wrong shape) and names claimed by two distributions
are listed with the reason, so a plugin problem is diagnosed without a traceback. The exit code
is 0 when every flavor is usable and 1 otherwise (useful in a deployment's health check).
"""

from __future__ import annotations

import argparse
import json
from typing import Any

from mlserve._flavor import list_flavors

__all__ = ["add_parser"]


def add_parser(subparsers: Any) -> argparse.ArgumentParser:
    """Register ``mlserve flavors`` on the ``mlserve`` sub-parsers."""
    parser: argparse.ArgumentParser = subparsers.add_parser(
        "flavors",
        help="list installed model flavors and broken flavor plugins",
        description="List the flavors found under the 'mlserve.flavors' entry-point group.",
    )
    parser.add_argument("--json", action="store_true", help="print JSON instead of a table")
    parser.set_defaults(func=_run)
    return parser


def _run(args: argparse.Namespace) -> int:
    infos = list_flavors()
    rows = [
        {
            "name": i.name,
            "distribution": i.distribution,
            "version": i.version,
            "entry_point": i.entry_point,
            "status": "ok" if i.ok else "broken",
            "reason": None if i.error is None else str(i.error),
        }
        for i in infos
    ]
    if args.json:
        print(json.dumps(rows, indent=2))
    else:
        _print_table(rows)
    return 0 if all(r["status"] == "ok" for r in rows) else 1


def _print_table(rows: list[dict[str, Any]]) -> None:
    if not rows:
        print("No flavors installed.")
        return
    headers = ("NAME", "DISTRIBUTION", "VERSION", "ENTRY POINT")
    table = [(r["name"], r["distribution"], r["version"], r["entry_point"]) for r in rows]
    widths = [max(len(h), *(len(str(t[i])) for t in table)) for i, h in enumerate(headers)]
    print("  ".join(h.ljust(w) for h, w in zip(headers, widths, strict=True)).rstrip())
    for row, data in zip(table, rows, strict=True):
        print("  ".join(str(c).ljust(w) for c, w in zip(row, widths, strict=True)).rstrip())
        if data["reason"]:
            print(f"  broken: {data['reason']}")
