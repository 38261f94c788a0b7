"""Deploy a model: a container image (build context, builder) and Kubernetes / KServe manifests.

``write_build_context`` writes what ``mlserve generate-dockerfile`` writes, ``build_image`` what
``mlserve build-docker`` builds, ``write_manifests`` what ``mlserve generate-k8s`` writes; the
user guide is ``docs/deploy.md``. Nothing here imports the server: the image runs it.
"""

from __future__ import annotations

from mlserve.deploy._builders import BUILDERS, Builder, BuiltImage, build_image, find_builder
from mlserve.deploy._context import (
    CONTAINER_PORT,
    MODEL_PATH,
    USER_ID,
    BuildContext,
    default_base_image,
    render_dockerfile,
    write_build_context,
)
from mlserve.deploy._errors import (
    BuilderNotFound,
    ImageBuildFailed,
    InvalidImageName,
    InvalidResourceName,
    NoRequirements,
    OutputExists,
    RequirementsUnresolvable,
)
from mlserve.deploy._k8s import (
    KSERVE_MODEL_PATH,
    KSERVE_MODES,
    ManifestOptions,
    default_name,
    deployment,
    inference_service,
    resource_name,
    service,
    write_manifests,
)
from mlserve.deploy._reference import ImageReference, parse_image_reference

__all__ = [
    "BUILDERS",
    "CONTAINER_PORT",
    "KSERVE_MODEL_PATH",
    "KSERVE_MODES",
    "MODEL_PATH",
    "USER_ID",
    "BuildContext",
    "Builder",
    "BuilderNotFound",
    "BuiltImage",
    "ImageBuildFailed",
    "ImageReference",
    "InvalidImageName",
    "InvalidResourceName",
    "ManifestOptions",
    "NoRequirements",
    "OutputExists",
    "RequirementsUnresolvable",
    "build_image",
    "default_base_image",
    "default_name",
    "deployment",
    "find_builder",
    "inference_service",
    "parse_image_reference",
    "render_dockerfile",
    "resource_name",
    "service",
    "write_build_context",
    "write_manifests",
]
