"""The batched query lane: all the queries of one stream block in one numba call.

:func:`sample_block` draws up to ``num_queries`` distinct, well-defined queries on a table,
executes them and renders their SQL inside :func:`symjax.sql._lane_kernels.sample_block`;
Python only joins pre-rendered fragments (column identifiers, cell literals) into text and
looks up the canonical text of answer cells. The families, their weights and the
acceptance rules are those of :mod:`symjax.sql.families` (:class:`SamplerConfig`), whose
per-query Python sampler stays the reference: every plan of the lane decodes
(:func:`decode_plan`) into :mod:`symjax.sql.plan` objects on which
:func:`symjax.sql.executor.run_plan` and :func:`symjax.sql.render.render` give the lane's
answer and text (``tests/test_lane.py``), and SQLite agrees (``tests/test_sqlite_oracle.py``).
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from symjax.errors import ConfigError
from symjax.sql import _lane_kernels as LK
from symjax.sql.answers import NULL_VALUE
from symjax.sql.families import DIFFICULTIES, FAMILIES, SamplerConfig
from symjax.sql.plan import (
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
from symjax.sql.render import _tapexify, render_literal
from symjax.sql.table import DATE, INTEGER, REAL, TEXT, Table, format_number

__all__ = ["Block", "sample_block", "decode_plan", "family_cdf"]

_TYPE_CODES = {TEXT: LK.C_TEXT, INTEGER: LK.C_INTEGER, REAL: LK.C_REAL, DATE: LK.C_DATE}
_OPS = ("=", "!=", "<", ">", "<=", ">=")  # index = the kernels' OP_EQ .. OP_GE
_AGGS = {1: "count", 2: "sum", 3: "avg", 4: "min", 5: "max"}
_FIXED_TAPEX = tuple(
    {LK.TK_FROM: "", LK.TK_ROWID: "id"}.get(i, text) for i, text in enumerate(LK.FIXED)
)
assert tuple(sorted(FAMILIES)) == LK.FAMILY_NAMES, "families.py and _lane_kernels.py disagree"


def family_cdf(config: SamplerConfig) -> np.ndarray:
    """Cumulative family weights in ``FAMILY_NAMES`` order (the kernels' family ids)."""
    weights = config.weights
    return np.cumsum([float(weights.get(name, 0.0)) for name in LK.FAMILY_NAMES])


class _Prepared:
    """A table's arrays for the kernels and its text fragments, built once per table."""

    __slots__ = ("keys", "ints", "is_int", "types", "sbytes", "soff", "_frags", "_cells")

    def __init__(self, table: Table):
        m, n = table.num_columns, table.num_rows
        keys = np.empty((m, n), dtype=np.float64)
        ints = np.zeros((m, n), dtype=np.int64)
        for j, t in enumerate(table.types):
            keys[j] = table.sort_keys(j)
            if t == INTEGER:
                ints[j] = table.data[j]
        self.keys = keys
        self.ints = ints
        self.is_int = np.array([t == INTEGER for t in table.types], dtype=np.bool_)
        self.types = np.array([_TYPE_CODES[t] for t in table.types], dtype=np.int64)
        encoded = [s.encode("utf-8") for s in table.strings_by_rank()]
        self.soff = np.zeros(len(encoded) + 1, dtype=np.int64)
        if encoded:
            np.cumsum([len(b) for b in encoded], out=self.soff[1:])
        self.sbytes = np.frombuffer(b"".join(encoded) or b"\0", dtype=np.uint8)
        self._frags: dict[bool, list[str]] = {}
        self._cells: list[str] | None = None

    def fragments(self, table: Table, tapex: bool) -> list[str]:
        """Token id -> text: fixed fragments, column identifiers, cell literals."""
        frags = self._frags.get(tapex)
        if frags is None:
            frags = list(_FIXED_TAPEX if tapex else LK.FIXED)
            if tapex:
                frags.extend(table.header)
            else:
                frags.extend('"' + h.replace('"', '""') + '"' for h in table.header)
            for j, t in enumerate(table.types):
                col = table.column(j)
                if t == TEXT or t == DATE:
                    frags.extend("" if v is None else "'" + v.replace("'", "''") + "'" for v in col)
                elif t == INTEGER:
                    frags.extend("" if v is None else str(v) for v in col)
                else:
                    frags.extend("" if v is None else repr(v) for v in col)
            self._frags[tapex] = frags
        return frags

    def cells(self, table: Table) -> list[str]:
        """Canonical answer text of every cell, ``j * num_rows + i``."""
        cells = self._cells
        if cells is None:
            cells = []
            for j, t in enumerate(table.types):
                col = table.column(j)
                if t == REAL:
                    cells.extend(NULL_VALUE if v is None else format_number(v) for v in col)
                elif t == INTEGER:
                    cells.extend(NULL_VALUE if v is None else str(v) for v in col)
                else:
                    cells.extend(NULL_VALUE if v is None else v for v in col)
            self._cells = cells
        return cells


def _prepared(table: Table) -> _Prepared:
    prep = table._cache.get("lane")
    if prep is None:
        prep = table._cache["lane"] = _Prepared(table)
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


def _config_array(config: SamplerConfig, tries: int) -> np.ndarray:
    return np.array(
        [DIFFICULTIES[config.difficulty], config.max_answer_values, int(config.allow_empty),
         int(config.allow_null), config.max_attempts, tries],
        dtype=np.int64,
    )


def sample_block(
    table: Table, seed: int, config: SamplerConfig, num_queries: int, *, tries: int | None = None,
    sql_style: str = "standard",
) -> Block:
    """Up to ``num_queries`` distinct acceptable queries on ``table``: ``tries`` draws
    (default ``2 * num_queries``) of up to ``config.max_attempts`` attempts each, duplicates
    skipped. A pure function of its arguments."""
    if num_queries < 1:
        raise ConfigError(f"num_queries must be >= 1, got {num_queries!r}")
    tries = 2 * num_queries if tries is None else tries
    prep = _prepared(table)
    (kept, plans, nvals, ordered, akind, aint, areal, toks, tok_end,
     spec_kind, spec_a, spec_b) = LK.sample_block(
        np.uint64(seed & 0xFFFFFFFFFFFFFFFF), prep.keys, prep.ints, prep.is_int, prep.types,
        prep.sbytes, prep.soff, _config_array(config, tries), family_cdf(config), num_queries,
    )
    tapex = sql_style == "tapex"
    frags = prep.fragments(table, False)
    if len(spec_kind):
        specs = _spec_texts(table, spec_kind, spec_a, spec_b)
        frags = frags + specs
    tok_list = toks.tolist()
    bounds = [0] + tok_end.tolist()
    get = frags.__getitem__
    sql = ["".join(map(get, tok_list[bounds[k]:bounds[k + 1]])) for k in range(kept)]
    if tapex:
        tfrags = prep.fragments(table, True)
        if len(spec_kind):
            tfrags = tfrags + specs
        get = tfrags.__getitem__
        shown = [_tapexify("".join(map(get, tok_list[bounds[k]:bounds[k + 1]]))) for k in range(kept)]
    else:
        shown = sql
    cells = prep.cells(table)
    answers = []
    kinds, ivals = akind.tolist(), aint.tolist()
    for k, nv in enumerate(nvals.tolist()):
        kk, iv = kinds[k], ivals[k]
        if nv == 1 and kk[0] == LK.A_CELL:
            answers.append((cells[iv[0]],))
            continue
        out = []
        for q in range(nv):
            kind = kk[q]
            if kind == LK.A_CELL:
                out.append(cells[iv[q]])
            elif kind == LK.A_INT:
                out.append(str(iv[q]))
            elif kind == LK.A_REAL:
                out.append(format_number(float(areal[k, q])))
            else:
                out.append(NULL_VALUE)
        answers.append(tuple(out))
    names = LK.FAMILY_NAMES
    families = [names[f] for f in plans[:, LK.IR_FAMILY].tolist()]
    return Block(table, sql, shown, answers, families, ordered.tolist(), plans)


def _spec_texts(table: Table, kinds: np.ndarray, a: np.ndarray, b: np.ndarray) -> list[str]:
    out = []
    n = table.num_rows
    for kind, x, y in zip(kinds.tolist(), a.tolist(), b.tolist()):
        if kind == LK.SPEC_INT:
            out.append(str(x))
        elif kind == LK.SPEC_TENTHS:
            out.append(repr(x / 10.0))
        else:
            out.append(render_literal(table.column(x // n)[x % n][:y] + "%"))
    return out


# ---------------------------------------------------------------------------- decoding
def _literal(ir, t: int, q: int, col: int, table: Table):
    kind = int(ir[t + LK.T_LITS + 2 * q])
    v = int(ir[t + LK.T_LITS + 2 * q + 1])
    if kind == LK.L_CELL:
        return Literal(table.column(col)[v])
    if kind == LK.L_INT:
        return Literal(v)
    if kind == LK.L_TENTHS:
        return Literal(v / 10.0)
    raise AssertionError(kind)


def _decode_term(ir, t: int, table: Table):
    kind = int(ir[t + LK.T_KIND])
    col = int(ir[t + LK.T_COL])
    col = ROWID if col == LK.ROWID else col
    if kind == LK.TERM_CMP:
        op = _OPS[int(ir[t + LK.T_OP])]
        sc = int(ir[t + LK.T_SCALAR])
        if sc >= 0:
            value = Scalar(_decode_select(ir, LK.SELECT_BASE + sc * LK.SELECT_WIDTH, table),
                           int(ir[t + LK.T_OFFSET]))
        else:
            value = _literal(ir, t, 0, col, table)
        return Compare(col, op, value)
    if kind == LK.TERM_BETWEEN:
        return Between(col, _literal(ir, t, 0, col, table), _literal(ir, t, 1, col, table))
    if kind == LK.TERM_IN:
        return InList(col, tuple(_literal(ir, t, q, col, table) for q in range(int(ir[t + LK.T_NLIT]))))
    row = int(ir[t + LK.T_LITS + 1])
    return Like(col, table.column(col)[row][: int(ir[t + LK.T_AUX])])


def _decode_select(ir, s: int, table: Table) -> Select:
    proj = int(ir[s + LK.S_PROJ])
    if proj == LK.PROJ_AGGREGATE:
        agg = int(ir[s + LK.S_AGG])
        if agg == 0:
            project = Aggregate("count", None)
        else:
            project = Aggregate(_AGGS[agg], int(ir[s + LK.S_AGG_COL]), distinct=bool(ir[s + LK.S_AGG_DISTINCT]))
    else:
        project = Column(ROWID if proj == LK.ROWID else proj)
    terms = [_decode_term(ir, s + LK.S_TERMS + k * LK.TERM_WIDTH, table) for k in range(int(ir[s + LK.S_NTERMS]))]
    where = None
    if len(terms) == 1:
        where = terms[0]
    elif terms:
        where = Or(tuple(terms)) if ir[s + LK.S_CONJ] == LK.CONJ_OR else And(tuple(terms))
    group = int(ir[s + LK.S_GROUP])
    having = None
    if ir[s + LK.S_HAVING_OP] >= 0:
        having = Having(Aggregate("count", None), _OPS[int(ir[s + LK.S_HAVING_OP])], Literal(int(ir[s + LK.S_HAVING_N])))
    order = int(ir[s + LK.S_ORDER])
    order_by = None
    if order == LK.ORDER_COLUMN:
        order_by = OrderBy(Column(int(ir[s + LK.S_ORDER_COL])), descending=bool(ir[s + LK.S_DESC]))
    elif order == LK.ORDER_COUNT:
        order_by = OrderBy(Aggregate("count", None), descending=bool(ir[s + LK.S_DESC]))
    limit = int(ir[s + LK.S_LIMIT])
    return Select(
        project,
        where=where,
        distinct=bool(ir[s + LK.S_DISTINCT]),
        group_by=None if group == LK.NO_GROUP else group,
        having=having,
        order_by=order_by,
        limit=None if limit == LK.NO_LIMIT else limit,
    )


def decode_plan(ir: np.ndarray, table: Table) -> Query:
    """The :mod:`symjax.sql.plan` objects of one plan row written by the lane."""
    kind = int(ir[LK.IR_KIND])
    if kind == LK.Q_SELECT:
        return _decode_select(ir, LK.SELECT_BASE, table)
    left = Scalar(_decode_select(ir, LK.SELECT_BASE + LK.SELECT_WIDTH, table))
    right = Scalar(_decode_select(ir, LK.SELECT_BASE + 2 * LK.SELECT_WIDTH, table))
    if kind == LK.Q_ARITHMETIC:
        return Arithmetic("+" if ir[LK.IR_OP] == LK.ARITH_PLUS else "-", left, right)
    return Comparison(_OPS[int(ir[LK.IR_OP])], left, right)
