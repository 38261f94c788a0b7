"""What building a model's environment can fail with.

::

    MlserveError
    ├── InvalidParameterValue
    │   ├── UnknownEnvManager          --env-manager names no manager mlserve has
    │   └── MissingRequirements        the model has no requirements.txt to build from
    ├── PythonNotAvailable             the Python the model was saved with cannot be found
    ├── WheelBuildFailed               an installed mlserve distribution cannot be rebuilt
    └── EnvBuildFailed                 the installer (uv / pip) refused; its output is kept
"""

from __future__ import annotations

from collections.abc import Sequence

from mlserve.errors import InvalidParameterValue, MlserveError

__all__ = [
    "ENV_MANAGERS",
    "EnvBuildFailed",
    "MissingRequirements",
    "PythonNotAvailable",
    "UnknownEnvManager",
    "WheelBuildFailed",
]

ENV_MANAGERS = ("local", "virtualenv", "uv")

# an installer's output can be long; the end holds the resolver's verdict
_OUTPUT_TAIL = 4000


def _tail(text: str) -> str:
    text = text.strip()
    return text if len(text) <= _OUTPUT_TAIL else "...\n" + text[-_OUTPUT_TAIL:]


class UnknownEnvManager(InvalidParameterValue):
    """``--env-manager`` is not one of ``local``, ``virtualenv``, ``uv``."""

    def __init__(self, name: str) -> None:
        self.name = name
        super().__init__(
            f"unknown env manager {name!r}: choose one of {', '.join(ENV_MANAGERS)}"
            " (conda is not supported)"
        )


class MissingRequirements(InvalidParameterValue):
    """The model directory has no ``requirements.txt``, so there is nothing to build from."""

    def __init__(self, model_dir: str) -> None:
        self.model_dir = model_dir
        super().__init__(
            f"the model at {model_dir} has no requirements.txt, so its environment cannot be "
            "built; serve it with --env-manager local, or save it again (save_model writes one)"
        )


class PythonNotAvailable(MlserveError):
    """The model's ``python_env.yaml`` names a Python version this machine does not have."""

    def __init__(self, wanted: str, manager: str, detail: str) -> None:
        self.wanted = wanted
        self.manager = manager
        super().__init__(
            f"the model was saved with Python {wanted}, which the {manager} env manager cannot "
            f"find here: {detail}"
        )


class WheelBuildFailed(MlserveError):
    """An installed mlserve distribution could not be rebuilt as a wheel."""

    def __init__(self, distribution: str, reason: str) -> None:
        self.distribution = distribution
        self.reason = reason
        super().__init__(f"cannot build a wheel of {distribution}: {_tail(reason)}")


class EnvBuildFailed(MlserveError):
    """The installer could not build the environment; ``output`` is what it said."""

    def __init__(self, command: Sequence[str], output: str) -> None:
        self.command = list(command)
        self.output = output
        super().__init__(
            f"building the model's environment failed ({' '.join(self.command[:4])} ...):\n"
            f"{_tail(output)}"
        )
