"""The official WikiTableQuestions evaluator (``evaluator.py`` v1.0.2), ported to Python 3.

Pure Python, no TensorFlow. The semantics are those of the Python 2 original:

* **Values.** Every answer item becomes a :class:`NumberValue`, :class:`DateValue` or
  :class:`StringValue` with :func:`to_value`. A gold item is typed from its CoreNLP
  ``targetCanon`` (``2 inches`` has canon ``2.0``, so it is a number; ``9 February 2013``
  has canon ``2013-02-09``, so it is a date); a predicted item is typed from its own text,
  so only a plain numeral or a ``yyyy-mm-dd`` string is a number or a date.
* **Sets.** Both lists become sets (duplicates collapse: ``NumberValue`` by amount,
  ``StringValue`` by normalized text, ``DateValue`` by ``(y, m, d)``).
* **Correctness** (:func:`check_denotation`): same set size and every gold item matches
  some predicted item. A match is equal :func:`normalize`-d strings, or two numbers
  within ``1e-6``, or two dates with equal ``(year, month, day)`` (placeholders included).

Python 3 differences that are handled here so results equal the original's:

* ``int()``/``float()`` accept ``_`` digit separators since Python 3.6 (``1_000``);
  Python 2 did not, so a text with ``_`` is never a number here.
* Python 2 ``unicode(float)`` printed 12 significant digits; the normalized text of a
  number built without an original string follows that (``'%.12g'``).
* Surrounding whitespace, exponents (``1e3``) and Unicode decimal digits were accepted by
  Python 2's ``int()``/``float()`` on ``unicode`` too, so they are accepted here.

Kept on purpose (they are the official behaviour): ``NumberValue`` truncates an amount
within ``1e-6`` of an integer with ``int()`` (``2.9999999`` becomes ``2``); the normalized
text of a date without an original string prints an unknown day as ``-1``.
"""
from __future__ import annotations

import math
import re
import unicodedata
from typing import Iterable, Sequence

__all__ = [
    "normalize",
    "Value",
    "StringValue",
    "NumberValue",
    "DateValue",
    "parse_number",
    "parse_date",
    "to_value",
    "to_value_list",
    "check_denotation",
    "tsv_unescape",
    "tsv_unescape_list",
]

_QUOTES_SINGLE = re.compile("[\u2018\u2019\u00b4`]")
_QUOTES_DOUBLE = re.compile("[\u201c\u201d]")
_DASHES = re.compile("[\u2010\u2011\u2012\u2013\u2014\u2212]")
_CITATIONS = re.compile("((?<!^)\\[[^\\]]*\\]|\\[\\d+\\]|[\u2022\u2666\u2020\u2021*#+])*$")
_PARENTHESES = re.compile("(?<!^)( \\([^)]*\\))*$")
_OUTER_QUOTES = re.compile('^"([^"]*)"$')
_SPACES = re.compile(r"\s+")


def normalize(x: str) -> str:
    """The official string normalization (see the module docstring of the evaluator).

    Diacritics dropped (NFKD, combining marks removed); smart quotes and dashes to ASCII;
    then, until nothing changes, trailing citations (``[1]``, ``*``, ``†``, ...), trailing
    `` (...)`` groups (with a leading space, never at position 0) and one pair of outer
    double quotes are removed; one final ``.`` is dropped; whitespace is collapsed, the
    text lower-cased and stripped.
    """
    if isinstance(x, bytes):
        x = x.decode("utf8", errors="ignore")
    x = "".join(c for c in unicodedata.normalize("NFKD", x) if unicodedata.category(c) != "Mn")
    x = _QUOTES_SINGLE.sub("'", x)
    x = _QUOTES_DOUBLE.sub('"', x)
    x = _DASHES.sub("-", x)
    while True:
        old = x
        x = _CITATIONS.sub("", x.strip())
        x = _PARENTHESES.sub("", x.strip())
        x = _OUTER_QUOTES.sub(r"\1", x.strip())
        if x == old:
            break
    if x and x[-1] == ".":
        x = x[:-1]
    return _SPACES.sub(" ", x).lower().strip()


class Value:
    """A typed answer item; ``normalized`` is the text used for string matches."""

    __slots__ = ("_normalized", "_hash")

    @property
    def normalized(self) -> str:
        return self._normalized

    def match(self, other: "Value") -> bool:  # pragma: no cover - abstract
        raise NotImplementedError


class StringValue(Value):
    __slots__ = ()

    def __init__(self, content: str):
        if not isinstance(content, str):
            raise TypeError(f"StringValue needs a str, got {type(content).__name__}")
        self._normalized = normalize(content)
        self._hash = hash(self._normalized)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, StringValue) and self.normalized == other.normalized

    def __hash__(self) -> int:
        return self._hash

    def __repr__(self) -> str:
        return f"S[{self.normalized!r}]"

    def match(self, other: Value) -> bool:
        return self.normalized == other.normalized


def _py2_number_text(amount: int | float) -> str:
    return str(amount) if isinstance(amount, int) else "%.12g" % amount


class NumberValue(Value):
    __slots__ = ("_amount",)

    def __init__(self, amount: int | float, original_string: str | None = None):
        if isinstance(amount, bool) or not isinstance(amount, (int, float)):
            raise TypeError(f"NumberValue needs an int or float, got {amount!r}")
        # As the original: an amount within 1e-6 of an integer is truncated with int().
        self._amount = int(amount) if abs(amount - round(amount)) < 1e-6 else float(amount)
        if not original_string:
            self._normalized = _py2_number_text(self._amount)
        else:
            self._normalized = normalize(original_string)
        self._hash = hash(self._amount)

    @property
    def amount(self) -> int | float:
        return self._amount

    def __eq__(self, other: object) -> bool:
        return isinstance(other, NumberValue) and self.amount == other.amount

    def __hash__(self) -> int:
        return self._hash

    def __repr__(self) -> str:
        return f"N({self.amount})[{self.normalized!r}]"

    def match(self, other: Value) -> bool:
        if self.normalized == other.normalized:
            return True
        return isinstance(other, NumberValue) and abs(self.amount - other.amount) < 1e-6


class DateValue(Value):
    """A date; unknown fields are ``-1`` (written ``xx`` or ``xxxx``)."""

    __slots__ = ("_ymd",)

    def __init__(self, year: int, month: int, day: int, original_string: str | None = None):
        if not (month == -1 or 1 <= month <= 12) or not (day == -1 or 1 <= day <= 31):
            raise ValueError(f"invalid date fields {(year, month, day)}")
        if year == month == day == -1:
            raise ValueError("a date needs at least one known field")
        self._ymd = (year, month, day)
        if not original_string:
            # The original compares day with the string '-1', so an unknown day prints -1.
            self._normalized = "{}-{}-{}".format(
                year if year != -1 else "xx", month if month != -1 else "xx", day
            )
        else:
            self._normalized = normalize(original_string)
        self._hash = hash(self._ymd)

    @property
    def ymd(self) -> tuple[int, int, int]:
        return self._ymd

    def __eq__(self, other: object) -> bool:
        return isinstance(other, DateValue) and self.ymd == other.ymd

    def __hash__(self) -> int:
        return self._hash

    def __repr__(self) -> str:
        return "D({},{},{})[{!r}]".format(*self._ymd, self.normalized)

    def match(self, other: Value) -> bool:
        if self.normalized == other.normalized:
            return True
        return isinstance(other, DateValue) and self.ymd == other.ymd


def parse_number(text: str) -> int | float | None:
    """``int(text)``, else a finite ``float(text)``, else ``None`` (Python 2 rules: no
    ``_`` separators)."""
    if not isinstance(text, str) or "_" in text:
        return None
    try:
        return int(text)
    except ValueError:
        pass
    try:
        amount = float(text)
    except ValueError:
        return None
    if math.isnan(amount) or math.isinf(amount):
        return None
    return amount


def _date_field(part: str) -> int:
    if "_" in part:
        raise ValueError(part)
    return int(part)


def parse_date(text: str) -> tuple[int, int, int] | None:
    """``yyyy-mm-dd`` with ``xx``/``xxxx`` for unknown fields -> ``(y, m, d)`` (``-1`` for
    unknown), or ``None``. Month must be 1-12, day 1-31, and not every field unknown."""
    if not isinstance(text, str):
        return None
    parts = text.lower().split("-")
    if len(parts) != 3:
        return None
    try:
        year = -1 if parts[0] in ("xx", "xxxx") else _date_field(parts[0])
        month = -1 if parts[1] == "xx" else _date_field(parts[1])
        day = -1 if parts[2] == "xx" else _date_field(parts[2])
    except ValueError:
        return None
    if year == month == day == -1:
        return None
    if not (month == -1 or 1 <= month <= 12) or not (day == -1 or 1 <= day <= 31):
        return None
    return (year, month, day)


def to_value(original: str | Value, canon: str | None = None) -> Value:
    """The typed value of an answer item; ``canon`` (the CoreNLP value, e.g. a
    ``targetCanon`` item) decides the type, and falls back to ``original`` when empty.
    A date with only a year is a number."""
    if isinstance(original, Value):
        return original
    if not canon:
        canon = original
    amount = parse_number(canon)
    if amount is not None:
        return NumberValue(amount, original)
    ymd = parse_date(canon)
    if ymd is not None:
        if ymd[1] == ymd[2] == -1:
            return NumberValue(ymd[0], original)
        return DateValue(*ymd, original)
    return StringValue(original)


def to_value_list(originals: Sequence[str], canons: Sequence[str | None] | None = None) -> list[Value]:
    """The set (as a list) of values of ``originals``, typed by ``canons`` when given."""
    if canons is None:
        return list({to_value(x) for x in originals})
    if len(originals) != len(canons):
        raise ValueError(
            f"{len(originals)} answer items but {len(canons)} canonical values: {originals!r} / {canons!r}"
        )
    return list({to_value(x, y) for x, y in zip(originals, canons)})


def check_denotation(target_values: Iterable[Value], predicted_values: Iterable[Value]) -> bool:
    """True when both sets have the same size and every target matches a prediction."""
    targets = list(target_values)
    predictions = list(predicted_values)
    if len(targets) != len(predictions):
        return False
    return all(any(t.match(p) for p in predictions) for t in targets)


def tsv_unescape(x: str) -> str:
    """Undo the WTQ TSV escapes: ``\\n`` -> newline, ``\\p`` -> ``|``, ``\\\\`` -> ``\\``
    (in that order, as the original)."""
    return x.replace(r"\n", "\n").replace(r"\p", "|").replace("\\\\", "\\")


def tsv_unescape_list(x: str) -> list[str]:
    """A ``|``-joined WTQ list field, unescaped item by item."""
    return [tsv_unescape(y) for y in x.split("|")]
