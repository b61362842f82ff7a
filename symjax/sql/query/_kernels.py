"""Private numba kernels of the executor (STYLE habit 1).

They see only clean arrays: ``keys`` is a C-contiguous ``float64[num_columns, num_rows]``
matrix of sort keys with NaN for NULL (text = rank of the string in code-point order,
numbers = value, dates = yyyymmdd), ``ints`` the ``int64`` values of integer columns.
Validation, literal coercion and result decoding live in :mod:`symjax.sql.query.executor`; every
kernel has a slow pure-Python twin in ``tests/test_kernels.py``.

A ``WHERE`` clause arrives compiled to a postfix program: ``codes[k] = (op, column)`` and
``operands[k] = (a, b)``. Leaves push one boolean per row, ``AND``/``OR`` pop two.
SQL's three-valued logic reduces to two values here because plans have no ``NOT``: a NULL
comparison is never TRUE, and a row is kept only when the predicate is TRUE.
"""
from __future__ import annotations

import numpy as np

from symjax.sql._numba import njit

# opcodes of the predicate program
OP_EQ, OP_NE, OP_LT, OP_GT, OP_LE, OP_GE = 0, 1, 2, 3, 4, 5
OP_BETWEEN = 6  # a <= x <= b
OP_IN = 7  # x in in_values[int(a):int(b)]
OP_AND = 8
OP_OR = 9
OP_TRUE = 10
OP_FALSE = 11
ROWID_COLUMN = -1

# aggregate codes
AGG_COUNT_STAR, AGG_COUNT, AGG_SUM, AGG_AVG, AGG_MIN, AGG_MAX = 0, 1, 2, 3, 4, 5

_INSERTION_MAX = 20  # stable_argsort sorts arrays up to this long by insertion (faster below)


@njit
def _sorts_after(a, b):
    """``a`` comes strictly after ``b`` in numpy's sort order (NaN last, NaNs equal)."""
    if a != a:
        return b == b
    return b == b and a > b


@njit
def stable_argsort(x):
    """``np.argsort(x, kind="stable")`` of a ``float64`` array (NaN last, equal keys in index
    order): insertion sort for the short arrays of table columns, numpy's merge sort for
    longer ones."""
    n = x.shape[0]
    if n > _INSERTION_MAX:
        return np.argsort(x, kind="mergesort")
    order = np.empty(n, dtype=np.int64)
    for i in range(n):
        v = x[i]
        r = i - 1
        while r >= 0 and _sorts_after(x[order[r]], v):
            order[r + 1] = order[r]
            r -= 1
        order[r + 1] = i
    return order


@njit
def compare_value(x: float, op: int, a: float, b: float, in_values: np.ndarray) -> bool:
    if x != x:  # NULL cell: no comparison is TRUE
        return False
    if op == OP_EQ:
        return x == a
    if op == OP_NE:
        return a == a and x != a
    if op == OP_LT:
        return x < a
    if op == OP_GT:
        return x > a
    if op == OP_LE:
        return x <= a
    if op == OP_GE:
        return x >= a
    if op == OP_BETWEEN:
        return x >= a and x <= b
    if op == OP_IN:
        for k in range(int(a), int(b)):
            if in_values[k] == x:
                return True
        return False
    return False


@njit
def filter_rows(keys, codes, operands, in_values):
    """Boolean mask of the rows for which the compiled predicate is TRUE."""
    num_rows = keys.shape[1]
    num_ops = codes.shape[0]
    if num_ops == 0:
        return np.ones(num_rows, dtype=np.bool_)
    stack = np.zeros((num_ops, num_rows), dtype=np.bool_)
    top = 0
    for k in range(num_ops):
        op = codes[k, 0]
        if op == OP_AND or op == OP_OR:
            top -= 1
            for i in range(num_rows):
                if op == OP_AND:
                    stack[top - 1, i] = stack[top - 1, i] and stack[top, i]
                else:
                    stack[top - 1, i] = stack[top - 1, i] or stack[top, i]
        elif op == OP_TRUE or op == OP_FALSE:
            for i in range(num_rows):
                stack[top, i] = op == OP_TRUE
            top += 1
        else:
            c = codes[k, 1]
            a = operands[k, 0]
            b = operands[k, 1]
            for i in range(num_rows):
                x = float(i + 1) if c == ROWID_COLUMN else keys[c, i]
                stack[top, i] = compare_value(x, op, a, b, in_values)
            top += 1
    return stack[0].copy()


@njit
def aggregate(key_col, int_col, is_integer, mask, func, distinct):
    """One aggregate over the masked rows, SQLite semantics.

    Returns ``(value, int_value, count)``: ``count`` is the number of non-NULL inputs
    (rows for COUNT(*)); SUM over an integer column is exact in ``int_value``; SUM over
    reals and AVG accumulate in double precision in row order, as SQLite does; MIN/MAX
    give the extreme key. With no non-NULL input, SUM/AVG/MIN/MAX are NULL (count 0).
    """
    n = key_col.shape[0]
    if func == AGG_COUNT_STAR:
        c = 0
        for i in range(n):
            if mask[i]:
                c += 1
        return float(c), c, c
    if func == AGG_COUNT and distinct:
        buf = np.empty(n, dtype=np.float64)
        m = 0
        for i in range(n):
            x = key_col[i]
            if mask[i] and x == x:
                buf[m] = x
                m += 1
        if m == 0:
            return 0.0, 0, 0
        s = np.sort(buf[:m])
        u = 1
        for k in range(1, m):
            if s[k] != s[k - 1]:
                u += 1
        return float(u), u, u
    count = 0
    fsum = 0.0
    isum = 0
    lo = np.inf
    hi = -np.inf
    for i in range(n):
        if not mask[i]:
            continue
        x = key_col[i]
        if x != x:
            continue
        count += 1
        if func == AGG_SUM or func == AGG_AVG:
            if is_integer:
                isum += int_col[i]
                fsum += float(int_col[i])
            else:
                fsum += x
        elif func == AGG_MIN:
            if x < lo:
                lo = x
        elif func == AGG_MAX:
            if x > hi:
                hi = x
    if func == AGG_COUNT:
        return float(count), count, count
    if count == 0:
        return np.nan, 0, 0
    if func == AGG_SUM:
        return fsum, isum, count
    if func == AGG_AVG:
        return fsum / count, 0, count
    if func == AGG_MIN:
        return lo, 0, count
    return hi, 0, count


@njit
def order_rows(key_col, mask, descending):
    """Indices of the masked rows sorted by key, SQLite order: NULLs first when
    ascending, last when descending; equal keys keep table order (stable)."""
    n = key_col.shape[0]
    idx = np.empty(n, dtype=np.int64)
    sk = np.empty(n, dtype=np.float64)
    m = 0
    for i in range(n):
        if mask[i]:
            x = key_col[i]
            if x != x:
                x = -np.inf  # NULL sorts before every value
            idx[m] = i
            sk[m] = -x if descending else x
            m += 1
    order = stable_argsort(sk[:m])
    return idx[:m][order]


@njit
def group_counts(key_col, mask):
    """``GROUP BY`` one column: the distinct keys in ascending order (NULL group first,
    as a NaN) with their row counts and each group's first row (table order)."""
    n = key_col.shape[0]
    buf = np.empty(n, dtype=np.float64)
    rows = np.empty(n, dtype=np.int64)
    m = 0
    nulls = 0
    first_null = -1
    for i in range(n):
        if mask[i]:
            x = key_col[i]
            if x != x:
                nulls += 1
                if first_null < 0:
                    first_null = i
            else:
                buf[m] = x
                rows[m] = i
                m += 1
    order = stable_argsort(buf[:m])
    sk = buf[:m][order]
    sr = rows[:m][order]
    g = 0
    for k in range(m):
        if k == 0 or sk[k] != sk[k - 1]:
            g += 1
    total = g + (1 if nulls > 0 else 0)
    keys = np.empty(total, dtype=np.float64)
    counts = np.zeros(total, dtype=np.int64)
    first = np.empty(total, dtype=np.int64)
    pos = 0
    if nulls > 0:
        keys[0] = np.nan
        counts[0] = nulls
        first[0] = first_null
        pos = 1
    for k in range(m):
        if k == 0 or sk[k] != sk[k - 1]:
            keys[pos] = sk[k]
            first[pos] = sr[k]
            pos += 1
        counts[pos - 1] += 1
    return keys, counts, first


# ---------------------------------------------------------------------------- fused entry points
# One Python -> numba call per SELECT: the dispatch costs more than the work on ~15 rows.


@njit
def select_rows(keys, codes, operands, in_values, order_column, descending):
    """Rows where the predicate holds, in table order, or sorted by ``order_column``
    (>= 0, or ROWID_COLUMN for rowid order is table order; -2 for none)."""
    mask = filter_rows(keys, codes, operands, in_values)
    if order_column == -2 or order_column == ROWID_COLUMN and not descending:
        return np.flatnonzero(mask)
    if order_column == ROWID_COLUMN:
        col = np.arange(1, keys.shape[1] + 1).astype(np.float64)
        return order_rows(col, mask, descending)
    return order_rows(keys[order_column], mask, descending)


@njit
def select_aggregate(keys, ints, is_integer, codes, operands, in_values, column, func, distinct):
    """``aggregate`` over the rows where the predicate holds (``column`` ROWID: rowid)."""
    mask = filter_rows(keys, codes, operands, in_values)
    if column == ROWID_COLUMN:
        ids = np.arange(1, keys.shape[1] + 1)
        return aggregate(ids.astype(np.float64), ids.astype(np.int64), True, mask, func, distinct)
    c = max(column, 0)
    return aggregate(keys[c], ints[c], is_integer, mask, func, distinct)


@njit
def select_groups(keys, codes, operands, in_values, column):
    """``group_counts`` of ``column`` over the rows where the predicate holds."""
    mask = filter_rows(keys, codes, operands, in_values)
    if column == ROWID_COLUMN:
        return group_counts(np.arange(1, keys.shape[1] + 1).astype(np.float64), mask)
    return group_counts(keys[column], mask)


# ---------------------------------------------------------------------------- shared checks
# The executor (one query, from Python) and the lane (a block, in numba) apply the same
# rules; each is written once, here.
@njit
def column_keys(keys, col):
    """Column ``col``'s sort keys (``keys[col]``), or the row ids ``1..n`` for ``ROWID_COLUMN``."""
    if col == ROWID_COLUMN:
        return np.arange(1, keys.shape[1] + 1).astype(np.float64)
    return keys[col]


@njit
def near_rounding_boundary(x):
    """Whether a computed real sits so close to a two-decimal rounding boundary that the
    order of summation could flip its printed digits (the result is then unspecified)."""
    y = abs(x) * 100.0
    frac = y - np.floor(y)
    return abs(frac - 0.5) < max(1e-7, y * 1e-12)


@njit
def ties_ambiguous(okeys, pkeys, n_out):
    """Whether rows tied on the sort key ``okeys`` (NULLs tie with each other), some of
    them among the first ``n_out``, project different values ``pkeys``: another
    tie-break would print something else."""
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
