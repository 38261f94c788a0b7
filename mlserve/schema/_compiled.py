"""A signature compiled once: the one object every way into a model reads its rules from.

:func:`compile_schema` turns a model's input :class:`~mlserve.schema._types.Schema` and its
:class:`~mlserve.schema._params.ParamSchema` into a :class:`CompiledSchema`: one
:class:`~mlserve.schema._rules.ColumnRule` per input (by name and by position), the column order
and labels, each column's converter with its complex-type validator, and the params'
converters. The codecs' decoding plan (:func:`mlserve.codecs._plan.build_plan`), the
:class:`~mlserve.schema.SchemaEnforcer` of ``PyFuncModel.predict`` and the server's decoder all
hold this same object, so a rule is decided in one place (STYLE 11) and one mistake gets one
message over HTTP and in process.

Compiling is memoized per schema object (by identity, not equality; a compilation is forgotten
when nothing holds it any more): the model's enforcer and a decoder built later from
``model.signature.inputs`` share one instance without being handed it.
"""

from __future__ import annotations

import functools
import threading
import weakref
from collections.abc import Hashable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from mlserve.schema._columns import Converter, converter_for, exact_dtype
from mlserve.schema._complex import Array, Object
from mlserve.schema._params import CompiledParams, ParamSchema, compile_params, enforce_compiled
from mlserve.schema._rules import ANY, ColumnRule, rule_for
from mlserve.schema._types import ColSpec, Schema

__all__ = ["CompiledSchema", "compile_schema"]

#: the input names that make a JSON body MLflow's unwrapped LLM request (``json_input._llm``)
_LLM_NAMES = ("messages", "prompt", "input")


@dataclass(frozen=True, eq=False, repr=False)
class CompiledSchema:
    """Everything decided about a signature's data, computed once per model.

    ``kind`` is ``none`` (no input schema), ``columns``, ``tensor`` (one unnamed tensor) or
    ``tensors`` (named tensors). ``rules`` holds one rule per input, in order; ``names`` their
    string forms (an unnamed input's position, ``"0"``, ``"1"``, ...), which is what messages
    say. ``labels`` are the declared names as declared (an unnamed input's position as an int):
    a column's label in the data must equal it by value and type, as pandas and MLflow match
    it (``0`` is not ``"0"``; a CSV header or a JSON key is always a string). ``by_name`` maps
    the labels of a named column schema to the same rule objects (a named tensor schema: the
    names' string forms, as JSON keys). ``index`` is the labels the model sees.
    ``converters`` are the enforcer's per-column converters, each built from its rule;
    ``exact`` the dtype a column may already have to need no look, ``uniform`` the one numeric
    dtype every column wants (or None). ``params`` are the params' converters (None without a
    params schema).
    """

    schema: Schema | None
    params_schema: ParamSchema | None
    params: CompiledParams | None
    kind: str
    rules: tuple[ColumnRule, ...] = ()
    names: tuple[str, ...] = ()
    labels: tuple[Hashable, ...] = ()
    named: bool = False
    by_name: Mapping[Hashable, ColumnRule] = field(default_factory=dict)
    index: pd.Index | None = None
    unique: bool = True
    converters: tuple[Converter, ...] = ()
    required: frozenset[str] = frozenset()
    exact: tuple[np.dtype | None, ...] = ()
    uniform: np.dtype | None = None
    #: MLflow reads an object of columns (``"inputs": {...}``) as one row when a column is an
    #: array or an object: ``{"messages": [...]}`` is one conversation, not a column of them
    dict_is_row: bool = False
    #: a column signature declaring ``messages``, ``prompt`` or ``input``
    llm: bool = False

    def __repr__(self) -> str:
        return f"CompiledSchema({self.kind}, names={list(self.names)!r})"

    @property
    def default(self) -> ColumnRule:
        """The rule of a column the schema does not place: a single tensor's, or :data:`ANY`."""
        return self.rules[0] if self.kind in ("tensor", "tensors") and self.rules else ANY

    def enforce_params(self, params: Any, *, strict: bool = False) -> dict[str, Any]:
        """The request's params checked and converted by the compiled param converters
        (:func:`mlserve.schema.enforce_params` with this signature's params schema)."""
        return enforce_compiled(params, self.params, strict=strict)


def _compile(schema: Schema | None, params_schema: ParamSchema | None) -> CompiledSchema:
    params = compile_params(params_schema) if params_schema is not None else None
    if schema is None:
        return CompiledSchema(None, params_schema, params, "none")
    specs = schema.inputs
    named = schema.has_input_names()
    names = tuple(str(s.name) if s.name is not None else str(i) for i, s in enumerate(specs))
    labels = tuple(s.name for s in specs) if named else tuple(range(len(specs)))
    index = pd.Index(list(labels)) if named else pd.RangeIndex(len(specs))
    common: dict[str, Any] = {
        "names": names,
        "labels": labels,
        "named": named,
        "index": index,
        "unique": bool(index.is_unique),
    }
    if schema.is_tensor_spec():
        # an unnamed tensor has no name in messages (MLflow's INVALID_PARAMETER_VALUE)
        rules = tuple(rule_for(s) for s in specs)
        kind = "tensors" if named else "tensor"
        # JSON keys name tensors: by the names' string forms
        by_name: dict[Hashable, ColumnRule] = {r.name: r for r in rules if r.name is not None}
        return CompiledSchema(schema, params_schema, params, kind, rules, by_name=by_name, **common)
    cols: tuple[ColSpec, ...] = specs  # type: ignore[assignment]
    rules = tuple(rule_for(s, n) for s, n in zip(cols, names, strict=True))
    exact = tuple(exact_dtype(s) for s in cols)
    distinct = set(exact)
    return CompiledSchema(
        schema,
        params_schema,
        params,
        "columns",
        rules,
        by_name=dict(zip(labels, rules, strict=True)) if named else {},
        converters=tuple(converter_for(s, r) for s, r in zip(cols, rules, strict=True)),
        required=frozenset(n for s, n in zip(cols, names, strict=True) if s.required),
        exact=exact,
        # when every column wants one numeric dtype, a whole ndarray is cast in one go
        uniform=distinct.pop() if len(distinct) == 1 else None,
        dict_is_row=any(isinstance(s.type, (Array, Object)) for s in cols),
        llm=named and any(n in names for n in _LLM_NAMES),
        **common,
    )


_NOTHING = CompiledSchema(None, None, None, "none")
# id(schema, or the params schema when there is none) -> weak references to its compilations.
# Weak: a compilation lives as long as something holds it (a model's enforcer, a decoder), and
# it holds its schema, so nothing here keeps a schema, or a model's rules, alive.
_CACHE: dict[int, list[weakref.ref[CompiledSchema]]] = {}
# keys whose compilations died; purged under the lock by the next compile_schema. A weakref
# callback runs wherever the garbage collector happens to run, possibly in this module while
# the lock is held: it must not take the lock, only note the key (list.append is atomic).
_DEAD: list[int] = []
_LOCK = threading.Lock()


def compile_schema(
    schema: Schema | None, params_schema: ParamSchema | None = None
) -> CompiledSchema:
    """The :class:`CompiledSchema` of ``schema`` with ``params_schema``: the same instance for
    the same two objects while anything holds it (a model's enforcer does, for the model's
    life)."""
    owner: Any = schema if schema is not None else params_schema
    if owner is None:
        return _NOTHING
    key = id(owner)
    with _LOCK:
        _purge()
        found = _find(_CACHE.get(key, ()), schema, params_schema)
    if found is not None:
        return found
    compiled = _compile(schema, params_schema)
    with _LOCK:
        refs = _CACHE.setdefault(key, [])
        found = _find(refs, schema, params_schema)
        if found is not None:  # compiled meanwhile by another thread: keep theirs
            return found
        refs.append(weakref.ref(compiled, functools.partial(_forget, key)))
    return compiled


def _find(
    refs: Iterable[weakref.ref[CompiledSchema]], schema: Any, params_schema: Any
) -> CompiledSchema | None:
    for ref in list(refs):
        known = ref()
        # by identity: an id may be reused once its object is gone
        if known is not None and known.schema is schema and known.params_schema is params_schema:
            return known
    return None


def _forget(key: int, _gone: Any, dead: list[int] = _DEAD) -> None:
    dead.append(key)  # bound as a default: it may run while the interpreter tears down


def _purge() -> None:
    """Drop the dead references of the keys :func:`_forget` noted (under the lock)."""
    while _DEAD:
        key = _DEAD.pop()
        refs = _CACHE.get(key)
        if refs is not None:
            refs[:] = [r for r in refs if r() is not None]
            if not refs:
                del _CACHE[key]
