"""The English view of a query plan: one question whose answer is the plan's answer.

A sampled plan has two views. :mod:`symjax.sql.query.render` prints its SQL; this module
asks the same thing in English, so that a question can be paired with the answer SQLite
verified for the plan: :func:`question` (plan, table, seed) -> str. The seed picks among
several paraphrases (templates, and synonyms such as "greater than" / "above"); the same
arguments give the same text in every process (a splitmix64 of the seed, never ``hash()``).

What the wording keeps exact, so that the question means what the SQL computes:

* column names are written as the header spells them, in double quotes; text values in
  single quotes, numbers as :func:`~symjax.sql.text.answers.canonical_value` prints them
  (a real that would round differently is written in full), dates as ISO ``YYYY-MM-DD``;
* comparisons by type: numbers "greater than" / "at most", dates "after" / "on or
  before", text "alphabetically before" (SQLite's character-code order); ``BETWEEN`` is
  inclusive; ``LIKE 'Th%'`` "starts with 'Th'", noting that case is ignored;
* NULL is an empty cell: ``IS NULL`` reads "is empty"; where SQL's NULL rules differ from
  plain English the question says so (``"a" != 3`` on a column with empty cells reads
  "has a value other than 3"; ``COUNT("a")`` counts non-empty cells; an ``ORDER BY`` key
  with empty cells gets "an empty "a" counts as lower than any value", which is where
  SQLite sorts NULL; ``GROUP BY``, ``DISTINCT`` and set operations count an empty cell
  as a value of its own);
* ``ORDER BY ... LIMIT k``: "the k rows with the highest ..., highest first";
  ``UNION`` / ``INTERSECT`` / ``EXCEPT``: values in either / both / the first but not the
  second group of rows, each once; ``SELECT (sub) > (sub)``: "answer 1 for yes, 0 for no";
* ``OR`` reads "either A or B"; a group nested inside another is put in parentheses.

Phrasing is plain string formatting over the plan (about ten microseconds a question); the
templates and phrase tables are data in :mod:`symjax.sql.query.question_wording`.
Every plan the sampler draws (:mod:`symjax.sql.lane`, the families of
:mod:`symjax.sql.query.families`) gets a question; general plans parsed from user SQL
(:class:`~symjax.sql.query.plan.SelectQuery`, :class:`~symjax.sql.query.plan.Compound`)
and step plans outside the sampler's shapes raise
:class:`~symjax.errors.UnsupportedSqlError` naming the construct.
"""
from __future__ import annotations

import operator
from typing import Any, Sequence

from symjax.errors import ConfigError, SqlError, UnsupportedSqlError
from symjax.sql.query import question_wording as W
from symjax.sql.query.plan import (
    ROWID,
    Aggregate,
    And,
    Arithmetic,
    Between,
    Column,
    ColumnArithmetic,
    Compare,
    Comparison,
    Compound,
    InList,
    Like,
    Literal,
    NullTest,
    Or,
    Query,
    Scalar,
    Select,
    SelectQuery,
    SetOperation,
)
from symjax.sql.table import Table
from symjax.sql.text.answers import canonical_value

__all__ = ["question"]

_MASK64 = (1 << 64) - 1
_NUMERIC_TYPES = ("integer", "real")


# ---------------------------------------------------------------------------- seeded choices
class _Choices:
    """Deterministic picks from a 64-bit seed: splitmix64 output, consumed a digit at a time
    (``divmod`` by the number of options), refilled when it runs low."""

    __slots__ = ("state", "bits")

    def __init__(self, seed: int):
        self.state = seed
        self.bits = self._next()

    def _next(self) -> int:
        self.state = z = (self.state + 0x9E3779B97F4A7C15) & _MASK64
        z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & _MASK64
        z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & _MASK64
        return z ^ (z >> 31)

    def pick(self, options: Sequence[Any]) -> Any:
        if self.bits < 1 << 20:
            self.bits = self._next()
        self.bits, r = divmod(self.bits, len(options))
        return options[r]


def _times(op: str, n: int) -> tuple[str, str]:
    """("at least 2 times", "at least 2 rows") for ``COUNT(*) >= 2``."""
    times = "once" if n == 1 else ("twice" if n == 2 else f"{n} times")
    rows = "1 row" if n == 1 else f"{n} rows"
    words = {"=": "exactly ", "!=": "other than ", "<": "fewer than ", ">": "more than ",
             "<=": "at most ", ">=": "at least "}
    if op not in words:
        raise UnsupportedSqlError(f"HAVING COUNT(*) {op} {n}: unknown comparison {op!r}")
    if op == "!=":
        return f"a number of times other than {n}", f"a number of rows other than {n}"
    return words[op] + times, words[op] + rows


def _number_text(value: Any) -> str:
    text = canonical_value(value)
    if isinstance(value, float) and float(text) != value:
        text = repr(value)  # canonical text rounds to 2 places: the question keeps the exact threshold
    return text


# ---------------------------------------------------------------------------- the phrasing
class _Phrasing:
    """The question of one (plan, table, seed)."""

    __slots__ = ("header", "types", "nulls", "choose")

    def __init__(self, table: Table, seed: int):
        self.header = table.header
        self.types = table.types
        self.nulls = table.nulls
        self.choose = _Choices(seed).pick

    # ------------------------------------------------------------------ columns and values
    def col(self, j: int) -> str:
        if j == ROWID:
            return "row number"
        if not 0 <= j < len(self.header):
            raise SqlError(f"column index {j} is outside the table's {len(self.header)} columns "
                           f"{self.header!r}: phrase the plan with the table it was sampled from")
        return '"' + self.header[j] + '"'

    def kind(self, j: int) -> str:
        if j == ROWID:
            return "number"
        t = self.types[j]
        return "number" if t in _NUMERIC_TYPES else t

    def has_empty(self, j: int) -> bool:
        return j != ROWID and bool(self.nulls[j].any())

    def value(self, literal: Any, j: int) -> str:
        if not isinstance(literal, Literal):
            raise UnsupportedSqlError(f"a {type(literal).__name__} where a literal value was expected: "
                                      f"{literal!r}")
        v = literal.value
        if v is None or isinstance(v, bool):
            raise UnsupportedSqlError(f"comparison with the literal {v!r} (NULL or boolean); "
                                      "use IS NULL / IS NOT NULL for empty cells")
        if isinstance(v, str):
            if j != ROWID and self.types[j] == "date":
                return v
            return "'" + v + "'"
        return _number_text(v)

    def expression(self, e: ColumnArithmetic) -> str:
        """A noun for a row-by-row expression: "difference "a" minus "b"", "sum of ..."."""
        a, b = self.col(e.left), self.col(e.right)
        if e.op == "-":
            return f"absolute difference between {a} and {b}" if e.abs else f"difference {a} minus {b}"
        if e.op == "+":
            return f"absolute value of the sum of {a} and {b}" if e.abs else f"sum of {a} and {b}"
        raise UnsupportedSqlError(f"column arithmetic with operator {e.op!r}; only '+' and '-' are phrased")

    def subject(self, project: Any) -> tuple[str, str]:
        """What a row-listing question asks for, and its verb ("is" or "are")."""
        if isinstance(project, Column):
            return self.col(project.index), "is"
        if isinstance(project, ColumnArithmetic):
            return self.expression(project), "is"
        if isinstance(project, tuple) and project and all(isinstance(c, Column) for c in project):
            names = [self.col(c.index) for c in project]
            if len(names) == 1:
                return names[0], "is"
            return ", ".join(names[:-1]) + " and " + names[-1], "are"
        raise UnsupportedSqlError(f"projection {project!r}: only columns, several columns and column "
                                  "arithmetic are phrased")

    # ------------------------------------------------------------------ conditions
    def condition(self, p: Any, alone: bool = True) -> str:
        """A clause that is true of the rows ``p`` keeps ("rows where <clause>")."""
        if isinstance(p, Compare):
            return self.compare(p, alone)
        if isinstance(p, NullTest):
            c = self.col(p.column)
            if p.negated:
                return self.choose((f"{c} is not empty", f"{c} has a value", f"the {c} cell is filled in"))
            return self.choose((f"{c} is empty", f"{c} has no value", f"the {c} cell is blank"))
        if isinstance(p, Between):
            return self.between(p, alone)
        if isinstance(p, InList):
            return self.in_list(p, alone)
        if isinstance(p, Like):
            return self.like(p)
        if isinstance(p, (And, Or)):
            return self.junction(p, alone)
        raise UnsupportedSqlError(f"condition {p!r}: not one of the sampler's conditions")

    def compare(self, p: Compare, alone: bool) -> str:
        c = self.col(p.column)
        if p.op not in W.CONDITIONS["number"]:
            raise UnsupportedSqlError(f"comparison operator {p.op!r} in {p!r}")
        kind = self.kind(p.column)
        if isinstance(p.value, Column):
            o = self.col(p.value.index)
            if p.op == "!=" and (self.has_empty(p.column) or self.has_empty(p.value.index)):
                variants = W.COLUMNS_DIFFER_FILLED
                return self.choose(variants[0] if alone else variants[1]).format(c=c, o=o)
            variants = W.COLUMN_CONDITIONS[kind][p.op]
            return c + " " + self.choose(variants[0] if alone else variants[1]).format(o=o)
        if isinstance(p.value, Scalar):
            if p.column == ROWID and p.op == "=" and _is_row_lookup(p.value.query):
                k = p.value.offset
                where = self.condition(p.value.query.where)
                if k == 0:
                    return f"it is the row where {where}"
                after = "after" if k > 0 else "before"
                steps = "right" if abs(k) == 1 else f"{abs(k)} rows"
                return f"it is the row {steps} {after} the row where {where}"
            v = self.scalar(p.value)
        else:
            v = self.value(p.value, p.column)
        if p.op == "!=" and self.has_empty(p.column):
            variants = W.NOT_EQUAL_FILLED
        else:
            variants = W.CONDITIONS[kind][p.op]
        return c + " " + self.choose(variants[0] if alone else variants[1]).format(v=v)

    def between(self, p: Between, alone: bool) -> str:
        c = self.col(p.column)
        lo, hi = self.value(p.low, p.column), self.value(p.high, p.column)
        kind = self.kind(p.column)
        if kind == "date":
            variants = (f"{c} is from {lo} to {hi} inclusive", f"{c} is between {lo} and {hi}, both included",
                        f"{c} is on or after {lo} and on or before {hi}")
        elif kind == "text":
            variants = (f"{c} sorts from {lo} to {hi} alphabetically, both included",
                        f"{c} is alphabetically between {lo} and {hi}, both included")
        else:
            variants = (f"{c} is from {lo} to {hi} inclusive", f"{c} is between {lo} and {hi}, inclusive",
                        f"{c} is at least {lo} and at most {hi}")
        return self.choose(variants) if alone else variants[0]

    def in_list(self, p: InList, alone: bool) -> str:
        c = self.col(p.column)
        values = [self.value(v, p.column) for v in p.values]
        if not values:
            raise UnsupportedSqlError(f"IN with an empty list of values in {p!r}")
        if len(values) == 1:
            return f"{c} is {values[0]}"
        listed = ", ".join(values)
        if not alone:
            return f"{c} is one of ({listed})"
        either = ", ".join(values[:-1]) + " or " + values[-1]
        return self.choose((f"{c} is {either}", f"{c} is one of {listed}", f"{c} is any of {listed}"))

    def like(self, p: Like) -> str:
        c = self.col(p.column)
        if "%" in p.prefix or "_" in p.prefix:
            raise UnsupportedSqlError(f"LIKE prefix {p.prefix!r} holds a wildcard ('%' or '_'); "
                                      "only plain prefixes are phrased")
        text = self.choose((f"{c} starts with '{p.prefix}'", f"{c} begins with '{p.prefix}'"))
        if any(ch.isascii() and ch.isalpha() for ch in p.prefix):
            if any(not ch.isascii() and ch.lower() != ch.upper() for ch in p.prefix):
                return text + " (ignoring the case of the letters A to Z)"
            return text + self.choose((" (ignoring case)", " (in any letter case)"))
        return text

    def junction(self, p: And | Or, alone: bool) -> str:
        if not p.terms:
            raise UnsupportedSqlError(f"{type(p).__name__} without terms")
        parts = [self.condition(t, alone=False) for t in p.terms]
        if len(parts) == 1:
            return parts[0]
        joined = ", ".join(parts[:-1]) + (" and " if isinstance(p, And) else " or ") + parts[-1]
        if not alone:
            return "(" + joined + ")"
        return "either " + joined if isinstance(p, Or) else joined

    # ------------------------------------------------------------------ values of sub-selects
    def measure(self, agg: Aggregate, formal: bool = False) -> str:
        """A noun for an aggregate: "number of rows", "total "a"", "highest "a"", ..."""
        if agg.func == "count":
            if agg.column is None:
                return "number of rows"
            c = (self.expression(agg.column) if isinstance(agg.column, ColumnArithmetic)
                 else self.col(agg.column))
            return f"number of different {c} values" if agg.distinct else f"number of non-empty {c} cells"
        if agg.column is None:
            raise UnsupportedSqlError(f"{agg.func.upper()} without a column")
        if agg.distinct:
            raise UnsupportedSqlError(f"{agg.func.upper()}(DISTINCT ...) is not phrased; only "
                                      "COUNT(DISTINCT ...)")
        if isinstance(agg.column, ColumnArithmetic):
            e = self.expression(agg.column)
            word = {"sum": "total", "avg": "average", "min": "smallest", "max": "largest"}.get(agg.func)
            if word is None:
                raise UnsupportedSqlError(f"aggregate {agg.func!r}")
            return f"{word} {e}"
        c, kind = self.col(agg.column), self.kind(agg.column)
        if agg.func in ("sum", "avg"):
            if kind != "number":
                raise UnsupportedSqlError(f"{agg.func.upper()} of the {kind} column {c}")
            return ("total " if agg.func == "sum" else "average ") + c
        if agg.func in ("min", "max"):
            if formal and kind == "number":
                return ("minimum " if agg.func == "min" else "maximum ") + c
            return self.extreme(kind, agg.func == "max") + " " + c
        raise UnsupportedSqlError(f"aggregate {agg.func!r}; phrased are count, sum, avg, min, max")

    def scalar(self, s: Scalar) -> str:
        """A noun for a scalar sub-select: "the "a" of the row where ...", "the number of rows
        where ...", "the highest "a" among the rows where ..."."""
        q = s.query
        if not (isinstance(q, Select) and q.group_by is None and q.having is None and q.order_by is None
                and q.limit is None and not q.distinct):
            raise UnsupportedSqlError(f"scalar sub-select {q!r}: only a value looked up by a condition or "
                                      "an aggregate is phrased")
        if q.project == Aggregate("count", None):
            noun = "the number of rows"
            if q.where is not None:
                noun += self.choose((" where ", " in which ")) + self.condition(q.where, alone=False)
        elif isinstance(q.project, Aggregate):
            noun = "the " + self.measure(q.project)
            if q.where is not None:
                noun += self.choose((" among the rows where ", " over the rows in which ")) + \
                    self.condition(q.where, alone=False)
        elif isinstance(q.project, Column) and q.where is not None:
            noun = f"the {self.col(q.project.index)} of the row where {self.condition(q.where, alone=False)}"
        else:
            raise UnsupportedSqlError(f"scalar sub-select {q!r}: only a value looked up by a condition or "
                                      "an aggregate is phrased")
        if s.offset > 0:
            return f"{s.offset} more than {noun}"
        if s.offset < 0:
            return f"{-s.offset} less than {noun}"
        return noun

    # ------------------------------------------------------------------ questions
    def query(self, plan: Query) -> str:
        if isinstance(plan, Select):
            text = self.select(plan)
        elif isinstance(plan, Arithmetic):
            text = self.arithmetic(plan)
        elif isinstance(plan, Comparison):
            text = self.comparison(plan)
        elif isinstance(plan, SetOperation):
            text = self.set_operation(plan)
        elif isinstance(plan, (SelectQuery, Compound)):
            raise UnsupportedSqlError(
                f"a general plan ({type(plan).__name__}, parsed from SQL outside the sampler's shapes) "
                "has no English view; questions are phrased for the sampler's plans (Select, Arithmetic, "
                "Comparison, SetOperation)")
        else:
            raise UnsupportedSqlError(f"not a query plan: {plan!r}")
        return text[0].upper() + text[1:]

    def filter_suffix(self, where: Any) -> str:
        if where is None:
            return ""
        return self.choose(W.FILTER_SUFFIXES).format(p=self.condition(where))

    def select(self, sel: Select) -> str:
        if sel.group_by is not None:
            return self.grouped(sel)
        if sel.having is not None:
            raise UnsupportedSqlError("HAVING without GROUP BY")
        if isinstance(sel.project, Aggregate):
            if sel.order_by is not None or sel.limit is not None or sel.distinct:
                raise UnsupportedSqlError(f"an aggregate with ORDER BY, LIMIT or DISTINCT: {sel!r}")
            return self.aggregate(sel.project, sel.where)
        if sel.order_by is not None:
            if sel.distinct:
                raise UnsupportedSqlError(f"DISTINCT with ORDER BY: {sel!r}")
            return self.ordered(sel)
        if sel.limit is not None:
            raise UnsupportedSqlError(f"LIMIT {sel.limit} without ORDER BY (the rows kept are not defined)")
        if sel.distinct:
            return self.distinct(sel)
        return self.rows(sel)

    def rows(self, sel: Select) -> str:
        s, be = self.subject(sel.project)
        w = sel.where
        if w is None:
            return self.choose(W.ALL_ROWS_LIST).format(s=s, be=be)
        if isinstance(w, Compare) and isinstance(w.value, Scalar):
            if w.column == ROWID and w.op == "=" and _is_row_lookup(w.value.query) and w.value.offset:
                return self.neighbour(s, be, w.value)
            special = self.versus_aggregate(s, be, w)
            if special is not None:
                return special
        return self.choose(W.ROW_LIST).format(s=s, be=be, p=self.condition(w))

    def neighbour(self, s: str, be: str, value: Scalar) -> str:
        k = value.offset
        after, below, nxt = ("after", "below", "next") if k > 0 else ("before", "above", "previous")
        p = self.condition(value.query.where)
        if abs(k) == 1:
            return self.choose(W.NEXT_ROW).format(s=s, be=be, p=p, after=after, below=below, next=nxt)
        return self.choose(W.ROW_STEPS).format(s=s, be=be, p=p, k=abs(k), after=after, below=below)

    def versus_aggregate(self, s: str, be: str, w: Compare) -> str | None:
        """``WHERE "a" = (SELECT MAX("a") ...)`` and ``WHERE "a" > (SELECT AVG("a") FROM w)``,
        or None for other sub-selects (phrased by :meth:`compare`)."""
        q = w.value.query
        agg = q.project
        if (w.value.offset or not isinstance(agg, Aggregate) or agg.column != w.column or agg.distinct
                or q.group_by is not None or q.order_by is not None):
            return None
        c, kind = self.col(w.column), self.kind(w.column)
        if agg.func in ("max", "min") and w.op == "=":
            sup = self.extreme(kind, agg.func == "max")
            if q.where is None:
                return self.choose(W.AT_EXTREME).format(s=s, be=be, c=c, sup=sup,
                                                       in_table=self.choose(("", " in the table")))
            p = self.condition(q.where)
            return self.choose(W.AT_FILTERED_EXTREME).format(s=s, be=be, c=c, sup=sup, p=p)
        if agg.func == "avg" and w.op in ("<", ">") and q.where is None and kind == "number":
            side = self.choose(("above", "greater than", "higher than") if w.op == ">"
                               else ("below", "less than", "lower than"))
            return self.choose(W.VERSUS_AVERAGE).format(s=s, be=be, c=c, side=side)
        return None

    def distinct(self, sel: Select) -> str:
        p = sel.project
        if isinstance(p, Column):
            c = self.col(p.index)
            vals, val = c + " values", "value of " + c
            note = W.NULL_VALUE_NOTE.format(c=c) if self.has_empty(p.index) else ""
        elif isinstance(p, ColumnArithmetic):
            e = self.expression(p)
            vals, val, note = "values of the " + e, "value of the " + e, ""
        else:
            s, _ = self.subject(p)
            vals, val = f"combinations of {s}", f"combination of {s}"
            note = " An empty cell counts as a value of its own." if any(
                self.has_empty(c.index) for c in p) else ""
        where = "" if sel.where is None else self.choose((" in the rows where ", " among rows in which ")) + \
            self.condition(sel.where)
        return self.choose(W.DISTINCT_VALUES).format(vals=vals, val=val, where=where) + note

    def extreme(self, kind: str, highest: bool) -> str:
        return self.choose(W.EXTREMES[kind])[0 if highest else 1]

    def order_words(self, key: Any) -> tuple[str, str, str]:
        """(key noun, kind, note on empty keys) of an ORDER BY key."""
        if isinstance(key, Column):
            k = self.col(key.index)
            note = W.NULL_ORDER_NOTE.format(c=k) if self.has_empty(key.index) else ""
            return k, self.kind(key.index), note
        if isinstance(key, ColumnArithmetic):
            note = ""
            if self.has_empty(key.left) or self.has_empty(key.right):
                note = W.NULL_EXPRESSION_ORDER_NOTE.format(a=self.col(key.left), b=self.col(key.right))
            return self.expression(key), "number", note
        raise UnsupportedSqlError(f"ORDER BY {key!r} without GROUP BY: only a column or column arithmetic")

    def ordered(self, sel: Select) -> str:
        s, be = self.subject(sel.project)
        k, kind, note = self.order_words(sel.order_by.expr)
        desc = sel.order_by.descending
        pair = self.choose(W.EXTREMES[kind])
        sup, other = (pair[0], pair[1]) if desc else (pair[1], pair[0])
        where = among = ""
        if sel.where is not None:
            p = self.condition(sel.where)
            where = self.choose((" among the rows where ", " of those where ")) + p
            among = f"among the rows where {p}, "
        n = sel.limit
        if n is None:
            text = self.choose(W.SORTED).format(s=s, be=be, k=k, sup=sup, other=other, among=among,
                                               where="" if sel.where is None else " where " + p)
        elif n == 1:
            text = self.choose(W.TOP_ONE).format(s=s, be=be, k=k, sup=sup, where=where, among=among)
        elif n > 1:
            text = self.choose(W.TOP_SEVERAL).format(s=s, k=k, sup=sup, other=other, n=n, where=where,
                                                    among=among)
        else:
            raise UnsupportedSqlError(f"LIMIT {n}: only a positive limit is phrased")
        return text + note

    def aggregate(self, agg: Aggregate, where: Any) -> str:
        func = agg.func
        if func == "count":
            if agg.column is None:
                if where is None:
                    return self.choose(W.COUNT_ALL_ROWS)
                return self.choose(W.COUNT_ROWS).format(p=self.condition(where))
            if isinstance(agg.column, ColumnArithmetic):
                raise UnsupportedSqlError("COUNT of column arithmetic")
            c = self.col(agg.column)
            p = None if where is None else self.condition(where)
            if agg.distinct:
                ne = "non-empty " if self.has_empty(agg.column) else ""
                among = "" if p is None else self.choose((" among the rows where ", " in rows where ")) + p
                return self.choose(W.COUNT_DISTINCT).format(c=c, ne=ne, where=among)
            suffix = "" if p is None else self.choose((" where ", " in which ")) + p
            in_rows = "" if p is None else " in the rows where " + p
            among = "" if p is None else f"among the rows where {p}, "
            return self.choose(W.COUNT_FILLED).format(c=c, where=suffix, in_rows=in_rows, among=among)
        if agg.column is None:
            raise UnsupportedSqlError(f"{func.upper()} without a column")
        if agg.distinct:
            raise UnsupportedSqlError(f"{func.upper()}(DISTINCT ...) is not phrased; only COUNT(DISTINCT ...)")
        if isinstance(agg.column, ColumnArithmetic):
            return self.aggregate_of_expression(agg, where)
        c, kind = self.col(agg.column), self.kind(agg.column)
        suffix = self.filter_suffix(where)
        if func in ("sum", "avg"):
            if kind != "number":
                raise UnsupportedSqlError(f"{func.upper()} of the {kind} column {c}")
            return self.choose(W.AGGREGATE_OF_COLUMN[func]).format(c=c, where=suffix)
        if func in ("min", "max"):
            sup = self.extreme(kind, func == "max")
            return self.choose(W.AGGREGATE_OF_COLUMN["extreme"]).format(c=c, sup=sup, where=suffix)
        raise UnsupportedSqlError(f"aggregate {func!r}; phrased are count, sum, avg, min, max")

    def aggregate_of_expression(self, agg: Aggregate, where: Any) -> str:
        e = agg.column
        words = W.EXPRESSION_AGGREGATE_WORDS.get(agg.func)
        if words is None:
            raise UnsupportedSqlError(f"aggregate {agg.func!r} of column arithmetic")
        noun = self.expression(e)
        if where is None:
            rows, suffix = "all rows", ""
        else:
            p = self.condition(where)
            rows, suffix = "the rows where " + p, " where " + p
        text = self.choose(W.AGGREGATE_OF_EXPRESSION).format(agg=self.choose(words), e=noun, rows=rows,
                                                             where=suffix)
        if self.has_empty(e.left) or self.has_empty(e.right):
            text += W.NULL_EXPRESSION_SKIP_NOTE.format(a=self.col(e.left), b=self.col(e.right))
        return text

    def grouped(self, sel: Select) -> str:
        g_index = sel.group_by
        if sel.project != Column(g_index) or sel.distinct:
            raise UnsupportedSqlError(f"GROUP BY {g_index} projecting {sel.project!r}: only the grouped column "
                                      "is phrased")
        g = self.col(g_index)
        note = W.NULL_VALUE_NOTE.format(c=g) if self.has_empty(g_index) else ""
        where = among = ""
        grouping = f"grouping the rows by {g}"
        if sel.where is not None:
            p = self.condition(sel.where)
            where = self.choose((" among the rows where ", " in the rows where ")) + p
            among = f"among the rows where {p}, "
            grouping = among + f"grouping by {g}"
        if sel.order_by is not None:
            if sel.having is not None:
                raise UnsupportedSqlError("GROUP BY with both HAVING and ORDER BY")
            return self.group_top(sel, g, where, grouping) + note
        if sel.limit is not None:
            raise UnsupportedSqlError(f"LIMIT {sel.limit} without ORDER BY")
        h = sel.having
        if h is None:
            return self.choose(W.GROUP_VALUES).format(g=g, where=where) + note
        if not isinstance(h.value, Literal) or isinstance(h.value.value, (str, bool)) or h.value.value is None:
            raise UnsupportedSqlError(f"HAVING compared with {h.value!r}: only a number is phrased")
        if h.aggregate.func == "count" and h.aggregate.column is None and isinstance(h.value.value, int):
            times, nrows = _times(h.op, h.value.value)
            return self.choose(W.GROUP_COUNT).format(g=g, times=times, nrows=nrows, where=where) + note
        if h.op not in W.CONDITIONS["number"]:
            raise UnsupportedSqlError(f"HAVING with operator {h.op!r}")
        m = self.measure(h.aggregate, formal=True)
        cmp = self.choose(W.CONDITIONS["number"][h.op][0]).format(v=_number_text(h.value.value))
        a_m = ("an " if m[0] in "aeiou" else "a ") + m
        return self.choose(W.GROUP_MEASURE).format(g=g, m=m, a_m=a_m, cmp=cmp, where=where, among=among,
                                                  grouping=grouping) + note

    def group_top(self, sel: Select, g: str, where: str, grouping: str) -> str:
        key = sel.order_by.expr
        if not isinstance(key, Aggregate):
            raise UnsupportedSqlError(f"GROUP BY ordered by {key!r}: only an aggregate is phrased")
        desc = sel.order_by.descending
        n = sel.limit
        if n is None or n < 1:
            raise UnsupportedSqlError(f"GROUP BY ... ORDER BY an aggregate with LIMIT {n}: only a positive "
                                      "limit is phrased")
        if n == 1 and key.func == "count" and key.column is None and self.choose((True, False)):
            return self.choose(W.MOST_FREQUENT[desc]).format(g=g, where=where)
        m = self.measure(key, formal=True)
        sup = self.choose(("largest", "highest") if desc else ("smallest", "lowest"))
        if n == 1:
            return self.choose(W.GROUP_TOP).format(g=g, m=m, sup=sup, where=where, grouping=grouping)
        return self.choose(W.GROUP_TOP_SEVERAL).format(g=g, m=m, sup=sup, n=n, where=where, grouping=grouping)

    # ------------------------------------------------------------------ two sub-selects
    def set_operation(self, plan: SetOperation) -> str:
        left, right = plan.left, plan.right
        for side in (left, right):
            if (not isinstance(side, Select) or not isinstance(side.project, Column) or side.distinct
                    or side.group_by is not None or side.order_by is not None or side.limit is not None):
                raise UnsupportedSqlError(f"{plan.op} of {side!r}: only two plain single-column SELECTs "
                                          "are phrased")
        if left.project != right.project:
            raise UnsupportedSqlError(f"{plan.op} of two different columns ({left.project!r}, "
                                      f"{right.project!r}): only one column's values are phrased")
        templates = W.SET_OPERATIONS.get(plan.op)
        if templates is None:
            raise UnsupportedSqlError(f"set operation {plan.op!r}; phrased are {tuple(W.SET_OPERATIONS)}")
        j = left.project.index
        c = self.col(j)
        p, q = self.group_condition(left.where), self.group_condition(right.where)
        note = W.NULL_VALUE_NOTE.format(c=c) if self.has_empty(j) else ""
        return self.choose(templates).format(c=c, p=p, q=q) + note

    def group_condition(self, where: Any) -> str:
        if where is None:
            raise UnsupportedSqlError("a set operation over a SELECT without WHERE: only two filtered "
                                      "groups of rows are phrased")
        return self.condition(where, alone=False)

    def value_kind(self, s: Scalar) -> str:
        p = s.query.project
        if isinstance(p, Column):
            return self.kind(p.index)
        if isinstance(p, Aggregate) and p.func in ("min", "max") and isinstance(p.column, int):
            return self.kind(p.column)
        return "number"

    def same_column_lookups(self, plan: Arithmetic) -> tuple[str, str, str] | None:
        """(column, condition, condition) when both sides look up one column in two rows."""
        a, b = plan.left, plan.right
        if a.offset or b.offset or not (isinstance(a.query, Select) and isinstance(b.query, Select)):
            return None
        pa, pb = a.query.project, b.query.project
        if not (isinstance(pa, Column) and pa == pb and pa.index != ROWID and _is_lookup(a.query)
                and _is_lookup(b.query)):
            return None
        return (self.col(pa.index), self.condition(a.query.where, alone=False),
                self.condition(b.query.where, alone=False))

    def arithmetic(self, plan: Arithmetic) -> str:
        if plan.op not in ("+", "-") or (plan.abs and plan.op != "-"):
            name = f"ABS of {plan.op!r}" if plan.abs else repr(plan.op)
            raise UnsupportedSqlError(f"arithmetic {name} between sub-selects: only '+', '-' and ABS of '-'")
        for side in (plan.left, plan.right):
            if self.value_kind(side) != "number":
                raise UnsupportedSqlError(f"arithmetic on a {self.value_kind(side)} value: {side!r}")
        if plan.op == "+":
            templates, same = W.SUM_OF_TWO, ()
        elif plan.abs:
            templates, same = W.ABSOLUTE_DIFFERENCE_OF_TWO, W.SAME_COLUMN_ABSOLUTE
        else:
            templates, same = W.DIFFERENCE_OF_TWO, W.SAME_COLUMN_DIFFERENCE
        lookups = self.same_column_lookups(plan) if same else None
        template = self.choose(templates + same if lookups else templates)
        if lookups and template in same:
            c, p, q = lookups
            return template.format(c=c, p=p, q=q)
        return template.format(a=self.scalar(plan.left), b=self.scalar(plan.right))

    def comparison(self, plan: Comparison) -> str:
        kind = self.value_kind(plan.left)
        if plan.op not in W.RELATIONS[kind]:
            raise UnsupportedSqlError(f"comparison operator {plan.op!r} between sub-selects")
        rel = self.choose(W.RELATIONS[kind][plan.op])
        a, b = self.scalar(plan.left), self.scalar(plan.right)
        return self.choose(W.COMPARISON_OF_TWO).format(a=a, b=b, rel=rel)


def _is_lookup(q: Select) -> bool:
    """``SELECT "a" FROM w WHERE ...``: one value looked up by a condition."""
    return (q.where is not None and q.group_by is None and q.having is None and q.order_by is None
            and q.limit is None and not q.distinct)


def _is_row_lookup(q: Any) -> bool:
    """``SELECT rowid FROM w WHERE ...``: the row number of the row a condition finds."""
    return isinstance(q, Select) and q.project == Column(ROWID) and _is_lookup(q)


def _check_seed(seed: Any) -> int:
    try:
        value = operator.index(seed)
    except TypeError:
        raise ConfigError(f"question seed must be an int in [0, 2**64), got {seed!r} "
                          f"({type(seed).__name__})") from None
    if isinstance(seed, bool) or not 0 <= value <= _MASK64:
        raise ConfigError(f"question seed must be an int in [0, 2**64), got {seed!r}: reduce it modulo 2**64")
    return value


def question(plan: Query, table: Table, seed: int) -> str:
    """The plan asked in English about ``table``: a question whose answer is the plan's answer.

    ``seed`` (an int in [0, 2**64)) picks the paraphrase; the text depends only on (plan,
    table, seed). Raises :class:`~symjax.errors.UnsupportedSqlError` naming the construct
    for plans outside the sampler's shapes (general plans parsed from SQL among them),
    :class:`~symjax.errors.SqlError` for a column index the table lacks, and
    :class:`~symjax.errors.ConfigError` for a bad seed.
    """
    return _Phrasing(table, _check_seed(seed)).query(plan)
