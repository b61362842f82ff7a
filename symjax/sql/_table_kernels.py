"""Numba kernels of the synthetic table sampler (private; the API is :mod:`symjax.sql.tables`).

One call of :func:`sample_table` draws a whole table: the archetype, the row count, which
optional columns appear and under which header, their order, every cell, the NULLs, and the
text cells' codes into a per-table pool of distinct (formatter, item) keys. Python then only
turns the distinct keys into strings.

Archetypes are data, not code: each is a run of rows in ``col_int`` / ``col_real`` (layout
below), one row per column, generated in order. A column's ``kind`` names the sampler that
fills it; derived kinds read earlier columns of the same archetype (``ref`` indices are
local to the archetype). ``SORT_ROWS`` is a pseudo-column that reorders every earlier
column, so ranks and totals computed after it see the final row order.

Randomness is an explicit splitmix64 counter in a one-element ``uint64`` array: no global
state, and the same seed gives the same table in every process. The kernels use only
+, -, *, / and floor on floats (no exp/log), so the slow twins in the tests reproduce them
bit for bit.

Text items are packed ``int64``: ``template << 48 | slot0 << 32 | slot1 << 16 | slot2``,
where a space's templates combine up to three word lists (``"{0} {1}"`` over first and
last names, ...). The table's text pool is keyed by ``fid << 56 | item``, ``fid`` naming
the Python formatter of the column (a space's templates, or a special one like the
country of a city).

Column rows: ``col_int`` = kind, column type, text space, formatter id, three refs,
parameters P0..P4, number of header variants, output order rank, template mode (1: one
template for the whole column), decimals of reals, header group; ``col_real`` = inclusion
probability, NULL factor (times the configured NULL probability), probability to swap with
the next column, parameters R0..R4. The ``CI_*`` / ``CR_*`` constants index them.
"""
from __future__ import annotations

import numpy as np

from symjax.sql._numba import njit

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
# space_info columns: first template, number of templates, capacity, simple (one template
# over one list). tmpl_slots rows: list sizes of the three slots (0: unused), then the
# offsets of their lists in ``canon``.
SP_START, SP_COUNT, SP_CAPACITY, SP_SIMPLE = 0, 1, 2, 3

MAX_NULL_PROBABILITY = 0.9
EARLIEST_YEAR = 1000  # years and dates never start before (huge tables end after P1)
SEED_SALT = 0x5EED5EED5EED5EED
#: Cumulative probabilities of 0, 1, ..., 5 goals (6 when u is past the last).
GOALS_CDF = (0.24, 0.58, 0.81, 0.92, 0.97, 0.99)

_GAMMA = np.uint64(0x9E3779B97F4A7C15)
_MIX1 = np.uint64(0xBF58476D1CE4E5B9)
_MIX2 = np.uint64(0x94D049BB133111EB)
_U30, _U27, _U31, _U11 = np.uint64(30), np.uint64(27), np.uint64(31), np.uint64(11)
_INV_2_53 = 1.0 / 9007199254740992.0
_SLOT_MASK = 0xFFFF


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
def insertion_sort(xs, n):
    """Sort xs[:n] ascending in place (n is small; cheaper to compile than np.sort)."""
    for a in range(1, n):
        cur = xs[a]
        b = a - 1
        while b >= 0 and xs[b] > cur:
            xs[b + 1] = xs[b]
            b -= 1
        xs[b + 1] = cur


@njit
def days_of(yyyymmdd):
    return days_from_civil(yyyymmdd // 10000, (yyyymmdd // 100) % 100, yyyymmdd % 100)


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
        player_won = ((ivals[outcome, i] >> 32) & _SLOT_MASK) == 0
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
                ivals[j, i] = canon[ci[CI_P0] + ((ivals[ref0, i] >> 32) & _SLOT_MASK)] << 32
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


# ===================================================================== the table
@njit
def choose_columns(state, base, count, col_int, col_real, max_columns):
    """Which columns appear, under which header variant, in which order.

    Returns (out, hvar): spec-local column indices in output order, and each spec column's
    header variant. Columns in the same header group (CI_HGROUP >= 0) share a variant, so
    ``P | W | D | L`` never mixes with ``Played | Won``.
    """
    incl = np.zeros(count, dtype=np.bool_)
    hvar = np.zeros(count, dtype=np.int64)
    group_var = np.empty(count + 1, dtype=np.int64)
    for g in range(count + 1):
        group_var[g] = -1
    for j in range(count):
        ci = col_int[base + j]
        incl[j] = uniform(state) < col_real[base + j, CR_INCLUDE]
        nh = ci[CI_NHEAD]
        g = ci[CI_HGROUP]
        if g >= 0 and group_var[g] >= 0:
            hvar[j] = min(group_var[g], nh - 1)
        elif nh > 1:
            hvar[j] = 0 if uniform(state) < 0.5 else 1 + below(state, nh - 1)
        if g >= 0 and group_var[g] < 0:
            group_var[g] = hvar[j]
    k = 0
    for j in range(count):
        if incl[j]:
            k += 1
    while k > max_columns:  # drop optional columns from the right
        drop = -1
        for j in range(count):
            if incl[j] and col_real[base + j, CR_INCLUDE] < 1.0:
                if drop < 0 or col_int[base + j, CI_ORDER] > col_int[base + drop, CI_ORDER]:
                    drop = j
        if drop < 0:
            break
        incl[drop] = False
        k -= 1
    out = np.empty(k, dtype=np.int64)
    p = 0
    for j in range(count):
        if incl[j]:
            out[p] = j
            p += 1
    for a in range(1, k):  # insertion sort by output order key (stable)
        cur = out[a]
        b = a - 1
        while b >= 0 and col_int[base + out[b], CI_ORDER] > col_int[base + cur, CI_ORDER]:
            out[b + 1] = out[b]
            b -= 1
        out[b + 1] = cur
    p = 0
    while p < k - 1:  # occasional swaps of neighbours (Title | Year instead of Year | Title)
        if uniform(state) < col_real[base + out[p], CR_SWAP]:
            out[p], out[p + 1] = out[p + 1], out[p]
            p += 2
        else:
            p += 1
    return out, hvar


@njit
def encode_text(out, ctypes, fids, onull, oi):
    """Codes of the text cells into the table's pool of distinct keys ``fid << 56 | item``
    (formatter id, packed item), numbered in order of first appearance (column by column,
    row by row, NULLs skipped): the order ``Table.from_columns`` gives the string pool.

    Returns (codes int32[k, n], -1 at NULLs and non-text cells; keys int64[num_keys]).
    """
    k, n = oi.shape
    codes = np.empty((k, n), dtype=np.int32)
    for p in range(k):
        for i in range(n):
            codes[p, i] = -1
    cap = 16
    while cap < 2 * k * n:
        cap *= 2
    mask = np.uint64(cap - 1)
    slot_key = np.empty(cap, dtype=np.int64)
    slot_code = np.empty(cap, dtype=np.int32)
    for h in range(cap):
        slot_key[h] = -1
    keys = np.empty(k * n, dtype=np.int64)
    used = 0
    for p in range(k):
        j = out[p]
        if ctypes[j] != TEXT:
            continue
        high = np.int64(fids[j]) << 56
        for i in range(n):
            if onull[p, i]:
                continue
            key = high | oi[p, i]
            h = np.int64(mix64(np.uint64(key)) & mask)
            while slot_key[h] >= 0 and slot_key[h] != key:
                h = (h + 1) & (cap - 1)
            if slot_key[h] < 0:
                slot_key[h] = key
                slot_code[h] = used
                keys[used] = key
                used += 1
            codes[p, i] = slot_code[h]
    return codes, keys[:used]


def pack_spec(arch_cdf, arch_cols, col_int, col_real, space_info, tmpl_slots, tmpl_cdf, canon,
              rows_cdf, min_rows, null_probability, max_columns):
    """Pack the sampler's inputs into one int64 and one float64 array (plain Python).

    Passing two arrays instead of twelve saves microseconds per call: numba's dispatcher
    pays for every argument it types and unboxes. Layout: ``iblob`` = [num archetypes,
    num columns, num spaces, num templates, num row counts, min_rows, max_columns, len(canon)]
    then arch_cols, col_int, space_info, tmpl_slots (row-major), canon; ``fblob`` =
    [null_probability] then arch_cdf, col_real, tmpl_cdf, rows_cdf. :func:`unpack_spec`
    inverts it.
    """
    head = [len(arch_cdf), len(col_int), len(space_info), len(tmpl_slots), len(rows_cdf),
            int(min_rows), int(max_columns), len(canon)]
    iblob = np.concatenate([np.array(head, dtype=np.int64)] + [
        np.ascontiguousarray(a, dtype=np.int64).ravel()
        for a in (arch_cols, col_int, space_info, tmpl_slots, canon)])
    fblob = np.concatenate([np.array([null_probability], dtype=np.float64)] + [
        np.ascontiguousarray(a, dtype=np.float64).ravel() for a in (arch_cdf, col_real, tmpl_cdf, rows_cdf)])
    return iblob, fblob


@njit
def unpack_spec(iblob, fblob):
    """Views of the arrays packed by :func:`pack_spec`, in its argument order."""
    na, nc, ns, nt, nr, nw = iblob[0], iblob[1], iblob[2], iblob[3], iblob[4], iblob[7]
    o = 8
    arch_cols = iblob[o:o + 2 * na].reshape((na, 2))
    o += 2 * na
    col_int = iblob[o:o + nc * NUM_INT_PARAMS].reshape((nc, NUM_INT_PARAMS))
    o += nc * NUM_INT_PARAMS
    space_info = iblob[o:o + 4 * ns].reshape((ns, 4))
    o += 4 * ns
    tmpl_slots = iblob[o:o + 6 * nt].reshape((nt, 6))
    o += 6 * nt
    canon = iblob[o:o + nw]
    f = 1
    arch_cdf = fblob[f:f + na]
    f += na
    col_real = fblob[f:f + nc * NUM_REAL_PARAMS].reshape((nc, NUM_REAL_PARAMS))
    f += nc * NUM_REAL_PARAMS
    tmpl_cdf = fblob[f:f + nt]
    f += nt
    rows_cdf = fblob[f:f + nr]
    return (arch_cdf, arch_cols, col_int, col_real, space_info, tmpl_slots, tmpl_cdf, canon,
            rows_cdf, iblob[5], fblob[0], iblob[6])


@njit
def sample_table(seed, iblob, fblob):
    """Draw one table from the spec packed by :func:`pack_spec`.

    Returns (meta, ivals, rvals, nulls, codes), few arrays because returning each costs
    Python time. ``meta`` is [archetype, k, num_keys, out[k], hvar[k], then the text pool's
    keys (see :func:`encode_text`) cut in four runs of num_keys: bits 48.., 32..47, 16..31,
    0..15]; ``out`` are the spec-local indices of the k output columns, ``hvar`` their header
    variants. Row p of ivals / rvals / nulls / codes is output column p; NULL cells hold 0
    (and code -1)."""
    (arch_cdf, arch_cols, col_int, col_real, space_info, tmpl_slots, tmpl_cdf, canon, rows_cdf,
     min_rows, null_probability, max_columns) = unpack_spec(iblob, fblob)
    state = np.empty(1, dtype=np.uint64)
    state[0] = mix64(seed ^ np.uint64(SEED_SALT))
    arch = pick_cdf(state, arch_cdf)
    n = min_rows + pick_cdf(state, rows_cdf)
    base = arch_cols[arch, 0]
    count = arch_cols[arch, 1]
    out, hvar_all = choose_columns(state, base, count, col_int, col_real, max_columns)
    ctypes = np.empty(count, dtype=np.int64)
    fids = np.empty(count, dtype=np.int64)
    for j in range(count):
        ctypes[j] = col_int[base + j, CI_CTYPE]
        fids[j] = col_int[base + j, CI_FID]
    ivals = np.zeros((count, n), dtype=np.int64)
    rvals = np.zeros((count, n), dtype=np.float64)
    for j in range(count):
        ci = col_int[base + j]
        cr = col_real[base + j]
        kind = ci[CI_KIND]
        if kind == SERIAL:
            gen_serial(state, n, j, ci, ivals)
        elif kind == YEARS:
            gen_years(state, n, j, ci, ivals)
        elif kind == DATES:
            gen_dates(state, n, j, ci, ivals)
        elif kind == DATE_RANDOM:
            gen_date_random(state, n, j, ci, ivals)
        elif kind == UNIFORM:
            gen_uniform(state, n, j, ci, cr, ivals, rvals)
        elif kind == POWER:
            gen_power(state, n, j, ci, cr, ivals, rvals)
        elif kind == SORTED_REAL:
            gen_sorted_real(state, n, j, ci, cr, rvals)
        elif kind == WALK:
            gen_walk(state, n, j, ci, cr, ivals, rvals)
        elif kind == SCALE:
            gen_scale(state, n, j, ci, cr, ivals, rvals, ctypes)
        elif kind == UNIQUE_INTS:
            gen_unique_ints(state, n, j, ci, ivals)
        elif kind == SCORE:
            gen_score(state, n, j, ci, ivals)
        elif kind == NEXT_DATE:
            gen_next_date(state, n, j, ci, ivals)
        elif kind == SORT_ROWS:
            sort_rows(n, j, ci, ivals, rvals)
        elif kind == CATEGORICAL:
            gen_categorical(state, n, j, ci, cr, ivals, space_info, tmpl_slots, tmpl_cdf, canon)
        elif kind == UNIQUE:
            fixed_t = fixed_template(state, ci, space_info, tmpl_cdf)
            sample_distinct(state, ivals[j], n, ci[CI_SPACE], fixed_t, space_info, tmpl_slots, tmpl_cdf, canon)
        elif kind == CHOICE:
            fixed_t = fixed_template(state, ci, space_info, tmpl_cdf)
            for i in range(n):
                ivals[j, i] = sample_item(state, ci[CI_SPACE], fixed_t, space_info, tmpl_slots, tmpl_cdf, canon)
        elif kind == LEAGUE:
            gen_league(state, n, j, ci, ivals)
        elif kind == MEDALS:
            gen_medals(state, n, j, ivals)
        elif kind == TENNIS:
            gen_tennis(state, n, j, ci, cr, ivals)
        elif kind != FILLED:
            gen_derived(n, j, ci, cr, ivals, rvals, ctypes, canon)
    k = out.shape[0]
    oi = np.empty((k, n), dtype=np.int64)
    orv = np.empty((k, n), dtype=np.float64)
    onull = np.zeros((k, n), dtype=np.bool_)
    hvar = np.empty(k, dtype=np.int64)
    for p in range(k):
        j = out[p]
        hvar[p] = hvar_all[j]
        for i in range(n):
            oi[p, i] = ivals[j, i]
            orv[p, i] = rvals[j, i]
        if p == 0:  # the key column is never NULL
            continue
        prob = min(MAX_NULL_PROBABILITY, null_probability * col_real[base + j, CR_NULLF])
        if prob <= 0.0:
            continue
        for i in range(n):
            if uniform(state) < prob:
                onull[p, i] = True
                oi[p, i] = 0
                orv[p, i] = 0.0
    codes, keys = encode_text(out, ctypes, fids, onull, oi)
    used = keys.shape[0]
    meta = np.empty(3 + 2 * k + 4 * used, dtype=np.int64)
    meta[0], meta[1], meta[2] = arch, k, used
    for p in range(k):
        meta[3 + p] = out[p]
        meta[3 + k + p] = hvar[p]
    base = 3 + 2 * k
    for u in range(used):  # small ints: Python shifts on 60-bit keys cost more than the rest
        meta[base + u] = keys[u] >> 48
        meta[base + used + u] = (keys[u] >> 32) & _SLOT_MASK
        meta[base + 2 * used + u] = (keys[u] >> 16) & _SLOT_MASK
        meta[base + 3 * used + u] = keys[u] & _SLOT_MASK
    return meta, oi, orv, onull, codes
