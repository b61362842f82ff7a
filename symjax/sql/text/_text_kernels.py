"""Private numba kernels that write a table's text (the API is :func:`symjax.sql.text.linearize.linearize`).

:func:`linearize` writes the ``tapex`` or ``indexed`` linearization of a table straight from
its columnar arrays as UTF-8 bytes: text cells are copied from the string pool, integers,
reals and dates are formatted here, exactly as :meth:`symjax.sql.table.Table.column_texts`
formats them (``str``, :func:`symjax.sql.table.format_number`, ISO dates). Whenever the
exact Python text cannot be guaranteed, the kernel says so and the caller takes the Python
path, which stays the reference (``tests/test_text_kernels.py`` compares the two):

* a text cell or a column name holds a line break (the Python path replaces it);
* a real is 1e13 or more without being an integer, or ``x * 100`` lies within rounding
  error of a half (``f"{x:.2f}"`` rounds the exact binary value, half to even);
* a date number is not a plausible ``yyyymmdd`` (negative).
"""
from __future__ import annotations

import math

import numpy as np

from symjax.sql._numba import njit

C_TEXT, C_INTEGER, C_REAL, C_DATE = 0, 1, 2, 3  # symjax.sql.table.TYPE_CODES
STYLE_TAPEX, STYLE_INDEXED = 0, 1
OK, NEEDS_PYTHON = 0, 1

_MAX_INT_CHARS = 20  # "-9223372036854775808"; a real written here takes at most 18
_MAX_DATE_CHARS = 24


@njit
def string_offsets(sbytes, count):
    """Start of each of ``count`` NUL-terminated strings in ``sbytes``, then the end."""
    soff = np.zeros(count + 1, dtype=np.int64)
    k = 0
    for p in range(sbytes.shape[0]):
        if sbytes[p] == 0 and k < count:
            k += 1
            soff[k] = p + 1
    return soff


@njit
def write_digits(buf, p, v, width):
    """Decimal digits of the non-negative int64 ``v``, zero-padded to ``width``."""
    digits = 1
    t = v
    while t >= 10:
        t //= 10
        digits += 1
    if digits < width:
        digits = width
    for q in range(digits - 1, -1, -1):
        buf[p + q] = 48 + v % 10
        v //= 10
    return p + digits


_INT64_MIN = np.frombuffer(b"-9223372036854775808", dtype=np.uint8)


@njit
def write_int(buf, p, v):
    """``str(v)`` of an int64."""
    if v >= 0:
        return write_digits(buf, p, v, 1)
    if v == -9223372036854775807 - 1:
        return write_text(buf, p, _INT64_MIN)
    buf[p] = 45  # "-"
    return write_digits(buf, p + 1, -v, 1)


@njit
def write_date(buf, p, v):
    """``"%04d-%02d-%02d" % (v // 10000, v // 100 % 100, v % 100)``; -1 for a negative ``v``."""
    if v < 0:
        return -1
    p = write_digits(buf, p, v // 10000, 4)
    buf[p] = 45
    p = write_digits(buf, p + 1, v // 100 % 100, 2)
    buf[p] = 45
    return write_digits(buf, p + 1, v % 100, 2)


@njit
def write_real(buf, p, x):
    """:func:`symjax.sql.table.format_number` of a finite real; -1 where the kernel cannot
    be sure of Python's rounding (see the module docstring)."""
    if x == np.floor(x) and abs(x) < 1e16:
        return write_int(buf, p, np.int64(x))
    a = abs(x)
    if not a < 1e13:
        return -1
    s = a * 100.0  # within s * 2**-53 of the exact product
    k = np.floor(s)
    f = s - k  # exact (Sterbenz)
    if abs(f - 0.5) <= s * 2.0**-50:
        return -1
    if f > 0.5:
        k += 1.0
    cents = np.int64(k)
    if cents == 0:  # "-0.00" -> "0"
        buf[p] = 48
        return p + 1
    return _write_cents(buf, p, x < 0, cents, False)


@njit
def _write_cents(buf, p, negative, cents, point):
    """A sign, ``cents // 100``, then the cents without trailing zeros (``.5``, ``.25``);
    ``.0`` for none when ``point``."""
    if negative:
        buf[p] = 45
        p += 1
    p = write_digits(buf, p, cents // 100, 1)
    frac = cents % 100
    if frac or point:
        buf[p] = 46  # "."
        buf[p + 1] = 48 + frac // 10
        p += 2
        if frac % 10:
            buf[p] = 48 + frac % 10
            p += 1
    return p


@njit
def _copy(buf, p, src, a, b):
    """Copy ``src[a:b]``; -1 if it holds a line break."""
    for q in range(a, b):
        c = src[q]
        if c == 10 or c == 13:
            return -1
        buf[p] = c
        p += 1
    return p


@njit
def copy_bytes(buf, p, src, a, b):
    """Copy ``src[a:b]`` to ``buf[p:]``; the end."""
    for q in range(a, b):
        buf[p] = src[q]
        p += 1
    return p


@njit
def write_text(buf, p, src):
    return copy_bytes(buf, p, src, 0, src.shape[0])


_COL = np.frombuffer(b"col : ", dtype=np.uint8)
_HEADER = np.frombuffer(b"header: ", dtype=np.uint8)
_SEP = np.frombuffer(b" | ", dtype=np.uint8)
_ROW = np.frombuffer(b"row ", dtype=np.uint8)
_COLON = np.frombuffer(b" : ", dtype=np.uint8)


@njit
def linearize(pool, npool, header, types, codes, ivals, rvals, nulls, style):
    """The table's ``tapex`` / ``indexed`` text as UTF-8 bytes, and a status.

    ``pool``: the ``npool`` strings of the pool as UTF-8, each followed by a NUL byte;
    ``header``: the column names likewise (one per column); ``types``:
    a ``C_*`` code per column; ``codes[j, i]`` the pool index of a text cell (-1: NULL),
    ``ivals`` integers and ``yyyymmdd`` dates, ``rvals`` reals, ``nulls`` the NULL masks.
    Returns ``(bytes, OK)``, or ``(empty, NEEDS_PYTHON)`` (see the module docstring)."""
    m = types.shape[0]
    n = codes.shape[1]
    poff = string_offsets(pool, npool)
    hoff = string_offsets(header, m)
    size = header.shape[0] + 3 * m + 8
    for j in range(m):
        t = types[j]
        if t == C_TEXT:
            for i in range(n):
                c = codes[j, i]
                if c >= 0:
                    size += poff[c + 1] - poff[c]
        elif t == C_DATE:
            size += _MAX_DATE_CHARS * n
        else:
            size += _MAX_INT_CHARS * n
    size += n * (3 * m + 28)
    buf = np.empty(size, dtype=np.uint8)
    p = write_text(buf, 0, _COL if style == STYLE_TAPEX else _HEADER)
    for j in range(m):
        if j:
            p = write_text(buf, p, _SEP)
        p = _copy(buf, p, header, hoff[j], hoff[j + 1] - 1)
        if p < 0:
            return buf[:0], NEEDS_PYTHON
    for i in range(n):
        buf[p] = 32 if style == STYLE_TAPEX else 10
        p = write_text(buf, p + 1, _ROW)
        p = write_digits(buf, p, i + 1, 1)
        p = write_text(buf, p, _COLON)
        for j in range(m):
            if j:
                p = write_text(buf, p, _SEP)
            t = types[j]
            if t == C_TEXT:
                c = codes[j, i]
                if c >= 0:
                    p = _copy(buf, p, pool, poff[c], poff[c + 1] - 1)
            elif nulls[j, i]:
                continue
            elif t == C_INTEGER:
                p = write_int(buf, p, ivals[j, i])
            elif t == C_REAL:
                p = write_real(buf, p, rvals[j, i])
            else:
                p = write_date(buf, p, ivals[j, i])
            if p < 0:
                return buf[:0], NEEDS_PYTHON
    return buf[:p], OK


@njit
def write_repr_real(buf, p, x):
    """``repr(x)`` of a finite real that is an integer below 1e16 or the double nearest to
    a number of cents below 1e13 (the shortest round-trip form is then those digits); -1
    for any other real."""
    if x == np.floor(x) and abs(x) < 1e16:
        if x == 0.0 and math.copysign(1.0, x) < 0:  # repr(-0.0)
            buf[p] = 45
            p += 1
        p = write_int(buf, p, np.int64(x))
        buf[p] = 46
        buf[p + 1] = 48
        return p + 2
    a = abs(x)
    if not a < 1e13:
        return -1
    cents = np.int64(np.floor(a * 100.0 + 0.5))
    if cents / 100.0 != a:
        return -1
    return _write_cents(buf, p, x < 0, cents, True)


@njit
def write_tenths(buf, p, v):
    """``repr(v / 10.0)`` of an int64 ``v`` below 1e14 in magnitude; -1 otherwise."""
    if not -10**14 < v < 10**14:
        return -1
    if v < 0:
        buf[p] = 45
        p += 1
        v = -v
    p = write_digits(buf, p, v // 10, 1)
    buf[p] = 46
    buf[p + 1] = 48 + v % 10
    return p + 2


@njit
def write_quoted(buf, p, src, a, b, nchars, suffix, quote):
    """``src[a:b]`` (UTF-8) between two ``quote`` bytes, with that byte doubled inside: its
    first ``nchars`` code points (all if negative), then the byte ``suffix`` if not 0.
    ``quote`` 39 writes an SQL string literal, 34 a quoted identifier."""
    buf[p] = quote
    p += 1
    seen = 0
    for q in range(a, b):
        c = src[q]
        if c & 0xC0 != 0x80:  # a code point starts here
            if seen == nchars:
                break
            seen += 1
        buf[p] = c
        p += 1
        if c == quote:
            buf[p] = quote
            p += 1
    if suffix:
        buf[p] = suffix
        p += 1
    buf[p] = quote
    return p + 1


@njit
def cell_text(kind, value, real):
    """One formatted number as bytes, for the twin tests: ``kind`` ``C_INTEGER``,
    ``C_REAL``, ``C_DATE`` (a cell's text), -1 (``repr`` of ``real``) or -2 (``repr`` of
    ``value / 10``); empty where the kernel would defer to Python."""
    buf = np.empty(_MAX_DATE_CHARS, dtype=np.uint8)
    if kind == C_INTEGER:
        p = write_int(buf, 0, value)
    elif kind == C_REAL:
        p = write_real(buf, 0, real)
    elif kind == C_DATE:
        p = write_date(buf, 0, value)
    elif kind == -1:  # repr of a real
        p = write_repr_real(buf, 0, real)
    else:  # repr of value / 10
        p = write_tenths(buf, 0, value)
    if p < 0:
        return buf[:0]
    return buf[:p]
