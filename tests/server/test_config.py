"""Server options: sizes, flags over environment variables over defaults, one-line errors."""

from __future__ import annotations

import argparse
from pathlib import Path

import pytest

from mlserve.server._config import (
    OPTIONS,
    ServerConfig,
    add_arguments,
    build_server_parser,
    config_from_args,
    parse_size,
)


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="mlserve-test")
    add_arguments(parser)
    return parser


def _resolve(argv: list[str], env: dict[str, str] | None = None) -> ServerConfig:
    parser = _parser()
    return config_from_args(parser, parser.parse_args(argv), env or {})


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("1048576", 1048576),
        ("100MiB", 100 * 1024**2),
        ("100M", 100 * 1024**2),
        ("512k", 512 * 1024),
        ("1GB", 1000**3),
        ("1.5GiB", int(1.5 * 1024**3)),
        (" 10 MB ", 10 * 1000**2),
        ("0", 0),
    ],
    ids=["bytes", "MiB", "M-binary", "k-lower", "GB-decimal", "fraction", "spaces", "zero"],
)
def test_parse_size(text: str, expected: int) -> None:
    assert parse_size(text) == expected


@pytest.mark.parametrize("text", ["", "ten", "-5", "5 XB", "1e3"], ids=str)
def test_parse_size_rejects(text: str) -> None:
    with pytest.raises(ValueError, match="not a size"):
        parse_size(text)


def test_defaults() -> None:
    config = _resolve(["-m", "models:/m/1"])
    assert config == ServerConfig(model_uri="models:/m/1", models=((None, "models:/m/1"),))
    assert (config.host, config.port, config.workers, config.timeout) == ("127.0.0.1", 5000, 1, 60)
    assert config.max_body_size == 100 * 1024**2


def test_every_option_has_a_flag_and_an_env_variable() -> None:
    envs = [opt.env for opt in OPTIONS]
    assert len(set(envs)) == len(envs)
    assert all(env.startswith("MLSERVE_") for env in envs)
    # models is derived: every -m, parsed into (name, URI)
    assert {opt.dest for opt in OPTIONS} == set(ServerConfig.__dataclass_fields__) - {"models"}


def test_environment_fills_what_flags_do_not_give() -> None:
    env = {
        "MLSERVE_MODEL_URI": "runs:/abc/model",
        "MLSERVE_PORT": "6000",
        "MLSERVE_WORKERS": "3",
        "MLSERVE_TIMEOUT": "2.5",
        "MLSERVE_MAX_BODY_SIZE": "1MiB",
        "MLSERVE_LOG_LEVEL": "DEBUG",
        "MLSERVE_ACCESS_LOG": "false",
        "MLSERVE_TRACKING_URI": "/tmp/store",
    }
    config = _resolve(["-p", "7000"], env)
    assert config.model_uri == "runs:/abc/model"
    assert config.port == 7000  # the flag wins
    assert (config.workers, config.timeout, config.max_body_size) == (3, 2.5, 1024**2)
    assert (config.log_level, config.access_log, config.tracking_uri) == (
        "debug",
        False,
        "/tmp/store",
    )


def test_flags() -> None:
    config = _resolve(
        ["-m", "m", "--host", "0.0.0.0", "-w", "2", "-t", "0", "--max-body-size", "2k",
         "--no-access-log", "--dev", "--max-batch-size", "64", "--max-batch-delay-ms", "1.5"]
    )  # fmt: skip
    assert (config.host, config.workers, config.timeout, config.max_body_size) == (
        "0.0.0.0", 2, 0.0, 2048,
    )  # fmt: skip
    assert (config.access_log, config.dev) == (False, True)
    assert (config.max_batch_size, config.max_batch_delay_ms) == (64, 1.5)


@pytest.mark.parametrize(
    ("argv", "env", "message"),
    [
        ([], {}, "a model URI is required"),
        (["-m", "m", "-p", "70000"], {}, "argument -p/--port: must be between 0 and 65535"),
        (["-m", "m", "-w", "0"], {}, "argument -w/--workers: must be at least 1"),
        (["-m", "m", "--max-body-size", "big"], {}, "argument --max-body-size: not a size"),
        (["-m", "m"], {"MLSERVE_TIMEOUT": "-1"}, "environment variable MLSERVE_TIMEOUT"),
        (["-m", "m"], {"MLSERVE_LOG_LEVEL": "loud"}, "MLSERVE_LOG_LEVEL: must be one of"),
    ],
    ids=["no-uri", "port-range", "workers-zero", "size-flag", "timeout-env", "log-level-env"],
)
def test_errors_are_one_line(
    argv: list[str], env: dict[str, str], message: str, capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit) as exc:
        _resolve(argv, env)
    assert exc.value.code == 2
    err = capsys.readouterr().err
    assert message in err
    assert "Traceback" not in err


def test_every_option_is_documented() -> None:
    page = (Path(__file__).resolve().parents[2] / "docs" / "serving.md").read_text()
    for opt in OPTIONS:
        assert opt.env in page, opt.env
        for flag in opt.flags:
            assert f"`{flag}" in page, flag


# -- the flags of `mlflow models serve` ------------------------------------------------------


def _server(argv: list[str]) -> ServerConfig:
    parser = build_server_parser("mlserve-test")
    return config_from_args(parser, parser.parse_args(argv), {})


def test_mlflow_serve_command_line_means_the_same() -> None:
    argv = ["-m", "m", "-p", "5001", "-h", "0.0.0.0", "-w", "2", "-t", "30"]
    config = _server([*argv, "--env-manager", "local", "--no-conda"])
    assert (config.host, config.port, config.workers, config.timeout) == ("0.0.0.0", 5001, 2, 30)
    assert config.env_manager == "local"


def test_no_conda_means_env_manager_local() -> None:
    assert _server(["-m", "m", "--no-conda"]).env_manager == "local"


def test_help_stays_on_long_flag(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exc:
        _server(["--help"])
    assert exc.value.code == 0
    assert "-h HOST, --host HOST" in capsys.readouterr().out


def test_a_parser_with_its_own_help_keeps_it() -> None:
    # add_arguments on a plain parser: -h stays help, the host is --host only
    assert _resolve(["-m", "m", "--host", "0.0.0.0"]).host == "0.0.0.0"
    with pytest.raises(SystemExit) as exc:
        _parser().parse_args(["-h"])
    assert exc.value.code == 0


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["--env-manager", "conda"], "requirements.txt with uv or virtualenv"),
        (["--env-manager", "docker"], "must be one of local, virtualenv, uv"),
        (["--install-mlflow"], "argument --install-mlflow: mlserve serves MLflow models without"),
        (["--enable-mlserver"], "argument --enable-mlserver: mlserve is the server"),
    ],
    ids=["conda", "unknown-manager", "install-mlflow", "enable-mlserver"],
)
def test_mlflow_flags_without_meaning_here_are_refused_with_a_hint(
    argv: list[str], message: str, capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit) as exc:
        _server(["-m", "m", *argv])
    assert exc.value.code == 2
    assert message in capsys.readouterr().err


@pytest.mark.parametrize("manager", ["uv", "virtualenv", "local"])
def test_env_manager_from_the_flag_and_the_environment(manager: str) -> None:
    assert _server(["-m", "m", "--env-manager", manager.upper()]).env_manager == manager
    parser = build_server_parser("mlserve-test")
    args = parser.parse_args(["-m", "m"])
    assert config_from_args(parser, args, {"MLSERVE_ENV_MANAGER": manager}).env_manager == manager
    with pytest.raises(SystemExit):
        config_from_args(parser, args, {"MLSERVE_ENV_MANAGER": "conda"})
