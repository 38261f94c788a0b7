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


# MLflow's `mlflow models <command>` spellings -> ours, so a command written for MLflow runs:
# `mlserve models serve -m URI -p 5000` is `mlserve serve -m URI -p 5000`
_MLFLOW_MODELS_COMMANDS = {
    "serve": ["serve"],
    "predict": ["predict"],
    "prepare-env": ["env", "prepare"],
    "build-docker": ["build-docker"],
    "generate-dockerfile": ["generate-dockerfile"],
}


def _mlflow_spelling(argv: Sequence[str]) -> list[str]:
    """``argv`` with MLflow's ``models <command>`` prefix rewritten to ours; else unchanged."""
    args = list(argv)
    if len(args) >= 2 and args[0] == "models" and args[1] in _MLFLOW_MODELS_COMMANDS:
        return [*_MLFLOW_MODELS_COMMANDS[args[1]], *args[2:]]
    return args


def main(argv: Sequence[str] | None = None) -> int:
    """Run the ``mlserve`` command line; returns the process exit code.

    An :class:`~mlserve.errors.MlserveError` is printed as one line on stderr (exit code 1),
    never as a traceback. MLflow's ``models serve`` / ``models predict`` / ``models
    prepare-env`` / ``models build-docker`` / ``models generate-dockerfile`` are accepted as
    ``serve``, ``predict``, ``env prepare``, ``build-docker``, ``generate-dockerfile``.
    """
    args = build_parser().parse_args(_mlflow_spelling(sys.argv[1:] if argv is None else argv))
    try:
        return int(args.func(args) or 0)
    except MlserveError as exc:
        print(f"mlserve: error: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
