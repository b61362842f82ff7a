"""Execute query plans on the numba kernels, with SQLite's semantics.

:func:`run_plan` dispatches on the plan's step types, compiles ``WHERE`` clauses into the
kernels' postfix programs, coerces literals the way SQLite applies column affinity, and
decodes keys back into Python values. It also reports *ambiguity*: whether the result
depends on behaviour SQL leaves unspecified (ties under ``ORDER BY ... LIMIT``, which row a
multi-row scalar sub-select yields, ``LIMIT`` without ``ORDER BY``, a computed real that
sits on a rounding boundary where summation order could flip the printed digits). The
sampler rejects every ambiguous query, so each generated example has exactly one answer.

:func:`execute` is the public entry point for external SQL: it parses the text with
sqlglot into the same plan (see :mod:`symjax.sql.query.parse`) and returns the canonical answer.
SQL the step plans cannot express becomes a general plan, run by
:mod:`symjax.sql.query.general` with SQLite's value semantics. A step plan also goes there
when the kernels' float64 keys could not hold its values exactly: a table whose integers
are so large that a value or a sum passes 2**53, or an integer literal that large; integers
then stay exact and an overflowing SUM raises :class:`~symjax.errors.SqlOverflowError`,
as in SQLite.
"""
from __future__ import annotations

import bisect
import math
from dataclasses import dataclass
from typing import Any

import numpy as np

from symjax.errors import SqlError, UnsupportedSqlError
from symjax.sql.cell_values import EXACT_INT_LIMIT, may_leave_exact_range
from symjax.sql.per_table import PerTable
from symjax.sql.query import _kernels as K
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
    Having,
    InList,
    Like,
    Literal,
    NullTest,
    Or,
    OrderBy,
    Query,
    Scalar,
    Select,
    SelectQuery,
    SetOperation,
)
from symjax.sql.table import INTEGER, REAL, TEXT, Table, date_to_int
from symjax.sql.text.answers import canonical_answer

__all__ = ["Result", "run_plan", "execute", "execute_plan"]

assert ROWID == K.ROWID_COLUMN, "plan.ROWID and the kernels' ROWID_COLUMN disagree"
_CMP_CODES = {"=": K.OP_EQ, "!=": K.OP_NE, "<": K.OP_LT, ">": K.OP_GT, "<=": K.OP_LE, ">=": K.OP_GE}
_AGG_CODES = {"count": K.AGG_COUNT, "sum": K.AGG_SUM, "avg": K.AGG_AVG, "min": K.AGG_MIN, "max": K.AGG_MAX}
_ASCII_FOLD = str.maketrans("ABCDEFGHIJKLMNOPQRSTUVWXYZ", "abcdefghijklmnopqrstuvwxyz")
_EMPTY_F = np.zeros(0, dtype=np.float64)


@dataclass(slots=True)
class Result:
    """The result's values (one per row; a tuple per row when the query has several
    columns), whether their order is defined, and why the result is ambiguous (``None``
    when it is not)."""

    values: list[Any]
    ordered: bool
    ambiguity: str | None = None

    @property
    def answer(self) -> tuple[str, ...]:
        return canonical_answer(self.values, ordered=self.ordered)


class _TableArrays:
    """Per-table arrays the kernels read, built once and cached on the table."""

    __slots__ = ("keys", "ints", "is_integer", "rank_of", "by_rank", "folded", "exact")

    def __init__(self, table: Table):
        n, m = table.num_rows, table.num_columns
        self.keys = np.empty((m, n), dtype=np.float64)
        self.ints = np.zeros((m, n), dtype=np.int64)
        self.is_integer = [t == INTEGER for t in table.types]
        # The kernels compare float64 keys and sum in int64: exact while no integer, nor
        # the sum of a column's integers, passes 2**53.
        self.exact = True
        for j in range(m):
            self.keys[j] = table.sort_keys(j)
            if self.is_integer[j]:
                self.ints[j] = table.data[j]
                if may_leave_exact_range(self.ints[j]):
                    self.exact = False
        self.by_rank = table.strings_by_rank()
        self.rank_of = {s: float(r) for r, s in enumerate(self.by_rank)}
        self.folded: list[str] | None = None


_ARRAYS: PerTable[_TableArrays] = PerTable()  # each table's arrays for the kernels, while it lives


def _arrays(table: Table) -> _TableArrays:
    arrays = _ARRAYS.get(table)
    if arrays is None:
        arrays = _ARRAYS[table] = _TableArrays(table)
    return arrays


class _Context:
    __slots__ = ("table", "arrays", "ambiguity")

    def __init__(self, table: Table, arrays: _TableArrays):
        self.table = table
        self.arrays = arrays
        self.ambiguity: list[str] = []


# ---------------------------------------------------------------------------- literals
def _sqlite_numeric(text: str) -> float | None:
    """The number SQLite's numeric affinity makes of a text literal, or None."""
    s = text.strip()
    try:
        x = float(s)
    except ValueError:
        return None
    if not math.isfinite(x) or "_" in s or s.lower() in ("inf", "nan", "infinity"):
        return None
    return x


def literal_key(ctx: _Context, column: int, value: Any) -> float:
    """The key a literal compares as against ``column``, with SQLite's affinity rules."""
    if value is None:
        return math.nan
    if column == ROWID:
        if isinstance(value, str):
            x = _sqlite_numeric(value)
            return math.inf if x is None else x
        return float(value)
    t = ctx.table.types[column]
    if t == TEXT:
        if not isinstance(value, str):
            # TEXT affinity turns a numeric operand into its text.
            value = str(value) if isinstance(value, int) else repr(float(value))
        r = ctx.arrays.rank_of.get(value)
        if r is not None:
            return r
        return bisect.bisect_left(ctx.arrays.by_rank, value) - 0.5
    if t in (INTEGER, REAL):
        if isinstance(value, str):
            x = _sqlite_numeric(value)
            # A text that is not a number sorts after every number in SQLite.
            return math.inf if x is None else x
        return float(value)
    # DATE: stored as ISO text
    if isinstance(value, str):
        try:
            return float(date_to_int(value))
        except ValueError:
            pass
    raise UnsupportedSqlError(
        f"comparing date column {ctx.table.header[column]!r} with {value!r}: only ISO "
        "date literals 'YYYY-MM-DD' are supported against date columns"
    )


def _like_ranks(ctx: _Context, column: int, prefix: str) -> np.ndarray:
    if column == ROWID or ctx.table.types[column] != TEXT:
        name = "rowid" if column == ROWID else ctx.table.header[column]
        raise UnsupportedSqlError(f"LIKE on non-text column {name!r}; LIKE applies to text columns only")
    arrays = ctx.arrays
    if arrays.folded is None:
        arrays.folded = [s.translate(_ASCII_FOLD) for s in arrays.by_rank]
    p = prefix.translate(_ASCII_FOLD)
    return np.array([r for r, s in enumerate(arrays.folded) if s.startswith(p)], dtype=np.float64)


# ---------------------------------------------------------------------------- WHERE
class _Program:
    """A WHERE clause compiled for the kernels: ``codes[k] = (op, column)``,
    ``operands[k] = (a, b)``, and the values of IN lists."""

    __slots__ = ("codes", "operands", "size", "in_values")

    def __init__(self, capacity: int = 8):
        self.codes = np.empty((capacity, 2), dtype=np.int64)
        self.operands = np.empty((capacity, 2), dtype=np.float64)
        self.size = 0
        self.in_values: list[float] = []

    def leaf(self, op: int, col: int, a: float = 0.0, b: float = 0.0) -> None:
        k = self.size
        if k == len(self.codes):
            self.codes = np.concatenate([self.codes, np.empty_like(self.codes)])
            self.operands = np.concatenate([self.operands, np.empty_like(self.operands)])
        self.codes[k, 0] = op
        self.codes[k, 1] = col
        self.operands[k, 0] = a
        self.operands[k, 1] = b
        self.size = k + 1

    def arrays(self):
        n = self.size
        inv = np.array(self.in_values, dtype=np.float64) if self.in_values else _EMPTY_F
        return self.codes[:n], self.operands[:n], inv


_NO_PROGRAM = (np.zeros((0, 2), dtype=np.int64), np.zeros((0, 2), dtype=np.float64), np.zeros(0))


def _emit(ctx: _Context, pred: Any, prog: _Program) -> None:
    if isinstance(pred, Compare):
        if isinstance(pred.value, Scalar):
            key, fragile = _scalar_key(ctx, pred.column, pred.value)
            if key != key:
                prog.leaf(K.OP_FALSE, 0)
                return
            if fragile:
                _check_fragile_threshold(ctx, pred.column, key)
        else:
            key = literal_key(ctx, pred.column, pred.value.value)
        prog.leaf(_CMP_CODES[pred.op], pred.column, key)
    elif isinstance(pred, Between):
        lo = literal_key(ctx, pred.column, pred.low.value)
        hi = literal_key(ctx, pred.column, pred.high.value)
        prog.leaf(K.OP_BETWEEN, pred.column, lo, hi)
    elif isinstance(pred, InList):
        start = len(prog.in_values)
        prog.in_values.extend(literal_key(ctx, pred.column, v.value) for v in pred.values)
        prog.leaf(K.OP_IN, pred.column, float(start), float(len(prog.in_values)))
    elif isinstance(pred, Like):
        ranks = _like_ranks(ctx, pred.column, pred.prefix)
        start = len(prog.in_values)
        prog.in_values.extend(ranks.tolist())
        prog.leaf(K.OP_IN, pred.column, float(start), float(len(prog.in_values)))
    elif isinstance(pred, (And, Or)):
        if not pred.terms:
            raise SqlError("empty AND/OR")
        _emit(ctx, pred.terms[0], prog)
        code = K.OP_AND if isinstance(pred, And) else K.OP_OR
        for term in pred.terms[1:]:
            _emit(ctx, term, prog)
            prog.leaf(code, 0)
    else:
        raise UnsupportedSqlError(f"predicate {type(pred).__name__} is not supported")


def compile_where(ctx: _Context, where: Any):
    """The kernels' (codes, operands, in_values) of a WHERE clause (None: keep all rows)."""
    if where is None:
        return _NO_PROGRAM
    prog = _Program()
    _emit(ctx, where, prog)
    return prog.arrays()


# ---------------------------------------------------------------------------- values
def _decode(ctx: _Context, column: int, key: float) -> Any:
    if key != key:
        return None
    if column == ROWID:
        return int(key)
    return ctx.table.value_from_key(column, key)


def _column_keys(ctx: _Context, column: int) -> np.ndarray:
    return K.column_keys(ctx.arrays.keys, column)  # plan.ROWID is K.ROWID_COLUMN


def _aggregate(ctx: _Context, agg: Aggregate, program) -> tuple[Any, bool]:
    """Value of an aggregate over the rows a compiled WHERE keeps, and whether it is a
    computed real."""
    arrays = ctx.arrays
    if agg.column is None:
        if agg.func != "count":
            raise UnsupportedSqlError(f"{agg.func.upper()}(*) is not valid SQL; only COUNT(*) takes *")
        _, c, _ = K.select_aggregate(arrays.keys, arrays.ints, False, *program, 0, K.AGG_COUNT_STAR, False)
        return int(c), False
    col = agg.column
    if agg.distinct and agg.func != "count":
        raise UnsupportedSqlError(f"{agg.func.upper()}(DISTINCT ...) is not supported; only COUNT(DISTINCT ...)")
    if col == ROWID:
        is_int, t = True, INTEGER
    else:
        is_int, t = arrays.is_integer[col], ctx.table.types[col]
    if agg.func in ("sum", "avg") and t not in (INTEGER, REAL):
        raise UnsupportedSqlError(
            f"{agg.func.upper()} over {t} column {ctx.table.header[col]!r}: SUM and AVG are "
            "supported on integer and real columns only"
        )
    value, ivalue, count = K.select_aggregate(
        arrays.keys, arrays.ints, is_int, *program, col, _AGG_CODES[agg.func], agg.distinct
    )
    if agg.func == "count":
        return int(ivalue), False
    if count == 0:
        return None, False
    if agg.func == "sum":
        return (int(ivalue), False) if is_int else (float(value), True)
    if agg.func == "avg":
        return float(value), not is_int
    return _decode(ctx, col, value), False


def _check_fragile_threshold(ctx: _Context, column: int, key: float) -> None:
    keys = _column_keys(ctx, column)
    valid = keys[~np.isnan(keys)]
    if valid.size and np.min(np.abs(valid - key)) <= 1e-9 * max(1.0, abs(key)):
        ctx.ambiguity.append("a column value equals a computed real up to rounding error")


# ---------------------------------------------------------------------------- SELECT
def _run_select(ctx: _Context, sel: Select) -> tuple[list[Any], bool, bool]:
    """Returns (values, ordered, fragile) of one SELECT."""
    program = compile_where(ctx, sel.where)
    if sel.having is not None and sel.group_by is None:
        raise UnsupportedSqlError("HAVING without GROUP BY is not supported")
    if sel.group_by is not None:
        return _run_grouped(ctx, sel, program)
    if isinstance(sel.project, Aggregate):
        value, fragile = _aggregate(ctx, sel.project, program)
        values = [value]
        if sel.limit is not None and sel.limit <= 0:
            values = []
        return values, False, fragile
    col = sel.project.index
    if sel.order_by is not None:
        if not isinstance(sel.order_by.expr, Column):
            raise UnsupportedSqlError("ORDER BY an aggregate needs GROUP BY")
        ocol = sel.order_by.expr.index
        idx = K.select_rows(ctx.arrays.keys, *program, ocol, sel.order_by.descending)
    else:
        ocol = None
        idx = K.select_rows(ctx.arrays.keys, *program, -2, False)
    pkeys = _column_keys(ctx, col)
    if sel.distinct:
        if ocol is not None and ocol != col:
            raise UnsupportedSqlError("SELECT DISTINCT with ORDER BY another column is not supported")
        seen: set = set()
        keep = []
        for i in idx.tolist():
            k = pkeys[i]
            k = None if k != k else float(k)
            if k not in seen:
                seen.add(k)
                keep.append(i)
        idx = np.asarray(keep, dtype=np.int64)
    n_out = len(idx) if sel.limit is None else max(0, min(sel.limit, len(idx)))
    if sel.limit is not None and len(idx) > n_out:
        if ocol is None:
            ctx.ambiguity.append("LIMIT without ORDER BY picks unspecified rows")
    rows = idx.tolist()
    if ocol is not None and n_out > 0:
        _check_ties(ctx, _column_keys(ctx, ocol)[idx], pkeys[idx], n_out)
    if col == ROWID:
        values = [i + 1 for i in rows[:n_out]]
    else:
        column = ctx.table.column(col)  # the decoded Python values, cached on the table
        values = [column[i] for i in rows[:n_out]]
    return values, ocol is not None, False


def _check_ties(ctx: _Context, okeys: np.ndarray, pkeys: np.ndarray, n_out: int) -> None:
    """Ambiguous if rows tied on the sort key, of which some are in the output, project
    different values (another tie-break would print something else)."""
    if K.ties_ambiguous(np.ascontiguousarray(okeys, dtype=np.float64),
                        np.ascontiguousarray(pkeys, dtype=np.float64), n_out):
        ctx.ambiguity.append("ties under ORDER BY make the order or the rows kept unspecified")


def _run_grouped(ctx: _Context, sel: Select, program) -> tuple[list[Any], bool, bool]:
    g = sel.group_by
    gkeys, counts, _first = K.select_groups(ctx.arrays.keys, *program, g)
    keep = np.ones(len(gkeys), dtype=np.bool_)
    if sel.having is not None:
        agg = sel.having.aggregate
        if not (agg.func == "count" and agg.column is None):
            raise UnsupportedSqlError("HAVING supports COUNT(*) only")
        target = float(sel.having.value.value)
        op = sel.having.op
        c = counts.astype(np.float64)
        keep = {"=": c == target, "!=": c != target, "<": c < target, ">": c > target,
                "<=": c <= target, ">=": c >= target}[op]
    gkeys, counts = gkeys[keep], counts[keep]
    proj = sel.project
    if isinstance(proj, Column):
        if proj.index != g:
            raise UnsupportedSqlError(
                "a grouped query may project only its GROUP BY column or COUNT(*); "
                f"got column {proj.index}"
            )
        pvals = gkeys
    elif isinstance(proj, Aggregate) and proj.func == "count" and proj.column is None:
        pvals = counts.astype(np.float64)
    else:
        raise UnsupportedSqlError("a grouped query may project only its GROUP BY column or COUNT(*)")
    ordered = sel.order_by is not None
    order = np.arange(len(gkeys))
    if ordered:
        expr = sel.order_by.expr
        if isinstance(expr, Aggregate) and expr.func == "count" and expr.column is None:
            okeys = counts.astype(np.float64)
        elif isinstance(expr, Column) and expr.index == g:
            okeys = np.where(np.isnan(gkeys), -np.inf, gkeys)
        else:
            raise UnsupportedSqlError("a grouped query may be ordered by COUNT(*) or its GROUP BY column")
        sk = -okeys if sel.order_by.descending else okeys
        order = np.argsort(sk, kind="mergesort")
        okeys = okeys[order]
    pvals = pvals[order]
    n_out = len(pvals) if sel.limit is None else max(0, min(sel.limit, len(pvals)))
    if ordered and n_out > 0:
        _check_ties(ctx, okeys, pvals, n_out)
    elif sel.limit is not None and len(pvals) > n_out:
        ctx.ambiguity.append("LIMIT without ORDER BY picks unspecified groups")
    if isinstance(proj, Column):
        values = [_decode(ctx, g, k) for k in pvals[:n_out].tolist()]
    else:
        values = [int(k) for k in pvals[:n_out].tolist()]
    return values, ordered, False


def _scalar(ctx: _Context, scalar: Scalar) -> tuple[Any, bool]:
    values, _, fragile = _run_select(ctx, scalar.query)
    if len(values) > 1:
        ctx.ambiguity.append(f"a scalar sub-select returned {len(values)} rows")
    value = values[0] if values else None
    if scalar.offset and value is not None:
        if isinstance(value, str):
            raise UnsupportedSqlError(f"adding {scalar.offset} to the text value {value!r}")
        value = value + scalar.offset
    return value, fragile


def _scalar_key(ctx: _Context, column: int, scalar: Scalar) -> tuple[float, bool]:
    value, fragile = _scalar(ctx, scalar)
    if value is None:
        return math.nan, False
    return literal_key(ctx, column, value), fragile


def _sql_compare(op: str, a: Any, b: Any) -> int:
    # SQLite: numbers sort before text.
    if isinstance(a, str) != isinstance(b, str):
        a, b = (0, 1) if not isinstance(a, str) else (1, 0)
    return int({"=": a == b, "!=": a != b, "<": a < b, ">": a > b, "<=": a <= b, ">=": a >= b}[op])


def _has_large_literal(node: Any) -> bool:
    """Whether a step plan holds an integer literal the kernels' float64 keys round."""
    if isinstance(node, Literal):
        return isinstance(node.value, int) and abs(node.value) >= EXACT_INT_LIMIT
    if isinstance(node, (list, tuple)):
        return any(_has_large_literal(x) for x in node)
    if hasattr(node, "__dataclass_fields__"):
        return any(_has_large_literal(getattr(node, f)) for f in node.__dataclass_fields__)
    return False


def _beyond_steps(node: Any) -> bool:
    """Whether a step plan uses what the step kernels do not run: column arithmetic, NULL
    tests, column-to-column comparisons, several columns, ``ABS`` of a difference, set
    operations, ``HAVING``/``ORDER BY`` on aggregates other than ``COUNT(*)``. The general
    path runs those (:func:`_lower`)."""
    if isinstance(node, (ColumnArithmetic, NullTest, SetOperation)):
        return True
    if isinstance(node, Compare) and isinstance(node.value, Column):
        return True
    if isinstance(node, Select) and isinstance(node.project, tuple):
        return True
    if isinstance(node, Arithmetic) and node.abs:
        return True
    if isinstance(node, Having) and node.aggregate.column is not None:
        return True
    if isinstance(node, OrderBy) and isinstance(node.expr, Aggregate) and node.expr.column is not None:
        return True
    if isinstance(node, (list, tuple)):
        return any(_beyond_steps(x) for x in node)
    if hasattr(node, "__dataclass_fields__"):
        return any(_beyond_steps(getattr(node, f)) for f in node.__dataclass_fields__)
    return False


def _lower(plan: Query, table: Table):
    """A step plan as the general plan of the same SQL."""
    import sqlglot

    from symjax.sql.query.parse_general import parse_general
    from symjax.sql.query.render import render

    return parse_general(sqlglot.parse_one(render(plan, table.header), read="sqlite"), table)


def _run_general(plan: Any, table: Table) -> Result:
    from symjax.sql.query.general import run_general

    rows, ordered, ambiguity = run_general(plan, table)
    width = len(rows[0]) if rows else 1
    values = [r[0] for r in rows] if width == 1 else rows
    return Result(values, ordered, ambiguity)


def run_plan(plan: Query, table: Table) -> Result:
    """Execute a plan on a table; see :class:`Result`."""
    if isinstance(plan, (SelectQuery, Compound)):
        return _run_general(plan, table)
    arrays = _arrays(table)
    if not arrays.exact or _has_large_literal(plan) or _beyond_steps(plan):
        return _run_general(_lower(plan, table), table)
    try:
        return _run_steps(plan, table, arrays)
    except UnsupportedSqlError:  # a step the kernels do not run (HAVING SUM(...), ...)
        return _run_general(_lower(plan, table), table)


def _run_steps(plan: Query, table: Table, arrays: _TableArrays) -> Result:
    """A step plan on the numba kernels."""
    ctx = _Context(table, arrays)
    fragile = False
    if isinstance(plan, Select):
        values, ordered, fragile = _run_select(ctx, plan)
    elif isinstance(plan, Arithmetic):
        left, fl = _scalar(ctx, plan.left)
        right, fr = _scalar(ctx, plan.right)
        fragile = fl or fr
        ordered = False
        if left is None or right is None:
            values = [None]
        elif isinstance(left, str) or isinstance(right, str):
            raise UnsupportedSqlError(f"arithmetic on text values {left!r} {plan.op} {right!r}")
        else:
            values = [left + right if plan.op == "+" else left - right]
    elif isinstance(plan, Comparison):
        left, fl = _scalar(ctx, plan.left)
        right, fr = _scalar(ctx, plan.right)
        ordered = False
        if left is None or right is None:
            values = [None]
        else:
            if (fl or fr) and not isinstance(left, str) and not isinstance(right, str):
                if abs(left - right) <= 1e-9 * max(1.0, abs(left), abs(right)):
                    ctx.ambiguity.append("comparing computed reals that are equal up to rounding error")
            values = [_sql_compare(plan.op, left, right)]
    else:
        raise UnsupportedSqlError(f"cannot execute a {type(plan).__name__}")
    if fragile:
        for v in values:
            if isinstance(v, float) and K.near_rounding_boundary(v):
                ctx.ambiguity.append(f"computed real {v!r} lies on a rounding boundary")
                break
    return Result(values, ordered, "; ".join(ctx.ambiguity) or None)


def execute_plan(plan: Query, table: Table) -> tuple[str, ...]:
    """The canonical answer of a plan on a table."""
    return run_plan(plan, table).answer


def execute(sql: str | Query, table: Table) -> tuple[str, ...]:
    """Run SQL text (parsed with sqlglot into a plan) or a plan; the canonical answer.

    Raises :class:`UnsupportedSqlError` naming the construct for SQL outside the supported
    subset, and :class:`SqlError` naming the fragment for malformed SQL or unknown columns.
    """
    from symjax.sql.query.parse import deep_recursion, parse_sql

    plan = parse_sql(sql, table) if isinstance(sql, str) else sql
    with deep_recursion():
        return execute_plan(plan, table)
