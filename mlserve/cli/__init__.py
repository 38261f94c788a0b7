"""The mlserve command line: serve, predict, manage registered models, list flavors.

Commands: ``mlserve serve``, ``mlserve predict``, ``mlserve models ...``, ``mlserve flavors``,
``mlserve env prepare``, ``mlserve generate-dockerfile``, ``mlserve build-docker``,
``mlserve generate-k8s``.

Each sub-command lives in its own module exposing ``add_parser(subparsers)``; the module is only
imported when the command line is built, never by ``import mlserve``. argparse is used for the
whole CLI so that it adds no dependency.
"""

from __future__ import annotations

import argparse
import importlib
import sys
from collections.abc import Sequence

from mlserve.errors import MlserveError

# sub-command modules, in the order ``mlserve --help`` lists them
_COMMANDS = (
    "mlserve.cli._serve",
    "mlserve.cli._predict",
    "mlserve.cli._models",
    "mlserve.cli._flavors",
    "mlserve.cli._env",
    "mlserve.cli._deploy",
)


def build_parser() -> argparse.ArgumentParser:
    """Build the full ``mlserve`` argument parser."""
    import mlserve

    parser = argparse.ArgumentParser(prog="mlserve", description=__doc__.split("\n")[0])
    # MLflow's form ("mlflow, version 3.17.2"), so scripts that read it keep working
    parser.add_argument(
        "--version", action="version", version=f"mlserve, version {mlserve.__version__}"
    )
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for name in _COMMANDS:
        importlib.import_module(name).add_parser(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the ``mlserve`` command line; returns the process exit code.

    An :class:`~mlserve.errors.MlserveError` is printed as one line on stderr (exit code 1),
    never as a traceback.
    """
    args = build_parser().parse_args(argv)
    try:
        return int(args.func(args) or 0)
    except MlserveError as exc:
        print(f"mlserve: error: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
