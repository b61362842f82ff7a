"""Private numba kernels of the batched query lane (the API is :mod:`symjax.sql.lane`).

One call of :func:`sample_block` draws, executes, checks and renders all the queries of one
stream block on one table, with no Python in between. The plan objects of
:mod:`symjax.sql.plan` with the Python executor and renderer are its reference:
``tests/test_lane.py`` decodes every plan this kernel writes and checks that
:func:`symjax.sql.executor.run_plan` and :func:`symjax.sql.render.render` give the same
answer and text, and ``tests/test_sqlite_oracle.py`` checks the answers against SQLite.

**The plan as data.** A query is one row of ``int64`` (``IR_WIDTH`` wide): the family, the
top-level kind (``SELECT``, arithmetic or comparison of two scalar sub-selects) and up to
three SELECT records (``S_*`` fields); a SELECT has up to three ``WHERE`` terms (``T_*``
fields). A literal is a reference (``L_CELL``: a row of the term's column, always the first
row holding that value, so equal plans are equal rows; ``L_INT``: an integer;
``L_TENTHS``: a real given in tenths; ``L_PREFIX``: the first ``n`` characters of a text
cell, for ``LIKE``). :func:`symjax.sql.lane.decode_plan` turns a row into plan objects.

**Execution** works on the executor's sort keys (``keys[j, i]``: text rank in code-point
order, number, ``yyyymmdd``; NaN for NULL) and the exact integers, reusing the executor's
kernels for aggregates, ordering and grouping, and applies the same ambiguity rules
(ties under ``ORDER BY ... LIMIT``, a scalar sub-select with several rows, computed reals
on a rounding boundary or equal to a compared value up to rounding error).

**Rendering** writes token ids: ``FIXED`` fragments, then column identifiers
(``COLUMN_BASE + j``), cell literals (``cell_base + j * num_rows + i``) and special
literals (``spec_base + slot``: numbers and ``LIKE`` patterns, described by the
``spec_*`` arrays). :func:`render_texts` writes the standard-style text of those tokens
(and of the answers) as UTF-8; Python joining the fragments is its reference and the path
for the tapex style, which maps the same tokens.

**Answers** are written as (kind, int, float) triples: ``A_CELL`` (int ``j * num_rows + i``:
the canonical text of that cell), ``A_INT``, ``A_REAL`` (canonical text by
:func:`symjax.sql.table.format_number`), ``A_NULL``; unordered results are already in
canonical order (NULL first, then by key).
"""
from __future__ import annotations

import numpy as np

from symjax.sql import _kernels as K
from symjax.sql import _text_kernels as TX
from symjax.sql._numba import njit
from symjax.sql._random_kernels import uniform
from symjax.sql._text_kernels import C_DATE, C_INTEGER, C_REAL, C_TEXT, string_offsets  # noqa: F401

# ---------------------------------------------------------------------------- families
FAMILY_NAMES = (
    "adjacent", "aggregate", "arithmetic", "compare", "count", "count_distinct", "distinct",
    "group_having", "most_frequent", "nested", "select_between", "select_in", "select_like",
    "select_where", "superlative",
)
(F_ADJACENT, F_AGGREGATE, F_ARITHMETIC, F_COMPARE, F_COUNT, F_COUNT_DISTINCT, F_DISTINCT,
 F_GROUP_HAVING, F_MOST_FREQUENT, F_NESTED, F_SELECT_BETWEEN, F_SELECT_IN, F_SELECT_LIKE,
 F_SELECT_WHERE, F_SUPERLATIVE) = range(15)

# ---------------------------------------------------------------------------- plan layout
IR_FAMILY, IR_KIND, IR_OP = 0, 1, 2
Q_SELECT, Q_ARITHMETIC, Q_COMPARISON = 0, 1, 2
ARITH_MINUS, ARITH_PLUS = 0, 1
NUM_SELECTS = 3
MAX_TERMS = 3
MAX_LITERALS = 3

(S_PROJ, S_AGG, S_AGG_COL, S_AGG_DISTINCT, S_DISTINCT, S_NTERMS, S_CONJ, S_GROUP,
 S_HAVING_OP, S_HAVING_N, S_ORDER, S_ORDER_COL, S_DESC, S_LIMIT) = range(14)
S_TERMS = 14
(T_KIND, T_COL, T_OP, T_NLIT, T_SCALAR, T_OFFSET, T_AUX) = range(7)
T_LITS = 7
TERM_WIDTH = T_LITS + 2 * MAX_LITERALS
SELECT_WIDTH = S_TERMS + MAX_TERMS * TERM_WIDTH
SELECT_BASE = 3
IR_WIDTH = SELECT_BASE + NUM_SELECTS * SELECT_WIDTH

PROJ_AGGREGATE = -2  # S_PROJ when the SELECT projects an aggregate (S_AGG)
NO_GROUP = -9
NO_LIMIT = -1
ORDER_NONE, ORDER_COLUMN, ORDER_COUNT = 0, 1, 2
CONJ_AND, CONJ_OR = 0, 1
TERM_CMP, TERM_BETWEEN, TERM_IN, TERM_LIKE = 0, 1, 2, 3
L_CELL, L_INT, L_TENTHS, L_PREFIX = 0, 1, 2, 3
ROWID = K.ROWID_COLUMN

# answers
A_CELL, A_INT, A_REAL, A_NULL = 0, 1, 2, 3

# ---------------------------------------------------------------------------- tokens
FIXED = (
    "SELECT ", "DISTINCT ", " FROM w", " WHERE ", " AND ", " OR ", "(", ")", " GROUP BY ",
    " HAVING ", "COUNT(*)", " ORDER BY ", " DESC", " ASC", " LIMIT ",
    " = ", " != ", " < ", " > ", " <= ", " >= ",
    " BETWEEN ", " IN (", ", ", " LIKE ", "COUNT(", "SUM(", "AVG(", "MIN(", "MAX(",
    " + ", " - ", "rowid", "0", "1", "2", "3", "4", "5", "6", "7", "8", "9",
)
(TK_SELECT, TK_DISTINCT, TK_FROM, TK_WHERE, TK_AND, TK_OR, TK_LPAREN, TK_RPAREN, TK_GROUP,
 TK_HAVING, TK_COUNT_STAR, TK_ORDER, TK_DESC, TK_ASC, TK_LIMIT) = range(15)
TK_OP0 = 15  # + K.OP_EQ .. K.OP_GE
TK_BETWEEN, TK_IN, TK_COMMA, TK_LIKE = 21, 22, 23, 24
TK_AGG0 = 25  # + (AGG_COUNT .. AGG_MAX) - 1
TK_PLUS, TK_MINUS, TK_ROWID, TK_DIGIT0 = 30, 31, 32, 33
COLUMN_BASE = len(FIXED)
MAX_TOKENS = 96  # per query; the longest plans render to about 45 (tests/test_lane.py)
SPEC_PER_QUERY = 12

# spec (special literal) kinds, in spec_kind
SPEC_INT, SPEC_TENTHS, SPEC_PREFIX = 1, 2, 3


# ============================================================================ table view
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


# ============================================================================ sampling
@njit
def _below(state, n):
    return int(uniform(state) * n)


@njit
def _pick_from(state, cols, ncols):
    if ncols == 0:
        return -100
    return cols[_below(state, ncols)]


@njit
def _cols_of(types, nvals, want0, want1, want2, out):
    """Non-empty columns whose type is one of want0..2 (-1: unused), in column order."""
    k = 0
    for j in range(types.shape[0]):
        t = types[j]
        if nvals[j] > 0 and (t == want0 or t == want1 or t == want2):
            out[k] = j
            k += 1
    return k


@njit
def _non_empty_except(nvals, exclude, out):
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
def _lit_key(ir, t, k, col, keys):
    kind = ir[t + T_LITS + 2 * k]
    v = ir[t + T_LITS + 2 * k + 1]
    if kind == L_CELL or kind == L_PREFIX:
        return keys[col, v]
    if kind == L_INT:
        return float(v)
    return v / 10.0


@njit
def _random_cell(state, view, col):
    vals, nvals, _, _, _, canon = view
    return canon[col, vals[col, _below(state, nvals[col])]]


@njit
def _threshold(state, view, keys, types, col, ir, t, k):
    """A comparison threshold: usually a cell value, sometimes a round number in range."""
    vals, nvals, _, _, _, _ = view
    row = _random_cell(state, view, col)
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
def _condition(state, view, keys, types, sbytes, soff, cfg, col, kind, ir, t):
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
        _set_lit(ir, t, 0, L_CELL, _random_cell(state, view, col))
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
        if _lit_key(ir, t, 1, col, keys) < _lit_key(ir, t, 0, col, keys):
            k0, v0 = ir[t + T_LITS], ir[t + T_LITS + 1]
            ir[t + T_LITS], ir[t + T_LITS + 1] = ir[t + T_LITS + 2], ir[t + T_LITS + 3]
            ir[t + T_LITS + 2], ir[t + T_LITS + 3] = k0, v0
        return True
    if kind == TERM_IN:
        ir[t + T_KIND] = TERM_IN
        k = 2 + int(uniform(state) * 2)
        got = 0
        for _ in range(k):
            row = _random_cell(state, view, col)
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
        row = _random_cell(state, view, col)
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
    _set_lit(ir, t, 0, L_CELL, _random_cell(state, view, col))
    return True


@njit
def _term(s, k):
    return s + S_TERMS + k * TERM_WIDTH


@njit
def _where(state, view, keys, types, sbytes, soff, cfg, exclude, ir, s, scratch):
    """A WHERE of 1..max_terms conditions joined by AND or OR into SELECT ``s``."""
    nvals = view[1]
    ncols = _non_empty_except(nvals, exclude, scratch)
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
        col = scratch[_below(state, ncols)]
        if _condition(state, view, keys, types, sbytes, soff, cfg, col, -1, ir, _term(s, got)):
            got += 1
        else:
            _clear_term(ir, _term(s, got))
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
def _maybe_where(state, view, keys, types, sbytes, soff, cfg, p, exclude, ir, s, scratch):
    if uniform(state) < p:
        if not _where(state, view, keys, types, sbytes, soff, cfg, exclude, ir, s, scratch):
            for k in range(MAX_TERMS):
                _clear_term(ir, _term(s, k))
            ir[s + S_NTERMS] = 0
            ir[s + S_CONJ] = 0


@njit
def _init_select(ir, s):
    for q in range(SELECT_WIDTH):
        ir[s + q] = 0
    ir[s + S_AGG] = -1
    ir[s + S_AGG_COL] = -1
    ir[s + S_GROUP] = NO_GROUP
    ir[s + S_HAVING_OP] = -1
    ir[s + S_LIMIT] = NO_LIMIT


@njit
def _sel(k):
    return SELECT_BASE + k * SELECT_WIDTH


@njit
def _eq_cell_term(ir, s, col, row):
    """Make ``col = <the value of row>`` the single WHERE term of SELECT ``s``."""
    t = _term(s, 0)
    ir[s + S_NTERMS] = 1
    ir[t + T_KIND] = TERM_CMP
    ir[t + T_COL] = col
    ir[t + T_OP] = K.OP_EQ
    ir[t + T_NLIT] = 1
    ir[t + T_SCALAR] = -1
    _set_lit(ir, t, 0, L_CELL, row)


@njit
def _key_scalar(state, view, ncols_all, proj, ir, s, scratch):
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
    key = scratch[_below(state, k)]
    row = canon[key, uniq[key, _below(state, nuniq[key])]]
    _init_select(ir, s)
    ir[s + S_PROJ] = proj
    _eq_cell_term(ir, s, key, row)
    return True


@njit
def _count_scalar(state, view, col, ir, s):
    _init_select(ir, s)
    ir[s + S_PROJ] = PROJ_AGGREGATE
    ir[s + S_AGG] = K.AGG_COUNT_STAR
    _eq_cell_term(ir, s, col, _random_cell(state, view, col))


@njit
def _same_select(ir, a, b):
    for q in range(SELECT_WIDTH):
        if ir[a + q] != ir[b + q]:
            return False
    return True


@njit
def _two_scalars(state, view, keys, types, ir, scratch):
    nvals, repeated = view[1], view[4]
    m = types.shape[0]
    s1, s2 = _sel(1), _sel(2)
    if uniform(state) < 0.7:
        k = _cols_of(types, nvals, C_INTEGER, C_REAL, -1, scratch)
        if k == 0:
            return False
        col = scratch[_below(state, k)]
        if not _key_scalar(state, view, m, col, ir, s1, scratch):
            return False
        if not _key_scalar(state, view, m, col, ir, s2, scratch):
            return False
    else:
        k = 0
        for j in range(m):
            if repeated[j]:
                scratch[k] = j
                k += 1
        if k == 0:
            return False
        col = scratch[_below(state, k)]
        _count_scalar(state, view, col, ir, s1)
        _count_scalar(state, view, col, ir, s2)
    return not _same_select(ir, s1, s2)


@njit
def _orderable_and_projection(state, view, types, scratch):
    nvals = view[1]
    # orderable: numeric columns, then date columns (as families.py lists them)
    k = _cols_of(types, nvals, C_INTEGER, C_REAL, -1, scratch)
    k += _cols_of(types, nvals, C_DATE, -1, -1, scratch[k:])
    if k == 0:
        return -100, -100
    ocol = scratch[_below(state, k)]
    np_ = _non_empty_except(nvals, ocol, scratch)
    if np_ == 0:
        return ocol, -100
    return ocol, scratch[_below(state, np_)]


@njit
def _repeated_cols(view, out):
    repeated = view[4]
    k = 0
    for j in range(repeated.shape[0]):
        if repeated[j]:
            out[k] = j
            k += 1
    return k


@njit
def sample_family(state, family, view, keys, types, sbytes, soff, cfg, ir, scratch):
    """Write one plan of ``family`` into ``ir`` (zeroed by the caller); False if the table
    offers nothing for it this time."""
    nvals = view[1]
    m = types.shape[0]
    ir[IR_FAMILY] = family
    ir[IR_KIND] = Q_SELECT
    s = _sel(0)
    _init_select(ir, s)
    _init_select(ir, _sel(1))
    _init_select(ir, _sel(2))
    if family == F_SELECT_WHERE:
        k = _non_empty_except(nvals, -100, scratch)
        if k == 0:
            return False
        proj = scratch[_below(state, k)]
        ir[s + S_PROJ] = proj
        exclude = proj if uniform(state) < 0.8 else -100
        return _where(state, view, keys, types, sbytes, soff, cfg, exclude, ir, s, scratch)
    if family == F_SELECT_IN or family == F_SELECT_BETWEEN or family == F_SELECT_LIKE:
        if family == F_SELECT_IN:
            k = _cols_of(types, nvals, C_TEXT, -1, -1, scratch)
            k += _cols_of(types, nvals, C_INTEGER, -1, -1, scratch[k:])
            k += _cols_of(types, nvals, C_DATE, -1, -1, scratch[k:])
            kind = TERM_IN
        elif family == F_SELECT_BETWEEN:
            k = _cols_of(types, nvals, C_INTEGER, -1, -1, scratch)
            k += _cols_of(types, nvals, C_REAL, -1, -1, scratch[k:])
            k += _cols_of(types, nvals, C_DATE, -1, -1, scratch[k:])
            kind = TERM_BETWEEN
        else:
            k = _cols_of(types, nvals, C_TEXT, -1, -1, scratch)
            kind = TERM_LIKE
        if k == 0:
            return False
        col = scratch[_below(state, k)]
        if not _condition(state, view, keys, types, sbytes, soff, cfg, col, kind, ir, _term(s, 0)):
            return False
        np_ = _non_empty_except(nvals, col, scratch)
        if np_ == 0:
            scratch[0] = col
            np_ = 1
        ir[s + S_PROJ] = scratch[_below(state, np_)]
        ir[s + S_NTERMS] = 1
        if uniform(state) < 0.25 and cfg[0] > 1:
            # a second condition on another column, kept only when it is a single term
            t1 = _term(s, 1)
            saved = ir[s + S_NTERMS]
            tmp = _sel(2)
            if _where(state, view, keys, types, sbytes, soff, cfg, col, ir, tmp, scratch):
                if ir[tmp + S_NTERMS] == 1:
                    src = _term(tmp, 0)
                    for q in range(TERM_WIDTH):
                        ir[t1 + q] = ir[src + q]
                    ir[s + S_NTERMS] = saved + 1
                    ir[s + S_CONJ] = CONJ_AND
            _init_select(ir, tmp)
        return True
    if family == F_COUNT:
        ir[s + S_PROJ] = PROJ_AGGREGATE
        ir[s + S_AGG] = K.AGG_COUNT_STAR
        return _where(state, view, keys, types, sbytes, soff, cfg, -100, ir, s, scratch)
    if family == F_COUNT_DISTINCT:
        k = _repeated_cols(view, scratch)
        if k == 0:
            k = _non_empty_except(nvals, -100, scratch)
        if k == 0:
            return False
        col = scratch[_below(state, k)]
        ir[s + S_PROJ] = PROJ_AGGREGATE
        ir[s + S_AGG] = K.AGG_COUNT
        ir[s + S_AGG_COL] = col
        ir[s + S_AGG_DISTINCT] = 1
        _maybe_where(state, view, keys, types, sbytes, soff, cfg, 0.4, col, ir, s, scratch)
        return True
    if family == F_AGGREGATE:
        if uniform(state) < 0.5:
            k = _cols_of(types, nvals, C_INTEGER, -1, -1, scratch)
            k += _cols_of(types, nvals, C_REAL, -1, -1, scratch[k:])
            col = _pick_from(state, scratch, k)
            func = K.AGG_SUM if uniform(state) < 0.5 else K.AGG_AVG
        else:
            k = _cols_of(types, nvals, C_INTEGER, -1, -1, scratch)
            k += _cols_of(types, nvals, C_REAL, -1, -1, scratch[k:])
            k += _cols_of(types, nvals, C_DATE, -1, -1, scratch[k:])
            col = _pick_from(state, scratch, k)
            func = K.AGG_MIN if uniform(state) < 0.5 else K.AGG_MAX
        if col < 0:
            return False
        ir[s + S_PROJ] = PROJ_AGGREGATE
        ir[s + S_AGG] = func
        ir[s + S_AGG_COL] = col
        _maybe_where(state, view, keys, types, sbytes, soff, cfg, 0.5, col, ir, s, scratch)
        return True
    if family == F_SUPERLATIVE:
        ocol, proj = _orderable_and_projection(state, view, types, scratch)
        if proj < 0:
            return False
        kk = 1 if uniform(state) < 0.75 else 2 + int(uniform(state) * 2)
        ir[s + S_PROJ] = proj
        _maybe_where(state, view, keys, types, sbytes, soff, cfg, 0.3, ocol, ir, s, scratch)
        ir[s + S_ORDER] = ORDER_COLUMN
        ir[s + S_ORDER_COL] = ocol
        ir[s + S_DESC] = 1 if uniform(state) < 0.5 else 0
        ir[s + S_LIMIT] = kk
        return True
    if family == F_MOST_FREQUENT:
        col = _pick_from(state, scratch, _repeated_cols(view, scratch))
        if col < 0:
            return False
        ir[s + S_PROJ] = col
        _maybe_where(state, view, keys, types, sbytes, soff, cfg, 0.2, col, ir, s, scratch)
        ir[s + S_GROUP] = col
        ir[s + S_ORDER] = ORDER_COUNT
        ir[s + S_DESC] = 1 if uniform(state) < 0.8 else 0
        ir[s + S_LIMIT] = 1
        return True
    if family == F_GROUP_HAVING:
        col = _pick_from(state, scratch, _repeated_cols(view, scratch))
        if col < 0:
            return False
        if uniform(state) < 0.7:
            op, n = K.OP_GE, 2 + int(uniform(state) * 2)
        elif uniform(state) < 0.5:
            op, n = K.OP_EQ, 1
        else:
            op, n = K.OP_GT, 1
        ir[s + S_PROJ] = col
        ir[s + S_GROUP] = col
        ir[s + S_HAVING_OP] = op
        ir[s + S_HAVING_N] = n
        return True
    if family == F_DISTINCT:
        col = _pick_from(state, scratch, _repeated_cols(view, scratch))
        if col < 0:
            return False
        ir[s + S_PROJ] = col
        ir[s + S_DISTINCT] = 1
        _maybe_where(state, view, keys, types, sbytes, soff, cfg, 0.6, col, ir, s, scratch)
        return True
    if family == F_ARITHMETIC:
        if not _two_scalars(state, view, keys, types, ir, scratch):
            return False
        ir[IR_KIND] = Q_ARITHMETIC
        ir[IR_OP] = ARITH_MINUS if uniform(state) < 0.8 else ARITH_PLUS
        return True
    if family == F_COMPARE:
        if not _two_scalars(state, view, keys, types, ir, scratch):
            if uniform(state) < 0.5:
                return False
            k = _cols_of(types, nvals, C_DATE, -1, -1, scratch)
            k += _cols_of(types, nvals, C_TEXT, -1, -1, scratch[k:])
            if k == 0:
                return False
            col = scratch[_below(state, k)]
            if not _key_scalar(state, view, m, col, ir, _sel(1), scratch):
                return False
            if not _key_scalar(state, view, m, col, ir, _sel(2), scratch):
                return False
            if _same_select(ir, _sel(1), _sel(2)):
                return False
        ops = (K.OP_LT, K.OP_GT, K.OP_EQ, K.OP_NE, K.OP_LE, K.OP_GE)
        ir[IR_KIND] = Q_COMPARISON
        ir[IR_OP] = ops[min(5, int(uniform(state) ** 1.3 * 6))]
        return True
    if family == F_NESTED:
        ocol, proj = _orderable_and_projection(state, view, types, scratch)
        if proj < 0:
            return False
        numeric = types[ocol] == C_INTEGER or types[ocol] == C_REAL
        s1 = _sel(1)
        ir[s + S_PROJ] = proj
        t = _term(s, 0)
        ir[s + S_NTERMS] = 1
        ir[t + T_KIND] = TERM_CMP
        ir[t + T_COL] = ocol
        ir[t + T_SCALAR] = 1
        ir[s1 + S_PROJ] = PROJ_AGGREGATE
        ir[s1 + S_AGG_COL] = ocol
        if uniform(state) < 0.7 or not numeric:
            ir[s1 + S_AGG] = K.AGG_MAX if uniform(state) < 0.5 else K.AGG_MIN
            _maybe_where(state, view, keys, types, sbytes, soff, cfg, 0.3, ocol, ir, s1, scratch)
            ir[t + T_OP] = K.OP_EQ
        else:
            ir[s1 + S_AGG] = K.AGG_AVG
            ir[t + T_OP] = K.OP_GT if uniform(state) < 0.5 else K.OP_LT
        return True
    if family == F_ADJACENT:
        nuniq, canon, uniq = view[3], view[5], view[2]
        k = 0
        for j in range(m):
            if nuniq[j] > 0:
                scratch[k] = j
                k += 1
        if k == 0:
            return False
        key = scratch[_below(state, k)]
        np_ = _non_empty_except(nvals, key, scratch)
        if np_ == 0:
            scratch[0] = key
            np_ = 1
        proj = scratch[_below(state, np_)]
        row = canon[key, uniq[key, _below(state, nuniq[key])]]
        s1 = _sel(1)
        ir[s1 + S_PROJ] = ROWID
        _eq_cell_term(ir, s1, key, row)
        ir[s + S_PROJ] = proj
        t = _term(s, 0)
        ir[s + S_NTERMS] = 1
        ir[t + T_KIND] = TERM_CMP
        ir[t + T_COL] = ROWID
        ir[t + T_OP] = K.OP_EQ
        ir[t + T_SCALAR] = 1
        ir[t + T_OFFSET] = 1 if uniform(state) < 0.6 else -1
        return True
    return False


# ============================================================================ execution
@njit
def _column_keys(keys, col):
    if col == ROWID:
        return np.arange(1, keys.shape[1] + 1).astype(np.float64)
    return keys[col]


@njit
def _prefix_match(sbytes, soff, rank, pa, pb):
    """Whether string ``rank`` starts with bytes ``sbytes[pa:pb]`` under ASCII case folding
    (SQLite's LIKE)."""
    a, b = soff[rank], soff[rank + 1] - 1
    if b - a < pb - pa:
        return False
    for q in range(pb - pa):
        x = sbytes[a + q]
        y = sbytes[pa + q]
        if 65 <= x <= 90:
            x += 32
        if 65 <= y <= 90:
            y += 32
        if x != y:
            return False
    return True


@njit
def _prefix_end(sbytes, soff, rank, nchars):
    a, b = soff[rank], soff[rank + 1] - 1
    seen = 0
    p = a
    while p < b:
        if (sbytes[p] & 0xC0) != 0x80:
            if seen == nchars:
                return p
            seen += 1
        p += 1
    return b


@njit
def _term_mask(ir, t, keys, sbytes, soff, key):
    """Rows where term ``t`` holds; ``key`` is the compared key of a scalar sub-select
    (NaN: NULL) and is ignored for literal terms."""
    n = keys.shape[1]
    col = ir[t + T_COL]
    x = _column_keys(keys, col)
    kind = ir[t + T_KIND]
    term = np.zeros(n, dtype=np.bool_)
    if kind == TERM_CMP:
        if ir[t + T_SCALAR] < 0:
            key = _lit_key(ir, t, 0, col, keys)
        if key == key:
            op = ir[t + T_OP]
            for i in range(n):
                term[i] = K._leaf(x[i], op, key, 0.0, x)
    elif kind == TERM_BETWEEN:
        lo = _lit_key(ir, t, 0, col, keys)
        hi = _lit_key(ir, t, 1, col, keys)
        for i in range(n):
            v = x[i]
            term[i] = v == v and v >= lo and v <= hi
    elif kind == TERM_IN:
        for i in range(n):
            v = x[i]
            for q in range(ir[t + T_NLIT]):
                if v == _lit_key(ir, t, q, col, keys):
                    term[i] = True
    else:  # LIKE 'prefix%'
        row = ir[t + T_LITS + 1]
        rank = int(keys[col, row])
        pa = soff[rank]
        pb = _prefix_end(sbytes, soff, rank, ir[t + T_AUX])
        for i in range(n):
            v = x[i]
            if v == v:
                term[i] = _prefix_match(sbytes, soff, int(v), pa, pb)
    return term


@njit
def _combine(mask, term, conj, first):
    for i in range(mask.shape[0]):
        if first:
            mask[i] = term[i]
        elif conj == CONJ_OR:
            mask[i] = mask[i] or term[i]
        else:
            mask[i] = mask[i] and term[i]


@njit
def _plain_where_mask(ir, s, keys, sbytes, soff):
    """Rows of SELECT ``s``'s WHERE, which has no scalar sub-select (all rows if none)."""
    mask = np.ones(keys.shape[1], dtype=np.bool_)
    for k in range(ir[s + S_NTERMS]):
        _combine(mask, _term_mask(ir, _term(s, k), keys, sbytes, soff, np.nan), ir[s + S_CONJ], k == 0)
    return mask


@njit
def _where_mask(ir, s, keys, ints, is_int, sbytes, soff, amb):
    """Rows of the top-level SELECT ``s``'s WHERE, whose terms may compare with a scalar
    sub-select. ``amb[0]`` is set when a sub-select makes the result ambiguous."""
    n = keys.shape[1]
    mask = np.ones(n, dtype=np.bool_)
    for k in range(ir[s + S_NTERMS]):
        t = _term(s, k)
        key = np.nan
        sc = ir[t + T_SCALAR]
        if ir[t + T_KIND] == TERM_CMP and sc >= 0:
            isnull, _, _, key, fragile = _scalar(ir, _sel(sc), keys, ints, is_int, sbytes, soff, amb)
            if isnull:
                key = np.nan
            else:
                key = key + ir[t + T_OFFSET]
                if fragile:
                    x = _column_keys(keys, ir[t + T_COL])
                    for i in range(n):
                        v = x[i]
                        if v == v and abs(v - key) <= 1e-9 * max(1.0, abs(key)):
                            amb[0] = True
        _combine(mask, _term_mask(ir, t, keys, sbytes, soff, key), ir[s + S_CONJ], k == 0)
    return mask


@njit
def _first_row_with(keys, col, mask, key):
    for i in range(keys.shape[1]):
        if mask[i] and keys[col, i] == key:
            return i
    return -1


@njit
def _aggregate_value(ir, s, keys, ints, is_int, mask):
    """(isnull, is_integer, int value, key/real value, fragile, row) of SELECT ``s``'s
    aggregate over the masked rows; ``row`` is a row holding a MIN/MAX value."""
    func = ir[s + S_AGG]
    col = ir[s + S_AGG_COL]
    if func == K.AGG_COUNT_STAR:
        c = 0
        for i in range(mask.shape[0]):
            if mask[i]:
                c += 1
        return False, True, np.int64(c), float(c), False, -1
    c0 = max(col, 0)
    colint = is_int[c0]
    value, ivalue, count = K.aggregate(keys[c0], ints[c0], colint, mask, func, ir[s + S_AGG_DISTINCT] == 1)
    if func == K.AGG_COUNT:
        return False, True, np.int64(ivalue), float(ivalue), False, -1
    if count == 0:
        return True, False, np.int64(0), np.nan, False, -1
    if func == K.AGG_SUM:
        if colint:
            return False, True, np.int64(ivalue), float(ivalue), False, -1
        return False, False, np.int64(0), value, True, -1
    if func == K.AGG_AVG:
        return False, False, np.int64(0), value, not colint, -1
    row = _first_row_with(keys, c0, mask, value)
    if colint:
        return False, True, ints[c0, row], value, False, row
    return False, False, np.int64(0), value, False, row


@njit
def _scalar(ir, s, keys, ints, is_int, sbytes, soff, amb):
    """(isnull, is_integer, int value, key, fragile) of the scalar sub-select ``s``."""
    mask = _plain_where_mask(ir, s, keys, sbytes, soff)
    proj = ir[s + S_PROJ]
    if proj == PROJ_AGGREGATE:
        isnull, isint, iv, fv, fragile, _ = _aggregate_value(ir, s, keys, ints, is_int, mask)
        return isnull, isint, iv, fv, fragile
    first = -1
    count = 0
    for i in range(mask.shape[0]):
        if mask[i]:
            if first < 0:
                first = i
            count += 1
    if count > 1:
        amb[0] = True
    if first < 0:
        return True, False, np.int64(0), np.nan, False
    if proj == ROWID:
        return False, True, np.int64(first + 1), float(first + 1), False
    key = keys[proj, first]
    if key != key:
        return True, False, np.int64(0), np.nan, False
    if is_int[proj]:
        return False, True, ints[proj, first], key, False
    return False, False, np.int64(0), key, False


@njit
def _compare(op, a, b):
    """``a op b`` for the comparison opcodes (integers or keys)."""
    if op == K.OP_EQ:
        return a == b
    if op == K.OP_NE:
        return a != b
    if op == K.OP_LT:
        return a < b
    if op == K.OP_GT:
        return a > b
    if op == K.OP_LE:
        return a <= b
    return a >= b


@njit
def _near_rounding_boundary(x):
    y = abs(x) * 100.0
    frac = y - np.floor(y)
    return abs(frac - 0.5) < max(1e-7, y * 1e-12)


@njit
def _ties_ambiguous(okeys, pkeys, n_out):
    n = okeys.shape[0]
    start = 0
    while start < n_out:
        end = start + 1
        k0 = okeys[start]
        while end < n and (okeys[end] == k0 or (k0 != k0 and okeys[end] != okeys[end])):
            end += 1
        if end - start > 1:
            first = pkeys[start]
            for q in range(start, end):
                x = pkeys[q]
                if not (x == first or (x != x and first != first)):
                    return True
        start = end
    return False


@njit
def _put(akind, aint, areal, akey, n, kind, iv, fv, key):
    akind[n] = kind
    aint[n] = iv
    areal[n] = fv
    akey[n] = key
    return n + 1


@njit
def _execute(ir, keys, ints, is_int, sbytes, soff, akind, aint, areal, akey, cap):
    """Run a plan. Returns (number of values, or -1 if more than ``cap``; ordered;
    ambiguous). Values go to the a* arrays; cells as A_CELL with ``j * num_rows + i``."""
    n_rows = keys.shape[1]
    amb = np.zeros(1, dtype=np.bool_)
    kind = ir[IR_KIND]
    if kind != Q_SELECT:
        ln, li, liv, lkey, lf = _scalar(ir, _sel(1), keys, ints, is_int, sbytes, soff, amb)
        rn, ri, riv, rkey, rf = _scalar(ir, _sel(2), keys, ints, is_int, sbytes, soff, amb)
        if ln or rn:
            _put(akind, aint, areal, akey, 0, A_NULL, 0, 0.0, np.nan)
            return 1, False, amb[0]
        if kind == Q_ARITHMETIC:
            plus = ir[IR_OP] == ARITH_PLUS
            if li and ri:
                v = liv + riv if plus else liv - riv
                _put(akind, aint, areal, akey, 0, A_INT, v, float(v), float(v))
            else:
                x = lkey + rkey if plus else lkey - rkey
                _put(akind, aint, areal, akey, 0, A_REAL, 0, x, x)
            return 1, False, amb[0]
        op = ir[IR_OP]
        if li and ri:
            r = _compare(op, liv, riv)  # exact on integers
        else:
            if (lf or rf) and abs(lkey - rkey) <= 1e-9 * max(1.0, abs(lkey), abs(rkey)):
                amb[0] = True
            r = _compare(op, lkey, rkey)
        v = np.int64(1 if r else 0)
        _put(akind, aint, areal, akey, 0, A_INT, v, float(v), float(v))
        return 1, False, amb[0]

    s = _sel(0)
    mask = _where_mask(ir, s, keys, ints, is_int, sbytes, soff, amb)
    proj = ir[s + S_PROJ]
    limit = ir[s + S_LIMIT]
    if ir[s + S_GROUP] != NO_GROUP:
        g = ir[s + S_GROUP]
        gkeys, counts, first = K.group_counts(keys[g], mask)
        ng = gkeys.shape[0]
        keep = np.ones(ng, dtype=np.bool_)
        hop = ir[s + S_HAVING_OP]
        if hop >= 0:
            target = float(ir[s + S_HAVING_N])
            for q in range(ng):
                keep[q] = K._leaf(float(counts[q]), hop, target, 0.0, gkeys)
        idx = np.flatnonzero(keep)
        order_kind = ir[s + S_ORDER]
        if order_kind == ORDER_COUNT:
            sk = np.empty(idx.shape[0], dtype=np.float64)
            for q in range(idx.shape[0]):
                c = float(counts[idx[q]])
                sk[q] = -c if ir[s + S_DESC] == 1 else c
            idx = idx[K.stable_argsort(sk)]
        nsel = idx.shape[0]
        n_out = nsel if limit == NO_LIMIT else max(0, min(limit, nsel))
        if order_kind == ORDER_COUNT and n_out > 0:
            okeys = np.empty(nsel, dtype=np.float64)
            pk = np.empty(nsel, dtype=np.float64)
            for q in range(nsel):
                okeys[q] = float(counts[idx[q]])
                pk[q] = gkeys[idx[q]]
            if _ties_ambiguous(okeys, pk, n_out):
                amb[0] = True
        if n_out > cap:
            return -1, False, amb[0]
        n = 0
        for q in range(n_out):
            gq = idx[q]
            key = gkeys[gq]
            if key != key:
                n = _put(akind, aint, areal, akey, n, A_NULL, 0, 0.0, np.nan)
            else:
                n = _put(akind, aint, areal, akey, n, A_CELL, g * n_rows + first[gq], key, key)
        ordered = order_kind != ORDER_NONE
        if not ordered:
            _canonical_order(akind, aint, areal, akey, n)
        return n, ordered, amb[0]

    if proj == PROJ_AGGREGATE:
        isnull, isint, iv, fv, fragile, row = _aggregate_value(ir, s, keys, ints, is_int, mask)
        if isnull:
            _put(akind, aint, areal, akey, 0, A_NULL, 0, 0.0, np.nan)
        elif row >= 0:
            _put(akind, aint, areal, akey, 0, A_CELL, ir[s + S_AGG_COL] * n_rows + row, fv, fv)
        elif isint:
            _put(akind, aint, areal, akey, 0, A_INT, iv, fv, fv)
        else:
            if fragile and _near_rounding_boundary(fv):
                amb[0] = True
            _put(akind, aint, areal, akey, 0, A_REAL, 0, fv, fv)
        return 1, False, amb[0]

    order_kind = ir[s + S_ORDER]
    if order_kind == ORDER_COLUMN:
        ocol = ir[s + S_ORDER_COL]
        idx = K.order_rows(_column_keys(keys, ocol), mask, ir[s + S_DESC] == 1)
    else:
        ocol = -100
        idx = np.flatnonzero(mask)
    pkeys = _column_keys(keys, proj)
    if ir[s + S_DISTINCT] == 1:
        keep = np.zeros(idx.shape[0], dtype=np.bool_)
        for q in range(idx.shape[0]):
            x = pkeys[idx[q]]
            new = True
            for r in range(q):
                if keep[r]:
                    y = pkeys[idx[r]]
                    if x == y or (x != x and y != y):
                        new = False
                        break
            keep[q] = new
        idx = idx[keep]
    nsel = idx.shape[0]
    n_out = nsel if limit == NO_LIMIT else max(0, min(limit, nsel))
    if ocol != -100 and n_out > 0:
        if _ties_ambiguous(_column_keys(keys, ocol)[idx], pkeys[idx], n_out):
            amb[0] = True
    if n_out > cap:
        return -1, ocol != -100, amb[0]
    n = 0
    for q in range(n_out):
        i = idx[q]
        key = pkeys[i]
        if proj == ROWID:
            n = _put(akind, aint, areal, akey, n, A_INT, i + 1, float(i + 1), float(i + 1))
        elif key != key:
            n = _put(akind, aint, areal, akey, n, A_NULL, 0, 0.0, np.nan)
        else:
            n = _put(akind, aint, areal, akey, n, A_CELL, proj * n_rows + i, key, key)
    if ocol == -100:
        _canonical_order(akind, aint, areal, akey, n)
    return n, ocol != -100, amb[0]


@njit
def _canonical_order(akind, aint, areal, akey, n):
    """Sort values NULL first, then by key (stable insertion sort; n is small)."""
    for q in range(1, n):
        k, iv, fv, key = akind[q], aint[q], areal[q], akey[q]
        r = q - 1
        while r >= 0 and _after(akind[r], akey[r], k, key):
            akind[r + 1], aint[r + 1], areal[r + 1], akey[r + 1] = akind[r], aint[r], areal[r], akey[r]
            r -= 1
        akind[r + 1], aint[r + 1], areal[r + 1], akey[r + 1] = k, iv, fv, key


@njit
def _after(ka, xa, kb, xb):
    """Whether value a sorts strictly after value b."""
    if kb == A_NULL:
        return ka != A_NULL
    if ka == A_NULL:
        return False
    return xa > xb


# ============================================================================ rendering
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
def _emit_head(ir, s, toks, p):
    """``SELECT [DISTINCT] expr FROM w``."""
    toks[p] = TK_SELECT
    p += 1
    if ir[s + S_DISTINCT] == 1:
        toks[p] = TK_DISTINCT
        p += 1
    proj = ir[s + S_PROJ]
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
            p = _emit_col(ir[s + S_AGG_COL], toks, p)
            toks[p] = TK_RPAREN
            p += 1
    else:
        p = _emit_col(proj, toks, p)
    toks[p] = TK_FROM
    return p + 1


@njit
def _emit_term(ir, t, n_rows, cell_base, spec_base, toks, p, spec_kind, spec_a, spec_b, nspec):
    """A literal term (the caller renders comparisons with a sub-select)."""
    col = ir[t + T_COL]
    p = _emit_col(col, toks, p)
    kind = ir[t + T_KIND]
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
def _emit_tail(ir, s, toks, p):
    """``GROUP BY``, ``HAVING``, ``ORDER BY`` and ``LIMIT``."""
    if ir[s + S_GROUP] != NO_GROUP:
        toks[p] = TK_GROUP
        p = _emit_col(ir[s + S_GROUP], toks, p + 1)
    if ir[s + S_HAVING_OP] >= 0:
        toks[p] = TK_HAVING
        toks[p + 1] = TK_COUNT_STAR
        toks[p + 2] = TK_OP0 + ir[s + S_HAVING_OP]
        toks[p + 3] = TK_DIGIT0 + ir[s + S_HAVING_N]
        p += 4
    order = ir[s + S_ORDER]
    if order != ORDER_NONE:
        toks[p] = TK_ORDER
        p += 1
        if order == ORDER_COUNT:
            toks[p] = TK_COUNT_STAR
            p += 1
        else:
            p = _emit_col(ir[s + S_ORDER_COL], toks, p)
        toks[p] = TK_DESC if ir[s + S_DESC] == 1 else TK_ASC
        p += 1
    if ir[s + S_LIMIT] != NO_LIMIT:
        toks[p] = TK_LIMIT
        toks[p + 1] = TK_DIGIT0 + ir[s + S_LIMIT]
        p += 2
    return p


@njit
def _emit_sub(ir, s, n_rows, cell_base, spec_base, toks, p, spec_kind, spec_a, spec_b, nspec):
    """``(SELECT ...)`` of a scalar sub-select (whose terms are all literal)."""
    toks[p] = TK_LPAREN
    p = _emit_head(ir, s, toks, p + 1)
    for k in range(ir[s + S_NTERMS]):
        toks[p] = TK_WHERE if k == 0 else (TK_OR if ir[s + S_CONJ] == CONJ_OR else TK_AND)
        p, nspec = _emit_term(ir, _term(s, k), n_rows, cell_base, spec_base, toks, p + 1,
                              spec_kind, spec_a, spec_b, nspec)
    p = _emit_tail(ir, s, toks, p)
    toks[p] = TK_RPAREN
    return p + 1, nspec


@njit
def _emit_query(ir, n_rows, cell_base, spec_base, toks, p, spec_kind, spec_a, spec_b, nspec):
    kind = ir[IR_KIND]
    if kind != Q_SELECT:
        toks[p] = TK_SELECT
        p, nspec = _emit_sub(ir, _sel(1), n_rows, cell_base, spec_base, toks, p + 1,
                             spec_kind, spec_a, spec_b, nspec)
        if kind == Q_ARITHMETIC:
            toks[p] = TK_PLUS if ir[IR_OP] == ARITH_PLUS else TK_MINUS
        else:
            toks[p] = TK_OP0 + ir[IR_OP]
        return _emit_sub(ir, _sel(2), n_rows, cell_base, spec_base, toks, p + 1,
                         spec_kind, spec_a, spec_b, nspec)
    s = _sel(0)
    p = _emit_head(ir, s, toks, p)
    for k in range(ir[s + S_NTERMS]):
        toks[p] = TK_WHERE if k == 0 else (TK_OR if ir[s + S_CONJ] == CONJ_OR else TK_AND)
        p += 1
        t = _term(s, k)
        sc = ir[t + T_SCALAR]
        if ir[t + T_KIND] == TERM_CMP and sc >= 0:
            p = _emit_col(ir[t + T_COL], toks, p)
            toks[p] = TK_OP0 + ir[t + T_OP]
            p, nspec = _emit_sub(ir, _sel(sc), n_rows, cell_base, spec_base, toks, p + 1,
                                 spec_kind, spec_a, spec_b, nspec)
            off = ir[t + T_OFFSET]
            if off != 0:
                toks[p] = TK_PLUS if off > 0 else TK_MINUS
                toks[p + 1] = TK_DIGIT0 + abs(off)
                p += 2
        else:
            p, nspec = _emit_term(ir, t, n_rows, cell_base, spec_base, toks, p,
                                  spec_kind, spec_a, spec_b, nspec)
    return _emit_tail(ir, s, toks, p), nspec


# ============================================================================ the block
@njit
def _same_plan(out_ir, k, ir):
    for q in range(IR_WIDTH):
        if out_ir[k, q] != ir[q]:
            return False
    return True


@njit
def _bytes_less(data, a0, a1, b0, b1):
    """Whether bytes ``data[a0:a1]`` sort before ``data[b0:b1]`` (memcmp, then length):
    for UTF-8 this is code-point order, SQLite's BINARY collation and Python's str order."""
    n = min(a1 - a0, b1 - b0)
    for q in range(n):
        x = data[a0 + q]
        y = data[b0 + q]
        if x != y:
            return x < y
    return a1 - a0 < b1 - b0


@njit
def rank_strings(pool, count):
    """Rank the ``count`` NUL-terminated strings of ``pool`` (distinct, UTF-8) in code-point
    order. Returns ``(rank of each string, the strings in rank order, NUL-terminated,
    start of each ranked string in that buffer then the end)``; bottom-up merge sort."""
    off = string_offsets(pool, count)
    order = np.arange(count)
    tmp = np.empty(count, dtype=np.int64)
    width = 1
    while width < count:
        for lo in range(0, count, 2 * width):
            mid = min(lo + width, count)
            hi = min(lo + 2 * width, count)
            i, j, k = lo, mid, lo
            while i < mid and j < hi:
                a, b = order[i], order[j]
                if _bytes_less(pool, off[b], off[b + 1] - 1, off[a], off[a + 1] - 1):
                    tmp[k] = b
                    j += 1
                else:
                    tmp[k] = a
                    i += 1
                k += 1
            while i < mid:
                tmp[k] = order[i]
                i += 1
                k += 1
            while j < hi:
                tmp[k] = order[j]
                j += 1
                k += 1
        order, tmp = tmp, order
        width *= 2
    ranks = np.empty(count, dtype=np.float64)
    ranked = np.empty(pool.shape[0], dtype=np.uint8)
    soff = np.zeros(count + 1, dtype=np.int64)
    p = 0
    for r in range(count):
        q = order[r]
        ranks[q] = r
        for x in range(off[q], off[q + 1]):
            ranked[p] = pool[x]
            p += 1
        soff[r + 1] = p
    return ranks, ranked, soff


@njit
def prepare(pool, npool, types, codes, ivals, rvals, nulls):
    """A table's inputs to :func:`sample_block` from its arrays (``Table.arrays``, the pool
    as for :func:`rank_strings`): ``(ranks, ranked strings, their offsets, keys, ints)``;
    ``keys[j, i]`` is ``Table.sort_keys(j)[i]`` (text rank, number, ``yyyymmdd``; NaN for
    NULL) and ``ints`` the integer columns (0 elsewhere)."""
    ranks, ranked, soff = rank_strings(pool, npool)
    m, n = codes.shape
    keys = np.empty((m, n), dtype=np.float64)
    ints = np.zeros((m, n), dtype=np.int64)
    for j in range(m):
        t = types[j]
        for i in range(n):
            if t == C_TEXT:
                c = codes[j, i]
                keys[j, i] = np.nan if c < 0 else ranks[c]
            elif nulls[j, i]:
                keys[j, i] = np.nan
            elif t == C_REAL:
                keys[j, i] = rvals[j, i]
            else:
                keys[j, i] = ivals[j, i]
                if t == C_INTEGER:
                    ints[j, i] = ivals[j, i]
    return ranks, ranked, soff, keys, ints


@njit
def sample_block(seed, keys, ints, types, sbytes, soff, header, cfg, cdf,
                 plans, meta, toks, atoks, spec, aspec, areal, used):
    """The lane's one entry point: sample, execute and render the queries of one block on a
    prepared table (:func:`prepare`). :func:`_sample_queries` writes the plans, answers and
    SQL tokens; then, unless ``header`` is empty (the table shows other text than its
    values, so Python writes the texts), :func:`render_texts` writes the SQL and answer
    texts. Returns :func:`_sample_queries`' counts, then the texts and their status
    (``TEXTS_NEED_PYTHON`` with no texts when Python must join the tokens)."""
    kept, ntok, nspec, natok, naspec, nused = _sample_queries(
        seed, keys, ints, types == C_INTEGER, types, sbytes, soff, cfg, cdf, plans, meta, toks, atoks,
        spec, aspec, areal, used)
    if header.shape[0] == 0:
        return kept, ntok, nspec, natok, naspec, nused, np.empty(0, dtype=np.uint8), TEXTS_NEED_PYTHON
    text, status = render_texts(toks, meta, kept, spec, atoks, aspec, areal, keys, ints, types, sbytes,
                                soff, header)
    return kept, ntok, nspec, natok, naspec, nused, text, status


@njit
def _sample_queries(seed, keys, ints, is_int, types, sbytes, soff, cfg, cdf,
                    plans, meta, toks, atoks, spec, aspec, areal, used):
    """Sample up to ``plans.shape[0]`` distinct acceptable queries on one table.

    ``cfg``: (max_terms, max_answer_values, allow_empty, allow_null, max_attempts,
    tries): ``tries`` draws of a query, each of up to ``max_attempts`` attempts (the
    Python sampler's loop), duplicates skipped. ``cdf``: cumulative family weights over
    ``FAMILY_NAMES`` (ending at the total). ``sbytes``/``soff``: the table's strings in
    rank order, UTF-8, each followed by a NUL byte, and where each starts (then the end),
    as :func:`rank_strings` gives them.

    Writes, for kept query ``k``: ``plans[k]``; ``meta[k] = (ordered, end of its SQL
    tokens in toks, end of its answer tokens in atoks)``; SQL tokens as described in the
    module doc, special literals as ``spec[slot] = (kind, a, b)``; answer tokens: a cell
    ``j * num_rows + i``, or ``num_rows * num_columns + slot`` for a computed value
    ``aspec[slot] = (kind, int value)``, ``areal[slot]`` (real value); and the distinct cell
    tokens of the SQL in ``used``. Returns ``(kept, SQL tokens, specs, answer tokens,
    answer specs, cells used)``.
    """
    m, n_rows = keys.shape
    num_queries = plans.shape[0]
    view = table_view(keys, types)
    state = np.empty(1, dtype=np.uint64)
    state[0] = np.uint64(seed)
    scratch = np.empty(max(m, 4) * 2 + 8, dtype=np.int64)
    cap = cfg[1]
    allow_empty = cfg[2] == 1
    allow_null = cfg[3] == 1
    max_attempts = cfg[4]
    tries = cfg[5]
    total = cdf[cdf.shape[0] - 1]
    cell_base = COLUMN_BASE + m
    spec_base = cell_base + m * n_rows
    spec_kind = spec[:, 0]
    spec_a = spec[:, 1]
    spec_b = spec[:, 2]

    ir = np.zeros(IR_WIDTH, dtype=np.int64)
    tk = np.empty(cap + 1, dtype=np.int64)
    tv = np.empty(cap + 1, dtype=np.int64)
    tr = np.empty(cap + 1, dtype=np.float64)
    tkey = np.empty(cap + 1, dtype=np.float64)
    kept = 0
    p = 0
    nspec = 0
    pa = 0
    naspec = 0
    for _ in range(tries):
        if kept == num_queries:
            break
        found = False
        nv = 0
        ordered = False
        for _a in range(max_attempts):
            x = uniform(state) * total
            fam = cdf.shape[0] - 1
            for f in range(cdf.shape[0]):
                if x < cdf[f]:
                    fam = f
                    break
            ir[:] = 0
            if not sample_family(state, fam, view, keys, types, sbytes, soff, cfg, ir, scratch):
                continue
            nv, ordered, amb = _execute(ir, keys, ints, is_int, sbytes, soff, tk, tv, tr, tkey, cap)
            if amb or nv < 0:
                continue
            if nv == 0 and not allow_empty:
                continue
            if not allow_null:
                has_null = False
                for q in range(nv):
                    if tk[q] == A_NULL:
                        has_null = True
                if has_null:
                    continue
            found = True
            break
        if not found:
            continue
        dup = False
        for k in range(kept):
            if _same_plan(plans, k, ir):
                dup = True
                break
        if dup:
            continue
        plans[kept] = ir
        for q in range(nv):
            if tk[q] == A_CELL:
                atoks[pa] = tv[q]
            else:
                aspec[naspec, 0] = tk[q]
                aspec[naspec, 1] = tv[q]
                areal[naspec] = tr[q]
                atoks[pa] = m * n_rows + naspec
                naspec += 1
            pa += 1
        p0, nspec0 = p, nspec
        p, nspec = _emit_query(ir, n_rows, cell_base, spec_base, toks, p, spec_kind, spec_a, spec_b, nspec)
        if p - p0 > MAX_TOKENS or nspec - nspec0 > SPEC_PER_QUERY:
            # the buffers hold one query's worth of margin, so this fires before an overflow
            raise RuntimeError("a query rendered to more tokens than MAX_TOKENS or SPEC_PER_QUERY")
        meta[kept, 0] = 1 if ordered else 0
        meta[kept, 1] = p
        meta[kept, 2] = pa
        kept += 1
    seen = np.zeros(m * n_rows, dtype=np.bool_)
    nused = 0
    for q in range(p):
        t = toks[q]
        if cell_base <= t < spec_base and not seen[t - cell_base]:
            seen[t - cell_base] = True
            used[nused] = t
            nused += 1
    return kept, p, nspec, pa, naspec, nused


# ============================================================================ texts
_FIXED_JOINED = "\0".join(FIXED) + "\0"
FIXED_BYTES = np.frombuffer(_FIXED_JOINED.encode("ascii"), dtype=np.uint8)
FIXED_OFF = np.array([0] + [i + 1 for i, c in enumerate(_FIXED_JOINED) if c == "\0"], dtype=np.int64)
_NONE = np.frombuffer(b"none", dtype=np.uint8)  # symjax.sql.answers.NULL_VALUE
TEXTS_OK, TEXTS_NEED_PYTHON = 0, 1


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
                    p = TX.copy_bytes(buf, p, _NONE, 0, 4)
            if p < 0:
                return buf[:0], TEXTS_NEED_PYTHON
            buf[p] = 0
            p += 1
        start = end
    return buf[:p], TEXTS_OK
