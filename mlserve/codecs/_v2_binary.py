"""The binary tensor extension of the V2 protocol (Triton's ``binary_tensor_data``).

A request may carry tensors as raw bytes after its JSON: the ``Inference-Header-Content-Length``
header says where the JSON ends, and each binary input's ``parameters.binary_data_size`` how many
of the following bytes are its. Values are little-endian and row-major with no padding; BOOL is one
byte; a BYTES element is a 4-byte little-endian length followed by that many bytes. Responses
use the same layout for the outputs a client asks to receive in binary. tritonclient sends and
asks for binary by default, and large numeric tensors are several times smaller and cheaper this
way than as JSON numbers.
"""

from __future__ import annotations

import numpy as np

from mlserve.codecs._v2_types import DATATYPES
from mlserve.errors import PayloadError, SchemaMismatch

__all__ = ["from_binary", "to_binary"]


def from_binary(chunk: memoryview, datatype: str, count: int, where: str) -> object:
    """The ``count`` values of one input from its bytes: a numpy array, or a list of ``bytes``
    for BYTES. Raises :class:`PayloadError` when the bytes do not hold exactly that."""
    if datatype == "BYTES":
        values: list[bytes] = []
        offset, size = 0, len(chunk)
        while offset < size:
            if offset + 4 > size:
                raise PayloadError(f"{where}: a BYTES element's length prefix is cut short")
            length = int.from_bytes(chunk[offset : offset + 4], "little")
            offset += 4
            if offset + length > size:
                raise PayloadError(f"{where}: a BYTES element is shorter than its length prefix")
            values.append(bytes(chunk[offset : offset + length]))
            offset += length
        if len(values) != count:
            raise PayloadError(f"{where}: the shape holds {count} values, the bytes {len(values)}")
        return values
    dtype = DATATYPES[datatype]
    if len(chunk) != count * dtype.itemsize:
        raise PayloadError(
            f"{where}: {count} {datatype} values take {count * dtype.itemsize} bytes, "
            f"binary_data_size says {len(chunk)}"
        )
    arr = np.frombuffer(chunk, dtype=dtype.newbyteorder("<")).astype(dtype, copy=True)
    if datatype == "BOOL" and arr.view(np.uint8).max(initial=0) > 1:
        raise SchemaMismatch(where, "BOOL bytes (0 or 1)", "another byte value")
    return arr


def as_text(values: list[bytes], where: str) -> list[str]:
    """BYTES elements as UTF-8 text (for a string column); a 400 naming the input if not."""
    try:
        return [v.decode("utf-8") for v in values]
    except UnicodeDecodeError as exc:
        raise SchemaMismatch(where, "UTF-8 text for a string column", "bytes that are not") from exc


def to_binary(arr: np.ndarray, datatype: str) -> bytes:
    """An output's values in the extension's layout (row-major, little-endian)."""
    flat = arr.reshape(-1)
    if datatype == "BYTES":
        parts = []
        for v in flat:
            raw = v if isinstance(v, bytes) else ("" if v is None else str(v)).encode("utf-8")
            parts += [len(raw).to_bytes(4, "little"), raw]
        return b"".join(parts)
    dtype = DATATYPES[datatype]
    return np.ascontiguousarray(flat, dtype=dtype.newbyteorder("<")).tobytes()
