"""Sampling, the parts every family uses (private): the table's view for the samplers,
draws of columns and cells, WHERE terms and their literals, scalar sub-selects.
"""
from __future__ import annotations

import numpy as np

from symjax.sql._numba import njit
from symjax.sql._random_kernels import uniform
from symjax.sql.lane._layout import (
    CONJ_AND,
    CONJ_OR,
    L_CELL,
    L_INT,
    L_PREFIX,
    L_TENTHS,
    MAX_TERMS,
    NO_COLUMN,
    NO_GROUP,
    NO_LIMIT,
    S_AGG,
    S_AGG_COL,
    S_CONJ,
    S_GROUP,
    S_HAVING_COL,
    S_HAVING_OP,
    S_LIMIT,
    S_NTERMS,
    S_PROJ,
    S_PROJ2,
    S_TERMS,
    SELECT_BASE,
    SELECT_WIDTH,
    T_AUX,
    T_COL,
    T_KIND,
    T_LITS,
    T_NLIT,
    T_OP,
    T_SCALAR,
    TERM_BETWEEN,
    TERM_CMP,
    TERM_IN,
    TERM_LIKE,
    TERM_WIDTH,
)
from symjax.sql.query import _kernels as K
from symjax.sql.text._text_kernels import C_DATE, C_INTEGER, C_REAL, C_TEXT


@njit
def table_view(keys, types):
    """What the samplers need, per column ``j``: ``vals[j, :nvals[j]]`` the rows with a
    non-NULL value, ``uniq[j, :nuniq[j]]`` the rows whose value occurs once,
    ``repeated[j]`` (some value repeats and there are >= 2 values), and ``canon[j, i]``
    the first row holding the value of row ``i`` (row lists in table order;
    O(n log n) per column)."""
    m, n = keys.shape
    vals = np.empty((m, n), dtype=np.int64)
    nvals = np.zeros(m, dtype=np.int64)
    uniq = np.empty((m, n), dtype=np.int64)
    nuniq = np.zeros(m, dtype=np.int64)
    repeated = np.zeros(m, dtype=np.bool_)
    canon = np.empty((m, n), dtype=np.int64)
    count = np.empty(n, dtype=np.int64)
    for j in range(m):
        col = keys[j]
        order = K.stable_argsort(col)  # NaN last; equal keys in row order
        distinct = 0
        start = 0
        while start < n:
            first = order[start]
            x = col[first]
            end = start + 1
            if x == x:
                while end < n and col[order[end]] == x:
                    end += 1
                distinct += 1
            for q in range(start, end):
                canon[j, order[q]] = first if x == x else order[q]
                count[order[q]] = end - start
            start = end
        for i in range(n):
            if col[i] == col[i]:
                vals[j, nvals[j]] = i
                nvals[j] += 1
                if count[i] == 1:
                    uniq[j, nuniq[j]] = i
                    nuniq[j] += 1
        if distinct < nvals[j] and distinct >= 2:
            repeated[j] = True
    return vals, nvals, uniq, nuniq, repeated, canon


@njit
def below(state, n):
    return int(uniform(state) * n)


@njit
def pick_from(state, cols, ncols):
    if ncols == 0:
        return -100
    return cols[below(state, ncols)]


@njit
def cols_of(types, nvals, want0, want1, want2, out):
    """Non-empty columns whose type is one of want0..2 (-1: unused), in column order."""
    k = 0
    for j in range(types.shape[0]):
        t = types[j]
        if nvals[j] > 0 and (t == want0 or t == want1 or t == want2):
            out[k] = j
            k += 1
    return k


@njit
def non_empty_except(nvals, exclude, out):
    k = 0
    for j in range(nvals.shape[0]):
        if nvals[j] > 0 and j != exclude:
            out[k] = j
            k += 1
    return k


@njit
def _set_lit(ir, t, k, kind, value):
    ir[t + T_LITS + 2 * k] = kind
    ir[t + T_LITS + 2 * k + 1] = value


@njit
def lit_key(ir, t, k, col, keys):
    kind = ir[t + T_LITS + 2 * k]
    v = ir[t + T_LITS + 2 * k + 1]
    if kind == L_CELL or kind == L_PREFIX:
        return keys[col, v]
    if kind == L_INT:
        return float(v)
    return v / 10.0


@njit
def random_cell(state, view, col):
    vals, nvals, _, _, _, canon = view
    return canon[col, vals[col, below(state, nvals[col])]]


@njit
def _threshold(state, view, keys, types, col, ir, t, k):
    """A comparison threshold: usually a cell value, sometimes a round number in range."""
    vals, nvals, _, _, _, _ = view
    row = random_cell(state, view, col)
    ty = types[col]
    if (ty == C_INTEGER or ty == C_REAL) and uniform(state) < 0.3 and nvals[col] > 1:
        lo = np.inf
        hi = -np.inf
        for q in range(nvals[col]):
            x = keys[col, vals[col, q]]
            lo = min(lo, x)
            hi = max(hi, x)
        x = lo + (hi - lo) * uniform(state)
        if ty == C_INTEGER or abs(x) >= 100:
            _set_lit(ir, t, k, L_INT, np.int64(np.floor(x + 0.5)))
        else:
            _set_lit(ir, t, k, L_TENTHS, np.int64(np.floor(x * 10.0 + 0.5)))
        return
    _set_lit(ir, t, k, L_CELL, row)


@njit
def _prefix_ok(sbytes, soff, rank, nchars):
    """Whether the first ``nchars`` characters of string ``rank`` are a usable LIKE
    prefix (non-empty, no ``%`` or ``_``)."""
    a, b = soff[rank], soff[rank + 1] - 1
    if b == a:
        return False
    seen = 0
    p = a
    while p < b:
        c = sbytes[p]
        if (c & 0xC0) != 0x80:
            if seen == nchars:
                break
            seen += 1
        if c == 37 or c == 95 or c < 2:  # % _ and the NUL stand-in make no usable prefix
            return False
        p += 1
    return True


@njit
def condition(state, view, keys, types, sbytes, soff, cfg, col, kind, ir, t):
    """Fill term ``t`` of ``ir`` with a condition on ``col``; False if none was drawn.
    ``kind``: -1 (by the column's type), TERM_CMP (eq), 10 (ne), TERM_BETWEEN, TERM_IN,
    TERM_LIKE."""
    ty = types[col]
    ir[t + T_COL] = col
    ir[t + T_SCALAR] = -1
    if kind == -1:
        r = uniform(state)
        if ty == C_TEXT:
            if r < 0.72:
                kind = 20  # eq
            elif r < 0.87:
                kind = 10  # ne
            elif r < 0.95:
                kind = TERM_IN
            else:
                kind = 30  # text comparison
        else:
            if r < 0.85:
                kind = 40  # numeric comparison
            elif r < 0.95:
                kind = TERM_BETWEEN
            else:
                kind = 20
    if kind == 20 or kind == 10:
        ir[t + T_KIND] = TERM_CMP
        ir[t + T_OP] = K.OP_EQ if kind == 20 else K.OP_NE
        ir[t + T_NLIT] = 1
        _set_lit(ir, t, 0, L_CELL, random_cell(state, view, col))
        return True
    if kind == 40:
        ir[t + T_KIND] = TERM_CMP
        ops = (K.OP_LT, K.OP_GT, K.OP_LE, K.OP_GE, K.OP_NE, K.OP_EQ)
        ir[t + T_OP] = ops[min(5, int(uniform(state) * 4.4))]
        ir[t + T_NLIT] = 1
        _threshold(state, view, keys, types, col, ir, t, 0)
        return True
    if kind == TERM_BETWEEN:
        ir[t + T_KIND] = TERM_BETWEEN
        ir[t + T_NLIT] = 2
        _threshold(state, view, keys, types, col, ir, t, 0)
        _threshold(state, view, keys, types, col, ir, t, 1)
        if lit_key(ir, t, 1, col, keys) < lit_key(ir, t, 0, col, keys):
            k0, v0 = ir[t + T_LITS], ir[t + T_LITS + 1]
            ir[t + T_LITS], ir[t + T_LITS + 1] = ir[t + T_LITS + 2], ir[t + T_LITS + 3]
            ir[t + T_LITS + 2], ir[t + T_LITS + 3] = k0, v0
        return True
    if kind == TERM_IN:
        ir[t + T_KIND] = TERM_IN
        k = 2 + int(uniform(state) * 2)
        got = 0
        for _ in range(k):
            row = random_cell(state, view, col)
            dup = False
            for q in range(got):
                if ir[t + T_LITS + 2 * q + 1] == row:
                    dup = True
            if not dup:
                _set_lit(ir, t, got, L_CELL, row)
                got += 1
        ir[t + T_NLIT] = got
        return True
    if kind == TERM_LIKE:
        row = random_cell(state, view, col)
        nchars = 1 + int(uniform(state) * 3)
        if not _prefix_ok(sbytes, soff, int(keys[col, row]), nchars):
            return False
        ir[t + T_KIND] = TERM_LIKE
        ir[t + T_NLIT] = 1
        ir[t + T_AUX] = nchars
        _set_lit(ir, t, 0, L_PREFIX, row)
        return True
    # kind 30: ordering comparison on text
    ir[t + T_KIND] = TERM_CMP
    ops = (K.OP_LT, K.OP_GT, K.OP_LE, K.OP_GE)
    ir[t + T_OP] = ops[int(uniform(state) * 4)]
    ir[t + T_NLIT] = 1
    _set_lit(ir, t, 0, L_CELL, random_cell(state, view, col))
    return True


@njit
def term(s, k):
    return s + S_TERMS + k * TERM_WIDTH


@njit
def where(state, view, keys, types, sbytes, soff, cfg, exclude, ir, s, scratch):
    """A WHERE of 1..max_terms conditions joined by AND or OR into SELECT ``s``."""
    nvals = view[1]
    ncols = non_empty_except(nvals, exclude, scratch)
    if ncols == 0:
        return False
    max_terms = cfg[0]
    if max_terms == 1:
        n = 1
    else:
        n = 1 + int(uniform(state) ** 1.5 * max_terms)
    n = min(n, max_terms)
    got = 0
    for _ in range(n):
        col = scratch[below(state, ncols)]
        if condition(state, view, keys, types, sbytes, soff, cfg, col, -1, ir, term(s, got)):
            got += 1
        else:
            _clear_term(ir, term(s, got))
    if got == 0:
        return False
    ir[s + S_NTERMS] = got
    if got > 1:
        or_share = 0.35 if max_terms == 3 else 0.2
        ir[s + S_CONJ] = CONJ_OR if uniform(state) < or_share else CONJ_AND
    return True


@njit
def _clear_term(ir, t):
    for q in range(TERM_WIDTH):
        ir[t + q] = 0


@njit
def maybe_where(state, view, keys, types, sbytes, soff, cfg, p, exclude, ir, s, scratch):
    if uniform(state) < p:
        if not where(state, view, keys, types, sbytes, soff, cfg, exclude, ir, s, scratch):
            for k in range(MAX_TERMS):
                _clear_term(ir, term(s, k))
            ir[s + S_NTERMS] = 0
            ir[s + S_CONJ] = 0


@njit
def init_select(ir, s):
    for q in range(SELECT_WIDTH):
        ir[s + q] = 0
    ir[s + S_AGG] = -1
    ir[s + S_AGG_COL] = -1
    ir[s + S_GROUP] = NO_GROUP
    ir[s + S_HAVING_OP] = -1
    ir[s + S_LIMIT] = NO_LIMIT
    ir[s + S_PROJ2] = NO_COLUMN
    ir[s + S_HAVING_COL] = NO_COLUMN


@njit
def sel(k):
    return SELECT_BASE + k * SELECT_WIDTH


@njit
def eq_cell_term(ir, s, col, row):
    """Make ``col = <the value of row>`` the single WHERE term of SELECT ``s``."""
    t = term(s, 0)
    ir[s + S_NTERMS] = 1
    ir[t + T_KIND] = TERM_CMP
    ir[t + T_COL] = col
    ir[t + T_OP] = K.OP_EQ
    ir[t + T_NLIT] = 1
    ir[t + T_SCALAR] = -1
    _set_lit(ir, t, 0, L_CELL, row)


@njit
def key_scalar(state, view, ncols_all, proj, ir, s, scratch):
    """``(SELECT proj FROM w WHERE key = v)``, v occurring once in key (proj ROWID allowed)."""
    nuniq, canon = view[3], view[5]
    uniq = view[2]
    k = 0
    for j in range(ncols_all):
        if nuniq[j] > 0 and j != proj:
            scratch[k] = j
            k += 1
    if k == 0:
        return False
    key = scratch[below(state, k)]
    row = canon[key, uniq[key, below(state, nuniq[key])]]
    init_select(ir, s)
    ir[s + S_PROJ] = proj
    eq_cell_term(ir, s, key, row)
    return True


@njit
def same_select(ir, a, b):
    for q in range(SELECT_WIDTH):
        if ir[a + q] != ir[b + q]:
            return False
    return True


@njit
def orderable_and_projection(state, view, types, scratch):
    nvals = view[1]
    # orderable: numeric columns, then date columns (as families.py lists them)
    k = cols_of(types, nvals, C_INTEGER, C_REAL, -1, scratch)
    k += cols_of(types, nvals, C_DATE, -1, -1, scratch[k:])
    if k == 0:
        return -100, -100
    ocol = scratch[below(state, k)]
    np_ = non_empty_except(nvals, ocol, scratch)
    if np_ == 0:
        return ocol, -100
    return ocol, scratch[below(state, np_)]


@njit
def repeated_cols(view, out):
    repeated = view[4]
    k = 0
    for j in range(repeated.shape[0]):
        if repeated[j]:
            out[k] = j
            k += 1
    return k
