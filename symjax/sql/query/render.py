"""Render query plans as SQL text.

Styles:

* ``standard``: SQLite-executable; the table is ``w``, identifiers are double-quoted,
  text literals single-quoted, the row id is SQLite's ``rowid`` (the 1-based row number of
  the visible table). ``sqlglot`` parses it and transpiles it to other dialects
  (:func:`transpile`).
* ``tapex``: as TAPEX trained on: lower-cased, no ``FROM w``, bare column names, spaces
  around parentheses, the row id written ``id``.

Rendering is plain string building over the plan (no sqlglot in the hot path).
"""
from __future__ import annotations

import functools
from typing import Any, Sequence

from symjax.errors import ConfigError
from symjax.sql.query.plan import (
    ROWID,
    Aggregate,
    And,
    Arithmetic,
    Between,
    Column,
    Compare,
    Comparison,
    InList,
    Like,
    Literal,
    Or,
    Query,
    Scalar,
    Select,
)

__all__ = ["SQL_STYLES", "render", "transpile", "render_literal"]

SQL_STYLES = ("standard", "tapex")
_TRANSPILE_DIALECTS = ("sqlite", "duckdb", "postgres", "bigquery", "mysql", "spark", "trino", "snowflake")


def render_literal(value: Any) -> str:
    """SQL text of a literal: numbers plainly (reals in shortest round-trip form), text
    single-quoted with quotes doubled."""
    if isinstance(value, bool):
        return "1" if value else "0"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
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
            inner = ("DISTINCT " if e.distinct else "") + self.col(e.column)
            return f"{e.func.upper()}({inner})"
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
            return f"{self.col(p.column)} {p.op} {self.value(p.value)}"
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
        if isinstance(q, (Arithmetic, Comparison)):
            return f"SELECT {self.value(q.left)} {q.op} {self.value(q.right)}"
        raise TypeError(f"not a query: {q!r}")


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
