"""Execution of a plan row (private): WHERE masks, aggregates, scalar sub-selects, ordering
and grouping on the executor's kernels, and the rules that reject an ambiguous result
(ties under ``ORDER BY ... LIMIT``, several rows for a scalar, a computed real on a
rounding boundary).
"""
from __future__ import annotations

import numpy as np

from symjax.sql._numba import njit
from symjax.sql.lane._conditions import lit_key, sel, term
from symjax.sql.lane._layout import (
    A_CELL,
    A_INT,
    A_NULL,
    A_REAL,
    ARITH_ABS_MINUS,
    ARITH_MINUS,
    ARITH_PLUS,
    CONJ_OR,
    EXPR_AGG,
    EXPR_ORDER,
    EXPR_PROJ,
    IR_KIND,
    IR_OP,
    NO_COLUMN,
    NO_GROUP,
    NO_LIMIT,
    ORDER_COLUMN,
    ORDER_COUNT,
    ORDER_COUNT_COLUMN,
    ORDER_NONE,
    PROJ_AGGREGATE,
    Q_ARITHMETIC,
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
)
from symjax.sql.query import _kernels as K


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
    x = K.column_keys(keys, col)
    kind = ir[t + T_KIND]
    term = np.zeros(n, dtype=np.bool_)
    if kind == TERM_CMP:
        if ir[t + T_SCALAR] < 0:
            key = lit_key(ir, t, 0, col, keys)
        if key == key:
            op = ir[t + T_OP]
            for i in range(n):
                term[i] = K.compare_value(x[i], op, key, 0.0, x)
    elif kind == TERM_BETWEEN:
        lo = lit_key(ir, t, 0, col, keys)
        hi = lit_key(ir, t, 1, col, keys)
        for i in range(n):
            v = x[i]
            term[i] = v == v and v >= lo and v <= hi
    elif kind == TERM_IN:
        for i in range(n):
            v = x[i]
            for q in range(ir[t + T_NLIT]):
                if v == lit_key(ir, t, q, col, keys):
                    term[i] = True
    elif kind == TERM_NULL:
        want_null = ir[t + T_OP] == 0
        for i in range(n):
            term[i] = (x[i] != x[i]) == want_null
    elif kind == TERM_COLUMN:
        y = keys[ir[t + T_AUX]]
        op = ir[t + T_OP]
        for i in range(n):
            term[i] = y[i] == y[i] and K.compare_value(x[i], op, y[i], 0.0, x)
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
        _combine(mask, _term_mask(ir, term(s, k), keys, sbytes, soff, np.nan), ir[s + S_CONJ], k == 0)
    return mask


@njit
def _where_mask(ir, s, keys, ints, is_int, sbytes, soff, amb):
    """Rows of the top-level SELECT ``s``'s WHERE, whose terms may compare with a scalar
    sub-select. ``amb[0]`` is set when a sub-select makes the result ambiguous."""
    n = keys.shape[1]
    mask = np.ones(n, dtype=np.bool_)
    for k in range(ir[s + S_NTERMS]):
        t = term(s, k)
        key = np.nan
        sc = ir[t + T_SCALAR]
        if ir[t + T_KIND] == TERM_CMP and sc >= 0:
            isnull, _, _, key, fragile = _scalar(ir, sel(sc), keys, ints, is_int, sbytes, soff, amb)
            if isnull:
                key = np.nan
            else:
                key = key + ir[t + T_OFFSET]
                if fragile:
                    x = K.column_keys(keys, ir[t + T_COL])
                    for i in range(n):
                        v = x[i]
                        if v == v and abs(v - key) <= 1e-9 * max(1.0, abs(key)):
                            amb[0] = True
        _combine(mask, _term_mask(ir, t, keys, sbytes, soff, key), ir[s + S_CONJ], k == 0)
    return mask


@njit
def _first_row_with(keys, col, mask, key):
    return _first_row_with_key(keys[col], mask, key)


@njit
def _first_row_with_key(x, mask, key):
    for i in range(x.shape[0]):
        if mask[i] and x[i] == key:
            return i
    return -1


@njit
def _expr_values(ir, s, a, keys, ints, is_int):
    """Column arithmetic of SELECT ``s`` with ``a`` on the left, row by row: ``(keys, ints,
    is_integer)``, NaN where either side is NULL. Integers stay exact (the lane's integer
    columns hold less than 2**53 in all); a real on either side makes the result real."""
    b = ir[s + S_EXPR_COL]
    minus = ir[s + S_EXPR_OP] == ARITH_MINUS
    take_abs = ir[s + S_EXPR_ABS] == 1
    n = keys.shape[1]
    vk = np.empty(n, dtype=np.float64)
    vi = np.zeros(n, dtype=np.int64)
    isint = is_int[a] and is_int[b]
    for i in range(n):
        x = keys[a, i]
        y = keys[b, i]
        if x != x or y != y:
            vk[i] = np.nan
        elif isint:
            v = ints[a, i] - ints[b, i] if minus else ints[a, i] + ints[b, i]
            if take_abs and v < 0:
                v = -v
            vi[i] = v
            vk[i] = float(v)
        else:
            f = x - y if minus else x + y
            vk[i] = abs(f) if take_abs else f
    return vk, vi, isint


@njit
def _aggregate_value(ir, s, keys, ints, is_int, mask):
    """(isnull, is_integer, int value, key/real value, fragile, row) of SELECT ``s``'s
    aggregate over the masked rows; ``row`` is a row holding a MIN/MAX value."""
    func = ir[s + S_AGG]
    col = ir[s + S_AGG_COL]
    if ir[s + S_EXPR_AT] == EXPR_AGG:
        vk, vi, isint = _expr_values(ir, s, col, keys, ints, is_int)
        value, ivalue, count = K.aggregate(vk, vi, isint, mask, func, False)
        if count == 0:
            return True, False, np.int64(0), np.nan, False, -1
        if func == K.AGG_MIN or func == K.AGG_MAX:
            if isint:
                return False, True, vi[_first_row_with_key(vk, mask, value)], value, False, -1
            return False, False, np.int64(0), value, False, -1
        if func == K.AGG_SUM and isint:
            return False, True, np.int64(ivalue), float(ivalue), False, -1
        return False, False, np.int64(0), value, not isint, -1
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
def _put(akind, aint, areal, akey, n, kind, iv, fv, key):
    akind[n] = kind
    aint[n] = iv
    areal[n] = fv
    akey[n] = key
    return n + 1


@njit
def execute_row(ir, keys, ints, is_int, sbytes, soff, akind, aint, areal, akey, cap):
    """Run a plan. Returns (number of values, or -1 if more than ``cap`` rows; ordered;
    ambiguous). Values go to the a* arrays (sized for two values per row), row by row;
    cells as A_CELL with ``j * num_rows + i``."""
    n_rows = keys.shape[1]
    amb = np.zeros(1, dtype=np.bool_)
    kind = ir[IR_KIND]
    if kind == Q_SET:
        return _set_rows(ir, keys, sbytes, soff, akind, aint, areal, akey, cap)
    if kind != Q_SELECT:
        ln, li, liv, lkey, lf = _scalar(ir, sel(1), keys, ints, is_int, sbytes, soff, amb)
        rn, ri, riv, rkey, rf = _scalar(ir, sel(2), keys, ints, is_int, sbytes, soff, amb)
        if ln or rn:
            _put(akind, aint, areal, akey, 0, A_NULL, 0, 0.0, np.nan)
            return 1, False, amb[0]
        if kind == Q_ARITHMETIC:
            plus = ir[IR_OP] == ARITH_PLUS
            take_abs = ir[IR_OP] == ARITH_ABS_MINUS
            if li and ri:
                v = liv + riv if plus else liv - riv
                if take_abs and v < 0:
                    v = -v
                _put(akind, aint, areal, akey, 0, A_INT, v, float(v), float(v))
            else:
                x = lkey + rkey if plus else lkey - rkey
                if take_abs:
                    x = abs(x)
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

    s = sel(0)
    mask = _where_mask(ir, s, keys, ints, is_int, sbytes, soff, amb)
    proj = ir[s + S_PROJ]
    limit = ir[s + S_LIMIT]
    if ir[s + S_GROUP] != NO_GROUP:
        return _group_rows(ir, s, keys, ints, is_int, mask, akind, aint, areal, akey, cap, amb)

    if proj == PROJ_AGGREGATE:
        isnull, isint, iv, fv, fragile, row = _aggregate_value(ir, s, keys, ints, is_int, mask)
        if isnull:
            _put(akind, aint, areal, akey, 0, A_NULL, 0, 0.0, np.nan)
        elif row >= 0:
            _put(akind, aint, areal, akey, 0, A_CELL, ir[s + S_AGG_COL] * n_rows + row, fv, fv)
        elif isint:
            _put(akind, aint, areal, akey, 0, A_INT, iv, fv, fv)
        else:
            if fragile and K.near_rounding_boundary(fv):
                amb[0] = True
            _put(akind, aint, areal, akey, 0, A_REAL, 0, fv, fv)
        return 1, False, amb[0]

    order_kind = ir[s + S_ORDER]
    expr_at = ir[s + S_EXPR_AT]
    proj2 = ir[s + S_PROJ2]
    if order_kind == ORDER_COLUMN:
        ocol = ir[s + S_ORDER_COL]
        if expr_at == EXPR_ORDER:
            okeys, _, _ = _expr_values(ir, s, ocol, keys, ints, is_int)
        else:
            okeys = K.column_keys(keys, ocol)
        idx = K.order_rows(okeys, mask, ir[s + S_DESC] == 1)
    else:
        ocol = -100
        okeys = keys[0]
        idx = np.flatnonzero(mask)
    if expr_at == EXPR_PROJ:
        pkeys, pints, pisint = _expr_values(ir, s, proj, keys, ints, is_int)
    else:
        pkeys = K.column_keys(keys, proj)
        pints = ints[0]
        pisint = False
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
        if K.ties_ambiguous(okeys[idx], pkeys[idx], n_out):
            amb[0] = True
        if proj2 != NO_COLUMN and K.ties_ambiguous(okeys[idx], keys[proj2][idx], n_out):
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
        elif expr_at == EXPR_PROJ:
            if pisint:
                n = _put(akind, aint, areal, akey, n, A_INT, pints[i], key, key)
            else:
                n = _put(akind, aint, areal, akey, n, A_REAL, 0, key, key)
        else:
            n = _put(akind, aint, areal, akey, n, A_CELL, proj * n_rows + i, key, key)
        if proj2 != NO_COLUMN:
            key = keys[proj2, i]
            if key != key:
                n = _put(akind, aint, areal, akey, n, A_NULL, 0, 0.0, np.nan)
            else:
                n = _put(akind, aint, areal, akey, n, A_CELL, proj2 * n_rows + i, key, key)
    if ocol == -100:
        if proj2 != NO_COLUMN:
            _canonical_rows(akind, aint, areal, akey, n // 2)
        else:
            _canonical_order(akind, aint, areal, akey, n)
    return n, ocol != -100, amb[0]


@njit
def _group_aggregates(keys, ints, is_int, mask, g, gkeys, col, func):
    """``func`` over ``col`` in each group of column ``g`` (``gkeys`` as
    ``K.group_counts`` gives them): ``(values, nulls)``; COUNT is never NULL."""
    ng = gkeys.shape[0]
    n = keys.shape[1]
    vals = np.empty(ng, dtype=np.float64)
    nulls = np.zeros(ng, dtype=np.bool_)
    gm = np.empty(n, dtype=np.bool_)
    for q in range(ng):
        k0 = gkeys[q]
        for i in range(n):
            x = keys[g, i]
            gm[i] = mask[i] and (x == k0 or (x != x and k0 != k0))
        value, ivalue, count = K.aggregate(keys[col], ints[col], is_int[col], gm, func, False)
        if func == K.AGG_COUNT:
            vals[q] = float(count)
        elif count == 0:
            nulls[q] = True
            vals[q] = np.nan
        elif func == K.AGG_SUM and is_int[col]:
            vals[q] = float(ivalue)
        else:
            vals[q] = value
    return vals, nulls


@njit
def _group_rows(ir, s, keys, ints, is_int, mask, akind, aint, areal, akey, cap, amb):
    """A SELECT with ``GROUP BY``: its groups' keys after ``HAVING``, ``ORDER BY COUNT``
    and ``LIMIT``."""
    n_rows = keys.shape[1]
    g = ir[s + S_GROUP]
    limit = ir[s + S_LIMIT]
    gkeys, counts, first = K.group_counts(keys[g], mask)
    ng = gkeys.shape[0]
    keep = np.ones(ng, dtype=np.bool_)
    hop = ir[s + S_HAVING_OP]
    if hop >= 0:
        target = float(ir[s + S_HAVING_N])
        hagg = ir[s + S_HAVING_AGG]
        if hagg == K.AGG_COUNT_STAR:
            for q in range(ng):
                keep[q] = K.compare_value(float(counts[q]), hop, target, 0.0, gkeys)
        else:
            hcol = ir[s + S_HAVING_COL]
            hv, hnull = _group_aggregates(keys, ints, is_int, mask, g, gkeys, hcol, hagg)
            # SQLite adds a group's reals in its sorter's order: a sum or mean that close
            # to the threshold could fall on either side
            fragile = not is_int[hcol] and (hagg == K.AGG_SUM or hagg == K.AGG_AVG)
            for q in range(ng):
                keep[q] = not hnull[q] and K.compare_value(hv[q], hop, target, 0.0, gkeys)
                if fragile and not hnull[q] and abs(hv[q] - target) <= 1e-9 * max(1.0, abs(target)):
                    amb[0] = True
    idx = np.flatnonzero(keep)
    order_kind = ir[s + S_ORDER]
    by_count = order_kind == ORDER_COUNT or order_kind == ORDER_COUNT_COLUMN
    if order_kind == ORDER_COUNT_COLUMN:
        ocounts, _ = _group_aggregates(keys, ints, is_int, mask, g, gkeys, ir[s + S_ORDER_COL], K.AGG_COUNT)
    else:
        ocounts = counts.astype(np.float64)
    if by_count:
        sk = np.empty(idx.shape[0], dtype=np.float64)
        for q in range(idx.shape[0]):
            c = ocounts[idx[q]]
            sk[q] = -c if ir[s + S_DESC] == 1 else c
        idx = idx[K.stable_argsort(sk)]
    nsel = idx.shape[0]
    n_out = nsel if limit == NO_LIMIT else max(0, min(limit, nsel))
    if by_count and n_out > 0:
        okeys = np.empty(nsel, dtype=np.float64)
        pk = np.empty(nsel, dtype=np.float64)
        for q in range(nsel):
            okeys[q] = ocounts[idx[q]]
            pk[q] = gkeys[idx[q]]
        if K.ties_ambiguous(okeys, pk, n_out):
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


@njit
def _set_rows(ir, keys, sbytes, soff, akind, aint, areal, akey, cap):
    """``SELECT col ... UNION|INTERSECT|EXCEPT SELECT col ...`` (SELECTs 1 and 2, one
    column): the distinct values, NULL counting as one value, in canonical order."""
    n_rows = keys.shape[1]
    col = ir[sel(1) + S_PROJ]
    left = _plain_where_mask(ir, sel(1), keys, sbytes, soff)
    right = _plain_where_mask(ir, sel(2), keys, sbytes, soff)
    x = K.column_keys(keys, col)
    order = K.stable_argsort(x)  # NaN last; equal keys in row order
    op = ir[IR_OP]
    n = 0
    start = 0
    while start < n_rows:
        first = order[start]
        k0 = x[first]
        end = start + 1
        while end < n_rows and (x[order[end]] == k0 or (k0 != k0 and x[order[end]] != x[order[end]])):
            end += 1
        inl = False
        inr = False
        for q in range(start, end):
            inl = inl or left[order[q]]
            inr = inr or right[order[q]]
        if op == SET_UNION:
            take = inl or inr
        elif op == SET_EXCEPT:
            take = inl and not inr
        else:
            take = inl and inr
        if take:
            if n == cap:
                return -1, False, False
            if k0 != k0:
                n = _put(akind, aint, areal, akey, n, A_NULL, 0, 0.0, np.nan)
            else:
                n = _put(akind, aint, areal, akey, n, A_CELL, col * n_rows + first, k0, k0)
        start = end
    _canonical_order(akind, aint, areal, akey, n)
    return n, False, False


@njit
def _canonical_rows(akind, aint, areal, akey, nrows):
    """Sort two-value rows by their first value, then their second (each NULL first,
    then by key), as ``canonical_answer`` orders several-column rows."""
    for q in range(1, nrows):
        r = q
        while r > 0 and _row_after(akind, akey, 2 * (r - 1), 2 * r):
            for v in range(2):
                a, b = 2 * (r - 1) + v, 2 * r + v
                akind[a], akind[b] = akind[b], akind[a]
                aint[a], aint[b] = aint[b], aint[a]
                areal[a], areal[b] = areal[b], areal[a]
                akey[a], akey[b] = akey[b], akey[a]
            r -= 1


@njit
def _row_after(akind, akey, a, b):
    if _after(akind[a], akey[a], akind[b], akey[b]):
        return True
    if _after(akind[b], akey[b], akind[a], akey[a]):
        return False
    return _after(akind[a + 1], akey[a + 1], akind[b + 1], akey[b + 1])


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
