"""The trust policy: what loading a model may run, decided by whoever loads it, never by the
model's own files (``docs/security.md``).

One switch sets it: ``--trust`` on ``python -m mlserve.server``, ``mlserve serve`` and
``mlserve predict``, the ``MLSERVE_TRUST`` variable, or ``load_model(..., trust=...)``. Its value
is a comma-separated list of terms, later ones winning:

- ``pickle`` (the default) / ``no-pickle``: whether pickle-based formats load at all (pickle,
  cloudpickle, ``torch.load``, and skops with the type list the model's own ``MLmodel`` gives);
- ``digests``: refuse models without recorded digests (by default they load, unverified);
  recorded digests are always checked;
- ``scan``: scan every pickle with picklescan before it is loaded (``mlserve[scan]``);
- ``skops-type=NAME``: a type skops may load, from this configuration (repeatable);
- ``mlflow`` (= ``pickle``) and ``strict`` (= ``no-pickle,digests``): presets.

Without a setting the default follows MLflow's ``MLFLOW_ALLOW_PICKLE_DESERIALIZATION`` (true
unless set false, as in MLflow 3.17), so MLflow's models keep loading. Flavors ask the policy in
effect through :func:`check_pickle` and :func:`skops_trusted_types`; the loader sets it for the
duration of a load with :func:`trust_scope`.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterable, Iterator, Mapping
from contextvars import ContextVar
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from mlserve.errors import InvalidParameterValue, MissingExtra, UntrustedModel
from mlserve.mlmodel._files import model_file, verify_digests

__all__ = [
    "TRUST_ENV",
    "TrustPolicy",
    "check_pickle",
    "current_trust",
    "skops_trusted_types",
    "trust_scope",
]

TRUST_ENV = "MLSERVE_TRUST"
_MLFLOW_ENV = "MLFLOW_ALLOW_PICKLE_DESERIALIZATION"
_PRESETS = {"mlflow": ("pickle",), "strict": ("no-pickle", "digests")}
_SKOPS_TERM = "skops-type="


@dataclass(frozen=True)
class TrustPolicy:
    """What a model load may run. Build one with :meth:`parse` or :meth:`from_environment`.

    ``allow_pickle``: pickle-based formats load (they run code chosen by the file);
    ``require_digests``: a model without recorded digests is refused; ``scan_pickles``: each
    pickle is scanned with picklescan first; ``skops_types``: the types skops may load beyond
    its own safe defaults. ``origin`` says where the policy came from (for the start-up line).
    """

    allow_pickle: bool = True
    require_digests: bool = False
    scan_pickles: bool = False
    skops_types: tuple[str, ...] = ()
    origin: str = field(default="default", compare=False)

    @classmethod
    def parse(cls, text: str, *, origin: str = "--trust") -> TrustPolicy:
        """The policy a ``--trust`` value describes (see the module docstring).

        Raises ``ValueError`` naming the term it does not know.
        """
        policy = cls(origin=origin)
        terms = [t.strip() for t in text.split(",") if t.strip()]
        if not terms:
            raise ValueError("is empty: give terms such as pickle, no-pickle, digests, scan")
        expanded = [part for term in terms for part in _PRESETS.get(term.lower(), (term,))]
        for term in expanded:
            lower = term.lower()
            if lower in ("pickle", "no-pickle"):
                policy = replace(policy, allow_pickle=lower == "pickle")
            elif lower == "digests":
                policy = replace(policy, require_digests=True)
            elif lower == "scan":
                policy = replace(policy, scan_pickles=True)
            elif lower.startswith(_SKOPS_TERM) and term[len(_SKOPS_TERM) :].strip():
                name = term[len(_SKOPS_TERM) :].strip()
                policy = replace(policy, skops_types=(*policy.skops_types, name))
            else:
                raise ValueError(
                    f"unknown term {term!r}: use pickle, no-pickle, digests, scan, "
                    "skops-type=<module.Type>, or the presets mlflow and strict"
                )
        return policy

    @classmethod
    def from_environment(cls, environ: Mapping[str, str] | None = None) -> TrustPolicy:
        """The process's policy: ``MLSERVE_TRUST`` if set, else MLflow's
        ``MLFLOW_ALLOW_PICKLE_DESERIALIZATION=false`` as ``no-pickle``, else the default.

        Raises :class:`~mlserve.errors.InvalidParameterValue` for a malformed variable.
        """
        environ = os.environ if environ is None else environ
        text = environ.get(TRUST_ENV, "").strip()
        if text:
            try:
                return cls.parse(text, origin=TRUST_ENV)
            except ValueError as exc:
                raise InvalidParameterValue(f"environment variable {TRUST_ENV}: {exc}") from exc
        if environ.get(_MLFLOW_ENV, "").strip().lower() in ("false", "0"):
            return cls(allow_pickle=False, origin=f"{_MLFLOW_ENV}=false")
        return cls()

    @property
    def spec(self) -> str:
        """The policy as a ``--trust`` value (``pickle``, ``no-pickle,digests``, ...)."""
        terms = ["pickle" if self.allow_pickle else "no-pickle"]
        terms += ["digests"] * self.require_digests + ["scan"] * self.scan_pickles
        terms += [f"{_SKOPS_TERM}{name}" for name in self.skops_types]
        return ",".join(terms)

    def describe(self) -> str:
        """One line for the server's start-up log: the policy, where it came from, and what
        it means."""
        pickles = (
            "pickle formats load (they run code the model file chooses)"
            if self.allow_pickle
            else "pickle formats are refused"
        )
        digests = (
            "digests required" if self.require_digests else "digests checked when a model has them"
        )
        skops = ", ".join(self.skops_types) or "none beyond skops' defaults"
        if self.allow_pickle:
            skops += ", plus the model's own list"
        scan = "; pickles scanned with picklescan" if self.scan_pickles else ""
        return (
            f"Trust policy {self.spec!r} (from {self.origin}): {pickles}; {digests}; "
            f"skops types trusted: {skops}{scan}. Set it with --trust or {TRUST_ENV}; "
            "see docs/security.md"
        )

    # -- the checks flavors and the loader call ------------------------------------------------

    def check_pickle(self, directory: str | Path, name: object) -> Path:
        """Allow (and return) the pickle ``name`` of the model at ``directory`` or refuse it.

        Raises :class:`~mlserve.errors.UntrustedModel` when pickles are not allowed or the
        scan flags the file, :class:`~mlserve.errors.MissingExtra` when scanning needs
        picklescan, :class:`~mlserve.errors.MalformedModel` for a name outside the model.
        """
        target = model_file(directory, name)
        if not self.allow_pickle:
            raise UntrustedModel(
                str(directory),
                f"{name} is a pickle, which runs code when loaded, and the trust policy "
                f"({self.spec}, from {self.origin}) refuses pickles. Load it only if you trust "
                f"its source, with --trust pickle or {TRUST_ENV}=pickle",
            )
        if self.scan_pickles and target.is_file():
            _scan(directory, name, target)
        return target

    def skops_trusted(
        self, model_types: Iterable[Any] | None, flavor_types: Iterable[str] = ()
    ) -> list[str]:
        """The types skops may load: this policy's, plus the model's own list only where
        pickles are allowed anyway (a file that may choose pickle gains nothing by listing
        types; one that may not must not choose what it is trusted with). Where the model's
        list does not count, ``flavor_types`` (a list in the flavor's code, such as the
        framework's own classes) stands in for it."""
        trusted = list(self.skops_types)
        chosen = model_types if self.allow_pickle else flavor_types
        trusted += [str(t) for t in chosen or () if str(t) not in trusted]
        return trusted

    def check_digests(self, directory: str | Path, recorded: Any) -> bool:
        """Verify the model's recorded digests; ``True`` when it had them and they match,
        ``False`` for a model without digests that the policy lets load unverified.

        Raises :class:`~mlserve.errors.DigestMismatch` for a changed, missing or added file and
        :class:`~mlserve.errors.UntrustedModel` for missing digests the policy requires.
        """
        if recorded is None:
            if self.require_digests:
                raise UntrustedModel(
                    str(directory),
                    f"it has no recorded digests and the trust policy ({self.spec}) requires "
                    "them. Models saved or logged by mlserve carry digests in MLmodel "
                    "(mlserve_digests); drop 'digests' from --trust to load it unverified",
                )
            return False
        if not isinstance(recorded, Mapping):
            raise UntrustedModel(str(directory), "its mlserve_digests entry is not a mapping")
        verify_digests(directory, recorded)
        return True


def _scan(directory: str | Path, name: object, target: Path) -> None:
    try:
        from picklescan.scanner import scan_file_path
    except ImportError as exc:
        raise MissingExtra("Scanning pickles (--trust scan)", "scan", "picklescan") from exc
    result = scan_file_path(str(target))
    if result.scan_err:
        raise UntrustedModel(str(directory), f"picklescan could not read {name}")
    dangerous = sorted(
        {f"{g.module}.{g.name}" for g in result.globals if g.safety.value == "dangerous"}
    )
    if result.issues_count or dangerous:
        raise UntrustedModel(
            str(directory),
            f"picklescan flags {name}: it imports {', '.join(dangerous) or 'dangerous globals'}",
        )


_CURRENT: ContextVar[TrustPolicy | None] = ContextVar("mlserve_trust", default=None)


def current_trust() -> TrustPolicy:
    """The policy in effect: the one a load set with :func:`trust_scope`, else the process's
    (:meth:`TrustPolicy.from_environment`)."""
    policy = _CURRENT.get()
    return policy if policy is not None else TrustPolicy.from_environment()


@contextlib.contextmanager
def trust_scope(policy: TrustPolicy) -> Iterator[TrustPolicy]:
    """Make ``policy`` the one in effect inside the ``with`` block (this thread/context)."""
    token = _CURRENT.set(policy)
    try:
        yield policy
    finally:
        _CURRENT.reset(token)


def check_pickle(directory: str | Path, name: object) -> Path:
    """For flavors, before unpickling the file ``name`` of a model: the policy in effect allows
    it (returns its confined path) or raises :class:`~mlserve.errors.UntrustedModel`."""
    return current_trust().check_pickle(directory, name)


def skops_trusted_types(
    model_types: Iterable[Any] | None, flavor_types: Iterable[str] = ()
) -> list[str]:
    """For flavors loading skops files: the ``trusted`` list the policy in effect allows, given
    the (untrusted) list in the model's ``MLmodel`` and the flavor's own (trusted) list
    (:meth:`TrustPolicy.skops_trusted`)."""
    return current_trust().skops_trusted(model_types, flavor_types)
