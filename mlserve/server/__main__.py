"""``python -m mlserve.server -m URI [-p PORT] [--host HOST] [-w N] [-t SECONDS] ...``.

The same options as ``mlserve serve``; see ``docs/serving.md``.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from mlserve.errors import MlserveError

DESCRIPTION = "Serve a model over REST (MLflow's /invocations wire format)."
EPILOG = "Every option can also be set by the environment variable shown in brackets."


def build_parser(prog: str = "python -m mlserve.server") -> argparse.ArgumentParser:
    """The argument parser of ``python -m mlserve.server`` (``-h`` is the host, as in
    ``mlflow models serve``; help is ``--help``)."""
    import mlserve
    from mlserve.server._config import build_server_parser

    parser = build_server_parser(prog, description=DESCRIPTION, epilog=EPILOG)
    # MLflow's form ("mlflow, version 3.17.2"), as `mlserve --version`
    parser.add_argument(
        "--version", action="version", version=f"mlserve, version {mlserve.__version__}"
    )
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Parse the options, load the model and serve it; returns the exit status.

    A wrong URI, a model that fails to load, a taken port or a missing extra is one line on
    stderr and exit status 1, never a traceback.
    """
    from mlserve.server._config import config_from_args

    parser = build_parser()
    config = config_from_args(parser, parser.parse_args(argv))
    return run(config)


def run(config: object) -> int:
    """Serve ``config`` (a :class:`~mlserve.server._config.ServerConfig`), printing our errors
    as one line."""
    from mlserve.server._runner import serve

    try:
        return serve(config)  # type: ignore[arg-type]
    except MlserveError as exc:
        print(f"mlserve: error: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    sys.exit(main())
