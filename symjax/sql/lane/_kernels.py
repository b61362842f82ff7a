"""The lane's kernel entry point (private; the API is :mod:`symjax.sql.lane`).

One call of :func:`sample_block` draws, executes, checks and renders all the queries of one
stream block on one table, with no Python in between. The plan objects of
:mod:`symjax.sql.query.plan` with the Python executor and renderer are its reference:
``tests/test_lane.py`` decodes every plan this kernel writes and checks that
:func:`symjax.sql.query.executor.run_plan` and :func:`symjax.sql.query.render.render` give the same
answer and text, and ``tests/test_sqlite_oracle.py`` checks the answers against SQLite.

**Execution** works on the executor's sort keys (``keys[j, i]``: text rank in code-point
order, number, ``yyyymmdd``; NaN for NULL) and the exact integers, reusing the executor's
kernels for aggregates, ordering and grouping, and applies the same ambiguity rules
(ties under ``ORDER BY ... LIMIT``, a scalar sub-select with several rows, computed reals
on a rounding boundary or equal to a compared value up to rounding error).

The plan row, the tokens and the answers are laid out in :mod:`symjax.sql.lane._layout`;
the steps live one per file (``_conditions``/``_families``: sampling, ``_execution``,
``_emit``: tokens and texts, ``_strings``: preparing a table); this module holds the one
entry point and the loop that keeps a block's distinct acceptable queries.
"""
from __future__ import annotations

import numpy as np

from symjax.sql._numba import njit
from symjax.sql._random_kernels import uniform
from symjax.sql.lane._conditions import table_view
from symjax.sql.lane._emit import emit_query, render_texts
from symjax.sql.lane._execution import execute_row
from symjax.sql.lane._families import sample_family
from symjax.sql.lane._layout import (
    A_CELL,
    A_NULL,
    COLUMN_BASE,
    IR_WIDTH,
    MAX_TOKENS,
    SPEC_PER_QUERY,
    TEXTS_NEED_PYTHON,
)
from symjax.sql.text._text_kernels import C_INTEGER


@njit
def _same_plan(out_ir, k, ir):
    for q in range(IR_WIDTH):
        if out_ir[k, q] != ir[q]:
            return False
    return True


@njit
def sample_block(seed, keys, ints, types, sbytes, soff, header, cfg, cdf,
                 plans, meta, toks, atoks, spec, aspec, areal, used):
    """The lane's one entry point: sample, execute and render the queries of one block on a
    prepared table (:func:`prepare`). :func:`_sample_queries` writes the plans, answers and
    SQL tokens; then, unless ``header`` is empty (the table shows other text than its
    values, so Python writes the texts), :func:`render_texts` writes the SQL and answer
    texts. Returns :func:`_sample_queries`' counts, then the texts and their status
    (``TEXTS_NEED_PYTHON`` with no texts when Python must join the tokens)."""
    kept, ntok, nspec, natok, naspec, nused = _sample_queries(
        seed, keys, ints, types == C_INTEGER, types, sbytes, soff, cfg, cdf, plans, meta, toks, atoks,
        spec, aspec, areal, used)
    if header.shape[0] == 0:
        return kept, ntok, nspec, natok, naspec, nused, np.empty(0, dtype=np.uint8), TEXTS_NEED_PYTHON
    text, status = render_texts(toks, meta, kept, spec, atoks, aspec, areal, keys, ints, types, sbytes,
                                soff, header)
    return kept, ntok, nspec, natok, naspec, nused, text, status


@njit
def _sample_queries(seed, keys, ints, is_int, types, sbytes, soff, cfg, cdf,
                    plans, meta, toks, atoks, spec, aspec, areal, used):
    """Sample up to ``plans.shape[0]`` distinct acceptable queries on one table.

    ``cfg``: (max_terms, max_answer_values, allow_empty, allow_null, max_attempts,
    tries): ``tries`` draws of a query, each of up to ``max_attempts`` attempts (the
    Python sampler's loop), duplicates skipped. ``cdf``: cumulative family weights over
    ``FAMILY_NAMES`` (ending at the total). ``sbytes``/``soff``: the table's strings in
    rank order, UTF-8, each followed by a NUL byte, and where each starts (then the end),
    as :func:`rank_strings` gives them.

    Writes, for kept query ``k``: ``plans[k]``; ``meta[k] = (ordered, end of its SQL
    tokens in toks, end of its answer tokens in atoks)``; SQL tokens as described in the
    module doc, special literals as ``spec[slot] = (kind, a, b)``; answer tokens: a cell
    ``j * num_rows + i``, or ``num_rows * num_columns + slot`` for a computed value
    ``aspec[slot] = (kind, int value)``, ``areal[slot]`` (real value); and the distinct cell
    tokens of the SQL in ``used``. Returns ``(kept, SQL tokens, specs, answer tokens,
    answer specs, cells used)``.
    """
    m, n_rows = keys.shape
    num_queries = plans.shape[0]
    view = table_view(keys, types)
    state = np.empty(1, dtype=np.uint64)
    state[0] = np.uint64(seed)
    scratch = np.empty(max(m, 4) * 2 + 8, dtype=np.int64)
    cap = cfg[1]
    allow_empty = cfg[2] == 1
    allow_null = cfg[3] == 1
    max_attempts = cfg[4]
    tries = cfg[5]
    total = cdf[cdf.shape[0] - 1]
    cell_base = COLUMN_BASE + m
    spec_base = cell_base + m * n_rows
    spec_kind = spec[:, 0]
    spec_a = spec[:, 1]
    spec_b = spec[:, 2]

    ir = np.zeros(IR_WIDTH, dtype=np.int64)
    tk = np.empty(2 * cap + 2, dtype=np.int64)  # up to cap rows of up to two values
    tv = np.empty(2 * cap + 2, dtype=np.int64)
    tr = np.empty(2 * cap + 2, dtype=np.float64)
    tkey = np.empty(2 * cap + 2, dtype=np.float64)
    kept = 0
    p = 0
    nspec = 0
    pa = 0
    naspec = 0
    for _ in range(tries):
        if kept == num_queries:
            break
        found = False
        nv = 0
        ordered = False
        for _a in range(max_attempts):
            x = uniform(state) * total
            fam = cdf.shape[0] - 1
            for f in range(cdf.shape[0]):
                if x < cdf[f]:
                    fam = f
                    break
            ir[:] = 0
            if not sample_family(state, fam, view, keys, types, sbytes, soff, cfg, ir, scratch):
                continue
            nv, ordered, amb = execute_row(ir, keys, ints, is_int, sbytes, soff, tk, tv, tr, tkey, cap)
            if amb or nv < 0:
                continue
            if nv == 0 and not allow_empty:
                continue
            if not allow_null:
                has_null = False
                for q in range(nv):
                    if tk[q] == A_NULL:
                        has_null = True
                if has_null:
                    continue
            found = True
            break
        if not found:
            continue
        dup = False
        for k in range(kept):
            if _same_plan(plans, k, ir):
                dup = True
                break
        if dup:
            continue
        plans[kept] = ir
        for q in range(nv):
            if tk[q] == A_CELL:
                atoks[pa] = tv[q]
            else:
                aspec[naspec, 0] = tk[q]
                aspec[naspec, 1] = tv[q]
                areal[naspec] = tr[q]
                atoks[pa] = m * n_rows + naspec
                naspec += 1
            pa += 1
        p0, nspec0 = p, nspec
        p, nspec = emit_query(ir, n_rows, cell_base, spec_base, toks, p, spec_kind, spec_a, spec_b, nspec)
        if p - p0 > MAX_TOKENS or nspec - nspec0 > SPEC_PER_QUERY:
            # the buffers hold one query's worth of margin, so this fires before an overflow
            raise RuntimeError("a query rendered to more tokens than MAX_TOKENS or SPEC_PER_QUERY")
        meta[kept, 0] = 1 if ordered else 0
        meta[kept, 1] = p
        meta[kept, 2] = pa
        kept += 1
    seen = np.zeros(m * n_rows, dtype=np.bool_)
    nused = 0
    for q in range(p):
        t = toks[q]
        if cell_base <= t < spec_base and not seen[t - cell_base]:
            seen[t - cell_base] = True
            used[nused] = t
            nused += 1
    return kept, p, nspec, pa, naspec, nused
