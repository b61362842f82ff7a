"""Parse external SQL (SQLite dialect) with sqlglot into a query plan.

The supported subset is what :mod:`symjax.sql.query.plan` can express: one projected column or
aggregate, ``WHERE`` with comparisons, ``AND``/``OR``, ``IN``, ``BETWEEN`` and prefix
``LIKE``; ``DISTINCT``; ``GROUP BY`` one column with ``HAVING COUNT(*)``; ``ORDER BY`` one
key with ``LIMIT``; scalar sub-selects as comparison values (optionally ``+``/``-`` an
integer, e.g. ``rowid = (SELECT rowid ...) + 1``); and the arithmetic (``+``, ``-``) or
comparison of two scalar sub-selects. SQL outside that subset is parsed into a general plan
by :mod:`symjax.sql.query.parse_general`; what neither covers raises
:class:`~symjax.errors.UnsupportedSqlError` naming the construct; malformed SQL, unknown
columns and tables other than ``w`` raise :class:`~symjax.errors.SqlError` naming the
fragment. Identifiers fold case for ASCII letters only, as SQLite's do.
"""
from __future__ import annotations

import contextlib
import sys
from typing import Any

from symjax.errors import SqlError, UnsupportedSqlError
from symjax.sql.query.plan import (
    ROWID,
    Aggregate,
    And,
    Arithmetic,
    Between,
    Column,
    Compare,
    Comparison,
    Having,
    InList,
    Like,
    Literal,
    Or,
    OrderBy,
    Query,
    Scalar,
    Select,
)
from symjax.sql.query.values import fold_ascii
from symjax.sql.table import Table

__all__ = ["parse_sql"]

_ROWID_NAMES = ("rowid", "_rowid_", "oid")
_SELECT_KEYS = {"expressions", "from", "from_", "where", "group", "having", "order", "limit", "distinct", "kind"}


def sqlglot_exp():
    """sqlglot's expression module, imported on first use (sqlglot loads only when SQL text
    is parsed)."""
    from sqlglot import exp

    return exp


def sql_text(node: Any) -> str:
    """A sqlglot node printed back as SQLite SQL, for error messages."""
    try:
        return node.sql(dialect="sqlite")
    except Exception:  # pragma: no cover - sqlglot printing failure
        return repr(node)


class _Parser:
    def __init__(self, table: Table):
        self.table = table
        self.exp = sqlglot_exp()
        self.lower: dict[str, int] = {}
        for j, h in enumerate(table.header):
            self.lower.setdefault(fold_ascii(h), j)
        cmp = self.exp
        self.cmp_ops = {cmp.EQ: "=", cmp.NEQ: "!=", cmp.LT: "<", cmp.GT: ">", cmp.LTE: "<=", cmp.GTE: ">="}
        self.flipped = {"=": "=", "!=": "!=", "<": ">", ">": "<", "<=": ">=", ">=": "<="}

    # ------------------------------------------------------------------ leaves
    def unsupported(self, node: Any, what: str | None = None) -> UnsupportedSqlError:
        name = what or type(node).__name__
        return UnsupportedSqlError(
            f"unsupported SQL construct {name} in {sql_text(node)!r}; symjax executes single-table "
            "SELECTs with WHERE/GROUP BY/HAVING COUNT(*)/ORDER BY/LIMIT and scalar sub-selects"
        )

    def strip(self, node: Any) -> Any:
        while isinstance(node, self.exp.Paren):
            node = node.this
        return node

    def column(self, node: Any) -> int:
        node = self.strip(node)
        if not isinstance(node, self.exp.Column):
            raise self.unsupported(node, f"{type(node).__name__} where a column was expected")
        if node.table:
            if fold_ascii(node.table) != "w":
                raise self.unsupported(node, "a qualified column name")
        name = node.name
        j = self.lower.get(fold_ascii(name))
        if j is not None:
            return j
        if fold_ascii(name) in _ROWID_NAMES:
            return ROWID
        raise SqlError(
            f"unknown column {name!r} in {sql_text(node)!r}; the table's columns are {list(self.table.header)}"
        )

    def literal(self, node: Any) -> Any:
        node = self.strip(node)
        exp = self.exp
        if isinstance(node, exp.Neg):
            v = self.literal(node.this)
            if isinstance(v, str):
                raise self.unsupported(node, "negated text")
            return -v
        if isinstance(node, exp.Literal):
            if node.is_string:
                return node.this
            text = node.this
            try:
                return int(text)
            except ValueError:
                try:
                    return float(text)
                except ValueError:
                    raise SqlError(f"malformed number {text!r}") from None
        if isinstance(node, exp.Null):
            raise self.unsupported(node, "NULL literal")
        raise self.unsupported(node, f"{type(node).__name__} where a literal was expected")

    def aggregate(self, node: Any) -> Aggregate | None:
        exp = self.exp
        node = self.strip(node)
        funcs = {exp.Count: "count", exp.Sum: "sum", exp.Avg: "avg", exp.Min: "min", exp.Max: "max"}
        for cls, name in funcs.items():
            if type(node) is cls:
                arg = node.this
                if name in ("min", "max") and node.expressions:
                    raise self.unsupported(node, f"{name.upper()} with several arguments")
                if isinstance(arg, exp.Star):
                    if name != "count":
                        raise SqlError(f"{name.upper()}(*) is not valid SQL: {sql_text(node)!r}")
                    return Aggregate("count", None)
                if isinstance(arg, exp.Distinct):
                    if len(arg.expressions) != 1:
                        raise self.unsupported(node, "DISTINCT over several expressions")
                    if name != "count":
                        raise self.unsupported(node, f"{name.upper()}(DISTINCT ...)")
                    return Aggregate("count", self.column(arg.expressions[0]), distinct=True)
                return Aggregate(name, self.column(arg))
        return None

    def project(self, node: Any):
        agg = self.aggregate(node)
        if agg is not None:
            return agg
        node = self.strip(node)
        if isinstance(node, self.exp.Alias):
            return self.project(node.this)
        return Column(self.column(node))

    # ------------------------------------------------------------------ values
    def scalar(self, node: Any) -> Scalar | None:
        exp = self.exp
        node = self.strip(node)
        if isinstance(node, exp.Subquery):
            return Scalar(self.select(node.this))
        if isinstance(node, (exp.Add, exp.Sub)):
            left = self.strip(node.this)
            if isinstance(left, exp.Subquery):
                offset = self.literal(node.expression)
                if not isinstance(offset, int):
                    raise self.unsupported(node, "a non-integer offset added to a sub-select")
                return Scalar(self.select(left.this), offset if isinstance(node, exp.Add) else -offset)
        return None

    def predicate(self, node: Any):
        exp = self.exp
        node = self.strip(node)
        if isinstance(node, (exp.And, exp.Or)):
            terms: list = []
            cls = type(node)
            stack = [node]
            while stack:
                n = self.strip(stack.pop())
                if type(n) is cls:
                    stack.append(n.expression)
                    stack.append(n.this)
                else:
                    terms.append(self.predicate(n))
            return And(tuple(terms)) if cls is exp.And else Or(tuple(terms))
        op = self.cmp_ops.get(type(node))
        if op is not None:
            left, right = self.strip(node.this), self.strip(node.expression)
            if not isinstance(left, exp.Column) and isinstance(right, exp.Column):
                left, right, op = right, left, self.flipped[op]
            col = self.column(left)
            scalar = self.scalar(right)
            if scalar is not None:
                return Compare(col, op, scalar)
            return Compare(col, op, Literal(self.literal(right)))
        if isinstance(node, exp.Between):
            return Between(self.column(node.this), Literal(self.literal(node.args["low"])),
                           Literal(self.literal(node.args["high"])))
        if isinstance(node, exp.In):
            if node.args.get("query") is not None or not node.expressions:
                raise self.unsupported(node, "IN with a sub-select")
            return InList(self.column(node.this), tuple(Literal(self.literal(v)) for v in node.expressions))
        if isinstance(node, exp.Like):
            pattern = self.literal(node.expression)
            if not isinstance(pattern, str) or not pattern.endswith("%") or any(
                ch in pattern[:-1] for ch in "%_"
            ) or node.args.get("escape"):
                raise self.unsupported(node, "LIKE with a pattern other than 'prefix%'")
            return Like(self.column(node.this), pattern[:-1])
        raise self.unsupported(node)

    # ------------------------------------------------------------------ SELECT
    def select(self, node: Any) -> Select:
        exp = self.exp
        node = self.strip(node)
        if not isinstance(node, exp.Select):
            raise self.unsupported(node)
        for key, value in node.args.items():
            if value and key not in _SELECT_KEYS:
                raise self.unsupported(node, key.upper())
        if len(node.expressions) != 1:
            raise self.unsupported(node, f"{len(node.expressions)} projected expressions (one is supported)")
        src = node.args.get("from_") or node.args.get("from")
        if src is None:
            raise self.unsupported(node, "SELECT without FROM")
        if not isinstance(src.this, exp.Table) or src.expressions or node.args.get("joins"):
            raise self.unsupported(src, "FROM other than one table")
        if fold_ascii(src.this.name) != "w" or any(
                src.this.args.get(k) is not None for k in ("db", "catalog", "alias")):
            raise self.unsupported(src, "FROM other than w")
        distinct = node.args.get("distinct")
        if distinct is not None and distinct.args.get("on") is not None:
            raise self.unsupported(node, "DISTINCT ON")
        project = self.project(node.expressions[0])
        where = node.args.get("where")
        group = node.args.get("group")
        group_by = None
        if group is not None:
            if len(group.expressions) != 1:
                raise self.unsupported(group, "GROUP BY several columns")
            group_by = self.column(group.expressions[0])
        having = None
        if node.args.get("having") is not None:
            h = self.strip(node.args["having"].this)
            op = self.cmp_ops.get(type(h))
            agg = self.aggregate(h.this) if op else None
            if agg is None:
                raise self.unsupported(h, "HAVING other than <aggregate> <op> <literal>")
            having = Having(agg, op, Literal(self.literal(h.expression)))
        order_by = None
        order = node.args.get("order")
        if order is not None:
            if len(order.expressions) != 1:
                raise self.unsupported(order, "ORDER BY several keys")
            o = order.expressions[0]
            expr = self.aggregate(o.this)
            if expr is None:
                expr = Column(self.column(o.this))
            if o.args.get("nulls_first") not in (None, not bool(o.args.get("desc"))):
                raise self.unsupported(o, "NULLS FIRST/LAST")
            order_by = OrderBy(expr, bool(o.args.get("desc")))
        limit = None
        if node.args.get("limit") is not None:
            lim = node.args["limit"]
            if lim.args.get("offset"):
                raise self.unsupported(lim, "OFFSET")
            limit = self.literal(lim.expression)
            if not isinstance(limit, int) or limit < 0:
                raise SqlError(f"LIMIT must be a non-negative integer, got {sql_text(lim)!r}")
        return Select(
            project,
            where=None if where is None else self.predicate(where.this),
            distinct=distinct is not None,
            group_by=group_by,
            having=having,
            order_by=order_by,
            limit=limit,
        )

    def query(self, node: Any) -> Query:
        exp = self.exp
        node = self.strip(node)
        if isinstance(node, exp.Select) and not (node.args.get("from_") or node.args.get("from")):
            if len(node.expressions) != 1:
                raise self.unsupported(node, "several expressions without FROM")
            e = self.strip(node.expressions[0])
            if isinstance(e, (exp.Add, exp.Sub)):
                left, right = self.scalar(e.this), self.scalar(e.expression)
                if left is None or right is None:
                    raise self.unsupported(e, "arithmetic other than between two scalar sub-selects")
                return Arithmetic("+" if isinstance(e, exp.Add) else "-", left, right)
            op = self.cmp_ops.get(type(e))
            if op is not None:
                left, right = self.scalar(e.this), self.scalar(e.expression)
                if left is None or right is None:
                    raise self.unsupported(e, "comparison other than between two scalar sub-selects")
                return Comparison(op, left, right)
            raise self.unsupported(e)
        return self.select(node)


def parse_sql(sql: str, table: Table) -> Query:
    """Parse SQLite-dialect SQL over ``table`` (named ``w``) into a plan: the sampler's step
    plan where it expresses the query, else a general plan (:mod:`.parse_general`)."""
    import sqlglot
    from sqlglot.errors import ParseError, TokenError

    from symjax.sql.query.parse_general import MAX_NESTING, nesting_depth, parse_general

    depth = nesting_depth(sql)
    if depth > MAX_NESTING:
        raise UnsupportedSqlError(
            f"SQL nested {depth} deep (parentheses or sub-selects); symjax executes at most "
            f"{MAX_NESTING} levels: flatten the query"
        )
    with deep_recursion():
        try:
            statements = sqlglot.parse(sql, read="sqlite")
        except (ParseError, TokenError) as e:
            raise SqlError(f"cannot parse SQL {sql!r}: {e}") from e
        statements = [s for s in statements if s is not None]
        if len(statements) != 1:
            raise UnsupportedSqlError(f"expected one SQL statement, got {len(statements)} in {sql!r}")
        try:
            return _Parser(table).query(statements[0])
        except SqlError:  # outside the step plans (or an alias they cannot resolve)
            return parse_general(statements[0], table)


@contextlib.contextmanager
def deep_recursion(limit: int = 12_000):
    """Room for the recursion of nested sub-selects (sqlglot recurses about 25 frames per
    level; :data:`~.parse_general.MAX_NESTING` levels fit), restored afterwards."""
    old = sys.getrecursionlimit()
    if old < limit:
        sys.setrecursionlimit(limit)
    try:
        yield
    except RecursionError as e:
        raise UnsupportedSqlError(
            "SQL nested too deeply to execute; flatten the sub-selects"
        ) from e
    finally:
        if old < limit:
            sys.setrecursionlimit(old)
