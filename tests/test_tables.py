"""Tests of symjax.sql.synth.tables: every numba kernel against a slow pure-Python twin, the
distributions, determinism across processes, realism invariants, SQLite loading, config
validation, and the word lists."""
from __future__ import annotations

import bisect
import datetime as dt
import hashlib
import math
import os
import sqlite3
import subprocess
import sys
from importlib import resources
from pathlib import Path

import numpy as np
import pytest

from symjax.errors import ConfigError
from symjax.sql import _random_kernels as R
from symjax.sql.synth import _column_kernels as K
from symjax.sql.synth import _table_kernels as TK
from symjax.sql.synth import tables as T
from symjax.sql.synth import vocab
from symjax.sql.synth.tables import (
    ARCHETYPES,
    TableConfig,
    generate_table,
    synthetic_tables,
    table_seed,
)
from symjax.sql.table import Table, format_number

M64 = (1 << 64) - 1
REPO = Path(__file__).resolve().parents[1]
EPOCH_ORDINAL = dt.date(1970, 1, 1).toordinal()


# ============================================================================ slow twins
class Rng:
    """Twin of the kernels' splitmix64 counter (``state`` is a Python int)."""

    def __init__(self, state: int):
        self.state = state & M64

    @staticmethod
    def mix(z: int) -> int:
        z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & M64
        z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & M64
        return z ^ (z >> 31)

    def next(self) -> int:
        self.state = (self.state + 0x9E3779B97F4A7C15) & M64
        return self.mix(self.state)

    def uniform(self) -> float:
        return float(self.next() >> 11) / 9007199254740992.0

    def below(self, n: int) -> int:
        return (self.next() >> 11) % n

    def pick(self, cdf) -> int:
        return min(bisect.bisect_right(list(cdf), self.uniform()), len(cdf) - 1)


def py_round_to(x: float, dec: int) -> float:
    if dec <= 0:
        return float(math.floor(x + 0.5))
    scale = 10.0 if dec == 1 else 100.0
    return math.floor(x * scale + 0.5) / scale


def py_days(y: int, m: int, d: int) -> int:
    return dt.date(y, m, d).toordinal() - EPOCH_ORDINAL


def py_civil(z: int) -> int:
    d = dt.date.fromordinal(z + EPOCH_ORDINAL)
    return d.year * 10000 + d.month * 100 + d.day


def py_days_of(yyyymmdd: int) -> int:
    return py_days(yyyymmdd // 10000, yyyymmdd // 100 % 100, yyyymmdd % 100)


def py_span_start(rng, lo, hi, total, earliest):
    if total <= hi - lo:
        return lo + rng.below(hi - total - lo + 1)
    return max(hi - total, earliest)


def py_goals(rng: Rng) -> int:
    u = rng.uniform()
    return sum(1 for c in K.GOALS_CDF if u >= c)


class Spec:
    """Python copies of the kernel's spec arrays."""

    def __init__(self, args):
        (self.arch_cdf, self.arch_cols, self.col_int, self.col_real, self.space_info,
         self.tmpl_slots, self.tmpl_cdf, self.canon, self.rows_cdf, self.min_rows, self.null_p,
         self.max_columns) = [a.tolist() if isinstance(a, np.ndarray) else a for a in args]

    def templates(self, space):
        start, count = self.space_info[space][R.SP_START], self.space_info[space][R.SP_COUNT]
        return start, self.tmpl_cdf[start:start + count]


def py_sample_item(rng, space, fixed_t, spec):
    start, cdf = spec.templates(space)
    t = fixed_t if fixed_t >= 0 else (0 if len(cdf) == 1 else rng.pick(cdf))
    v = t << 48
    sizes, offsets = spec.tmpl_slots[start + t][:3], spec.tmpl_slots[start + t][3:]
    for slot, (size, offset) in enumerate(zip(sizes, offsets)):
        if size > 0:
            v |= spec.canon[offset + rng.below(size)] << (32 - 16 * slot)
    return v


def py_sample_distinct(rng, k, space, fixed_t, spec):
    info = spec.space_info[space]
    size, _, _, offset, _, _ = spec.tmpl_slots[info[R.SP_START]]
    words = spec.canon[offset:offset + size]
    out = []
    if info[R.SP_SIMPLE] and 2 * k > size:
        perm = list(range(size))
        for i in range(k):
            if i < size:
                r = i + rng.below(size - i)
                perm[i], perm[r] = perm[r], perm[i]
                out.append(words[perm[i]] << 32)
            else:
                out.append(words[rng.below(size)] << 32)
        return out
    for _ in range(k):
        for _attempt in range(32):
            v = py_sample_item(rng, space, fixed_t, spec)
            if v not in out:
                break
        out.append(v)
    return out


def py_fixed_template(rng, ci, spec):
    if ci[K.CI_TMODE] != 1:
        return -1
    return rng.pick(spec.templates(ci[K.CI_SPACE])[1])


def py_categorical(rng, n, j, ci, cr, iv, spec):
    fixed_t = py_fixed_template(rng, ci, spec)
    space = ci[K.CI_SPACE]
    k = ci[K.CI_P0] + rng.below(ci[K.CI_P1] - ci[K.CI_P0] + 1)
    k = max(1, min(k, spec.space_info[space][R.SP_CAPACITY]))
    pool = py_sample_distinct(rng, k, space, fixed_t, spec)
    weights = [1.0 / (q + cr[K.CR_R0]) for q in range(k)]
    acc, cdf = 0.0, []
    for w in weights:
        acc += w
        cdf.append(acc)
    cdf = [c / acc for c in cdf]
    cdf[-1] = 1.0
    for i in range(n):
        if i > 0 and rng.uniform() < cr[K.CR_R1]:
            v = iv[j][i - 1]
        else:
            v = pool[rng.pick(cdf)]
        avoid = ci[K.CI_REF0]
        tries = 0
        while avoid >= 0 and v == iv[avoid][i] and tries < 8:
            v = pool[rng.pick(cdf)]
            tries += 1
        iv[j][i] = v


def py_league(rng, n, j, ci, iv):
    tiers = ci[K.CI_P1]
    ladder = rng.below(ci[K.CI_P0])
    teams = {0: 18, 3: 24}.get(rng.below(4), 20)
    played = 2 * (teams - 1)
    tier = rng.below(tiers)
    s = 0.2 + 0.6 * rng.uniform()
    for i in range(n):
        s = min(max(s + (0.3 * rng.uniform() - 0.15), 0.05), 0.95)
        w = min(max(math.floor(played * (0.1 + 0.55 * s) * (0.85 + 0.3 * rng.uniform())), 0), played)
        d = min(math.floor(played * (0.15 + 0.17 * rng.uniform())), played - w)
        lost = played - w - d
        gf = math.floor(2.1 * w + 1.1 * d + 0.6 * lost + 8.0 * rng.uniform())
        ga = math.floor(0.6 * w + 1.1 * d + 2.0 * lost + 8.0 * rng.uniform())
        pts = 3 * w + d
        frac = pts / (3.0 * played)
        pos = math.floor((0.85 - frac) / 0.7 * (teams - 1) + 0.5) + rng.below(3)
        pos = min(max(pos, 1), teams)
        block = [(ladder * tiers + tier) << 32, pos, played, w, d, lost, gf, ga, pts]
        for q, value in enumerate(block):
            iv[j + q][i] = value
        if pos <= 2 and tier > 0:
            tier -= 1
        elif pos >= teams - 2 and tier < tiers - 1:
            tier += 1


def py_medals(rng, n, j, iv):
    for i in range(n):
        u = rng.uniform()
        s = 0.5 + 45.0 * u * u * u * u * u
        g = math.floor(s * (0.2 + 0.8 * rng.uniform()))
        sv = math.floor(s * (0.2 + 0.8 * rng.uniform()))
        b = math.floor(s * (0.3 + 0.8 * rng.uniform()) + 0.5)
        iv[j][i], iv[j + 1][i], iv[j + 2][i] = g, sv, (b if g + sv + b else 1)


def py_tennis(rng, n, j, ci, cr, iv):
    for i in range(n):
        player_won = (iv[ci[K.CI_REF0]][i] >> 32) & 0xFFFF == 0
        need = 3 if rng.uniform() < cr[K.CR_R0] else 2
        won = lost = 0
        sets = []
        while won < need:
            winner_takes = not (lost < need - 1 and rng.uniform() < 0.3)
            if winner_takes:
                won += 1
            else:
                lost += 1
            u = rng.uniform()
            hi, lo = (7, 6) if u < 0.12 else ((7, 5) if u < 0.25 else (6, rng.below(5)))
            sets.append((hi, lo) if winner_takes == player_won else (lo, hi))
        iv[j][i] = len(sets) | sum(((a << 4) | b) << (3 + 8 * q) for q, (a, b) in enumerate(sets))


def py_number(iv, rv, ctypes, col, i):
    return rv[col][i] if ctypes[col] == K.REAL else float(iv[col][i])


def py_store(iv, rv, ctype, dec, col, i, x):
    if ctype == K.REAL:
        rv[col][i] = py_round_to(x, dec)
    else:
        iv[col][i] = math.floor(x)


def py_sort_rows(n, j, ci, iv, rv):
    refs = [r for r in ci[K.CI_REF0:K.CI_REF2 + 1] if r >= 0]
    order = sorted(range(n), key=lambda i: [x for r in refs for x in (iv[r][i], rv[r][i])],
                   reverse=ci[K.CI_P0] == 1)
    for c in range(j):
        iv[c][:n] = [iv[c][i] for i in order]
        rv[c][:n] = [rv[c][i] for i in order]


def py_generate_column(rng, n, j, ci, cr, iv, rv, ctypes, spec):
    """Twin of the per-column dispatch in ``sample_table`` and of every gen_* kernel."""
    kind, ctype, dec, ref0 = ci[K.CI_KIND], ci[K.CI_CTYPE], ci[K.CI_DEC], ci[K.CI_REF0]
    p0, p1, p2, p3, p4 = ci[K.CI_P0:K.CI_P4 + 1]
    r0, r1, r2, r3, r4 = cr[K.CR_R0:K.CR_R4 + 1]
    if kind == K.SERIAL:
        start = p0 + p3 * rng.below(p1 + 1)
        iv[j][:n] = [start + i * p2 for i in range(n)]
    elif kind in (K.YEARS, K.DATES):
        mult = p4 if kind == K.DATES else 1
        offsets = [0]
        for _ in range(1, n):
            offsets.append(offsets[-1] + mult * (p2 + rng.below(p3 - p2 + 1)))
        if kind == K.YEARS:
            start = py_span_start(rng, p0, p1, offsets[-1], K.EARLIEST_YEAR)
            iv[j][:n] = [start + o for o in offsets]
        else:
            lo, hi = py_days(p0, 1, 1), py_days(p1, 12, 31)
            start = py_span_start(rng, lo, hi, offsets[-1], py_days(K.EARLIEST_YEAR, 1, 1))
            iv[j][:n] = [py_civil(start + o) for o in offsets]
    elif kind == K.DATE_RANDOM:
        lo, hi = py_days(p0, 1, 1), py_days(p1, 12, 31)
        iv[j][:n] = [py_civil(lo + rng.below(hi - lo + 1)) for _ in range(n)]
    elif kind == K.UNIFORM:
        for i in range(n):
            if ctype == K.REAL:
                rv[j][i] = py_round_to(r0 + (r1 - r0) * rng.uniform(), dec)
            else:
                iv[j][i] = (p0 + rng.below(p1 - p0 + 1)) // p2 * p2
    elif kind == K.POWER:
        for i in range(n):
            u = rng.uniform()
            p = 1.0
            for _ in range(p0):
                p *= u
            x = r0 + (r1 - r0) * p
            if ctype == K.REAL:
                rv[j][i] = py_round_to(x, dec)
            else:
                iv[j][i] = math.floor(x / p1) * p1
    elif kind == K.SORTED_REAL:
        base = cr[K.CR_R0 + rng.below(p0)]
        xs = sorted(base * (1.0 + r4 * rng.uniform()) for _ in range(n))
        rv[j][:n] = [py_round_to(x, dec) for x in xs]
    elif kind == K.WALK:
        x = r0 + (r1 - r0) * rng.uniform()
        for i in range(n):
            if i > 0:
                x += r2 * (2.0 * rng.uniform() - 1.0)
            x = min(max(x, r3), r4)
            if ctype == K.REAL:
                rv[j][i] = py_round_to(x, dec)
            else:
                iv[j][i] = math.floor(x + 0.5)
    elif kind == K.SCALE:
        f = r0 + (r1 - r0) * rng.uniform()
        for i in range(n):
            jitter = 1.0 + r2 * (2.0 * rng.uniform() - 1.0)
            noise = r3 + (r4 - r3) * rng.uniform()
            x = py_number(iv, rv, ctypes, ref0, i) * f * jitter + noise
            if ctype == K.REAL:
                rv[j][i] = py_round_to(max(x, float(p0)), dec)
            else:
                iv[j][i] = max(math.floor(x), p0)
    elif kind == K.UNIQUE_INTS:
        size = p1 - p0 + 1
        perm = list(range(size))
        for i in range(n):
            if i < size:
                r = i + rng.below(size - i)
                perm[i], perm[r] = perm[r], perm[i]
                iv[j][i] = p0 + perm[i]
            else:
                iv[j][i] = p0 + rng.below(size)
        if p2 == 1:
            iv[j][:n] = sorted(iv[j][:n])
    elif kind == K.SCORE:
        for i in range(n):
            b = py_goals(rng)
            a = b + 1 + py_goals(rng) // 2 if p0 == 1 else py_goals(rng)
            iv[j][i] = (a << 8) | b
    elif kind == K.NEXT_DATE:
        iv[j][:n - 1] = iv[ref0][1:n]
        gap = p0 + rng.below(p1 - p0 + 1)
        iv[j][n - 1] = py_civil(py_days_of(iv[ref0][n - 1]) + gap)
    elif kind == K.SORT_ROWS:
        py_sort_rows(n, j, ci, iv, rv)
    elif kind == K.CATEGORICAL:
        py_categorical(rng, n, j, ci, cr, iv, spec)
    elif kind == K.UNIQUE:
        fixed_t = py_fixed_template(rng, ci, spec)
        iv[j][:n] = py_sample_distinct(rng, n, ci[K.CI_SPACE], fixed_t, spec)
    elif kind == K.CHOICE:
        fixed_t = py_fixed_template(rng, ci, spec)
        iv[j][:n] = [py_sample_item(rng, ci[K.CI_SPACE], fixed_t, spec) for _ in range(n)]
    elif kind == K.LEAGUE:
        py_league(rng, n, j, ci, iv)
    elif kind == K.MEDALS:
        py_medals(rng, n, j, iv)
    elif kind == K.TENNIS:
        py_tennis(rng, n, j, ci, cr, iv)
    elif kind != K.FILLED:
        py_derived(n, j, ci, cr, iv, rv, ctypes)


def py_derived(n, j, ci, cr, iv, rv, ctypes):
    kind, ref0, ref1 = ci[K.CI_KIND], ci[K.CI_REF0], ci[K.CI_REF1]
    refs = [r for r in ci[K.CI_REF0:K.CI_REF2 + 1] if r >= 0]
    if kind == K.SUM:
        iv[j][:n] = [sum(iv[r][i] for r in refs) for i in range(n)]
    elif kind == K.RANK:
        keys = [[(iv[r][i], rv[r][i]) for r in refs] for i in range(n)]
        iv[j][:n] = [1 + min(q for q in range(n) if keys[q] == keys[i]) for i in range(n)]
    elif kind == K.PERCENT:
        total = sum(py_number(iv, rv, ctypes, ref0, i) for i in range(n))
        for i in range(n):
            x = 100.0 * py_number(iv, rv, ctypes, ref0, i) / total if total > 0 else 0.0
            py_store(iv, rv, ci[K.CI_CTYPE], ci[K.CI_DEC], j, i, x)
    elif kind == K.COPY:
        iv[j][:n], rv[j][:n] = iv[ref0][:n], rv[ref0][:n]
        if ci[K.CI_P0] >= 0:
            iv[j][:n] = [SPEC.canon[ci[K.CI_P0] + ((v >> 32) & 0xFFFF)] << 32 for v in iv[ref0][:n]]
    elif kind == K.DAYS_BETWEEN:
        iv[j][:n] = [py_days_of(iv[ref1][i]) - py_days_of(iv[ref0][i]) for i in range(n)]
    elif kind == K.RATIO:
        for i in range(n):
            den = py_number(iv, rv, ctypes, ref1, i)
            x = py_number(iv, rv, ctypes, ref0, i) / den * cr[K.CR_R0] if den != 0 else 0.0
            py_store(iv, rv, ci[K.CI_CTYPE], ci[K.CI_DEC], j, i, x)


def py_choose_columns(rng, base, count, spec, max_columns):
    ci = spec.col_int[base:base + count]
    cr = spec.col_real[base:base + count]
    incl, hvar, group_var = [], [], {}
    for j in range(count):
        incl.append(rng.uniform() < cr[j][K.CR_INCLUDE])
        nh, g = ci[j][K.CI_NHEAD], ci[j][K.CI_HGROUP]
        if g >= 0 and g in group_var:
            hvar.append(min(group_var[g], nh - 1))
        else:
            hvar.append(0 if nh <= 1 or rng.uniform() < 0.5 else 1 + rng.below(nh - 1))
            if g >= 0:
                group_var[g] = hvar[-1]
    while sum(incl) > max_columns:
        optional = [j for j in range(count) if incl[j] and cr[j][K.CR_INCLUDE] < 1.0]
        if not optional:
            break
        incl[max(optional, key=lambda j: ci[j][K.CI_ORDER])] = False
    out = sorted((j for j in range(count) if incl[j]), key=lambda j: ci[j][K.CI_ORDER])
    p = 0
    while p < len(out) - 1:
        if rng.uniform() < cr[out[p]][K.CR_SWAP]:
            out[p], out[p + 1] = out[p + 1], out[p]
            p += 2
        else:
            p += 1
    return out, hvar


def py_encode_text(out, ctypes, fids, onull, oi):
    index: dict[int, int] = {}
    codes = [[-1] * len(row) for row in oi]
    for p, j in enumerate(out):
        if ctypes[j] != K.TEXT:
            continue
        for i, v in enumerate(oi[p]):
            if not onull[p][i]:
                codes[p][i] = index.setdefault((fids[j] << 56) | v, len(index))
    return codes, list(index)


def py_sample_table(seed, spec):
    """Twin of ``sample_table``: the same outputs, as nested lists."""
    rng = Rng(Rng.mix(seed ^ TK.SEED_SALT))
    arch = rng.pick(spec.arch_cdf)
    n = spec.min_rows + rng.pick(spec.rows_cdf)
    base, count = spec.arch_cols[arch]
    out, hvar = py_choose_columns(rng, base, count, spec, spec.max_columns)
    ci_all = spec.col_int[base:base + count]
    ctypes = [c[K.CI_CTYPE] for c in ci_all]
    fids = [c[K.CI_FID] for c in ci_all]
    iv = [[0] * n for _ in range(count)]
    rv = [[0.0] * n for _ in range(count)]
    for j in range(count):
        py_generate_column(rng, n, j, ci_all[j], spec.col_real[base + j], iv, rv, ctypes, spec)
    oi, orv, onull = [list(iv[j]) for j in out], [list(rv[j]) for j in out], []
    for p, j in enumerate(out):
        prob = min(TK.MAX_NULL_PROBABILITY, spec.null_p * spec.col_real[base + j][K.CR_NULLF])
        mask = [False] * n
        if p > 0 and prob > 0.0:
            mask = [rng.uniform() < prob for _ in range(n)]
        for i in range(n):
            if mask[i]:
                oi[p][i], orv[p][i] = 0, 0.0
        onull.append(mask)
    codes, keys = py_encode_text(out, ctypes, fids, onull, oi)
    words = [[key >> 48 for key in keys]] + [[(key >> s) & 0xFFFF for key in keys] for s in (32, 16, 0)]
    meta = [arch, len(out), len(keys), *out, *[hvar[j] for j in out], *[w for run in words for w in run]]
    return meta, oi, orv, onull, codes


# ============================================================================ twin tests
PLAN = T._plan(T._DEFAULT_CONFIG)
SPEC = Spec(PLAN.arrays)


def test_rng_twins():
    state = np.array([12345], dtype=np.uint64)
    rng = Rng(12345)
    cdf = np.array([0.1, 0.1, 0.5, 0.75, 1.0])
    for _ in range(300):
        assert R.next_u64(state) == rng.next()
        assert R.uniform(state) == rng.uniform()
        assert R.below(state, 7) == rng.below(7)
        assert R.pick_cdf(state, cdf) == rng.pick(cdf)
        assert int(state[0]) == rng.state
    for z in (0, 1, M64, 0x1234567890ABCDEF):
        assert int(R.mix64(np.uint64(z))) == Rng.mix(z)


def test_round_dates_and_sort_twins():
    rng = Rng(5)
    for _ in range(2000):
        x = (rng.uniform() - 0.5) * 2000.0
        for dec in (0, 1, 2):
            assert R.round_to(x, dec) == py_round_to(x, dec)
    for z in range(-1000, 60000, 7):  # 1967 .. 2134, every weekday and leap rule nearby
        assert R.civil_from_days(z) == py_civil(z)
        assert R.days_of(py_civil(z)) == z
    for y, m, d in ((1600, 2, 29), (1900, 3, 1), (2000, 2, 29), (2024, 12, 31), (1786, 8, 8)):
        assert R.days_from_civil(y, m, d) == py_days(y, m, d)
    for n in (0, 1, 2, 9, 40):
        xs = np.array([rng.uniform() for _ in range(n)] + [7.0])
        R.insertion_sort(xs, n)
        assert xs.tolist() == sorted(xs[:n].tolist()) + [7.0]


def test_text_item_twins():
    for space in range(len(SPEC.space_info)):
        for fixed in (-1, 0):
            state, rng = np.array([space * 101 + 7], dtype=np.uint64), Rng(space * 101 + 7)
            assert R.sample_item(state, space, fixed, *PLAN.arrays[4:8]) == py_sample_item(rng, space, fixed, SPEC)
            for k in (3, 30, 150):
                out = np.zeros(k, dtype=np.int64)
                R.sample_distinct(state, out, k, space, fixed, *PLAN.arrays[4:8])
                assert out.tolist() == py_sample_distinct(rng, k, space, fixed, SPEC)
                assert int(state[0]) == rng.state


def _run_columns(seed, arch, n):
    """Generate an archetype's columns one kernel call at a time from Python, each checked
    against its twin right after it runs (so a failure names the kernel)."""
    base, count = SPEC.arch_cols[arch]
    state, rng = np.array([seed], dtype=np.uint64), Rng(seed)
    ci_all, cr_all = PLAN.arrays[2][base:base + count], PLAN.arrays[3][base:base + count]
    ctypes = np.ascontiguousarray(ci_all[:, K.CI_CTYPE])
    iv, rv = np.zeros((count, n), dtype=np.int64), np.zeros((count, n), dtype=np.float64)
    piv, prv = iv.tolist(), rv.tolist()
    sp = PLAN.arrays[4:8]
    for j in range(count):
        ci, cr = PLAN.arrays[2][base + j], PLAN.arrays[3][base + j]
        kind = int(ci[K.CI_KIND])
        simple = {K.SERIAL: K.gen_serial, K.YEARS: K.gen_years, K.DATES: K.gen_dates,
                  K.DATE_RANDOM: K.gen_date_random, K.UNIQUE_INTS: K.gen_unique_ints,
                  K.SCORE: K.gen_score, K.NEXT_DATE: K.gen_next_date, K.LEAGUE: K.gen_league}
        with_cr = {K.UNIFORM: K.gen_uniform, K.POWER: K.gen_power, K.WALK: K.gen_walk}
        if kind in simple:
            simple[kind](state, n, j, ci, iv)
        elif kind in with_cr:
            with_cr[kind](state, n, j, ci, cr, iv, rv)
        elif kind == K.SORTED_REAL:
            K.gen_sorted_real(state, n, j, ci, cr, rv)
        elif kind == K.SCALE:
            K.gen_scale(state, n, j, ci, cr, iv, rv, ctypes)
        elif kind == K.SORT_ROWS:
            K.sort_rows(n, j, ci, iv, rv)
        elif kind == K.CATEGORICAL:
            K.gen_categorical(state, n, j, ci, cr, iv, *sp)
        elif kind == K.UNIQUE:
            R.sample_distinct(state, iv[j], n, ci[K.CI_SPACE], K.fixed_template(state, ci, sp[0], sp[2]), *sp)
        elif kind == K.CHOICE:
            fixed = K.fixed_template(state, ci, sp[0], sp[2])
            for i in range(n):
                iv[j, i] = R.sample_item(state, ci[K.CI_SPACE], fixed, *sp)
        elif kind == K.MEDALS:
            K.gen_medals(state, n, j, iv)
        elif kind == K.TENNIS:
            K.gen_tennis(state, n, j, ci, cr, iv)
        elif kind != K.FILLED:
            K.gen_derived(n, j, ci, cr, iv, rv, ctypes, sp[3])
        py_generate_column(rng, n, j, SPEC.col_int[base + j], SPEC.col_real[base + j], piv, prv,
                           ctypes.tolist(), SPEC)
        where = f"{ARCHETYPES[arch]} column {j} (kind {kind}), seed {seed}, n {n}"
        assert iv.tolist() == piv, where
        assert rv.tolist() == prv, where
        assert int(state[0]) == rng.state, where
    return iv, rv


@pytest.mark.parametrize("arch", range(len(ARCHETYPES)), ids=ARCHETYPES)
def test_column_kernel_twins(arch):
    for seed, n in ((1, 1), (2, 5), (3, 17), (4, 60)):
        _run_columns(seed * 7919 + arch, arch, n)


def test_choose_columns_and_encode_twins():
    for arch, (base, count) in enumerate(SPEC.arch_cols):
        for seed in range(40):
            state, rng = np.array([seed], dtype=np.uint64), Rng(seed)
            out, hvar = TK.choose_columns(state, base, count, PLAN.arrays[2], PLAN.arrays[3], 6)
            assert (out.tolist(), hvar.tolist()) == py_choose_columns(rng, base, count, SPEC, 6)
    rng = Rng(3)
    ctypes = np.array([K.TEXT, K.INTEGER, K.TEXT, K.TEXT])
    fids = np.array([3, -1, 3, 9])
    oi = np.array([[rng.below(5) << 32 for _ in range(30)] for _ in range(4)], dtype=np.int64)
    onull = np.array([[rng.uniform() < 0.2 for _ in range(30)] for _ in range(4)])
    out = np.array([2, 0, 1, 3])
    codes, keys = TK.encode_text(out, ctypes, fids, onull, oi)
    assert (codes.tolist(), keys.tolist()) == py_encode_text(out.tolist(), ctypes.tolist(), fids.tolist(),
                                                             onull.tolist(), oi.tolist())


def test_pack_unpack_twin():
    unpacked = TK.unpack_spec(*PLAN.args)
    assert len(unpacked) == len(PLAN.arrays)
    for got, want in zip(unpacked, PLAN.arrays):
        assert np.asarray(got).tolist() == np.asarray(want).tolist()


def test_sample_table_twin():
    seen = set()
    for seed in range(150):
        got = TK.sample_table(np.uint64(seed), *PLAN.args)
        want = py_sample_table(seed, SPEC)
        assert [g.tolist() for g in got] == list(want), f"seed {seed}"
        seen.add(want[0][0])
    assert seen == set(range(len(ARCHETYPES)))


# ============================================================================ behaviour
def _run_python(code: str) -> subprocess.CompletedProcess:
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, [str(REPO), os.environ.get("PYTHONPATH")]))}
    return subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120,
                          cwd=REPO, env=env)


def _rows_digest(seeds) -> str:
    h = hashlib.sha256()
    for s in seeds:
        t = generate_table(s)
        h.update(repr((t.name, t.header, t.types, t.rows, t.strings)).encode())
    return h.hexdigest()


def test_deterministic_across_processes():
    code = ("import hashlib\nfrom symjax.sql.synth.tables import generate_table\nh = hashlib.sha256()\n"
            "for s in range(51):\n    t = generate_table(s)\n"
            "    h.update(repr((t.name, t.header, t.types, t.rows, t.strings)).encode())\n"
            "print(h.hexdigest())")
    result = _run_python(code)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == _rows_digest(range(51))


def test_import_pulls_no_ml_framework():
    code = ("import sys, symjax.sql.synth.tables as t; t.generate_table(0); "
            "print(sorted(m for m in ('jax', 'tensorflow', 'flax', 'torch') if m in sys.modules))")
    result = _run_python(code)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "[]"


@pytest.fixture(scope="module")
def sample():
    return [generate_table(s) for s in range(2000)]


def test_size_distribution(sample):
    rows = np.array([t.num_rows for t in sample])
    cols = np.array([t.num_columns for t in sample])
    assert 13 <= np.median(rows) <= 17
    assert 36 <= np.percentile(rows, 90) <= 48
    assert rows.min() >= 5 and rows.max() <= 100
    assert 5 <= np.median(cols) <= 7
    assert cols.min() >= 3 and cols.max() <= T.MAX_COLUMNS
    assert {t.name for t in sample} == set(ARCHETYPES)


def test_tables_are_wellformed(sample):
    for t in sample:
        assert isinstance(t, Table) and t.name in ARCHETYPES
        assert len({h.lower() for h in t.header}) == t.num_columns, t.header
        assert len(set(t.strings)) == len(t.strings)
        assert not any(v is None for v in t.column(0)), (t.name, t.header)
        for j, ty in enumerate(t.types):
            arr, mask = t.data[j], t.nulls[j]
            assert arr.shape == mask.shape == (t.num_rows,) and mask.dtype == np.bool_
            assert arr.dtype == {"text": np.int32, "real": np.float64}.get(ty, np.int64)
            if ty == "real":
                for v in t.column(j):
                    assert v is None or (math.isfinite(v) and round(v, 2) == v and float(format_number(v)) == v)
            if ty == "text":
                used = {c for c in arr.tolist() if c >= 0}
                assert all(c >= 0 for c, m in zip(arr.tolist(), mask.tolist()) if not m)
        assert set().union(*[{c for c in t.data[j].tolist() if c >= 0}
                             for j, ty in enumerate(t.types) if ty == "text"]) == set(range(len(t.strings)))


def test_equals_table_from_columns(sample):
    for t in sample[:300]:
        ref = Table.from_columns(t.header, t.types, [t.column(j) for j in range(t.num_columns)], name=t.name)
        assert ref == t and ref.strings == t.strings
        for j in range(t.num_columns):
            assert ref.data[j].tolist() == t.data[j].tolist() and ref.nulls[j].tolist() == t.nulls[j].tolist()


def test_loads_into_sqlite(sample):
    conn = sqlite3.connect(":memory:")
    for i, t in enumerate(sample[:400]):
        t.to_sqlite(conn, name=f"t{i}")
        assert conn.execute(f'SELECT COUNT(*) FROM "t{i}"').fetchone()[0] == t.num_rows
        rows = conn.execute(f'SELECT * FROM "t{i}" ORDER BY rowid').fetchall()
        assert [list(r) for r in rows] == t.rows


def _by_name(sample, name):
    return [t for t in sample if t.name == name]


def _col(t, *names):
    for n in names:
        if n in t.header:
            return t.column(t.header.index(n))
    return None


def test_medal_table_invariants(sample):
    for t in _by_name(sample, "medal_table"):
        g, s, b = _col(t, "Gold"), _col(t, "Silver"), _col(t, "Bronze")
        total = _col(t, "Total")
        keys = list(zip(g, s, b))
        assert keys == sorted(keys, reverse=True)
        assert all(x + y + z >= 1 for x, y, z in keys)
        if total is not None:
            assert total == [x + y + z for x, y, z in keys]
        rank = _col(t, "Rank", "Pos.")
        if rank is not None:
            assert rank == [1 + sum(k > key for k in keys) for key in keys]


def test_sorted_and_consistent_columns(sample):
    for t in sample:
        if t.name in ("filmography", "discography", "awards", "cup_finals"):
            years = _col(t, "Year", "Released", "Ceremony", "Season", "Edition")
            assert years == sorted(years)
        if t.name in ("season_results", "tennis_finals", "tv_episodes"):
            dates = _col(t, "Date", "Match date", "Original air date", "Air date", "Original airdate",
                         "Original release date")
            assert dates == sorted(dates) and len(set(dates)) == len(dates)
        if t.name == "club_seasons":
            w, d, lost, pts = _col(t, "Won", "W"), _col(t, "Drawn", "D"), _col(t, "Lost", "L"), _col(t, "Points", "Pts")
            assert all(p is None or None in (a, b) or p == 3 * a + b for a, b, p in zip(w, d, pts))
            played = _col(t, "Played", "P", "Pld")
            if played is not None:
                assert all(None in x or x[0] == x[1] + x[2] + x[3] for x in zip(played, w, d, lost))
        if t.name == "athletics_results":
            times = _col(t, "Time", "Result", "Mark")
            assert times == sorted(times) and t.column(0) == [1 + sum(x < y for x in times) for y in times]
        if t.name == "cup_finals":
            winners, runners = _col(t, "Winners", "Winner", "Champions"), _col(t, "Runners-up", "Runner-up", "Finalist")
            assert sum(a == b for a, b in zip(winners, runners)) <= len(winners) // 4
        if t.name in ("filmography", "athletics_results", "football_squad", "election_results"):
            key = _col(t, "Title", "Film", "Athlete", "Name", "Player", "Party", "Political party")
            assert len(set(key)) == len(key), (t.name, key)


def test_categorical_columns_repeat(sample):
    repeats = {"Label": [], "Venue": [], "Nation": [], "Result": []}
    for t in sample:
        if t.num_rows >= 15 and t.name in ("discography", "season_results", "athletics_results", "awards"):
            for h in repeats:
                if h in t.header:
                    vals = [v for v in t.column(t.header.index(h)) if v is not None]
                    repeats[h].append(len(set(vals)) / len(vals))
    for h, ratios in repeats.items():
        assert ratios and np.mean(ratios) < 0.6, (h, ratios[:5])


def test_nulls_follow_config():
    none = TableConfig(null_probability=0.0)
    assert all(not t.nulls[j].any() for s in range(300) for t in [generate_table(s, none)]
               for j in range(t.num_columns))
    cells = nulls = 0
    for s in range(300):
        t = generate_table(s)
        assert not t.nulls[0].any()
        cells += t.num_rows * t.num_columns
        nulls += sum(int(m.sum()) for m in t.nulls)
    assert 0.005 < nulls / cells < 0.15


def test_synthetic_tables_stream():
    cfg = TableConfig(archetypes=("cities", "mountains"))
    stream = synthetic_tables(11, cfg)
    first = [next(stream) for _ in range(20)]
    assert all(a == generate_table(table_seed(11, i), cfg) for i, a in enumerate(first))
    assert {t.name for t in first} == {"cities", "mountains"}
    again = synthetic_tables(11, cfg, start=5)
    assert next(again) == first[5]
    assert generate_table(-1) == generate_table(M64) and generate_table(2**64 + 3) == generate_table(3)


def test_archetype_weights_and_custom_sizes():
    cfg = TableConfig(archetypes=(("medal_table", 3.0), ("awards", 1.0), ("cities", 0.0)))
    names = [generate_table(s, cfg).name for s in range(400)]
    assert set(names) == {"medal_table", "awards"} and 0.65 < names.count("medal_table") / 400 < 0.85
    assert cfg.archetype_weights()[ARCHETYPES.index("medal_table")] == 3.0
    fixed = TableConfig(min_rows=7, max_rows=7)
    assert {generate_table(s, fixed).num_rows for s in range(50)} == {7}
    small = TableConfig(min_rows=3, max_rows=30, row_median=8, row_p90=20)
    rows = np.array([generate_table(s, small).num_rows for s in range(1500)])
    assert rows.min() >= 3 and rows.max() <= 30
    assert 7 <= np.median(rows) <= 9 and 17 <= np.percentile(rows, 90) <= 23
    probs = T._row_count_probabilities(5, 100, 15, 42)
    cdf = np.cumsum(probs)
    assert np.searchsorted(cdf, 0.5) + 5 == 15 and np.searchsorted(cdf, 0.9) + 5 == 42


@pytest.mark.parametrize("kwargs, needle", [
    (dict(min_rows=0), "min_rows"),
    (dict(min_rows=2.5), "min_rows"),
    (dict(max_rows=3), "max_rows"),
    (dict(max_rows=10**6), "max_rows"),
    (dict(row_median=200), "row_median"),
    (dict(row_median=50, row_p90=42), "row_median"),
    (dict(row_p90=15), "row_p90"),
    (dict(row_p90=float("nan")), "row_p90"),
    (dict(row_median=6, row_p90=99), "row_median / row_p90"),
    (dict(null_probability=0.7), "null_probability"),
    (dict(null_probability=True), "null_probability"),
    (dict(archetypes=("medal_table", "nope")), "nope"),
    (dict(archetypes="medal_table"), "archetypes"),
    (dict(archetypes=(("awards", -1.0),)), "awards"),
    (dict(archetypes=(("awards", 0.0),)), "positive weight"),
    (dict(archetypes=("awards", "awards")), "twice"),
])
def test_config_validation(kwargs, needle):
    with pytest.raises(ConfigError, match=needle) as info:
        TableConfig(**kwargs)
    message = str(info.value)
    if "nope" in needle:
        assert all(name in message for name in ARCHETYPES)


def test_seed_and_config_type_errors():
    with pytest.raises(ConfigError, match="seed"):
        generate_table(1.5)
    with pytest.raises(ConfigError, match="TableConfig"):
        generate_table(1, {"min_rows": 5})
    assert TableConfig(archetypes=["awards"]).archetypes == ("awards",)
    assert TableConfig(archetypes={"awards": 2}).archetypes == (("awards", 2.0),)


def test_headers_unique_within_each_archetype():
    for name, columns in T._ARCHETYPE_SPECS.items():
        owner: dict[str, str] = {}
        for c in columns:
            for h in set(c.headers):
                assert owner.setdefault(h.lower(), c.key) == c.key, (name, h)
        mandatory = [c for c in columns if c.include >= 1.0 and c.headers]
        assert 3 <= len(mandatory) <= T.MAX_COLUMNS, name


def test_archetype_specs_are_consistent():
    widths = {K.LEAGUE: 9, K.MEDALS: 3}
    for name, columns in T._ARCHETYPE_SPECS.items():
        block_end = -1
        for j, c in enumerate(columns):
            keys = [x.key for x in columns[:j]]
            assert all(r in keys for r in c.refs), (name, c.key, c.refs)
            assert (c.kind == K.FILLED) == (j < block_end), (name, c.key)
            if c.kind in widths:
                block_end = j + widths[c.kind]
            assert (c.ctype == "text") == bool(c.space or c.fmt), (name, c.key)
            assert c.dec in (0, 1, 2) and (c.dec == 0 or c.ctype == "real"), (name, c.key)
            assert 0.0 <= c.include <= 1.0 and c.nulls >= 0 and (c.headers or c.include == 0.0)
        assert len({c.key for c in columns}) == len(columns), name


def test_word_lists():
    folder = resources.files("symjax.sql.synth").joinpath("vocab")
    total = 0
    for name in vocab.file_lists():
        raw = folder.joinpath(f"{name}.txt").read_bytes()
        total += len(raw)
        lines = raw.decode("utf-8").splitlines()
        assert 80 <= len(lines) <= 400, (name, len(lines))
        assert len(set(lines)) == len(lines), name
        assert all(line.strip() == line and line for line in lines), name
        assert len(set(vocab.words(name))) == len(lines), name
    assert total < 200_000
    assert len(vocab.words("cities", 1)) == len(vocab.words("cities"))
    with pytest.raises(ConfigError, match="countries"):
        vocab.words("no_such_list")


def test_template_parts_render_like_str_format():
    st = T._static()
    for s, (name, templates) in enumerate(vocab.TEXT_SPACES.items()):
        for t, (_w, pattern, refs) in enumerate(templates):
            lists = [vocab.word_list(r) for r in refs]
            for a, b in ((0, 0), (1, 2), (7, 5)):
                idx = [a % len(lists[0]) if lists else 0, b % len(lists[1]) if len(lists) > 1 else 0]
                want = pattern.format(*(lst[i] for lst, i in zip(lists, idx)))
                assert T._texts([(s << 8) | t, idx[0], idx[1], 0], st) == [want], (name, pattern)


def test_text_formats():
    assert vocab._season_text(0, 0, 1998) == "1998–99" and vocab._season_text(0, 0, 1999) == "1999–2000"
    assert vocab._result_score_text(0, 0, (3 << 8) | 1) == "W 3–1" and vocab._score_text(0, 0, 2) == "0–2"
    packed = 2 | (((6 << 4) | 4) << 3) | (((7 << 4) | 6) << 11)
    assert vocab._tennis_text(packed >> 32, (packed >> 16) & 0xFFFF, packed & 0xFFFF) == "6–4, 7–6"


def _kernel_texts(keys_h, a, b, c):
    """pool_text on a made-up meta (no columns) holding these pool keys."""
    from symjax.sql.synth._table_kernels import pool_text

    used = len(keys_h)
    meta = np.array([0, 0, used, *keys_h, *a, *b, *c], dtype=np.int64)
    return str(pool_text(meta, *T._static().pool_args), "utf-8").split("\0")[:-1]


def test_pool_text_kernel_equals_its_python_twin():
    st = T._static()
    rng = np.random.default_rng(0)
    for s, (name, templates) in enumerate(vocab.TEXT_SPACES.items()):  # every template's words
        for t, (_w, pattern, refs) in enumerate(templates):
            sizes = [len(vocab.word_list(r)) for r in refs] + [1, 1]
            a = list(range(sizes[0])) if sizes[0] < 400 else rng.integers(0, sizes[0], 400).tolist()
            b = rng.integers(0, sizes[1], len(a)).tolist()
            words = [[(s << 8) | t] * len(a), a, b, [0] * len(a)]
            assert _kernel_texts(*words) == T._texts(sum(words, []), st), (name, pattern)
    fid = {name: st.pool_args[4].tolist().index(code) for name, code in
           [("season", 1), ("score", 2), ("result_score", 3), ("tennis_score", 4)]}
    cases = []
    for year in [0, 7, 99, 1899, 1998, 1999, 2000, 2099, 99999]:
        cases.append(("season", year >> 32, (year >> 16) & 0xFFFF, year & 0xFFFF))
    for x in range(0, 256, 7):
        for y in range(0, 256, 11):
            cases += [("score", 0, 0, (x << 8) | y), ("result_score", 0, 0, (x << 8) | y)]
    for item in rng.integers(0, 1 << 59, 2000).tolist():
        cases.append(("tennis_score", item >> 32, (item >> 16) & 0xFFFF, item & 0xFFFF))
    h = [fid[name] << 8 for name, *_ in cases]
    a, b, c = ([row[q] for row in cases] for q in (1, 2, 3))
    want = [vocab.SPECIAL_FORMATS[name](*row) for name, *row in cases]
    assert _kernel_texts(h, a, b, c) == want
    assert T._texts(h + a + b + c, st) == want
