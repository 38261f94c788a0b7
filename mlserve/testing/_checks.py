"""Each conformance check as its own pytest test, as scikit-learn's ``parametrize_with_checks``
does for estimators.

:func:`~mlserve.testing.check_flavor` runs every check in one test and stops at the first
failure; a plugin suite that wants to see *which* checks fail, select one (``-k served``) or
mark one as expected to fail, parametrizes its test with the checks instead::

    from mlserve.testing import FlavorCase, parametrize_with_checks

    def ols():  # built once, on the first check that needs it
        results = sm.OLS(y, X).fit()
        return results, X[:10]

    @parametrize_with_checks([FlavorCase("ols", flavor, ols)])
    def test_conformance(case, check, tmp_path):
        check(case, tmp_path)

which collects ``test_conformance[ols-protocol]``, ``test_conformance[ols-save_load]``, ... one
test per check and case. The checks are the functions of :mod:`mlserve.testing`, in the order
``check_flavor`` runs them; each test saves its own copy of the model under ``tmp_path``.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from mlserve._flavor import Flavor
from mlserve.testing._flavor_checks import (
    check_batchable,
    check_predictions,
    check_protocol,
    check_requirements,
    check_save_load,
    check_signature_enforced,
)
from mlserve.testing._fresh_process import check_fresh_process
from mlserve.testing._serving import check_served

__all__ = ["CHECKS", "FlavorCase", "parametrize_with_checks"]


@dataclass
class FlavorCase:
    """One flavor and one fitted model for the conformance checks.

    ``build`` makes ``(model, input_example)``, called at most once, when the first selected
    check needs it (so collecting the tests fits nothing); a ``(model, input_example)`` tuple
    may be given instead. ``expected`` are the native model's predictions on the example (see
    :func:`~mlserve.testing.check_predictions`); ``save_options`` go to ``save_model``.
    """

    id: str
    flavor: Flavor
    build: Callable[[], tuple[Any, Any]] | tuple[Any, Any]
    expected: Any = None
    save_options: Mapping[str, Any] = field(default_factory=dict)
    _built: tuple[Any, Any] | None = field(default=None, init=False, repr=False)

    def fitted(self) -> tuple[Any, Any]:
        """``(model, input_example)``, built on first use."""
        if self._built is None:
            built = self.build() if callable(self.build) else self.build
            self._built = (built[0], built[1])
        return self._built


def _loaded(case: FlavorCase, tmp_path: str | os.PathLike[str]) -> Any:
    model, example = case.fitted()
    return check_save_load(case.flavor, model, example, tmp_path, **case.save_options)


def _protocol(case: FlavorCase, tmp_path: str | os.PathLike[str]) -> None:
    check_protocol(case.flavor)


def _requirements(case: FlavorCase, tmp_path: str | os.PathLike[str]) -> None:
    check_requirements(case.flavor, case.fitted()[0])


def _save_load(case: FlavorCase, tmp_path: str | os.PathLike[str]) -> None:
    _loaded(case, tmp_path)


def _predictions(case: FlavorCase, tmp_path: str | os.PathLike[str]) -> None:
    model, example = case.fitted()
    check_predictions(case.flavor, model, _loaded(case, tmp_path), example, case.expected)


def _signature_enforced(case: FlavorCase, tmp_path: str | os.PathLike[str]) -> None:
    check_signature_enforced(_loaded(case, tmp_path))


def _batchable(case: FlavorCase, tmp_path: str | os.PathLike[str]) -> None:
    check_batchable(_loaded(case, tmp_path))


def _fresh_process(case: FlavorCase, tmp_path: str | os.PathLike[str]) -> None:
    check_fresh_process(case.flavor, _loaded(case, tmp_path), tmp_path)


def _served(case: FlavorCase, tmp_path: str | os.PathLike[str]) -> None:
    loaded = _loaded(case, tmp_path)
    data = loaded.input_example if loaded.input_example is not None else case.fitted()[1]
    # the server process finds the flavor by its entry point: the installed plugin
    expected = case.expected if case.expected is not None else loaded.predict(data)
    check_served(loaded.path, data, expected)


#: every check by name, in the order :func:`~mlserve.testing.check_flavor` runs them, then
#: ``served`` (a real server process: a few seconds), which ``check_flavor`` does not run
CHECKS: dict[str, Callable[[FlavorCase, str | os.PathLike[str]], None]] = {
    "protocol": _protocol,
    "requirements": _requirements,
    "save_load": _save_load,
    "predictions": _predictions,
    "signature_enforced": _signature_enforced,
    "batchable": _batchable,
    "fresh_process": _fresh_process,
    "served": _served,
}


def parametrize_with_checks(
    cases: Sequence[FlavorCase], *, checks: Sequence[str] | None = None
) -> Any:
    """A ``pytest.mark.parametrize`` over ``(case, check)``: one test per case and check,
    named ``<case id>-<check name>``. ``checks`` picks some by name (default: all of
    :data:`CHECKS`); an unknown name is a ``ValueError`` at collection."""
    import pytest  # mlserve.testing is for test suites; the core never imports pytest

    names = list(CHECKS) if checks is None else list(checks)
    unknown = [n for n in names if n not in CHECKS]
    if unknown:
        raise ValueError(f"unknown checks {unknown}; the checks are: {', '.join(CHECKS)}")
    ids = [c.id for c in cases]
    if len(set(ids)) != len(ids):
        raise ValueError(f"case ids must be unique, got {ids}")
    params = [
        pytest.param(case, CHECKS[name], id=f"{case.id}-{name}") for case in cases for name in names
    ]
    return pytest.mark.parametrize(("case", "check"), params)
