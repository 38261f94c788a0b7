"""MLflow's ``mlflow.models`` under mlserve's name: signatures and the MLmodel file.

A script written for MLflow imports ``from mlflow.models import infer_signature``; with ``mlflow``
replaced by ``mlserve`` it finds the same names here. Each is also on :mod:`mlserve` itself.
"""

from __future__ import annotations

from mlserve.mlmodel import Model, ModelInfo
from mlserve.schema import ModelSignature, infer_signature

__all__ = ["Model", "ModelInfo", "ModelSignature", "infer_signature"]
