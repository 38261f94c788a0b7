"""Request bodies to model inputs, model outputs to JSON: the ``/invocations`` wire format.

Codecs are pure functions on ``bytes`` and a Content-Type header; they never see an HTTP request.
Build a :class:`RequestDecoder` once per model (it precomputes a plan from the signature) and call
:meth:`RequestDecoder.decode` per request; :func:`decode_request` is the one-shot form. The
accepted shapes, content types, deviations from MLflow and the error table are in
``docs/payloads.md``.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from types import MappingProxyType
from typing import Any, TypeAlias

import numpy as np
import pandas as pd

from mlserve.codecs import _columnar as columnar
from mlserve.codecs._csv import decode_csv
from mlserve.codecs._json_input import LLM_INPUT, decode_json, llm_errors
from mlserve.codecs._media import parse_content_type
from mlserve.codecs._output import encode_error, encode_predictions
from mlserve.codecs._plan import DecodeLimits, DecodePlan, build_plan
from mlserve.errors import PayloadError, UnsupportedContentType
from mlserve.schema import ParamSchema, Schema, SchemaEnforcer
from mlserve.schema._compiled import compile_schema

__all__ = [
    "CODECS",
    "SUPPORTED_CONTENT_TYPES",
    "Codec",
    "DecodeLimits",
    "DecodedRequest",
    "RequestDecoder",
    "decode_request",
    "encode_error",
    "encode_predictions",
]

ModelInput: TypeAlias = "pd.DataFrame | np.ndarray | dict[str, np.ndarray]"


@dataclass(frozen=True)
class DecodedRequest:
    """A decoded request: the model input and the params (None when there are none).

    The params are checked and filled with defaults when the decoder enforces the signature;
    from a decoder built with ``enforce=False`` they are as the body gave them, for
    ``PyFuncModel.predict`` to check.

    ``input_format`` names the shape the client used (``dataframe_split``, ``csv``, ``llm``
    for MLflow's unwrapped LLM bodies, ...), for logs and metrics.
    """

    data: ModelInput
    params: dict[str, Any] | None
    input_format: str = ""

    @property
    def unwrapped(self) -> bool:
        """True for an unwrapped LLM body (``{"messages": [...]}``): MLflow answers those with
        the bare predictions, ``encode_predictions(output, unwrapped=True)``."""
        return self.input_format == LLM_INPUT


@dataclass(frozen=True)
class Codec:
    """One registered media type: how to turn a body into ``(data, raw params, format)``.

    ``textual`` says the body is text, read as UTF-8. Whatever the media type, the only
    Content-Type parameter accepted is ``charset=utf-8``, as in MLflow (anything else is a 415).
    """

    media_type: str
    decode: Callable[[bytes, DecodePlan], tuple[ModelInput, Any, str]]
    textual: bool = True


def _csv(body: bytes, plan: DecodePlan) -> tuple[ModelInput, Any, str]:
    return decode_csv(body, plan), None, "csv"


def _parquet(body: bytes, plan: DecodePlan) -> tuple[ModelInput, Any, str]:
    return columnar.decode_parquet(body, plan), None, "parquet"


def _arrow(body: bytes, plan: DecodePlan) -> tuple[ModelInput, Any, str]:
    return columnar.decode_arrow_stream(body, plan), None, "arrow"


#: The codec registry, keyed by lower-case media type.
CODECS: Mapping[str, Codec] = MappingProxyType(
    {
        c.media_type: c
        for c in (
            Codec("application/json", decode_json),
            Codec("text/csv", _csv),
            Codec("application/vnd.apache.parquet", _parquet, textual=False),
            Codec("application/vnd.apache.arrow.stream", _arrow, textual=False),
        )
    }
)

#: Every media type the decoder accepts (the columnar ones need the ``columnar`` extra).
SUPPORTED_CONTENT_TYPES: tuple[str, ...] = tuple(CODECS)


class RequestDecoder:
    """Decodes request bodies for one model; build it once, call :meth:`decode` per request.

    ``schema`` and ``params_schema`` are the model signature's inputs and params (None when the
    model has none). With ``enforce=True`` (the default) the decoded input is also passed
    through the signature's :class:`~mlserve.schema.SchemaEnforcer` and the params through
    :func:`~mlserve.schema.enforce_params`, so what :meth:`decode` returns is ready for the
    model; pass ``enforce=False`` when the caller enforces both itself (the server and the CLI
    hand the raw params to ``PyFuncModel.predict``, which checks them once, after the data,
    in MLflow's order).
    ``limits`` bounds the columns and rows of one body (:class:`DecodeLimits`; the default
    allows 10,000 columns, or the signature's count if larger, and 1,000,000 rows); columns the
    signature does not declare are dropped before any of them is typed, as MLflow ignores them.
    """

    def __init__(
        self,
        schema: Schema | None = None,
        params_schema: ParamSchema | None = None,
        *,
        enforce: bool = True,
        limits: DecodeLimits | None = None,
    ) -> None:
        # the signature's compiled rules: for a model's own signature objects, the instance its
        # PyFuncModel enforces with (compile_schema memoizes per schema object)
        compiled = compile_schema(schema, params_schema)
        enforcer = None
        if enforce and schema is not None:
            enforcer = SchemaEnforcer(compiled)
        self.schema = schema
        self.params_schema = params_schema
        self.compiled = compiled
        self._enforce = enforce
        self.plan = build_plan(compiled, params_schema, enforcer, limits)

    def decode(self, body: bytes, content_type: str | None) -> DecodedRequest:
        """Decode one request body sent with the given Content-Type header value.

        Raises :class:`~mlserve.errors.UnsupportedContentType` (missing or unknown media type,
        a charset other than UTF-8, any other Content-Type parameter),
        :class:`~mlserve.errors.PayloadError` (a body that does not parse
        or has the wrong shape), :class:`~mlserve.errors.PayloadTooLarge` (past the limits),
        :class:`~mlserve.errors.SchemaMismatch` (data that does not fit
        the signature), :class:`~mlserve.errors.InvalidParams` (params that do not fit) and
        :class:`~mlserve.errors.MissingExtra` (a columnar body without pyarrow installed).
        """
        codec = self._codec(content_type)
        if not isinstance(body, (bytes, bytearray, memoryview)):
            raise PayloadError("the body must be bytes")
        data, params, input_format = codec.decode(bytes(body), self.plan)
        if not self._enforce:
            # the caller's PyFuncModel.predict checks data and params, once per request
            return DecodedRequest(data, params, input_format)
        if self.plan.enforce is not None:
            if input_format == LLM_INPUT:
                with llm_errors():
                    data = self.plan.enforce(data)
            else:
                data = self.plan.enforce(data)
        if params is not None or self.params_schema is not None:
            params = self.compiled.enforce_params(params, strict=False)
        return DecodedRequest(data, params, input_format)

    def _codec(self, content_type: str | None) -> Codec:
        # MLflow checks the parameters before the media type, which it compares as written
        media, _ = parse_content_type(content_type, SUPPORTED_CONTENT_TYPES)
        codec = CODECS.get(media)
        if codec is None:
            raise UnsupportedContentType(content_type, SUPPORTED_CONTENT_TYPES)
        return codec


def decode_request(
    body: bytes,
    content_type: str | None,
    schema: Schema | None = None,
    params_schema: ParamSchema | None = None,
) -> DecodedRequest:
    """Decode one request body: ``RequestDecoder(schema, params_schema).decode(...)``.

    Prefer a long-lived :class:`RequestDecoder` on hot paths; this rebuilds the plan each call.
    """
    return RequestDecoder(schema, params_schema).decode(body, content_type)
