"""Write examples as JSONL or as TFRecord files of ``tf.train.Example`` protos.

TFRecord is written without TensorFlow: each record is ``uint64 length``, ``uint32
masked_crc32c(length)``, the serialized proto, ``uint32 masked_crc32c(proto)`` (the format
``tf.data.TFRecordDataset`` reads). The proto has one ``bytes_list`` feature per field:
``inputs``, ``targets``, ``sql``, ``family``, ``answer`` (one value per answer item) and
``table`` (the table as JSON). The CRC is a numba kernel.
"""
from __future__ import annotations

import json
import struct
from typing import Any, Iterable, Mapping, Sequence

import numpy as np

from symjax.sql.export._record_kernels import CRC_TABLE, crc32c
from symjax.sql.per_table import PerTable

__all__ = ["masked_crc32c", "serialize_example", "TFRecordWriter", "JsonlWriter", "example_features", "read_tfrecord", "table_json"]

_MASK_DELTA = 0xA282EAD8
_JSON: PerTable[str] = PerTable()  # each table's JSON, written once per table


def masked_crc32c(data: bytes) -> int:
    """TFRecord's masked CRC-32C of ``data``."""
    crc = int(crc32c(np.frombuffer(data, dtype=np.uint8), CRC_TABLE))
    return (((crc >> 15) | (crc << 17)) + _MASK_DELTA) & 0xFFFFFFFF


def _varint(n: int) -> bytes:
    out = bytearray()
    while True:
        b = n & 0x7F
        n >>= 7
        if n:
            out.append(b | 0x80)
        else:
            out.append(b)
            return bytes(out)


def _field(number: int, payload: bytes) -> bytes:
    return _varint((number << 3) | 2) + _varint(len(payload)) + payload


def serialize_example(features: Mapping[str, Sequence[bytes]]) -> bytes:
    """Serialize a ``tf.train.Example`` whose features are all ``bytes_list``."""
    entries = []
    for key in sorted(features):
        bytes_list = b"".join(_field(1, v) for v in features[key])
        feature = _field(1, bytes_list)  # Feature.bytes_list = 1
        entry = _field(1, key.encode("utf-8")) + _field(2, feature)  # map entry key=1, value=2
        entries.append(_field(1, entry))  # Features.feature = 1
    return _field(1, b"".join(entries))  # Example.features = 1


def table_json(table: Any) -> str:
    """The table as JSON (header, types, rows), computed once per table: the examples of a
    stream block share their table."""
    cached = _JSON.get(table)
    if cached is None:
        cached = _JSON[table] = json.dumps(table.to_dict(), ensure_ascii=False)
    return cached


def example_features(example: Any) -> dict[str, list[bytes]]:
    """The record features of a :class:`symjax.sql.stream.Example`."""
    return {
        "inputs": [example.inputs.encode("utf-8")],
        "targets": [example.targets.encode("utf-8")],
        "sql": [example.sql.encode("utf-8")],
        "family": [example.family.encode("utf-8")],
        "answer": [a.encode("utf-8") for a in example.answer],
        "table": [table_json(example.table).encode("utf-8")],
    }


class _FileWriter:
    """A file opened for writing, closed by ``close()`` or at the end of a ``with`` block."""

    def __init__(self, path: str, mode: str):
        self._f = open(path, mode, **({} if "b" in mode else {"encoding": "utf-8"}))

    def close(self) -> None:
        self._f.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()


class TFRecordWriter(_FileWriter):
    """Append records to a TFRecord file (use as a context manager)."""

    def __init__(self, path: str):
        super().__init__(path, "wb")

    def write(self, record: bytes) -> None:
        header = struct.pack("<Q", len(record))
        self._f.write(header + struct.pack("<I", masked_crc32c(header)) + record
                      + struct.pack("<I", masked_crc32c(record)))

    def write_example(self, example: Any) -> None:
        self.write(serialize_example(example_features(example)))


class JsonlWriter(_FileWriter):
    """Append examples as JSON lines (``Example.to_dict``)."""

    def __init__(self, path: str):
        super().__init__(path, "w")

    def write_example(self, example: Any) -> None:
        # Example.to_dict() with the table's JSON spliced in from the per-table cache.
        head = json.dumps(example.to_dict(include_table=False), ensure_ascii=False)
        self._f.write(f'{head[:-1]}, "table": {table_json(example.table)}}}\n')


def read_tfrecord(path: str) -> Iterable[bytes]:
    """Read back the records of a TFRecord file, checking both CRCs (for tests and tools)."""
    with open(path, "rb") as f:
        while True:
            header = f.read(8)
            if not header:
                return
            if len(header) < 8:
                raise ValueError(f"{path}: truncated record header")
            (length,) = struct.unpack("<Q", header)
            (hcrc,) = struct.unpack("<I", f.read(4))
            if hcrc != masked_crc32c(header):
                raise ValueError(f"{path}: corrupt record length checksum")
            data = f.read(length)
            (dcrc,) = struct.unpack("<I", f.read(4))
            if len(data) != length or dcrc != masked_crc32c(data):
                raise ValueError(f"{path}: corrupt record data checksum")
            yield data
