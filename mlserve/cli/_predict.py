"""``mlserve predict``: score a file (or stdin) with a model, using the server's codecs.

The input is decoded exactly as ``POST /invocations`` decodes a body, so a file that scores
here scores the same over HTTP. CSV is streamed: it is cut into chunks of ``--chunk-rows`` rows,
each chunk is decoded, predicted and written out before the next is read, so a file larger
than memory can be scored. JSON is one document and is read whole.
"""

from __future__ import annotations

import argparse
import contextlib
import csv
import io
import json
import os
import sys
from collections.abc import Generator
from pathlib import Path
from typing import IO, Any

__all__ = ["add_parser", "predict_file"]

_BY_SUFFIX = {".json": "application/json", ".csv": "text/csv"}
DEFAULT_CHUNK_ROWS = 10_000


def add_parser(subparsers: Any) -> argparse.ArgumentParser:
    """Register ``mlserve predict`` on the ``mlserve`` command line's sub-parsers."""
    parser: argparse.ArgumentParser = subparsers.add_parser(
        "predict",
        help="score a JSON or CSV file with a model",
        description=(
            'Score a JSON or CSV file (or stdin) with a model and write {"predictions": ...} '
            "as JSON. The input is decoded exactly as POST /invocations decodes a body."
        ),
    )
    parser.add_argument("-m", "--model-uri", required=True, metavar="URI", help="model to use")
    parser.add_argument(
        "-i", "--input", metavar="PATH", help="input file (.json or .csv); default: stdin"
    )
    parser.add_argument(
        "-o", "--output", metavar="PATH", help="write predictions here; default (or -): stdout"
    )
    parser.add_argument(
        "-t",
        "--content-type",
        metavar="TYPE",
        type=_media_type,
        help="json, csv (MLflow's names) or a media type such as application/json; default: "
        "from the file suffix, application/json for stdin",
    )
    parser.add_argument(
        "--chunk-rows",
        type=int,
        default=DEFAULT_CHUNK_ROWS,
        metavar="N",
        help=f"CSV rows per prediction call (default {DEFAULT_CHUNK_ROWS})",
    )
    parser.add_argument("--tracking-uri", metavar="URI", help="tracking store for runs:/, models:/")
    parser.add_argument(
        "--trust",
        metavar="TERMS",
        help="what loading the model may run, as for mlserve serve (docs/security.md); "
        "default: MLSERVE_TRUST, else pickle",
    )
    parser.add_argument(
        "--no-progress", action="store_true", help="no progress line, even on a terminal"
    )
    parser.add_argument(
        "--env-manager",
        choices=("local", "uv", "virtualenv"),
        default="local",
        help="local (this environment, the default), or uv / virtualenv: score in the model's "
        "own environment, built from its requirements.txt (docs/environments.md)",
    )
    parser.set_defaults(func=_run)
    return parser


def _run(args: argparse.Namespace) -> int:
    import mlserve
    from mlserve.errors import InvalidParameterValue

    if args.chunk_rows < 1:
        raise InvalidParameterValue("--chunk-rows must be at least 1")
    if args.env_manager != "local":
        _run_in_environment(args)
    content_type = args.content_type or _content_type_for(args.input)
    if args.tracking_uri:
        mlserve.set_tracking_uri(args.tracking_uri)
    model = mlserve.load_model(args.model_uri, trust=args.trust)
    source = _open_input(args.input)
    progress = _Progress(source, args.input) if _show_progress(args) else None
    try:
        if args.output is None or args.output == "-":
            predict_file(model, source, sys.stdout.buffer, content_type, args.chunk_rows, progress)
            sys.stdout.buffer.flush()
        else:
            _write_atomically(
                Path(args.output),
                lambda out: predict_file(
                    model, source, out, content_type, args.chunk_rows, progress
                ),
            )
    finally:
        if progress is not None:
            progress.finish()
        if source is not sys.stdin.buffer:
            source.close()
    return 0


def _run_in_environment(args: argparse.Namespace) -> None:
    """Build (or reuse) the model's environment and replace this process by ``mlserve predict``
    inside it, on the model directory the URI resolved to (stdin and stdout are inherited)."""
    import logging

    from mlserve.env import prepare_environment

    # a first build takes a while: say so on stderr (stdout holds the predictions)
    logging.basicConfig(level=logging.INFO, format="%(message)s", stream=sys.stderr)
    env = prepare_environment(args.model_uri, args.env_manager, tracking_uri=args.tracking_uri)
    argv = [str(env.python), "-m", "mlserve.cli", "predict", "-m", str(env.model_dir)]
    for flag, value in (
        ("-i", args.input and os.path.abspath(args.input)),
        ("-o", args.output if args.output in (None, "-") else os.path.abspath(args.output)),
        ("--content-type", args.content_type),
        ("--chunk-rows", str(args.chunk_rows)),
        ("--trust", args.trust),
    ):
        if value is not None:
            argv += [flag, value]
    if args.no_progress:
        argv.append("--no-progress")
    environ = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "PYTHONHOME")}
    environ["VIRTUAL_ENV"] = str(env.path)
    sys.stdout.flush()
    sys.stderr.flush()
    os.execve(argv[0], argv, environ)


def predict_file(
    model: Any,
    source: IO[bytes],
    out: IO[bytes],
    content_type: str,
    chunk_rows: int = DEFAULT_CHUNK_ROWS,
    progress: _Progress | None = None,
) -> int:
    """Score ``source`` with ``model`` and write ``{"predictions": ...}`` JSON to ``out``.

    CSV (``text/csv``) is streamed in chunks of ``chunk_rows`` rows; other media types are read
    whole. Returns the number of rows scored for CSV, 0 otherwise.

    Raises the codecs' errors (``PayloadError``, ``UnsupportedContentType``,
    ``SchemaMismatch``, ``InvalidParams``) and the model's ``ModelPredictError``.
    """
    from mlserve.codecs import DecodeLimits, RequestDecoder

    signature = model.signature
    decoder = RequestDecoder(
        signature.inputs if signature is not None else None,
        signature.params if signature is not None else None,
        enforce=False,  # PyFuncModel.predict enforces the signature, once
        limits=DecodeLimits.none(),  # the user's own files: no client to defend against
    )
    if content_type.split(";")[0].strip().lower() != "text/csv":
        decoded = decoder.decode(source.read(), content_type)
        if decoded.unwrapped:
            # an unwrapped LLM body ({"messages": [...]}): the bare predictions, as `mlflow
            # models predict` and both servers write them; value errors as the server's
            from mlserve.codecs._json_input import llm_errors

            with llm_errors():
                output = model.predict(decoded.data, decoded.params)
            out.write(_encode(output, unwrapped=True))
        else:
            out.write(_encode(model.predict(decoded.data, decoded.params)))
        out.write(b"\n")
        return 0

    rows = 0
    columnar: dict[str, list[Any]] | None = None
    opened = False
    with contextlib.closing(_csv_chunks(source, chunk_rows)) as chunks:
        for chunk, count in chunks:
            decoded = decoder.decode(chunk, content_type)
            output = model.predict(decoded.data, decoded.params)
            predictions = json.loads(_encode(output))["predictions"]
            if isinstance(predictions, dict):
                # a columnar output (one list per output column) is one JSON object: gather it
                columnar = columnar if columnar is not None else {}
                for key, values in predictions.items():
                    columnar.setdefault(key, []).extend(_as_list(values))
            else:
                for item in _as_list(predictions):
                    out.write(b", " if opened else b'{"predictions": [')
                    out.write(json.dumps(item, allow_nan=False).encode())
                    opened = True
            rows += count
            if progress is not None:
                progress.update(rows)
    if columnar is not None:
        out.write(json.dumps({"predictions": columnar}, allow_nan=False).encode())
    else:
        out.write(b"]}" if opened else b'{"predictions": []}')
    out.write(b"\n")
    return rows


def _encode(output: Any, unwrapped: bool = False) -> bytes:
    """``encode_predictions``, with an output that has no JSON form reported as ours."""
    from mlserve.codecs import encode_predictions
    from mlserve.errors import MlserveError

    try:
        return encode_predictions(output, unwrapped=unwrapped)
    except TypeError as exc:
        raise MlserveError(f"The model's output cannot be written as JSON: {exc}") from exc


def _as_list(values: Any) -> list[Any]:
    return values if isinstance(values, list) else [values]


def _csv_chunks(source: IO[bytes], chunk_rows: int) -> Generator[tuple[bytes, int]]:
    """Cut a CSV stream into self-contained CSV documents of ``chunk_rows`` rows each.

    Rows are split with the csv module, not by line, so quoted fields with newlines stay in
    one row; each chunk repeats the header.
    """
    from mlserve.errors import PayloadError

    text = io.TextIOWrapper(source, encoding="utf-8", newline="")
    try:
        reader = csv.reader(text)
        header = next(reader, None)
        if header is None:
            return
        buffer = io.StringIO()
        writer = csv.writer(buffer, lineterminator="\n")
        count = 0
        for row in reader:
            if count == 0:
                buffer.seek(0)
                buffer.truncate()
                writer.writerow(header)
            writer.writerow(row)
            count += 1
            if count == chunk_rows:
                yield buffer.getvalue().encode("utf-8"), count
                count = 0
        if count:
            yield buffer.getvalue().encode("utf-8"), count
    except UnicodeDecodeError as exc:  # as POST /invocations says it for the same file
        raise PayloadError("the body is not valid UTF-8") from exc
    except csv.Error as exc:
        raise PayloadError("malformed CSV: the body could not be parsed as CSV") from exc
    finally:
        text.detach()  # the caller closes the underlying file


# `mlflow models predict -t json|csv` names the format, not the media type
_SHORT_TYPES = {"json": "application/json", "csv": "text/csv"}


def _media_type(text: str) -> str:
    return _SHORT_TYPES.get(text.strip().lower(), text)


def _content_type_for(path: str | None) -> str:
    from mlserve.errors import InvalidParameterValue

    if path is None:
        return "application/json"
    content_type = _BY_SUFFIX.get(Path(path).suffix.lower())
    if content_type is None:
        raise InvalidParameterValue(
            f"Cannot tell the media type of {path!r} from its suffix; pass --content-type "
            f"(suffixes known: {', '.join(sorted(_BY_SUFFIX))})."
        )
    return content_type


def _open_input(path: str | None) -> IO[bytes]:
    from mlserve.errors import ArtifactNotFound, MlserveError

    if path is None or path == "-":
        return sys.stdin.buffer
    try:
        return open(path, "rb")  # closed by the caller once streamed
    except FileNotFoundError as exc:
        raise ArtifactNotFound(path) from exc
    except OSError as exc:  # a directory, no permission...
        raise MlserveError(f"Cannot read {path}: {exc.strerror or exc}") from exc


def _write_atomically(path: Path, write: Any) -> None:
    """Write through ``write(file)`` to a temporary file, then rename it over ``path``."""
    from mlserve.errors import MlserveError

    partial = path.with_name(path.name + ".partial")
    try:
        with open(partial, "w+b") as out:
            write(out)
        os.replace(partial, path)
    except OSError as exc:  # no such directory, no permission, a directory, a full disk...
        raise MlserveError(f"Cannot write {path}: {exc.strerror or exc}") from exc
    finally:
        partial.unlink(missing_ok=True)


def _show_progress(args: argparse.Namespace) -> bool:
    return not args.no_progress and sys.stderr.isatty()


class _Progress:
    """A one-line progress display on stderr: rows scored and, for a file, the share read."""

    def __init__(self, source: IO[bytes], path: str | None) -> None:
        self._source = source
        self._size = os.path.getsize(path) if path else 0

    def update(self, rows: int) -> None:
        done = ""
        if self._size:
            try:
                done = f" ({min(self._source.tell() / self._size, 1.0):.0%})"
            except (OSError, ValueError):
                done = ""
        sys.stderr.write(f"\rmlserve predict: {rows:,} rows{done}")
        sys.stderr.flush()

    def finish(self) -> None:
        sys.stderr.write("\n")
        sys.stderr.flush()
