"""The per-model decoding plan: what each column or tensor becomes, derived once from a Schema.

A :class:`DecodePlan` is built when a :class:`~mlserve.codecs.RequestDecoder` is created, so a
request never re-reads the signature: it only looks up a column's
:class:`~mlserve.schema._rules.ColumnRule`. The rules are not the plan's own: they are the
signature's :class:`~mlserve.schema._compiled.CompiledSchema`, the one object the model's schema
enforcer converts with too (the plan re-exports ``ColumnRule`` and ``ANY``).

The plan also bounds a request's cost (:class:`DecodeLimits`): every codec counts the columns a
body names before it types any of them, refuses a body past the limit, and drops the columns
the signature does not declare (MLflow ignores them too) before any per-column work, so the work
a request costs follows what the model needs, not what a client chose to send.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np

from mlserve.errors import PayloadTooLarge
from mlserve.schema import ParamSchema, Schema, TensorSpec
from mlserve.schema._compiled import CompiledSchema, compile_schema
from mlserve.schema._rules import ANY, ColumnRule

__all__ = ["ANY", "DEFAULT_MAX_MEMORY", "ColumnRule", "DecodeLimits", "DecodePlan", "build_plan"]

#: the memory one request may take to decode by default (``--max-request-memory``): 512 MiB
DEFAULT_MAX_MEMORY = 512 * 1024 * 1024


@dataclass(frozen=True)
class DecodeLimits:
    """How many columns and rows one request may carry, and how much memory decoding it may
    take, in bytes (``None``: no limit).

    A model whose signature declares more columns than ``max_columns`` may always be sent all
    of them: the limit is the larger of the two. ``max_memory`` is checked against an estimate
    made before the memory is spent (:mod:`mlserve.codecs._cost`).
    """

    max_columns: int | None = 10_000
    max_rows: int | None = 1_000_000
    max_memory: int | None = DEFAULT_MAX_MEMORY

    @classmethod
    def none(cls) -> DecodeLimits:
        """No limits (in-process decoding of data the caller already holds)."""
        return cls(None, None, None)


@dataclass(frozen=True)
class DecodePlan:
    """Everything decoding needs from a signature, computed once.

    ``kind`` is ``none`` (no signature), ``columns`` (ColSpecs), ``tensor`` (one unnamed
    tensor) or ``tensors`` (named tensors). ``names`` are the declared input names in order, in
    their string form (empty when unnamed), for messages; ``labels`` the same names as declared
    (``0`` stays an int). ``by_name`` is keyed by the labels of a column schema (a data label
    matches by value and type, as in pandas: ``"0"`` is not ``0``) and by the string names
    of a tensor schema (JSON keys). ``enforce`` is the prebuilt schema enforcer, or None.
    """

    schema: Schema | None
    params_schema: ParamSchema | None
    kind: str
    names: tuple[str, ...] = ()
    by_name: Mapping[Hashable, ColumnRule] = field(default_factory=dict)
    by_position: tuple[ColumnRule, ...] = ()
    default: ColumnRule = ANY
    tensor_dtype: np.dtype | None = None
    enforce: Callable[[Any], Any] | None = None
    #: MLflow reads an object of columns (``"inputs": {...}``) as one row when a column is an
    #: array or an object: ``{"messages": [...]}`` is one conversation, not a column of them
    dict_is_row: bool = False
    #: the column signature declares ``messages``, ``prompt`` or ``input``: a JSON body holding
    #: one of them at the top level is MLflow's unwrapped LLM request (``json_input._llm``)
    llm: bool = False
    #: set per request when a JSON body may hold booleans: numeric columns and tensors then
    #: refuse them, as the enforcer does, instead of numpy turning them into 1 and 0
    json_booleans: bool = False
    #: integers past 64 bits must keep every digit (orjson reads them as floats) for a str or
    #: object tensor, whose values are their text: the body is scanned for one. Without a
    #: signature the parsed arrays are looked at instead (``stdlib_json`` then set), and so
    #: are the values of a string or any column (``exact_columns``: one is declared;
    #: ``refloat_columns``: set per request when orjson parsed the body)
    exact_integers: bool = False
    stdlib_json: bool = False
    exact_columns: bool = False
    refloat_columns: bool = False
    #: a string or datetime column is declared, whose values MLflow casts otherwise under
    #: ``inputs``/``instances``: ``numpy_cast`` is then set per request for those
    cast_by_shape: bool = False
    #: set per request for ``inputs``/``instances``, which MLflow casts with numpy: each
    #: datetime string on its own, an offset read as the instant in UTC without the zone; a
    #: number or boolean for a string column written as text
    numpy_cast: bool = False
    limits: DecodeLimits = field(default_factory=DecodeLimits)
    #: the signature's compiled rules (the same object the model's enforcer holds)
    compiled: CompiledSchema | None = None

    def check_columns(self, count: int) -> None:
        """Refuse a body naming more than ``max_columns`` columns (or the signature's count)."""
        limit = self.limits.max_columns
        if limit is not None and count > max(limit, len(self.names)):
            raise PayloadTooLarge("columns", count, max(limit, len(self.names)), "max_columns")

    def check_rows(self, count: int) -> None:
        """Refuse a body of more than ``max_rows`` rows."""
        limit = self.limits.max_rows
        if limit is not None and count > limit:
            raise PayloadTooLarge("rows", count, limit, "max_rows")

    def check_memory(self, estimate: int) -> None:
        """Refuse a body whose decoding is estimated to take more than ``max_memory`` bytes."""
        limit = self.limits.max_memory
        if limit is not None and estimate > limit:
            raise PayloadTooLarge("memory", estimate, limit, "max_request_memory")

    def kept(self, columns: Sequence[Hashable]) -> list[int] | None:
        """Positions of the columns to decode, after checking how many there are.

        ``None`` means all of them: no named signature, or nothing to drop. Otherwise only the
        columns the signature declares (by value and type: ``"0"`` is not ``0``), as MLflow
        keeps.
        """
        self.check_columns(len(columns))
        if not self.by_name or self.kind != "columns":
            return None
        keep = [i for i, c in enumerate(columns) if c in self.by_name]
        return None if len(keep) == len(columns) else keep

    def rule(self, column: Hashable, position: int) -> ColumnRule:
        """The rule for a decoded column, matched by name (value and type), else by position."""
        if self.by_name:
            return self.by_name.get(column, ANY)
        if position < len(self.by_position):
            return self.by_position[position]
        return self.default

    @property
    def single_column(self) -> str | None:
        """The only column or tensor name when the signature declares exactly one named input."""
        return self.names[0] if len(self.names) == 1 else None

    @property
    def labels(self) -> tuple[Hashable, ...]:
        """The declared input names as declared (``0`` stays an int); empty when unnamed."""
        compiled = self.compiled
        return compiled.labels if compiled is not None and compiled.named else ()


def build_plan(
    schema: Schema | CompiledSchema | None,
    params_schema: ParamSchema | None = None,
    enforce: Callable[[Any], Any] | None = None,
    limits: DecodeLimits | None = None,
) -> DecodePlan:
    """The :class:`DecodePlan` of a signature (``schema`` None means no signature), read from
    its :class:`~mlserve.schema._compiled.CompiledSchema`: the plan holds the compiled rule
    objects themselves, the ones the model's enforcer converts with."""
    compiled = (
        schema if isinstance(schema, CompiledSchema) else compile_schema(schema, params_schema)
    )
    plan = _build_plan(compiled, enforce)
    return plan if limits is None else replace(plan, limits=limits)


def _build_plan(compiled: CompiledSchema, enforce: Callable[[Any], Any] | None) -> DecodePlan:
    schema, params_schema = compiled.schema, compiled.params_schema
    common: dict[str, Any] = {"enforce": enforce, "compiled": compiled}
    if schema is None:
        # no scan: the decoder looks at the parsed arrays instead (json_input._refloat)
        return DecodePlan(None, params_schema, "none", **common)
    named = compiled.names if compiled.named else ()
    # a str or object tensor, whose values are text-sized: the body is scanned (the scan is
    # slow on a body of numbers, which other signatures refuse past 64 bits anyway)
    exact = ("string", "object", "any")
    common["exact_integers"] = compiled.kind != "columns" and any(
        r.kind in exact for r in compiled.rules
    )
    common["exact_columns"] = compiled.kind == "columns" and any(
        r.kind in ("string", "any") for r in compiled.rules
    )
    common["cast_by_shape"] = any(r.kind in ("datetime", "string") for r in compiled.rules)
    if compiled.kind != "columns":
        # MLflow types every column of a frame sent to a single-tensor model as that tensor
        if compiled.kind == "tensor" or len(compiled.rules) == 1:
            only: TensorSpec = schema.inputs[0]  # type: ignore[assignment]
            return DecodePlan(
                schema,
                params_schema,
                compiled.kind,
                named,
                default=compiled.default,
                tensor_dtype=only.dtype,
                **common,
            )
        return DecodePlan(schema, params_schema, "tensors", named, compiled.by_name, **common)
    return DecodePlan(
        schema,
        params_schema,
        "columns",
        named,
        compiled.by_name,
        () if compiled.named else compiled.rules,
        dict_is_row=compiled.dict_is_row,
        llm=compiled.llm,
        **common,
    )
