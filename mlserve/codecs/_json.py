"""JSON parsing and serialisation, with orjson when it is installed and the stdlib otherwise.

Both backends accept the same documents and produce equivalent output, so the rest of the codecs
never branch on which one is active. ``set_backend`` exists for tests and benchmarks.
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable
from typing import Any

try:  # the optional `fast` extra
    import orjson
except ImportError:  # pragma: no cover - exercised through set_backend("stdlib")
    orjson = None  # type: ignore[assignment]

__all__ = ["DecodeFailure", "backend", "dumps", "loads", "set_backend"]

_BOM = b"\xef\xbb\xbf"
_backend = "orjson" if orjson is not None else "stdlib"


class DecodeFailure(Exception):
    """Internal: why a body is not JSON; ``reason`` never contains the body."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


def backend() -> str:
    """The active backend: ``"orjson"`` or ``"stdlib"``."""
    return _backend


def set_backend(name: str) -> str:
    """Select ``"orjson"`` or ``"stdlib"``; returns the previous backend.

    Raises ``ValueError`` for an unknown name and ``ImportError`` when orjson is not installed.
    """
    global _backend
    if name not in ("orjson", "stdlib"):
        raise ValueError(f"unknown JSON backend {name!r}")
    if name == "orjson" and orjson is None:
        raise ImportError("orjson is not installed")
    previous, _backend = _backend, name
    return previous


# -- parsing -----------------------------------------------------------------------------------


# an integer literal of 19 digits or more (the shortest orjson may read as a float, below
# -2**63): a run of 19 digits right after what can start a JSON value. Digits are mapped to "1"
# first, so plain bytes.find (memchr speed) does the search; a fraction's digits follow a "."
# or other digits and never match, so a body of small floats is not taken for one
_ONES = bytes.maketrans(b"0123456789", b"1" * 10)
_LONG_INTEGER_STARTS = tuple(
    start + b"1" * 19 for start in (b"[", b",", b":", b" ", b"-", b"\n", b"\t", b"\r")
)


def _may_hold_a_long_integer(body: bytes) -> bool:
    ones = body.translate(_ONES)
    return any(ones.find(start) != -1 for start in _LONG_INTEGER_STARTS)


def _stdlib_loads(text: str) -> Any:
    # NaN / Infinity / -Infinity are accepted because MLflow's own client (json.dumps with the
    # default allow_nan=True) sends them for missing values.
    return json.loads(text)


def loads(body: bytes, exact_integers: bool = False, stdlib: bool = False) -> Any:
    """Parse a UTF-8 JSON document.

    A leading UTF-8 byte-order mark is ignored. Raises :class:`DecodeFailure` with a reason
    ("not valid UTF-8", "malformed JSON at line L column C", "nested too deeply").
    ``exact_integers``: an integer past 64 bits stays an int (orjson would make it a float),
    at the cost of a scan of the body and the standard library's parse for a body that may
    hold one (text-sized bodies: the scan is slow on long runs of digits). ``stdlib``: the
    standard library's parse whatever the backend, for a caller that found such a float.
    """
    if body.startswith(_BOM):
        body = body[len(_BOM) :]
    if (
        _backend == "orjson"
        and not stdlib
        and not (exact_integers and _may_hold_a_long_integer(body))
    ):
        try:
            return orjson.loads(body)
        except orjson.JSONDecodeError:
            pass  # the stdlib below accepts NaN/Infinity and says precisely what is wrong
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError as exc:
        reason = f"the body is not valid UTF-8 (bad byte at offset {exc.start})"
        raise DecodeFailure(reason) from exc
    try:
        return _stdlib_loads(text)
    except json.JSONDecodeError as exc:
        raise DecodeFailure(
            f"malformed JSON at line {exc.lineno} column {exc.colno}: {exc.msg}"
        ) from exc
    except RecursionError as exc:
        raise DecodeFailure("the JSON document is nested too deeply") from exc
    except ValueError as exc:
        # Python's cap on integer digits (4,300), reached through an integer literal
        raise DecodeFailure("the JSON document holds an integer with too many digits") from exc


# -- serialisation -----------------------------------------------------------------------------


def _sanitize(obj: Any) -> Any:
    """Replace non-finite floats by None in plain containers (the stdlib's slow path only)."""
    if isinstance(obj, float):
        return obj if math.isfinite(obj) else None
    if isinstance(obj, dict):
        return {k: _sanitize(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [_sanitize(v) for v in obj]
    return obj


def dumps(obj: Any, default: Callable[[Any], Any]) -> bytes:
    """Serialise ``obj`` compactly as UTF-8 JSON; non-finite floats become ``null``.

    ``default`` converts anything the backend cannot serialise natively (it must return a
    JSON-able value or raise ``TypeError``). numpy arrays are handed to orjson natively; the stdlib
    backend relies on ``default`` for them.
    """
    if _backend == "orjson":
        try:
            return orjson.dumps(
                obj,
                default=default,
                option=orjson.OPT_SERIALIZE_NUMPY
                | orjson.OPT_NON_STR_KEYS
                | orjson.OPT_PASSTHROUGH_DATETIME,
            )
        except orjson.JSONEncodeError:
            # lone surrogates (the stdlib escapes them) or a value with no JSON form (the stdlib
            # raises TypeError for it, as documented)
            pass
    return _stdlib_dumps(obj, default, ensure_ascii=False)


def _stdlib_dumps(obj: Any, default: Callable[[Any], Any], *, ensure_ascii: bool) -> bytes:
    kwargs: dict[str, Any] = {
        "separators": (",", ":"),
        "allow_nan": False,
        "default": default,
        "ensure_ascii": ensure_ascii,
    }
    try:
        text = json.dumps(obj, **kwargs)
    except ValueError:  # a NaN/Infinity somewhere: rebuild as plain containers without them
        text = json.dumps(_sanitize(_expand(obj, default)), **kwargs)
    try:
        return text.encode("utf-8")
    except UnicodeEncodeError:  # lone surrogates: escaping them keeps the body valid JSON
        return _stdlib_dumps(obj, default, ensure_ascii=True)


def _expand(obj: Any, default: Callable[[Any], Any]) -> Any:
    """Turn everything ``default`` would convert into plain containers, so _sanitize sees it."""
    if isinstance(obj, (str, int, float, bool)) or obj is None:
        return obj
    if isinstance(obj, dict):
        return {k: _expand(v, default) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [_expand(v, default) for v in obj]
    return _expand(default(obj), default)
