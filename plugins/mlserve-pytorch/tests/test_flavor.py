"""The pytorch flavor: conformance kit, TorchScript and torch.export files, inputs and outputs."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
import torch
from mlserve_pytorch import flavor

import mlserve
from mlserve import InvalidParameterValue, MalformedModel, ModelPredictError
from mlserve.testing import check_flavor, check_mlflow_sections


class TwoHeads(torch.nn.Module):
    """forward(a, b) -> (a @ W + b, sum of a): keyword inputs and a tuple output."""

    def __init__(self) -> None:
        super().__init__()
        self.linear = torch.nn.Linear(2, 2)

    def forward(self, a: torch.Tensor, b: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        return self.linear(a) + b, a.sum(dim=1)


class NotScriptable(torch.nn.Module):
    def forward(self, x: Any) -> Any:  # TorchScript cannot compile an untyped **kwargs call
        return torch.stack([v for v in {"x": x}.values()]).sum(0)


def _mlp(n_in: int = 4, n_out: int = 2) -> torch.nn.Module:
    torch.manual_seed(0)
    return torch.nn.Sequential(
        torch.nn.Linear(n_in, 8), torch.nn.ReLU(), torch.nn.Linear(8, n_out)
    ).eval()


def _native(module: torch.nn.Module, X: Any) -> Any:
    with torch.no_grad():
        return module(torch.as_tensor(X, dtype=torch.float32)).numpy()


@pytest.mark.parametrize("fmt", ["torchscript", "pt2"], ids=str)
def test_conformance_ndarray(fmt: str, seed_data: tuple[Any, Any], tmp_path: Path) -> None:
    X, _ = seed_data
    module = _mlp()
    options = {"example_inputs": X[:10]} if fmt == "pt2" else {}
    loaded = check_flavor(
        flavor,
        module,
        X[:10],
        tmp_path,
        serialization_format=fmt,
        expected=_native(module, X[:10]),
        **options,
    )
    np.testing.assert_allclose(loaded.predict(X), _native(module, X), rtol=1e-6, atol=1e-7)


def test_conformance_dataframe(seed_data: tuple[Any, Any], tmp_path: Path) -> None:
    X, _ = seed_data
    frame = pd.DataFrame(X, columns=["a", "b", "c", "d"])
    check_flavor(flavor, _mlp(), frame.iloc[:10], tmp_path)


def test_torchscript_file_is_readable_by_torch(seed_data: tuple[Any, Any], tmp_path: Path) -> None:
    X, _ = seed_data
    module = _mlp()
    mlserve.save_model(module, tmp_path / "m")  # a module is picked automatically
    section = {
        "model_data": "data",
        "pytorch_version": str(torch.__version__),
        "serialization_format": "torchscript",
    }
    check_mlflow_sections(tmp_path / "m", "pytorch", section, pyfunc={"data": "data"})
    # what MLflow's own reader opens first
    assert (tmp_path / "m" / "data" / "pickle_module_info.txt").is_file()
    with pytest.warns(DeprecationWarning):  # PyTorch 2.13 deprecates TorchScript
        native = torch.jit.load(str(tmp_path / "m" / "data" / "model.pth"))
    np.testing.assert_array_equal(_native(native, X), _native(module, X))
    loaded = mlserve.load_model(tmp_path / "m")
    assert loaded.flavor == "pytorch"
    assert not loaded.unwrap().training


def test_pt2_program_is_readable_by_torch_export(
    seed_data: tuple[Any, Any], tmp_path: Path
) -> None:
    X, _ = seed_data
    module = _mlp()
    mlserve.save_model(module, tmp_path / "m", serialization_format="pt2", example_inputs=X[:4])
    program = torch.export.load(str(tmp_path / "m" / "data" / "model.pt2"))
    np.testing.assert_allclose(_native(program.module(), X), _native(module, X), rtol=1e-6)
    # the batch dimension is free: any number of rows
    loaded = mlserve.load_model(tmp_path / "m")
    assert loaded.predict(X[:1]).shape == (1, 2)
    assert loaded.predict(X).shape == (100, 2)


def test_float64_module_keeps_its_precision(seed_data: tuple[Any, Any], tmp_path: Path) -> None:
    X, _ = seed_data
    module = _mlp().double()
    mlserve.save_model(module, tmp_path / "m")
    out = mlserve.load_model(tmp_path / "m").predict(X)
    assert out.dtype == np.float64
    with torch.no_grad():
        np.testing.assert_array_equal(out, module(torch.from_numpy(X)).numpy())


def test_dict_input_and_tuple_output(tmp_path: Path) -> None:
    torch.manual_seed(0)
    module = TwoHeads().eval()
    mlserve.save_model(module, tmp_path / "m")
    a = np.array([[1.0, 2.0], [3.0, 4.0]])
    b = np.array([[0.5, 0.5], [1.0, 1.0]])
    out = mlserve.load_model(tmp_path / "m").predict({"a": a, "b": b})
    assert set(out) == {"0", "1"}
    with torch.no_grad():
        first, _ = module(torch.tensor(a, dtype=torch.float32), torch.tensor(b).float())
    np.testing.assert_array_equal(out["0"], first.numpy())
    np.testing.assert_array_equal(out["1"], [3.0, 7.0])


def test_text_input_is_a_predict_error(tmp_path: Path) -> None:
    mlserve.save_model(_mlp(), tmp_path / "m")
    with pytest.raises(ModelPredictError):
        mlserve.load_model(tmp_path / "m").predict(np.array([["a", "b", "c", "d"]], dtype=object))


def test_batchable_can_be_declared_false(tmp_path: Path) -> None:
    mlserve.save_model(_mlp(), tmp_path / "m", batchable=False)
    caps = mlserve.load_model(tmp_path / "m").capabilities
    assert not caps.batchable
    assert caps.thread_safe


@pytest.mark.parametrize(
    ("options", "match"),
    [
        ({"serialization_format": "pickle"}, "serialization_format"),
        ({"serialization_format": "pt2"}, "example_inputs"),
    ],
    ids=["unknown-format", "pt2-without-example"],
)
def test_bad_save_options_are_refused(options: dict[str, Any], match: str, tmp_path: Path) -> None:
    with pytest.raises(InvalidParameterValue, match=match):
        flavor.save(_mlp(), tmp_path, **options)


def test_module_torchscript_cannot_compile_is_refused_with_advice(tmp_path: Path) -> None:
    with pytest.raises(InvalidParameterValue, match="pt2"):
        flavor.save(NotScriptable(), tmp_path)


def test_can_save_only_modules() -> None:
    assert flavor.can_save(_mlp())
    assert not flavor.can_save(torch.zeros(2))
    assert not flavor.can_save(np.zeros(2))
    assert {"mlserve-pytorch", "torch"} <= set(flavor.requirements(None))


@pytest.mark.parametrize(
    ("section", "content", "match"),
    [
        ({"model_data": "data"}, None, "no model.pth"),
        ({"model_data": "../elsewhere"}, None, "outside"),
        ({"model_data": "data"}, b"not a model", "PyTorch cannot load"),
    ],
    ids=["empty", "path-escape", "garbage"],
)
def test_malformed_models_are_refused(
    section: dict[str, Any], content: bytes | None, match: str, tmp_path: Path
) -> None:
    (tmp_path / "data").mkdir()
    if content is not None:
        (tmp_path / "data" / "model.pth").write_bytes(content)
    with pytest.raises(MalformedModel, match=match):
        flavor.load(tmp_path, section)
