"""A test flavor registered as ``catboost`` (no real catboost involved): its models carry a
``python_function`` section with ``loader_module: mlflow.catboost``, the shape the real plugins
write (``mlflow.lightgbm``, ``mlflow.xgboost``, ...), and its ``requirements()`` names its own
distribution first, as theirs do. ``NativeConstant`` predicts one value for every row.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from mlserve import Capabilities


class NativeConstant:
    def __init__(self, value: float) -> None:
        self.value = value


class _Predictor:
    capabilities = Capabilities(accepts_dataframe=True, accepts_ndarray=True, batchable=True)

    def __init__(self, model: NativeConstant) -> None:
        self.model = model

    def predict(self, data, params=None):
        return np.full(len(data), self.model.value)


class NativeConstantFlavor:
    name = "catboost"

    def can_save(self, obj) -> bool:
        return isinstance(obj, NativeConstant)

    def save(self, obj, path: Path, **options) -> dict:
        (Path(path) / "constant.json").write_text(json.dumps({"value": obj.value}))
        return {
            "data": "constant.json",
            "python_function": {"loader_module": "mlflow.catboost", "data": "constant.json"},
        }

    def load(self, path: Path, section) -> NativeConstant:
        return NativeConstant(json.loads((Path(path) / section["data"]).read_text())["value"])

    def predictor(self, native, section) -> _Predictor:
        return _Predictor(native)

    def requirements(self, obj=None) -> list[str]:
        return ["mlserve-native-flavor", "numpy"]


flavor = NativeConstantFlavor()
