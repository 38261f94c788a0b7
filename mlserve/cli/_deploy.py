"""``mlserve generate-dockerfile``, ``mlserve build-docker`` and ``mlserve generate-k8s``.

The names and the first flags are those of ``mlflow models generate-dockerfile`` and
``build-docker`` (``-m``, ``-d``, ``-n``); what they make is described in ``docs/deploy.md``.
"""

from __future__ import annotations

import argparse
import os
import sys
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from mlserve.deploy import Builder, BuiltImage

__all__ = ["add_parser"]

_MEGABYTE = 1_000_000


def add_parser(subparsers: Any) -> None:
    """Register the three deploy commands on the ``mlserve`` command line's sub-parsers."""
    _add_generate_dockerfile(subparsers)
    _add_build_docker(subparsers)
    _add_generate_k8s(subparsers)


def _image_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("-m", "--model-uri", required=True, metavar="URI", help="model to package")
    parser.add_argument(
        "--base-image",
        metavar="IMAGE",
        help="image to build on, with this interpreter's Python version "
        "(default: python:<this Python's major.minor>-slim)",
    )
    parser.add_argument(
        "--mount-model",
        action="store_true",
        help="leave the model out: mount it at /opt/ml/model when the container runs "
        "(its requirements are still installed)",
    )
    parser.add_argument("--tracking-uri", metavar="URI", help="tracking store for runs:/, models:/")


def _add_generate_dockerfile(subparsers: Any) -> None:
    parser: argparse.ArgumentParser = subparsers.add_parser(
        "generate-dockerfile",
        help="write a model's image build context (Dockerfile, model, wheelhouse)",
        description=(
            "Write a directory that builds the model's image with no network: a Dockerfile, "
            "the model, and a wheelhouse of its requirements resolved here."
        ),
    )
    _image_arguments(parser)
    parser.add_argument(
        "-d",
        "--output-directory",
        default="mlserve-dockerfile",
        metavar="DIR",
        help="where to write it; must not exist or be empty (default: mlserve-dockerfile)",
    )

    def run(args: argparse.Namespace) -> int:
        from mlserve.deploy import write_build_context

        context = write_build_context(
            args.model_uri,
            args.output_directory,
            base_image=args.base_image,
            mount_model=args.mount_model,
            tracking_uri=args.tracking_uri,
        )
        wheels = sorted((context.directory / "wheels").glob("*.whl"))
        size = sum(w.stat().st_size for w in wheels) / _MEGABYTE
        print(f"wrote {context.directory}")
        print(f"  Dockerfile        FROM {context.base_image} (Python {context.python_version})")
        if not context.mount_model:
            print(f"  model/            {context.model_dir}")
        print(f"  wheels/           {len(wheels)} wheels, {size:.1f} MB")
        print(f"  requirements.txt  {len(context.requirements)} pinned packages")
        _print_notes(context.notes)
        print(f"build it with: docker build -t NAME {context.directory}")
        return 0

    parser.set_defaults(func=run)


def _add_build_docker(subparsers: Any) -> None:
    from mlserve.deploy import BUILDERS

    parser: argparse.ArgumentParser = subparsers.add_parser(
        "build-docker",
        help="build a model's container image (docker, podman or buildah)",
        description=(
            "Build the model's image with the first builder that works here: a docker engine, "
            "podman or buildah. The image serves the model on 0.0.0.0:8080 as a non-root user."
        ),
    )
    _image_arguments(parser)
    parser.add_argument(
        "-n", "--name", required=True, metavar="NAME[:TAG]", help="image name (tag: latest)"
    )
    parser.add_argument(
        "--builder",
        choices=BUILDERS,
        default=os.environ.get("MLSERVE_BUILDER") or None,
        help="use this builder only (default: MLSERVE_BUILDER, else the first that works)",
    )
    parser.add_argument(
        "--storage-driver",
        metavar="DRIVER",
        default=os.environ.get("MLSERVE_BUILDAH_STORAGE_DRIVER") or None,
        help="podman/buildah storage driver (buildah's default here: vfs)",
    )
    parser.add_argument(
        "--isolation",
        metavar="TYPE",
        default=os.environ.get("MLSERVE_BUILDAH_ISOLATION") or None,
        help="podman/buildah isolation for RUN steps (buildah's default here: chroot)",
    )
    parser.add_argument("-q", "--quiet", action="store_true", help="hide the builder's output")

    def run(args: argparse.Namespace) -> int:
        from mlserve.deploy import build_image, find_builder, parse_image_reference

        parse_image_reference(args.name, allow_digest=False)  # before looking for a builder
        builder = find_builder(
            args.builder, storage_driver=args.storage_driver, isolation=args.isolation
        )
        print(f"building {args.name} with {builder.describe()}", file=sys.stderr, flush=True)
        built = build_image(
            args.model_uri,
            args.name,
            builder=builder,
            base_image=args.base_image,
            mount_model=args.mount_model,
            tracking_uri=args.tracking_uri,
            log=None if args.quiet else lambda line: print(line, file=sys.stderr, flush=True),
        )
        _print_notes(built.context.notes)
        size = "size unknown" if built.size is None else f"{built.size / _MEGABYTE:.1f} MB"
        print(f"built {built.reference} with {builder.name}: {size}")
        print(f"run it: {_run_hint(builder, built)}")
        return 0

    parser.set_defaults(func=run)


def _add_generate_k8s(subparsers: Any) -> None:
    from mlserve.server._config import ServerConfig

    drain = ServerConfig.graceful_timeout
    parser: argparse.ArgumentParser = subparsers.add_parser(
        "generate-k8s",
        help="write Kubernetes (Deployment, Service) and KServe manifests for a model's image",
        description=(
            "Write deployment.yaml (Deployment + Service) and inferenceservice.yaml (KServe, "
            "V2 protocol) for an image made by build-docker, with probes on the health routes "
            "and a termination grace period that covers the server's drain."
        ),
    )
    parser.add_argument("-m", "--model-uri", required=True, metavar="URI", help="model served")
    parser.add_argument("--image", required=True, metavar="IMAGE", help="the model's image")
    parser.add_argument(
        "-d",
        "--output-directory",
        default="mlserve-k8s",
        metavar="DIR",
        help="where to write the manifests; must not exist or be empty (default: mlserve-k8s)",
    )
    parser.add_argument(
        "--name", help="resource name (default: the registered model's or the image's name)"
    )
    parser.add_argument("--namespace", help="namespace (default: none, kubectl's current one)")
    parser.add_argument("--replicas", type=int, default=1, help="replicas (default 1)")
    parser.add_argument("--cpu", default="1", help="CPU request (default 1)")
    parser.add_argument("--memory", default="2Gi", help="memory request and limit (default 2Gi)")
    parser.add_argument(
        "--graceful-timeout",
        type=float,
        default=drain,
        metavar="S",
        help=f"the server's drain in seconds (default {drain:g}); the grace period covers it",
    )
    parser.add_argument(
        "--storage-uri",
        metavar="URI",
        help="KServe only: a storage URI (s3://, gs://, pvc://) its storage initializer "
        "downloads the model from, for an image built with --mount-model",
    )
    parser.add_argument(
        "--kserve-mode",
        choices=("raw", "knative"),
        default="raw",
        help="KServe only: a plain Deployment (raw, the default: probes, preStop and grace "
        "period as in deployment.yaml) or a Knative Service (knative)",
    )
    parser.add_argument("--tracking-uri", metavar="URI", help="tracking store for runs:/, models:/")

    def run(args: argparse.Namespace) -> int:
        from mlserve.deploy import ManifestOptions, default_name, write_manifests
        from mlserve.store import resolve_model_uri

        name = args.name if args.name is not None else default_name(args.model_uri, args.image)
        options = ManifestOptions(
            name=name,
            image=args.image,
            replicas=args.replicas,
            cpu=args.cpu,
            memory=args.memory,
            graceful_timeout=args.graceful_timeout,
            namespace=args.namespace,
            storage_uri=args.storage_uri,
            model_uri=args.model_uri,
            kserve_mode=args.kserve_mode,
        )
        resolve_model_uri(args.model_uri, args.tracking_uri)  # a typo fails here, not in a pod
        for path in write_manifests(options, args.output_directory):
            print(f"wrote {path}")
        directory = args.output_directory
        print(f"apply with: kubectl apply -f {os.path.join(directory, 'deployment.yaml')}")
        print(
            f"  or on KServe: kubectl apply -f {os.path.join(directory, 'inferenceservice.yaml')}"
        )
        return 0

    parser.set_defaults(func=run)


def _run_hint(builder: Builder, built: BuiltImage) -> str:
    """How to run the image here: buildah builds but does not run images; podman reads its
    storage (with the same storage driver)."""
    mount = " -v /path/to/model:/opt/ml/model:ro" if built.context.mount_model else ""
    runner = "docker" if builder.name == "docker" else "podman"
    if runner == "podman" and builder.storage_driver:
        runner += f" --storage-driver {builder.storage_driver}"
    return f"{runner} run --rm -p 8080:8080{mount} {built.reference}"


def _print_notes(notes: tuple[str, ...]) -> None:
    for note in notes:
        print(f"note: {note}", file=sys.stderr)
