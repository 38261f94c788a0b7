"""Kubernetes manifests for a model's image: a Deployment and a Service, and a KServe
``InferenceService`` with the image as its custom predictor container.

Both use the server's own health routes and its drain:

* readiness on ``/v2/health/ready``, liveness on ``/v2/health/live`` (the Deployment adds a
  startup probe, so loading a large model is not mistaken for a hung server);
* on deletion the Deployment's pod first sleeps in ``preStop`` (so endpoints stop routing to it
  before it stops accepting), then gets SIGTERM and drains within ``MLSERVE_GRACEFUL_TIMEOUT``;
  ``terminationGracePeriodSeconds`` is the sleep plus that timeout plus a margin, so the kubelet
  never kills a pod that is still draining;
* KServe reads a custom container's protocol from its ``PROTOCOL`` environment variable
  (``protocolVersion`` is a field of the model-format predictors only): ``PROTOCOL=v2``. By
  default the InferenceService asks for KServe's raw deployment mode, a plain Deployment, where
  the probes, ``preStop`` and grace period above hold as they are; in Knative mode Knative
  refuses ``lifecycle`` hooks and its queue-proxy drains instead. With ``storage_uri`` KServe's
  storage initializer downloads the model to ``/mnt/models`` and the server loads it there.
"""

from __future__ import annotations

import math
import os
import re
import shutil
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from mlserve.deploy._context import CONTAINER_PORT, USER_ID
from mlserve.deploy._errors import InvalidResourceName, OutputExists
from mlserve.deploy._reference import parse_image_reference
from mlserve.errors import InvalidParameterValue

__all__ = [
    "KSERVE_MODEL_PATH",
    "KSERVE_MODES",
    "ManifestOptions",
    "default_name",
    "deployment",
    "inference_service",
    "resource_name",
    "service",
    "write_manifests",
]

#: where KServe's storage initializer puts the model named by STORAGE_URI
KSERVE_MODEL_PATH = "/mnt/models"
PRESTOP_SLEEP_S = 5
#: how KServe runs the predictor: a plain Deployment (raw) or a Knative Service
KSERVE_MODES = ("raw", "knative")
_GRACE_MARGIN_S = 5
_DNS_1035 = re.compile(r"[a-z]([-a-z0-9]*[a-z0-9])?")
_QUANTITY = re.compile(r"[0-9]+(\.[0-9]+)?(m|k|M|G|T|P|E|Ki|Mi|Gi|Ti|Pi|Ei)?")


@dataclass(frozen=True)
class ManifestOptions:
    """What the manifests are made of: resource ``name``, ``image``, ``replicas``, CPU and
    memory requests (``memory`` is the limit too), the server's ``graceful_timeout`` in seconds,
    a ``namespace`` (None: the one kubectl uses), KServe's ``storage_uri`` (None: the model is
    in the image), the ``model_uri`` it was made for (written as an annotation), and the
    ``kserve_mode`` (``raw`` or ``knative``, see :func:`inference_service`)."""

    name: str
    image: str
    replicas: int = 1
    cpu: str = "1"
    memory: str = "2Gi"
    graceful_timeout: float = 30.0
    namespace: str | None = None
    storage_uri: str | None = None
    model_uri: str = ""
    kserve_mode: str = "raw"

    def __post_init__(self) -> None:
        resource_name(self.name)
        parse_image_reference(self.image)
        for label, value in (("--cpu", self.cpu), ("--memory", self.memory)):
            if not _QUANTITY.fullmatch(value):
                raise InvalidParameterValue(
                    f"{label} {value!r} is not a Kubernetes quantity (e.g. 500m, 2, 512Mi, 2Gi)"
                )
        if self.replicas < 1:
            raise InvalidParameterValue("--replicas must be at least 1")
        if not self.graceful_timeout >= 0:
            raise InvalidParameterValue("--graceful-timeout must be 0 or more seconds")
        if self.namespace is not None:
            resource_name(self.namespace)
        if self.kserve_mode not in KSERVE_MODES:
            raise InvalidParameterValue(
                f"--kserve-mode {self.kserve_mode!r}: choose one of {', '.join(KSERVE_MODES)}"
            )

    @property
    def termination_grace_s(self) -> int:
        """preStop sleep + drain + margin: the kubelet's SIGKILL never cuts a drain short."""
        return PRESTOP_SLEEP_S + math.ceil(self.graceful_timeout) + _GRACE_MARGIN_S


def resource_name(text: str) -> str:
    """``text`` if it can name a Deployment, Service and InferenceService (a DNS-1035 label);
    raises :class:`~mlserve.deploy.InvalidResourceName` otherwise."""
    if len(text) > 63 or not _DNS_1035.fullmatch(text):
        raise InvalidResourceName(text)
    return text


def default_name(model_uri: str, image: str) -> str:
    """A resource name from the registered model's name, else the image's repository:
    lowercased, other characters as ``-``; raises when nothing usable is left."""
    from mlserve._uri import RegistryURI, parse_model_uri

    try:
        parsed = parse_model_uri(model_uri)
    except InvalidParameterValue:
        parsed = None
    source = (
        parsed.name if isinstance(parsed, RegistryURI) else parse_image_reference(image).repository
    )
    name = re.sub(r"[^a-z0-9]+", "-", source.lower()).strip("-")
    name = re.sub(r"^[^a-z]+", "", name)[:63].rstrip("-")
    return resource_name(name or source)


def _labels(options: ManifestOptions) -> dict[str, str]:
    return {"app.kubernetes.io/name": options.name, "app.kubernetes.io/component": "model-server"}


def _metadata(options: ManifestOptions, **extra: Any) -> dict[str, Any]:
    meta: dict[str, Any] = {"name": options.name}
    if options.namespace:
        meta["namespace"] = options.namespace
    meta.update(extra)
    return meta


def _annotations(options: ManifestOptions) -> dict[str, str]:
    return {"mlserve/model-uri": options.model_uri} if options.model_uri else {}


def _env(options: ManifestOptions) -> list[dict[str, str]]:
    # the drain the grace period is computed from, set explicitly so the two cannot drift
    env = [{"name": "MLSERVE_GRACEFUL_TIMEOUT", "value": f"{options.graceful_timeout:g}"}]
    if options.storage_uri:
        env += [
            {"name": "STORAGE_URI", "value": options.storage_uri},
            {"name": "MLSERVE_MODEL_URI", "value": KSERVE_MODEL_PATH},
        ]
    return env


def _probe(path: str, port: int | str, period: int, failures: int) -> dict[str, Any]:
    return {
        "httpGet": {"path": path, "port": port},
        "periodSeconds": period,
        "timeoutSeconds": 5,
        "failureThreshold": failures,
    }


def _security() -> dict[str, Any]:
    return {
        "runAsNonRoot": True,
        "runAsUser": USER_ID,
        "runAsGroup": USER_ID,
        "allowPrivilegeEscalation": False,
        "capabilities": {"drop": ["ALL"]},
    }


def _resources(options: ManifestOptions) -> dict[str, Any]:
    # no CPU limit: throttling a busy model server adds latency without saving anything
    return {
        "requests": {"cpu": options.cpu, "memory": options.memory},
        "limits": {"memory": options.memory},
    }


def deployment(options: ManifestOptions) -> dict[str, Any]:
    """The ``apps/v1`` Deployment running ``options.image``."""
    container = {
        "name": "mlserve",
        "image": options.image,
        "ports": [{"name": "http", "containerPort": CONTAINER_PORT, "protocol": "TCP"}],
        "env": _env(options),
        "resources": _resources(options),
        # up to 10 minutes to load the model before liveness counts
        "startupProbe": _probe("/v2/health/live", "http", 5, 120),
        "livenessProbe": _probe("/v2/health/live", "http", 10, 3),
        "readinessProbe": _probe("/v2/health/ready", "http", 5, 2),
        "lifecycle": {"preStop": {"exec": {"command": ["sleep", str(PRESTOP_SLEEP_S)]}}},
        "securityContext": _security(),
    }
    return {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": _metadata(options, labels=_labels(options), annotations=_annotations(options)),
        "spec": {
            "replicas": options.replicas,
            "selector": {"matchLabels": {"app.kubernetes.io/name": options.name}},
            "template": {
                "metadata": {
                    "labels": _labels(options),
                    "annotations": {
                        "prometheus.io/scrape": "true",
                        "prometheus.io/port": str(CONTAINER_PORT),
                        "prometheus.io/path": "/metrics",
                    },
                },
                "spec": {
                    "terminationGracePeriodSeconds": options.termination_grace_s,
                    "containers": [container],
                },
            },
        },
    }


def service(options: ManifestOptions) -> dict[str, Any]:
    """The ``v1`` Service in front of :func:`deployment`'s pods, on port 8080."""
    return {
        "apiVersion": "v1",
        "kind": "Service",
        "metadata": _metadata(options, labels=_labels(options)),
        "spec": {
            "type": "ClusterIP",
            "selector": {"app.kubernetes.io/name": options.name},
            "ports": [
                {"name": "http", "port": CONTAINER_PORT, "targetPort": "http", "protocol": "TCP"}
            ],
        },
    }


def inference_service(options: ManifestOptions) -> dict[str, Any]:
    """The KServe ``serving.kserve.io/v1beta1`` InferenceService (custom predictor, V2).

    ``options.kserve_mode`` ``raw`` (KServe's ``RawDeployment``, ``Standard`` since 0.16: a plain
    Deployment) keeps the Deployment's startup probe, ``preStop`` and grace period; ``knative``
    leaves out what Knative refuses or owns (lifecycle hooks, the grace period: its queue-proxy
    drains), and liveness waits up to 2 minutes for the model instead of a startup probe.
    """
    raw = options.kserve_mode == "raw"
    container: dict[str, Any] = {
        "name": "kserve-container",  # the name KServe gives the predictor's serving container
        "image": options.image,
        "ports": [{"containerPort": CONTAINER_PORT, "protocol": "TCP"}],
        "env": [{"name": "PROTOCOL", "value": "v2"}, *_env(options)],
        "resources": _resources(options),
    }
    if raw:
        container["startupProbe"] = _probe("/v2/health/live", CONTAINER_PORT, 5, 120)
        container["livenessProbe"] = _probe("/v2/health/live", CONTAINER_PORT, 10, 3)
    else:
        container["livenessProbe"] = _probe("/v2/health/live", CONTAINER_PORT, 10, 12)
    container["readinessProbe"] = _probe("/v2/health/ready", CONTAINER_PORT, 5, 2)
    if raw:
        container["lifecycle"] = {"preStop": {"exec": {"command": ["sleep", str(PRESTOP_SLEEP_S)]}}}
    container["securityContext"] = _security()
    annotations = {
        # the legacy spelling: every KServe release reads it (0.16+ as "Standard")
        "serving.kserve.io/deploymentMode": "RawDeployment" if raw else "Serverless",
        "serving.kserve.io/enable-prometheus-scraping": "true",
        "prometheus.kserve.io/port": str(CONTAINER_PORT),
        "prometheus.kserve.io/path": "/metrics",
        **_annotations(options),
    }
    predictor: dict[str, Any] = {"minReplicas": options.replicas}
    if raw:
        predictor["terminationGracePeriodSeconds"] = options.termination_grace_s
    predictor["containers"] = [container]
    return {
        "apiVersion": "serving.kserve.io/v1beta1",
        "kind": "InferenceService",
        "metadata": _metadata(options, annotations=annotations),
        "spec": {"predictor": predictor},
    }


def write_manifests(options: ManifestOptions, directory: str | os.PathLike[str]) -> list[Path]:
    """Write ``deployment.yaml`` (Deployment + Service) and ``inferenceservice.yaml`` into
    ``directory`` (which must not exist or be empty), all at once: the files appear together
    or not at all. Returns their paths."""
    target = Path(directory).absolute()
    if target.exists() and (not target.is_dir() or any(target.iterdir())):
        raise OutputExists(str(target))
    documents = {
        "deployment.yaml": [deployment(options), service(options)],
        "inferenceservice.yaml": [inference_service(options)],
    }
    target.parent.mkdir(parents=True, exist_ok=True)
    staging = target.parent / f".{target.name}.tmp-{uuid.uuid4().hex}"
    staging.mkdir()
    try:
        for filename, docs in documents.items():
            (staging / filename).write_text(
                yaml.safe_dump_all(docs, sort_keys=False, default_flow_style=False),
                encoding="utf-8",
            )
        if target.exists():
            target.rmdir()
        os.rename(staging, target)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return [target / filename for filename in documents]
