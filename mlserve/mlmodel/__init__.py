"""The model directory's manifest (``MLmodel``) and its input example files.

:mod:`mlserve.mlmodel._model` holds :class:`Model` and :class:`ModelInfo`;
:mod:`mlserve.mlmodel._example` writes and reads ``input_example.json`` and
``serving_input_example.json``. The reference is ``docs/mlmodel.md``.
"""

from __future__ import annotations

from mlserve.mlmodel._model import MLMODEL_FILE_NAME, Model, ModelInfo

__all__ = ["MLMODEL_FILE_NAME", "Model", "ModelInfo"]
