"""Type inference for table cells: which text is a number, a date, NULL or text.

Loaders in :mod:`symjax.sql.io` run every string cell through these rules; a cell parsed
into a number or a date keeps its original text as the table's ``display``.

Cell inference (:func:`infer_cell`)
-----------------------------------
A cell is stripped of surrounding whitespace, then tried in this order:

1. **NULL** (returned as ``(None, None)``): the empty string; a run of dashes (``-``,
   ``--``, ``‐``, ``‑``, ``‒``, ``–``, ``—``, ``―``, ``−``); ``n/a`` in any case, with
   optional spaces around the slash (TabFact writes ``n / a``); ``?``. Words such as
   ``none``, ``unknown`` or ``tba`` are text: ``none`` often means zero.
2. **integer**: an optional sign (``+``, ``-`` or the minus sign ``−``), then ASCII
   digits, either plain (``0012`` is 12) or grouped by commas in threes (``1,370``; the
   first group has no leading zero).
3. **real**: the same digits with a fractional part (``3.5``, ``1,234.5``, ``.5``).
   Decorations: a currency symbol ``$ £ € ¥`` after the sign; a trailing ``%`` (the value is
   not divided by 100, as WTQ's canonical answers do: ``48.4%`` is 48.4 and ``48%`` is the
   integer 48); a multiplier word ``thousand``, ``million``, ``billion`` or ``trillion``,
   which always makes the cell real. A currency sign and ``%`` never go together.
4. **date** (an ISO string ``YYYY-MM-DD``): ``2001-03-05``, ``2001/03/05`` (two-digit
   month and day), ``March 5, 2001``, ``Mar. 5, 2001``, ``5 March 2001``, in any case and
   with optional spaces before the comma (TabFact writes ``march 5 , 2001``). Month names
   are English, full or abbreviated (``Sept`` too). The date must exist (``February 30``
   is text). Day-month ambiguous forms such as ``03/05/2001`` are text, and a bare year
   such as ``2001`` is an integer.
5. **text**: everything else, returned unchanged (not stripped). Inference is strict:
   ``1,37``, ``1.2.3``, ``12a``, ``1e3``, ``5.``, ``1,370 lb (635 kg)`` and non-ASCII
   digits are text, and so is an integer beyond 64 bits.

>>> infer_cell("1,370")
('integer', 1370)
>>> infer_cell("−5")
('integer', -5)
>>> infer_cell("48.4%")
('real', 48.4)
>>> infer_cell("$1.5 million")
('real', 1500000.0)
>>> infer_cell("Mar. 5, 2001")
('date', '2001-03-05')
>>> infer_cell("2001")
('integer', 2001)
>>> infer_cell(" — ")
(None, None)
>>> infer_cell("1,370 lb (635 kg)")
('text', '1,370 lb (635 kg)')

Column inference (:func:`infer_column`)
---------------------------------------
Over the non-NULL cells of a column: all integers gives ``integer``; all numbers gives
``real`` (integers become floats); all dates gives ``date``; anything else, or no non-NULL
cell at all, gives ``text``. Numeric and date columns hold NULL where a cell was a NULL
token. A text column loses nothing: every cell keeps its exact original string, NULL
tokens such as ``—`` included; only a blank cell (empty or whitespace) is NULL, in every
column type.

>>> infer_column(["1", "—", "1,370"])
('integer', [1, None, 1370])
>>> infer_column(["1", "2.5"])
('real', [1.0, 2.5])
>>> infer_column(["1", "—", "x"])
('text', ['1', '—', 'x'])

Python values (JSON, data frames, :func:`~symjax.sql.io.table_from_rows`) are typed by
their own type:
``int`` is integer, ``float`` real (NaN is NULL), ``datetime.date`` (or a ``datetime`` at
midnight) a date, ``bool`` the text ``True``/``False``, ``None`` NULL; string cells are
inferred as above unless ``infer=False``, which keeps them text. In a text column a number
becomes its text (``str(3)``, ``repr(2.5)``).
"""
from __future__ import annotations

import datetime as _dt
import math
import re
from decimal import Decimal
from typing import Any, Sequence

import numpy as np

from symjax.sql.table import DATE, INTEGER, REAL, TEXT

__all__ = ["infer_cell", "infer_column"]

_NULL_RE = re.compile(r"[-‐‑‒–—―−]+|n\s*/\s*a|\?", re.IGNORECASE)
_NUMBER_RE = re.compile(
    r"(?P<sign>[+\-−])?"
    r"(?:(?P<cur>[$£€¥])\s*)?"
    r"(?P<int>[1-9][0-9]{0,2}(?:,[0-9]{3})+|[0-9]+)?"
    r"(?:\.(?P<frac>[0-9]+))?"
    r"(?:\s*(?P<pct>%)|\s*(?P<mult>thousand|million|billion|trillion))?",
    re.IGNORECASE,
)
_MULTIPLIERS = {"thousand": 3, "million": 6, "billion": 9, "trillion": 12}
_MONTHS = {
    "january": 1, "february": 2, "march": 3, "april": 4, "may": 5, "june": 6, "july": 7,
    "august": 8, "september": 9, "october": 10, "november": 11, "december": 12,
    "jan": 1, "feb": 2, "mar": 3, "apr": 4, "jun": 6, "jul": 7, "aug": 8, "sep": 9,
    "sept": 9, "oct": 10, "nov": 11, "dec": 12,
}
_ISO_RE = re.compile(r"(?P<y>[0-9]{4})(?P<sep>[-/])(?P<m>[0-9]{2})(?P=sep)(?P<d>[0-9]{2})")
_MDY_RE = re.compile(r"(?P<mon>[A-Za-z]+)\.?\s+(?P<d>[0-9]{1,2})(?:\s*,\s*|\s+)(?P<y>[0-9]{4})")
_DMY_RE = re.compile(r"(?P<d>[0-9]{1,2})\s+(?P<mon>[A-Za-z]+)\.?(?:\s*,\s*|\s+)(?P<y>[0-9]{4})")
_INT64_MIN, _INT64_MAX = -(2**63), 2**63 - 1


def infer_cell(text: str) -> tuple[str | None, Any]:
    """The type and value of one cell of text, by the rules in the module docstring.

    Returns ``(None, None)`` for NULL, ``('integer', int)``, ``('real', float)``,
    ``('date', 'YYYY-MM-DD')`` or ``('text', text)`` with ``text`` unchanged.
    """
    if not isinstance(text, str):
        raise TypeError(f"infer_cell takes a str, got {type(text).__name__} {text!r}")
    s = text.strip()
    if not s or _NULL_RE.fullmatch(s):
        return None, None
    number = _parse_number(s)
    if number is not None:
        return number
    date = _parse_date(s)
    if date is not None:
        return DATE, date
    return TEXT, text


def _parse_number(s: str) -> tuple[str, int | float] | None:
    m = _NUMBER_RE.fullmatch(s)
    if m is None or (m["int"] is None and m["frac"] is None) or (m["cur"] and m["pct"]):
        return None
    negative = m["sign"] in ("-", "−")
    digits = (m["int"] or "0").replace(",", "")
    if m["mult"]:
        amount = Decimal(f"{digits}.{m['frac'] or '0'}").scaleb(_MULTIPLIERS[m["mult"].lower()])
        value = float(-amount if negative else amount)
        return (REAL, value) if math.isfinite(value) else None
    if m["frac"] is not None:
        value = float(f"{'-' if negative else ''}{digits}.{m['frac']}")
        return (REAL, value) if math.isfinite(value) else None
    number = -int(digits) if negative else int(digits)
    if not _INT64_MIN <= number <= _INT64_MAX:
        return None
    return INTEGER, number


def _parse_date(s: str) -> str | None:
    m = _ISO_RE.fullmatch(s)
    if m is not None:
        return _iso_date(int(m["y"]), int(m["m"]), int(m["d"]))
    m = _MDY_RE.fullmatch(s) or _DMY_RE.fullmatch(s)
    if m is not None:
        month = _MONTHS.get(m["mon"].lower())
        if month is not None:
            return _iso_date(int(m["y"]), month, int(m["d"]))
    return None


def _iso_date(year: int, month: int, day: int) -> str | None:
    try:
        return _dt.date(year, month, day).isoformat()
    except ValueError:
        return None


def classify_cell(value: Any, infer: bool) -> tuple[str | None, Any, str | None]:
    """``(kind, parsed, text)`` of one cell: its inferred type, the value for that type,
    and the value a text column stores (``None`` for NULL). Raises ``TypeError`` for a
    value no column can hold."""
    if value is None:
        return None, None, None
    if isinstance(value, str):
        blank = not value.strip()
        if not infer:
            return (None, None, None) if blank else (TEXT, value, value)
        kind, parsed = infer_cell(value)
        return kind, parsed, None if blank else value
    if isinstance(value, (bool, np.bool_)):
        text = str(bool(value))
        return TEXT, text, text
    if isinstance(value, _dt.datetime):
        if value.time() == _dt.time(0) and value.tzinfo is None:
            iso = value.date().isoformat()
            return DATE, iso, iso
        text = value.isoformat(sep=" ")
        return TEXT, text, text
    if isinstance(value, _dt.date):
        return DATE, value.isoformat(), value.isoformat()
    if isinstance(value, (int, np.integer)):
        return INTEGER, int(value), str(int(value))
    if isinstance(value, (float, np.floating)):
        x = float(value)
        if math.isnan(x):
            return None, None, None
        if math.isinf(x):
            raise TypeError(f"non-finite number {value!r}; use None for a missing value")
        return REAL, x, repr(x)
    raise TypeError(
        f"unsupported cell value {type(value).__name__} {value!r}; cells are str, int, "
        "float, bool, datetime.date or None"
    )


def column_type_of(kinds: set) -> str:
    """The type of a column whose cells classified (:func:`classify_cell`) as ``kinds``."""
    kinds = kinds - {None}
    if kinds == {INTEGER}:
        return INTEGER
    if kinds and kinds <= {INTEGER, REAL}:
        return REAL
    if kinds == {DATE}:
        return DATE
    return TEXT


def infer_column(cells: Sequence[str]) -> tuple[str, list[Any]]:
    """The type of a column of text cells and its values, by the rules in the module
    docstring: ``integer``, ``real``, ``date`` or ``text`` (``None`` marks NULL)."""
    classified = [classify_cell(c, True) for c in cells]
    t = column_type_of({k for k, _, _ in classified})
    return t, [cell_value(t, k, p, txt) for k, p, txt in classified]


def cell_value(t: str, kind: str | None, parsed: Any, text: str | None) -> Any:
    """The value a column of type ``t`` stores for a cell :func:`classify_cell` gave."""
    if t == TEXT:
        return text
    if kind is None:
        return None
    return float(parsed) if t == REAL else parsed
