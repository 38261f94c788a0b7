"""``mlserve env prepare -m URI``: build a model's environment ahead of time.

The same environment ``mlserve serve --env-manager ...`` builds and reuses (see
``docs/environments.md``), so a server start-up finds it ready.
"""

from __future__ import annotations

import argparse
from typing import Any

__all__ = ["add_parser"]


def add_parser(subparsers: Any) -> argparse.ArgumentParser:
    """Register ``mlserve env ...`` on the ``mlserve`` command line's sub-parsers."""
    parser: argparse.ArgumentParser = subparsers.add_parser(
        "env",
        help="build a model's own environment ahead of time",
        description="Per-model environments (docs/environments.md).",
    )
    sub = parser.add_subparsers(dest="env_command", required=True, metavar="COMMAND")
    prepare = sub.add_parser(
        "prepare",
        help="build (or find in the cache) the environment a model is served in",
        description=(
            "Build the environment `mlserve serve --env-manager uv|virtualenv` runs the model "
            "in, from its requirements.txt and python_env.yaml, and print its directory. "
            "Cached under $MLSERVE_CACHE_DIR/envs; an existing one is reused."
        ),
    )
    prepare.add_argument("-m", "--model-uri", required=True, metavar="URI", help="the model")
    prepare.add_argument(
        "--env-manager",
        choices=("uv", "virtualenv"),
        default="virtualenv",
        help="uv (fast; pip install uv) or virtualenv (python -m venv + pip); "
        "default virtualenv, as mlflow models prepare-env",
    )
    prepare.add_argument(
        "--tracking-uri", metavar="URI", help="tracking store for runs:/, models:/"
    )
    prepare.set_defaults(func=_prepare)
    return parser


def _prepare(args: argparse.Namespace) -> int:
    import logging
    import sys

    from mlserve.env import prepare_environment

    logging.basicConfig(level=logging.INFO, format="%(message)s", stream=sys.stderr)
    env = prepare_environment(args.model_uri, args.env_manager, tracking_uri=args.tracking_uri)
    how = "built" if env.built else "already built"
    print(f"{env.path}", flush=True)
    print(f"mlserve: environment {how} ({env.manager}): {env.python}", file=sys.stderr)
    return 0
