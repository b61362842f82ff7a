"""Each executor kernel against a slow, obviously correct pure-Python twin."""
import math
import random

import numpy as np
import pytest

from symjax.sql.query import _kernels as K

NAN = math.nan


def _random_keys(rng, num_columns, num_rows, null_p=0.15, distinct=6):
    keys = np.empty((num_columns, num_rows))
    for c in range(num_columns):
        for i in range(num_rows):
            keys[c, i] = NAN if rng.random() < null_p else float(rng.randrange(distinct))
    return keys


def _twin_leaf(x, op, a, b, in_values):
    if math.isnan(x):
        return False
    return {
        K.OP_EQ: lambda: x == a,
        K.OP_NE: lambda: not math.isnan(a) and x != a,
        K.OP_LT: lambda: x < a,
        K.OP_GT: lambda: x > a,
        K.OP_LE: lambda: x <= a,
        K.OP_GE: lambda: x >= a,
        K.OP_BETWEEN: lambda: a <= x <= b,
        K.OP_IN: lambda: x in list(in_values[int(a):int(b)]),
    }[op]()


def _twin_filter(keys, codes, operands, in_values):
    ops, cols = [int(x) for x in codes[:, 0]], [int(x) for x in codes[:, 1]]
    a, b = list(operands[:, 0]), list(operands[:, 1])
    n = keys.shape[1]
    if len(ops) == 0:
        return [True] * n
    stack = []
    for k, op in enumerate(ops):
        if op in (K.OP_AND, K.OP_OR):
            right, left = stack.pop(), stack.pop()
            f = (lambda p, q: p and q) if op == K.OP_AND else (lambda p, q: p or q)
            stack.append([f(p, q) for p, q in zip(left, right)])
        elif op in (K.OP_TRUE, K.OP_FALSE):
            stack.append([op == K.OP_TRUE] * n)
        else:
            col = cols[k]
            stack.append([
                _twin_leaf(float(i + 1) if col == K.ROWID_COLUMN else keys[col, i], op, a[k], b[k], in_values)
                for i in range(n)
            ])
    assert len(stack) == 1
    return stack[0]


def _random_program(rng, num_columns, depth=0):
    """(ops, cols, a, b) postfix lists and the IN values they use."""
    if depth < 2 and rng.random() < 0.4:
        left = _random_program(rng, num_columns, depth + 1)
        right = _random_program(rng, num_columns, depth + 1)
        return left + right + [(rng.choice([K.OP_AND, K.OP_OR]), 0, 0.0, 0.0, None)]
    op = rng.choice([K.OP_EQ, K.OP_NE, K.OP_LT, K.OP_GT, K.OP_LE, K.OP_GE, K.OP_BETWEEN, K.OP_IN,
                     K.OP_TRUE, K.OP_FALSE])
    col = rng.choice(list(range(num_columns)) + [K.ROWID_COLUMN])
    a = rng.choice([NAN, 0.0, 1.0, 2.5, 3.0, 5.0, math.inf])
    b = a + rng.randrange(4)
    vals = [float(rng.randrange(6)) for _ in range(rng.randrange(4))]
    return [(op, col, a, b, vals if op == K.OP_IN else None)]


@pytest.mark.parametrize("seed", range(40))
def test_filter_rows_matches_twin(seed):
    rng = random.Random(seed)
    keys = _random_keys(rng, 3, rng.randrange(1, 30))
    prog = _random_program(rng, 3)
    ops, cols, a, b, in_values = [], [], [], [], []
    for op, col, x, y, vals in prog:
        if vals is not None:
            x, y = float(len(in_values)), float(len(in_values) + len(vals))
            in_values.extend(vals)
        ops.append(op), cols.append(col), a.append(x), b.append(y)
    args = (np.array(list(zip(ops, cols)), np.int64).reshape(-1, 2),
            np.array(list(zip(a, b)), np.float64).reshape(-1, 2),
            np.asarray(in_values, np.float64))
    got = K.filter_rows(keys, *args).tolist()
    assert got == _twin_filter(keys, *args)


def test_filter_rows_empty_program_keeps_all():
    keys = np.zeros((1, 4))
    assert K.filter_rows(keys, np.zeros((0, 2), np.int64), np.zeros((0, 2)), np.zeros(0)).all()


def _twin_aggregate(keys, ints, is_integer, mask, func, distinct):
    sel = [i for i in range(len(keys)) if mask[i]]
    if func == K.AGG_COUNT_STAR:
        return float(len(sel)), len(sel), len(sel)
    vals = [i for i in sel if not math.isnan(keys[i])]
    if func == K.AGG_COUNT:
        c = len({keys[i] for i in vals}) if distinct else len(vals)
        return float(c), c, c
    if not vals:
        return NAN, 0, 0
    if func in (K.AGG_SUM, K.AGG_AVG):
        fsum = 0.0
        for i in vals:  # row order, like SQLite
            fsum += float(ints[i]) if is_integer else keys[i]
        isum = sum(int(ints[i]) for i in vals) if is_integer else 0
        if func == K.AGG_SUM:
            return fsum, isum, len(vals)
        return fsum / len(vals), 0, len(vals)
    pick = min if func == K.AGG_MIN else max
    return pick(keys[i] for i in vals), 0, len(vals)


@pytest.mark.parametrize("seed", range(30))
@pytest.mark.parametrize("func", [K.AGG_COUNT_STAR, K.AGG_COUNT, K.AGG_SUM, K.AGG_AVG, K.AGG_MIN, K.AGG_MAX])
def test_aggregate_matches_twin(seed, func):
    rng = random.Random(seed * 7 + func)
    n = rng.randrange(1, 25)
    is_integer = rng.random() < 0.5
    if is_integer:
        ints = np.array([rng.randrange(-50, 1000) for _ in range(n)], np.int64)
        keys = ints.astype(np.float64)
    else:
        ints = np.zeros(n, np.int64)
        keys = np.array([round(rng.uniform(-100, 100), 2) for _ in range(n)])
    keys[[rng.random() < 0.2 for _ in range(n)]] = NAN
    mask = np.array([rng.random() < 0.7 for _ in range(n)])
    for distinct in (False, True):
        got = K.aggregate(keys, ints, is_integer, mask, func, distinct and func == K.AGG_COUNT)
        want = _twin_aggregate(keys, ints, is_integer, mask, func, distinct and func == K.AGG_COUNT)
        assert (math.isnan(got[0]) and math.isnan(want[0])) or got[0] == want[0]
        assert got[1:] == want[1:]


def _twin_order(keys, mask, descending):
    rows = [i for i in range(len(keys)) if mask[i]]
    def key(i):
        x = keys[i]
        v = -math.inf if math.isnan(x) else x  # NULL is smallest
        return -v if descending else v
    return sorted(rows, key=key)  # Python's sort is stable


@pytest.mark.parametrize("seed", range(40))
def test_order_rows_matches_twin(seed):
    rng = random.Random(seed)
    keys = _random_keys(rng, 1, rng.randrange(1, 30))[0]
    mask = np.array([rng.random() < 0.8 for _ in range(len(keys))])
    for desc in (False, True):
        assert K.order_rows(keys, mask, desc).tolist() == _twin_order(keys, mask, desc)


def _twin_groups(keys, mask):
    groups = {}
    firsts = {}
    for i in range(len(keys)):
        if not mask[i]:
            continue
        k = "NULL" if math.isnan(keys[i]) else keys[i]
        groups[k] = groups.get(k, 0) + 1
        firsts.setdefault(k, i)
    order = (["NULL"] if "NULL" in groups else []) + sorted(k for k in groups if k != "NULL")
    return order, [groups[k] for k in order], [firsts[k] for k in order]


@pytest.mark.parametrize("seed", range(40))
def test_group_counts_matches_twin(seed):
    rng = random.Random(seed)
    keys = _random_keys(rng, 1, rng.randrange(1, 30))[0]
    mask = np.array([rng.random() < 0.8 for _ in range(len(keys))])
    gk, counts, first = K.group_counts(keys, mask)
    order, want_counts, want_first = _twin_groups(keys, mask)
    assert ["NULL" if math.isnan(x) else x for x in gk.tolist()] == order
    assert counts.tolist() == want_counts
    assert first.tolist() == want_first


@pytest.mark.parametrize("seed", range(4))
def test_stable_argsort_matches_numpy(seed):
    """Insertion sort for short arrays, numpy's merge sort beyond: both numpy's stable order
    (NaN last, ties in index order, -0.0 equal to 0.0)."""
    rng = np.random.default_rng(seed)
    for n in list(range(0, 70)) + [200]:
        x = rng.choice([np.nan, -np.inf, np.inf, -0.0, 0.0, 1.5, -2.0, 3.0], size=n)
        if seed % 2:
            x = np.where(rng.random(n) < 0.5, rng.normal(size=n), x)
        got = K.stable_argsort(np.ascontiguousarray(x, dtype=np.float64))
        assert got.tolist() == np.argsort(x, kind="stable").tolist(), (n, x.tolist())
