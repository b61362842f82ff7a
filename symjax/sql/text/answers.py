"""Canonical answers: the one function that turns query results into target strings.

Used for training targets and, later, by the metrics, so that a prediction is compared with
exactly what the generator would have written.

Rules of :func:`canonical_answer`:

* integers print plainly (``1370``), never ``1370.0``;
* reals are rounded to 2 decimal places and trimmed (``2.50`` -> ``2.5``, ``3.0`` -> ``3``,
  ``10/3`` -> ``3.33``), see :func:`symjax.sql.table.format_number`;
* text prints as is; dates print as ISO ``YYYY-MM-DD``; a NULL value prints as ``none``;
* a result without ``ORDER BY`` is a multiset, so its values are sorted (NULL first, then
  numbers by value, then text by code point), which makes the answer independent of the
  order an engine happens to scan rows in; an ordered result keeps its order;
* :func:`answer_text` joins values with ``", "``; an empty result is the fixed token
  ``@NULL@`` (TAPEX-Zero's token for an empty answer).

Several columns: each row is one answer item, its values' canonical texts joined by
``" | "`` (:data:`ROW_VALUE_SEPARATOR`), so ``SELECT "Name", "Points" ...`` answers
``Ann | 10, Bob | 20``. Rows of an unordered result are sorted by their values, column by
column, with the order above. :func:`split_answer` gives the rows back and
:func:`split_row` one row's values, for targets and metrics alike.
"""
from __future__ import annotations

from typing import Any, Iterable, Sequence

from symjax.sql.table import format_number

__all__ = [
    "ANSWER_SEPARATOR",
    "ROW_VALUE_SEPARATOR",
    "EMPTY_ANSWER",
    "NULL_VALUE",
    "canonical_answer",
    "canonical_value",
    "answer_text",
    "split_answer",
    "split_row",
]

ANSWER_SEPARATOR = ", "
ROW_VALUE_SEPARATOR = " | "
EMPTY_ANSWER = "@NULL@"
NULL_VALUE = "none"


def canonical_value(value: Any) -> str:
    """The canonical text of one result value."""
    if value is None:
        return NULL_VALUE
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "1" if value else "0"
    return format_number(value)


def _sort_key(value: Any) -> tuple:
    if value is None:
        return (0, 0.0, "")
    if isinstance(value, (int, float)):
        return (1, float(value), "")
    return (2, 0.0, str(value))


def canonical_answer(values: Iterable[Any], *, ordered: bool) -> tuple[str, ...]:
    """Canonical strings of a result, one per row (see the module docstring): ``values``
    holds a single column's values, or one tuple per row for several columns."""
    vals = list(values)
    if any(isinstance(v, tuple) for v in vals):
        if not ordered and len(vals) > 1:
            vals.sort(key=lambda row: tuple(_sort_key(v) for v in row))
        return tuple(ROW_VALUE_SEPARATOR.join(canonical_value(v) for v in row) for row in vals)
    if not ordered and len(vals) > 1:
        vals.sort(key=_sort_key)
    return tuple(canonical_value(v) for v in vals)


def answer_text(answer: Sequence[str]) -> str:
    """The target string of a canonical answer: values joined by ``", "``, or ``@NULL@``."""
    if not answer:
        return EMPTY_ANSWER
    return ANSWER_SEPARATOR.join(answer)


def split_answer(text: str) -> tuple[str, ...]:
    """Inverse of :func:`answer_text` for answers whose values contain no ``", "``: the
    rows (each a value, or values joined by ``" | "``, see :func:`split_row`)."""
    text = text.strip()
    if text == EMPTY_ANSWER or not text:
        return ()
    return tuple(part.strip() for part in text.split(ANSWER_SEPARATOR))


def split_row(item: str) -> tuple[str, ...]:
    """The values of one answer item of a several-column result (``"Ann | 10"`` ->
    ``("Ann", "10")``), for values that contain no ``" | "``."""
    return tuple(part.strip() for part in item.split(ROW_VALUE_SEPARATOR))
