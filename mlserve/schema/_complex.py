"""MLflow's complex column types: :class:`Array`, :class:`Object` (of :class:`Property`),
:class:`Map` and :class:`AnyType`.

A column of a signature has either a scalar :class:`~mlserve.schema._types.DataType` or one of
these, nested to any depth (a chat model's ``messages`` is ``Array(Object([Property("role",
"string"), Property("content", "string")]))``). The JSON forms are exactly the ones MLflow
writes, so such a signature round-trips through the MLmodel file unchanged::

    {"type": "array", "items": {"type": "long"}}
    {"type": "object", "properties": {"role": {"type": "string", "required": true}}}
    {"type": "map", "values": {"type": "double"}}
    {"type": "any"}

Every parse failure raises :class:`~mlserve.errors.InvalidSignature`. How values are checked
against these types is in :mod:`mlserve.schema._values`; the user guide is
``docs/signatures.md``.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any, TypeAlias

from mlserve.errors import InvalidSignature
from mlserve.schema._datatype import DataType

__all__ = ["AnyType", "Array", "ColumnType", "Map", "Object", "Property"]

# the key each complex type keeps its inner type under, besides "type"
_INNER_KEY = {"array": "items", "object": "properties", "map": "values", "any": None}


def parse_type(value: object) -> ColumnType:
    """``value`` as a column type: a :class:`DataType`, its name, or a complex type instance.

    Raises :class:`InvalidSignature` for anything else.
    """
    if isinstance(value, (DataType, Array, Object, Map, AnyType)):
        return value
    return DataType.parse(value)  # type: ignore[arg-type]


def type_to_dict(t: ColumnType) -> dict[str, Any]:
    """The JSON form of a column type, without ``name`` or ``required``."""
    if isinstance(t, DataType):
        return {"type": t.name}
    return t.to_dict()


def type_from_dict(d: object, where: str, extra: frozenset[str] = frozenset()) -> ColumnType:
    """Parse the JSON form of a column type; ``extra`` names keys the caller reads itself
    (``name``, ``required``); any other unknown key raises :class:`InvalidSignature`."""
    if not isinstance(d, dict):
        raise InvalidSignature(f"{where} must be a JSON object, got {type(d).__name__}")
    if "type" not in d:
        raise InvalidSignature(f"{where} needs a 'type'")
    kind = d["type"]
    inner = _INNER_KEY.get(kind) if isinstance(kind, str) else None
    allowed = {"type", *extra} | ({inner} if inner else set())
    unknown = set(d) - allowed
    if unknown:
        raise InvalidSignature(f"unknown keys in {where}: {', '.join(sorted(map(str, unknown)))}")
    if not isinstance(kind, str) or kind not in _INNER_KEY:
        return DataType.parse(kind)
    if inner is not None and inner not in d:
        raise InvalidSignature(f"{where} of type {kind!r} needs {inner!r}")
    if kind == "array":
        return Array(type_from_dict(d["items"], f"the 'items' of {where}"))
    if kind == "map":
        return Map(type_from_dict(d["values"], f"the 'values' of {where}"))
    if kind == "object":
        props = d["properties"]
        if not isinstance(props, dict):
            raise InvalidSignature(f"the 'properties' of {where} must be a JSON object")
        return Object([Property.from_dict(name, spec) for name, spec in props.items()])
    return AnyType()


def type_text(t: ColumnType) -> str:
    """How error messages and reprs write a column type (``Array(Object(role: string))``)."""
    return t.name if isinstance(t, DataType) else repr(t)


def _check_required(required: object, what: str) -> None:
    if not isinstance(required, bool):
        raise InvalidSignature(f"{what} 'required' must be true or false")


@dataclass(frozen=True)
class Property:
    """One named field of an :class:`Object`: its type and whether it must be present.

    An optional property (``required=False``) may be missing from the object or be null.
    Raises :class:`InvalidSignature` for a non-string name or an unknown type.
    """

    name: str
    dtype: ColumnType
    required: bool = True

    def __post_init__(self) -> None:
        if not isinstance(self.name, str):
            raise InvalidSignature(
                f"a property name must be a string, got {type(self.name).__name__}"
            )
        object.__setattr__(self, "dtype", parse_type(self.dtype))
        _check_required(self.required, f"property {self.name!r}")

    def to_dict(self) -> dict[str, Any]:
        """MLflow's JSON form: ``{"role": {"type": "string", "required": true}}``."""
        return {self.name: {**type_to_dict(self.dtype), "required": self.required}}

    @classmethod
    def from_dict(cls, name: str, d: object) -> Property:
        """Parse one entry of an object's ``properties``; ``required`` defaults to true."""
        where = f"property {name!r}"
        dtype = type_from_dict(d, where, frozenset({"required"}))
        assert isinstance(d, dict)  # type_from_dict refused anything else
        return cls(name, dtype, d.get("required", True))

    def __repr__(self) -> str:
        tail = "" if self.required else " (optional)"
        return f"{self.name}: {type_text(self.dtype)}{tail}"


@dataclass(frozen=True, init=False)
class Object:
    """A JSON object with known properties, kept sorted by name (as MLflow does).

    Data may leave out optional properties and may not add unknown ones. Raises
    :class:`InvalidSignature` for no properties or two with one name.
    """

    properties: tuple[Property, ...] = field()

    def __init__(self, properties: Iterable[Property]) -> None:
        props = tuple(properties)
        if not props:
            raise InvalidSignature("an object type needs at least one property")
        if not all(isinstance(p, Property) for p in props):
            raise InvalidSignature("the properties of an object type must be Property specs")
        names = [p.name for p in props]
        if len(set(names)) != len(names):
            dupes = sorted({n for n in names if names.count(n) > 1})
            raise InvalidSignature(f"duplicate property names: {', '.join(map(repr, dupes))}")
        object.__setattr__(self, "properties", tuple(sorted(props, key=lambda p: p.name)))

    def to_dict(self) -> dict[str, Any]:
        """MLflow's JSON form: ``{"type": "object", "properties": {...}}``."""
        props: dict[str, Any] = {}
        for p in self.properties:
            props.update(p.to_dict())
        return {"type": "object", "properties": props}

    def __repr__(self) -> str:
        return f"Object({', '.join(map(repr, self.properties))})"


@dataclass(frozen=True)
class Array:
    """A list whose items all have one type (``dtype``)."""

    dtype: ColumnType

    def __post_init__(self) -> None:
        object.__setattr__(self, "dtype", parse_type(self.dtype))

    def to_dict(self) -> dict[str, Any]:
        """MLflow's JSON form: ``{"type": "array", "items": {"type": "long"}}``."""
        return {"type": "array", "items": type_to_dict(self.dtype)}

    def __repr__(self) -> str:
        return f"Array({type_text(self.dtype)})"


@dataclass(frozen=True)
class Map:
    """A JSON object with string keys and values of one type (``value_type``)."""

    value_type: ColumnType

    def __post_init__(self) -> None:
        object.__setattr__(self, "value_type", parse_type(self.value_type))

    def to_dict(self) -> dict[str, Any]:
        """MLflow's JSON form: ``{"type": "map", "values": {"type": "double"}}``."""
        return {"type": "map", "values": type_to_dict(self.value_type)}

    def __repr__(self) -> str:
        return f"Map(str -> {type_text(self.value_type)})"


@dataclass(frozen=True)
class AnyType:
    """Any JSON value, null included: nothing is checked (MLflow's ``{"type": "any"}``)."""

    def to_dict(self) -> dict[str, Any]:
        """MLflow's JSON form: ``{"type": "any"}``."""
        return {"type": "any"}

    def __repr__(self) -> str:
        return "Any"


#: the type of a column or of anything inside one
ColumnType: TypeAlias = "DataType | Array | Object | Map | AnyType"
