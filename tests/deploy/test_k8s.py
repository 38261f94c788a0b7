"""The manifests of ``mlserve generate-k8s``: valid against the Kubernetes and KServe schemas,
probes on routes the server answers, a grace period that covers the drain."""

from __future__ import annotations

import copy
import dataclasses
import math
from pathlib import Path
from typing import Any

import pytest
import yaml

from mlserve.cli import main
from mlserve.deploy import (
    InvalidImageName,
    InvalidResourceName,
    ManifestOptions,
    OutputExists,
    default_name,
    deployment,
    inference_service,
    resource_name,
    service,
    write_manifests,
)
from mlserve.errors import InvalidParameterValue

from . import _schemas

OPTIONS = [
    pytest.param(ManifestOptions(name="seed-rf", image="ghcr.io/acme/seed-rf:1"), id="defaults"),
    pytest.param(
        ManifestOptions(
            name="seed-rf",
            image="registry.local:5000/seed-rf@sha256:" + "a" * 64,
            replicas=3,
            cpu="500m",
            memory="512Mi",
            graceful_timeout=12.5,
            namespace="models",
            storage_uri="s3://bucket/models/seed-rf",
            model_uri="models:/MyRandomForest/3",
        ),
        id="everything",
    ),
]


def _container(manifest: dict[str, Any]) -> dict[str, Any]:
    spec = manifest["spec"]
    pod = spec["template"]["spec"] if manifest["kind"] == "Deployment" else spec["predictor"]
    (container,) = pod["containers"]
    return container


@pytest.mark.parametrize("options", OPTIONS)
def test_deployment_and_service_are_valid_kubernetes(options: ManifestOptions) -> None:
    assert (
        _schemas.errors(_schemas.kubernetes("io.k8s.api.apps.v1.Deployment"), deployment(options))
        == []
    )
    assert (
        _schemas.errors(_schemas.kubernetes("io.k8s.api.core.v1.Service"), service(options)) == []
    )


@pytest.mark.parametrize("mode", ["raw", "knative"])
@pytest.mark.parametrize("options", OPTIONS)
def test_inference_service_is_valid_kserve(options: ManifestOptions, mode: str) -> None:
    manifest = inference_service(dataclasses.replace(options, kserve_mode=mode))
    assert _schemas.errors(_schemas.inference_service(), manifest) == []
    meta = _schemas.kubernetes("io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta")
    assert _schemas.errors(meta, manifest["metadata"]) == []


@pytest.mark.parametrize(
    ("build", "validator", "mutate"),
    [
        pytest.param(
            deployment,
            lambda: _schemas.kubernetes("io.k8s.api.apps.v1.Deployment"),
            lambda m: _container(m).update(readynessProbe=_container(m).pop("readinessProbe")),
            id="deployment-misspelled-field",
        ),
        pytest.param(
            deployment,
            lambda: _schemas.kubernetes("io.k8s.api.apps.v1.Deployment"),
            lambda m: m["spec"].update(replicas="two"),
            id="deployment-wrong-type",
        ),
        pytest.param(
            inference_service,
            _schemas.inference_service,
            # protocolVersion belongs to the model-format predictors, not to a container
            lambda m: _container(m).update(protocolVersion="v2"),
            id="isvc-protocol-on-container",
        ),
        pytest.param(
            inference_service,
            _schemas.inference_service,
            lambda m: m.update(apiVersion="serving.kserve.io/v1alpha1"),
            id="isvc-wrong-version",
        ),
    ],
)
def test_the_schemas_catch_mistakes(build: Any, validator: Any, mutate: Any) -> None:
    """The validation above can fail: the vendored schemas are strict."""
    manifest = copy.deepcopy(build(OPTIONS[0].values[0]))
    mutate(manifest)
    assert _schemas.errors(validator(), manifest)


@pytest.mark.parametrize("graceful", [0.0, 30.0, 47.2])
def test_the_grace_period_covers_the_drain(graceful: float) -> None:
    options = ManifestOptions(name="m", image="m", graceful_timeout=graceful)
    manifest = deployment(options)
    container = _container(manifest)
    pre_stop = int(container["lifecycle"]["preStop"]["exec"]["command"][1])
    grace = manifest["spec"]["template"]["spec"]["terminationGracePeriodSeconds"]
    assert grace > pre_stop + math.ceil(graceful)
    # the server is told the same drain the grace period was computed from
    env = {e["name"]: e["value"] for e in container["env"]}
    assert float(env["MLSERVE_GRACEFUL_TIMEOUT"]) == graceful
    # KServe's raw mode is a Deployment too: the same probes, preStop and grace period
    raw = inference_service(options)
    assert raw["spec"]["predictor"]["terminationGracePeriodSeconds"] == grace
    assert raw["metadata"]["annotations"]["serving.kserve.io/deploymentMode"] == "RawDeployment"
    for key in ("startupProbe", "livenessProbe", "readinessProbe", "lifecycle"):
        assert _container(raw)[key] == {
            **container[key],
            **(
                {"httpGet": {**container[key]["httpGet"], "port": 8080}}
                if key != "lifecycle"
                else {}
            ),
        }


@pytest.mark.parametrize("mode", ["raw", "knative"])
def test_kserve_gets_v2_and_the_storage_initializer(mode: str) -> None:
    options = ManifestOptions(name="m", image="m", storage_uri="gs://b/m", kserve_mode=mode)
    manifest = inference_service(options)
    container = _container(manifest)
    env = {e["name"]: e["value"] for e in container["env"]}
    assert container["name"] == "kserve-container"
    assert env["PROTOCOL"] == "v2"
    assert env["STORAGE_URI"] == "gs://b/m"
    assert env["MLSERVE_MODEL_URI"] == "/mnt/models"
    assert container["ports"] == [{"containerPort": 8080, "protocol": "TCP"}]
    if mode == "knative":  # Knative refuses lifecycle hooks; its queue-proxy drains
        assert "lifecycle" not in container and "startupProbe" not in container
        assert "terminationGracePeriodSeconds" not in manifest["spec"]["predictor"]
        assert (
            manifest["metadata"]["annotations"]["serving.kserve.io/deploymentMode"] == "Serverless"
        )


def test_probes_are_routes_the_server_answers(saved_seed: Path) -> None:
    """Every probe path in the manifests answers 200 from the real app serving a model."""
    from werkzeug.test import Client

    import mlserve
    from mlserve.server import create_app

    options = ManifestOptions(name="m", image="m")
    paths = set()
    knative = dataclasses.replace(options, kserve_mode="knative")
    for manifest in (deployment(options), inference_service(options), inference_service(knative)):
        container = _container(manifest)
        for key in ("startupProbe", "livenessProbe", "readinessProbe"):
            if key in container:
                paths.add(container[key]["httpGet"]["path"])
    assert paths == {"/v2/health/live", "/v2/health/ready"}
    client = Client(create_app(mlserve.load_model(saved_seed)))
    for path in sorted(paths):
        assert client.get(path).status_code == 200, path


@pytest.mark.parametrize(
    "name",
    ["", "Seed", "seed_rf", "1seed", "seed-", "a" * 64, "seed.rf"],
    ids=["empty", "upper", "underscore", "digit-first", "dash-last", "too-long", "dot"],
)
def test_bad_resource_names_are_refused(name: str) -> None:
    with pytest.raises(InvalidResourceName, match="not a valid Kubernetes name"):
        resource_name(name)


@pytest.mark.parametrize(
    ("model_uri", "image", "expected"),
    [
        ("models:/MyRandomForest/latest", "x", "myrandomforest"),
        ("models:/My_Random.Forest@champion", "x", "my-random-forest"),
        ("/tmp/model", "ghcr.io/acme/seed_rf:1", "seed-rf"),
        ("runs:/abc/model", "localhost/2-fast:1", "fast"),
    ],
)
def test_default_names(model_uri: str, image: str, expected: str) -> None:
    assert default_name(model_uri, image) == expected


@pytest.mark.parametrize(
    ("field", "value", "error"),
    [
        ("cpu", "one", InvalidParameterValue),
        ("memory", "2GB", InvalidParameterValue),
        ("replicas", 0, InvalidParameterValue),
        ("image", "Not An Image", InvalidImageName),
        ("namespace", "Models", InvalidResourceName),
        ("kserve_mode", "serverless", InvalidParameterValue),
    ],
)
def test_bad_options_are_refused(field: str, value: Any, error: type[Exception]) -> None:
    with pytest.raises(error):
        ManifestOptions(**{"name": "m", "image": "m", field: value})


def test_generate_k8s_writes_valid_files(
    tmp_path: Path, saved_seed: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "k8s"
    code = main(
        ["generate-k8s", "-m", str(saved_seed), "--image", "ghcr.io/acme/seed-rf:1", "-d", str(out)]
    )
    assert code == 0, capsys.readouterr().err
    assert sorted(p.name for p in out.iterdir()) == ["deployment.yaml", "inferenceservice.yaml"]
    deploy_docs = list(yaml.safe_load_all((out / "deployment.yaml").read_text()))
    assert [d["kind"] for d in deploy_docs] == ["Deployment", "Service"]
    assert deploy_docs[0]["metadata"]["name"] == "seed-rf"  # from the image: a path has no name
    assert (
        _schemas.errors(_schemas.kubernetes("io.k8s.api.apps.v1.Deployment"), deploy_docs[0]) == []
    )
    assert _schemas.errors(_schemas.kubernetes("io.k8s.api.core.v1.Service"), deploy_docs[1]) == []
    (isvc,) = yaml.safe_load_all((out / "inferenceservice.yaml").read_text())
    assert _schemas.errors(_schemas.inference_service(), isvc) == []
    assert "kubectl apply -f" in capsys.readouterr().out


def test_generate_k8s_refuses_bad_input_before_writing(
    tmp_path: Path, saved_seed: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "k8s"
    cases = [
        (["--image", "Bad Image"], "not a valid image name"),
        (["--image", "x", "--name", "Bad"], "not a valid Kubernetes name"),
        (["--image", "x", "--cpu", "lots"], "not a Kubernetes quantity"),
    ]
    for extra, message in cases:
        assert main(["generate-k8s", "-m", str(saved_seed), "-d", str(out), *extra]) == 1
        err = capsys.readouterr().err
        assert message in err and err.count("\n") == 1 and "Traceback" not in err
    assert (
        main(["generate-k8s", "-m", str(tmp_path / "nothing"), "-d", str(out), "--image", "x"]) == 1
    )
    assert not out.exists()
    assert list(tmp_path.glob(".k8s.tmp-*")) == []


def test_write_manifests_does_not_overwrite(tmp_path: Path) -> None:
    out = tmp_path / "k8s"
    out.mkdir()
    (out / "mine.yaml").write_text("kept")
    with pytest.raises(OutputExists):
        write_manifests(ManifestOptions(name="m", image="m"), out)
    assert [p.name for p in out.iterdir()] == ["mine.yaml"]
