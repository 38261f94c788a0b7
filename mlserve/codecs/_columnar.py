"""Columnar request bodies: Parquet and the Arrow IPC stream format (needs pyarrow).

Both decode to a DataFrame through ``pyarrow.Table.to_pandas()`` and are then typed by the
decoding plan like any other frame. The schema is read first: a body with more columns than the
plan's limit is refused, and undeclared columns are never read (Parquet) or converted (Arrow).
The memory the decoded columns will take is checked against the plan's ``max_memory`` before
it is spent: from the file's metadata (Parquet), or batch by batch as they are read (Arrow).
Without pyarrow, decoding raises
:class:`~mlserve.errors.MissingExtra` with the ``pip install 'mlserve-core[columnar]'`` line.
"""

from __future__ import annotations

from typing import Any

import pandas as pd

from mlserve.codecs._plan import DecodePlan
from mlserve.codecs._tabular import coerce_frame
from mlserve.errors import MissingExtra, MlserveError, PayloadError

__all__ = ["available", "decode_arrow_stream", "decode_parquet"]


def _pyarrow(feature: str) -> Any:
    try:
        import pyarrow
    except ImportError as exc:
        raise MissingExtra(feature, "columnar", "pyarrow") from exc
    return pyarrow


def available() -> bool:
    """True when pyarrow can be imported (the ``columnar`` extra is installed)."""
    try:
        _pyarrow("Columnar request bodies")
    except MissingExtra:
        return False
    return True


def _selected(names: list[str], plan: DecodePlan, what: str) -> list[str] | None:
    """The column names to read (``None``: all), after the width and duplicate checks."""
    keep = plan.kept(names)
    if len(set(names)) != len(names):
        raise PayloadError(f"the {what} body has duplicate column names")
    return None if keep is None else [names[i] for i in keep]


#: decoded Arrow data is held twice at the peak: the table and the frame made from it
_CONVERTED = 2


def _parquet_size(metadata: Any, columns: list[str] | None) -> int:
    """Bytes the columns to read (``None``: all) take decoded, from the file's metadata: their
    uncompressed size, or 8 bytes a value if more (a dictionary- or run-length-encoded column
    is small on disk and full-size in memory)."""
    wanted = None if columns is None else set(columns)
    total = 0
    for g in range(metadata.num_row_groups):
        group = metadata.row_group(g)
        for c in range(group.num_columns):
            chunk = group.column(c)
            if wanted is None or chunk.path_in_schema.split(".")[0] in wanted:
                total += max(chunk.total_uncompressed_size, 8 * chunk.num_values)
    return total


def _to_frame(table: Any, plan: DecodePlan, what: str) -> pd.DataFrame:
    plan.check_rows(table.num_rows)
    try:
        frame = table.to_pandas()
    except Exception as exc:  # pyarrow raises many types for unconvertible columns
        raise PayloadError(f"the {what} body has a column pandas cannot represent") from exc
    return coerce_frame(frame, plan)


def decode_parquet(body: bytes, plan: DecodePlan) -> pd.DataFrame:
    """Read a Parquet file from ``body``; raises :class:`PayloadError` if it is not one."""
    pa = _pyarrow("Parquet request bodies")
    import pyarrow.parquet as pq

    try:
        names = pq.read_schema(pa.BufferReader(body)).names
    except Exception as exc:  # ArrowInvalid, ArrowIOError, OSError... all mean "not Parquet"
        raise PayloadError("the body is not a readable Parquet file") from exc
    columns = _selected(names, plan, "Parquet")
    try:
        metadata = pq.read_metadata(pa.BufferReader(body))
    except Exception as exc:
        raise PayloadError("the body is not a readable Parquet file") from exc
    plan.check_memory(len(body) + _CONVERTED * _parquet_size(metadata, columns))
    try:
        table = pq.read_table(pa.BufferReader(body), columns=columns)
    except Exception as exc:
        raise PayloadError("the body is not a readable Parquet file") from exc
    return _to_frame(table, plan, "Parquet")


def decode_arrow_stream(body: bytes, plan: DecodePlan) -> pd.DataFrame:
    """Read an Arrow IPC stream from ``body``; raises :class:`PayloadError` if it is not one."""
    pa = _pyarrow("Arrow IPC request bodies")
    try:
        with pa.ipc.open_stream(pa.BufferReader(body)) as reader:
            columns = _selected(reader.schema.names, plan, "Arrow IPC")
            batches = []
            size = 0
            for batch in reader:  # counted as it is read: a compressed stream expands
                size += batch.nbytes
                plan.check_memory(len(body) + _CONVERTED * size)
                batches.append(batch)
            table = pa.Table.from_batches(batches, schema=reader.schema)
    except MlserveError:  # too many columns, duplicates: already the right answer
        raise
    except Exception as exc:  # ArrowInvalid and friends: not an Arrow stream
        raise PayloadError("the body is not a readable Arrow IPC stream") from exc
    if columns is not None:
        table = table.select(columns)
    return _to_frame(table, plan, "Arrow IPC")
