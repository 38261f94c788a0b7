"""Infer the complex column type (:mod:`mlserve.schema._complex`) of lists and dicts, as MLflow's
``infer_signature`` does for columns whose values are lists or dicts.

A dict gives an :class:`Object` (a property per key; a key whose value is null or empty is
optional), a list an :class:`Array` of the merged type of its items, null or an empty list or
dict :class:`AnyType`. Merging two types of one place: equal types stay; :class:`AnyType` gives
way to the other type (making an object's properties optional); two objects keep every
property, those missing from one side optional; ``long`` and ``double`` make ``double`` (as for
list params). Anything else raises :class:`~mlserve.errors.InvalidSignature`.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import numpy as np

from mlserve.errors import InvalidSignature
from mlserve.schema._complex import AnyType, Array, ColumnType, Map, Object, Property, type_text
from mlserve.schema._datatype import DataType
from mlserve.schema._infer_scalar import scalar_type
from mlserve.schema._kinds import value_kind
from mlserve.schema._values import is_null

__all__ = ["infer_value_type", "is_nested", "merge_types"]

_NUMBERS = frozenset({DataType.integer, DataType.long, DataType.float, DataType.double})


def is_nested(value: Any) -> bool:
    """True for the values that make a column complex: lists, tuples, arrays and dicts."""
    return isinstance(value, (list, tuple, dict, np.ndarray))


def infer_value_type(value: Any, where: str) -> ColumnType:
    """The type of one value; ``where`` names it in the error for one no type describes."""
    if is_null(value) or (isinstance(value, (list, tuple, dict)) and not value):
        return AnyType()
    if isinstance(value, dict):
        props = []
        for key, v in value.items():
            if not isinstance(key, str):
                raise InvalidSignature(
                    f"cannot infer an object type for {where}: a key is not a string"
                )
            t = infer_value_type(v, where)
            props.append(Property(key, t, required=not isinstance(t, AnyType)))
        return Object(props)
    if isinstance(value, (list, tuple, np.ndarray)):
        return Array(infer_items(value, where))
    return _scalar(value, where)


def infer_items(values: Iterable[Any], where: str) -> ColumnType:
    """The merged type of several values (the items of a list, the cells of a column);
    :class:`AnyType` when there are none."""
    found: ColumnType | None = None
    for v in values:
        t = infer_value_type(v, where)
        found = t if found is None else merge_types(found, t, where)
    return AnyType() if found is None else found


def merge_types(a: ColumnType, b: ColumnType, where: str) -> ColumnType:
    """One type for values of types ``a`` and ``b`` in one place (see the module docstring)."""
    if a == b:
        return a
    if isinstance(a, AnyType) or isinstance(b, AnyType):
        other = b if isinstance(a, AnyType) else a
        if isinstance(other, Object):  # an absent object makes its properties optional
            return Object(Property(p.name, p.dtype, required=False) for p in other.properties)
        return other
    if isinstance(a, DataType) and isinstance(b, DataType) and {a, b} <= _NUMBERS:
        return DataType.double
    if isinstance(a, Array) and isinstance(b, Array):
        return Array(merge_types(a.dtype, b.dtype, where))
    if isinstance(a, Map) and isinstance(b, Map):
        return Map(merge_types(a.value_type, b.value_type, where))
    if isinstance(a, Object) and isinstance(b, Object):
        left = {p.name: p for p in a.properties}
        right = {p.name: p for p in b.properties}
        props = []
        for name in left.keys() | right.keys():
            p, q = left.get(name), right.get(name)
            if p is None or q is None:
                only = p or q
                assert only is not None
                props.append(Property(name, only.dtype, required=False))
            else:
                t = merge_types(p.dtype, q.dtype, where)
                props.append(Property(name, t, required=p.required and q.required))
        return Object(props)
    raise InvalidSignature(
        f"cannot infer a type for {where}: it holds both {type_text(a)} and {type_text(b)}"
    )


def _scalar(value: Any, where: str) -> DataType:
    found = scalar_type(value)
    if found is None:
        raise InvalidSignature(f"cannot infer a type for {where}: it holds {value_kind(value)}")
    return found
