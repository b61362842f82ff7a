"""Render query plans as SQL text.

Styles:

* ``standard``: SQLite-executable; the table is ``w``, identifiers are double-quoted,
  text literals single-quoted, the row id is SQLite's ``rowid`` (the 1-based row number of
  the visible table). ``sqlglot`` parses it and transpiles it to other dialects
  (:func:`transpile`).
* ``tapex``: as TAPEX trained on: lower-cased, no ``FROM w``, bare column names, spaces
  around parentheses, the row id written ``id``.

Rendering is plain string building over the plan (no sqlglot in the hot path). General plans
(:class:`~symjax.sql.query.plan.SelectQuery`, :class:`~symjax.sql.query.plan.Compound`) print
with every compound expression parenthesized, so that parsing the text gives the plan back.
"""
from __future__ import annotations

import functools
from typing import Any, Sequence

from symjax.errors import ConfigError
from symjax.sql.query.plan import (
    ROWID,
    Aggregate,
    AggregateCall,
    And,
    Arithmetic,
    Between,
    BetweenExpr,
    Binary,
    Case,
    Column,
    ColumnArithmetic,
    Compare,
    Comparison,
    Compound,
    DerivedSource,
    Exists,
    Function,
    InList,
    InQuery,
    InValues,
    IsNull,
    Like,
    LikeExpr,
    Literal,
    NullTest,
    Or,
    Output,
    Query,
    Scalar,
    Select,
    SelectQuery,
    SetOperation,
    Subquery,
    TableSource,
    Unary,
)

__all__ = ["SQL_STYLES", "render", "transpile", "render_literal"]

SQL_STYLES = ("standard", "tapex")
_TRANSPILE_DIALECTS = ("sqlite", "duckdb", "postgres", "bigquery", "mysql", "spark", "trino", "snowflake")


def render_literal(value: Any) -> str:
    """SQL text of a literal: numbers plainly (reals in shortest round-trip form), text
    single-quoted with quotes doubled."""
    if value is None:
        return "NULL"
    if isinstance(value, bool):
        return "1" if value else "0"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        if value != value or value in (float("inf"), float("-inf")):
            if value != value:
                return "NULL"
            return "9e999" if value > 0 else "-9e999"
        return repr(value)
    return "'" + str(value).replace("'", "''") + "'"


@functools.lru_cache(maxsize=256)  # rendering reuses one table's header 16 times in a row
def _column_names(header: tuple[str, ...], tapex: bool) -> tuple[str, ...]:
    if tapex:
        return header
    return tuple('"' + name.replace('"', '""') + '"' for name in header)


class _Renderer:
    __slots__ = ("names", "tapex", "rowid")

    def __init__(self, header: Sequence[str], style: str):
        if style not in SQL_STYLES:
            raise ConfigError(f"unknown SQL style {style!r}; use one of {SQL_STYLES}")
        self.tapex = style == "tapex"
        self.names = _column_names(tuple(header), self.tapex)
        self.rowid = "id" if self.tapex else "rowid"

    def col(self, index: int) -> str:
        if index == ROWID:
            return self.rowid
        return self.names[index]

    def expr(self, e: Any) -> str:
        if isinstance(e, Column):
            return self.col(e.index)
        if isinstance(e, Aggregate):
            if e.column is None:
                return "COUNT(*)"
            arg = self.expr(e.column) if isinstance(e.column, ColumnArithmetic) else self.col(e.column)
            return f"{e.func.upper()}({'DISTINCT ' if e.distinct else ''}{arg})"
        if isinstance(e, ColumnArithmetic):
            text = f"{self.col(e.left)} {e.op} {self.col(e.right)}"
            return f"ABS({text})" if e.abs else text
        if isinstance(e, tuple):
            return ", ".join(self.expr(x) for x in e)
        raise TypeError(f"not an expression: {e!r}")

    def value(self, v: Any) -> str:
        if isinstance(v, Literal):
            return render_literal(v.value)
        if isinstance(v, Scalar):
            text = self.sub(v.query)
            if v.offset > 0:
                text += f" + {v.offset}"
            elif v.offset < 0:
                text += f" - {-v.offset}"
            return text
        raise TypeError(f"not a value: {v!r}")

    def sub(self, sel: Select) -> str:
        return "(" + self.select(sel) + ")"

    def pred(self, p: Any, nested: bool = False) -> str:
        if isinstance(p, Compare):
            if isinstance(p.value, Column):
                return f"{self.col(p.column)} {p.op} {self.col(p.value.index)}"
            return f"{self.col(p.column)} {p.op} {self.value(p.value)}"
        if isinstance(p, NullTest):
            return f"{self.col(p.column)} IS {'NOT ' if p.negated else ''}NULL"
        if isinstance(p, Between):
            return (
                f"{self.col(p.column)} BETWEEN {render_literal(p.low.value)} "
                f"AND {render_literal(p.high.value)}"
            )
        if isinstance(p, InList):
            items = ", ".join(render_literal(v.value) for v in p.values)
            return f"{self.col(p.column)} IN ({items})"
        if isinstance(p, Like):
            return f"{self.col(p.column)} LIKE {render_literal(p.prefix + '%')}"
        if isinstance(p, (And, Or)):
            joiner = " AND " if isinstance(p, And) else " OR "
            text = joiner.join(self.pred(t, nested=True) for t in p.terms)
            return f"({text})" if nested else text
        raise TypeError(f"not a predicate: {p!r}")

    def select(self, sel: Select) -> str:
        parts = ["SELECT ", "DISTINCT " if sel.distinct else "", self.expr(sel.project)]
        if not self.tapex:
            parts.append(" FROM w")
        if sel.where is not None:
            parts.append(" WHERE " + self.pred(sel.where))
        if sel.group_by is not None:
            parts.append(" GROUP BY " + self.col(sel.group_by))
        if sel.having is not None:
            h = sel.having
            parts.append(f" HAVING {self.expr(h.aggregate)} {h.op} {render_literal(h.value.value)}")
        if sel.order_by is not None:
            parts.append(" ORDER BY " + self.expr(sel.order_by.expr))
            parts.append(" DESC" if sel.order_by.descending else " ASC")
        if sel.limit is not None:
            parts.append(f" LIMIT {sel.limit}")
        return "".join(parts)

    def query(self, q: Query) -> str:
        if isinstance(q, Select):
            return self.select(q)
        if isinstance(q, Arithmetic) and q.abs:
            return f"SELECT ABS({self.value(q.left)} {q.op} {self.value(q.right)})"
        if isinstance(q, (Arithmetic, Comparison)):
            return f"SELECT {self.value(q.left)} {q.op} {self.value(q.right)}"
        if isinstance(q, SetOperation):
            return f"{self.select(q.left)} {q.op} {self.select(q.right)}"
        if isinstance(q, (SelectQuery, Compound)):
            return _GeneralRenderer(self).query(q)
        raise TypeError(f"not a query: {q!r}")


def _quote(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


class _GeneralRenderer:
    """General plans as SQL; ``names`` are the columns of the query being printed."""

    def __init__(self, base: _Renderer):
        self.base = base
        self.names: Sequence[str] = base.names

    def query(self, q: Any) -> str:
        if isinstance(q, Compound):
            text = f"{self.query(q.left)} {q.op} {self.query(q.right)}"
            if q.order_by:
                text += " ORDER BY " + ", ".join(self.sort_key(k) for k in q.order_by)
            return text + self.limit(q)
        saved = self.names
        parts = ["SELECT ", "DISTINCT " if q.distinct else ""]
        if isinstance(q.source, DerivedSource):
            source = "(" + self.query(q.source.query) + ")"
            if q.source.alias:
                source += " AS " + _quote(q.source.alias)
            self.names = [_quote(n) for n in _output_names(q.source.query)]
        elif isinstance(q.source, TableSource):
            source = "w" + (" AS " + _quote(q.source.alias) if q.source.alias else "")
            self.names = self.base.names
        else:
            source = None
        columns = []
        for expr, name in zip(q.columns, q.names):
            text = self.expr(expr)
            if not (isinstance(expr, Column) and expr.index != ROWID and text == self.names[expr.index]
                    and text == _quote(name)):
                text += " AS " + _quote(name)
            columns.append(text)
        parts.append(", ".join(columns))
        if source is not None and not (self.base.tapex and source == "w"):
            parts.append(" FROM " + source)
        if q.where is not None:
            parts.append(" WHERE " + self.expr(q.where))
        if q.group_by:
            parts.append(" GROUP BY " + ", ".join(self.expr(g) for g in q.group_by))
        if q.having is not None:
            parts.append(" HAVING " + self.expr(q.having))
        if q.order_by:
            parts.append(" ORDER BY " + ", ".join(self.sort_key(k) for k in q.order_by))
        parts.append(self.limit(q))
        self.names = saved
        return "".join(parts)

    def sort_key(self, k: Any) -> str:
        text = str(k.expr.index + 1) if isinstance(k.expr, Output) else self.expr(k.expr)
        text += " DESC" if k.descending else " ASC"
        if k.nulls_first is not None and k.nulls_first != (not k.descending):
            text += " NULLS FIRST" if k.nulls_first else " NULLS LAST"
        return text

    def limit(self, q: Any) -> str:
        text = ""
        if q.limit is not None or q.offset is not None:
            text += " LIMIT " + (self.expr(q.limit) if q.limit is not None else "-1")
        if q.offset is not None:
            text += " OFFSET " + self.expr(q.offset)
        return text

    def expr(self, e: Any) -> str:
        x = self.expr
        if isinstance(e, Column):
            return self.base.rowid if e.index == ROWID else self.names[e.index]
        if isinstance(e, Literal):
            return render_literal(e.value)
        if isinstance(e, Binary):
            return f"({x(e.left)} {e.op} {x(e.right)})"
        if isinstance(e, Unary):
            return f"(NOT {x(e.operand)})" if e.op == "NOT" else f"({e.op}{x(e.operand)})"
        if isinstance(e, IsNull):
            return f"({x(e.operand)} IS {'NOT ' if e.negated else ''}NULL)"
        if isinstance(e, Function):
            return f"{e.name.upper()}({', '.join(x(a) for a in e.args)})"
        if isinstance(e, AggregateCall):
            if e.arg is None:
                return "COUNT(*)"
            return f"{e.func.upper()}({'DISTINCT ' if e.distinct else ''}{x(e.arg)})"
        if isinstance(e, Subquery):
            return "(" + self.query(e.query) + ")"
        not_ = "NOT " if getattr(e, "negated", False) else ""
        if isinstance(e, InValues):
            return f"({x(e.operand)} {not_}IN ({', '.join(x(v) for v in e.values)}))"
        if isinstance(e, InQuery):
            return f"({x(e.operand)} {not_}IN ({self.query(e.query)}))"
        if isinstance(e, Exists):
            return f"({not_}EXISTS ({self.query(e.query)}))"
        if isinstance(e, BetweenExpr):
            return f"({x(e.operand)} {not_}BETWEEN {x(e.low)} AND {x(e.high)})"
        if isinstance(e, LikeExpr):
            escape = "" if e.escape is None else " ESCAPE " + render_literal(e.escape)
            return f"({x(e.operand)} {not_}LIKE {x(e.pattern)}{escape})"
        if isinstance(e, Case):
            text = "CASE" + ("" if e.operand is None else " " + x(e.operand))
            for when, then in e.whens:
                text += f" WHEN {x(when)} THEN {x(then)}"
            if e.default is not None:
                text += f" ELSE {x(e.default)}"
            return text + " END"
        if isinstance(e, Output):
            return str(e.index + 1)
        raise TypeError(f"not an expression: {e!r}")


def _output_names(q: Any) -> list[str]:
    while isinstance(q, Compound):
        q = q.left
    return list(q.names)


def tapexify(text: str) -> str:
    """SQL text as TAPEX writes it: lower case, a space inside parentheses."""
    return text.replace("(", "( ").replace(")", " )").replace("(  ", "( ").lower()


def render(plan: Query, header: Sequence[str], *, style: str = "standard") -> str:
    """SQL text of a plan for a table with this header, in ``style`` (see module doc)."""
    r = _Renderer(header, style)
    text = r.query(plan)
    if r.tapex:
        text = tapexify(text)
    return text


def transpile(sql: str, dialect: str) -> str:
    """Translate standard-style SQL to another dialect with sqlglot (``duckdb``,
    ``postgres``, ``bigquery``, ...). ``rowid`` stays as is: dialects without a row id
    need the table to carry one as a column."""
    if dialect not in _TRANSPILE_DIALECTS:
        raise ConfigError(f"unknown SQL dialect {dialect!r}; use one of {_TRANSPILE_DIALECTS}")
    import sqlglot

    return sqlglot.transpile(sql, read="sqlite", write=dialect)[0]
