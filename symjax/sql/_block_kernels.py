"""One kernel call for a whole block of the stream on a synthetic table (private; the API is
:func:`symjax.sql.lane.sample_synthetic`).

:func:`synthetic_block` chains what the stream otherwise does in four calls with Python in
between: draw the table (:func:`symjax.sql._table_kernels.sample_table` and ``pool_text``),
write its column names and its linearization (:func:`symjax.sql._text_kernels.linearize`),
then sample, execute and render the block's queries
(:func:`symjax.sql._lane_kernels.sample_fresh`'s steps). Each step is the same kernel the
separate calls run, on the same arrays, so the results are the same bytes; the chain only
saves the Python between them. Whatever a step leaves to Python (a pool with two keys
giving one string, a real the kernels cannot print with certainty) stops the chain with
``FALLBACK``, and the caller takes the separate calls.
"""
from __future__ import annotations

import numpy as np

from symjax.sql import _lane_kernels as LK
from symjax.sql import _text_kernels as TX
from symjax.sql._column_kernels import CI_CTYPE
from symjax.sql._numba import njit
from symjax.sql._table_kernels import pool_text, sample_table, unpack_spec

DONE, FALLBACK = 0, 1


@njit
def _distinct(sbytes, soff, count):
    """Whether the ``count`` ranked (sorted) NUL-terminated strings are all different: each
    sorts strictly before the next."""
    for r in range(count - 1):
        if not LK._bytes_less(sbytes, soff[r], soff[r + 1] - 1, soff[r + 1], soff[r + 2] - 1):
            return False
    return True


@njit
def _longest(pool):
    """The longest of the NUL-terminated UTF-8 strings in ``pool``, in code points (as
    Python's ``len`` counts the decoded string, lone surrogates included)."""
    longest = 0
    count = 0
    for p in range(pool.shape[0]):
        b = pool[p]
        if b == 0:
            longest = max(longest, count)
            count = 0
        elif (b & 0xC0) != 0x80:
            count += 1
    return longest


@njit
def synthetic_block(table_seed, iblob, fblob, words, word_off, first_base, second_base, special_kind,
                    space_limit, head_bytes, head_off, head_first, style, lane_seed, cfg, cdf,
                    plans, meta, toks, atoks, spec, aspec, areal, used):
    """Draw the table of ``table_seed`` (the spec packed by ``pack_spec``, the pool's word
    tables), and sample the block of ``lane_seed`` on it.

    ``head_bytes``/``head_off``: every header variant of every spec column, NUL-terminated,
    variant ``h`` of spec column ``g`` at index ``head_first[g] + h``. ``style``: the
    linearization's ``TX.STYLE_*``. The lane's arguments are those of
    :func:`symjax.sql._lane_kernels.sample_block`.

    Returns ``(facts, ivals, rvals, nulls, codes, buffer, plans, status)``, few arrays
    because returning each costs Python time:

    * ``facts`` (int64): the pool's size in bytes, its longest string in code points, the
      number of kept queries ``kept``, the table's ``meta`` up to its text keys
      (``3 + 2 * k`` entries, see :func:`sample_table`), then per kept query ``(ordered,
      end of its SQL tokens, end of its answer tokens, family)``: ``sample_block``'s
      ``meta`` and the family;
    * ``ivals``, ``rvals``, ``nulls``, ``codes``: the table as :func:`sample_table` gives it;
    * one UTF-8 buffer holding the pool's strings, the linearization, then
      :func:`render_texts`' SQL and answer texts, each followed by a NUL;
    * the kept queries' plan rows (a copy);
    * ``status``: ``FALLBACK`` (and the rest unspecified) when a step leaves the block to
      Python."""
    tmeta, ivals, rvals, nulls, codes = sample_table(table_seed, iblob, fblob)
    pool = pool_text(tmeta, words, word_off, first_base, second_base, special_kind, space_limit)
    arch_cols, col_int = unpack_spec(iblob, fblob)[1:3]
    arch, k, npool = tmeta[0], tmeta[1], tmeta[2]
    base = arch_cols[arch, 0]
    types = np.empty(k, dtype=np.int64)
    size = 0
    for p in range(k):
        g = base + tmeta[3 + p]
        types[p] = col_int[g, CI_CTYPE]
        h = head_first[g] + tmeta[3 + k + p]
        size += head_off[h + 1] - head_off[h]
    header = np.empty(size, dtype=np.uint8)
    q = 0
    for p in range(k):
        h = head_first[base + tmeta[3 + p]] + tmeta[3 + k + p]
        q = TX.copy_bytes(header, q, head_bytes, head_off[h], head_off[h + 1])
    empty = pool[:0]
    no_plans = plans[:0]
    text, status = TX.linearize(pool, npool, header, types, codes, ivals, rvals, nulls, style)
    if status != TX.OK:
        return tmeta, ivals, rvals, nulls, codes, empty, no_plans, FALLBACK
    _, sbytes, soff, keys, ints = LK.prepare(pool, npool, types, codes, ivals, rvals, nulls)
    if not _distinct(sbytes, soff, npool):  # two keys gave one string: Python renumbers the pool
        return tmeta, ivals, rvals, nulls, codes, empty, no_plans, FALLBACK
    kept, _, _, _, _, _, texts, status = LK.sample_rendered(
        lane_seed, keys, ints, types, sbytes, soff, header, cfg, cdf, plans, meta, toks, atoks, spec, aspec,
        areal, used)
    if status != LK.TEXTS_OK:
        return tmeta, ivals, rvals, nulls, codes, empty, no_plans, FALLBACK
    out = np.empty(pool.shape[0] + text.shape[0] + 1 + texts.shape[0], dtype=np.uint8)
    q = TX.copy_bytes(out, 0, pool, 0, pool.shape[0])
    q = TX.copy_bytes(out, q, text, 0, text.shape[0])
    out[q] = 0
    TX.copy_bytes(out, q + 1, texts, 0, texts.shape[0])
    head = 3 + 2 * k
    facts = np.empty(3 + head + 4 * kept, dtype=np.int64)
    facts[0] = pool.shape[0]
    facts[1] = _longest(pool)
    facts[2] = kept
    facts[3:3 + head] = tmeta[:head]
    for q in range(kept):
        r = 3 + head + 4 * q
        facts[r] = meta[q, 0]
        facts[r + 1] = meta[q, 1]
        facts[r + 2] = meta[q, 2]
        facts[r + 3] = plans[q, LK.IR_FAMILY]
    return facts, ivals, rvals, nulls, codes, out, plans[:kept].copy(), DONE
