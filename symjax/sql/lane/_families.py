"""Sampling, one small kernel per query family behind :func:`sample_family` (private).
"""
from __future__ import annotations

import numpy as np

from symjax.sql._numba import njit
from symjax.sql._random_kernels import uniform
from symjax.sql.lane._conditions import (
    below,
    cols_of,
    condition,
    eq_cell_term,
    init_select,
    key_scalar,
    maybe_where,
    non_empty_except,
    orderable_and_projection,
    pick_from,
    random_cell,
    repeated_cols,
    same_select,
    sel,
    term,
    where,
)
from symjax.sql.lane._layout import (
    ARITH_ABS_MINUS,
    ARITH_MINUS,
    ARITH_PLUS,
    CONJ_AND,
    EXPR_AGG,
    EXPR_ORDER,
    EXPR_PROJ,
    F_ABS_DIFFERENCE,
    F_COLUMN_ARITHMETIC,
    F_COLUMN_COMPARE,
    F_GROUP_COUNT_COLUMN,
    F_HAVING_AGGREGATE,
    F_MULTI_COLUMN,
    F_NULL_TEST,
    F_SET_OPERATION,
    F_ADJACENT,
    F_AGGREGATE,
    F_ARITHMETIC,
    F_COMPARE,
    F_COUNT,
    F_COUNT_DISTINCT,
    F_DISTINCT,
    F_GROUP_HAVING,
    F_MOST_FREQUENT,
    F_NESTED,
    F_SELECT_BETWEEN,
    F_SELECT_IN,
    F_SELECT_LIKE,
    F_SELECT_WHERE,
    F_SUPERLATIVE,
    IR_FAMILY,
    IR_KIND,
    IR_OP,
    ORDER_COLUMN,
    ORDER_COUNT,
    ORDER_COUNT_COLUMN,
    PROJ_AGGREGATE,
    Q_ARITHMETIC,
    Q_COMPARISON,
    Q_SELECT,
    Q_SET,
    ROWID,
    S_EXPR_ABS,
    S_EXPR_AT,
    S_EXPR_COL,
    S_EXPR_OP,
    S_HAVING_AGG,
    S_HAVING_COL,
    S_PROJ2,
    SET_EXCEPT,
    SET_INTERSECT,
    SET_UNION,
    S_AGG,
    S_AGG_COL,
    S_AGG_DISTINCT,
    S_CONJ,
    S_DESC,
    S_DISTINCT,
    S_GROUP,
    S_HAVING_N,
    S_HAVING_OP,
    S_LIMIT,
    S_NTERMS,
    S_ORDER,
    S_ORDER_COL,
    S_PROJ,
    T_AUX,
    T_COL,
    T_KIND,
    T_OFFSET,
    T_OP,
    T_SCALAR,
    TERM_BETWEEN,
    TERM_CMP,
    TERM_COLUMN,
    TERM_IN,
    TERM_LIKE,
    TERM_NULL,
    TERM_WIDTH,
)
from symjax.sql.query import _kernels as K
from symjax.sql.text._text_kernels import C_DATE, C_INTEGER, C_REAL, C_TEXT

# ---------------------------------------------------------------------------- probabilities
# The choices inside each family's draw, as data (each is a probability of one
# ``uniform(state)`` draw). Changing one changes the stream.
P_WHERE_AVOIDS_PROJECTION = 0.8  # select_where: the WHERE avoids the projected column
P_SECOND_CONDITION = 0.25  # select_in/between/like: AND a second condition (difficulty > easy)
P_WHERE_COUNT_DISTINCT = 0.4  # count_distinct: a WHERE
P_SUM_OR_AVG = 0.5  # aggregate: SUM/AVG over numbers rather than MIN/MAX (also over dates)
P_SUM = 0.5  # aggregate: SUM rather than AVG
P_MIN = 0.5  # aggregate: MIN rather than MAX
P_WHERE_AGGREGATE = 0.5  # aggregate: a WHERE
P_LIMIT_ONE = 0.75  # superlative: LIMIT 1 (else 2 or 3)
P_WHERE_SUPERLATIVE = 0.3  # superlative: a WHERE
P_DESCENDING = 0.5  # superlative: ORDER BY ... DESC
P_WHERE_MOST_FREQUENT = 0.2  # most_frequent: a WHERE
P_MOST_NOT_LEAST = 0.8  # most_frequent: ORDER BY COUNT(*) DESC (the most frequent)
P_HAVING_AT_LEAST = 0.7  # group_having: HAVING COUNT(*) >= 2 or 3
P_HAVING_EXACTLY_ONE = 0.5  # group_having, otherwise: = 1 (else > 1)
P_WHERE_DISTINCT = 0.6  # distinct: a WHERE
P_NUMERIC_SCALARS = 0.7  # arithmetic/compare: two sub-selects of one number column (else two COUNT(*))
P_DIFFERENCE = 0.8  # arithmetic: minus rather than plus
P_COMPARE_GIVES_UP = 0.5  # compare: without two scalars, give up (else compare text or dates)
COMPARE_OP_SKEW = 1.3  # compare: the operator is (<, >, =, !=, <=, >=)[int(u ** skew * 6)]
P_NESTED_EXTREME = 0.7  # nested: = (SELECT MAX/MIN ...) rather than > / < (SELECT AVG ...)
P_MAX = 0.5  # nested: MAX rather than MIN
P_WHERE_NESTED = 0.3  # nested: a WHERE in the sub-select
P_ABOVE_AVERAGE = 0.5  # nested: > AVG rather than < AVG
P_NEXT_ROW = 0.6  # adjacent: the row after (rowid + 1) rather than before
P_NOT_NULL = 0.5  # null_test: IS NOT NULL rather than IS NULL
P_NULL_COUNT = 0.5  # null_test: SELECT COUNT(*) rather than a column
P_AND_ANOTHER = 0.3  # null_test/column_compare: AND a condition on another column (difficulty > easy)
P_COLUMN_COMPARE_COUNT = 0.4  # column_compare: SELECT COUNT(*) rather than a column
P_NUMBERS_NOT_DATES = 0.8  # column_compare: two number columns when dates would also do
P_EXPR_PROJECTED = 0.35  # column_arithmetic: SELECT "a" - "b" ... WHERE
P_EXPR_AGGREGATED = 0.6  # column_arithmetic, otherwise: SUM/AVG/MIN/MAX of it (else ORDER BY it)
P_EXPR_MINUS = 0.7  # column_arithmetic: "a" - "b" rather than "a" + "b"
P_EXPR_ABS = 0.35  # column_arithmetic: ABS("a" - "b") inside an aggregate
P_WHERE_EXPR = 0.4  # column_arithmetic: a WHERE beside an aggregate or ORDER BY
P_HAVING_COUNT_COLUMN = 0.3  # having_aggregate: COUNT("col") rather than SUM/AVG/MIN/MAX
P_SET_UNION = 0.3  # set_operation: UNION
P_SET_INTERSECT = 0.4  # set_operation: INTERSECT (else EXCEPT)
P_MULTI_ORDERED = 0.35  # multi_column: ORDER BY ... LIMIT rather than a WHERE


@njit
def sample_family(state, family, view, keys, types, sbytes, soff, cfg, ir, scratch):
    """Write one plan of ``family`` into ``ir`` (zeroed by the caller); False if the table
    offers nothing for it this time."""
    ir[IR_FAMILY] = family
    ir[IR_KIND] = Q_SELECT
    s = sel(0)
    init_select(ir, s)
    init_select(ir, sel(1))
    init_select(ir, sel(2))
    if family == F_SELECT_WHERE:
        return _select_where(state, view, keys, types, sbytes, soff, cfg, ir, scratch)
    if family == F_SELECT_IN or family == F_SELECT_BETWEEN or family == F_SELECT_LIKE:
        return _filter_one_column(state, family, view, keys, types, sbytes, soff, cfg, ir, scratch)
    if family == F_COUNT:
        return _count(state, view, keys, types, sbytes, soff, cfg, ir, scratch)
    if family == F_COUNT_DISTINCT:
        return _count_distinct(state, view, keys, types, sbytes, soff, cfg, ir, scratch)
    if family == F_AGGREGATE:
        return _aggregate(state, view, keys, types, sbytes, soff, cfg, ir, scratch)
    if family == F_SUPERLATIVE:
        return _superlative(state, view, keys, types, sbytes, soff, cfg, ir, scratch)
    if family == F_MOST_FREQUENT:
        return _most_frequent(state, view, keys, types, sbytes, soff, cfg, ir, scratch)
    if family == F_GROUP_HAVING:
        return _group_having(state, view, keys, types, sbytes, soff, cfg, ir, scratch)
    if family == F_DISTINCT:
        return _distinct(state, view, keys, types, sbytes, soff, cfg, ir, scratch)
    if family == F_ARITHMETIC:
        return _arithmetic(state, view, keys, types, sbytes, soff, cfg, ir, scratch)
    if family == F_COMPARE:
        return _compare(state, view, keys, types, sbytes, soff, cfg, ir, scratch)
    if family == F_NESTED:
        return _nested(state, view, keys, types, sbytes, soff, cfg, ir, scratch)
    if family == F_ADJACENT:
        return _adjacent(state, view, keys, types, sbytes, soff, cfg, ir, scratch)
    if family == F_NULL_TEST:
        return _null_test(state, view, keys, types, sbytes, soff, cfg, ir, scratch)
    if family == F_COLUMN_COMPARE:
        return _column_compare(state, view, keys, types, sbytes, soff, cfg, ir, scratch)
    if family == F_COLUMN_ARITHMETIC:
        return _column_arithmetic(state, view, keys, types, sbytes, soff, cfg, ir, scratch)
    if family == F_ABS_DIFFERENCE:
        if not _two_scalars(state, view, keys, types, ir, scratch):
            return False
        ir[IR_KIND] = Q_ARITHMETIC
        ir[IR_OP] = ARITH_ABS_MINUS
        return True
    if family == F_HAVING_AGGREGATE:
        return _having_aggregate(state, view, keys, types, sbytes, soff, cfg, ir, scratch)
    if family == F_GROUP_COUNT_COLUMN:
        return _group_count_column(state, view, keys, types, sbytes, soff, cfg, ir, scratch)
    if family == F_SET_OPERATION:
        return _set_operation(state, view, keys, types, sbytes, soff, cfg, ir, scratch)
    if family == F_MULTI_COLUMN:
        return _multi_column(state, view, keys, types, sbytes, soff, cfg, ir, scratch)
    return False


@njit
def _select_where(state, view, keys, types, sbytes, soff, cfg, ir, scratch):
    nvals = view[1]
    s = sel(0)
    k = non_empty_except(nvals, -100, scratch)
    if k == 0:
        return False
    proj = scratch[below(state, k)]
    ir[s + S_PROJ] = proj
    exclude = proj if uniform(state) < P_WHERE_AVOIDS_PROJECTION else -100
    return where(state, view, keys, types, sbytes, soff, cfg, exclude, ir, s, scratch)


@njit
def _filter_one_column(state, family, view, keys, types, sbytes, soff, cfg, ir, scratch):
    nvals = view[1]
    s = sel(0)
    if family == F_SELECT_IN:
        k = cols_of(types, nvals, C_TEXT, -1, -1, scratch)
        k += cols_of(types, nvals, C_INTEGER, -1, -1, scratch[k:])
        k += cols_of(types, nvals, C_DATE, -1, -1, scratch[k:])
        kind = TERM_IN
    elif family == F_SELECT_BETWEEN:
        k = cols_of(types, nvals, C_INTEGER, -1, -1, scratch)
        k += cols_of(types, nvals, C_REAL, -1, -1, scratch[k:])
        k += cols_of(types, nvals, C_DATE, -1, -1, scratch[k:])
        kind = TERM_BETWEEN
    else:
        k = cols_of(types, nvals, C_TEXT, -1, -1, scratch)
        kind = TERM_LIKE
    if k == 0:
        return False
    col = scratch[below(state, k)]
    if not condition(state, view, keys, types, sbytes, soff, cfg, col, kind, ir, term(s, 0)):
        return False
    np_ = non_empty_except(nvals, col, scratch)
    if np_ == 0:
        scratch[0] = col
        np_ = 1
    ir[s + S_PROJ] = scratch[below(state, np_)]
    ir[s + S_NTERMS] = 1
    if uniform(state) < P_SECOND_CONDITION and cfg[0] > 1:
        _and_another(state, view, keys, types, sbytes, soff, cfg, col, ir, s, scratch)
    return True


@njit
def _and_another(state, view, keys, types, sbytes, soff, cfg, col, ir, s, scratch):
    """AND a condition on a column other than ``col`` to SELECT ``s``'s WHERE, kept only
    when it is a single term (SELECT 2 is the scratch space; callers that use it do not
    come here)."""
    saved = ir[s + S_NTERMS]
    t1 = term(s, saved)
    tmp = sel(2)
    if where(state, view, keys, types, sbytes, soff, cfg, col, ir, tmp, scratch):
        if ir[tmp + S_NTERMS] == 1:
            src = term(tmp, 0)
            for q in range(TERM_WIDTH):
                ir[t1 + q] = ir[src + q]
            ir[s + S_NTERMS] = saved + 1
            ir[s + S_CONJ] = CONJ_AND
    init_select(ir, tmp)


@njit
def _count(state, view, keys, types, sbytes, soff, cfg, ir, scratch):
    s = sel(0)
    ir[s + S_PROJ] = PROJ_AGGREGATE
    ir[s + S_AGG] = K.AGG_COUNT_STAR
    return where(state, view, keys, types, sbytes, soff, cfg, -100, ir, s, scratch)


@njit
def _count_distinct(state, view, keys, types, sbytes, soff, cfg, ir, scratch):
    nvals = view[1]
    s = sel(0)
    k = repeated_cols(view, scratch)
    if k == 0:
        k = non_empty_except(nvals, -100, scratch)
    if k == 0:
        return False
    col = scratch[below(state, k)]
    ir[s + S_PROJ] = PROJ_AGGREGATE
    ir[s + S_AGG] = K.AGG_COUNT
    ir[s + S_AGG_COL] = col
    ir[s + S_AGG_DISTINCT] = 1
    maybe_where(state, view, keys, types, sbytes, soff, cfg, P_WHERE_COUNT_DISTINCT, col, ir, s, scratch)
    return True


@njit
def _aggregate(state, view, keys, types, sbytes, soff, cfg, ir, scratch):
    nvals = view[1]
    s = sel(0)
    if uniform(state) < P_SUM_OR_AVG:
        k = cols_of(types, nvals, C_INTEGER, -1, -1, scratch)
        k += cols_of(types, nvals, C_REAL, -1, -1, scratch[k:])
        col = pick_from(state, scratch, k)
        func = K.AGG_SUM if uniform(state) < P_SUM else K.AGG_AVG
    else:
        k = cols_of(types, nvals, C_INTEGER, -1, -1, scratch)
        k += cols_of(types, nvals, C_REAL, -1, -1, scratch[k:])
        k += cols_of(types, nvals, C_DATE, -1, -1, scratch[k:])
        col = pick_from(state, scratch, k)
        func = K.AGG_MIN if uniform(state) < P_MIN else K.AGG_MAX
    if col < 0:
        return False
    ir[s + S_PROJ] = PROJ_AGGREGATE
    ir[s + S_AGG] = func
    ir[s + S_AGG_COL] = col
    maybe_where(state, view, keys, types, sbytes, soff, cfg, P_WHERE_AGGREGATE, col, ir, s, scratch)
    return True


@njit
def _superlative(state, view, keys, types, sbytes, soff, cfg, ir, scratch):
    s = sel(0)
    ocol, proj = orderable_and_projection(state, view, types, scratch)
    if proj < 0:
        return False
    kk = 1 if uniform(state) < P_LIMIT_ONE else 2 + int(uniform(state) * 2)
    ir[s + S_PROJ] = proj
    maybe_where(state, view, keys, types, sbytes, soff, cfg, P_WHERE_SUPERLATIVE, ocol, ir, s, scratch)
    ir[s + S_ORDER] = ORDER_COLUMN
    ir[s + S_ORDER_COL] = ocol
    ir[s + S_DESC] = 1 if uniform(state) < P_DESCENDING else 0
    ir[s + S_LIMIT] = kk
    return True


@njit
def _most_frequent(state, view, keys, types, sbytes, soff, cfg, ir, scratch):
    s = sel(0)
    col = pick_from(state, scratch, repeated_cols(view, scratch))
    if col < 0:
        return False
    ir[s + S_PROJ] = col
    maybe_where(state, view, keys, types, sbytes, soff, cfg, P_WHERE_MOST_FREQUENT, col, ir, s, scratch)
    ir[s + S_GROUP] = col
    ir[s + S_ORDER] = ORDER_COUNT
    ir[s + S_DESC] = 1 if uniform(state) < P_MOST_NOT_LEAST else 0
    ir[s + S_LIMIT] = 1
    return True


@njit
def _group_having(state, view, keys, types, sbytes, soff, cfg, ir, scratch):
    s = sel(0)
    col = pick_from(state, scratch, repeated_cols(view, scratch))
    if col < 0:
        return False
    if uniform(state) < P_HAVING_AT_LEAST:
        op, n = K.OP_GE, 2 + int(uniform(state) * 2)
    elif uniform(state) < P_HAVING_EXACTLY_ONE:
        op, n = K.OP_EQ, 1
    else:
        op, n = K.OP_GT, 1
    ir[s + S_PROJ] = col
    ir[s + S_GROUP] = col
    ir[s + S_HAVING_OP] = op
    ir[s + S_HAVING_N] = n
    return True


@njit
def _distinct(state, view, keys, types, sbytes, soff, cfg, ir, scratch):
    s = sel(0)
    col = pick_from(state, scratch, repeated_cols(view, scratch))
    if col < 0:
        return False
    ir[s + S_PROJ] = col
    ir[s + S_DISTINCT] = 1
    maybe_where(state, view, keys, types, sbytes, soff, cfg, P_WHERE_DISTINCT, col, ir, s, scratch)
    return True


@njit
def _arithmetic(state, view, keys, types, sbytes, soff, cfg, ir, scratch):
    if not _two_scalars(state, view, keys, types, ir, scratch):
        return False
    ir[IR_KIND] = Q_ARITHMETIC
    ir[IR_OP] = ARITH_MINUS if uniform(state) < P_DIFFERENCE else ARITH_PLUS
    return True


@njit
def _compare(state, view, keys, types, sbytes, soff, cfg, ir, scratch):
    nvals = view[1]
    m = types.shape[0]
    if not _two_scalars(state, view, keys, types, ir, scratch):
        if uniform(state) < P_COMPARE_GIVES_UP:
            return False
        k = cols_of(types, nvals, C_DATE, -1, -1, scratch)
        k += cols_of(types, nvals, C_TEXT, -1, -1, scratch[k:])
        if k == 0:
            return False
        col = scratch[below(state, k)]
        if not key_scalar(state, view, m, col, ir, sel(1), scratch):
            return False
        if not key_scalar(state, view, m, col, ir, sel(2), scratch):
            return False
        if same_select(ir, sel(1), sel(2)):
            return False
    ops = (K.OP_LT, K.OP_GT, K.OP_EQ, K.OP_NE, K.OP_LE, K.OP_GE)
    ir[IR_KIND] = Q_COMPARISON
    ir[IR_OP] = ops[min(5, int(uniform(state) ** COMPARE_OP_SKEW * 6))]
    return True


@njit
def _nested(state, view, keys, types, sbytes, soff, cfg, ir, scratch):
    s = sel(0)
    ocol, proj = orderable_and_projection(state, view, types, scratch)
    if proj < 0:
        return False
    numeric = types[ocol] == C_INTEGER or types[ocol] == C_REAL
    s1 = sel(1)
    ir[s + S_PROJ] = proj
    t = term(s, 0)
    ir[s + S_NTERMS] = 1
    ir[t + T_KIND] = TERM_CMP
    ir[t + T_COL] = ocol
    ir[t + T_SCALAR] = 1
    ir[s1 + S_PROJ] = PROJ_AGGREGATE
    ir[s1 + S_AGG_COL] = ocol
    if uniform(state) < P_NESTED_EXTREME or not numeric:
        ir[s1 + S_AGG] = K.AGG_MAX if uniform(state) < P_MAX else K.AGG_MIN
        maybe_where(state, view, keys, types, sbytes, soff, cfg, P_WHERE_NESTED, ocol, ir, s1, scratch)
        ir[t + T_OP] = K.OP_EQ
    else:
        ir[s1 + S_AGG] = K.AGG_AVG
        ir[t + T_OP] = K.OP_GT if uniform(state) < P_ABOVE_AVERAGE else K.OP_LT
    return True


@njit
def _adjacent(state, view, keys, types, sbytes, soff, cfg, ir, scratch):
    nvals = view[1]
    m = types.shape[0]
    s = sel(0)
    nuniq, canon, uniq = view[3], view[5], view[2]
    k = 0
    for j in range(m):
        if nuniq[j] > 0:
            scratch[k] = j
            k += 1
    if k == 0:
        return False
    key = scratch[below(state, k)]
    np_ = non_empty_except(nvals, key, scratch)
    if np_ == 0:
        scratch[0] = key
        np_ = 1
    proj = scratch[below(state, np_)]
    row = canon[key, uniq[key, below(state, nuniq[key])]]
    s1 = sel(1)
    ir[s1 + S_PROJ] = ROWID
    eq_cell_term(ir, s1, key, row)
    ir[s + S_PROJ] = proj
    t = term(s, 0)
    ir[s + S_NTERMS] = 1
    ir[t + T_KIND] = TERM_CMP
    ir[t + T_COL] = ROWID
    ir[t + T_OP] = K.OP_EQ
    ir[t + T_SCALAR] = 1
    ir[t + T_OFFSET] = 1 if uniform(state) < P_NEXT_ROW else -1
    return True


@njit
def _count_scalar(state, view, col, ir, s):
    init_select(ir, s)
    ir[s + S_PROJ] = PROJ_AGGREGATE
    ir[s + S_AGG] = K.AGG_COUNT_STAR
    eq_cell_term(ir, s, col, random_cell(state, view, col))


@njit
def _two_scalars(state, view, keys, types, ir, scratch):
    nvals, repeated = view[1], view[4]
    m = types.shape[0]
    s1, s2 = sel(1), sel(2)
    if uniform(state) < P_NUMERIC_SCALARS:
        k = cols_of(types, nvals, C_INTEGER, C_REAL, -1, scratch)
        if k == 0:
            return False
        col = scratch[below(state, k)]
        if not key_scalar(state, view, m, col, ir, s1, scratch):
            return False
        if not key_scalar(state, view, m, col, ir, s2, scratch):
            return False
    else:
        k = 0
        for j in range(m):
            if repeated[j]:
                scratch[k] = j
                k += 1
        if k == 0:
            return False
        col = scratch[below(state, k)]
        _count_scalar(state, view, col, ir, s1)
        _count_scalar(state, view, col, ir, s2)
    return not same_select(ir, s1, s2)


# ---------------------------------------------------------------------------- the SQL people write
@njit
def _two_distinct(state, scratch, k):
    """Two different entries of ``scratch[:k]`` (k >= 2)."""
    i = below(state, k)
    r = below(state, k - 1)
    if r >= i:
        r += 1
    return scratch[i], scratch[r]


@njit
def _null_columns(nvals, n, out):
    """Columns with both NULL and non-NULL cells."""
    k = 0
    for j in range(nvals.shape[0]):
        if 0 < nvals[j] < n:
            out[k] = j
            k += 1
    return k


@njit
def _project_other(state, nvals, a, b, ir, s, scratch):
    """Project a non-empty column other than ``a`` and ``b`` (or one of them if there is
    none); False if the table has no non-empty column."""
    k = 0
    for j in range(nvals.shape[0]):
        if nvals[j] > 0 and j != a and j != b:
            scratch[k] = j
            k += 1
    if k == 0:
        k = non_empty_except(nvals, -100, scratch)
    if k == 0:
        return False
    ir[s + S_PROJ] = scratch[below(state, k)]
    return True


@njit
def _null_test(state, view, keys, types, sbytes, soff, cfg, ir, scratch):
    nvals = view[1]
    s = sel(0)
    k = _null_columns(nvals, keys.shape[1], scratch)
    if k == 0:
        k = non_empty_except(nvals, -100, scratch)
    if k == 0:
        return False
    col = scratch[below(state, k)]
    t = term(s, 0)
    ir[t + T_KIND] = TERM_NULL
    ir[t + T_COL] = col
    ir[t + T_SCALAR] = -1
    ir[t + T_OP] = 1 if uniform(state) < P_NOT_NULL else 0
    ir[s + S_NTERMS] = 1
    return _count_or_column(state, view, keys, types, sbytes, soff, cfg, P_NULL_COUNT, col, col, ir, s, scratch)


@njit
def _column_compare(state, view, keys, types, sbytes, soff, cfg, ir, scratch):
    nvals = view[1]
    s = sel(0)
    m = types.shape[0]
    numbers = cols_of(types, nvals, C_INTEGER, C_REAL, -1, scratch)
    dates = cols_of(types, nvals, C_DATE, -1, -1, scratch[m:])
    if numbers >= 2 and (dates < 2 or uniform(state) < P_NUMBERS_NOT_DATES):
        a, b = _two_distinct(state, scratch, numbers)
    elif dates >= 2:
        a, b = _two_distinct(state, scratch[m:], dates)
    else:
        return False
    t = term(s, 0)
    ir[t + T_KIND] = TERM_COLUMN
    ir[t + T_COL] = a
    ir[t + T_AUX] = b
    ir[t + T_SCALAR] = -1
    ops = (K.OP_GT, K.OP_LT, K.OP_GE, K.OP_LE, K.OP_EQ, K.OP_NE)
    ir[t + T_OP] = ops[min(5, int(uniform(state) * 5.2))]
    ir[s + S_NTERMS] = 1
    return _count_or_column(state, view, keys, types, sbytes, soff, cfg, P_COLUMN_COMPARE_COUNT, a, b, ir, s,
                            scratch)


@njit
def _count_or_column(state, view, keys, types, sbytes, soff, cfg, p_count, a, b, ir, s, scratch):
    """The projection of a SELECT whose first WHERE term is on ``a`` (and ``b``):
    ``COUNT(*)`` with probability ``p_count``, else another column; then, sometimes, AND a
    condition on another column."""
    if uniform(state) < p_count:
        ir[s + S_PROJ] = PROJ_AGGREGATE
        ir[s + S_AGG] = K.AGG_COUNT_STAR
    elif not _project_other(state, view[1], a, b, ir, s, scratch):
        return False
    if uniform(state) < P_AND_ANOTHER and cfg[0] > 1:
        _and_another(state, view, keys, types, sbytes, soff, cfg, a, ir, s, scratch)
    return True


@njit
def _column_arithmetic(state, view, keys, types, sbytes, soff, cfg, ir, scratch):
    nvals = view[1]
    s = sel(0)
    k = cols_of(types, nvals, C_INTEGER, C_REAL, -1, scratch)
    if k < 2:
        return False
    a, b = _two_distinct(state, scratch, k)
    ir[s + S_EXPR_COL] = b
    ir[s + S_EXPR_OP] = ARITH_MINUS if uniform(state) < P_EXPR_MINUS else ARITH_PLUS
    if uniform(state) < P_EXPR_PROJECTED:
        ir[s + S_EXPR_AT] = EXPR_PROJ
        ir[s + S_PROJ] = a
        return where(state, view, keys, types, sbytes, soff, cfg, -100, ir, s, scratch)
    if uniform(state) < P_EXPR_AGGREGATED:
        ir[s + S_EXPR_AT] = EXPR_AGG
        ir[s + S_PROJ] = PROJ_AGGREGATE
        ir[s + S_AGG] = (K.AGG_SUM, K.AGG_AVG, K.AGG_MIN, K.AGG_MAX)[below(state, 4)]
        ir[s + S_AGG_COL] = a
        if ir[s + S_EXPR_OP] == ARITH_MINUS and uniform(state) < P_EXPR_ABS:
            ir[s + S_EXPR_ABS] = 1
        maybe_where(state, view, keys, types, sbytes, soff, cfg, P_WHERE_EXPR, a, ir, s, scratch)
        return True
    ir[s + S_EXPR_AT] = EXPR_ORDER
    if not _project_other(state, nvals, a, b, ir, s, scratch):
        return False
    maybe_where(state, view, keys, types, sbytes, soff, cfg, P_WHERE_EXPR, a, ir, s, scratch)
    ir[s + S_ORDER] = ORDER_COLUMN
    ir[s + S_ORDER_COL] = a
    ir[s + S_DESC] = 1 if uniform(state) < P_DESCENDING else 0
    ir[s + S_LIMIT] = 1 if uniform(state) < P_LIMIT_ONE else 2 + int(uniform(state) * 2)
    return True


@njit
def _having_aggregate(state, view, keys, types, sbytes, soff, cfg, ir, scratch):
    nvals = view[1]
    s = sel(0)
    g = pick_from(state, scratch, repeated_cols(view, scratch))
    if g < 0:
        return False
    n = np.int64(0)
    if uniform(state) < P_HAVING_COUNT_COLUMN:
        k = _null_columns(nvals, keys.shape[1], scratch)
        if k == 0:
            k = non_empty_except(nvals, g, scratch)
        col = pick_from(state, scratch, k)
        func = K.AGG_COUNT
        ops = (K.OP_GE, K.OP_GT, K.OP_EQ)
        op = ops[below(state, 3)]
        n = np.int64(1 + below(state, 2))
    else:
        k = cols_of(types, nvals, C_INTEGER, C_REAL, -1, scratch)
        col = pick_from(state, scratch, k)
        func = (K.AGG_SUM, K.AGG_AVG, K.AGG_MIN, K.AGG_MAX)[below(state, 4)]
        ops = (K.OP_GT, K.OP_LT, K.OP_GE, K.OP_LE)
        op = ops[below(state, 4)]
        if col >= 0:
            n = np.int64(np.floor(keys[col, random_cell(state, view, col)] + 0.5))
    if col < 0 or col == g:
        return False
    ir[s + S_PROJ] = g
    ir[s + S_GROUP] = g
    ir[s + S_HAVING_OP] = op
    ir[s + S_HAVING_N] = n
    ir[s + S_HAVING_AGG] = func
    ir[s + S_HAVING_COL] = col
    return True


@njit
def _group_count_column(state, view, keys, types, sbytes, soff, cfg, ir, scratch):
    nvals = view[1]
    s = sel(0)
    g = pick_from(state, scratch, repeated_cols(view, scratch))
    if g < 0:
        return False
    k = _null_columns(nvals, keys.shape[1], scratch)
    if k == 0:
        k = non_empty_except(nvals, g, scratch)
    c = pick_from(state, scratch, k)
    if c < 0 or c == g:
        return False
    ir[s + S_PROJ] = g
    maybe_where(state, view, keys, types, sbytes, soff, cfg, P_WHERE_MOST_FREQUENT, g, ir, s, scratch)
    ir[s + S_GROUP] = g
    ir[s + S_ORDER] = ORDER_COUNT_COLUMN
    ir[s + S_ORDER_COL] = c
    ir[s + S_DESC] = 1 if uniform(state) < P_MOST_NOT_LEAST else 0
    ir[s + S_LIMIT] = 1
    return True


@njit
def _set_operation(state, view, keys, types, sbytes, soff, cfg, ir, scratch):
    nvals = view[1]
    k = cols_of(types, nvals, C_TEXT, C_INTEGER, C_DATE, scratch)
    col = pick_from(state, scratch, k)
    if col < 0:
        return False
    s1, s2 = sel(1), sel(2)
    ir[s1 + S_PROJ] = col
    ir[s2 + S_PROJ] = col
    if not where(state, view, keys, types, sbytes, soff, cfg, col, ir, s1, scratch):
        return False
    if not where(state, view, keys, types, sbytes, soff, cfg, col, ir, s2, scratch):
        return False
    if same_select(ir, s1, s2):
        return False
    ir[IR_KIND] = Q_SET
    u = uniform(state)
    ir[IR_OP] = SET_UNION if u < P_SET_UNION else (SET_INTERSECT if u < P_SET_UNION + P_SET_INTERSECT
                                                     else SET_EXCEPT)
    return True


@njit
def _multi_column(state, view, keys, types, sbytes, soff, cfg, ir, scratch):
    nvals = view[1]
    s = sel(0)
    k = non_empty_except(nvals, -100, scratch)
    if k < 2:
        return False
    a, b = _two_distinct(state, scratch, k)
    ir[s + S_PROJ] = a
    ir[s + S_PROJ2] = b
    if uniform(state) < P_MULTI_ORDERED:
        k = cols_of(types, nvals, C_INTEGER, C_REAL, C_DATE, scratch)
        ocol = pick_from(state, scratch, k)
        if ocol < 0:
            return False
        maybe_where(state, view, keys, types, sbytes, soff, cfg, P_WHERE_SUPERLATIVE, ocol, ir, s, scratch)
        ir[s + S_ORDER] = ORDER_COLUMN
        ir[s + S_ORDER_COL] = ocol
        ir[s + S_DESC] = 1 if uniform(state) < P_DESCENDING else 0
        ir[s + S_LIMIT] = 1 + below(state, 3)
        return True
    return where(state, view, keys, types, sbytes, soff, cfg, -100, ir, s, scratch)
