"""Server options: one table feeds the command line, the ``MLSERVE_*`` variables and the docs.

Each option is settable as a flag or an environment variable; the flag wins, then the variable,
then the default. ``python -m mlserve.server`` and ``mlserve serve`` share this table, so they
accept exactly the same options.

The flags of ``mlflow models serve`` mean the same here where they mean anything (``-m``, ``-p``,
``-h/--host``, ``-w``, ``-t``, ``--env-manager``, ``--no-conda``); the others are refused
with a line saying what to do instead, so a command copied from MLflow's docs either works or
says why not.
"""

from __future__ import annotations

import argparse
import os
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from mlserve import TrustPolicy

__all__ = [
    "ENV_MANAGERS",
    "OPTIONS",
    "Option",
    "ServerConfig",
    "add_arguments",
    "build_server_parser",
    "config_from_args",
    "parse_size",
]

LOG_LEVELS = ("critical", "error", "warning", "info", "debug")

_SIZE = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([kmgt]?)(i?)b?\s*$", re.IGNORECASE)
_UNITS = {"": 0, "k": 1, "m": 2, "g": 3, "t": 4}


def parse_size(text: str) -> int:
    """Parse a byte size: ``1048576``, ``100MiB``, ``100M`` (both binary), ``1.5GB`` (decimal).

    A bare ``K``/``M``/``G`` means binary units, as for most server tools; only ``KB``/``MB``/
    ``GB`` spelled out are decimal. Raises ``ValueError`` for anything else.
    """
    match = _SIZE.match(text)
    if not match:
        raise ValueError(f"not a size: {text!r} (use bytes or a unit: 100MiB, 512K, 1GB)")
    number, unit, binary = match.groups()
    decimal = bool(unit) and not binary and text.strip().lower().endswith("b")
    base = 1000 if decimal else 1024
    return int(float(number) * base ** _UNITS[unit.lower()])


def _positive_int(text: str) -> int:
    value = int(text)
    if value < 1:
        raise ValueError("must be at least 1")
    return value


def _non_negative_int(text: str) -> int:
    value = int(text)
    if value < 0:
        raise ValueError("must be 0 or more")
    return value


def _port(text: str) -> int:
    value = int(text)
    if not 0 <= value <= 65535:
        raise ValueError("must be between 0 and 65535")
    return value


def _seconds(text: str) -> float:
    value = float(text)
    if not value >= 0:  # also refuses NaN
        raise ValueError("must be 0 or more seconds")
    return value


#: MLflow's --env-manager values; conda is refused with a hint
ENV_MANAGERS = ("local", "virtualenv", "uv", "conda")


def _env_manager(text: str) -> str:
    value = text.strip().lower()
    if value in ("local", "virtualenv", "uv"):
        return value
    if value == "conda":
        raise ValueError(
            "'conda' is not available: mlserve builds environments from the model's "
            "requirements.txt with uv or virtualenv (--env-manager uv)"
        )
    raise ValueError("must be one of local, virtualenv, uv (conda is not supported)")


def _trust(text: str) -> TrustPolicy:
    from mlserve import TrustPolicy

    return TrustPolicy.parse(text, origin="--trust / MLSERVE_TRUST")


def _log_level(text: str) -> str:
    value = text.strip().lower()
    if value not in LOG_LEVELS:
        raise ValueError(f"must be one of {', '.join(LOG_LEVELS)}")
    return value


def _access_log_format(text: str) -> str:
    value = text.strip().lower()
    if value not in ("text", "json"):
        raise ValueError("must be text or json")
    return value


def _flag(text: str) -> bool:
    value = text.strip().lower()
    if value in ("1", "true", "yes", "on"):
        return True
    if value in ("0", "false", "no", "off", ""):
        return False
    raise ValueError("must be true or false")


@dataclass(frozen=True)
class Option:
    """One server option: its flags, its environment variable, its parser and default."""

    dest: str
    flags: tuple[str, ...]
    env: str
    parse: Callable[[str], Any]
    default: Any
    help: str
    metavar: str | None = None
    is_flag: bool = False
    #: the flag may be given several times; the values are collected in order
    repeat: bool = False


OPTIONS: tuple[Option, ...] = (
    Option("model_uri", ("-m", "--model-uri"), "MLSERVE_MODEL_URI", str, None,
           "model to serve: a path, file://, runs:/<run_id>/<path>, models:/<name>/<version>, "
           "models:/<name>/latest or models:/<name>@<alias> (required); NAME=URI names it, and "
           "-m may repeat to serve several models (the first answers /invocations)", "[NAME=]URI",
           repeat=True),
    Option("host", ("-h", "--host"), "MLSERVE_HOST", str, "127.0.0.1",
           "address to listen on (default 127.0.0.1; 0.0.0.0 listens on every interface)",
           "HOST"),
    Option("port", ("-p", "--port"), "MLSERVE_PORT", _port, 5000,
           "TCP port (default 5000; 0 picks a free port, printed at start-up)", "PORT"),
    Option("workers", ("-w", "--workers"), "MLSERVE_WORKERS", _positive_int, 1,
           "worker processes, forked after the model is loaded (default 1)", "N"),
    Option("preload", ("--no-preload",), "MLSERVE_PRELOAD", _flag, True,
           "load the model in each worker instead of once before forking them (automatic "
           "for models that declare they are not fork-safe)", is_flag=True),
    Option("threads", ("--threads",), "MLSERVE_THREADS", _positive_int, 4,
           "request threads per worker (default 4)", "N"),
    Option("timeout", ("-t", "--timeout"), "MLSERVE_TIMEOUT", _seconds, 60.0,
           "seconds a request may take before it is answered 504; 0 disables (default 60)",
           "SECONDS"),
    Option("max_body_size", ("--max-body-size",), "MLSERVE_MAX_BODY_SIZE", parse_size,
           100 * 1024 * 1024,
           "largest request body, in bytes or with a unit like 100MiB (default 100MiB)", "SIZE"),
    Option("max_columns", ("--max-columns",), "MLSERVE_MAX_COLUMNS", _non_negative_int, 10_000,
           "most columns (or V2 inputs) one request may name, or the signature's count if "
           "larger; refused with 413 before any is parsed; 0: no limit (default 10000)", "N"),
    Option("max_rows", ("--max-rows",), "MLSERVE_MAX_ROWS", _non_negative_int, 1_000_000,
           "most rows one request may carry (413 past it); 0: no limit (default 1000000)", "N"),
    Option("max_request_memory", ("--max-request-memory",), "MLSERVE_MAX_REQUEST_MEMORY",
           parse_size, 512 * 1024 * 1024, "most memory decoding one request may take, as "
           "estimated from its body before parsing it (413 past it); 0: no limit (default "
           "512MiB)", "SIZE"),
    Option("header_timeout", ("--header-timeout",), "MLSERVE_HEADER_TIMEOUT", _seconds, 10.0,
           "seconds a client may take to send a request's line and headers; its body gets as "
           "long again plus 1 s per --min-body-rate bytes; 0 disables (default 10)", "SECONDS"),
    Option("min_body_rate", ("--min-body-rate",), "MLSERVE_MIN_BODY_RATE", parse_size,
           16 * 1024, "bytes per second a request body must average, past --header-timeout "
           "(default 16KiB)", "SIZE"),
    Option("keepalive", ("--keep-alive",), "MLSERVE_KEEP_ALIVE", _non_negative_int, 5,
           "seconds an idle keep-alive connection stays open; 0 disables keep-alive (default 5)",
           "SECONDS"),
    Option("graceful_timeout", ("--graceful-timeout",), "MLSERVE_GRACEFUL_TIMEOUT", _seconds,
           30.0, "seconds a stopping worker may spend finishing in-flight requests (default 30)",
           "SECONDS"),
    Option("max_batch_size", ("--max-batch-size",), "MLSERVE_MAX_BATCH_SIZE", _non_negative_int,
           0, "merge concurrent requests into predict calls of up to this many rows, for "
           "models that declare batchable predictions; 0 disables (default 0)", "ROWS"),
    Option("max_batch_delay_ms", ("--max-batch-delay-ms",), "MLSERVE_MAX_BATCH_DELAY_MS",
           _seconds, 0.0, "how long a batch may wait for more requests (default 0: never wait)",
           "MS"),
    Option("env_manager", ("--env-manager",), "MLSERVE_ENV_MANAGER", _env_manager, "local",
           "where the model runs: local (this Python environment), or uv / virtualenv (its own "
           "environment, built once from its requirements.txt and cached; docs/environments.md)",
           "local|uv|virtualenv"),
    Option("tracking_uri", ("--tracking-uri",), "MLSERVE_TRACKING_URI", str, None,
           "tracking URI for runs:/ and models:/ (mlserve store dir, sqlite:///mlflow.db, MLflow "
           "file store or http(s):// tracking server; default ./mlserve-store, then MLflow's "
           "default store here)", "URI"),
    Option("trust", ("--trust",), "MLSERVE_TRUST", _trust, None,
           "what loading the model may run (docs/security.md): comma-separated pickle | "
           "no-pickle, digests (require them), scan (picklescan), skops-type=NAME, or the "
           "presets mlflow and strict (default: pickle, or no-pickle when "
           "MLFLOW_ALLOW_PICKLE_DESERIALIZATION=false)", "TERMS"),
    Option("log_level", ("--log-level",), "MLSERVE_LOG_LEVEL", _log_level, "info",
           f"log level: {', '.join(LOG_LEVELS)} (default info)", "LEVEL"),
    Option("access_log", ("--no-access-log",), "MLSERVE_ACCESS_LOG", _flag, True,
           "do not write the access log (one line per request on stdout)", is_flag=True),
    Option("access_log_format", ("--access-log-format",), "MLSERVE_ACCESS_LOG_FORMAT",
           _access_log_format, "text", "the access log's lines: text (gunicorn's common form "
           "plus the request id) or json (one object per line, for log shippers)", "text|json"),
    Option("metrics", ("--no-metrics",), "MLSERVE_METRICS", _flag, True,
           "do not count or time requests; GET /metrics answers 404 (metrics need the "
           "metrics extra: pip install 'mlserve-core[metrics]')", is_flag=True),
    Option("metrics_port", ("--metrics-port",), "MLSERVE_METRICS_PORT", _port, None,
           "also serve GET /metrics (and nothing else) on this port, on the same host "
           "(0 picks a free port, printed at start-up)", "PORT"),
    Option("enable_repository", ("--enable-repository",), "MLSERVE_ENABLE_REPOSITORY", _flag,
           False, "let clients load and unload models while serving (the V2 repository "
           "extension, /v2/repository/...): an administrative API, off by default", is_flag=True),
    Option("max_models", ("--max-models",), "MLSERVE_MAX_MODELS", _non_negative_int, 0,
           "most models served at once; a repository load past it unloads the least recently "
           "used idle model (never the first); 0: no limit (default 0)", "N"),
    Option("max_memory", ("--max-memory",), "MLSERVE_MAX_MEMORY", parse_size, 0,
           "most memory the served models may take, as measured when each was loaded (e.g. "
           "4GiB); past it, as --max-models; 0: no limit (default 0)", "SIZE"),
    Option("dev", ("--dev",), "MLSERVE_DEV", _flag, False,
           "run werkzeug's single-process development server instead of gunicorn "
           "(not for production; for platforms without fork)", is_flag=True),
)  # fmt: skip


@dataclass(frozen=True)
class ServerConfig:
    """Resolved server options (see ``OPTIONS`` for their meaning and defaults)."""

    model_uri: str
    #: every ``-m``: ``(name or None, URI)``; the first is ``model_uri``
    models: tuple[tuple[str | None, str], ...] = ()
    host: str = "127.0.0.1"
    port: int = 5000
    workers: int = 1
    preload: bool = True
    threads: int = 4
    timeout: float = 60.0
    max_body_size: int = 100 * 1024 * 1024
    max_columns: int = 10_000
    max_rows: int = 1_000_000
    max_request_memory: int = 512 * 1024 * 1024
    header_timeout: float = 10.0
    min_body_rate: int = 16 * 1024
    keepalive: int = 5
    graceful_timeout: float = 30.0
    max_batch_size: int = 0
    max_batch_delay_ms: float = 0.0
    env_manager: str = "local"
    tracking_uri: str | None = None
    log_level: str = "info"
    access_log: bool = True
    access_log_format: str = "text"
    metrics: bool = True
    metrics_port: int | None = None
    enable_repository: bool = False
    max_models: int = 0
    max_memory: int = 0
    dev: bool = False
    trust: TrustPolicy | None = None  # None: the process's (mlserve.TrustPolicy.from_environment)


class _ParseFlag(argparse.Action):
    """Parse a flag's value with the option's parser, naming the flag in the error."""

    def __init__(
        self, *args: Any, parse: Callable[[str], Any], repeat: bool = False, **kwargs: Any
    ) -> None:
        self._parse = parse
        self._repeat = repeat
        super().__init__(*args, **kwargs)

    def __call__(self, parser: argparse.ArgumentParser, namespace: Any, values: Any,
                 option_string: str | None = None) -> None:  # fmt: skip
        try:
            value = self._parse(values)
        except ValueError as exc:
            parser.error(f"argument {'/'.join(self.option_strings)}: {exc}")
        if self._repeat:
            value = [*(getattr(namespace, self.dest, None) or []), value]
        setattr(namespace, self.dest, value)


# Flags of `mlflow models serve` with no meaning here, and what to do instead.
_REFUSED_MLFLOW_FLAGS = {
    "--install-mlflow": "mlserve serves MLflow models without MLflow; drop the flag",
    "--enable-mlserver": "mlserve is the server; drop the flag",
}


class _Refused(argparse.Action):
    """An MLflow flag that means nothing here: stop with the hint rather than ignore it."""

    def __call__(self, parser: argparse.ArgumentParser, namespace: Any, values: Any,
                 option_string: str | None = None) -> None:  # fmt: skip
        parser.error(f"argument {option_string}: {_REFUSED_MLFLOW_FLAGS[str(option_string)]}")


def build_server_parser(prog: str, **kwargs: Any) -> argparse.ArgumentParser:
    """A parser holding every server option, with ``--help`` only: ``-h`` is the host, as in
    ``mlflow models serve``. ``kwargs`` go to ``ArgumentParser`` (description, epilog)."""
    parser = argparse.ArgumentParser(prog=prog, add_help=False, **kwargs)
    parser.add_argument("--help", action="help", help="show this help message and exit")
    add_arguments(parser)
    return parser


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Add every server option to ``parser`` (flags default to ``None``: see
    :func:`config_from_args` for how the environment and defaults fill them in).

    ``-h`` means ``--host`` (as in ``mlflow models serve``) when ``parser`` was built with
    ``add_help=False``; on a parser that keeps argparse's ``-h`` for help, ``--host`` is long
    only. ``--no-conda`` is ``--env-manager local``, and MLflow's flags that mean nothing here
    are refused with a hint.
    """
    for opt in OPTIONS:
        help_text = f"{opt.help} [env {opt.env}]"
        if opt.is_flag:
            kwargs: dict[str, Any] = {"action": "store_const", "const": not opt.default}
        else:
            kwargs = {"action": _ParseFlag, "parse": opt.parse, "metavar": opt.metavar}
            if opt.repeat:
                kwargs["repeat"] = True
        try:
            parser.add_argument(*opt.flags, dest=opt.dest, default=None, help=help_text, **kwargs)
        except argparse.ArgumentError:  # -h is taken by the parser's own help
            flags = tuple(f for f in opt.flags if f != "-h")
            parser.add_argument(*flags, dest=opt.dest, default=None, help=help_text, **kwargs)
    parser.add_argument(
        "--no-conda",
        dest="env_manager",
        action="store_const",
        const="local",
        default=None,
        help="the same as --env-manager local (MLflow's flag)",
    )
    for flag in _REFUSED_MLFLOW_FLAGS:
        parser.add_argument(flag, nargs=0, action=_Refused, help=argparse.SUPPRESS)


def config_from_args(
    parser: argparse.ArgumentParser,
    args: argparse.Namespace,
    environ: Mapping[str, str] | None = None,
) -> ServerConfig:
    """Resolve the options: the flag if given, else the ``MLSERVE_*`` variable, else the default.

    A malformed variable or a missing model URI ends the program through ``parser.error``
    (one line on stderr, exit status 2), as a malformed flag does.
    """
    environ = os.environ if environ is None else environ
    values: dict[str, Any] = {}
    for opt in OPTIONS:
        value = getattr(args, opt.dest, None)
        if value is None and environ.get(opt.env, "") != "":
            try:
                value = opt.parse(environ[opt.env])
            except ValueError as exc:
                parser.error(f"environment variable {opt.env}: {exc}")
        values[opt.dest] = opt.default if value is None else value
    if not values["model_uri"]:
        parser.error("a model URI is required: -m URI or MLSERVE_MODEL_URI")
    specs = values["model_uri"] if isinstance(values["model_uri"], list) else [values["model_uri"]]
    models = tuple(_model_spec(spec) for spec in specs)
    names = [name for name, _ in models if name is not None]
    if len(set(names)) != len(names):
        parser.error("two models have the same name: each -m NAME=URI needs its own NAME")
    if len(models) > 1 and len(names) != len(models):
        parser.error("serving several models: name each one, -m NAME=URI")
    values["model_uri"] = models[0][1]
    return ServerConfig(models=models, **values)


_MODEL_NAME = re.compile(r"^([A-Za-z0-9][A-Za-z0-9_.-]{0,127})=(.+)$")


def _model_spec(text: str) -> tuple[str | None, str]:
    """``"rf=models:/RF/1"`` -> ``("rf", "models:/RF/1")``; a bare URI has no name."""
    match = _MODEL_NAME.match(text)
    return (match.group(1), match.group(2)) if match else (None, text)
