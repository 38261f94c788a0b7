"""``mlserve serve``: the same server and options as ``python -m mlserve.server``."""

from __future__ import annotations

import argparse
from typing import Any

__all__ = ["add_parser"]


def add_parser(subparsers: Any) -> argparse.ArgumentParser:
    """Register ``mlserve serve`` on the ``mlserve`` command line's sub-parsers."""
    from mlserve.server.__main__ import DESCRIPTION, EPILOG
    from mlserve.server._config import add_arguments

    # -h is the host, as in `mlflow models serve`; help stays on --help
    parser: argparse.ArgumentParser = subparsers.add_parser(
        "serve",
        help="serve a model over REST",
        description=DESCRIPTION,
        epilog=EPILOG,
        add_help=False,
    )
    parser.add_argument("--help", action="help", help="show this help message and exit")
    add_arguments(parser)

    def run(args: argparse.Namespace) -> int:
        from mlserve.server._config import config_from_args
        from mlserve.server._runner import serve

        # MlserveError reaches mlserve.cli.main, which prints it as one line
        return serve(config_from_args(parser, args))

    parser.set_defaults(func=run)
    return parser
