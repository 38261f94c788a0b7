"""The ``statsmodels`` flavor for mlserve: fitted statsmodels results (OLS, GLM, Logit, ARIMA...).

Results are saved with statsmodels' own ``results.save`` (a pickle, statsmodels' native format)
into ``model.statsmodels``, in the layout of ``mlflow.statsmodels.save_model``: a
``statsmodels`` section (``statsmodels_version``, ``data``) and a ``python_function`` section
with ``loader_module: mlflow.statsmodels``. MLflow reads our models and we read MLflow's.

Prediction follows MLflow's pyfunc: ``results.predict(data)`` for regression-type models; for a
time-series model the input is one row with ``start`` and ``end`` columns. statsmodels is
imported only when a model is saved or loaded.
"""

from __future__ import annotations

import pickle
import sys
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from mlserve import (
    PYFUNC_SECTION,
    Capabilities,
    InvalidParameterValue,
    MalformedModel,
    check_pickle,
    model_file,
    require_module,
)

__all__ = ["DATA_FILE", "StatsmodelsFlavor", "flavor"]

__version__ = "0.1.0"


require_module("statsmodels", "statsmodels")

#: The file name MLflow uses for the pickled results.
DATA_FILE = "model.statsmodels"

_ROW_WISE = Capabilities(
    accepts_dataframe=True,
    accepts_ndarray=True,
    supports_params=False,
    batchable=True,
    # predict on fitted results only reads params and the design: no shared mutable state
    thread_safe=True,
)
# one row (start, end) in, a whole forecast out: neither batchable nor known to be thread safe
_TIME_SERIES = Capabilities(accepts_dataframe=True, accepts_ndarray=False)


def _is_results(obj: Any) -> bool:
    wrapper = sys.modules.get("statsmodels.base.wrapper")
    model = sys.modules.get("statsmodels.base.model")
    return (wrapper is not None and isinstance(obj, wrapper.ResultsWrapper)) or (
        model is not None and isinstance(obj, model.Results)
    )


def _is_time_series(results: Any) -> bool:
    from statsmodels.tsa.base.tsa_model import TimeSeriesModel

    return isinstance(getattr(results, "model", None), TimeSeriesModel)


def _as_statsmodels(out: Any, index: Any) -> Any:
    """What ``results.predict`` answers for a frame with this index: statsmodels wraps its
    result in a Series (a DataFrame when 2-d) indexed like the frame's rows. The frame went in
    as a row-major ndarray (see ``_RegressionPredictor``), so the wrapping is redone here; MLflow
    returns statsmodels' answer as it is and writes a Series as ``[{"0": v}, ...]``."""
    import numpy as np
    import pandas as pd

    if index is None or not isinstance(out, np.ndarray) or out.ndim not in (1, 2):
        return out
    return pd.Series(out, index=index) if out.ndim == 1 else pd.DataFrame(out, index=index)


@dataclass(frozen=True)
class _RegressionPredictor:
    """``results.predict(exog)``; columns are matched to the model's exog names when the data
    has all of them (statsmodels itself only looks at their position)."""

    results: Any
    exog_names: tuple[str, ...] | None
    uses_formula: bool
    capabilities: Capabilities = _ROW_WISE

    def predict(self, data: Any, params: dict[str, Any] | None = None) -> Any:
        import numpy as np

        index = None
        if hasattr(data, "columns") and not self.uses_formula and self.exog_names:
            names = list(self.exog_names)
            if set(names) <= {str(c) for c in data.columns}:
                data = data.rename(columns=str)[names]
            # row-major, so each row's dot product is computed alike whatever the batch size
            index = data.index
            data = np.ascontiguousarray(data.to_numpy())
        return _as_statsmodels(self.results.predict(data), index)


@dataclass(frozen=True)
class _TimeSeriesPredictor:
    """``results.predict(start=..., end=...)`` from a one-row frame, as MLflow's pyfunc."""

    results: Any
    capabilities: Capabilities = _TIME_SERIES

    def predict(self, data: Any, params: dict[str, Any] | None = None) -> Any:
        columns = {str(c) for c in getattr(data, "columns", ())}
        if len(data) != 1 or not {"start", "end"} <= columns:
            raise InvalidParameterValue(
                "a time-series model predicts from one row with the columns 'start' and 'end'"
            )
        row = data.rename(columns=str).iloc[0]
        return self.results.predict(start=row["start"], end=row["end"])


class StatsmodelsFlavor:
    """Saves and loads statsmodels results; the object behind the ``statsmodels`` entry point."""

    name = "statsmodels"

    def can_save(self, obj: Any) -> bool:
        """True for fitted results (``ResultsWrapper`` or ``Results``), not for an unfitted
        model; statsmodels is not imported for the check."""
        return _is_results(obj)

    def save(self, obj: Any, path: Path, *, remove_data: bool = False) -> dict[str, Any]:
        """Write ``results.save(model.statsmodels, remove_data)`` and return the section.

        ``remove_data=True`` drops the training arrays first (smaller files; summaries that need
        the data stop working), as in statsmodels and MLflow.

        Raises :class:`~mlserve.errors.InvalidParameterValue` for an object that is not fitted
        statsmodels results.
        """
        if not _is_results(obj):
            raise InvalidParameterValue(
                f"{type(obj).__name__} is not fitted statsmodels results (call .fit() first)"
            )
        import statsmodels

        obj.save(str(Path(path) / DATA_FILE), remove_data=bool(remove_data))
        return {
            "statsmodels_version": statsmodels.__version__,
            "data": DATA_FILE,
            "code": None,
            PYFUNC_SECTION: {"loader_module": "mlflow.statsmodels", "data": DATA_FILE},
        }

    def load(self, path: Path, section: Mapping[str, Any]) -> Any:
        """Unpickle the results named by ``data`` (default ``model.statsmodels``).

        Raises :class:`~mlserve.errors.MalformedModel` for a missing or unreadable file or one
        outside the model directory.
        """
        pyfunc = section.get(PYFUNC_SECTION) or {}
        filename = str(section.get("data") or pyfunc.get("data") or DATA_FILE)
        target = model_file(path, filename, must_exist=True)
        check_pickle(path, filename)  # mlserve's trust policy decides whether pickles load
        try:
            with open(target, "rb") as src:
                # statsmodels' own format is a pickle (what results.load reads)
                return pickle.load(src)
        except (pickle.UnpicklingError, EOFError, AttributeError, ImportError) as exc:
            raise MalformedModel(str(path), f"cannot unpickle {filename}: {exc}") from exc

    def predictor(self, native: Any, section: Mapping[str, Any]) -> Any:
        """``results.predict`` on the request rows, answered as statsmodels answers (a Series
        indexed like a frame's rows, an ndarray for an ndarray), as MLflow's pyfunc; for
        time-series models, ``predict(start, end)`` from a one-row ``start``/``end`` frame."""
        if _is_time_series(native):
            return _TimeSeriesPredictor(native)
        model = getattr(native, "model", None)
        names = getattr(model, "exog_names", None)
        return _RegressionPredictor(
            native,
            tuple(str(n) for n in names) if names else None,
            uses_formula=getattr(model, "formula", None) is not None,
        )

    def requirements(self, obj: Any | None = None) -> list[str]:
        """This plugin, statsmodels and what its results unpickle with."""
        reqs = ["mlserve-statsmodels", "statsmodels", "numpy", "pandas", "scipy"]
        if obj is not None and getattr(getattr(obj, "model", None), "formula", None):
            reqs.append("patsy")
        return reqs


flavor = StatsmodelsFlavor()
