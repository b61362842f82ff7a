"""Cell values: the four column types, how numbers and dates are written as canonical text
(:func:`format_number`, :func:`int_to_date`) and stored (:func:`date_to_int`), and the
kernels' code of each type (:data:`TYPE_CODES`). :class:`symjax.sql.table.Table` holds
columns of these; :mod:`symjax.sql.table` re-exports every name here.
"""
from __future__ import annotations

import datetime as _dt
import math

import numpy as np

__all__ = ["TEXT", "INTEGER", "REAL", "DATE", "COLUMN_TYPES", "format_number", "date_to_int", "int_to_date",
           "TYPE_CODES", "type_codes", "EXACT_INT_LIMIT", "may_leave_exact_range"]

TEXT = "text"
INTEGER = "integer"
REAL = "real"
DATE = "date"
COLUMN_TYPES = (TEXT, INTEGER, REAL, DATE)


def format_number(value: float | int) -> str:
    """Canonical text of a number: integers plain, reals rounded to 2 places and trimmed.

    ``3`` -> ``'3'``, ``3.0`` -> ``'3'``, ``2.50`` -> ``'2.5'``, ``1/3`` -> ``'0.33'``,
    ``-0.001`` -> ``'0'``. Non-finite reals print as ``'inf'``, ``'-inf'``, ``'nan'``.
    """
    if isinstance(value, (int, np.integer)) and not isinstance(value, bool):
        return str(int(value))
    x = float(value)
    if not math.isfinite(x):
        return "nan" if math.isnan(x) else ("inf" if x > 0 else "-inf")
    if x.is_integer() and abs(x) < 1e16:
        return str(int(x))
    text = f"{x:.2f}"
    if "." in text:
        text = text.rstrip("0").rstrip(".")
    if text in ("-0", ""):
        text = "0"
    return text


def date_to_int(text: str) -> int:
    """``'2001-03-05'`` -> ``20010305``; raises ``ValueError`` for anything else."""
    if len(text) != 10 or text[4] != "-" or text[7] != "-":
        raise ValueError(f"not an ISO date (YYYY-MM-DD): {text!r}")
    d = _dt.date(int(text[0:4]), int(text[5:7]), int(text[8:10]))
    return d.year * 10000 + d.month * 100 + d.day


def int_to_date(value: int) -> str:
    """``20010305`` -> ``'2001-03-05'``."""
    value = int(value)
    return "%04d-%02d-%02d" % (value // 10000, value // 100 % 100, value % 100)


#: The kernels' code of each column type.
TYPE_CODES = {TEXT: 0, INTEGER: 1, REAL: 2, DATE: 3}
_TYPE_CODE_ARRAYS: dict[tuple[str, ...], np.ndarray] = {}


def type_codes(types: tuple[str, ...]) -> np.ndarray:
    """``TYPE_CODES`` of each type as an ``int64`` array (shared, read it only)."""
    got = _TYPE_CODE_ARRAYS.get(types)
    if got is None:
        got = np.array([TYPE_CODES[t] for t in types], dtype=np.int64)
        if len(_TYPE_CODE_ARRAYS) < 4096:
            _TYPE_CODE_ARRAYS[types] = got
    return got


#: Every integer of smaller magnitude is a float64 exactly (the kernels' keys and sums).
EXACT_INT_LIMIT = 2**53


def may_leave_exact_range(values: np.ndarray) -> bool:
    """Whether these integers, or their sum, may reach :data:`EXACT_INT_LIMIT`, past which
    the kernels' float64 keys and double sums are no longer exact."""
    if not len(values):
        return False
    largest = max(abs(int(values.max())), abs(int(values.min())))
    return largest * len(values) >= EXACT_INT_LIMIT
