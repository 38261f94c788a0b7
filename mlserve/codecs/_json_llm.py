"""MLflow's unwrapped LLM bodies (``messages``, ``prompt``, ``input`` at the top level), for
:mod:`mlserve.codecs._json_input`: which keys are params and which data, and the frame MLflow's
enforcement makes of the data, uncast."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import numpy as np
import pandas as pd

from mlserve.codecs._plan import DecodePlan
from mlserve.codecs._tabular import frame_from_columns
from mlserve.errors import InvalidColumnValue, PayloadError, SchemaMismatch
from mlserve.schema._rules import ColumnRule

__all__ = ["LLM_BODY", "LLM_INPUT", "LLM_KEYS", "llm_errors", "read_llm"]

#: MLflow's unwrapped LLM keys: chat, completions, embeddings
LLM_KEYS = ("messages", "prompt", "input")
#: the input format of an unwrapped LLM body; its predictions are answered unwrapped
LLM_INPUT = "llm"
#: where an unwrapped LLM body's data is, in messages (and how its reader tells the columns
#: reader that MLflow did not cast it)
LLM_BODY = "the request body"


def read_llm(
    doc: dict[str, Any], plan: DecodePlan, columnar: Callable[[object, DecodePlan, str], Any]
) -> tuple[Any, dict[str, Any]]:
    """An unwrapped LLM body as ``(data, params)``, split as MLflow's
    ``_split_data_and_params_for_llm_input``: the keys the params schema declares are params,
    the others data (the undeclared dropped once they have counted). ``columnar`` reads an
    object of columns as ``inputs`` does (the JSON reader's)."""
    declared = {p.name for p in plan.params_schema.params} if plan.params_schema else set()
    params = {k: v for k, v in doc.items() if k in declared}
    plan.check_columns(len(doc) - len(params))
    if plan.kind == "none":
        # MLflow hands a model without a signature the body's data keys as they are
        return {k: v for k, v in doc.items() if k not in declared}, params
    if plan.kind != "columns":
        # MLflow's enforcement refuses a dict of lists for any tensor signature
        raise SchemaMismatch(
            None,
            "a tensor under 'inputs' or 'instances'",
            "an unwrapped LLM body (messages, prompt or input)",
        )
    raw = {k: v for k, v in doc.items() if k not in declared}
    data = {k: v for k, v in raw.items() if k in plan.by_name}
    one_row = plan.dict_is_row or all(map(_llm_single, raw.values()))
    if not one_row and any(isinstance(v, dict) for v in raw.values()):
        # pd.DataFrame(body) reads an object's keys as row labels, or refuses it beside lists
        raise SchemaMismatch(
            None, "single values or lists under the body's keys", "an object among lists"
        )
    for key, value in data.items():
        # no cast before MLflow's enforcement: it meets the dtype pandas infers
        rule = plan.by_name[key]
        values = value if isinstance(value, list) else [value]
        texts = [isinstance(v, str) for v in values]
        # text is not a number or a datetime to MLflow's enforcement, but among numbers for a
        # double column, which it reads (pd.to_numeric of the object column), as our rule does
        if (
            rule.kind in ("float", "int", "datetime")
            and any(texts)
            and not (rule.dtype == np.float64 and not all(texts))
        ):
            raise SchemaMismatch(rule.name, rule.expected, "a string")
        if not plan.dict_is_row:
            _refuse_inferred_dtype(rule, [value] if one_row else values)
    with llm_errors():
        if not plan.dict_is_row and one_row:
            # MLflow's enforcement makes one row of uncast single values and lists of text
            # (a batch of prompts), the undeclared keys' values among them
            keys = list(data)
            return frame_from_columns(keys, [[data[k]] for k in keys], plan, nrows=1), params
        try:
            # else pd.DataFrame(body), the undeclared keys' lists counted
            return columnar(raw, plan, LLM_BODY), params
        except PayloadError as exc:  # lists of unequal lengths: pandas refuses the frame
            raise SchemaMismatch(
                None, "one value per key, or lists of one length", "neither"
            ) from exc


def _refuse_inferred_dtype(rule: ColumnRule, cells: list[Any]) -> None:
    """The dtype pandas infers for a column's uncast values, judged as MLflow's enforcement
    judges it (``_enforce_mlflow_datatype``): a string column takes an object or text column,
    not numbers or booleans; a numeric column its own dtype, a narrower one of the same kind,
    a narrow integer for a double, or int64 of only 0 and 1 for a float. A column of mixed
    Python objects is left to the enforcer."""
    if rule.kind not in ("string", "float", "int", "bool") or not cells:
        return
    dtype = pd.Series(cells).dtype
    if dtype == np.dtype(object) or isinstance(dtype, pd.StringDtype):
        return  # text, or mixed values: taken by a string column, else the enforcer's to judge
    want = np.dtype(bool) if rule.kind == "bool" else rule.dtype
    if want is None:  # a string column: numbers or booleans are not text to MLflow
        fits = False
    elif dtype == want:
        fits = True
    elif dtype.kind == want.kind:
        fits = dtype.itemsize <= want.itemsize
    elif dtype.kind in "iu" and want == np.float64:
        fits = dtype.itemsize <= 6
    else:
        fits = False
    if not fits and want is not None and dtype == np.int64 and want.kind == "f":
        fits = all(v in (0, 1) for v in cells)
    if not fits:
        raise SchemaMismatch(rule.name, rule.expected, f"{dtype} values")


def _llm_single(value: object) -> bool:
    return not isinstance(value, (list, dict)) or (
        isinstance(value, list) and all(isinstance(v, str) for v in value)
    )


@contextmanager
def llm_errors() -> Iterator[None]:
    """MLflow enforces an unwrapped LLM body on the model without casting it first, so a value
    that does not fit its column is ``INVALID_PARAMETER_VALUE`` there, not ``BAD_REQUEST``."""
    try:
        yield
    except InvalidColumnValue as exc:
        raise SchemaMismatch(exc.column, exc.expected, exc.found) from exc
