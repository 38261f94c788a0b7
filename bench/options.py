"""bench/run.py's command line: which cases, which peers, how long each run is."""

from __future__ import annotations

import argparse

import loadgen


def parse(argv: list[str] | None, description: str) -> argparse.Namespace:
    """The parsed options, with ``seconds`` defaulted (1 s quick, 3 s full) and the load tool
    checked, so run.py reads only settled values."""
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument("--quick", action="store_true", help="fewer cases, 1 s runs (~1-2 min)")
    parser.add_argument(
        "--seconds", type=float, help="length of each timed run (default 3, quick 1)"
    )
    parser.add_argument("--mlflow-python", help="Python of a venv with mlflow installed")
    parser.add_argument("--no-mlflow", action="store_true", help="leave MLflow out")
    parser.add_argument("--mlserver-python", help="Python of a venv with mlserver-sklearn")
    parser.add_argument("--no-mlserver", action="store_true", help="leave MLServer out")
    parser.add_argument("--no-v2", action="store_true", help="skip the V2 cases")
    parser.add_argument("--only-v2", action="store_true", help="run the V2 cases alone")
    parser.add_argument(
        "--no-metrics-cost", action="store_true", help="skip the metrics on/off and scrape case"
    )
    parser.add_argument(
        "--only-metrics", action="store_true", help="run the metrics on/off and scrape case alone"
    )
    parser.add_argument("--load-tool", choices=("auto", "wrk", "python"), default="auto")
    parser.add_argument("--only", help="comma-separated model names to keep (e.g. lr20,big)")
    parser.add_argument("--workdir", help="where models, bodies and logs go (default: a temp dir)")
    parser.add_argument("--keep", action="store_true", help="keep the work directory")
    parser.add_argument("--json", help="also write the raw results to this file")
    args = parser.parse_args(argv)
    args.seconds = args.seconds or (1.0 if args.quick else 3.0)
    if args.load_tool == "wrk" and not loadgen.wrk_available():
        parser.error("wrk is not installed (apt-get install wrk)")
    return args
