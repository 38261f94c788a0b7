"""A PyTorch module served by a real ``python -m mlserve.server`` answers as the module does."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pytest
import torch

import mlserve
from mlserve.testing import serve_model


@pytest.mark.slow
def test_served_predictions_equal_pytorch(seed_data: tuple[Any, Any], tmp_path: Path) -> None:
    X, _ = seed_data
    torch.manual_seed(0)
    module = torch.nn.Sequential(torch.nn.Linear(4, 8), torch.nn.ReLU(), torch.nn.Linear(8, 2))
    module.eval()
    mlserve.save_model(module, tmp_path / "m", input_example=X[:3])
    rows = X[:20]
    with serve_model(tmp_path / "m") as served:
        predictions = served.predictions({"inputs": rows.tolist()})
    with torch.no_grad():
        expected = module(torch.tensor(rows, dtype=torch.float32)).numpy()
    # float32 outputs travel as JSON numbers: equal to float32 precision
    np.testing.assert_allclose(predictions, expected, rtol=1e-6, atol=1e-7)
