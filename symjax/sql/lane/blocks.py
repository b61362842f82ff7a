"""The batched query lane: all the queries of one stream block in one numba call.

:func:`sample_block` is the one way a block's queries are made, on any table (drawn or
given): one call of the kernel :func:`symjax.sql.lane._kernels.sample_block` draws up to
``num_queries`` distinct, well-defined queries, executes them, renders their SQL as tokens
and, for a table that shows its values, writes the standard SQL and the answers'
canonical text as UTF-8, which Python decodes once and splits. Joining the tokens'
fragments in Python is the branch for the tapex style and for what the kernel leaves to
Python (tables that show other text than their values, reals it cannot print with
certainty), and the reference of the kernel's texts (``tests/test_text_kernels.py``).
The families, their weights and the acceptance rules are asked for with
:class:`symjax.sql.query.families.SamplerConfig`; every plan of the lane decodes
(:func:`decode_plan`) into :mod:`symjax.sql.query.plan` objects on which
:func:`symjax.sql.query.executor.run_plan` and :func:`symjax.sql.query.render.render` give the lane's
answer and text (``tests/test_lane.py``), and SQLite agrees (``tests/test_sqlite_oracle.py``).
"""
from __future__ import annotations

import dataclasses
import threading
from dataclasses import dataclass

import numpy as np

from symjax.errors import ConfigError, SamplingError
from symjax.sql.cell_values import may_leave_exact_range
from symjax.sql.lane import _kernels as LK
from symjax.sql.lane import _layout as LY
from symjax.sql.lane import _strings as LS
from symjax.sql.per_table import PerTable
from symjax.sql.query.families import DIFFICULTIES, FAMILIES, SamplerConfig
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
    SetOperation,
)
from symjax.sql.query.render import render_literal, tapexify
from symjax.sql.table import DATE, INTEGER, REAL, TEXT, TYPE_CODES, Table, format_number
from symjax.sql.text import _text_kernels as TXK
from symjax.sql.text.answers import NULL_VALUE, ROW_VALUE_SEPARATOR, canonical_value

__all__ = ["Block", "sample_block", "sample_query", "decode_plan", "family_cdf"]

_OPS = ("=", "!=", "<", ">", "<=", ">=")  # index = the kernels' OP_EQ .. OP_GE
_AGGS = {1: "count", 2: "sum", 3: "avg", 4: "min", 5: "max"}
_SET_OPS = ("UNION", "INTERSECT", "EXCEPT")  # index = SET_UNION .. SET_EXCEPT
_FIXED_TAPEX = tuple(
    {LY.TK_FROM: "", LY.TK_ROWID: "id"}.get(i, text) for i, text in enumerate(LY.FIXED)
)
assert FAMILIES == LY.FAMILY_NAMES, "families.py and _lane_kernels.py disagree"
assert TYPE_CODES == {TEXT: TXK.C_TEXT, INTEGER: TXK.C_INTEGER, REAL: TXK.C_REAL, DATE: TXK.C_DATE}


def family_cdf(config: SamplerConfig) -> np.ndarray:
    """Cumulative family weights in ``FAMILY_NAMES`` order (the kernels' family ids)."""
    weights = config.weights
    return np.cumsum([float(weights.get(name, 0.0)) for name in LY.FAMILY_NAMES])


# no header: Python writes the texts. Read-only like Table.header_bytes, so that the kernel
# is compiled for one array type
_NO_TEXTS = np.empty(0, dtype=np.uint8)
_NO_TEXTS.setflags(write=False)


class _Prepared:
    """A table's arrays for the kernels and its answer texts, built once per table."""

    # header: Table.header_bytes where the kernel may write the texts (empty: Python joins tokens)
    __slots__ = ("keys", "ints", "types", "sbytes", "soff", "header", "_idents", "_cells",
                 "_quoted")

    def __init__(self, table: Table):
        types, codes, ivals, rvals, nulls = table.arrays()
        self.types = types
        pool = table.pool_bytes()
        texts = table.kernel_texts()
        self.header = _NO_TEXTS if texts is None else texts[1]
        if pool is not None:  # one kernel call
            _, self.sbytes, self.soff, self.keys, self.ints = LS.prepare(
                pool, len(table.strings), types, codes, ivals, rvals, nulls)
        else:  # a string holds a NUL
            m, n = table.num_columns, table.num_rows
            self.sbytes, self.soff = _ranked_strings(table)
            self.keys = np.empty((m, n), dtype=np.float64)
            self.ints = np.zeros((m, n), dtype=np.int64)
            for j, t in enumerate(table.types):
                self.keys[j] = table.sort_keys(j)
                if t == INTEGER:
                    self.ints[j] = table.data[j]
        for j in _inexact_columns(types, ivals, nulls):
            self.keys[j] = np.nan  # shown in the table, never drawn into a query
        self._idents: dict[bool, list[str]] = {}
        self._cells: list[str] | None = None
        # per column, how a literal is made from the shown text: quoted (text, date),
        # as is (integer), or from the value (real: repr; any column with display text)
        self._quoted: list[bool | None] | None = None  # built when Python first joins tokens

    def idents(self, table: Table, tapex: bool) -> list[str]:
        """Token id -> text of the fixed fragments and column identifiers, in a style."""
        base = self._idents.get(tapex)
        if base is None:
            base = list(_FIXED_TAPEX if tapex else LY.FIXED)
            if tapex:
                base.extend(table.header)
            else:
                base.extend('"' + h.replace('"', '""') + '"' for h in table.header)
            self._idents[tapex] = base
        return base

    def literals(self, table: Table, cell_tokens: list[int]) -> list[str | None]:
        """The cell part of the token table (ids from ``COLUMN_BASE + num_columns`` on): the
        literals of the cells in ``cell_tokens``, ``None`` for the others. Literals are the
        same in both styles."""
        n = table.num_rows
        start = LY.COLUMN_BASE + table.num_columns
        out: list[str | None] = [None] * (table.num_columns * n)
        quoted = self._quoted
        if quoted is None:
            quoted = self._quoted = [
                None if table.display[j] is not None or t == REAL else t != INTEGER
                for j, t in enumerate(table.types)
            ]
        for tok in cell_tokens:
            j, i = divmod(tok - start, n)
            if quoted[j] is None:  # a number, or a table that shows other text than values
                out[tok - start] = render_literal(table.column(j)[i])
            else:
                text = table.column_texts(j)[i]
                out[tok - start] = "'" + text.replace("'", "''") + "'" if quoted[j] else text
        return out

    def cells(self, table: Table) -> list[str]:
        """Canonical answer text of every non-NULL cell, at ``j * num_rows + i``."""
        cells = self._cells
        if cells is None:
            cells = []
            for j, t in enumerate(table.types):
                if table.display[j] is None:  # the shown text is the canonical text
                    cells.extend(table.column_texts(j))
                else:
                    cells.extend(NULL_VALUE if v is None else canonical_value(v) for v in table.column(j))
            self._cells = cells
        return cells


def _ranked_strings(table: Table) -> tuple[np.ndarray, np.ndarray]:
    """The table's strings in rank order as the kernels read them, for a pool with a NUL
    inside a string (in that buffer the NUL reads as \\1; no LIKE prefix may contain
    either); ranked in Python (:meth:`Table.strings_by_rank`)."""
    by_rank = [s.replace("\0", "\1") for s in table.strings_by_rank()]
    # a writable copy, as the kernel that ranks the other tables' strings returns them
    ranked = np.frombuffer(("\0".join(by_rank) + "\0").encode("utf-8", "surrogatepass"), dtype=np.uint8).copy()
    return ranked, TXK.string_offsets(ranked, len(by_rank))


def _inexact_columns(types: np.ndarray, ivals: np.ndarray, nulls: np.ndarray) -> list[int]:
    """The integer columns the lane cannot execute on exactly: the kernels order and compare
    cells by float64 keys and add them up in doubles, which hold every integer only below
    2**53. A column whose values, or their sum, may reach that is hidden from the sampler
    (its keys read as NULL, so no family picks it); the table still shows it, and
    :func:`symjax.sql.execute` runs any SQL on it exactly."""
    out = []
    for j in np.flatnonzero(types == TXK.C_INTEGER).tolist():
        if may_leave_exact_range(ivals[j][~nulls[j]]):
            out.append(j)
    return out


_PREPARED: PerTable[_Prepared] = PerTable()  # the tables sampled so far, while they live


def _prepared(table: Table) -> _Prepared:
    prep = _PREPARED.get(table)
    if prep is None:
        prep = _PREPARED[table] = _Prepared(table)
    return prep


@dataclass(slots=True)
class Block:
    """The queries the lane kept on one table, in order.

    ``sql[k]`` (standard style) and ``shown[k]`` (the configured style), ``answers[k]``
    (canonical strings), ``families[k]``, ``ordered[k]``; ``plans`` holds the plan rows,
    decoded on demand by :meth:`plan`."""

    table: Table
    sql: list[str]
    shown: list[str]
    answers: list[tuple[str, ...]]
    families: list[str]
    ordered: list[bool]
    plans: np.ndarray

    def plan(self, k: int) -> Query:
        return decode_plan(self.plans[k], self.table)


_LAST_CONFIG: tuple = (None, -1, None, None)  # config, tries, its arrays (one immutable tuple)


def _config_arrays(config: SamplerConfig, tries: int) -> tuple[np.ndarray, np.ndarray]:
    """The kernel's ``cfg`` and ``cdf`` arrays (cached for the last config used)."""
    global _LAST_CONFIG
    last = _LAST_CONFIG
    if last[0] is config and last[1] == tries:
        return last[2], last[3]
    cfg = np.array(
        [DIFFICULTIES[config.difficulty], config.max_answer_values, int(config.allow_empty),
         int(config.allow_null), config.max_attempts, tries],
        dtype=np.int64,
    )
    cdf = family_cdf(config)
    _LAST_CONFIG = (config, tries, cfg, cdf)
    return cfg, cdf


class _Workspace:
    """Output buffers of the kernel, reused from block to block."""

    __slots__ = ("plans", "meta", "toks", "atoks", "spec", "aspec", "areal", "used")

    def __init__(self, num_queries: int, cap: int):
        self.plans = np.zeros((num_queries, LY.IR_WIDTH), dtype=np.int64)
        self.meta = np.zeros((num_queries, 3), dtype=np.int64)
        # one query's worth of margin: the kernel checks each query's size after writing it
        self.toks = np.zeros((num_queries + 1) * LY.MAX_TOKENS, dtype=np.int64)
        self.atoks = np.zeros(num_queries * cap * 2, dtype=np.int64)  # rows of up to two values
        self.spec = np.zeros(((num_queries + 1) * LY.SPEC_PER_QUERY, 3), dtype=np.int64)
        self.aspec = np.zeros((num_queries * cap * 2, 2), dtype=np.int64)
        self.areal = np.zeros(num_queries * cap * 2, dtype=np.float64)
        self.used = np.zeros((num_queries + 1) * LY.MAX_TOKENS, dtype=np.int64)


_LOCAL = threading.local()  # the kernels release the GIL: one set of buffers per thread


def _workspace(num_queries: int, cap: int) -> _Workspace:
    spaces = getattr(_LOCAL, "spaces", None)
    if spaces is None:
        spaces = _LOCAL.spaces = {}
    ws = spaces.get((num_queries, cap))
    if ws is None:
        if len(spaces) > 16:
            spaces.clear()
        ws = spaces[(num_queries, cap)] = _Workspace(num_queries, cap)
    return ws


def sample_block(
    table: Table, seed: int, config: SamplerConfig, num_queries: int, *, tries: int | None = None,
    sql_style: str = "standard",
) -> Block:
    """Up to ``num_queries`` distinct acceptable queries on ``table``: ``tries`` draws
    (default ``2 * num_queries``) of up to ``config.max_attempts`` attempts each, duplicates
    skipped; ``shown`` in ``sql_style``. A pure function of its arguments.

    One kernel call (:func:`symjax.sql.lane._kernels.sample_block`) samples, executes and
    renders the block; Python joins the tokens' fragments instead where the kernel leaves
    the texts to it (a table that shows other text than its values, a real it cannot print
    with certainty) and for the tapex style."""
    if not isinstance(num_queries, int) or num_queries < 1:
        raise ConfigError(f"num_queries must be an int >= 1, got {num_queries!r}")
    tries = 2 * num_queries if tries is None else tries
    cfg, cdf = _config_arrays(config, tries)
    ws = _workspace(num_queries, config.max_answer_values)
    prep = _prepared(table)
    kept, ntok, nspec, natok, naspec, nused, data, status = LK.sample_block(
        np.uint64(seed & 0xFFFFFFFFFFFFFFFF), prep.keys, prep.ints, prep.types, prep.sbytes, prep.soff,
        prep.header, cfg, cdf, ws.plans, ws.meta, ws.toks, ws.atoks, ws.spec, ws.aspec, ws.areal, ws.used,
    )
    meta = ws.meta[:kept].tolist()
    if status == LY.TEXTS_OK:
        texts = str(data, "utf-8", "surrogatepass").split("\0")
        sql, answers = _split_texts(texts, 0, kept, [row[2] for row in meta])
    else:
        sql = _token_sql(table, prep, ws, meta, ntok, nspec, nused, False)
        answers = _token_answers(table, prep, ws, meta, natok, naspec)
    shown = sql if sql_style != "tapex" else _token_sql(table, prep, ws, meta, ntok, nspec, nused, True)
    plans = ws.plans[:kept].copy()
    for k in np.flatnonzero(plans[:, LY.SELECT_BASE + LY.S_PROJ2] != LY.NO_COLUMN).tolist():
        # several columns: the kernel writes the values row by row
        a = answers[k]
        answers[k] = tuple(ROW_VALUE_SEPARATOR.join(a[i:i + 2]) for i in range(0, len(a), 2))
    families = list(map(_FAMILY_NAME.__getitem__, plans[:, LY.IR_FAMILY].tolist()))
    return Block(table, sql, shown, answers, families, [row[0] == 1 for row in meta], plans)


def sample_query(table: Table, seed: int, config: SamplerConfig | None = None, *,
                 family: str | None = None) -> tuple[str, Query, tuple[str, ...]]:
    """One well-defined query on ``table``: ``(family, plan, answer)``, the first query
    :func:`sample_block` keeps for ``seed`` (``family`` forces a family). Raises
    :class:`SamplingError` when no acceptable query was found in ``config.max_attempts``
    attempts (e.g. a one-row table and ``most_frequent``)."""
    config = config or SamplerConfig()
    if family is not None:
        if family not in FAMILIES:
            raise ConfigError(f"unknown query family {family!r}; valid families: {list(FAMILIES)}")
        config = dataclasses.replace(config, family_weights={family: 1.0})
    got = sample_block(table, seed, config, 1, tries=1)
    if not got.sql:
        raise SamplingError(
            f"no acceptable {family or 'query'} found in {config.max_attempts} attempts on {table!r}; "
            "raise max_attempts, allow_empty, or change the family weights")
    return got.families[0], got.plan(0), got.answers[0]


def _split_texts(texts: list[str], start: int, kept: int, answer_ends: list[int]
                 ) -> tuple[list[str], list[tuple[str, ...]]]:
    """The SQL and answers in ``texts[start:]`` as :func:`LE.render_texts` writes them:
    ``kept`` SQL texts, then the answer values in the order of the answer tokens (query
    ``k``'s end at ``answer_ends[k]``)."""
    sql = texts[start:start + kept]
    ends = [end + kept + start for end in answer_ends]
    answers = list(map(tuple, map(texts.__getitem__, map(slice, [kept + start] + ends[:-1], ends))))
    return sql, answers


_FAMILY_NAME = dict(enumerate(LY.FAMILY_NAMES))


def _token_sql(table: Table, prep: _Prepared, ws: _Workspace, meta: list[list[int]], ntok: int,
               nspec: int, nused: int, tapex: bool) -> list[str]:
    """Each query's SQL joined in Python from its tokens' fragments (the path for the tapex
    style and for what :func:`LE.render_texts` leaves to Python). Token ids: fixed
    fragments and identifiers (per style), cell literals, special literals."""
    tail = prep.literals(table, ws.used[:nused].tolist())
    if nspec:
        tail += _spec_texts(table, ws.spec[:nspec].tolist())
    get = (prep.idents(table, tapex) + tail).__getitem__
    out = _join_each(get, ws.toks[:ntok].tolist(), [row[1] for row in meta])
    return [tapexify(text) for text in out] if tapex else out


def _token_answers(table: Table, prep: _Prepared, ws: _Workspace, meta: list[list[int]], natok: int,
                   naspec: int) -> list[tuple[str, ...]]:
    """Each query's answer looked up in Python from its answer tokens."""
    values = prep.cells(table)
    if naspec:
        values = values + _answer_texts(ws.aspec[:naspec].tolist(), ws.areal[:naspec].tolist())
    get = values.__getitem__
    atoks = ws.atoks[:natok].tolist()
    answers, start = [], 0
    for row in meta:
        end = row[2]
        answers.append(tuple(map(get, atoks[start:end])))
        start = end
    return answers


def _join_each(get, tokens: list[int], ends: list[int]) -> list[str]:
    """The text of each query: its tokens' fragments, joined."""
    out, start = [], 0
    for end in ends:
        out.append("".join(map(get, tokens[start:end])))
        start = end
    return out


def _answer_texts(specs: list[list[int]], reals: list[float]) -> list[str]:
    out = []
    for (kind, value), real in zip(specs, reals):
        if kind == LY.A_INT:
            out.append(str(value))
        elif kind == LY.A_REAL:
            out.append(format_number(real))
        else:
            out.append(NULL_VALUE)
    return out


def _spec_texts(table: Table, specs: list[list[int]]) -> list[str]:
    out = []
    n = table.num_rows
    for kind, x, y in specs:
        if kind == LY.SPEC_INT:
            out.append(str(x))
        elif kind == LY.SPEC_TENTHS:
            out.append(repr(x / 10.0))
        else:
            out.append(render_literal(table.column(x // n)[x % n][:y] + "%"))
    return out


# ---------------------------------------------------------------------------- decoding
def _literal(ir, t: int, q: int, col: int, table: Table):
    kind = int(ir[t + LY.T_LITS + 2 * q])
    v = int(ir[t + LY.T_LITS + 2 * q + 1])
    if kind == LY.L_CELL:
        return Literal(table.column(col)[v])
    if kind == LY.L_INT:
        return Literal(v)
    if kind == LY.L_TENTHS:
        return Literal(v / 10.0)
    raise AssertionError(kind)


def _decode_term(ir, t: int, table: Table):
    kind = int(ir[t + LY.T_KIND])
    col = int(ir[t + LY.T_COL])
    col = ROWID if col == LY.ROWID else col
    if kind == LY.TERM_NULL:
        return NullTest(col, negated=bool(ir[t + LY.T_OP]))
    if kind == LY.TERM_COLUMN:
        return Compare(col, _OPS[int(ir[t + LY.T_OP])], Column(int(ir[t + LY.T_AUX])))
    if kind == LY.TERM_CMP:
        op = _OPS[int(ir[t + LY.T_OP])]
        sc = int(ir[t + LY.T_SCALAR])
        if sc >= 0:
            value = Scalar(_decode_select(ir, LY.SELECT_BASE + sc * LY.SELECT_WIDTH, table),
                           int(ir[t + LY.T_OFFSET]))
        else:
            value = _literal(ir, t, 0, col, table)
        return Compare(col, op, value)
    if kind == LY.TERM_BETWEEN:
        return Between(col, _literal(ir, t, 0, col, table), _literal(ir, t, 1, col, table))
    if kind == LY.TERM_IN:
        return InList(col, tuple(_literal(ir, t, q, col, table) for q in range(int(ir[t + LY.T_NLIT]))))
    row = int(ir[t + LY.T_LITS + 1])
    return Like(col, table.column(col)[row][: int(ir[t + LY.T_AUX])])


def _decode_select(ir, s: int, table: Table) -> Select:
    proj = int(ir[s + LY.S_PROJ])
    expr_at = int(ir[s + LY.S_EXPR_AT])

    def expr(a: int):
        op = "+" if ir[s + LY.S_EXPR_OP] == LY.ARITH_PLUS else "-"
        return ColumnArithmetic(op, a, int(ir[s + LY.S_EXPR_COL]), abs=bool(ir[s + LY.S_EXPR_ABS]))

    if proj == LY.PROJ_AGGREGATE:
        agg = int(ir[s + LY.S_AGG])
        if agg == 0:
            project = Aggregate("count", None)
        else:
            col = int(ir[s + LY.S_AGG_COL])
            project = Aggregate(_AGGS[agg], expr(col) if expr_at == LY.EXPR_AGG else col,
                                distinct=bool(ir[s + LY.S_AGG_DISTINCT]))
    elif expr_at == LY.EXPR_PROJ:
        project = expr(proj)
    else:
        project = Column(ROWID if proj == LY.ROWID else proj)
    if ir[s + LY.S_PROJ2] != LY.NO_COLUMN:
        project = (project, Column(int(ir[s + LY.S_PROJ2])))
    terms = [_decode_term(ir, s + LY.S_TERMS + k * LY.TERM_WIDTH, table) for k in range(int(ir[s + LY.S_NTERMS]))]
    where = None
    if len(terms) == 1:
        where = terms[0]
    elif terms:
        where = Or(tuple(terms)) if ir[s + LY.S_CONJ] == LY.CONJ_OR else And(tuple(terms))
    group = int(ir[s + LY.S_GROUP])
    having = None
    if ir[s + LY.S_HAVING_OP] >= 0:
        hagg = int(ir[s + LY.S_HAVING_AGG])
        aggregate = (Aggregate("count", None) if hagg == 0
                     else Aggregate(_AGGS[hagg], int(ir[s + LY.S_HAVING_COL])))
        having = Having(aggregate, _OPS[int(ir[s + LY.S_HAVING_OP])], Literal(int(ir[s + LY.S_HAVING_N])))
    order = int(ir[s + LY.S_ORDER])
    order_by = None
    if order == LY.ORDER_COLUMN:
        ocol = int(ir[s + LY.S_ORDER_COL])
        key = expr(ocol) if expr_at == LY.EXPR_ORDER else Column(ocol)
        order_by = OrderBy(key, descending=bool(ir[s + LY.S_DESC]))
    elif order == LY.ORDER_COUNT:
        order_by = OrderBy(Aggregate("count", None), descending=bool(ir[s + LY.S_DESC]))
    elif order == LY.ORDER_COUNT_COLUMN:
        order_by = OrderBy(Aggregate("count", int(ir[s + LY.S_ORDER_COL])), descending=bool(ir[s + LY.S_DESC]))
    limit = int(ir[s + LY.S_LIMIT])
    return Select(
        project,
        where=where,
        distinct=bool(ir[s + LY.S_DISTINCT]),
        group_by=None if group == LY.NO_GROUP else group,
        having=having,
        order_by=order_by,
        limit=None if limit == LY.NO_LIMIT else limit,
    )


def decode_plan(ir: np.ndarray, table: Table) -> Query:
    """The :mod:`symjax.sql.query.plan` objects of one plan row written by the lane."""
    kind = int(ir[LY.IR_KIND])
    if kind == LY.Q_SELECT:
        return _decode_select(ir, LY.SELECT_BASE, table)
    first = _decode_select(ir, LY.SELECT_BASE + LY.SELECT_WIDTH, table)
    second = _decode_select(ir, LY.SELECT_BASE + 2 * LY.SELECT_WIDTH, table)
    if kind == LY.Q_SET:
        return SetOperation(_SET_OPS[int(ir[LY.IR_OP])], first, second)
    left, right = Scalar(first), Scalar(second)
    if kind == LY.Q_ARITHMETIC:
        op = int(ir[LY.IR_OP])
        return Arithmetic("+" if op == LY.ARITH_PLUS else "-", left, right, abs=op == LY.ARITH_ABS_MINUS)
    return Comparison(_OPS[int(ir[LY.IR_OP])], left, right)
