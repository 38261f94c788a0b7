"""MlserveClient: the registry and runs through MLflow's method names."""

from __future__ import annotations

from pathlib import Path

import pytest

import mlserve
from mlserve.errors import (
    AliasNotFound,
    ModelVersionNotFound,
    RegisteredModelNotFound,
    ResourceAlreadyExists,
    RunNotFound,
)


def _model(path: Path) -> Path:
    path.mkdir(parents=True)
    (path / "MLmodel").write_text("flavors:\n  python_function: {}\n")
    return path


@pytest.fixture
def client(tmp_path: Path) -> mlserve.MlserveClient:
    return mlserve.MlserveClient(tmp_path / "store")


def test_tracking_uri_is_fixed_at_construction(tmp_path: Path) -> None:
    mlserve.set_tracking_uri(tmp_path / "a")
    try:
        client = mlserve.MlserveClient()
    finally:
        mlserve.set_tracking_uri(None)
    assert client.tracking_uri == (tmp_path / "a").as_uri()
    assert mlserve.MlserveClient().tracking_uri == (tmp_path / "mlserve-store").as_uri()


def test_registered_model_lifecycle(client: mlserve.MlserveClient) -> None:
    client.create_registered_model("Fraud", tags={"team": "risk"}, description="first")
    with pytest.raises(ResourceAlreadyExists):
        client.create_registered_model("Fraud")
    client.update_registered_model("Fraud", "second")
    client.set_registered_model_tag("Fraud", "tier", 1)
    client.delete_registered_model_tag("Fraud", "team")
    model = client.get_registered_model("Fraud")
    assert (model.description, model.tags) == ("second", {"tier": "1"})
    client.create_registered_model("Churn")
    assert [m.name for m in client.list_registered_models()] == ["Churn", "Fraud"]
    assert [m.name for m in client.search_registered_models("name = 'Churn'")] == ["Churn"]
    client.delete_registered_model("Fraud")
    with pytest.raises(RegisteredModelNotFound, match="Registered models: Churn"):
        client.get_registered_model("Fraud")


def test_versions_and_aliases(client: mlserve.MlserveClient, tmp_path: Path) -> None:
    source = _model(tmp_path / "m")
    client.create_registered_model("Fraud")
    for _ in range(3):
        client.create_model_version("Fraud", source, tags={"k": "v"}, description="d")
    assert [v.version for v in client.list_model_versions("Fraud")] == [1, 2, 3]
    assert [v.version for v in client.search_model_versions("Fraud")] == [1, 2, 3]
    assert client.get_latest_version("Fraud").version == 3
    client.set_registered_model_alias("Fraud", "champion", 2)
    assert client.get_model_version_by_alias("Fraud", "champion").version == 2
    assert client.get_model_version("Fraud", 2).aliases == ("champion",)
    client.update_model_version("Fraud", 2, "best")
    client.set_model_version_tag("Fraud", 2, "ok", "yes")
    client.delete_model_version_tag("Fraud", 2, "k")
    version = client.get_model_version("Fraud", "2")
    assert (version.description, version.tags) == ("best", {"ok": "yes"})
    path = Path(client.get_model_version_download_uri("Fraud", 2))
    assert (path / "MLmodel").is_file()
    client.delete_registered_model_alias("Fraud", "champion")
    with pytest.raises(AliasNotFound, match="Aliases: none"):
        client.get_model_version_by_alias("Fraud", "champion")
    client.delete_model_version("Fraud", 3)
    with pytest.raises(ModelVersionNotFound, match="Versions: 1, 2"):
        client.get_model_version("Fraud", 3)


def test_runs(client: mlserve.MlserveClient, seed_model, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    mlserve.set_tracking_uri(tmp_path / "store")
    try:
        info = mlserve.log_model(seed_model, "model")
    finally:
        mlserve.set_tracking_uri(None)
    assert info.run_id is not None
    assert client.get_run(info.run_id).info.status == "FINISHED"
    assert [r.info.run_id for r in client.search_runs()] == [info.run_id]
    assert client.list_artifacts(info.run_id) == ["model"]
    with pytest.raises(RunNotFound):
        client.get_run("f" * 32)
