"""Which objects a flavor claims: ``can_save`` says yes to the framework's models and no to the
rest, and ``save_model`` without ``flavor=`` picks the flavor for them (before mlserve's own
``sklearn``, for a framework whose models are scikit-learn estimators too)."""

from __future__ import annotations

import os
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from mlserve._api._models import load_model, save_model
from mlserve._flavor import Flavor

__all__ = ["check_can_save", "check_saved_by_default"]


def _described(obj: Any) -> str:
    text = repr(obj)
    return f"{type(obj).__name__} {text[:60]}{'...' if len(text) > 60 else ''}"


def check_can_save(flavor: Flavor, accepts: Iterable[Any], refuses: Iterable[Any] = ()) -> None:
    """``flavor.can_save`` is true for every object in ``accepts`` (the framework's models,
    fitted or not) and false for every one in ``refuses`` (another framework's model, a file
    name, ...), so ``save_model`` without ``flavor=`` neither misses nor steals a model."""
    wrong = [f"accepts {_described(obj)}" for obj in refuses if flavor.can_save(obj)]
    wrong += [f"refuses {_described(obj)}" for obj in accepts if not flavor.can_save(obj)]
    assert not wrong, f"flavor {flavor.name!r}: can_save " + "; ".join(wrong)


def check_saved_by_default(
    flavor: Flavor, model: Any, tmp_path: str | os.PathLike[str], **save_options: Any
) -> None:
    """``save_model(model, path)`` without ``flavor=`` saves ``model`` with the installed flavor
    named ``flavor.name``, and the model loads with it: the registry asks plugin flavors before
    mlserve's own ``sklearn`` and ``python_function``, which would take a scikit-learn-API
    model (an ``XGBClassifier``) or any callable."""
    target = Path(tmp_path) / f"saved-by-default-{flavor.name}"
    save_model(model, target, **save_options)
    loaded = load_model(target)
    assert loaded.flavor == flavor.name, (
        f"save_model without flavor= saved a {type(model).__name__} with {loaded.flavor!r}, "
        f"not {flavor.name!r}"
    )
