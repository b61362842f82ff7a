"""Column samplers of the synthetic table sampler (private; the API is
:mod:`symjax.sql.synth.tables`, the whole-table kernel is :mod:`symjax.sql.synth._table_kernels`).

Archetypes are data, not code: each is a run of rows in ``col_int`` / ``col_real`` (layout
below), one row per column, generated in order. A column's ``kind`` names the sampler that
fills it; derived kinds read earlier columns of the same archetype (``ref`` indices are
local to the archetype). ``SORT_ROWS`` is a pseudo-column that reorders every earlier
column, so ranks and totals computed after it see the final row order.

Each ``gen_*`` kernel fills row ``j`` of the table's ``ivals`` (integers, dates as
``yyyymmdd``, packed text items) or ``rvals`` (reals) for ``n`` rows, drawing from the
splitmix64 counter of :mod:`symjax.sql._random_kernels`.

Column rows: ``col_int`` = kind, column type, text space, formatter id, three refs,
parameters P0..P4, number of header variants, output order rank, template mode (1: one
template for the whole column), decimals of reals, header group; ``col_real`` = inclusion
probability, NULL factor (times the configured NULL probability), probability to swap with
the next column, parameters R0..R4. The ``CI_*`` / ``CR_*`` constants index them.
"""
from __future__ import annotations

import numpy as np

from symjax.sql._numba import njit
from symjax.sql._random_kernels import (
    SP_CAPACITY,
    SP_COUNT,
    SP_START,
    below,
    civil_from_days,
    days_from_civil,
    days_of,
    insertion_sort,
    pick_cdf,
    round_to,
    sample_distinct,
    uniform,
)

# --------------------------------------------------------------------- column types
TEXT, INTEGER, REAL, DATE = 0, 1, 2, 3

# --------------------------------------------------------------------- column kinds
FILLED = 0  # written by an earlier block kind (LEAGUE, MEDALS)
SERIAL = 1  # start = P0 + P3 * below(P1 + 1), step P2
YEARS = 2  # non-decreasing years in [P0, P1] (see span_start), gaps uniform in [P2, P3]
DATES = 3  # increasing dates within years [P0, P1], gaps P4 * uniform[P2, P3] days
DATE_RANDOM = 4  # independent dates within years [P0, P1]
UNIFORM = 5  # integer [P0, P1] rounded down to a multiple of P2; real [R0, R1]
POWER = 6  # R0 + (R1 - R0) * u**P0, skewed to R0; integers rounded down to multiples of P1
SORTED_REAL = 7  # ascending base * (1 + R4 * u), base one of R0..R(P0-1)
WALK = 8  # random walk from U(R0, R1), steps U(-R2, R2), clamped to [R3, R4]
SCALE = 9  # ref0 * f * (1 + U(-R2, R2)) + U(R3, R4), f = U(R0, R1) per table; int >= P0
SUM = 10  # sum of refs
RANK = 11  # competition rank over refs (rows already sorted): 1, 2, 2, 4, ...
PERCENT = 12  # 100 * ref0 / sum(ref0)
SORT_ROWS = 13  # stable sort of all earlier columns by refs, descending if P0
CATEGORICAL = 14  # pool of U[P0, P1] distinct items, Zipf-like weights 1/(j + R0),
#                   repeat the previous row with probability R1, avoid ref0's value
UNIQUE = 15  # distinct items (repeats only once the space is exhausted)
CHOICE = 16  # independent uniform items
COPY = 17  # ref0's values; if P0 >= 0, slot 0 mapped through canon[P0 + slot] (a city's country)
SCORE = 18  # goals a, b packed a << 8 | b; P0 = 1: a > b (a final's winner first)
NEXT_DATE = 19  # ref0 of the next row; last row ref0 + U[P0, P1] days
DAYS_BETWEEN = 20  # days from ref0 to ref1
LEAGUE = 21  # block of 9: league, position, played, won, drawn, lost, for, against, points
MEDALS = 22  # block of 3: gold, silver, bronze (at least one medal per row)
TENNIS = 23  # set scores packed, from the player's side; ref0 is the outcome column
UNIQUE_INTS = 24  # distinct integers in [P0, P1], ascending if P2
RATIO = 25  # ref0 / ref1 * R0

# --------------------------------------------------------------------- parameter layout
CI_KIND, CI_CTYPE, CI_SPACE, CI_FID = 0, 1, 2, 3
CI_REF0, CI_REF1, CI_REF2 = 4, 5, 6
CI_P0, CI_P1, CI_P2, CI_P3, CI_P4 = 7, 8, 9, 10, 11
CI_NHEAD, CI_ORDER, CI_TMODE, CI_DEC, CI_HGROUP = 12, 13, 14, 15, 16
NUM_INT_PARAMS = 17
CR_INCLUDE, CR_NULLF, CR_SWAP = 0, 1, 2
CR_R0, CR_R1, CR_R2, CR_R3, CR_R4 = 3, 4, 5, 6, 7
NUM_REAL_PARAMS = 8

EARLIEST_YEAR = 1000  # years and dates never start before (huge tables end after P1)
#: Cumulative probabilities of 0, 1, ..., 5 goals (6 when u is past the last).
GOALS_CDF = (0.24, 0.58, 0.81, 0.92, 0.97, 0.99)
SLOT_MASK = 0xFFFF  # one 16-bit word of a packed text item


# ===================================================================== helpers
@njit
def goals(state):
    u = uniform(state)
    g = 0
    while g < len(GOALS_CDF) and u >= GOALS_CDF[g]:
        g += 1
    return g


@njit
def value_at(ivals, rvals, ctypes, col, i):
    """Cell (col, i) as a float, from whichever matrix holds the column."""
    if ctypes[col] == REAL:
        return rvals[col, i]
    return np.float64(ivals[col, i])


@njit
def store_number(ivals, rvals, ctype, dec, col, i, x):
    """Store x in column col: reals rounded to ``dec`` decimals, integers rounded down."""
    if ctype == REAL:
        rvals[col, i] = round_to(x, dec)
    else:
        ivals[col, i] = np.int64(np.floor(x))


# ===================================================================== text columns
@njit
def fixed_template(state, ci, space_info, tmpl_cdf):
    """The column's template when it is fixed per table (TMODE 1), else -1."""
    if ci[CI_TMODE] != 1:
        return -1
    space = ci[CI_SPACE]
    start = space_info[space, SP_START]
    return pick_cdf(state, tmpl_cdf[start:start + space_info[space, SP_COUNT]])


@njit
def gen_categorical(state, n, j, ci, cr, ivals, space_info, tmpl_slots, tmpl_cdf, canon):
    fixed_t = fixed_template(state, ci, space_info, tmpl_cdf)
    space = ci[CI_SPACE]
    k = ci[CI_P0] + below(state, ci[CI_P1] - ci[CI_P0] + 1)
    k = max(1, min(k, space_info[space, SP_CAPACITY]))
    pool = np.empty(k, dtype=np.int64)
    sample_distinct(state, pool, k, space, fixed_t, space_info, tmpl_slots, tmpl_cdf, canon)
    cdf = np.empty(k, dtype=np.float64)
    acc = 0.0
    for q in range(k):
        acc += 1.0 / (q + cr[CR_R0])
        cdf[q] = acc
    for q in range(k):
        cdf[q] /= acc
    cdf[k - 1] = 1.0
    avoid = ci[CI_REF0]
    for i in range(n):
        if i > 0 and uniform(state) < cr[CR_R1]:
            v = ivals[j, i - 1]
        else:
            v = pool[pick_cdf(state, cdf)]
        if avoid >= 0:
            tries = 0
            while v == ivals[avoid, i] and tries < 8:
                v = pool[pick_cdf(state, cdf)]
                tries += 1
        ivals[j, i] = v


# ===================================================================== block kinds
@njit
def gen_league(state, n, j, ci, ivals):
    """Seasons of one club: league tier moves with promotion and relegation; W + D + L =
    played, points = 3W + D, the position follows the points share."""
    tiers = ci[CI_P1]
    ladder = below(state, ci[CI_P0])
    r = below(state, 4)
    teams = 18 if r == 0 else (24 if r == 3 else 20)
    played = 2 * (teams - 1)
    tier = below(state, tiers)
    s = 0.2 + 0.6 * uniform(state)
    for i in range(n):
        s = min(max(s + (0.3 * uniform(state) - 0.15), 0.05), 0.95)
        w = np.int64(np.floor(played * (0.1 + 0.55 * s) * (0.85 + 0.3 * uniform(state))))
        w = min(max(w, 0), played)
        d = min(np.int64(np.floor(played * (0.15 + 0.17 * uniform(state)))), played - w)
        lost = played - w - d
        gf = np.int64(np.floor(2.1 * w + 1.1 * d + 0.6 * lost + 8.0 * uniform(state)))
        ga = np.int64(np.floor(0.6 * w + 1.1 * d + 2.0 * lost + 8.0 * uniform(state)))
        pts = 3 * w + d
        frac = pts / (3.0 * played)
        pos = np.int64(np.floor((0.85 - frac) / 0.7 * (teams - 1) + 0.5)) + below(state, 3)
        pos = min(max(pos, 1), teams)
        ivals[j, i] = np.int64(ladder * tiers + tier) << 32
        ivals[j + 1, i] = pos
        ivals[j + 2, i] = played
        ivals[j + 3, i] = w
        ivals[j + 4, i] = d
        ivals[j + 5, i] = lost
        ivals[j + 6, i] = gf
        ivals[j + 7, i] = ga
        ivals[j + 8, i] = pts
        if pos <= 2 and tier > 0:
            tier -= 1
        elif pos >= teams - 2 and tier < tiers - 1:
            tier += 1


@njit
def gen_medals(state, n, j, ivals):
    """Gold, silver, bronze of nations of skewed strength; every nation has a medal."""
    for i in range(n):
        u = uniform(state)
        s = 0.5 + 45.0 * u * u * u * u * u
        g = np.int64(np.floor(s * (0.2 + 0.8 * uniform(state))))
        sv = np.int64(np.floor(s * (0.2 + 0.8 * uniform(state))))
        b = np.int64(np.floor(s * (0.3 + 0.8 * uniform(state)) + 0.5))
        if g + sv + b == 0:
            b = 1
        ivals[j, i] = g
        ivals[j + 1, i] = sv
        ivals[j + 2, i] = b


@njit
def gen_tennis(state, n, j, ci, cr, ivals):
    """Set scores of finals: packed set count (3 bits) then (player, opponent) games per set
    (4 + 4 bits each); the player wins the match when the outcome item's slot 0 is 0."""
    outcome = ci[CI_REF0]
    for i in range(n):
        player_won = ((ivals[outcome, i] >> 32) & SLOT_MASK) == 0
        need = 3 if uniform(state) < cr[CR_R0] else 2
        won, lost, sets = 0, 0, 0
        packed = np.int64(0)
        while won < need:
            winner_takes = True
            if lost < need - 1 and uniform(state) < 0.3:
                winner_takes = False
                lost += 1
            else:
                won += 1
            u = uniform(state)
            if u < 0.12:
                hi, lo = 7, 6
            elif u < 0.25:
                hi, lo = 7, 5
            else:
                hi, lo = 6, below(state, 5)
            player_takes = winner_takes == player_won
            a, b = (hi, lo) if player_takes else (lo, hi)
            packed |= np.int64((a << 4) | b) << (3 + 8 * sets)
            sets += 1
        ivals[j, i] = packed | sets


# ===================================================================== numeric kinds
@njit
def gen_serial(state, n, j, ci, ivals):
    start = ci[CI_P0] + ci[CI_P3] * below(state, ci[CI_P1] + 1)
    for i in range(n):
        ivals[j, i] = start + i * ci[CI_P2]


@njit
def span_start(state, lo, hi, total, earliest):
    """Start of a run of length ``total`` within [lo, hi]; a run too long for the range
    ends at hi instead (starting before lo, but never before ``earliest``)."""
    if hi - total >= lo:
        return lo + below(state, hi - total - lo + 1)
    return max(hi - total, earliest)


@njit
def gen_years(state, n, j, ci, ivals):
    """Non-decreasing years; the start is drawn after the gaps so the last year <= P1."""
    total = 0
    ivals[j, 0] = 0
    for i in range(1, n):
        total += ci[CI_P2] + below(state, ci[CI_P3] - ci[CI_P2] + 1)
        ivals[j, i] = total
    start = span_start(state, ci[CI_P0], ci[CI_P1], total, EARLIEST_YEAR)
    for i in range(n):
        ivals[j, i] += start


@njit
def gen_dates(state, n, j, ci, ivals):
    """Increasing dates (yyyymmdd), gaps of P4 * U[P2, P3] days, ending by year P1."""
    total = 0
    ivals[j, 0] = 0
    for i in range(1, n):
        total += ci[CI_P4] * (ci[CI_P2] + below(state, ci[CI_P3] - ci[CI_P2] + 1))
        ivals[j, i] = total
    lo = days_from_civil(ci[CI_P0], 1, 1)
    hi = days_from_civil(ci[CI_P1], 12, 31)
    start = span_start(state, lo, hi, total, days_from_civil(EARLIEST_YEAR, 1, 1))
    for i in range(n):
        ivals[j, i] = civil_from_days(start + ivals[j, i])


@njit
def gen_date_random(state, n, j, ci, ivals):
    lo = days_from_civil(ci[CI_P0], 1, 1)
    hi = days_from_civil(ci[CI_P1], 12, 31)
    for i in range(n):
        ivals[j, i] = civil_from_days(lo + below(state, hi - lo + 1))


@njit
def gen_uniform(state, n, j, ci, cr, ivals, rvals):
    for i in range(n):
        if ci[CI_CTYPE] == REAL:
            x = cr[CR_R0] + (cr[CR_R1] - cr[CR_R0]) * uniform(state)
            rvals[j, i] = round_to(x, ci[CI_DEC])
        else:
            v = ci[CI_P0] + below(state, ci[CI_P1] - ci[CI_P0] + 1)
            ivals[j, i] = (v // ci[CI_P2]) * ci[CI_P2]


@njit
def gen_power(state, n, j, ci, cr, ivals, rvals):
    """R0 + (R1 - R0) * u**P0: most values near R0, a few large (attendance, votes)."""
    for i in range(n):
        u = uniform(state)
        p = 1.0
        for _ in range(ci[CI_P0]):
            p *= u
        x = cr[CR_R0] + (cr[CR_R1] - cr[CR_R0]) * p
        if ci[CI_CTYPE] == REAL:
            rvals[j, i] = round_to(x, ci[CI_DEC])
        else:
            ivals[j, i] = np.int64(np.floor(x / ci[CI_P1])) * ci[CI_P1]


@njit
def gen_sorted_real(state, n, j, ci, cr, rvals):
    base_value = cr[CR_R0 + below(state, ci[CI_P0])]
    xs = np.empty(n, dtype=np.float64)
    for i in range(n):
        xs[i] = base_value * (1.0 + cr[CR_R4] * uniform(state))
    insertion_sort(xs, n)
    for i in range(n):
        rvals[j, i] = round_to(xs[i], ci[CI_DEC])


@njit
def gen_walk(state, n, j, ci, cr, ivals, rvals):
    x = cr[CR_R0] + (cr[CR_R1] - cr[CR_R0]) * uniform(state)
    for i in range(n):
        if i > 0:
            x += cr[CR_R2] * (2.0 * uniform(state) - 1.0)
        x = min(max(x, cr[CR_R3]), cr[CR_R4])
        if ci[CI_CTYPE] == REAL:
            rvals[j, i] = round_to(x, ci[CI_DEC])
        else:
            ivals[j, i] = np.int64(np.floor(x + 0.5))


@njit
def gen_scale(state, n, j, ci, cr, ivals, rvals, ctypes):
    f = cr[CR_R0] + (cr[CR_R1] - cr[CR_R0]) * uniform(state)
    for i in range(n):
        jitter = 1.0 + cr[CR_R2] * (2.0 * uniform(state) - 1.0)
        noise = cr[CR_R3] + (cr[CR_R4] - cr[CR_R3]) * uniform(state)
        x = value_at(ivals, rvals, ctypes, ci[CI_REF0], i) * f * jitter + noise
        if ci[CI_CTYPE] == REAL:
            rvals[j, i] = round_to(max(x, np.float64(ci[CI_P0])), ci[CI_DEC])
        else:
            ivals[j, i] = max(np.int64(np.floor(x)), ci[CI_P0])


@njit
def gen_unique_ints(state, n, j, ci, ivals):
    lo = ci[CI_P0]
    size = ci[CI_P1] - lo + 1
    perm = np.arange(size)
    for i in range(n):
        if i < size:
            r = i + below(state, size - i)
            perm[i], perm[r] = perm[r], perm[i]
            ivals[j, i] = lo + perm[i]
        else:
            ivals[j, i] = lo + below(state, size)
    if ci[CI_P2] == 1:
        insertion_sort(ivals[j], n)


@njit
def gen_score(state, n, j, ci, ivals):
    for i in range(n):
        b = goals(state)
        a = b + 1 + goals(state) // 2 if ci[CI_P0] == 1 else goals(state)
        ivals[j, i] = (a << 8) | b


@njit
def gen_next_date(state, n, j, ci, ivals):
    ref = ci[CI_REF0]
    for i in range(n - 1):
        ivals[j, i] = ivals[ref, i + 1]
    gap = ci[CI_P0] + below(state, ci[CI_P1] - ci[CI_P0] + 1)
    ivals[j, n - 1] = civil_from_days(days_of(ivals[ref, n - 1]) + gap)


# ===================================================================== derived kinds
@njit
def gen_derived(n, j, ci, cr, ivals, rvals, ctypes, canon):
    """The kinds that draw nothing: SUM, RANK, PERCENT, COPY, DAYS_BETWEEN, RATIO."""
    kind = ci[CI_KIND]
    ref0 = ci[CI_REF0]
    if kind == SUM:
        for i in range(n):
            acc = 0
            for r in range(3):
                ref = ci[CI_REF0 + r]
                if ref >= 0:
                    acc += ivals[ref, i]
            ivals[j, i] = acc
    elif kind == RANK:  # rows are sorted: equal keys share the rank of the first of them
        for i in range(n):
            same = i > 0
            for r in range(3):
                ref = ci[CI_REF0 + r]
                if same and ref >= 0:
                    same = ivals[ref, i] == ivals[ref, i - 1] and rvals[ref, i] == rvals[ref, i - 1]
            ivals[j, i] = ivals[j, i - 1] if same else i + 1
    elif kind == PERCENT:
        total = 0.0
        for i in range(n):
            total += value_at(ivals, rvals, ctypes, ref0, i)
        for i in range(n):
            x = 100.0 * value_at(ivals, rvals, ctypes, ref0, i) / total if total > 0 else 0.0
            store_number(ivals, rvals, ci[CI_CTYPE], ci[CI_DEC], j, i, x)
    elif kind == COPY:
        for i in range(n):
            ivals[j, i] = ivals[ref0, i]
            rvals[j, i] = rvals[ref0, i]
            if ci[CI_P0] >= 0:  # the item of the same line in a parallel list
                ivals[j, i] = canon[ci[CI_P0] + ((ivals[ref0, i] >> 32) & SLOT_MASK)] << 32
    elif kind == DAYS_BETWEEN:
        for i in range(n):
            ivals[j, i] = days_of(ivals[ci[CI_REF1], i]) - days_of(ivals[ref0, i])
    elif kind == RATIO:
        for i in range(n):
            den = value_at(ivals, rvals, ctypes, ci[CI_REF1], i)
            num = value_at(ivals, rvals, ctypes, ref0, i)
            x = num / den * cr[CR_R0] if den != 0 else 0.0
            store_number(ivals, rvals, ci[CI_CTYPE], ci[CI_DEC], j, i, x)


@njit
def sort_rows(n, j, ci, ivals, rvals):
    """Stable insertion sort of rows by the ref columns; permutes columns 0..j-1."""
    desc = ci[CI_P0] == 1
    order = np.arange(n)
    for a in range(1, n):
        cur = order[a]
        b = a - 1
        while b >= 0:
            prev = order[b]
            cmp = 0  # sign of (cur - prev) over the keys
            for r in range(3):
                ref = ci[CI_REF0 + r]
                if ref < 0 or cmp != 0:
                    continue
                if ivals[ref, cur] != ivals[ref, prev]:
                    cmp = 1 if ivals[ref, cur] > ivals[ref, prev] else -1
                elif rvals[ref, cur] != rvals[ref, prev]:
                    cmp = 1 if rvals[ref, cur] > rvals[ref, prev] else -1
            if (cmp > 0) if desc else (cmp < 0):
                order[b + 1] = prev
                b -= 1
            else:
                break
        order[b + 1] = cur
    itmp = np.empty(n, dtype=np.int64)
    rtmp = np.empty(n, dtype=np.float64)
    for c in range(j):
        for i in range(n):
            itmp[i] = ivals[c, order[i]]
            rtmp[i] = rvals[c, order[i]]
        for i in range(n):
            ivals[c, i] = itmp[i]
            rvals[c, i] = rtmp[i]
