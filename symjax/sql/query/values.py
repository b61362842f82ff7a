"""SQLite's value semantics in small pure helpers: affinity, comparison, arithmetic, truth.

Values are Python ``None`` (NULL), ``int`` (exact 64-bit integers, never rounded through a
double), ``float`` and ``str``. Each helper follows the SQLite 3.40 code path it names, so
that the general executor (:mod:`symjax.sql.query.general`) gives what SQLite gives,
including the corners people hit on real tables: text turned into numbers by arithmetic
(``'12abc' + 0`` is ``12``) or by a numeric column's affinity (``"points" = '20'``),
integer division, integer overflow falling back to reals in ``+ - * /`` and raising in
``SUM``, and NULL's three-valued logic.
"""
from __future__ import annotations

import math
import re
from typing import Any

from symjax.errors import SqlOverflowError

__all__ = [
    "INT64_MIN",
    "INT64_MAX",
    "AFF_NONE",
    "AFF_TEXT",
    "AFF_NUMERIC",
    "ASCII_FOLD",
    "real_text",
    "to_text",
    "atof",
    "arith_operand",
    "numeric_type",
    "apply_affinity",
    "comparison_affinity",
    "compare",
    "order_key",
    "distinct_key",
    "truth",
    "arith",
    "negate",
    "logical_and",
    "logical_or",
    "logical_not",
    "like",
    "sql_abs",
    "sql_length",
    "fold_ascii",
]

INT64_MIN = -(2**63)
INT64_MAX = 2**63 - 1
# Affinities that matter for comparisons (SQLite's INTEGER, REAL and NUMERIC affinities
# behave alike there; BLOB and no affinity as well).
AFF_NONE, AFF_TEXT, AFF_NUMERIC = "none", "text", "numeric"
ASCII_FOLD = str.maketrans("ABCDEFGHIJKLMNOPQRSTUVWXYZ", "abcdefghijklmnopqrstuvwxyz")
_ASCII_UPPER = str.maketrans("abcdefghijklmnopqrstuvwxyz", "ABCDEFGHIJKLMNOPQRSTUVWXYZ")
_SPACE = " \t\n\v\f\r"
_MANTISSA = re.compile(r"[ \t\n\v\f\r]*([+-]?)([0-9]*)(\.[0-9]*)?")
_EXPONENT = re.compile(r"([+-]?)([0-9]*)")
_INTEGER = re.compile(r"[ \t\n\v\f\r]*([+-]?)([0-9]*)")


def fold_ascii(text: str) -> str:
    """SQLite's case folding of identifiers and LIKE: ASCII letters only (``Ö`` stays)."""
    return text.translate(ASCII_FOLD)


# ---------------------------------------------------------------------------- text <-> numbers
def real_text(x: float) -> str:
    """A real as SQLite writes it as text (``printf("%!.15g")``): ``10.0``, ``1.0e+20``."""
    if x != x:
        return ""
    if math.isinf(x):
        return "Inf" if x > 0 else "-Inf"
    if x == 0:
        return "0.0"
    s = "%.15g" % x
    if "e" in s:
        mantissa, exponent = s.split("e")
        if "." not in mantissa:
            mantissa += ".0"
        return mantissa + "e" + exponent
    return s if "." in s else s + ".0"


def to_text(value: Any) -> str | None:
    """TEXT affinity / conversion of a value (NULL stays NULL)."""
    if value is None or isinstance(value, str):
        return value
    if isinstance(value, int):
        return str(value)
    return real_text(value)


def atof(text: str) -> tuple[float, int]:
    """``sqlite3AtoF``: the number a text's longest numeric prefix spells, and a code: 1 the
    whole text is an integer, 2 or 3 a real, -1 a real prefix followed by other text, 0 no
    number (or an integer prefix followed by other text)."""
    m = _MANTISSA.match(text)
    sign, digits, frac = m.group(1), m.group(2), m.group(3)
    n_digits = len(digits) + (len(frac) - 1 if frac else 0)
    pos = m.end()
    kind = 1 + (frac is not None)
    exponent_ok = True
    exponent = ""
    if pos < len(text) and text[pos] in "eE" and n_digits:
        kind += 1
        e = _EXPONENT.match(text, pos + 1)
        exponent_ok = bool(e.group(2))
        if exponent_ok:
            exponent = "e" + e.group(1) + e.group(2)
        pos = e.end()
    while pos < len(text) and text[pos] in _SPACE:
        pos += 1
    if n_digits == 0:
        return (-0.0 if sign == "-" else 0.0), 0
    value = float(sign + (digits or "0") + (frac if frac and len(frac) > 1 else "") + exponent)
    if pos == len(text) and exponent_ok:
        return value, kind
    if kind >= 2 and (kind == 3 or exponent_ok):
        return value, -1
    return value, 0


def _atoi(text: str) -> tuple[int, int]:
    """``sqlite3Atoi64``: the integer prefix and a code: 0 exact, 1 other text follows,
    2 out of the 64-bit range."""
    m = _INTEGER.match(text)
    value = int(m.group(2) or "0")
    if m.group(1) == "-":
        value = -value
    rest = text[m.end():].strip(_SPACE)
    if not INT64_MIN <= value <= INT64_MAX:
        return value, 2
    return value, 1 if rest else 0


def arith_operand(value: Any) -> int | float | None:
    """The number an operand of ``+ - * / %`` is (``computeNumericType``): text becomes its
    longest numeric prefix, an integer when it is written as one (``'12abc'`` -> 12,
    ``'1.5x'`` -> 1.5, ``'abc'`` -> 0)."""
    if value is None or not isinstance(value, str):
        return value
    x, rc = atof(value)
    if rc <= 0:
        if rc == 0:
            i, irc = _atoi(value)
            if irc <= 1:
                return i
        return x
    if rc == 1:
        i, irc = _atoi(value)
        if irc == 0:
            return i
    return x


def numeric_type(value: Any) -> Any:
    """``sqlite3_value_numeric_type``: text that is wholly a number becomes that number
    (an integer when written as one and in range); other text stays text."""
    if not isinstance(value, str):
        return value
    x, rc = atof(value)
    if rc <= 0:
        return value
    if rc == 1:
        i, irc = _atoi(value)
        if irc == 0:
            return i
    return x


def real_value(value: Any) -> float:
    """``sqlite3VdbeRealValue``: a value as a double (text by its numeric prefix)."""
    if value is None:
        return 0.0
    if isinstance(value, str):
        return atof(value)[0]
    return float(value)


def apply_affinity(value: Any, affinity: str) -> Any:
    """A value after a column affinity is applied to it for a comparison."""
    if affinity == AFF_NUMERIC:
        return numeric_type(value)
    if affinity == AFF_TEXT and value is not None and not isinstance(value, str):
        return to_text(value)
    return value


def comparison_affinity(left: str, right: str) -> tuple[str, str]:
    """The affinities applied to the two operands of a comparison (SQLite datatype doc,
    section 4.2): numeric beats text and none; text beats none."""
    if left == AFF_NUMERIC and right != AFF_NUMERIC:
        return AFF_NONE, AFF_NUMERIC
    if right == AFF_NUMERIC and left != AFF_NUMERIC:
        return AFF_NUMERIC, AFF_NONE
    if left == AFF_TEXT and right == AFF_NONE:
        return AFF_NONE, AFF_TEXT
    if right == AFF_TEXT and left == AFF_NONE:
        return AFF_TEXT, AFF_NONE
    return AFF_NONE, AFF_NONE


# ---------------------------------------------------------------------------- comparison
def _class(value: Any) -> int:
    if value is None:
        return 0
    if isinstance(value, str):
        return 2
    return 1


def order_key(value: Any) -> tuple:
    """A sort key in SQLite's order: NULL, then numbers by value (integers and reals
    compared exactly), then text in BINARY collation (code-point order)."""
    if value is None:
        return (0, 0)
    if isinstance(value, str):
        return (2, value)
    return (1, value)


def distinct_key(value: Any) -> tuple:
    """A key under which two values are the same for DISTINCT, GROUP BY and set
    operations (``1`` and ``1.0`` are; ``1`` and ``'1'`` are not; NULLs are)."""
    return order_key(value)


def compare(op: str, a: Any, b: Any) -> int | None:
    """``a op b`` on values whose affinities were applied: 1, 0, or NULL (None)."""
    if a is None or b is None:
        return None
    ca, cb = _class(a), _class(b)
    if ca != cb:
        a, b = ca, cb
    if op == "=":
        return int(a == b)
    if op == "!=":
        return int(a != b)
    if op == "<":
        return int(a < b)
    if op == ">":
        return int(a > b)
    if op == "<=":
        return int(a <= b)
    if op == ">=":
        return int(a >= b)
    raise ValueError(f"not a comparison operator: {op!r}")


def truth(value: Any) -> bool | None:
    """A value as a condition (``sqlite3VdbeBooleanValue``): NULL is None, numbers are true
    when non-zero, text by its numeric prefix."""
    if value is None:
        return None
    if isinstance(value, str):
        return atof(value)[0] != 0.0
    return value != 0


def logical_not(value: Any) -> int | None:
    t = truth(value)
    return None if t is None else int(not t)


def logical_and(a: Any, b: Any) -> int | None:
    ta, tb = truth(a), truth(b)
    if ta is False or tb is False:
        return 0
    if ta is None or tb is None:
        return None
    return 1


def logical_or(a: Any, b: Any) -> int | None:
    ta, tb = truth(a), truth(b)
    if ta or tb:
        return 1
    if ta is None or tb is None:
        return None
    return 0


# ---------------------------------------------------------------------------- arithmetic
def _in_int64(x: int) -> bool:
    return INT64_MIN <= x <= INT64_MAX


def arith(op: str, a: Any, b: Any) -> int | float | None:
    """``a op b`` for ``+ - * / %`` (SQLite's OP_Add ... OP_Remainder): integers stay exact
    and divide by truncation; an integer result outside 64 bits is computed in reals
    instead; division or remainder by zero is NULL; a NaN result is NULL."""
    a, b = arith_operand(a), arith_operand(b)
    if a is None or b is None:
        return None
    if isinstance(a, int) and isinstance(b, int):
        if op == "+":
            r = a + b
        elif op == "-":
            r = a - b
        elif op == "*":
            r = a * b
        elif op == "/":
            if b == 0:
                return None
            q = abs(a) // abs(b)
            r = q if (a >= 0) == (b >= 0) else -q
        elif op == "%":
            if b == 0:
                return None
            r = abs(a) % abs(b)
            r = r if a >= 0 else -r
        else:
            raise ValueError(f"not an arithmetic operator: {op!r}")
        if _in_int64(r):
            return r
    x, y = float(a), float(b)
    if op == "+":
        r = x + y
    elif op == "-":
        r = x - y
    elif op == "*":
        r = x * y
    elif op == "/":
        if y == 0.0:
            return None
        r = x / y
    else:
        ia, ib = _to_int64(x), _to_int64(y)
        if ib == 0:
            return None
        if ib == -1:
            ib = 1
        m = abs(ia) % abs(ib)
        r = float(m if ia >= 0 else -m)
    return None if r != r else r


def _to_int64(x: float) -> int:
    """``sqlite3VdbeIntValue`` of a double: truncated, saturated at the 64-bit range."""
    if x != x:
        return 0
    if x <= INT64_MIN:
        return INT64_MIN
    if x >= INT64_MAX:
        return INT64_MAX
    return int(x)


def negate(value: Any) -> int | float | None:
    """Unary minus, which SQLite computes as ``0 - value``."""
    return arith("-", 0, value)


# ---------------------------------------------------------------------------- functions
def sql_abs(value: Any) -> int | float | None:
    """``ABS``: integers stay integers (``ABS(-9223372036854775808)`` is an overflow
    error, as in SQLite); any other non-NULL value is taken as a double."""
    if value is None:
        return None
    if isinstance(value, int):
        if value == INT64_MIN:
            raise SqlOverflowError(
                "integer overflow in ABS(-9223372036854775808): the result does not fit in "
                "64 bits (SQLite raises the same error); cast the argument to REAL first"
            )
        return abs(value)
    x = real_value(value)
    return -x if x < 0 else x


def sql_length(value: Any) -> int | None:
    """``LENGTH``: characters of the value's text (up to a NUL), NULL for NULL."""
    if value is None:
        return None
    text = to_text(value)
    cut = text.find("\0")
    return len(text) if cut < 0 else cut


def sql_case(value: Any, upper: bool) -> str | None:
    """``UPPER`` / ``LOWER``: ASCII letters only, as SQLite without ICU."""
    text = to_text(value)
    if text is None:
        return None
    return text.translate(_ASCII_UPPER if upper else ASCII_FOLD)


_LIKE_CACHE: dict[tuple[str, str | None], re.Pattern] = {}


def like(value: Any, pattern: Any, escape: str | None = None) -> int | None:
    """``value LIKE pattern [ESCAPE escape]``: ``%`` any run, ``_`` one character, ASCII
    letters match either case, other characters only themselves."""
    if value is None or pattern is None:
        return None
    text, pat = to_text(value), to_text(pattern)
    compiled = _LIKE_CACHE.get((pat, escape))
    if compiled is None:
        parts = []
        i = 0
        while i < len(pat):
            ch = pat[i]
            if escape is not None and ch == escape:
                i += 1
                if i < len(pat):
                    parts.append(_like_char(pat[i]))
                i += 1
                continue
            if ch == "%":
                parts.append(".*")
            elif ch == "_":
                parts.append(".")
            else:
                parts.append(_like_char(ch))
            i += 1
        compiled = re.compile("".join(parts), re.DOTALL)
        if len(_LIKE_CACHE) > 4096:
            _LIKE_CACHE.clear()
        _LIKE_CACHE[(pat, escape)] = compiled
    return int(compiled.fullmatch(text) is not None)


def _like_char(ch: str) -> str:
    if "a" <= ch <= "z" or "A" <= ch <= "Z":
        return "[" + ch.lower() + ch.upper() + "]"
    return re.escape(ch)
