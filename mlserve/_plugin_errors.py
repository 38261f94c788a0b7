"""The errors of plugins and optional extras: a broken or conflicting flavor entry point, and a
missing optional dependency. Part of :mod:`mlserve.errors` (imported and listed there); see its
docstring for the whole tree.
"""

from __future__ import annotations

from collections.abc import Iterable

from mlserve._distribution import pip_install
from mlserve.errors import MlserveError, _listing

__all__ = ["BrokenFlavor", "FlavorConflict", "FlavorError", "MissingExtra"]


class FlavorError(MlserveError):
    """A flavor plugin that cannot be used."""


class BrokenFlavor(FlavorError):
    """An entry point in ``mlserve.flavors`` that fails to import or does not satisfy the protocol.

    Names the entry point and the distribution that declared it.
    """

    def __init__(self, entry_point: str, distribution: str, reason: str) -> None:
        self.entry_point = entry_point
        self.distribution = distribution
        self.reason = reason
        super().__init__(
            f"Flavor entry point {entry_point!r} from distribution {distribution!r} "
            f"is broken: {reason}"
        )


class FlavorConflict(FlavorError):
    """Two distributions register the same flavor name."""

    def __init__(self, name: str, distributions: Iterable[str]) -> None:
        self.name = name
        self.distributions = sorted(distributions)
        super().__init__(
            f"Flavor name {name!r} is claimed by more than one distribution: "
            f"{_listing(self.distributions)}. Uninstall one of them."
        )


class MissingExtra(MlserveError, ImportError):
    """An optional dependency is missing; the message has the exact ``pip install`` line."""

    def __init__(self, feature: str, extra: str, module: str) -> None:
        self.feature = feature
        self.extra = extra
        self.module = module
        super().__init__(f"{feature} needs the {module!r} package: {pip_install(extra)}")
