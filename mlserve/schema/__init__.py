"""Model signatures: what a model takes and returns, how to infer it, how to enforce it.

Specs and their MLflow JSON forms live in :mod:`mlserve.schema._types`,
:mod:`mlserve.schema._complex` (arrays, objects, maps, any) and :mod:`mlserve.schema._params`; the
signature in :mod:`mlserve.schema._signature`. The user guide is ``docs/signatures.md``.
"""

from __future__ import annotations

from mlserve.schema._complex import AnyType, Array, Map, Object, Property
from mlserve.schema._enforce import SchemaEnforcer, enforce_schema
from mlserve.schema._infer import infer_param_schema, infer_schema, infer_signature
from mlserve.schema._params import ParamSchema, ParamSpec, enforce_params
from mlserve.schema._signature import ModelSignature
from mlserve.schema._types import ColSpec, DataType, Schema, TensorSpec

__all__ = [
    "AnyType",
    "Array",
    "ColSpec",
    "DataType",
    "Map",
    "ModelSignature",
    "Object",
    "ParamSchema",
    "ParamSpec",
    "Property",
    "Schema",
    "SchemaEnforcer",
    "TensorSpec",
    "enforce_params",
    "enforce_schema",
    "infer_param_schema",
    "infer_schema",
    "infer_signature",
]
