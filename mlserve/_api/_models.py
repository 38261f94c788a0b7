"""``save_model`` and ``load_model``: a model object to a model directory and back."""

from __future__ import annotations

import inspect
import logging
import os
import shutil
import tempfile
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from mlserve._distribution import DISTRIBUTION, installed_version
from mlserve._environment import (
    distribution_key,
    env_section,
    python_version,
    resolve_requirements,
)
from mlserve._environment import write_environment as _write_environment
from mlserve._flavor import (
    LOADER_MODULES,
    PYFUNC_SECTION,
    Flavor,
    flavor_for_object,
    get_flavor,
    list_flavors,
)
from mlserve._trust import TrustPolicy, trust_scope
from mlserve.errors import InvalidParameterValue, InvalidSignature, ResourceAlreadyExists
from mlserve.mlmodel import Model
from mlserve.mlmodel._example import save_input_example
from mlserve.mlmodel._files import compute_digests
from mlserve.pyfunc import PyFuncModel
from mlserve.schema import AnyType, ColSpec, ModelSignature, Schema, infer_signature
from mlserve.store import resolve_model_uri

__all__ = ["load_model", "save_model"]

_log = logging.getLogger(__name__)
_CODE_DIR = "code"
# the loader_module of a custom PythonModel: its pickle refers to mlserve's classes
_PYTHON_MODEL_LOADER = "mlflow.pyfunc.model"


def _check_target(path: Path) -> None:
    if path.is_dir() and not any(path.iterdir()):
        return
    if path.exists() or path.is_symlink():
        raise ResourceAlreadyExists("model directory", str(path))


def _check_options(flavor: Flavor, options: Mapping[str, Any]) -> None:
    """Reject keyword arguments the flavor's ``save`` does not take, naming the ones it does
    (a bare ``TypeError`` from deep inside the flavor would not say which options exist)."""
    if not options:
        return
    try:
        parameters = inspect.signature(flavor.save).parameters.values()
    except (TypeError, ValueError):  # a save without an inspectable signature: let it decide
        return
    if any(p.kind is p.VAR_KEYWORD for p in parameters):
        return
    accepted = [p.name for p in parameters if p.kind is p.KEYWORD_ONLY]
    accepted += [
        p.name
        for p in parameters
        if p.kind is p.POSITIONAL_OR_KEYWORD and p.name not in ("self", "obj", "path")
    ]
    unknown = sorted(set(options) - set(accepted))
    if unknown:
        raise InvalidParameterValue(
            f"the {flavor.name} flavor takes no option(s) {', '.join(unknown)}; "
            f"its options are: {', '.join(accepted) or 'none'}"
        )


def _copy_code(code_paths: Sequence[str | os.PathLike[str]], directory: Path) -> None:
    code_dir = directory / _CODE_DIR
    code_dir.mkdir()
    for entry in code_paths:
        src = Path(entry)
        if not src.exists():
            raise InvalidParameterValue(f"code path {src} does not exist")
        if src.is_dir():
            shutil.copytree(src, code_dir / src.name, ignore=shutil.ignore_patterns("__pycache__"))
        else:
            shutil.copy2(src, code_dir / src.name)


def _infer(flavor: Flavor, directory: Path, section: dict[str, Any], example: Any) -> Any:
    """MLflow infers the signature from the example and the model's prediction on it; the
    prediction runs on the model as saved, which also proves the saved files load. Those files
    were written from this process's own object a moment ago, so any policy in effect does not
    apply to reading them back."""
    try:
        with trust_scope(TrustPolicy(origin="save_model, reading back its own files")):
            native = flavor.load(directory, section)
        output = flavor.predictor(native, section).predict(example.data, example.params)
    except Exception as exc:  # the example may not suit the model: keep the input schema
        _log.warning(
            "could not predict on the input example (%s); the signature has inputs only",
            type(exc).__name__,
        )
        output = None
    try:
        return infer_signature(example.data, output, example.params)
    except InvalidSignature:
        if output is None:
            raise
        # a prediction no schema describes (an ONNX ZipMap's dicts keyed by class number):
        # MLflow warns and writes an output schema of one AnyType column, so do we
        _log.warning("no schema describes the prediction on the input example; outputs: any")
        inputs_only = infer_signature(example.data, None, example.params)
        return ModelSignature(inputs_only.inputs, Schema([ColSpec(AnyType())]), inputs_only.params)


def _loads_without_mlserve(flavors: Mapping[str, Mapping[str, Any]]) -> bool:
    """Whether MLflow loads the model with its own code alone: its ``python_function`` section
    names one of MLflow's flavor modules (the layouts sklearn and the plugins write). A custom
    PythonModel (``mlflow.pyfunc.model``) unpickles mlserve's classes, and a model without a
    ``python_function`` section (or with a loader MLflow does not have) is read only by its
    mlserve flavor."""
    loader = (flavors.get(PYFUNC_SECTION) or {}).get("loader_module")
    return loader in LOADER_MODULES and loader != _PYTHON_MODEL_LOADER


def _mlserve_distributions() -> set[str]:
    """mlserve-core and every distribution registering a flavor, as requirement keys."""
    return {distribution_key(DISTRIBUTION)} | {
        distribution_key(info.distribution) for info in list_flavors()
    }


def _requirements(
    inferred: list[str],
    flavors: Mapping[str, Mapping[str, Any]],
    pip_requirements: str | os.PathLike[str] | Sequence[str] | None,
    extra_pip_requirements: str | os.PathLike[str] | Sequence[str] | None,
) -> list[str]:
    """The model's ``requirements.txt`` lines: the flavor's inferred ones, and mlserve's own
    distributions only when the model cannot load without them. mlserve-core and the plugins
    are not on the public index, so listing them for a model MLflow loads natively would make
    ``mlflow models serve`` (virtualenv/uv/conda) fail at ``pip install`` for nothing; mlserve's
    own environments add them from the MLmodel's flavors (``mlserve.env.read_spec``). What
    the caller passes in ``pip_requirements``/``extra_pip_requirements`` is kept as given."""
    if _loads_without_mlserve(flavors):
        ours = _mlserve_distributions()
        inferred = [r for r in inferred if distribution_key(r) not in ours]
    return resolve_requirements(inferred, pip_requirements, extra_pip_requirements)


def save_model(
    model: Any,
    path: str | os.PathLike[str],
    *,
    flavor: str | Flavor | None = None,
    signature: ModelSignature | None = None,
    input_example: Any = None,
    pip_requirements: str | os.PathLike[str] | Sequence[str] | None = None,
    extra_pip_requirements: str | os.PathLike[str] | Sequence[str] | None = None,
    code_paths: Sequence[str | os.PathLike[str]] | None = None,
    metadata: Mapping[str, Any] | None = None,
    run_id: str | None = None,
    artifact_path: str | None = None,
    **flavor_options: Any,
) -> Model:
    """Save ``model`` as an MLflow-format model directory at ``path``; returns its ``MLmodel``.

    The flavor is ``flavor`` (a name or a flavor object) or, when not given, the installed flavor
    whose ``can_save`` accepts the object. ``signature`` defaults to one inferred from
    ``input_example`` and the model's prediction on it. ``pip_requirements`` replaces the
    flavor's inferred requirements, ``extra_pip_requirements`` adds to them; the inferred ones
    name ``mlserve-core`` (and a plugin's own distribution) only when MLflow could not load the
    model without them (see ``docs/mlmodel.md``, "Environment files"). ``code_paths`` are
    copied into ``code/`` (put on ``sys.path`` at load). ``run_id`` and ``artifact_path`` are
    recorded in ``MLmodel`` (used by ``log_model``). Other keyword arguments go to the flavor's
    ``save`` (e.g. ``serialization_format``, ``pyfunc_predict_fn``, ``artifacts``).

    The directory is written under a temporary name next to ``path`` and renamed into place, so
    nothing is visible at ``path`` until the model is complete.

    Raises :class:`~mlserve.errors.ResourceAlreadyExists` when ``path`` exists and is not an
    empty directory, :class:`~mlserve.errors.NoFlavorForModel` when no flavor accepts the
    object, :class:`~mlserve.errors.FlavorNotFound` for an unknown flavor name, and whatever the
    flavor raises for bad options.
    """
    target = Path(path).absolute()
    _check_target(target)
    if flavor is None:
        chosen = flavor_for_object(model)
    elif isinstance(flavor, str):
        chosen = get_flavor(flavor)
    else:
        chosen = flavor
    _check_options(chosen, flavor_options)
    # refused before the flavor writes anything: both given, or a file that cannot be read
    resolve_requirements([], pip_requirements, extra_pip_requirements)
    target.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent))
    try:
        mlmodel = _write(
            model,
            staging,
            chosen,
            signature=signature,
            input_example=input_example,
            inferred=[DISTRIBUTION, *chosen.requirements(model)],
            pip_requirements=pip_requirements,
            extra_pip_requirements=extra_pip_requirements,
            code_paths=code_paths,
            metadata=metadata,
            run_id=run_id,
            artifact_path=artifact_path,
            options=flavor_options,
        )
        if target.is_dir():  # an empty directory: rename() may replace it, as the docs promise
            target.rmdir()
        try:
            os.rename(staging, target)
        except OSError as exc:  # someone else published a model there meanwhile
            raise ResourceAlreadyExists("model directory", str(target)) from exc
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    return mlmodel


def _write(
    model: Any,
    staging: Path,
    flavor: Flavor,
    *,
    signature: ModelSignature | None,
    input_example: Any,
    inferred: list[str],
    pip_requirements: str | os.PathLike[str] | Sequence[str] | None,
    extra_pip_requirements: str | os.PathLike[str] | Sequence[str] | None,
    code_paths: Sequence[str | os.PathLike[str]] | None,
    metadata: Mapping[str, Any] | None,
    run_id: str | None,
    artifact_path: str | None,
    options: dict[str, Any],
) -> Model:
    section = dict(flavor.save(model, staging, **options))
    if flavor.name == PYFUNC_SECTION:
        pyfunc: dict[str, Any] | None = section
    else:
        nested = section.pop(PYFUNC_SECTION, None)
        pyfunc = dict(nested) if isinstance(nested, Mapping) else None
    if code_paths:
        _copy_code(code_paths, staging)
        section["code"] = _CODE_DIR
        if pyfunc is not None:
            pyfunc["code"] = _CODE_DIR
    flavors: dict[str, dict[str, Any]] = {}
    if pyfunc is not None:
        pyfunc.setdefault("python_version", python_version())
        pyfunc.setdefault("env", env_section())
        flavors[PYFUNC_SECTION] = pyfunc
    if flavor.name != PYFUNC_SECTION:
        flavors[flavor.name] = section

    mlmodel = Model(
        flavors=flavors,
        signature=signature,
        run_id=run_id,
        artifact_path=artifact_path,
        metadata=dict(metadata) if metadata is not None else None,
        mlserve_version=installed_version(),
    )
    if input_example is not None:
        example = save_input_example(staging, input_example)
        mlmodel.saved_input_example_info = example.info
        if signature is None:
            load_section = dict(section)
            if pyfunc is not None and flavor.name != PYFUNC_SECTION:
                load_section[PYFUNC_SECTION] = pyfunc
            mlmodel.signature = _infer(flavor, staging, load_section, example)
    requirements = _requirements(inferred, flavors, pip_requirements, extra_pip_requirements)
    _write_environment(staging, requirements)
    # last, over every file written: log_model and registration copy this directory as is
    mlmodel.mlserve_digests = compute_digests(staging)
    mlmodel.save(staging)
    return mlmodel


def _resolve(model_uri: str | os.PathLike[str]) -> Path:
    return Path(resolve_model_uri(os.fspath(model_uri)))


def load_model(
    model_uri: str | os.PathLike[str], *, trust: TrustPolicy | str | None = None
) -> PyFuncModel:
    """Load the model at ``model_uri`` for prediction.

    ``model_uri`` is a local path, ``file://...``, ``runs:/<run_id>/<path>``,
    ``models:/<name>/<version>``, ``models:/<name>/latest`` or ``models:/<name>@<alias>``.
    ``trust`` is the :class:`~mlserve.TrustPolicy` (or its ``--trust`` text, e.g.
    ``"no-pickle,digests"``) the load obeys; by default the process's (``MLSERVE_TRUST``, else
    MLflow's ``MLFLOW_ALLOW_PICKLE_DESERIALIZATION``, else pickles allowed). Recorded digests
    are always checked. See ``docs/security.md``.

    Raises :class:`~mlserve.errors.InvalidURI` for a URI that does not parse, a
    :class:`~mlserve.errors.ResourceNotFound` subclass when it names nothing,
    :class:`~mlserve.errors.MalformedModel` for a missing or broken ``MLmodel``, and
    :class:`~mlserve.errors.FlavorNotFound` when the model needs a flavor that is not installed,
    :class:`~mlserve.errors.UntrustedModel` (or its :class:`~mlserve.errors.DigestMismatch`)
    when the trust policy refuses the model.
    """
    directory = _resolve(model_uri)
    return PyFuncModel.from_directory(directory, model_uri=os.fspath(model_uri), trust=trust)
