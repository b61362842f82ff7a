"""A table's strings ranked in code-point order, and its arrays prepared for the lane
(private).
"""
from __future__ import annotations

import numpy as np

from symjax.sql._numba import njit
from symjax.sql.text._text_kernels import C_INTEGER, C_REAL, C_TEXT, string_offsets


@njit
def _bytes_less(data, a0, a1, b0, b1):
    """Whether bytes ``data[a0:a1]`` sort before ``data[b0:b1]`` (memcmp, then length):
    for UTF-8 this is code-point order, SQLite's BINARY collation and Python's str order."""
    n = min(a1 - a0, b1 - b0)
    for q in range(n):
        x = data[a0 + q]
        y = data[b0 + q]
        if x != y:
            return x < y
    return a1 - a0 < b1 - b0


@njit
def rank_strings(pool, count):
    """Rank the ``count`` NUL-terminated strings of ``pool`` (distinct, UTF-8) in code-point
    order. Returns ``(rank of each string, the strings in rank order, NUL-terminated,
    start of each ranked string in that buffer then the end)``; bottom-up merge sort."""
    off = string_offsets(pool, count)
    order = np.arange(count)
    tmp = np.empty(count, dtype=np.int64)
    width = 1
    while width < count:
        for lo in range(0, count, 2 * width):
            mid = min(lo + width, count)
            hi = min(lo + 2 * width, count)
            i, j, k = lo, mid, lo
            while i < mid and j < hi:
                a, b = order[i], order[j]
                if _bytes_less(pool, off[b], off[b + 1] - 1, off[a], off[a + 1] - 1):
                    tmp[k] = b
                    j += 1
                else:
                    tmp[k] = a
                    i += 1
                k += 1
            while i < mid:
                tmp[k] = order[i]
                i += 1
                k += 1
            while j < hi:
                tmp[k] = order[j]
                j += 1
                k += 1
        order, tmp = tmp, order
        width *= 2
    ranks = np.empty(count, dtype=np.float64)
    ranked = np.empty(pool.shape[0], dtype=np.uint8)
    soff = np.zeros(count + 1, dtype=np.int64)
    p = 0
    for r in range(count):
        q = order[r]
        ranks[q] = r
        for x in range(off[q], off[q + 1]):
            ranked[p] = pool[x]
            p += 1
        soff[r + 1] = p
    return ranks, ranked, soff


@njit
def prepare(pool, npool, types, codes, ivals, rvals, nulls):
    """A table's inputs to :func:`sample_block` from its arrays (``Table.arrays``, the pool
    as for :func:`rank_strings`): ``(ranks, ranked strings, their offsets, keys, ints)``;
    ``keys[j, i]`` is ``Table.sort_keys(j)[i]`` (text rank, number, ``yyyymmdd``; NaN for
    NULL) and ``ints`` the integer columns (0 elsewhere)."""
    ranks, ranked, soff = rank_strings(pool, npool)
    m, n = codes.shape
    keys = np.empty((m, n), dtype=np.float64)
    ints = np.zeros((m, n), dtype=np.int64)
    for j in range(m):
        t = types[j]
        for i in range(n):
            if t == C_TEXT:
                c = codes[j, i]
                keys[j, i] = np.nan if c < 0 else ranks[c]
            elif nulls[j, i]:
                keys[j, i] = np.nan
            elif t == C_REAL:
                keys[j, i] = rvals[j, i]
            else:
                keys[j, i] = ivals[j, i]
                if t == C_INTEGER:
                    ints[j, i] = ivals[j, i]
    return ranks, ranked, soff, keys, ints
