"""Models written by MLflow's ``mlflow.pytorch`` load through the ``loader_module`` mapping.

The directories are laid out as MLflow writes them: ``data/model.pth`` (a TorchScript archive,
or a whole module pickled by ``torch.save``: MLflow's ``pickle`` format) with
``data/pickle_module_info.txt``, or ``data/model.pt2`` (MLflow 3's default, torch.export).
"""

from __future__ import annotations

import warnings
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import torch
import yaml

import mlserve
from mlserve.testing import check_refuses_untrusted_pickle, write_mlflow_mlmodel


def _module() -> torch.nn.Module:
    torch.manual_seed(0)
    return torch.nn.Sequential(torch.nn.Linear(4, 3), torch.nn.Tanh()).eval()


def _write(module: torch.nn.Module, data: Path, fmt: str, X: Any) -> None:
    data.mkdir(parents=True)
    if fmt == "pt2":
        batch = torch.export.Dim("batch")
        program = torch.export.export(
            module, (torch.tensor(X[:4], dtype=torch.float32),), dynamic_shapes=({0: batch},)
        )
        torch.export.save(program, str(data / "model.pt2"))
        return
    (data / "pickle_module_info.txt").write_text("mlflow.pytorch.pickle_module")
    if fmt == "torchscript":
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", DeprecationWarning)
            torch.jit.script(module).save(str(data / "model.pth"))
    else:
        torch.save(module, str(data / "model.pth"))


@pytest.mark.parametrize("fmt", ["torchscript", "pickle", "pt2"], ids=str)
def test_mlflow_written_model_loads(fmt: str, seed_data: tuple[Any, Any], tmp_path: Path) -> None:
    X, _ = seed_data
    module = _module()
    target = tmp_path / "m"
    _write(module, target / "data", fmt, X)
    pyfunc: dict[str, Any] = {"model_config": {"device": None}}
    if fmt != "pt2":
        pyfunc["pickle_module_name"] = "mlflow.pytorch.pickle_module"
    section = {"code": None, "model_data": "data", "pytorch_version": str(torch.__version__)}
    write_mlflow_mlmodel(
        target, "pytorch", section, data="data", pyfunc=pyfunc, mlflow_version="3.1.0"
    )
    loaded = mlserve.load_model(target)
    assert loaded.flavor == "pytorch"
    with torch.no_grad():
        expected = module(torch.tensor(X, dtype=torch.float32)).numpy()
    np.testing.assert_allclose(loaded.predict(X), expected, rtol=1e-6, atol=1e-7)


def _mlflow_dir(target: Path) -> None:
    write_mlflow_mlmodel(target, "pytorch", {"model_data": "data"}, data="data")


@pytest.mark.parametrize("fmt", ["torchscript", "pt2"], ids=str)
def test_formats_that_are_not_pickles_load_under_no_pickle(
    fmt: str, seed_data: tuple[Any, Any], tmp_path: Path
) -> None:
    X, _ = seed_data
    _write(_module(), tmp_path / "m" / "data", fmt, X)
    _mlflow_dir(tmp_path / "m")
    assert mlserve.load_model(tmp_path / "m", trust="no-pickle").flavor == "pytorch"


def test_mlflow_pickle_format_is_refused_under_no_pickle_before_it_runs(
    seed_data: tuple[Any, Any], tmp_path: Path
) -> None:
    X, _ = seed_data
    _write(_module(), tmp_path / "m" / "data", "pickle", X)
    _mlflow_dir(tmp_path / "m")
    check_refuses_untrusted_pickle(
        tmp_path / "m",
        "data/model.pth",
        tmp_path,
        dump=lambda obj, target: torch.save(obj, str(target)),  # as MLflow's pickle format
    )


def test_model_data_outside_the_model_is_refused(tmp_path: Path) -> None:
    (tmp_path / "m").mkdir()
    _mlflow_dir(tmp_path / "m")
    meta = yaml.safe_load((tmp_path / "m" / "MLmodel").read_text())
    meta["flavors"]["pytorch"]["model_data"] = "../elsewhere"
    (tmp_path / "m" / "MLmodel").write_text(yaml.safe_dump(meta))
    with pytest.raises(mlserve.MalformedModel, match=r"pytorch\.model_data: '\.\./elsewhere'"):
        mlserve.load_model(tmp_path / "m")
