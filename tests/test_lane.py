"""The batched query lane against its reference, the per-query Python path.

Every plan the numba lane keeps is decoded into plan objects; the Python executor
(``run_plan``) must give the lane's answer and order flag and find nothing ambiguous, and
the Python renderer must print the lane's SQL text in both styles. SQLite checks the same
examples end to end in ``test_sqlite_oracle.py``.
"""
import collections

import numpy as np
import pytest

from symjax.errors import ConfigError
from symjax.sql.io import table_from_rows
from symjax.sql.lane import _conditions as LC
from symjax.sql.lane import _layout as LY
from symjax.sql.lane import _strings as LS
from symjax.sql.lane.blocks import (
    _prepared,
    _workspace,
    decode_plan,
    family_cdf,
    sample_block,
)
from symjax.sql.query.executor import run_plan
from symjax.sql.query.families import FAMILIES, SamplerConfig
from symjax.sql.query.render import render
from symjax.sql.synth.tables import TableConfig, generate_table
from symjax.sql.text import _text_kernels as TXK


def _check_block(table, seed, config, num_queries=16):
    block = sample_block(table, seed, config, num_queries, sql_style="tapex")
    mismatches = []
    for k, sql in enumerate(block.sql):
        plan = block.plan(k)
        result = run_plan(plan, table)
        got = (sql, block.shown[k], block.answers[k], block.ordered[k], None)
        want = (render(plan, table.header), render(plan, table.header, style="tapex"),
                result.answer, result.ordered, result.ambiguity)
        if got != want:
            mismatches.append((block.families[k], got, want))
    return block, mismatches


@pytest.mark.parametrize(
    "config",
    [
        SamplerConfig(),
        SamplerConfig(difficulty="hard", allow_empty=True, allow_null=True, max_answer_values=20),
        SamplerConfig(difficulty="easy", max_answer_values=1),
    ],
    ids=["default", "hard-empty-null", "easy-single"],
)
def test_lane_equals_the_python_executor_and_renderer(config):
    families = collections.Counter()
    mismatches = []
    for i in range(250):
        table = generate_table(1000 + i, TableConfig(null_probability=0.1 if i % 2 else 0.0))
        block, bad = _check_block(table, 17 * i + 3, config)
        mismatches += bad
        families.update(block.families)
        assert all(len(a) <= config.max_answer_values for a in block.answers)
        if not config.allow_empty:
            assert all(block.answers)
    assert not mismatches, mismatches[:3]
    assert set(families) == set(FAMILIES), set(FAMILIES) - set(families)


def test_lane_on_real_wtq_tables(shared_data):
    from symjax.sql.io import read_table_dir

    tables = read_table_dir(shared_data / "wtq" / "csv")
    config = SamplerConfig(allow_empty=True, allow_null=True, difficulty="hard")
    mismatches = []
    kept = 0
    for i, table in enumerate(tables):
        block, bad = _check_block(table, i, config)
        mismatches += bad
        kept += len(block.sql)
    assert kept > 10 * len(tables)
    assert not mismatches, mismatches[:3]


def test_plans_in_a_block_are_distinct_and_deterministic():
    table = generate_table(7, TableConfig())
    a = sample_block(table, 99, SamplerConfig(), 16)
    b = sample_block(generate_table(7, TableConfig()), 99, SamplerConfig(), 16)
    assert a.sql == b.sql and a.answers == b.answers
    assert len(set(a.sql)) == len(a.sql) == 16
    assert sample_block(table, 100, SamplerConfig(), 16).sql != a.sql


def test_family_weights_choose_the_families():
    only = SamplerConfig(family_weights={"count": 1.0, "nested": 2.0})
    fams = collections.Counter()
    for i in range(40):
        fams.update(sample_block(generate_table(i, TableConfig()), i, only, 8).families)
    assert set(fams) == {"count", "nested"}
    assert fams["nested"] > fams["count"]
    cdf = family_cdf(only)
    assert cdf[-1] == 3.0 and np.all(np.diff(cdf) >= 0)


def test_a_table_without_candidates_gives_an_empty_block():
    # one row, one text column: no repeated values, no numbers, nothing to order
    table = table_from_rows([["a"]], header=["x"])
    block = sample_block(table, 1, SamplerConfig(family_weights={"most_frequent": 1.0}), 4)
    assert block.sql == [] and block.answers == []


def test_num_queries_must_be_positive():
    with pytest.raises(ConfigError, match="num_queries"):
        sample_block(generate_table(1, TableConfig()), 1, SamplerConfig(), 0)


def _slow_table_view(keys):
    m, n = keys.shape
    out = []
    for j in range(m):
        col = keys[j].tolist()
        vals = [i for i, x in enumerate(col) if x == x]
        counts = collections.Counter(col[i] for i in vals)
        uniq = [i for i in vals if counts[col[i]] == 1]
        repeated = len(counts) < len(vals) and len(counts) >= 2
        canon = [col.index(x) if x == x else i for i, x in enumerate(col)]
        out.append((vals, uniq, repeated, canon))
    return out


def test_table_view_kernel_against_its_slow_twin():
    rng = np.random.default_rng(0)
    for trial in range(200):
        m, n = int(rng.integers(1, 6)), int(rng.integers(1, 12))
        keys = rng.integers(0, 4, size=(m, n)).astype(np.float64)
        keys[rng.random((m, n)) < 0.2] = np.nan
        vals, nvals, uniq, nuniq, repeated, canon = LC.table_view(keys, np.zeros(m, dtype=np.int64))
        for j, (v, u, r, c) in enumerate(_slow_table_view(keys)):
            assert vals[j, : nvals[j]].tolist() == v
            assert uniq[j, : nuniq[j]].tolist() == u
            assert bool(repeated[j]) == r
            assert canon[j].tolist() == c


def test_decode_plan_round_trips_through_the_renderer():
    table = generate_table(3, TableConfig())
    block = sample_block(table, 5, SamplerConfig(), 16)
    prep = _prepared(table)
    assert prep.keys.shape == (table.num_columns, table.num_rows)
    for k in range(len(block.sql)):
        assert render(decode_plan(block.plans[k], table), table.header) == block.sql[k]


def test_string_offsets_kernel_against_its_slow_twin():
    for strings in ([], ["a"], ["", "b", "ünï", "x y"], ["é" * 5, "", ""]):
        data = np.frombuffer(("\0".join(strings) + "\0").encode(), dtype=np.uint8)
        starts = [0]
        for s in strings:
            starts.append(starts[-1] + len(s.encode()) + 1)
        assert TXK.string_offsets(data, len(strings)).tolist() == starts[: len(strings) + 1]


def test_text_with_nul_bytes_and_like_prefixes():
    rows = [["Ab\0c", 1], ["ab", 2], ["A%b", 3], ["ünö", 4], ["Üx", 5], ["a_b", 6], ["Ab\0c", 7]]
    table = table_from_rows(rows, header=["name", "n"], infer=False, types=["text", "integer"])
    config = SamplerConfig(family_weights={"select_like": 1.0, "select_where": 1.0}, allow_empty=True)
    likes = 0
    for seed in range(60):
        block, bad = _check_block(table, seed, config, num_queries=8)
        assert not bad, bad[:3]
        likes += sum("LIKE" in s for s in block.sql)
    assert likes > 20


def test_threads_get_their_own_buffers():
    from concurrent.futures import ThreadPoolExecutor

    tables = [generate_table(i, TableConfig()) for i in range(40)]
    want = [sample_block(t, i, SamplerConfig(), 16).sql for i, t in enumerate(tables)]
    with ThreadPoolExecutor(4) as pool:
        got = list(pool.map(lambda it: sample_block(it[1], it[0], SamplerConfig(), 16).sql, enumerate(tables)))
    assert got == want


def test_rendered_queries_stay_well_inside_the_token_buffers():
    config = SamplerConfig(difficulty="hard", allow_empty=True, allow_null=True, max_answer_values=50)
    longest = 0
    for i in range(300):
        block = sample_block(generate_table(5000 + i, TableConfig()), i, config, 16)
        ends = [0] + _workspace(16, 50).meta[: len(block.sql), 1].tolist()
        longest = max([longest] + [b - a for a, b in zip(ends, ends[1:])])
    assert 20 < longest <= LY.MAX_TOKENS // 2, longest


def test_rank_strings_kernel_against_python_order():
    rng = np.random.default_rng(1)
    alphabet = ["a", "B", "z", " ", "é", "É", "ß", "中", "😀", "\ud800", "'", "%", "\x01", "0"]
    for trial in range(300):
        pool = sorted({"".join(rng.choice(alphabet, size=rng.integers(0, 5))) for _ in range(rng.integers(0, 40))})
        rng.shuffle(pool)
        data = np.frombuffer(("\0".join(pool) + "\0").encode("utf-8", "surrogatepass"), dtype=np.uint8)
        ranks, ranked, soff = LS.rank_strings(data, len(pool))
        by_rank = sorted(pool)
        assert ranks.tolist() == [float(by_rank.index(s)) for s in pool]
        for r, s in enumerate(by_rank):
            assert bytes(ranked[soff[r]:soff[r + 1] - 1]).decode("utf-8", "surrogatepass") == s


@pytest.mark.parametrize("style", ["standard", "tapex"])
def test_a_table_sampled_again_gives_the_same_block(style):
    """The lane keeps a table's prepared arrays while the table lives: sampling it again
    gives what a fresh copy of the table gives, and the cache dies with the table."""
    import gc

    from symjax.sql.lane.blocks import _PREPARED

    config = SamplerConfig(difficulty="hard", allow_empty=True, allow_null=True)
    for i in range(60):
        cfg = TableConfig(null_probability=0.1 if i % 2 else 0.0)
        table = generate_table(3000 + i, cfg)
        first = sample_block(table, i, config, 16, sql_style=style)
        assert table in _PREPARED
        again = sample_block(table, i, config, 16, sql_style=style)
        fresh = sample_block(generate_table(3000 + i, cfg), i, config, 16, sql_style=style)
        for got in (again, fresh):
            assert (got.sql, got.shown, got.answers, got.families, got.ordered) == (
                first.sql, first.shown, first.answers, first.families, first.ordered), i
            assert np.array_equal(got.plans, first.plans)
    before = len(_PREPARED)
    del table, first, again, fresh
    gc.collect()
    assert len(_PREPARED) < before
