"""Execute general plans (:class:`~symjax.sql.query.plan.SelectQuery`,
:class:`~symjax.sql.query.plan.Compound`) with SQLite's semantics.

The sampler's step plans run on the numba kernels (:mod:`symjax.sql.query.executor`); the
SQL people write about tables (arithmetic on columns, several projected columns, ``IS
NULL``, set operations, ``IN (SELECT ...)``, ``FROM (SELECT ...)``, ...) runs here, row by
row over the table's Python values, so that integers stay exact 64-bit values and every
value follows SQLite's rules (:mod:`symjax.sql.query.values`). This path serves external
SQL one query at a time; it is not on the example stream's hot path.

Sub-selects are not correlated (the parser refuses columns of an outer query), so each is
run once per execution and its rows reused. Results that depend on behaviour SQL leaves
unspecified are reported as :attr:`Result.ambiguity`, as on the kernel path: ties under
``ORDER BY``, ``LIMIT`` without ``ORDER BY``, a scalar sub-select with several rows, bare
columns of a grouped query without ``MIN``/``MAX``.
"""
from __future__ import annotations

import dataclasses
from typing import Any

from symjax.errors import SqlError, SqlOverflowError, UnsupportedSqlError
from symjax.sql.query import values as V
from symjax.sql.query.plan import (
    ROWID,
    AggregateCall,
    BetweenExpr,
    Binary,
    Case,
    Column,
    Compound,
    Exists,
    Function,
    GeneralQuery,
    InQuery,
    InValues,
    IsNull,
    LikeExpr,
    Literal,
    Output,
    SelectQuery,
    Subquery,
    TableSource,
    Unary,
)
from symjax.sql.table import INTEGER, REAL, Table

__all__ = ["run_general", "query_affinities"]

_COMPARISONS = ("=", "!=", "<", ">", "<=", ">=")
_ARITHMETIC = ("+", "-", "*", "/", "%")


class _Frame:
    """What an expression is evaluated against: a source row, and in an aggregate query
    the group's aggregate values; ``outputs`` are the row's result columns."""

    __slots__ = ("row", "aggregates", "outputs")

    def __init__(self, row, aggregates=None, outputs=None):
        self.row = row
        self.aggregates = aggregates
        self.outputs = outputs


class _Run:
    """One execution: the table, the rows of each sub-select (run once), ambiguity notes."""

    def __init__(self, table: Table):
        self.table = table
        self.ambiguity: list[str] = []
        self.subquery_rows: dict[int, list[tuple]] = {}
        self.affinities: dict[int, list[str]] = {}
        self._table_rows: list[tuple] | None = None

    # ------------------------------------------------------------------ sources
    def table_rows(self) -> list[tuple]:
        if self._table_rows is None:
            t = self.table
            cols = [t.column(j) for j in range(t.num_columns)]
            ids = range(1, t.num_rows + 1)
            self._table_rows = [tuple(r) for r in zip(*cols, ids)]  # rowid last: index -1
        return self._table_rows

    def table_affinities(self) -> list[str]:
        return [V.AFF_NUMERIC if t in (INTEGER, REAL) else V.AFF_TEXT for t in self.table.types]

    def source_affinities(self, source: Any) -> list[str]:
        if source is None:
            return []
        if isinstance(source, TableSource):
            return self.table_affinities()
        return self.query_affinities(source.query)

    def query_affinities(self, query: GeneralQuery) -> list[str]:
        key = id(query)
        got = self.affinities.get(key)
        if got is None:
            while isinstance(query, Compound):
                query = query.left
            src = self.source_affinities(query.source)
            got = self.affinities[key] = [self.affinity(c, src) for c in query.columns]
        return got

    def affinity(self, expr: Any, source: list[str]) -> str:
        """SQLite's affinity of an expression: a column's, a sub-select's first column's,
        and none for every other expression (literals, arithmetic, functions, aggregates)."""
        if isinstance(expr, Column):
            return V.AFF_NUMERIC if expr.index == ROWID else source[expr.index]
        if isinstance(expr, Subquery):
            affs = self.query_affinities(expr.query)
            return affs[0] if affs else V.AFF_NONE
        return V.AFF_NONE

    # ------------------------------------------------------------------ queries
    def rows(self, query: GeneralQuery) -> list[tuple]:
        """The result rows of a sub-select, computed once per execution."""
        key = id(query)
        got = self.subquery_rows.get(key)
        if got is None:
            got = self.subquery_rows[key] = self.query(query)
        return got

    def query(self, query: GeneralQuery) -> list[tuple]:
        if isinstance(query, Compound):
            return self.compound(query)
        return self.select(query)

    def compound(self, q: Compound) -> list[tuple]:
        left, right = self.query(q.left), self.query(q.right)
        width_l, width_r = _width(q.left), _width(q.right)
        if width_l != width_r:
            raise SqlError(
                f"SELECTs to the left and right of {q.op} do not have the same number of result "
                f"columns ({width_l} and {width_r})"
            )
        if q.op == "UNION ALL":
            rows = left + right
        else:
            right_keys = {_row_key(r) for r in right}
            seen: dict[tuple, tuple] = {}
            if q.op == "UNION":
                for r in left + right:
                    seen.setdefault(_row_key(r), r)
            elif q.op == "INTERSECT":
                for r in left:
                    if _row_key(r) in right_keys:
                        seen.setdefault(_row_key(r), r)
            else:  # EXCEPT
                for r in left:
                    if _row_key(r) not in right_keys:
                        seen.setdefault(_row_key(r), r)
            # SQLite builds these in an index: the rows come out in sorted order
            rows = [seen[k] for k in sorted(seen)]
        ties: list[tuple[int, int]] = []
        if q.order_by:
            keyed = [(r, [r[k.expr.index] for k in q.order_by]) for r in rows]
            rows, ties = self.sort(keyed, q.order_by)
        return self.limit(rows, q.limit, q.offset, bool(q.order_by), ties)

    def select(self, q: SelectQuery) -> list[tuple]:
        if q.source is None:
            source_rows: list[tuple] = [()]
        elif isinstance(q.source, TableSource):
            source_rows = self.table_rows()
        else:
            source_rows = self.rows(q.source.query)
        affs = self.source_affinities(q.source)
        if q.where is not None:
            source_rows = [r for r in source_rows if V.truth(self.eval(q.where, _Frame(r), affs))]
        aggregates: list[AggregateCall] = []
        for e in (*q.columns, q.having, *(k.expr for k in q.order_by)):
            _collect_aggregates(e, aggregates)
        out: list[tuple[tuple, list]] = []  # (result row, sort values)
        if q.group_by or aggregates:
            if q.group_by:
                groups: dict[tuple, list[tuple]] = {}
                for r in source_rows:
                    key = tuple(V.distinct_key(self.eval(g, _Frame(r), affs)) for g in q.group_by)
                    groups.setdefault(key, []).append(r)
                # SQLite groups with a sorter: groups come out in key order
                members = [groups[k] for k in sorted(groups)]
            else:
                members = [source_rows]
            width = len(self.source_affinities(q.source)) + (1 if isinstance(q.source, TableSource) else 0)
            bare = _has_bare_columns(q)
            for rows in members:
                values, chosen = self.aggregate_values(aggregates, rows, affs)
                if chosen is None:
                    if bare and len(rows) > 1 and len({_row_key(r) for r in rows}) > 1:
                        self.note_bare(q)
                    rep = rows[-1] if rows else (None,) * width
                else:
                    rep = chosen
                frame = _Frame(rep, values)
                if q.having is not None and not V.truth(self.eval(q.having, frame, affs)):
                    continue
                outputs = tuple(self.eval(c, frame, affs) for c in q.columns)
                frame.outputs = outputs
                out.append((outputs, [self.eval(k.expr, frame, affs) for k in q.order_by]))
        else:
            if q.having is not None:
                raise SqlError("a HAVING clause on a query without GROUP BY or aggregates")
            for r in source_rows:
                frame = _Frame(r)
                outputs = tuple(self.eval(c, frame, affs) for c in q.columns)
                frame.outputs = outputs
                out.append((outputs, [self.eval(k.expr, frame, affs) for k in q.order_by]))
        if q.distinct:
            seen: dict[tuple, tuple] = {}
            for item in out:
                seen.setdefault(_row_key(item[0]), item)
            out = list(seen.values())
        if q.order_by:
            if (q.group_by or aggregates) and len(q.order_by) == 1 and q.order_by[0].descending:
                # What SQLite 3.40 does with ties here (unspecified, and reported as such):
                # groups tied under one descending key come out in reverse group order.
                out.reverse()
            rows, ties = self.sort(out, q.order_by)
        else:
            rows, ties = [o for o, _ in out], []
        return self.limit(rows, q.limit, q.offset, bool(q.order_by), ties)

    def note_bare(self, q: SelectQuery) -> None:
        self.ambiguity.append("a column outside GROUP BY and aggregates takes an unspecified row's value")

    def sort(self, keyed: list[tuple[tuple, list]], order_by: tuple) -> tuple[list[tuple], list[tuple[int, int]]]:
        """The rows in ``ORDER BY`` order, and the spans ``[start, end)`` of rows tied on
        every key whose outputs differ (their order is unspecified; :meth:`limit` reports
        those that reach the rows it keeps)."""
        items = list(keyed)
        for k in range(len(order_by) - 1, -1, -1):
            key = order_by[k]
            default_nulls = key.nulls_first == (not key.descending)
            if default_nulls:
                items.sort(key=lambda it: V.order_key(it[1][k]), reverse=key.descending)
            else:
                items.sort(key=lambda it: (it[1][k] is None, V.order_key(it[1][k])), reverse=key.descending)
        ties = []
        start = 0
        while start < len(items):
            first = [V.order_key(x) for x in items[start][1]]
            end = start + 1
            while end < len(items) and [V.order_key(x) for x in items[end][1]] == first:
                end += 1
            if len({_row_key(items[q][0]) for q in range(start, end)}) > 1:
                ties.append((start, end))
            start = end
        return [o for o, _ in items], ties

    def limit(self, rows: list[tuple], limit: Any, offset: Any, ordered: bool,
              ties: list[tuple[int, int]] = ()) -> list[tuple]:
        start = 0
        stop = len(rows)
        if limit is not None or offset is not None:
            if offset is not None:
                start = max(0, self.integer(offset, "OFFSET"))
            if limit is not None:
                n = self.integer(limit, "LIMIT")
                if n >= 0:
                    stop = min(stop, start + n)
        if any(a < stop and b > start for a, b in ties):
            self.ambiguity.append("ties under ORDER BY make the order of the rows unspecified")
        if limit is None and offset is None:
            return rows
        kept = rows[start:stop]
        if len(kept) < len(rows) and not ordered and len({_row_key(r) for r in rows}) > 1:
            self.ambiguity.append("LIMIT or OFFSET without ORDER BY picks unspecified rows")
        return kept

    def integer(self, expr: Any, what: str) -> int:
        value = V.numeric_type(self.eval(expr, _Frame(()), []))
        if isinstance(value, float) and value.is_integer():
            value = int(value)
        if not isinstance(value, int):
            raise SqlError(f"datatype mismatch: {what} must be an integer, got {value!r}")
        return value

    # ------------------------------------------------------------------ aggregates
    def aggregate_values(self, aggregates: list[AggregateCall], rows: list[tuple], affs: list[str]):
        """Each aggregate's value over a group's rows (keyed by the node's id), and the row
        a lone MIN or MAX chose (SQLite takes bare columns from it)."""
        values: dict[int, Any] = {}
        chosen = None
        extremes = [a for a in aggregates if a.func in ("min", "max")]
        for agg in aggregates:
            if agg.arg is None:
                values[id(agg)] = len(rows)
                continue
            args = [(self.eval(agg.arg, _Frame(r), affs), r) for r in rows]
            args = [(v, r) for v, r in args if v is not None]
            if agg.distinct:
                seen: dict[tuple, tuple] = {}
                for v, r in args:
                    seen.setdefault(V.distinct_key(v), (v, r))
                args = list(seen.values())
            value, row = _aggregate(agg.func, args)
            values[id(agg)] = value
            if len(extremes) == 1 and agg is extremes[0]:
                chosen = row
        return values, chosen

    # ------------------------------------------------------------------ expressions
    def eval(self, e: Any, frame: _Frame, affs: list[str]) -> Any:
        if isinstance(e, Column):
            return frame.row[e.index]
        if isinstance(e, Literal):
            return e.value
        if isinstance(e, Binary):
            op = e.op
            if op in _ARITHMETIC:
                return V.arith(op, self.eval(e.left, frame, affs), self.eval(e.right, frame, affs))
            if op in _COMPARISONS:
                return self.compare(op, e.left, e.right, frame, affs)
            if op == "AND":
                left = self.eval(e.left, frame, affs)
                if V.truth(left) is False:
                    return 0
                return V.logical_and(left, self.eval(e.right, frame, affs))
            if op == "OR":
                left = self.eval(e.left, frame, affs)
                if V.truth(left):
                    return 1
                return V.logical_or(left, self.eval(e.right, frame, affs))
            if op == "||":
                a, b = self.eval(e.left, frame, affs), self.eval(e.right, frame, affs)
                return None if a is None or b is None else V.to_text(a) + V.to_text(b)
            if op in ("IS", "IS NOT"):
                a, b = self.operands(e.left, e.right, frame, affs)
                same = (a is None and b is None) or (a is not None and b is not None and V.compare("=", a, b) == 1)
                return int(same if op == "IS" else not same)
            raise UnsupportedSqlError(f"operator {op}")
        if isinstance(e, Unary):
            value = self.eval(e.operand, frame, affs)
            if e.op == "-":
                return V.negate(value)
            if e.op == "NOT":
                return V.logical_not(value)
            return value
        if isinstance(e, IsNull):
            return int((self.eval(e.operand, frame, affs) is None) != e.negated)
        if isinstance(e, AggregateCall):
            if frame.aggregates is None or id(e) not in frame.aggregates:
                raise SqlError(f"misuse of aggregate function {e.func.upper()}()")
            return frame.aggregates[id(e)]
        if isinstance(e, Output):
            return frame.outputs[e.index]
        if isinstance(e, Subquery):
            rows = self.rows(e.query)
            if _width(e.query) != 1:
                raise SqlError(f"sub-select returns {_width(e.query)} columns - expected 1")
            if len(rows) > 1 and not _ordered(e.query) and len({_row_key(r) for r in rows}) > 1:
                self.ambiguity.append(f"a scalar sub-select returned {len(rows)} rows")
            return rows[0][0] if rows else None
        if isinstance(e, InValues):
            return self.membership(e.operand, [(v, V.AFF_NONE) for v in e.values], e.negated, frame, affs)
        if isinstance(e, InQuery):
            if _width(e.query) != 1:
                raise SqlError(f"sub-select returns {_width(e.query)} columns - expected 1")
            aff = self.query_affinities(e.query)[0]
            return self.membership(e.operand, [(Literal(r[0]), aff) for r in self.rows(e.query)],
                                   e.negated, frame, affs)
        if isinstance(e, Exists):
            found = bool(self.rows(e.query))
            return int(found != e.negated)
        if isinstance(e, BetweenExpr):
            low = self.compare(">=", e.operand, e.low, frame, affs)
            high = self.compare("<=", e.operand, e.high, frame, affs)
            inside = V.logical_and(low, high)
            return V.logical_not(inside) if e.negated else inside
        if isinstance(e, LikeExpr):
            got = V.like(self.eval(e.operand, frame, affs), self.eval(e.pattern, frame, affs), e.escape)
            return V.logical_not(got) if e.negated else got
        if isinstance(e, Case):
            if e.operand is None:
                for when, then in e.whens:
                    if V.truth(self.eval(when, frame, affs)):
                        return self.eval(then, frame, affs)
            else:
                for when, then in e.whens:
                    if self.compare("=", e.operand, when, frame, affs) == 1:
                        return self.eval(then, frame, affs)
            return None if e.default is None else self.eval(e.default, frame, affs)
        if isinstance(e, Function):
            return self.function(e, frame, affs)
        raise UnsupportedSqlError(f"cannot execute the expression {e!r}")

    def operands(self, left: Any, right: Any, frame: _Frame, affs: list[str]) -> tuple[Any, Any]:
        """Both operands of a comparison, with the affinities SQLite applies to them."""
        a, b = self.eval(left, frame, affs), self.eval(right, frame, affs)
        to_a, to_b = V.comparison_affinity(self.affinity(left, affs), self.affinity(right, affs))
        return V.apply_affinity(a, to_a), V.apply_affinity(b, to_b)

    def compare(self, op: str, left: Any, right: Any, frame: _Frame, affs: list[str]) -> int | None:
        a, b = self.operands(left, right, frame, affs)
        return V.compare(op, a, b)

    def membership(self, operand: Any, candidates: list[tuple[Any, str]], negated: bool,
                   frame: _Frame, affs: list[str]) -> int | None:
        """``x IN (...)``: 1 if some candidate equals x, else NULL if x or a candidate is
        NULL, else 0 (each comparison with the affinities of ``x = candidate``)."""
        x = self.eval(operand, frame, affs)
        if x is None:
            return None
        x_aff = self.affinity(operand, affs)
        saw_null = False
        for cand, cand_aff in candidates:
            y = self.eval(cand, frame, affs)
            if y is None:
                saw_null = True
                continue
            to_x, to_y = V.comparison_affinity(x_aff, cand_aff)
            if V.compare("=", V.apply_affinity(x, to_x), V.apply_affinity(y, to_y)) == 1:
                return 0 if negated else 1
        if saw_null:
            return None
        return 1 if negated else 0

    def function(self, e: Function, frame: _Frame, affs: list[str]) -> Any:
        name = e.name
        if name in ("coalesce", "ifnull"):
            for a in e.args:
                v = self.eval(a, frame, affs)
                if v is not None:
                    return v
            return None
        if len(e.args) != 1:
            raise SqlError(f"wrong number of arguments to function {name.upper()}()")
        value = self.eval(e.args[0], frame, affs)
        if name == "abs":
            return V.sql_abs(value)
        if name == "length":
            return V.sql_length(value)
        if name in ("lower", "upper"):
            return V.sql_case(value, upper=name == "upper")
        raise UnsupportedSqlError(f"unsupported SQL construct function {name.upper()}")


# ---------------------------------------------------------------------------- helpers
def _aggregate(func: str, args: list[tuple[Any, tuple]]) -> tuple[Any, tuple | None]:
    """One aggregate over non-NULL (value, row) pairs, as SQLite 3.40's sumStep, avgFinalize,
    minmaxStep: SUM of integers is exact and an overflow is an error; once a real or a
    text that is not an integer appears, the sum is a double accumulated in row order."""
    if func == "count":
        return len(args), None
    if func in ("min", "max"):
        best, best_row = None, None
        for v, r in args:
            if best is None or V.compare(">" if func == "max" else "<", v, best) == 1:
                best, best_row = v, r
        return best, best_row
    count = 0
    rsum = 0.0
    isum = 0
    approx = overflow = False
    for v, _ in args:
        x = V.numeric_type(v)
        count += 1
        if isinstance(x, int):
            rsum += float(x)
            if not (approx or overflow):
                isum += x
                if not V.INT64_MIN <= isum <= V.INT64_MAX:
                    approx = overflow = True
        else:
            rsum += V.real_value(x)
            approx = True
    if func == "total":
        return rsum, None
    if count == 0:
        return None, None
    if func == "avg":
        return rsum / count, None
    if overflow:
        raise SqlOverflowError(
            "integer overflow in SUM: the integers' sum leaves the 64-bit range (SQLite raises "
            "the same error); use TOTAL(...) for a sum in reals"
        )
    return (rsum if approx else isum), None


def _row_key(row: tuple) -> tuple:
    return tuple(V.distinct_key(v) for v in row)


def _width(query: GeneralQuery) -> int:
    while isinstance(query, Compound):
        query = query.left
    return len(query.columns)


def _ordered(query: GeneralQuery) -> bool:
    return bool(query.order_by)


def _collect_aggregates(e: Any, out: list) -> None:
    """The aggregate calls of an expression, not looking into sub-selects."""
    if e is None or isinstance(e, (Column, Literal, Output, Subquery, Exists)):
        return
    if isinstance(e, AggregateCall):
        if all(a is not e for a in out):
            out.append(e)
        return
    if isinstance(e, (Binary,)):
        _collect_aggregates(e.left, out)
        _collect_aggregates(e.right, out)
    elif isinstance(e, (Unary, IsNull)):
        _collect_aggregates(e.operand, out)
    elif isinstance(e, Function):
        for a in e.args:
            _collect_aggregates(a, out)
    elif isinstance(e, InValues):
        _collect_aggregates(e.operand, out)
        for v in e.values:
            _collect_aggregates(v, out)
    elif isinstance(e, InQuery):
        _collect_aggregates(e.operand, out)
    elif isinstance(e, BetweenExpr):
        for x in (e.operand, e.low, e.high):
            _collect_aggregates(x, out)
    elif isinstance(e, LikeExpr):
        _collect_aggregates(e.operand, out)
        _collect_aggregates(e.pattern, out)
    elif isinstance(e, Case):
        _collect_aggregates(e.operand, out)
        for w, t in e.whens:
            _collect_aggregates(w, out)
            _collect_aggregates(t, out)
        _collect_aggregates(e.default, out)


def _has_bare_columns(q: SelectQuery) -> bool:
    """Whether a result column refers to a source column outside an aggregate that is not
    a GROUP BY expression (its value then comes from some row of the group)."""
    grouped = [g for g in q.group_by]

    def bare(e: Any) -> bool:
        if isinstance(e, tuple):
            return any(bare(x) for x in e)
        if not dataclasses.is_dataclass(e) or isinstance(e, (AggregateCall, Subquery, Exists, InQuery)):
            return False
        if any(e == g for g in grouped):
            return False
        if isinstance(e, Column):
            return True
        return any(bare(getattr(e, f.name)) for f in dataclasses.fields(e))

    return any(bare(c) for c in (*q.columns, *(k.expr for k in q.order_by)))


def query_affinities(query: GeneralQuery, table: Table) -> list[str]:
    """The affinity of each result column of a general plan over ``table``."""
    return _Run(table).query_affinities(query)


def run_general(plan: GeneralQuery, table: Table):
    """Execute a general plan: ``(rows, ordered, ambiguity)``; rows are tuples of values."""
    run = _Run(table)
    rows = run.query(plan)
    ambiguity = "; ".join(dict.fromkeys(run.ambiguity)) or None
    return rows, _ordered(plan), ambiguity
