"""``python -m mlserve.cli``: the same command line as the ``mlserve`` script."""

from __future__ import annotations

import sys

from mlserve.cli import main

if __name__ == "__main__":
    sys.exit(main())
