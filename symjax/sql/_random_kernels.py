"""Random numbers and sampling primitives of the synthetic table sampler (private; the API
is :mod:`symjax.sql.synth.tables`, the column samplers are in :mod:`symjax.sql.synth._column_kernels`).

Randomness is an explicit splitmix64 counter in a one-element ``uint64`` array: no global
state, and the same seed gives the same table in every process. The kernels use only
+, -, *, / and floor on floats (no exp/log), so the slow twins in the tests reproduce them
bit for bit.

Besides the generator (:func:`mix64`, :func:`next_u64`, :func:`uniform`, :func:`below`,
:func:`pick_cdf`) this module holds the small exact helpers the samplers share: rounding
half up, proleptic Gregorian dates as day numbers and ``yyyymmdd``, an insertion sort, and
the draw of packed text items.

Text items are packed ``int64``: ``template << 48 | slot0 << 32 | slot1 << 16 | slot2``,
where a space's templates combine up to three word lists (``"{0} {1}"`` over first and
last names, ...). ``space_info`` rows describe a space (the ``SP_*`` columns below);
``tmpl_slots`` rows give, per template, the list sizes of its three slots (0: unused) then
the offsets of their lists in ``canon``.
"""
from __future__ import annotations

import numpy as np

from symjax.sql._numba import njit

# space_info columns: first template, number of templates, capacity, simple (one template
# over one list).
SP_START, SP_COUNT, SP_CAPACITY, SP_SIMPLE = 0, 1, 2, 3

_GAMMA = np.uint64(0x9E3779B97F4A7C15)
_MIX1 = np.uint64(0xBF58476D1CE4E5B9)
_MIX2 = np.uint64(0x94D049BB133111EB)
_U30, _U27, _U31, _U11 = np.uint64(30), np.uint64(27), np.uint64(31), np.uint64(11)
_INV_2_53 = 1.0 / 9007199254740992.0


# ===================================================================== random numbers
@njit
def mix64(z):
    """splitmix64's finaliser: a bijection of uint64 that scrambles every bit."""
    z = (z ^ (z >> _U30)) * _MIX1
    z = (z ^ (z >> _U27)) * _MIX2
    return z ^ (z >> _U31)


@njit
def next_u64(state):
    """Advance the counter in ``state[0]`` and return the next 64 random bits."""
    state[0] += _GAMMA
    return mix64(state[0])


@njit
def uniform(state):
    """A float in [0, 1) with 53 random bits."""
    return np.float64(next_u64(state) >> _U11) * _INV_2_53


@njit
def below(state, n):
    """An integer in [0, n) for n >= 1 (modulo bias < 2**-40 for the n used here)."""
    return np.int64(next_u64(state) >> _U11) % n


@njit
def pick_cdf(state, cdf):
    """Index i with probability cdf[i] - cdf[i-1] (``cdf`` ends at 1.0): the first i with
    cdf[i] > u, found by bisection."""
    u = uniform(state)
    lo, hi = 0, cdf.shape[0] - 1
    while lo < hi:
        mid = (lo + hi) // 2
        if cdf[mid] > u:
            hi = mid
        else:
            lo = mid + 1
    return lo


# ===================================================================== helpers
@njit
def round_to(x, dec):
    """Round half up to ``dec`` (0, 1 or 2) decimals."""
    if dec <= 0:
        return np.floor(x + 0.5)
    scale = 10.0 if dec == 1 else 100.0
    return np.floor(x * scale + 0.5) / scale


@njit
def days_from_civil(y, m, d):
    """Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant's algorithm)."""
    if m <= 2:
        y -= 1
    era = y // 400
    yoe = y - era * 400
    mp = m - 3 if m > 2 else m + 9
    doy = (153 * mp + 2) // 5 + d - 1
    doe = yoe * 365 + yoe // 4 - yoe // 100 + doy
    return era * 146097 + doe - 719468


@njit
def civil_from_days(z):
    """``yyyymmdd`` of the date ``z`` days after 1970-01-01."""
    z += 719468
    era = z // 146097
    doe = z - era * 146097
    yoe = (doe - doe // 1460 + doe // 36524 - doe // 146096) // 365
    y = yoe + era * 400
    doy = doe - (365 * yoe + yoe // 4 - yoe // 100)
    mp = (5 * doy + 2) // 153
    d = doy - (153 * mp + 2) // 5 + 1
    m = mp + 3 if mp < 10 else mp - 9
    if m <= 2:
        y += 1
    return y * 10000 + m * 100 + d


@njit
def days_of(yyyymmdd):
    return days_from_civil(yyyymmdd // 10000, (yyyymmdd // 100) % 100, yyyymmdd % 100)


@njit
def insertion_sort(xs, n):
    """Sort xs[:n] ascending in place (n is small; cheaper to compile than np.sort)."""
    for a in range(1, n):
        cur = xs[a]
        b = a - 1
        while b >= 0 and xs[b] > cur:
            xs[b + 1] = xs[b]
            b -= 1
        xs[b + 1] = cur


# ===================================================================== text items
@njit
def sample_item(state, space, fixed_t, space_info, tmpl_slots, tmpl_cdf, canon):
    """One packed item of ``space``; template ``fixed_t`` if >= 0, else drawn by weight.
    Word indices go through ``canon`` (the first index of the same word), so a list may
    repeat a word to weight it and equal words still give equal items."""
    start = space_info[space, SP_START]
    count = space_info[space, SP_COUNT]
    t = fixed_t
    if t < 0:
        t = 0 if count == 1 else pick_cdf(state, tmpl_cdf[start:start + count])
    v = np.int64(t) << 48
    for slot in range(3):
        size = tmpl_slots[start + t, slot]
        if size > 0:
            word = canon[tmpl_slots[start + t, 3 + slot] + below(state, size)]
            v |= word << (32 - 16 * slot)
    return v


@njit
def sample_distinct(state, out, k, space, fixed_t, space_info, tmpl_slots, tmpl_cdf, canon):
    """Fill out[:k] with distinct items of ``space`` (repeats once it is exhausted).

    Draws with rejection; a one-list space asked for more than half its words is dealt
    by a partial Fisher-Yates shuffle instead."""
    first = space_info[space, SP_START]
    size = tmpl_slots[first, 0]
    if space_info[space, SP_SIMPLE] == 1 and 2 * k > size:
        offset = tmpl_slots[first, 3]
        perm = np.arange(size)
        for i in range(k):
            if i < size:
                r = i + below(state, size - i)
                perm[i], perm[r] = perm[r], perm[i]
                out[i] = canon[offset + perm[i]] << 32
            else:
                out[i] = canon[offset + below(state, size)] << 32
        return
    for i in range(k):
        v = np.int64(0)
        for _attempt in range(32):
            v = sample_item(state, space, fixed_t, space_info, tmpl_slots, tmpl_cdf, canon)
            fresh = True
            for q in range(i):
                if out[q] == v:
                    fresh = False
                    break
            if fresh:
                break
        out[i] = v
