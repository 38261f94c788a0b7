"""``mlserve models ...``: inspect and manage the model registry from the command line.

Sub-commands: ``list``, ``versions NAME``, ``register URI NAME``, ``alias NAME ALIAS VERSION``,
``delete-alias NAME ALIAS``, ``resolve URI`` and ``import URI`` (copy versions from one of
MLflow's stores). Each takes ``--tracking-uri`` (default: the tracking location in effect, see
``docs/tracking.md``) and the listing ones ``--json`` for scripts.
"""

from __future__ import annotations

import argparse
import contextlib
import json
from collections.abc import Sequence
from datetime import datetime, timezone
from typing import Any

__all__ = ["add_parser"]


def add_parser(subparsers: Any) -> argparse.ArgumentParser:
    """Register ``mlserve models`` and its sub-commands on the ``mlserve`` sub-parsers."""
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument(
        "--tracking-uri",
        metavar="URI",
        default=None,
        help="mlserve store directory (resolve also reads sqlite:///..., MLflow's file store and "
        "http(s):// tracking servers); default: $MLSERVE_TRACKING_URI, $MLFLOW_TRACKING_URI, "
        "./mlserve-store",
    )
    as_json = argparse.ArgumentParser(add_help=False)
    as_json.add_argument("--json", action="store_true", help="print JSON instead of a table")

    parser: argparse.ArgumentParser = subparsers.add_parser(
        "models",
        help="list registered models, versions and aliases",
        description="Inspect and manage the model registry of a tracking store.",
    )
    sub = parser.add_subparsers(dest="models_command", required=True, metavar="ACTION")

    p = sub.add_parser("list", parents=[common, as_json], help="list registered models")
    p.add_argument("--filter", default=None, help="e.g. \"name LIKE 'fraud%%'\"")
    p.set_defaults(func=_list)

    p = sub.add_parser("versions", parents=[common, as_json], help="list versions of a model")
    p.add_argument("name")
    p.set_defaults(func=_versions)

    p = sub.add_parser("register", parents=[common, as_json], help="register a model URI")
    p.add_argument("model_uri", metavar="URI", help="runs:/<run_id>/<path>, a path, models:/...")
    p.add_argument("name")
    p.add_argument("--description", default="")
    p.set_defaults(func=_register)

    p = sub.add_parser("alias", parents=[common], help="point an alias at a version")
    p.add_argument("name")
    p.add_argument("alias")
    p.add_argument("version")
    p.set_defaults(func=_alias)

    p = sub.add_parser("delete-alias", parents=[common], help="remove an alias")
    p.add_argument("name")
    p.add_argument("alias")
    p.set_defaults(func=_delete_alias)

    p = sub.add_parser("resolve", parents=[common], help="print the local directory of a model")
    p.add_argument("model_uri", metavar="URI")
    p.set_defaults(func=_resolve)

    p = sub.add_parser(
        "import",
        parents=[common, as_json],
        help="copy versions from an MLflow store into mlserve's store",
        description="Copy a registered version (with its aliases, tags and description) from "
        "one of MLflow's stores into mlserve's store (--tracking-uri). The MLflow store is only "
        "read.",
    )
    p.add_argument("model_uri", metavar="URI", help="models:/<name>/<version|latest|stage>, @alias")
    p.add_argument(
        "--from",
        dest="from_uri",
        metavar="MLFLOW_URI",
        default=None,
        help="the MLflow store: sqlite:///mlflow.db, an mlruns directory or http(s)://server; "
        "default: $MLFLOW_REGISTRY_URI, $MLFLOW_TRACKING_URI, MLflow's default store here",
    )
    p.add_argument("--name", default=None, help="register under this name (default: the same)")
    p.add_argument("--all-versions", action="store_true", help="every version of the model")
    p.set_defaults(func=_import)
    return parser


def _client(args: argparse.Namespace) -> Any:
    from mlserve._api._client import MlserveClient

    return MlserveClient(args.tracking_uri)


def _time(ms: int) -> str:
    return datetime.fromtimestamp(ms / 1000, tz=timezone.utc).strftime("%Y-%m-%d %H:%M:%S")


def _table(header: Sequence[str], rows: Sequence[Sequence[object]]) -> None:
    cells = [list(header), *[[str(c) for c in row] for row in rows]]
    widths = [max(len(row[i]) for row in cells) for i in range(len(header))]
    for row in cells:
        print("  ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)).rstrip())


def _version_dict(v: Any) -> dict[str, Any]:
    return {
        "name": v.name,
        "version": v.version,
        "source": v.source,
        "run_id": v.run_id,
        "aliases": list(v.aliases),
        "creation_timestamp": v.creation_timestamp,
        "description": v.description,
        "tags": v.tags,
    }


def _readers(args: argparse.Namespace) -> list[tuple[str, Any]]:
    """``(store description, client-like)`` for each store a listing reads: the configured one,
    or with nothing configured, mlserve's store and then MLflow's default store here."""
    from mlserve._api._client import MlserveClient
    from mlserve.store._locations import read_locations
    from mlserve.store._mlflow import open_reader
    from mlserve.store._tracking import effective_uri

    found: list[tuple[str, Any]] = []
    for location in read_locations(effective_uri(args.tracking_uri), registry=True):
        if location.read_only:
            found.append((location.describe(), open_reader(location)))
        else:
            found.append((location.describe(), MlserveClient(location.path)))
    return found


def _list(args: argparse.Namespace) -> int:
    readers = _readers(args)
    listed = [(where, m) for where, r in readers for m in r.search_registered_models(args.filter)]
    models = [m for _, m in listed]
    if args.json:
        print(
            json.dumps(
                [
                    {
                        "store": where,
                        "name": m.name,
                        "latest_version": m.latest_version,
                        "aliases": m.aliases,
                        "description": m.description,
                        "tags": m.tags,
                        "creation_timestamp": m.creation_timestamp,
                    }
                    for where, m in listed
                ],
                indent=2,
            )
        )
        return 0
    if not models:
        print(f"No registered models in {'; '.join(where for where, _ in readers)}.")
        return 0
    rows = [
        (
            m.name,
            m.latest_version or "-",
            ", ".join(f"{a}={v}" for a, v in sorted(m.aliases.items())) or "-",
            _time(m.last_updated_timestamp),
            where,
        )
        for where, m in listed
    ]
    _table(("NAME", "LATEST", "ALIASES", "UPDATED (UTC)", "STORE"), rows)
    return 0


def _versions(args: argparse.Namespace) -> int:
    from mlserve.errors import RegisteredModelNotFound

    readers = _readers(args)
    versions = None
    for _, reader in readers:  # the first store that has the model answers, as serve resolves
        try:
            versions = reader.list_model_versions(args.name)
            break
        except RegisteredModelNotFound:
            continue
    if versions is None:
        names = {m.name for _, r in readers for m in r.search_registered_models()}
        searched = "; ".join(where for where, _ in readers)
        raise RegisteredModelNotFound(args.name, names, store=searched)
    if args.json:
        print(json.dumps([_version_dict(v) for v in versions], indent=2))
        return 0
    if not versions:
        print(f"Registered model {args.name!r} has no versions.")
        return 0
    rows = [
        (v.version, ", ".join(v.aliases) or "-", _time(v.creation_timestamp), v.source)
        for v in versions
    ]
    _table(("VERSION", "ALIASES", "CREATED (UTC)", "SOURCE"), rows)
    return 0


def _register(args: argparse.Namespace) -> int:
    from mlserve.errors import ResourceAlreadyExists

    client = _client(args)
    # the same behaviour as mlserve.register_model: create the registered model on first use
    with contextlib.suppress(ResourceAlreadyExists):
        client.create_registered_model(args.name)
    version = client.create_model_version(args.name, args.model_uri, description=args.description)
    if args.json:
        print(json.dumps(_version_dict(version), indent=2))
    else:
        print(f"Registered {version.name!r} version {version.version} from {version.source}")
    return 0


def _alias(args: argparse.Namespace) -> int:
    client = _client(args)
    client.set_registered_model_alias(args.name, args.alias, args.version)
    version = client.get_model_version_by_alias(args.name, args.alias)
    print(f"models:/{args.name}@{args.alias} -> version {version.version}")
    return 0


def _delete_alias(args: argparse.Namespace) -> int:
    _client(args).delete_registered_model_alias(args.name, args.alias)
    print(f"Deleted alias {args.alias!r} of {args.name!r}")
    return 0


def _import(args: argparse.Namespace) -> int:
    from mlserve.store._imports import import_model_versions

    done = import_model_versions(
        args.model_uri,
        from_uri=args.from_uri,
        tracking_uri=args.tracking_uri,
        name=args.name,
        all_versions=args.all_versions,
    )
    if args.json:
        print(json.dumps([{"from": d.source, **_version_dict(d.version)} for d in done], indent=2))
        return 0
    for d in done:
        v = d.version
        aliases = f" (aliases: {', '.join(v.aliases)})" if v.aliases else ""
        print(f"Imported {d.source} as models:/{v.name}/{v.version}{aliases}")
    return 0


def _resolve(args: argparse.Namespace) -> int:
    from mlserve.store import resolve_model_uri

    print(resolve_model_uri(args.model_uri, args.tracking_uri))
    return 0
