"""The registry's records (``RegisteredModel``, ``ModelVersion``) and its name filter."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field

from mlserve.errors import InvalidParameterValue

__all__ = ["ModelVersion", "RegisteredModel", "name_filter"]

_FILTER = re.compile(r"^\s*name\s*(=|!=|LIKE|ILIKE)\s*'((?:[^']|'')*)'\s*$", re.IGNORECASE)


@dataclass(frozen=True)
class ModelVersion:
    """One published version of a registered model.

    ``source`` is the URI it was registered from, ``storage_location`` the store key of the model
    directory it resolves to (for MLflow's stores, the artifact URI); both never change.
    ``description``, ``tags`` and ``aliases`` may. ``current_stage`` is MLflow's stage (mlserve's
    registry has none: ``"None"``).
    """

    name: str
    version: int
    source: str
    storage_location: str
    run_id: str | None
    creation_timestamp: int
    last_updated_timestamp: int
    description: str = ""
    tags: dict[str, str] = field(default_factory=dict)
    aliases: tuple[str, ...] = ()
    status: str = "READY"
    current_stage: str = "None"


@dataclass(frozen=True)
class RegisteredModel:
    """A registered model: its name, metadata, aliases and highest version."""

    name: str
    creation_timestamp: int
    last_updated_timestamp: int
    description: str = ""
    tags: dict[str, str] = field(default_factory=dict)
    aliases: dict[str, int] = field(default_factory=dict)
    latest_version: int | None = None


def name_filter(filter_string: str) -> Callable[[str], bool]:
    """A predicate for MLflow-style ``name = 'x'``, ``!=``, ``LIKE`` and ``ILIKE`` filters.

    ``%`` matches any run of characters and ``_`` one character. Any other filter raises
    ``InvalidParameterValue`` listing the supported forms.
    """
    match = _FILTER.match(filter_string)
    if match is None:
        raise InvalidParameterValue(
            f"Unsupported filter {filter_string!r}: use name = '...', name != '...', "
            "name LIKE '...' or name ILIKE '...'."
        )
    op, value = match.group(1).upper(), match.group(2).replace("''", "'")
    if op == "=":
        return lambda n: n == value
    if op == "!=":
        return lambda n: n != value
    pattern = "".join(".*" if c == "%" else "." if c == "_" else re.escape(c) for c in value)
    flags = re.IGNORECASE if op == "ILIKE" else 0
    regex = re.compile(f"^{pattern}$", flags | re.DOTALL)
    return lambda n: regex.match(n) is not None
