"""Writing a plan row as SQL tokens, and the tokens and answers as UTF-8 text (private).
"""
from __future__ import annotations

import numpy as np

from symjax.sql._numba import njit
from symjax.sql.lane._conditions import sel, term
from symjax.sql.lane._layout import (
    A_INT,
    A_REAL,
    ARITH_ABS_MINUS,
    ARITH_PLUS,
    COLUMN_BASE,
    CONJ_OR,
    EXPR_AGG,
    EXPR_ORDER,
    EXPR_PROJ,
    FIXED_BYTES,
    FIXED_OFF,
    IR_KIND,
    IR_OP,
    L_CELL,
    L_INT,
    L_TENTHS,
    NO_COLUMN,
    NO_GROUP,
    NO_LIMIT,
    NONE_BYTES,
    ORDER_COUNT,
    ORDER_COUNT_COLUMN,
    ORDER_NONE,
    PROJ_AGGREGATE,
    Q_ARITHMETIC,
    Q_SELECT,
    Q_SET,
    ROWID,
    S_AGG,
    S_AGG_COL,
    S_AGG_DISTINCT,
    S_CONJ,
    S_DESC,
    S_DISTINCT,
    S_EXPR_ABS,
    S_EXPR_AT,
    S_EXPR_COL,
    S_EXPR_OP,
    S_GROUP,
    S_HAVING_AGG,
    S_HAVING_COL,
    S_HAVING_N,
    S_HAVING_OP,
    S_LIMIT,
    S_NTERMS,
    S_ORDER,
    S_ORDER_COL,
    S_PROJ,
    S_PROJ2,
    SPEC_INT,
    SPEC_PREFIX,
    SPEC_TENTHS,
    T_AUX,
    T_COL,
    T_KIND,
    T_LITS,
    T_NLIT,
    T_OFFSET,
    T_OP,
    T_SCALAR,
    TERM_BETWEEN,
    TERM_CMP,
    TERM_COLUMN,
    TERM_IN,
    TERM_NULL,
    TEXTS_NEED_PYTHON,
    TEXTS_OK,
    TK_ABS,
    TK_AGG0,
    TK_AND,
    TK_ASC,
    TK_BETWEEN,
    TK_COMMA,
    TK_COUNT_STAR,
    TK_DESC,
    TK_DIGIT0,
    TK_DISTINCT,
    TK_FROM,
    TK_GROUP,
    TK_HAVING,
    TK_IN,
    TK_IS_NOT_NULL,
    TK_IS_NULL,
    TK_LIKE,
    TK_LIMIT,
    TK_LPAREN,
    TK_MINUS,
    TK_OP0,
    TK_OR,
    TK_ORDER,
    TK_PLUS,
    TK_ROWID,
    TK_RPAREN,
    TK_SELECT,
    TK_SET0,
    TK_WHERE,
)
from symjax.sql.query import _kernels as K
from symjax.sql.text import _text_kernels as TX
from symjax.sql.text._text_kernels import C_INTEGER, C_REAL, C_TEXT, string_offsets


@njit
def _emit_literal(ir, t, q, col, n_rows, cell_base, spec_base, toks, p, spec_kind, spec_a, spec_b, nspec):
    kind = ir[t + T_LITS + 2 * q]
    v = ir[t + T_LITS + 2 * q + 1]
    if kind == L_CELL:
        toks[p] = cell_base + col * n_rows + v
        return p + 1, nspec
    slot = nspec
    if kind == L_INT:
        spec_kind[slot] = SPEC_INT
        spec_a[slot] = v
    elif kind == L_TENTHS:
        spec_kind[slot] = SPEC_TENTHS
        spec_a[slot] = v
    else:
        spec_kind[slot] = SPEC_PREFIX
        spec_a[slot] = col * n_rows + v
        spec_b[slot] = ir[t + T_AUX]
    toks[p] = spec_base + slot
    return p + 1, nspec + 1


@njit
def _emit_col(col, toks, p):
    toks[p] = TK_ROWID if col == ROWID else COLUMN_BASE + col
    return p + 1


@njit
def _emit_expr(ir, s, a, toks, p):
    """Column ``a``, or the column arithmetic of SELECT ``s`` with ``a`` on the left
    (``"a" - "b"``, ``ABS("a" - "b")``)."""
    take_abs = ir[s + S_EXPR_ABS] == 1
    if take_abs:
        toks[p] = TK_ABS
        p += 1
    p = _emit_col(a, toks, p)
    toks[p] = TK_PLUS if ir[s + S_EXPR_OP] == ARITH_PLUS else TK_MINUS
    p = _emit_col(ir[s + S_EXPR_COL], toks, p + 1)
    if take_abs:
        toks[p] = TK_RPAREN
        p += 1
    return p


@njit
def _emit_head(ir, s, toks, p):
    """``SELECT [DISTINCT] expr[, column] FROM w``."""
    toks[p] = TK_SELECT
    p += 1
    if ir[s + S_DISTINCT] == 1:
        toks[p] = TK_DISTINCT
        p += 1
    proj = ir[s + S_PROJ]
    expr_at = ir[s + S_EXPR_AT]
    if proj == PROJ_AGGREGATE:
        agg = ir[s + S_AGG]
        if agg == K.AGG_COUNT_STAR:
            toks[p] = TK_COUNT_STAR
            p += 1
        else:
            toks[p] = TK_AGG0 + agg - 1
            p += 1
            if ir[s + S_AGG_DISTINCT] == 1:
                toks[p] = TK_DISTINCT
                p += 1
            if expr_at == EXPR_AGG:
                p = _emit_expr(ir, s, ir[s + S_AGG_COL], toks, p)
            else:
                p = _emit_col(ir[s + S_AGG_COL], toks, p)
            toks[p] = TK_RPAREN
            p += 1
    elif expr_at == EXPR_PROJ:
        p = _emit_expr(ir, s, proj, toks, p)
    else:
        p = _emit_col(proj, toks, p)
    if ir[s + S_PROJ2] != NO_COLUMN:
        toks[p] = TK_COMMA
        p = _emit_col(ir[s + S_PROJ2], toks, p + 1)
    toks[p] = TK_FROM
    return p + 1


@njit
def _emit_term(ir, t, n_rows, cell_base, spec_base, toks, p, spec_kind, spec_a, spec_b, nspec):
    """A literal term (the caller renders comparisons with a sub-select)."""
    col = ir[t + T_COL]
    p = _emit_col(col, toks, p)
    kind = ir[t + T_KIND]
    if kind == TERM_NULL:
        toks[p] = TK_IS_NULL if ir[t + T_OP] == 0 else TK_IS_NOT_NULL
        return p + 1, nspec
    if kind == TERM_COLUMN:
        toks[p] = TK_OP0 + ir[t + T_OP]
        return _emit_col(ir[t + T_AUX], toks, p + 1), nspec
    if kind == TERM_CMP:
        toks[p] = TK_OP0 + ir[t + T_OP]
        return _emit_literal(ir, t, 0, col, n_rows, cell_base, spec_base, toks, p + 1,
                             spec_kind, spec_a, spec_b, nspec)
    if kind == TERM_BETWEEN:
        toks[p] = TK_BETWEEN
        p, nspec = _emit_literal(ir, t, 0, col, n_rows, cell_base, spec_base, toks, p + 1,
                                 spec_kind, spec_a, spec_b, nspec)
        toks[p] = TK_AND
        return _emit_literal(ir, t, 1, col, n_rows, cell_base, spec_base, toks, p + 1,
                             spec_kind, spec_a, spec_b, nspec)
    if kind == TERM_IN:
        toks[p] = TK_IN
        p += 1
        for q in range(ir[t + T_NLIT]):
            if q > 0:
                toks[p] = TK_COMMA
                p += 1
            p, nspec = _emit_literal(ir, t, q, col, n_rows, cell_base, spec_base, toks, p,
                                     spec_kind, spec_a, spec_b, nspec)
        toks[p] = TK_RPAREN
        return p + 1, nspec
    toks[p] = TK_LIKE
    return _emit_literal(ir, t, 0, col, n_rows, cell_base, spec_base, toks, p + 1,
                         spec_kind, spec_a, spec_b, nspec)


@njit
def _emit_tail(ir, s, toks, p, spec_base, spec_kind, spec_a, nspec):
    """``GROUP BY``, ``HAVING``, ``ORDER BY`` and ``LIMIT``."""
    if ir[s + S_GROUP] != NO_GROUP:
        toks[p] = TK_GROUP
        p = _emit_col(ir[s + S_GROUP], toks, p + 1)
    if ir[s + S_HAVING_OP] >= 0:
        toks[p] = TK_HAVING
        hagg = ir[s + S_HAVING_AGG]
        if hagg == K.AGG_COUNT_STAR:
            toks[p + 1] = TK_COUNT_STAR
            toks[p + 2] = TK_OP0 + ir[s + S_HAVING_OP]
            toks[p + 3] = TK_DIGIT0 + ir[s + S_HAVING_N]
            p += 4
        else:
            toks[p + 1] = TK_AGG0 + hagg - 1
            p = _emit_col(ir[s + S_HAVING_COL], toks, p + 2)
            toks[p] = TK_RPAREN
            toks[p + 1] = TK_OP0 + ir[s + S_HAVING_OP]
            spec_kind[nspec] = SPEC_INT
            spec_a[nspec] = ir[s + S_HAVING_N]
            toks[p + 2] = spec_base + nspec
            nspec += 1
            p += 3
    order = ir[s + S_ORDER]
    if order != ORDER_NONE:
        toks[p] = TK_ORDER
        p += 1
        if order == ORDER_COUNT:
            toks[p] = TK_COUNT_STAR
            p += 1
        elif order == ORDER_COUNT_COLUMN:
            toks[p] = TK_AGG0 + K.AGG_COUNT - 1
            p = _emit_col(ir[s + S_ORDER_COL], toks, p + 1)
            toks[p] = TK_RPAREN
            p += 1
        elif ir[s + S_EXPR_AT] == EXPR_ORDER:
            p = _emit_expr(ir, s, ir[s + S_ORDER_COL], toks, p)
        else:
            p = _emit_col(ir[s + S_ORDER_COL], toks, p)
        toks[p] = TK_DESC if ir[s + S_DESC] == 1 else TK_ASC
        p += 1
    if ir[s + S_LIMIT] != NO_LIMIT:
        toks[p] = TK_LIMIT
        toks[p + 1] = TK_DIGIT0 + ir[s + S_LIMIT]
        p += 2
    return p, nspec


@njit
def _emit_sub(ir, s, n_rows, cell_base, spec_base, toks, p, spec_kind, spec_a, spec_b, nspec):
    """``(SELECT ...)`` of a scalar sub-select (whose terms are all literal)."""
    toks[p] = TK_LPAREN
    p = _emit_head(ir, s, toks, p + 1)
    for k in range(ir[s + S_NTERMS]):
        toks[p] = TK_WHERE if k == 0 else (TK_OR if ir[s + S_CONJ] == CONJ_OR else TK_AND)
        p, nspec = _emit_term(ir, term(s, k), n_rows, cell_base, spec_base, toks, p + 1,
                              spec_kind, spec_a, spec_b, nspec)
    p, nspec = _emit_tail(ir, s, toks, p, spec_base, spec_kind, spec_a, nspec)
    toks[p] = TK_RPAREN
    return p + 1, nspec


@njit
def emit_query(ir, n_rows, cell_base, spec_base, toks, p, spec_kind, spec_a, spec_b, nspec):
    kind = ir[IR_KIND]
    if kind == Q_SET:
        p, nspec = _emit_select(ir, sel(1), n_rows, cell_base, spec_base, toks, p,
                                spec_kind, spec_a, spec_b, nspec)
        toks[p] = TK_SET0 + ir[IR_OP]
        return _emit_select(ir, sel(2), n_rows, cell_base, spec_base, toks, p + 1,
                            spec_kind, spec_a, spec_b, nspec)
    if kind != Q_SELECT:
        toks[p] = TK_SELECT
        p += 1
        take_abs = kind == Q_ARITHMETIC and ir[IR_OP] == ARITH_ABS_MINUS
        if take_abs:
            toks[p] = TK_ABS
            p += 1
        p, nspec = _emit_sub(ir, sel(1), n_rows, cell_base, spec_base, toks, p,
                             spec_kind, spec_a, spec_b, nspec)
        if kind == Q_ARITHMETIC:
            toks[p] = TK_PLUS if ir[IR_OP] == ARITH_PLUS else TK_MINUS
        else:
            toks[p] = TK_OP0 + ir[IR_OP]
        p, nspec = _emit_sub(ir, sel(2), n_rows, cell_base, spec_base, toks, p + 1,
                             spec_kind, spec_a, spec_b, nspec)
        if take_abs:
            toks[p] = TK_RPAREN
            p += 1
        return p, nspec
    return _emit_select(ir, sel(0), n_rows, cell_base, spec_base, toks, p, spec_kind, spec_a, spec_b, nspec)


@njit
def _emit_select(ir, s, n_rows, cell_base, spec_base, toks, p, spec_kind, spec_a, spec_b, nspec):
    """A whole SELECT, whose WHERE terms may compare with a scalar sub-select."""
    p = _emit_head(ir, s, toks, p)
    for k in range(ir[s + S_NTERMS]):
        toks[p] = TK_WHERE if k == 0 else (TK_OR if ir[s + S_CONJ] == CONJ_OR else TK_AND)
        p += 1
        t = term(s, k)
        sc = ir[t + T_SCALAR]
        if ir[t + T_KIND] == TERM_CMP and sc >= 0:
            p = _emit_col(ir[t + T_COL], toks, p)
            toks[p] = TK_OP0 + ir[t + T_OP]
            p, nspec = _emit_sub(ir, sel(sc), n_rows, cell_base, spec_base, toks, p + 1,
                                 spec_kind, spec_a, spec_b, nspec)
            off = ir[t + T_OFFSET]
            if off != 0:
                toks[p] = TK_PLUS if off > 0 else TK_MINUS
                toks[p + 1] = TK_DIGIT0 + abs(off)
                p += 2
        else:
            p, nspec = _emit_term(ir, t, n_rows, cell_base, spec_base, toks, p,
                                  spec_kind, spec_a, spec_b, nspec)
    return _emit_tail(ir, s, toks, p, spec_base, spec_kind, spec_a, nspec)


@njit
def _room(buf, p, need):
    """``buf``, grown (doubled) if fewer than ``need`` bytes are left after ``p``."""
    if p + need <= buf.shape[0]:
        return buf
    out = np.empty(2 * buf.shape[0] + need, dtype=np.uint8)
    out[:p] = buf[:p]
    return out


@njit
def _literal(buf, p, j, i, keys, ints, types, sbytes, soff):
    """The SQL literal of cell (i, j) (``render_literal`` of its value); -1 if unsure."""
    t = types[j]
    x = keys[j, i]
    if np.isnan(x):
        return -1
    if t == C_TEXT:
        r = np.int64(x)
        return TX.write_quoted(buf, p, sbytes, soff[r], soff[r + 1] - 1, -1, 0, 39)
    if t == C_INTEGER:
        return TX.write_int(buf, p, ints[j, i])
    if t == C_REAL:
        return TX.write_repr_real(buf, p, x)
    buf[p] = 39
    p = TX.write_date(buf, p + 1, np.int64(x))
    if p < 0:
        return -1
    buf[p] = 39
    return p + 1


@njit
def _cell_text(buf, p, j, i, keys, ints, types, sbytes, soff):
    """``Table.column_texts(j)[i]`` of a table that shows its values; -1 if unsure."""
    t = types[j]
    x = keys[j, i]
    if np.isnan(x):  # NULL shows as ""
        return p
    if t == C_TEXT:
        r = np.int64(x)
        return TX.copy_bytes(buf, p, sbytes, soff[r], soff[r + 1] - 1)
    if t == C_INTEGER:
        return TX.write_int(buf, p, ints[j, i])
    if t == C_REAL:
        return TX.write_real(buf, p, x)
    return TX.write_date(buf, p, np.int64(x))


@njit
def _cell_room(j, i, keys, types, soff):
    if types[j] == C_TEXT and not np.isnan(keys[j, i]):
        r = np.int64(keys[j, i])
        return 2 * (soff[r + 1] - soff[r]) + 8
    return 32


@njit
def render_texts(toks, meta, kept, spec, atoks, aspec, areal, keys, ints, types, sbytes, soff,
                 header):
    """The standard-style SQL of the ``kept`` queries :func:`sample_block` wrote, then the
    canonical text of every answer value, as UTF-8, each text followed by a NUL byte.

    Tables that show their values only (``Table.shows_values``): cell literals and texts
    come from ``keys``/``ints`` and the ranked strings (``sbytes``, ``soff``); ``header``
    holds the column names (``Table.header_bytes``), written double-quoted. Returns ``(bytes, TEXTS_OK)``,
    or ``(empty, TEXTS_NEED_PYTHON)`` where a real cannot be written with certainty (the
    caller then joins the token fragments in Python)."""
    m, n = keys.shape
    cell_base = COLUMN_BASE + m
    spec_base = cell_base + m * n
    ioff = string_offsets(header, m)
    buf = np.empty(4096, dtype=np.uint8)
    p = 0
    start = 0
    for k in range(kept):
        end = meta[k, 1]
        for q in range(start, end):
            tok = toks[q]
            if tok < COLUMN_BASE:
                buf = _room(buf, p, 16)
                p = TX.copy_bytes(buf, p, FIXED_BYTES, FIXED_OFF[tok], FIXED_OFF[tok + 1] - 1)
            elif tok < cell_base:
                j = tok - COLUMN_BASE
                buf = _room(buf, p, 2 * (ioff[j + 1] - ioff[j]) + 2)
                p = TX.write_quoted(buf, p, header, ioff[j], ioff[j + 1] - 1, -1, 0, 34)
            elif tok < spec_base:
                c = tok - cell_base
                j, i = c // n, c % n
                buf = _room(buf, p, _cell_room(j, i, keys, types, soff))
                p = _literal(buf, p, j, i, keys, ints, types, sbytes, soff)
            else:
                slot = tok - spec_base
                kind = spec[slot, 0]
                if kind == SPEC_INT:
                    buf = _room(buf, p, 32)
                    p = TX.write_int(buf, p, spec[slot, 1])
                elif kind == SPEC_TENTHS:
                    buf = _room(buf, p, 32)
                    p = TX.write_tenths(buf, p, spec[slot, 1])
                else:
                    j, i = spec[slot, 1] // n, spec[slot, 1] % n
                    buf = _room(buf, p, _cell_room(j, i, keys, types, soff))
                    r = np.int64(keys[j, i])
                    p = TX.write_quoted(buf, p, sbytes, soff[r], soff[r + 1] - 1, spec[slot, 2], 37, 39)
            if p < 0:
                return buf[:0], TEXTS_NEED_PYTHON
        buf = _room(buf, p, 1)
        buf[p] = 0
        p += 1
        start = end
    start = 0
    cells = m * n
    for k in range(kept):
        end = meta[k, 2]
        for q in range(start, end):
            tok = atoks[q]
            if tok < cells:
                j, i = tok // n, tok % n
                buf = _room(buf, p, _cell_room(j, i, keys, types, soff) + 1)
                p = _cell_text(buf, p, j, i, keys, ints, types, sbytes, soff)
            else:
                slot = tok - cells
                buf = _room(buf, p, 33)
                if aspec[slot, 0] == A_INT:
                    p = TX.write_int(buf, p, aspec[slot, 1])
                elif aspec[slot, 0] == A_REAL:
                    p = TX.write_real(buf, p, areal[slot])
                else:
                    p = TX.copy_bytes(buf, p, NONE_BYTES, 0, 4)
            if p < 0:
                return buf[:0], TEXTS_NEED_PYTHON
            buf[p] = 0
            p += 1
        start = end
    return buf[:p], TEXTS_OK
