"""Per-model environments: a model served in a virtual environment built from its own
``requirements.txt`` and ``python_env.yaml``, with mlserve's own distributions installed from
wheels of this installation (see ``docs/environments.md``).

``mlserve._environment`` writes a model's environment files when it is saved; this package reads
them back and builds the environment.
"""

from __future__ import annotations

from mlserve.env._build import Environment, find_uv, prepare_environment
from mlserve.env._errors import (
    ENV_MANAGERS,
    EnvBuildFailed,
    MissingRequirements,
    PythonNotAvailable,
    UnknownEnvManager,
    WheelBuildFailed,
)
from mlserve.env._spec import EnvSpec, read_spec
from mlserve.env._wheels import LocalWheel, build_wheels, canonical_name, local_distributions

__all__ = [
    "ENV_MANAGERS",
    "EnvBuildFailed",
    "EnvSpec",
    "Environment",
    "LocalWheel",
    "MissingRequirements",
    "PythonNotAvailable",
    "UnknownEnvManager",
    "WheelBuildFailed",
    "build_wheels",
    "canonical_name",
    "find_uv",
    "local_distributions",
    "prepare_environment",
    "read_spec",
]
