"""``python -m mlserve``: the ``mlserve`` command line (as ``python -m mlflow`` is MLflow's)."""

from __future__ import annotations

import sys

from mlserve.cli import main

if __name__ == "__main__":
    sys.exit(main())
