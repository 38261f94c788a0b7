"""Check values against the complex column types (:mod:`mlserve.schema._complex`), as MLflow's
``_enforce_array`` / ``_enforce_object`` / ``_enforce_map`` intend.

A type is compiled once into a checker (a closure per node of the type tree), so a request only
runs the checks. A checker takes one value and returns it converted: lists for arrays (a tuple
or 1-D ndarray becomes a list), new dicts for objects and maps (the caller's are never changed),
and the scalar leaves as MLflow gives them to a model (:mod:`mlserve.schema._nested_values`:
an array's items as Python values, an object's or a map's numbers as numpy scalars). It raises
:class:`_Bad` with the path to the value, what was expected there and the kind of value found;
the column converter turns that into an
:class:`~mlserve.errors.InvalidColumnValue` naming the column.

The nullability rules are MLflow's: an optional column may be null, and so may the values of
its maps (MLflow passes the column's ``required`` down to them); an optional property may be
missing or null; an empty list or map always fits; anything fits
:class:`~mlserve.schema._complex.AnyType`. The items of an array of scalars follow their dtype
(:mod:`mlserve.schema._nested_values`): a null is NaN among floats, refused among integers.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import numpy as np
import pandas as pd

from mlserve.schema._complex import AnyType, Array, ColumnType, Map, Object, type_text
from mlserve.schema._datatype import DataType
from mlserve.schema._kinds import value_kind
from mlserve.schema._nested_values import field_converter, items_converter
from mlserve.schema._scalar_values import ValueMismatch, names_the_clock

__all__ = ["Checker", "compile_checker", "is_null", "names_the_clock"]

Checker = Callable[[Any, str], Any]


class _Bad(Exception):
    """A value that does not fit, at ``path`` (``""`` for the column's value itself)."""

    def __init__(self, path: str, expected: str, found: str) -> None:
        super().__init__(path, expected, found)
        self.path = path
        self.expected = expected
        self.found = found


def is_null(value: Any) -> bool:
    """True for None, NaN, ``pd.NA`` and ``NaT``: the nulls a decoded or pandas value can be."""
    if value is None or value is pd.NA or value is pd.NaT:
        return True
    return isinstance(value, float) and math.isnan(value)


def compile_checker(t: ColumnType, required: bool) -> Checker:
    """The checker for values of type ``t`` in a column that is ``required`` or not."""
    if isinstance(t, AnyType):
        return _any
    if isinstance(t, Array):
        return _array(t, required)
    if isinstance(t, Object):
        return _object(t, required)
    if isinstance(t, Map):
        return _map(t, required)
    return _scalar(t, required)


def _any(value: Any, path: str) -> Any:
    return value


def _array(t: Array, required: bool) -> Checker:
    # MLflow: an optional array, or an array of Any, may be null
    nullable = not required or isinstance(t.dtype, AnyType)
    expected = type_text(t)
    if isinstance(t.dtype, DataType):
        # scalars: the items as one Series, as MLflow's _enforce_array reads them
        items = items_converter(t.dtype, required)
        numpy_dtype = t.dtype.to_numpy()

        def check_items(value: Any, path: str) -> Any:
            if value is None and nullable:
                return None
            given = value
            if isinstance(value, np.ndarray) and value.ndim == 1:
                value = value.tolist()
            if not isinstance(value, (list, tuple)):
                raise _Bad(path, expected, value_kind(value))
            if not value:
                return given if isinstance(given, np.ndarray) else []
            try:
                out = items(list(value))
            except ValueMismatch as bad:
                raise _Bad(path, expected, bad.found) from None
            # MLflow's _enforce_array gives back the container it was given: an ndarray (what
            # its `inputs` path makes of an array value) as one of the declared dtype
            if not isinstance(given, np.ndarray):
                return out
            if numpy_dtype.kind in "bSU" and any(v is None for v in out):
                return np.array(out, dtype=object)  # a kept null, never the text "None"
            return np.array(out, dtype=numpy_dtype)

        return check_items
    item = compile_checker(t.dtype, required)

    def check(value: Any, path: str) -> Any:
        if value is None and nullable:
            return None
        given = value
        if isinstance(value, np.ndarray) and value.ndim >= 1:
            value = list(value)  # rows of a 2-D array stay arrays, as MLflow iterates them
        if not isinstance(value, (list, tuple)):
            raise _Bad(path, expected, value_kind(value))
        out = [item(v, f"{path}[{i}]") for i, v in enumerate(value)]
        return _as_given(out, given)

    return check


def _as_given(out: list[Any], given: Any) -> Any:
    """``out`` as an ndarray when the value was one, as MLflow's ``np.array(data_enforced)``."""
    if not isinstance(given, np.ndarray):
        return out
    try:
        return np.array(out)
    except ValueError:  # ragged items, which numpy cannot stack: one object per item
        array = np.empty(len(out), dtype=object)
        array[:] = out
        return array


def _object(t: Object, required: bool) -> Checker:
    props = {p.name: (compile_checker(p.dtype, p.required), p.required) for p in t.properties}
    must = [p.name for p in t.properties if p.required]
    expected = type_text(t)

    def check(value: Any, path: str) -> Any:
        if not required and (value is None or value == {}):
            return value
        if not isinstance(value, dict):
            raise _Bad(path, expected, value_kind(value))
        for name in must:
            if name not in value:
                raise _Bad(f"{path}.{name}", f"required property {name!r}", "it missing")
        out: dict[str, Any] = {}
        for key, v in value.items():
            entry = props.get(key) if isinstance(key, str) else None
            if entry is None:
                raise _Bad(path, f"only the properties of {expected}", "an unknown property")
            checker, needed = entry
            out[key] = None if (not needed and is_null(v)) else checker(v, f"{path}.{key}")
        return out

    return check


def _map(t: Map, required: bool) -> Checker:
    values = compile_checker(t.value_type, required)
    nullable = not required or isinstance(t.value_type, AnyType)
    expected = type_text(t)

    def check(value: Any, path: str) -> Any:
        if nullable and (value is None or value == {}):
            return value
        if not isinstance(value, dict):
            raise _Bad(path, expected, value_kind(value))
        if not all(isinstance(k, str) for k in value):
            raise _Bad(path, expected, "an object with a key that is not a string")
        return {k: values(v, f"{path}[{k!r}]") for k, v in value.items()}

    return check


def _scalar(t: DataType, required: bool) -> Checker:
    # an object's property or a map's value: MLflow's one-value Series (_nested_values)
    convert = field_converter(t)

    def check(value: Any, path: str) -> Any:
        if not required and is_null(value):
            return None  # MLflow's _enforce_datatype: None, NaN included
        if value is None or value is pd.NA or value is pd.NaT:
            raise _Bad(path, t.name, "null")
        try:
            return convert(value)
        except ValueMismatch as bad:
            raise _Bad(path, t.name, bad.found) from None

    return check
