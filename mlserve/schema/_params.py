"""Inference params: :class:`ParamSpec`, :class:`ParamSchema` and :func:`enforce_params`.

A param is a named scalar (``shape=None``) or a 1-D list (``shape=(-1,)``) of one
:class:`~mlserve.schema._types.DataType`, with a default. JSON form, as MLflow writes it:
``{"name": "k", "type": "double", "default": 1.0, "shape": null}``.
"""

from __future__ import annotations

import base64
import binascii
import copy
import datetime as dt
import json
import logging
import threading
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from mlserve.errors import InvalidParams, InvalidSignature
from mlserve.schema._kinds import value_kind
from mlserve.schema._scalar_values import ValueMismatch, value_converter
from mlserve.schema._types import DataType

__all__ = [
    "CompiledParams",
    "ParamSchema",
    "ParamSpec",
    "compile_params",
    "convert_param_value",
    "enforce_compiled",
    "enforce_params",
]

logger = logging.getLogger("mlserve.schema")


class _Mismatch(Exception):
    """Internal: the kind of value that did not fit (turned into the caller's error type)."""

    def __init__(self, found: str) -> None:
        super().__init__(found)
        self.found = found


def _scalar(value: Any, dtype: DataType) -> Any:
    """Convert one value to ``dtype``'s Python type, or raise :class:`_Mismatch`: a column's
    rule for one value, with the param differences it names (``_scalar_values.DIFFERENCES``)."""
    try:
        return value_converter(dtype, "param")(value)
    except ValueMismatch as bad:
        raise _Mismatch(bad.found) from None


def convert_param_value(
    name: str, value: Any, dtype: DataType, shape: tuple[int, ...] | None
) -> Any:
    """Check ``value`` against a param's type and shape and return it as plain Python values.

    Scalars: ints convert to ``double``/``float``; ISO strings to ``datetime``; a float, even
    an integral one (``3.0``), is refused for ``long``/``integer``, as MLflow refuses it. Lists
    (``shape=(-1,)``) convert element by element.
    Raises :class:`InvalidParams` naming the param, the expected type and the kind found.
    """
    expected = dtype.name if shape is None else f"a list of {dtype.name}"
    try:
        if shape is None:
            return _scalar(value, dtype)
        if isinstance(value, np.ndarray):
            if value.ndim != 1:
                raise _Mismatch(f"an array of {value.ndim} dimensions")
            value = value.tolist()
        if not isinstance(value, (list, tuple)):
            raise _Mismatch(value_kind(value))
        try:
            return [_scalar(v, dtype) for v in value]
        except _Mismatch as exc:
            raise _Mismatch(f"a list containing {exc.found}") from None
    except _Mismatch as exc:
        raise InvalidParams(f"param {name!r} expects {expected}, found {exc.found}") from None


def _parse_param_shape(shape: object) -> tuple[int, ...] | None:
    if shape is None:
        return None
    if isinstance(shape, (list, tuple)) and list(shape) == [-1]:
        return (-1,)
    raise InvalidSignature("a param shape is null (a scalar) or [-1] (a 1-D list)")


@dataclass(frozen=True)
class ParamSpec:
    """One inference param: ``name``, :class:`DataType` ``type``, ``default`` and ``shape``.

    ``shape`` is ``None`` for a scalar or ``(-1,)`` for a 1-D list. The default is checked and
    converted like a request value (``ParamSpec("k", "double", 1)`` stores ``1.0``); a ``None``
    default is allowed and means "no value unless the request gives one".
    Raises :class:`InvalidSignature` for a bad type, shape or default.
    """

    name: str
    type: DataType
    default: Any
    shape: tuple[int, ...] | None = None

    def __post_init__(self) -> None:
        if not isinstance(self.name, str) or not self.name:
            raise InvalidSignature("a param needs a non-empty string name")
        object.__setattr__(self, "type", DataType.parse(self.type))
        object.__setattr__(self, "shape", _parse_param_shape(self.shape))
        if self.default is not None:
            try:
                default = convert_param_value(self.name, self.default, self.type, self.shape)
            except InvalidParams as exc:
                raise InvalidSignature(f"bad default: {exc.reason}") from None
            object.__setattr__(self, "default", default)

    @property
    def dtype(self) -> DataType:
        """The type, under MLflow's attribute name."""
        return self.type

    def _default_json(self) -> Any:
        def one(v: Any) -> Any:
            if isinstance(v, dt.date):  # a datetime, or a date (a date-only string's form)
                return v.isoformat()
            if isinstance(v, bytes):  # JSON has no bytes: base64, read back by from_dict
                return base64.b64encode(v).decode("ascii")
            return v

        if self.default is None:
            return None
        return [one(v) for v in self.default] if self.shape else one(self.default)

    def to_dict(self) -> dict[str, Any]:
        """MLflow's JSON form: ``{"name", "type", "default", "shape"}`` (shape a list or null)."""
        return {
            "name": self.name,
            "type": self.type.name,
            "default": self._default_json(),
            "shape": list(self.shape) if self.shape is not None else None,
        }

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> ParamSpec:
        """Parse the JSON form; raises :class:`InvalidSignature` for missing keys or bad values."""
        if not isinstance(d, Mapping) or "name" not in d or "type" not in d:
            raise InvalidSignature("a param spec is an object with 'name', 'type' and 'default'")
        dtype = DataType.parse(d["type"])
        default = d.get("default")
        if dtype is DataType.binary and default is not None:
            try:
                if isinstance(default, list):
                    default = [base64.b64decode(v, validate=True) for v in default]
                else:
                    default = base64.b64decode(default, validate=True)
            except (TypeError, ValueError, binascii.Error) as exc:
                raise InvalidSignature("a binary param default must be base64") from exc
        return cls(name=d["name"], type=dtype, default=default, shape=d.get("shape"))

    def __repr__(self) -> str:
        shape = "" if self.shape is None else f" (shape: {list(self.shape)})"
        return f"{self.name!r}: {self.type!r} (default: {self.default!r}){shape}"


@dataclass(frozen=True, init=False)
class ParamSchema:
    """The inference params a model declares. Names are unique (else :class:`InvalidSignature`)."""

    params: tuple[ParamSpec, ...]

    def __init__(self, params: Iterable[ParamSpec]) -> None:
        items = tuple(params)
        if not all(isinstance(p, ParamSpec) for p in items):
            raise InvalidSignature("a param schema holds ParamSpec objects only")
        names = [p.name for p in items]
        if len(set(names)) != len(names):
            dupes = sorted({n for n in names if names.count(n) > 1})
            raise InvalidSignature(f"duplicate param names: {', '.join(map(repr, dupes))}")
        object.__setattr__(self, "params", items)

    def names(self) -> list[str]:
        """The declared param names, in order."""
        return [p.name for p in self.params]

    def to_dict(self) -> list[dict[str, Any]]:
        """The JSON-ready list of param dicts."""
        return [p.to_dict() for p in self.params]

    def to_json(self) -> str:
        """The JSON string that goes into the MLmodel file."""
        return json.dumps(self.to_dict())

    @classmethod
    def from_dict(cls, items: Sequence[Mapping[str, Any]]) -> ParamSchema:
        """Build from the list form; raises :class:`InvalidSignature` if it is not one."""
        if not isinstance(items, list):
            raise InvalidSignature("a param schema must be a JSON list")
        return cls([ParamSpec.from_dict(x) for x in items])

    @classmethod
    def from_json(cls, text: str) -> ParamSchema:
        """Parse the JSON string form; raises :class:`InvalidSignature` on bad JSON or specs."""
        try:
            items = json.loads(text)
        except (TypeError, ValueError) as exc:
            raise InvalidSignature("param schema is not valid JSON") from exc
        return cls.from_dict(items)

    def __len__(self) -> int:
        return len(self.params)

    def __iter__(self) -> Iterator[ParamSpec]:
        return iter(self.params)

    def __repr__(self) -> str:
        return f"ParamSchema([{', '.join(repr(p) for p in self.params)}])"


def _names(names: Iterable[str]) -> str:
    items = sorted(repr(str(n)[:64]) for n in names)
    if len(items) > 20:
        return ", ".join(items[:20]) + f", ... ({len(items) - 20} more)"
    return ", ".join(items) or "none"


# Causes of ignored params already logged. A client can invent any number of param names, so
# the set is bounded: past the bound nothing new is logged (and nothing more is remembered).
_LOGGED: set[tuple[str, ...]] = set()
_LOGGED_LOCK = threading.Lock()
_MAX_LOGGED = 64


def _log_once(cause: tuple[str, ...], message: str) -> None:
    with _LOGGED_LOCK:
        if cause in _LOGGED or len(_LOGGED) >= _MAX_LOGGED:
            return
        _LOGGED.add(cause)
    logger.warning("%s (logged once per cause)", message)


@dataclass(frozen=True)
class CompiledParams:
    """A :class:`ParamSchema` compiled once: each declared param's spec and its converter (a
    function of the request's value, raising :class:`InvalidParams`), in declared order."""

    specs: Mapping[str, ParamSpec]
    converters: Mapping[str, Callable[[Any], Any]]


def _converter(spec: ParamSpec) -> Callable[[Any], Any]:
    name, dtype, shape = spec.name, spec.type, spec.shape
    return lambda value: convert_param_value(name, value, dtype, shape)


def compile_params(schema: ParamSchema) -> CompiledParams:
    """The :class:`CompiledParams` of ``schema`` (``CompiledSchema.params`` holds the model's)."""
    return CompiledParams(
        {p.name: p for p in schema.params}, {p.name: _converter(p) for p in schema.params}
    )


def enforce_params(
    params: Mapping[str, Any] | None,
    schema: ParamSchema | CompiledParams | None,
    *,
    strict: bool = True,
) -> dict[str, Any]:
    """Check request params against the model's :class:`ParamSchema` and fill in defaults.

    Returns a new dict holding every declared param (the given value converted, else the default).
    A ``None`` value means "use the default". Raises :class:`InvalidParams` for a value of the
    wrong type or shape, and for params that are not a mapping when the model declares params.

    ``strict`` decides what happens to params the model does not declare: an unknown name, or
    any params at all (a mapping or not) for a model that declares none. ``True`` raises
    :class:`InvalidParams` (listing the known names); ``False`` drops them with a warning logged
    once per cause, as MLflow does: ``PyFuncModel.predict`` and the server use ``False``, so a
    client written for MLflow that sends extra params keeps working.

    ``schema`` may be the params schema already compiled (``CompiledSchema.params``): a model
    checks every request with the converters it compiled at load.
    """
    if isinstance(schema, ParamSchema):
        schema = compile_params(schema)
    return enforce_compiled(params, schema, strict=strict)


def enforce_compiled(
    params: Any, compiled: CompiledParams | None, *, strict: bool = True
) -> dict[str, Any]:
    """:func:`enforce_params` with the params schema already compiled (None: no params schema)."""
    if compiled is None:
        if params is None or (isinstance(params, Mapping) and not params):
            return {}
        if strict:
            if not isinstance(params, Mapping):
                raise InvalidParams(f"params must be an object, found {value_kind(params)}")
            raise InvalidParams("this model declares no params, so none may be passed")
        given = _names(params) if isinstance(params, Mapping) else value_kind(params)
        _log_once(
            ("undeclared",),
            f"Ignoring params {given}: the model's signature declares no params",
        )
        return {}
    if params is None:
        params = {}
    if not isinstance(params, Mapping):
        raise InvalidParams(f"params must be an object, found {value_kind(params)}")
    specs = compiled.specs
    unknown = [k for k in params if k not in specs]
    if unknown:
        message = f"unknown params {_names(unknown)}; known params: {_names(specs)}"
        if strict:
            raise InvalidParams(message)
        _log_once(("unknown", *sorted(map(str, unknown))[:20]), f"Ignoring {message}")
    out: dict[str, Any] = {}
    for name, convert in compiled.converters.items():
        value = params.get(name)
        if value is None:
            # a list default is copied: the model may change what it is given, and the
            # signature's default must stay the same for the next call
            default = specs[name].default
            out[name] = copy.deepcopy(default) if isinstance(default, (list, dict)) else default
        else:
            out[name] = convert(value)
    return out
