"""Columnar request bodies: Parquet and the Arrow IPC stream format (needs pyarrow).

Both decode to a DataFrame through ``pyarrow.Table.to_pandas()`` and are then typed by the
decoding plan like any other frame. Without pyarrow, decoding raises
:class:`~mlserve.errors.MissingExtra` with the ``pip install 'mlserve[columnar]'`` line.
"""

from __future__ import annotations

from typing import Any

import pandas as pd

from mlserve.codecs.plan import DecodePlan
from mlserve.codecs.tabular import coerce_frame
from mlserve.errors import MissingExtra, PayloadError

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


def _to_frame(table: Any, plan: DecodePlan, what: str) -> pd.DataFrame:
    names = table.column_names
    if len(set(names)) != len(names):
        raise PayloadError(f"the {what} body has duplicate column names")
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
        table = pq.read_table(pa.BufferReader(body))
    except Exception as exc:  # ArrowInvalid, ArrowIOError, OSError... all mean "not Parquet"
        raise PayloadError("the body is not a readable Parquet file") from exc
    return _to_frame(table, plan, "Parquet")


def decode_arrow_stream(body: bytes, plan: DecodePlan) -> pd.DataFrame:
    """Read an Arrow IPC stream from ``body``; raises :class:`PayloadError` if it is not one."""
    pa = _pyarrow("Arrow IPC request bodies")
    try:
        with pa.ipc.open_stream(pa.BufferReader(body)) as reader:
            table = reader.read_all()
    except Exception as exc:  # ArrowInvalid and friends: not an Arrow stream
        raise PayloadError("the body is not a readable Arrow IPC stream") from exc
    return _to_frame(table, plan, "Arrow IPC")
