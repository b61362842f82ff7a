"""The whole-table kernel of the synthetic table sampler (private; the API is
:mod:`symjax.sql.synth.tables`).

One call of :func:`sample_table` draws a whole table: the archetype, the row count, which
optional columns appear and under which header, their order, every cell (through the
column samplers of :mod:`symjax.sql.synth._column_kernels`), the NULLs, and the text cells' codes
into a per-table pool of distinct (formatter, item) keys. Python then only turns the
distinct keys into strings.

The table's text pool is keyed by ``fid << 56 | item``, ``item`` a packed text item (see
:mod:`symjax.sql._random_kernels`) and ``fid`` naming the Python formatter of the column (a
space's templates, or a special one like the country of a city). The sampler's inputs
travel as two arrays built by :func:`pack_spec`.
"""
from __future__ import annotations

import numpy as np

from symjax.sql._numba import njit
from symjax.sql._random_kernels import (
    below,
    mix64,
    pick_cdf,
    sample_distinct,
    sample_item,
    uniform,
)
from symjax.sql.synth._column_kernels import (
    CATEGORICAL,
    CHOICE,
    CI_CTYPE,
    CI_FID,
    CI_HGROUP,
    CI_KIND,
    CI_NHEAD,
    CI_ORDER,
    CI_SPACE,
    CR_INCLUDE,
    CR_NULLF,
    CR_SWAP,
    DATE_RANDOM,
    DATES,
    FILLED,
    LEAGUE,
    MEDALS,
    NEXT_DATE,
    NUM_INT_PARAMS,
    NUM_REAL_PARAMS,
    POWER,
    SCALE,
    SCORE,
    SERIAL,
    SLOT_MASK,
    SORT_ROWS,
    SORTED_REAL,
    TENNIS,
    TEXT,
    UNIFORM,
    UNIQUE,
    UNIQUE_INTS,
    WALK,
    YEARS,
    fixed_template,
    gen_categorical,
    gen_date_random,
    gen_dates,
    gen_derived,
    gen_league,
    gen_medals,
    gen_next_date,
    gen_power,
    gen_scale,
    gen_score,
    gen_serial,
    gen_sorted_real,
    gen_tennis,
    gen_uniform,
    gen_unique_ints,
    gen_walk,
    gen_years,
    sort_rows,
)
from symjax.sql.text._text_kernels import copy_bytes, write_digits

MAX_NULL_PROBABILITY = 0.9
SEED_SALT = 0x5EED5EED5EED5EED


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
        meta[base + used + u] = (keys[u] >> 32) & SLOT_MASK
        meta[base + 2 * used + u] = (keys[u] >> 16) & SLOT_MASK
        meta[base + 3 * used + u] = keys[u] & SLOT_MASK
    return meta, oi, orv, onull, codes


# ============================================================================ pool text
# How the text of a special (formatted) item is made: symjax.sql.synth.vocab.SPECIAL_FORMATS.
SPECIAL_NONE, SPECIAL_SEASON, SPECIAL_SCORE, SPECIAL_RESULT_SCORE, SPECIAL_TENNIS = 0, 1, 2, 3, 4
SPECIAL_CODES = {"season": SPECIAL_SEASON, "score": SPECIAL_SCORE, "result_score": SPECIAL_RESULT_SCORE,
                 "tennis_score": SPECIAL_TENNIS}


@njit
def _dash(buf, p):  # "–" (U+2013)
    buf[p] = 0xE2
    buf[p + 1] = 0x80
    buf[p + 2] = 0x93
    return p + 3


@njit
def _special(buf, p, kind, a, b, c):
    """The text of a formatted item given as its three 16-bit words (vocab's twins)."""
    if kind == SPECIAL_SEASON:
        year = (a << 32) | (b << 16) | c
        nxt = year + 1
        p = _dash(buf, write_digits(buf, p, year, 1))
        if nxt % 100 == 0:
            return write_digits(buf, p, nxt, 1)
        return write_digits(buf, p, nxt % 100, 2)
    if kind == SPECIAL_SCORE or kind == SPECIAL_RESULT_SCORE:
        x, y = c >> 8, c & 255
        if kind == SPECIAL_RESULT_SCORE:
            buf[p] = 87 if x > y else (76 if x < y else 68)  # W, L, D
            buf[p + 1] = 32
            p += 2
        return write_digits(buf, _dash(buf, write_digits(buf, p, x, 1)), y, 1)
    item = (a << 32) | (b << 16) | c
    for s in range(item & 7):
        if s:
            buf[p] = 44
            buf[p + 1] = 32
            p += 2
        p = write_digits(buf, p, (item >> (7 + 8 * s)) & 15, 1)
        p = write_digits(buf, _dash(buf, p), (item >> (3 + 8 * s)) & 15, 1)
    return p


@njit
def pool_text(meta, words, word_off, first_base, second_base, special_kind, space_limit):
    """The text pool of a table drawn by :func:`sample_table` (from its ``meta``) as UTF-8,
    each string followed by a NUL byte: ``first[h][a] + second[h][b]`` for a plain item
    (``words``/``word_off``: every word of the folded template tables; word ``a`` of
    ``first[h]`` is word ``first_base[h] + a``), the formatter's text for a special one."""
    k = meta[1]
    used = meta[2]
    base = 3 + 2 * k
    size = 0
    for u in range(used):
        h = meta[base + u]
        if h < space_limit:
            w = first_base[h] + meta[base + used + u]
            size += word_off[w + 1] - word_off[w]
            w = second_base[h] + meta[base + 2 * used + u]
            size += word_off[w + 1] - word_off[w] + 1
        else:
            size += 64
    buf = np.empty(size, dtype=np.uint8)
    p = 0
    for u in range(used):
        h = meta[base + u]
        a = meta[base + used + u]
        b = meta[base + 2 * used + u]
        if h < space_limit:
            w = first_base[h] + a
            p = copy_bytes(buf, p, words, word_off[w], word_off[w + 1])
            w = second_base[h] + b
            p = copy_bytes(buf, p, words, word_off[w], word_off[w + 1])
        else:
            p = _special(buf, p, special_kind[h >> 8], a, b, meta[base + 3 * used + u])
        buf[p] = 0
        p += 1
    return buf[:p]


@njit
def draw_table(seed, iblob, fblob, words, word_off, first_base, second_base, special_kind, space_limit):
    """:func:`sample_table` then :func:`pool_text` in one call: ``(meta, ivals, rvals,
    nulls, codes, pool text)``."""
    meta, ivals, rvals, nulls, codes = sample_table(seed, iblob, fblob)
    text = pool_text(meta, words, word_off, first_base, second_base, special_kind, space_limit)
    return meta, ivals, rvals, nulls, codes, text
