"""What turning a model into an image or manifests can fail with.

::

    MlserveError
    ├── InvalidParameterValue
    │   ├── InvalidImageName         not a valid image reference (docker's grammar)
    │   ├── InvalidResourceName      not a valid Kubernetes name (DNS-1035 label)
    │   ├── NoRequirements           the model has no requirements.txt to build the image from
    │   └── OutputExists             the output directory exists and is not empty
    ├── RequirementsUnresolvable     pip cannot resolve the model's requirements (output kept)
    ├── BuilderNotFound              no docker engine, podman or buildah (says what to install)
    └── ImageBuildFailed             the builder refused the Dockerfile (its output kept)
"""

from __future__ import annotations

from collections.abc import Sequence

from mlserve.errors import InvalidParameterValue, MlserveError

__all__ = [
    "BuilderNotFound",
    "ImageBuildFailed",
    "InvalidImageName",
    "InvalidResourceName",
    "NoRequirements",
    "OutputExists",
    "RequirementsUnresolvable",
]

# a resolver's or builder's output can be long; its end holds the verdict
_OUTPUT_TAIL = 4000


def _tail(text: str) -> str:
    text = text.strip()
    return text if len(text) <= _OUTPUT_TAIL else "...\n" + text[-_OUTPUT_TAIL:]


class InvalidImageName(InvalidParameterValue):
    """``name`` is not an image reference a builder accepts (``[registry/]path[:tag]``)."""

    def __init__(self, name: str, reason: str) -> None:
        self.name = name
        self.reason = reason
        super().__init__(
            f"{name!r} is not a valid image name: {reason} "
            "(expected [registry[:port]/]path[:tag], lowercase path, e.g. ghcr.io/me/model:1)"
        )


class InvalidResourceName(InvalidParameterValue):
    """``name`` cannot name a Kubernetes Deployment, Service or InferenceService."""

    def __init__(self, name: str) -> None:
        self.name = name
        super().__init__(
            f"{name!r} is not a valid Kubernetes name: use at most 63 lowercase letters, digits "
            "and '-', starting with a letter and ending with a letter or digit (--name)"
        )


class NoRequirements(InvalidParameterValue):
    """The model directory has no ``requirements.txt``: the image would not know what to install."""

    def __init__(self, model_dir: str) -> None:
        self.model_dir = model_dir
        super().__init__(
            f"the model at {model_dir} has no requirements.txt, so there is nothing to install in "
            "its image; save it again (save_model and log_model write one) or add one listing "
            "the packages the model needs"
        )


class OutputExists(InvalidParameterValue):
    """The output directory already holds files; nothing is overwritten."""

    def __init__(self, path: str) -> None:
        self.path = path
        super().__init__(f"{path} exists and is not empty; choose a new directory or remove it")


class RequirementsUnresolvable(MlserveError):
    """pip could not resolve or fetch the model's requirements; ``output`` is what it said."""

    def __init__(self, command: Sequence[str], output: str) -> None:
        self.command = list(command)
        self.output = output
        super().__init__(
            "the model's requirements cannot be resolved into wheels "
            f"({' '.join(self.command[:5])} ...):\n{_tail(output)}"
        )


class BuilderNotFound(MlserveError):
    """None of the image builders works on this machine; ``tried`` says what was seen."""

    def __init__(self, tried: Sequence[str]) -> None:
        self.tried = list(tried)
        seen = "; ".join(self.tried) if self.tried else "none of docker, podman, buildah is on PATH"
        super().__init__(
            f"no image builder found ({seen}). Install one: Docker Engine with a running daemon "
            "(https://docs.docker.com/engine/install/), Podman (apt-get install podman) or "
            "Buildah (apt-get install buildah); or write the build context with "
            "mlserve generate-dockerfile and build it elsewhere"
        )


class ImageBuildFailed(MlserveError):
    """The builder failed; no image was tagged. ``output`` is what the builder said."""

    def __init__(self, builder: str, image: str, output: str) -> None:
        self.builder = builder
        self.image = image
        self.output = output
        super().__init__(
            f"{builder} could not build {image} (nothing was tagged):\n{_tail(output)}"
        )
