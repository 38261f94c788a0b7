"""A minimal third-party flavor: ``ConstantModel`` predicts one value for every row.

It imports only the public ``mlserve`` names, as a plugin should.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from mlserve import Capabilities


class ConstantModel:
    """The native model: predicts ``value`` for every input row."""

    def __init__(self, value: float) -> None:
        self.value = value

    def predict(self, data):
        return np.full(len(data), self.value)


class _Predictor:
    capabilities = Capabilities(
        accepts_dataframe=True, accepts_ndarray=True, batchable=True, thread_safe=True
    )

    def __init__(self, model: ConstantModel) -> None:
        self.model = model

    def predict(self, data, params=None):
        return self.model.predict(data)


class ConstantFlavor:
    name = "constant"

    def can_save(self, obj) -> bool:
        return isinstance(obj, ConstantModel)

    def save(self, obj, path: Path, **options) -> dict:
        (Path(path) / "constant.json").write_text(json.dumps({"value": obj.value}))
        return {"data": "constant.json", "format_version": 1}

    def load(self, path: Path, section) -> ConstantModel:
        raw = json.loads((Path(path) / section["data"]).read_text())
        return ConstantModel(raw["value"])

    def predictor(self, native, section) -> _Predictor:
        return _Predictor(native)

    def requirements(self, obj=None) -> list[str]:
        return ["numpy"]


flavor = ConstantFlavor()
