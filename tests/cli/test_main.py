"""The ``mlserve`` command line itself: ``--version`` and MLflow's serve flags on ``serve``."""

from __future__ import annotations

import pytest

import mlserve
from mlserve.cli import build_parser, main
from mlserve.server.__main__ import build_parser as build_server_parser


@pytest.mark.parametrize(
    "parse",
    [lambda argv: main(argv), lambda argv: build_server_parser().parse_args(argv)],
    ids=["mlserve", "python-m-mlserve.server"],
)
def test_version(parse, capsys: pytest.CaptureFixture[str]) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(SystemExit) as exc:
        parse(["--version"])
    assert exc.value.code == 0
    # MLflow's form: "mlflow, version 3.17.2"
    assert capsys.readouterr().out.strip() == f"mlserve, version {mlserve.__version__}"


def test_python_m_mlserve_is_the_command_line() -> None:
    # as `python -m mlflow --version`
    import subprocess
    import sys

    out = subprocess.run(
        [sys.executable, "-m", "mlserve", "--version"], capture_output=True, text=True, timeout=60
    )
    assert (out.returncode, out.stdout.strip()) == (0, f"mlserve, version {mlserve.__version__}")


@pytest.mark.parametrize(
    ("parser", "prefix"),
    [(build_parser, ["serve"]), (build_server_parser, [])],
    ids=["mlserve-serve", "python-m-mlserve.server"],
)
def test_serve_takes_mlflow_models_serve_flags(parser, prefix: list[str]) -> None:  # type: ignore[no-untyped-def]
    argv = ["-m", "models:/m/1", "-p", "5001", "-h", "0.0.0.0", "-w", "3", "-t", "9"]
    args = parser().parse_args([*prefix, *argv, "--env-manager", "local", "--no-conda"])
    assert (args.host, args.port, args.workers, args.timeout) == ("0.0.0.0", 5001, 3, 9.0)
    assert args.env_manager == "local"


def test_serve_help_is_long_only(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exc:
        main(["serve", "--help"])
    assert exc.value.code == 0
    assert "-h HOST, --host HOST" in capsys.readouterr().out


def test_serve_refuses_conda_with_a_hint(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exc:
        main(["serve", "-m", "m", "--env-manager", "conda"])
    assert exc.value.code == 2
    assert "with uv or virtualenv" in capsys.readouterr().err


@pytest.mark.parametrize(
    ("argv", "command"),
    [
        (["models", "serve", "-m", "m", "-p", "5001"], ["serve"]),
        (["models", "predict", "-m", "m"], ["predict"]),
        (["models", "prepare-env", "-m", "m"], ["env", "prepare"]),
        (["models", "build-docker", "-m", "m", "-n", "img"], ["build-docker"]),
        (["models", "generate-dockerfile", "-m", "m"], ["generate-dockerfile"]),
        (["models", "list"], ["models", "list"]),
    ],
    ids=["serve", "predict", "prepare-env", "build-docker", "generate-dockerfile", "ours"],
)
def test_mlflow_models_commands_are_ours(argv: list[str], command: list[str]) -> None:
    # `mlflow models serve -m URI -p 5001` typed with mlserve runs `mlserve serve ...`; our own
    # `models` actions are untouched
    from mlserve.cli import _mlflow_spelling

    assert _mlflow_spelling(argv) == [*command, *argv[2:]]
    args = build_parser().parse_args(_mlflow_spelling(argv))
    assert args.command == command[0]
