"""The loaded model: a flavor's predictor behind the signature's enforcement.

:class:`PyFuncModel` is what :func:`mlserve.load_model` returns and what the server serves. The
flavor is chosen from the ``MLmodel`` file (its ``flavors:`` keys, or the ``python_function``
section's ``loader_module`` mapped through :data:`mlserve._flavor.LOADER_MODULES`); the
signature's :class:`~mlserve.schema.SchemaEnforcer` is built once, here, so each ``predict`` only
applies it.
"""

from __future__ import annotations

import logging
import os
import sys
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any, NamedTuple

from mlserve._flavor import LOADER_MODULES, PYFUNC_SECTION, Capabilities, Flavor, get_flavor
from mlserve._flavor import list_flavors as _list_flavors
from mlserve._trust import TrustPolicy, current_trust, trust_scope
from mlserve.errors import (
    FlavorNotFound,
    InvalidParameterValue,
    MalformedModel,
    MlserveError,
    ModelPredictError,
)
from mlserve.mlmodel import Model
from mlserve.mlmodel._example import load_input_example
from mlserve.mlmodel._files import check_paths, model_file
from mlserve.python_model import PythonModel, PythonModelContext
from mlserve.schema import ModelSignature, SchemaEnforcer, enforce_params
from mlserve.schema._compiled import CompiledSchema, compile_schema

# PythonModel and PythonModelContext are here as in MLflow (mlflow.pyfunc.PythonModel), so a
# training script with `mlflow` replaced by `mlserve` finds them; choose_flavor and
# flavor_section are mlserve.testing's, not API
__all__ = ["PyFuncModel", "PythonModel", "PythonModelContext"]


def choose_flavor(model: Model) -> tuple[Flavor, dict[str, Any]]:
    """The registered flavor that loads ``model``, and the section to hand it.

    The ``python_function`` section's ``loader_module`` (mapped through the fixed table) is
    preferred, as MLflow's pyfunc would; then the other ``flavors:`` keys in file order.

    Raises :class:`~mlserve.errors.FlavorNotFound` (listing the installed flavors) when none of
    them is installed, or the :class:`~mlserve.errors.FlavorError` of a broken or conflicting
    flavor the model needs.
    """
    pyfunc = model.flavors.get(PYFUNC_SECTION)
    candidates: list[str] = []
    unknown_loader = None
    if pyfunc is not None:
        loader = pyfunc.get("loader_module")
        mapped = LOADER_MODULES.get(str(loader)) if loader is not None else None
        if mapped is not None:
            candidates.append(mapped)
        else:  # never imported: only the fixed table decides what reads a pyfunc section
            unknown_loader = f"{PYFUNC_SECTION} (loader_module {loader})"
    candidates += [name for name in model.flavors if name != PYFUNC_SECTION]
    wanted = list(dict.fromkeys(candidates))
    first_error: MlserveError | None = None
    for name in wanted:
        try:
            flavor = get_flavor(name)
        except FlavorNotFound:
            continue
        except MlserveError as exc:  # broken or conflicting: try the next, report if none works
            first_error = first_error or exc
            continue
        return flavor, flavor_section(model, name)
    if first_error is not None:
        raise first_error
    installed = [info.name for info in _list_flavors() if info.ok]
    if unknown_loader is not None:
        wanted.append(unknown_loader)
    raise FlavorNotFound(" or ".join(wanted or ["<none declared>"]), installed)


def flavor_section(model: Model, name: str) -> dict[str, Any]:
    """The section flavor ``name`` is handed for ``model``: its own ``flavors:`` entry (or the
    ``python_function`` one) with the ``python_function`` section nested under that key."""
    pyfunc = model.flavors.get(PYFUNC_SECTION)
    section = dict(model.flavors.get(name) or pyfunc or {})
    if pyfunc is not None and name != PYFUNC_SECTION:
        section[PYFUNC_SECTION] = dict(pyfunc)
    return section


_logger = logging.getLogger("mlserve")
#: the flavors whose unused params were already reported (once per flavor and process)
_PARAMS_NOT_USED: set[str] = set()


def _params_not_used(flavor: str) -> None:
    if flavor not in _PARAMS_NOT_USED:
        _PARAMS_NOT_USED.add(flavor)
        _logger.warning(
            "The %s flavor's predict takes no inference params (Capabilities.supports_params "
            "is false): params are checked against the signature and not passed on.",
            flavor,
        )


def _add_code_path(directory: Path, model: Model, section: Mapping[str, Any]) -> None:
    # MLflow puts the model's code/ directory itself on sys.path (code/foo.py -> import foo);
    # confined, so a model cannot put a directory it does not own first on sys.path
    pyfunc = model.flavors.get(PYFUNC_SECTION) or {}
    code = section.get("code") or pyfunc.get("code")
    if code:
        target = str(model_file(directory, code))
        if target not in sys.path:
            sys.path.insert(0, target)


def _policy(trust: TrustPolicy | str | None) -> TrustPolicy:
    if trust is None:
        return current_trust()
    if isinstance(trust, TrustPolicy):
        return trust
    try:
        return TrustPolicy.parse(trust, origin="trust=")
    except ValueError as exc:
        raise InvalidParameterValue(f"trust={trust!r}: {exc}") from exc


class NativeModel(NamedTuple):
    """What :func:`read_native` read: the native model and where it came from."""

    metadata: Model
    directory: Path
    flavor: Flavor
    section: dict[str, Any]
    native: Any
    verified: bool
    policy: TrustPolicy


def read_native(
    path: str | os.PathLike[str],
    pick: Callable[[Model], tuple[Flavor, dict[str, Any]]] = choose_flavor,
    trust: TrustPolicy | str | None = None,
) -> NativeModel:
    """Read the model directory ``path`` up to its native model, with no predictor: ``MLmodel``,
    every path it names confined to the directory, its digests checked, the flavor ``pick``
    returns (with its section), then the native model loaded under the trust policy with the
    model's ``code/`` on ``sys.path``. :meth:`PyFuncModel.from_directory` builds the predictor
    on it; ``mlserve.<flavor>.load_model`` returns the native model as it is (building a
    predictor there would choose and verify a scikit-learn accelerator for nothing)."""
    policy = _policy(trust)
    directory = Path(path).resolve()
    metadata = Model.load(directory)
    # both before any flavor runs: nothing named by the file is imported or read unchecked
    check_paths(directory, metadata.flavors, metadata.saved_input_example_info)
    verified = policy.check_digests(directory, metadata.mlserve_digests)
    flavor, section = pick(metadata)
    with trust_scope(policy):
        _add_code_path(directory, metadata, section)
        native = flavor.load(directory, section)
    return NativeModel(metadata, directory, flavor, section, native, verified, policy)


class PyFuncModel:
    """A model loaded for prediction.

    ``predict(data, params=None)`` validates ``data`` against the signature (when the model has
    one), fills and checks ``params``, then calls the flavor's predictor. Use
    :meth:`from_directory` (or :func:`mlserve.load_model`) to build one.
    """

    def __init__(
        self,
        metadata: Model,
        predictor: Any,
        native: Any,
        *,
        path: Path,
        flavor: str,
        model_uri: str | None = None,
        verified: bool = False,
    ) -> None:
        self._metadata = metadata
        self._verified = verified
        self._predictor = predictor
        self._native = native
        self._path = path
        self._flavor = flavor
        self._model_uri = model_uri if model_uri is not None else str(path)
        caps = predictor.capabilities
        if not isinstance(caps, Capabilities):
            raise MlserveError(f"flavor {flavor!r} returned a predictor without Capabilities")
        self._capabilities: Capabilities = caps
        signature = metadata.signature
        inputs = signature.inputs if signature is not None else None
        self._params_schema = signature.params if signature is not None else None
        # compiled once; a decoder built from the same signature objects gets this instance
        self._compiled = compile_schema(inputs, self._params_schema)
        self._enforcer = SchemaEnforcer(self._compiled) if inputs is not None else None
        self._input_example: Any = None
        self._input_example_loaded = False

    @classmethod
    def from_directory(
        cls,
        path: str | os.PathLike[str],
        *,
        model_uri: str | None = None,
        flavor: Flavor | None = None,
        trust: TrustPolicy | str | None = None,
    ) -> PyFuncModel:
        """Load the model directory ``path``: read ``MLmodel``, confine every path it names to
        the directory, check its digests, pick the flavor, load the native model under the trust
        policy, build its predictor and the signature's enforcer.

        ``flavor`` skips the registry and loads with that flavor object (its section must be
        in ``MLmodel``): for testing a flavor that is not installed as an entry point.
        ``trust`` is the policy (or its ``--trust`` text); by default the process's.

        Raises :class:`~mlserve.errors.MalformedModel`, :class:`~mlserve.errors.InvalidSignature`,
        :class:`~mlserve.errors.FlavorNotFound`, a :class:`~mlserve.errors.FlavorError` or an
        :class:`~mlserve.errors.UntrustedModel` (:class:`~mlserve.errors.DigestMismatch`).
        """

        def pick(metadata: Model) -> tuple[Flavor, dict[str, Any]]:
            if flavor is None:
                return choose_flavor(metadata)
            if flavor.name in metadata.flavors:
                return flavor, flavor_section(metadata, flavor.name)
            sections = ", ".join(metadata.flavors)
            raise MalformedModel(
                str(Path(path).resolve()), f"no {flavor.name!r} section (has: {sections})"
            )

        read = read_native(path, pick, trust)
        with trust_scope(read.policy):
            predictor = read.flavor.predictor(read.native, read.section)
        return cls(
            read.metadata,
            predictor,
            read.native,
            path=read.directory,
            flavor=read.flavor.name,
            model_uri=model_uri,
            verified=read.verified,
        )

    # -- prediction ------------------------------------------------------------------------

    def predict(self, data: Any, params: dict[str, Any] | None = None) -> Any:
        """Predict on ``data`` (DataFrame, ndarray, dict of arrays, ...).

        Raises :class:`~mlserve.errors.SchemaMismatch` when the data does not fit the signature,
        :class:`~mlserve.errors.InvalidParams` for declared params of the wrong type or shape
        (params the model does not declare are dropped with a logged warning, as in MLflow),
        and :class:`~mlserve.errors.ModelPredictError` (the exception's type and message) when
        the model's own code raises.
        """
        return self.predict_enforced(*self.enforce(data, params))

    def enforce(
        self, data: Any, params: dict[str, Any] | None = None
    ) -> tuple[Any, dict[str, Any] | None]:
        """The first half of :meth:`predict`: ``(data, params)`` checked and converted by the
        signature, in the form the flavor's predictor takes. Raises what :meth:`predict` raises
        for a mismatch. A server times the two halves apart; anyone else calls :meth:`predict`.
        """
        if self._enforcer is not None:
            data = self._enforcer(data)
        if params or self._params_schema is not None:
            # with the param converters compiled at load, shared with the decoder
            params = enforce_params(params, self._compiled.params, strict=False) or None
        else:
            params = None
        if params is not None and not self._capabilities.supports_params:
            # checked against the signature (a wrong one is still the client's 400), but this
            # flavor's predict takes none: they are not passed on, as its declaration says
            _params_not_used(self._flavor)
            params = None
        return self._adapt(data), params

    def predict_enforced(self, data: Any, params: dict[str, Any] | None) -> Any:
        """The second half of :meth:`predict`: the flavor's predictor on what :meth:`enforce`
        returned (anything else is not checked). The model's own exception is raised as
        :class:`~mlserve.errors.ModelPredictError`."""
        try:
            return self._predictor.predict(data, params)
        except MlserveError:
            raise
        except Exception as exc:
            raise ModelPredictError(type(exc).__name__, str(exc)) from exc

    def _adapt(self, data: Any) -> Any:
        caps = self._capabilities
        if caps.accepts_dataframe and caps.accepts_ndarray:
            return data
        import numpy as np
        import pandas as pd

        if isinstance(data, pd.DataFrame) and not caps.accepts_dataframe:
            return data.to_numpy()
        if isinstance(data, np.ndarray) and not caps.accepts_ndarray and data.ndim <= 2:
            return pd.DataFrame(data)
        return data

    # -- what the model is -----------------------------------------------------------------

    @property
    def metadata(self) -> Model:
        """The parsed ``MLmodel`` file."""
        return self._metadata

    @property
    def signature(self) -> ModelSignature | None:
        """The model signature, or ``None`` when the model was saved without one."""
        return self._metadata.signature

    @property
    def input_example(self) -> Any:
        """The saved input example (read on first access, with the dtypes its signature
        declares), or ``None``."""
        if not self._input_example_loaded:
            info = self._metadata.saved_input_example_info
            inputs = self.signature.inputs if self.signature is not None else None
            self._input_example = load_input_example(self._path, info, inputs)
            self._input_example_loaded = True
        return self._input_example

    @property
    def capabilities(self) -> Capabilities:
        """What the flavor's predictor declared it can do."""
        return self._capabilities

    @property
    def enforcer(self) -> SchemaEnforcer | None:
        """The input enforcer built at load time, or ``None`` without an input signature."""
        return self._enforcer

    @property
    def compiled(self) -> CompiledSchema:
        """The signature compiled once at load: the rules its enforcer and any decoder built
        from ``signature.inputs`` and ``signature.params`` (the server's) share."""
        return self._compiled

    @property
    def params_schema(self) -> Any:
        """The signature's :class:`~mlserve.schema.ParamSchema`, or ``None``."""
        return self._params_schema

    @property
    def model_uri(self) -> str:
        """The URI the model was loaded from (its directory when loaded by path)."""
        return self._model_uri

    @property
    def path(self) -> Path:
        """The local model directory."""
        return self._path

    @property
    def verified(self) -> bool:
        """Whether the model's files matched the digests recorded when it was saved (``False``
        for a model without digests, such as one MLflow wrote)."""
        return self._verified

    @property
    def flavor(self) -> str:
        """The name of the flavor that loaded the model."""
        return self._flavor

    def unwrap(self) -> Any:
        """The native model object (an estimator, a PythonModel, ...)."""
        return self._native

    def __repr__(self) -> str:
        return f"PyFuncModel(flavor={self._flavor!r}, model_uri={self._model_uri!r})"
