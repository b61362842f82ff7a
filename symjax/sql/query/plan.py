"""The query plan: SQL as small immutable dataclasses (STYLE habit 4).

A plan is what the sampler produces, what :mod:`symjax.sql.query.executor` runs on the numba
kernels, what :mod:`symjax.sql.query.render` prints as SQL, and what :mod:`symjax.sql.query.parse`
builds from external SQL text. Column references are indices into the table's header.

Top-level queries (``Query``):

* :class:`Select` -- one output expression, optional ``WHERE``, ``DISTINCT``, ``GROUP BY``,
  ``HAVING``, ``ORDER BY`` and ``LIMIT``;
* :class:`Arithmetic` -- ``SELECT (sub) - (sub)`` between scalar sub-selects;
* :class:`Comparison` -- ``SELECT (sub) > (sub)``: verification, result ``1`` or ``0``.

Predicates (``WHERE``): :class:`Compare`, :class:`Between`, :class:`InList`, :class:`Like`
(prefix pattern), combined by :class:`And` / :class:`Or`. A comparison's right-hand side is
a :class:`Literal` or a :class:`Scalar` sub-select, optionally shifted by an integer
(``rowid = (SELECT rowid ...) + 1``, the row after).

Plans are values: compare them with ``==`` and never mutate one after building it. (The
classes are not ``frozen`` only because frozen dataclasses are several times slower to
construct, and the sampler builds millions of them.)
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Union

__all__ = [
    "ROWID",
    "AGGREGATES",
    "COMPARISON_OPS",
    "Column",
    "Literal",
    "Aggregate",
    "Scalar",
    "Compare",
    "Between",
    "InList",
    "Like",
    "And",
    "Or",
    "Having",
    "OrderBy",
    "Select",
    "Arithmetic",
    "Comparison",
    "Predicate",
    "Query",
    "walk_columns",
]

ROWID = -1  # column index of SQLite's rowid: the 1-based row number of the visible table
AGGREGATES = ("count", "sum", "avg", "min", "max")
COMPARISON_OPS = ("=", "!=", "<", ">", "<=", ">=")


@dataclass(slots=True)
class Column:
    index: int  # header index, or ROWID


@dataclass(slots=True)
class Literal:
    value: Any  # int, float, str; dates are ISO 'YYYY-MM-DD' strings


@dataclass(slots=True)
class Aggregate:
    func: str  # one of AGGREGATES
    column: int | None  # None only for COUNT(*)
    distinct: bool = False


@dataclass(slots=True)
class Scalar:
    """A sub-select used as a value; ``offset`` is added to its result (row after/before)."""

    query: "Select"
    offset: int = 0


@dataclass(slots=True)
class Compare:
    column: int
    op: str  # one of COMPARISON_OPS
    value: Union[Literal, Scalar]


@dataclass(slots=True)
class Between:
    column: int
    low: Literal
    high: Literal


@dataclass(slots=True)
class InList:
    column: int
    values: tuple[Literal, ...]


@dataclass(slots=True)
class Like:
    """``column LIKE 'prefix%'``: SQLite LIKE, case-insensitive for ASCII letters only."""

    column: int
    prefix: str


@dataclass(slots=True)
class And:
    terms: tuple["Predicate", ...]


@dataclass(slots=True)
class Or:
    terms: tuple["Predicate", ...]


Predicate = Union[Compare, Between, InList, Like, And, Or]


@dataclass(slots=True)
class Having:
    aggregate: Aggregate
    op: str
    value: Literal


@dataclass(slots=True)
class OrderBy:
    expr: Union[Column, Aggregate]
    descending: bool = False


@dataclass(slots=True)
class Select:
    project: Union[Column, Aggregate]
    where: Predicate | None = None
    distinct: bool = False
    group_by: int | None = None
    having: Having | None = None
    order_by: OrderBy | None = None
    limit: int | None = None


@dataclass(slots=True)
class Arithmetic:
    op: str  # '+' or '-'
    left: Scalar
    right: Scalar


@dataclass(slots=True)
class Comparison:
    op: str  # one of COMPARISON_OPS
    left: Scalar
    right: Scalar


Query = Union[Select, Arithmetic, Comparison]


def walk_columns(node: Any) -> list[int]:
    """Every column index a plan refers to (ROWID included), in visiting order."""
    out: list[int] = []

    def visit(n: Any) -> None:
        if isinstance(n, Column):
            out.append(n.index)
        elif isinstance(n, Aggregate):
            if n.column is not None:
                out.append(n.column)
        elif isinstance(n, (Compare, Between, InList, Like)):
            out.append(n.column)
            if isinstance(n, Compare):
                visit(n.value)
        elif isinstance(n, (And, Or)):
            for t in n.terms:
                visit(t)
        elif isinstance(n, Scalar):
            visit(n.query)
        elif isinstance(n, Select):
            visit(n.project)
            if n.where is not None:
                visit(n.where)
            if n.group_by is not None:
                out.append(n.group_by)
            if n.having is not None:
                visit(n.having.aggregate)
            if n.order_by is not None:
                visit(n.order_by.expr)
        elif isinstance(n, (Arithmetic, Comparison)):
            visit(n.left)
            visit(n.right)

    visit(node)
    return out
