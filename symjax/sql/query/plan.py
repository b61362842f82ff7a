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

Queries outside what those steps express (the SQL people write about tables: arithmetic on
columns, several projected columns, ``IS NULL``, ``IN (SELECT ...)``, set operations,
``FROM (SELECT ...)``, ...) are :class:`SelectQuery` or :class:`Compound` plans over
general expressions (:class:`Unary`, :class:`Binary`, :class:`IsNull`, :class:`Function`,
:class:`AggregateCall`, :class:`Subquery`, :class:`InValues`, :class:`InQuery`,
:class:`Exists`, :class:`BetweenExpr`, :class:`LikeExpr`, :class:`Case`, :class:`Output`);
:mod:`symjax.sql.query.general` executes them with SQLite's value semantics. ``Column``
and ``Literal`` serve both kinds (``Literal(None)`` is NULL); in a general plan a
``Column`` indexes the columns of its query's source (table ``w``, or a sub-select in
``FROM``).

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
    "ColumnArithmetic",
    "NullTest",
    "SetOperation",
    "Predicate",
    "Query",
    "walk_columns",
    "Unary",
    "Binary",
    "IsNull",
    "Function",
    "AggregateCall",
    "Subquery",
    "InValues",
    "InQuery",
    "Exists",
    "BetweenExpr",
    "LikeExpr",
    "Case",
    "Output",
    "SortKey",
    "TableSource",
    "DerivedSource",
    "SelectQuery",
    "Compound",
    "GeneralQuery",
    "SCALAR_FUNCTIONS",
    "SET_OPERATORS",
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
class ColumnArithmetic:
    """``"a" - "b"`` or ``"a" + "b"`` row by row (``abs``: inside ``ABS(...)``): a projected
    expression, an aggregate's argument or an ``ORDER BY`` key."""

    op: str  # '+' or '-'
    left: int
    right: int
    abs: bool = False


@dataclass(slots=True)
class Aggregate:
    func: str  # one of AGGREGATES
    column: "int | ColumnArithmetic | None"  # None only for COUNT(*)
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
    value: Union[Literal, Scalar, Column]  # a Column: column against column, row by row


@dataclass(slots=True)
class NullTest:
    """``column IS NULL`` (``negated``: ``IS NOT NULL``)."""

    column: int
    negated: bool = False


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


Predicate = Union[Compare, Between, InList, Like, NullTest, And, Or]


@dataclass(slots=True)
class Having:
    aggregate: Aggregate
    op: str
    value: Literal


@dataclass(slots=True)
class OrderBy:
    expr: Union[Column, Aggregate, ColumnArithmetic]
    descending: bool = False


@dataclass(slots=True)
class Select:
    # a tuple of Columns projects several columns (``SELECT "a", "b"``)
    project: Union[Column, Aggregate, ColumnArithmetic, tuple]
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
    abs: bool = False  # SELECT ABS((sub) - (sub))


@dataclass(slots=True)
class Comparison:
    op: str  # one of COMPARISON_OPS
    left: Scalar
    right: Scalar


@dataclass(slots=True)
class SetOperation:
    """``SELECT ... op SELECT ...`` of two single-column SELECTs, ``op`` one of ``UNION``,
    ``INTERSECT``, ``EXCEPT`` (distinct rows, unordered)."""

    op: str
    left: "Select"
    right: "Select"


# ---------------------------------------------------------------------------- general plans
SCALAR_FUNCTIONS = ("abs", "length", "lower", "upper", "coalesce", "ifnull")
SET_OPERATORS = ("UNION", "UNION ALL", "INTERSECT", "EXCEPT")


@dataclass(slots=True)
class Unary:
    op: str  # '-', '+', 'NOT'
    operand: Any


@dataclass(slots=True)
class Binary:
    """``left op right``: arithmetic (``+ - * / %``), ``||``, comparisons (``= != < > <=
    >=``, ``IS``, ``IS NOT``) and ``AND`` / ``OR``."""

    op: str
    left: Any
    right: Any


@dataclass(slots=True)
class IsNull:
    operand: Any
    negated: bool = False  # IS NOT NULL


@dataclass(slots=True)
class Function:
    name: str  # one of SCALAR_FUNCTIONS
    args: tuple


@dataclass(slots=True)
class AggregateCall:
    func: str  # one of AGGREGATES or 'total'
    arg: Any  # an expression; None only for COUNT(*)
    distinct: bool = False


@dataclass(slots=True)
class Subquery:
    """A sub-select used as a value: its first row's first column, NULL when it has none."""

    query: "GeneralQuery"


@dataclass(slots=True)
class InValues:
    operand: Any
    values: tuple
    negated: bool = False


@dataclass(slots=True)
class InQuery:
    operand: Any
    query: "GeneralQuery"
    negated: bool = False


@dataclass(slots=True)
class Exists:
    query: "GeneralQuery"
    negated: bool = False


@dataclass(slots=True)
class BetweenExpr:
    operand: Any
    low: Any
    high: Any
    negated: bool = False


@dataclass(slots=True)
class LikeExpr:
    operand: Any
    pattern: Any
    escape: str | None = None
    negated: bool = False


@dataclass(slots=True)
class Case:
    operand: Any  # CASE operand WHEN ...; None for CASE WHEN cond ...
    whens: tuple  # ((when, then), ...)
    default: Any = None


@dataclass(slots=True)
class Output:
    """The query's ``index``-th result column (``ORDER BY 2``, ``ORDER BY alias``)."""

    index: int


@dataclass(slots=True)
class SortKey:
    expr: Any
    descending: bool = False
    nulls_first: bool | None = None  # None: SQLite's default (first ascending, last descending)


@dataclass(slots=True)
class TableSource:
    """``FROM w [AS alias]``."""

    alias: str | None = None


@dataclass(slots=True)
class DerivedSource:
    """``FROM (SELECT ...) [AS alias]``."""

    query: "GeneralQuery"
    alias: str | None = None


@dataclass(slots=True)
class SelectQuery:
    """``SELECT [DISTINCT] columns [FROM source] [WHERE] [GROUP BY] [HAVING] [ORDER BY]
    [LIMIT [OFFSET]]``; ``names`` are the result columns' names."""

    columns: tuple
    names: tuple[str, ...]
    source: Union[TableSource, DerivedSource, None] = None
    where: Any = None
    group_by: tuple = ()
    having: Any = None
    order_by: tuple = ()
    limit: Any = None
    offset: Any = None
    distinct: bool = False


@dataclass(slots=True)
class Compound:
    """``left op right [ORDER BY] [LIMIT]`` with ``op`` in SET_OPERATORS; ORDER BY keys are
    :class:`Output` columns."""

    op: str
    left: "GeneralQuery"
    right: "GeneralQuery"
    order_by: tuple = ()
    limit: Any = None
    offset: Any = None


GeneralQuery = Union[SelectQuery, Compound]
Query = Union[Select, Arithmetic, Comparison, SetOperation, SelectQuery, Compound]


def walk_columns(node: Any) -> list[int]:
    """Every column index a plan refers to (ROWID included), in visiting order."""
    out: list[int] = []

    def visit(n: Any) -> None:
        if isinstance(n, Column):
            out.append(n.index)
        elif isinstance(n, ColumnArithmetic):
            out.extend((n.left, n.right))
        elif isinstance(n, tuple):
            for x in n:
                visit(x)
        elif isinstance(n, Aggregate):
            if isinstance(n.column, ColumnArithmetic):
                visit(n.column)
            elif n.column is not None:
                out.append(n.column)
        elif isinstance(n, (Compare, Between, InList, Like, NullTest)):
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
        elif isinstance(n, (Arithmetic, Comparison, SetOperation)):
            visit(n.left)
            visit(n.right)

    visit(node)
    return out
