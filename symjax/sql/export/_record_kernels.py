"""Private numba kernel: CRC-32C (Castagnoli), the checksum of the TFRecord format."""
from __future__ import annotations

import numpy as np

from symjax.sql._numba import njit

_POLY = 0x82F63B78


def _make_table() -> np.ndarray:
    table = np.zeros(256, dtype=np.uint32)
    for i in range(256):
        c = i
        for _ in range(8):
            c = (c >> 1) ^ _POLY if c & 1 else c >> 1
        table[i] = c
    return table


CRC_TABLE = _make_table()


@njit
def crc32c(data, table):
    """CRC-32C of a uint8 array."""
    crc = np.uint32(0xFFFFFFFF)
    for i in range(data.shape[0]):
        crc = table[(crc ^ np.uint32(data[i])) & np.uint32(0xFF)] ^ (crc >> np.uint32(8))
    return crc ^ np.uint32(0xFFFFFFFF)
