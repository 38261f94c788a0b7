"""MLflow's unwrapped LLM bodies (``messages``, ``prompt``, ``input`` at the top level), for
:mod:`mlserve.codecs._json_input`: which keys are params and which data, and the frame MLflow's
enforcement makes of the data, uncast."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

from mlserve.codecs._plan import DecodePlan
from mlserve.codecs._tabular import frame_from_columns
from mlserve.errors import InvalidColumnValue, PayloadError, SchemaMismatch

__all__ = ["LLM_INPUT", "LLM_KEYS", "llm_errors", "read_llm"]

#: MLflow's unwrapped LLM keys: chat, completions, embeddings
LLM_KEYS = ("messages", "prompt", "input")
#: the input format of an unwrapped LLM body; its predictions are answered unwrapped
LLM_INPUT = "llm"


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
    for key, value in data.items():
        # no cast before MLflow's enforcement: text is not a number or a datetime there
        rule = plan.by_name[key]
        values = value if isinstance(value, list) else [value]
        if rule.kind in ("float", "int", "datetime") and any(isinstance(v, str) for v in values):
            raise SchemaMismatch(rule.name, rule.expected, "a string")
    with llm_errors():
        if not plan.dict_is_row and all(map(_llm_single, raw.values())):
            # MLflow's enforcement makes one row of uncast single values and lists of text
            # (a batch of prompts), the undeclared keys' values among them
            keys = list(data)
            return frame_from_columns(keys, [[data[k]] for k in keys], plan, nrows=1), params
        try:
            # else pd.DataFrame(body), the undeclared keys' lists counted
            return columnar(raw, plan, "the request body"), params
        except PayloadError as exc:  # lists of unequal lengths: pandas refuses the frame
            raise SchemaMismatch(
                None, "one value per key, or lists of one length", "neither"
            ) from exc


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
