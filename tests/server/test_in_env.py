"""mlserve.server._in_env.config_argv: the command line a server re-executed in a model's
environment gets must give back exactly the configuration the first process resolved."""

from __future__ import annotations

from dataclasses import fields, replace

import pytest

from mlserve.server._config import OPTIONS, ServerConfig, build_server_parser, config_from_args
from mlserve.server._in_env import config_argv


def _round_trip(config: ServerConfig) -> ServerConfig:
    parser = build_server_parser("mlserve-test")
    return config_from_args(parser, parser.parse_args(config_argv(config)), {})


def _same(a: ServerConfig, b: ServerConfig) -> None:
    for f in fields(ServerConfig):
        left, right = getattr(a, f.name), getattr(b, f.name)
        if f.name == "trust":
            assert (left and left.spec) == (right and right.spec)
        else:
            assert left == right, f.name


def test_defaults_round_trip() -> None:
    config = ServerConfig(model_uri="models:/m/1", models=((None, "models:/m/1"),))
    assert config_argv(config) == ["--model-uri", "models:/m/1"]
    _same(_round_trip(config), config)


def test_every_option_changed_round_trips() -> None:
    from mlserve import TrustPolicy

    parser = build_server_parser("mlserve-test")
    base = config_from_args(parser, parser.parse_args(["-m", "m"]), {})
    changed = {}
    for opt in OPTIONS:
        value = getattr(base, opt.dest)
        if opt.dest == "model_uri":
            continue
        if opt.is_flag or isinstance(value, bool):
            changed[opt.dest] = not value
        elif isinstance(value, int | float) and value is not None:
            changed[opt.dest] = type(value)(value + 3)
        elif opt.dest == "trust":
            changed[opt.dest] = TrustPolicy.parse("no-pickle,digests")
        elif opt.dest == "log_level":
            changed[opt.dest] = "debug"
        elif opt.dest == "env_manager":
            changed[opt.dest] = "local"  # what a re-executed server is given
        elif opt.dest == "host":
            changed[opt.dest] = "0.0.0.0"
        elif opt.dest == "tracking_uri":
            changed[opt.dest] = "sqlite:///mlflow.db"
        elif opt.dest == "access_log_format":
            changed[opt.dest] = "json"
        elif opt.dest == "metrics_port":
            changed[opt.dest] = 9100
        else:
            pytest.fail(f"the test does not know how to change {opt.dest}: add it")
    config = replace(base, **changed)
    _same(_round_trip(config), config)


def test_named_models_round_trip() -> None:
    models = (("rf", "models:/RF/1"), ("lr", "runs:/abc/model"))
    config = ServerConfig(model_uri="models:/RF/1", models=models)
    assert _round_trip(config).models == models
