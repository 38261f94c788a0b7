"""``text/csv`` request bodies: a header row, then one row per record, UTF-8.

Parsed by pandas' C reader. The header row is read first, so a body with more columns than the
plan's limit is refused before any column is parsed, and columns the signature does not declare
are never converted (``usecols``). Columns the signature declares as strings (or binary) are
read as text so ``"007"`` stays a string; numeric columns are inferred, then typed by the
decoding plan, then checked by the schema enforcer. The signatures MLflow's CSV parsing fails
on (tensors, complex columns, datetime columns) are refused as MLflow refuses them.
"""

from __future__ import annotations

import csv as _csv
import io
from collections.abc import Sequence
from typing import Any

import pandas as pd

from mlserve.codecs._cost import check_memory
from mlserve.codecs._plan import DecodePlan
from mlserve.codecs._tabular import coerce_frame
from mlserve.errors import PayloadError
from mlserve.schema import ColSpec, DataType, Schema

__all__ = ["csv_refusal", "decode_csv"]

_TEXT_KINDS = ("string", "binary", "datetime")


def _text_columns(plan: DecodePlan) -> dict[str | int, type] | None:
    if plan.by_name:
        # a header field is a string: a column named by an integer is never in a CSV body (and
        # pandas would read an integer key as a position)
        cols: dict[str | int, type] = {
            n: str for n, r in plan.by_name.items() if isinstance(n, str) and r.kind in _TEXT_KINDS
        }
    else:
        cols = {i: str for i, r in enumerate(plan.by_position) if r.kind in _TEXT_KINDS}
    return cols or None


def csv_refusal(schema: Schema | None, header: Sequence[str] | None = None) -> str | None:
    """Why a CSV body cannot reach a model of ``schema`` (``None`` when it can), as MLflow's CSV
    parsing fails (BAD_REQUEST, "Failed to parse input as a Pandas DataFrame"): for every
    tensor signature; for a column of a complex type (array, object, map, any), which CSV cannot
    write; and for a datetime column the ``header`` names (MLflow passes pandas a datetime
    dtype, which ``read_csv`` refuses), any datetime column when ``header`` is ``None``."""
    if schema is None:
        return None
    if schema.inputs and schema.is_tensor_spec():
        return "the tensor this model takes; send it as JSON ('inputs' or 'instances')"
    specs = [s for s in schema.inputs if isinstance(s, ColSpec)]
    if any(not isinstance(s.type, DataType) for s in specs):
        return "this model's array, object, map or any columns; send JSON"
    for position, spec in enumerate(specs):
        if spec.type is not DataType.datetime:
            continue
        if header is None or (
            spec.name in header if spec.name is not None else position < len(header)
        ):
            label = spec.name if spec.name is not None else position
            return f"the datetime column {label!r}, as in MLflow; send it as JSON"
    return None


def decode_csv(body: bytes, plan: DecodePlan) -> pd.DataFrame:
    """Parse a CSV body into a DataFrame typed by ``plan``.

    Raises :class:`PayloadError` for an empty body, invalid UTF-8, unbalanced quotes or rows
    with more fields than the header (a shorter row is padded with nulls, as pandas does), and
    for the signatures MLflow cannot read CSV for (a tensor, a complex column, a datetime
    column in the header).
    """
    if body.isspace() or not body:  # stops at the first other byte; strip() copied the body
        raise PayloadError("the body is empty; expected CSV with a header row")
    if not body.isascii():  # ASCII is UTF-8; decoding only to check would copy a large body
        try:
            body.decode("utf-8")
        except UnicodeDecodeError as exc:
            reason = f"the body is not valid UTF-8 (bad byte at offset {exc.start})"
            raise PayloadError(reason) from exc
    check_memory(body, plan, "csv")
    text_cols = _text_columns(plan)
    # the header alone first: its width is checked and the undeclared columns are left out
    # before pandas converts a single value (pandas' own nrows=0 costs ~40 us a column)
    header, first_row = _first_rows(body)
    if header is not None and len(set(header)) != len(header):
        # pandas would rename the second "a" to "a.1" and go on
        raise PayloadError("the CSV header row has duplicate column names")
    if header is not None and first_row is not None and len(first_row) > len(header):
        # pandas would take the first field for an index when every row is this long, and
        # shift the others under the wrong names
        raise PayloadError("malformed CSV: the rows have more fields than the header row")
    refusal = csv_refusal(plan.schema, header if header is not None else ())
    if refusal is not None:
        raise PayloadError(f"a CSV body cannot carry {refusal}")
    keep = None if header is None else plan.kept(header)
    if keep is not None and text_cols is not None:
        names = {header[i] for i in keep} if header is not None else set()
        text_cols = {c: t for c, t in text_cols.items() if c in names} or None
    frame = _parse(body, dtype=text_cols, low_memory=False, usecols=keep)
    index = frame.index
    if not (type(index) is pd.RangeIndex and index.start == 0 and index.step == 1):
        # every row had more fields than the header: pandas took the first field for an index
        # and shifted the others under the wrong names
        raise PayloadError("malformed CSV: the rows have more fields than the header row")
    plan.check_rows(len(frame))
    return coerce_frame(frame, plan)


def _first_rows(body: bytes) -> tuple[list[str] | None, list[str] | None]:
    """The header row's fields (quotes as pandas reads them) and the first data row's (blank
    lines skipped, as pandas skips them); ``None`` for what the standard library cannot read
    (pandas then parses the body whole and says what is wrong)."""
    text = io.TextIOWrapper(io.BytesIO(body), encoding="utf-8", newline="")
    reader = _csv.reader(text)
    try:
        header = next(reader)
    except (_csv.Error, StopIteration, UnicodeDecodeError):
        return None, None
    try:
        first = next((row for row in reader if row), None)
    except (_csv.Error, UnicodeDecodeError):
        first = None
    return header, first


def _parse(body: bytes, **options: Any) -> pd.DataFrame:
    """``pandas.read_csv`` of the body with pandas' errors translated to :class:`PayloadError`."""
    try:
        # low_memory=False: each column's type is inferred from all of its values at once, so
        # pandas has no mixed-type chunks to warn about (the enforcer reports a column's bad
        # values precisely). The warning filters are not touched for this: they are the
        # process's, shared by every request thread.
        return pd.read_csv(io.BytesIO(body), encoding="utf-8", engine="c", **options)
    except pd.errors.EmptyDataError as exc:
        raise PayloadError("the CSV body has no header row") from exc
    except pd.errors.ParserError as exc:
        raise PayloadError(
            "malformed CSV: a row has more fields than the header row, or a quote is not closed"
        ) from exc
    except (ValueError, TypeError, UnicodeError, OverflowError) as exc:
        raise PayloadError("malformed CSV: the body could not be parsed as CSV") from exc
