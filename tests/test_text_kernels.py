"""The kernels that write text against their Python twins.

``symjax.sql.text._text_kernels`` formats numbers and linearizes tables; its references are
``str``, :func:`format_number`, ``repr``, :func:`int_to_date` and the Python linearization
(``linearize._python_text``). ``symjax.sql.lane._kernels.render_texts`` writes the lane's SQL
and answers; its reference is the lane's token path (fragments joined in Python).
"""
import importlib
import random

import numpy as np
import pytest

from symjax.sql.lane import _emit as LE
from symjax.sql.lane import _kernels as LK
from symjax.sql.lane import _layout as LY
from symjax.sql.lane import blocks as L
from symjax.sql.query.families import SamplerConfig
from symjax.sql.synth.tables import TableConfig, generate_table
from symjax.sql.table import Table, format_number, int_to_date
from symjax.sql.text import _text_kernels as TK
from symjax.sql.text import _text_kernels as TXK

LZ = importlib.import_module("symjax.sql.text.linearize")


def _text(kind, value=0, real=0.0):
    return bytes(TK.cell_text(kind, value, real)).decode()


_TIES = [0.125, 0.375, -0.625, 0.025, 10.875, -0.005]  # x * 100 within rounding error of .5
_REALS = [0.0, -0.0, 1.0, -1.0, 0.5, -0.5, 2.675, 1 / 3, -0.001, -0.004, -0.006, 12.3, 12.35,
          1e15, 1e16 - 2, 123456789.99, -1234.5, 0.1 + 0.2, 99.999, 99.995, 1e13 - 0.01, 5e-5,
          4.35, 8.7e-7, -7e12 + 0.25]


def test_numbers_are_written_as_python_writes_them():
    rng = random.Random(0)
    ints = [0, 1, -1, 9, 10, -10, 2**63 - 1, -(2**63), 12345] + [rng.randint(-(2**63), 2**63 - 1) for _ in range(3000)]
    for v in ints:
        assert _text(TK.C_INTEGER, v) == str(v)
    for v in [10000101, 99991231, 20010305, 101, 5, 12345678901]:
        assert _text(TK.C_DATE, v) == int_to_date(v)
    assert _text(TK.C_DATE, -20010305) == ""  # not a date: Python's rules
    reals = _REALS + [rng.uniform(-1e4, 1e4) for _ in range(5000)]
    reals += [round(rng.uniform(-1e6, 1e6), rng.choice([0, 1, 2])) for _ in range(5000)]
    written = 0
    for x in reals:
        got = _text(TK.C_REAL, real=x)
        if got:
            written += 1
            assert got == format_number(x), x
    assert written >= len(reals) - 5
    for x in _TIES + [1e13 + 0.5, 3e15 + 0.5]:  # deferred to Python, never guessed
        assert _text(TK.C_REAL, real=x) == ""
    cents = [round(rng.uniform(-1e6, 1e6), 2) for _ in range(5000)] + [x for x in _REALS if abs(x) < 1e13]
    for x in cents:
        got = _text(-1, real=x)  # repr, for SQL literals
        assert got == repr(x) or (got == "" and round(x * 100) / 100 != x), x
    assert _text(-1, real=1 / 3) == ""
    for v in [0, 1, -1, 5, -5, 10, -15, 123456789012, 10**14 - 1] + [rng.randint(-10**13, 10**13) for _ in range(3000)]:
        assert _text(-2, v) == repr(v / 10.0)


def _random_table(rng, rows, with_breaks=False):
    words = ["Zürich", "O'Brien", "a | b", "", "  padded ", "\ud800lone", "Émile", "北京", "x" * 30, "3–1"]
    if with_breaks:
        words.append("two\nlines")
    n = rows
    text = [rng.choice(words + [None]) for _ in range(n)]
    ints = [rng.choice([None, 0, -7, 2**63 - 1, -(2**63), rng.randint(-10**6, 10**6)]) for _ in range(n)]
    reals = [rng.choice(_TIES) if rng.random() < 0.01 else
             rng.choice([None, 2.5, -0.004, rng.uniform(-1e5, 1e5), round(rng.uniform(-100, 100), 2)])
             for _ in range(n)]
    return Table.from_columns(['say "hi"', "n", "Größe"], ["text", "integer", "real"], [text, ints, reals])


@pytest.mark.parametrize("style", ["tapex", "indexed"])
def test_linearize_kernel_equals_the_python_linearization(style):
    used = 0
    for seed in range(300):
        table = generate_table(seed, TableConfig(null_probability=0.1 if seed % 2 else 0.0))
        got = LZ._kernel_text(table, style)
        assert got is not None  # synthetic tables are the kernel's
        assert got == LZ._python_text(table, style), seed
        used += 1
    rng = random.Random(1)
    for i in range(200):
        table = _random_table(rng, rng.randint(1, 30), with_breaks=i % 4 == 0)
        got = LZ._kernel_text(table, style)
        if got is None:
            continue
        used += 1
        assert got == LZ._python_text(table, style), i
    assert used > 300 + 50


def test_linearize_defers_what_the_kernel_cannot_write():
    breaks = Table.from_columns(["a"], ["text"], [["one\ntwo", "x"]])
    assert LZ._kernel_text(breaks, "tapex") is None
    assert LZ.linearize(breaks) == "col : a row 1 : one two row 2 : x"
    tie = Table.from_columns(["a"], ["real"], [[0.125]])
    assert LZ._kernel_text(tie, "tapex") is None
    assert LZ.linearize(tie) == "col : a row 1 : 0.12"
    nul = Table.from_columns(["a"], ["text"], [["x\0y"]])
    assert nul.pool_bytes() is None and LZ._kernel_text(nul, "tapex") is None
    shown = Table.from_columns(["a"], ["integer"], [[1370]], display=[["1,370"]])
    assert LZ._kernel_text(shown, "tapex") is None and LZ.linearize(shown) == "col : a row 1 : 1,370"
    dates = Table.from_columns(["d"], ["date"], [["2001-03-05"]])  # keeps the text it was given
    assert not dates.shows_values() and LZ._kernel_text(dates, "tapex") is None
    assert LZ._kernel_text(generate_table(3), "markdown") is None  # markdown stays in Python


def _token_block(table, seed, config, style):
    """sample_block with the kernel's texts turned off (the token path only)."""
    prep = L._prepared(table)
    saved, prep.header = prep.header, L._NO_TEXTS
    try:
        return L.sample_block(table, seed, config, 16, sql_style=style)
    finally:
        prep.header = saved


@pytest.mark.parametrize("style", ["standard", "tapex"])
def test_render_texts_equals_the_token_path(style):
    config = SamplerConfig(difficulty="hard", allow_empty=True, allow_null=True, max_answer_values=20)
    rng = random.Random(2)
    tables = [generate_table(500 + i, TableConfig(null_probability=0.1)) for i in range(150)]
    tables += [_random_table(rng, rng.randint(2, 25)) for _ in range(150)]
    fast = 0
    for i, table in enumerate(tables):
        got = L.sample_block(table, i, config, 16, sql_style=style)
        want = _token_block(table, i, config, style)
        assert (got.sql, got.shown, got.answers) == (want.sql, want.shown, want.answers), i
        assert np.array_equal(got.plans, want.plans)
        prep = L._prepared(table)
        if prep.header.shape[0]:
            data, status = LE.render_texts(*_kernel_args(table, i, config))
            fast += status == LY.TEXTS_OK
    assert fast > 150  # the kernel wrote most blocks itself (all synthetic ones)


def _kernel_args(table, seed, config):
    prep = L._prepared(table)
    cfg, cdf = L._config_arrays(config, 32)
    ws = L._workspace(16, config.max_answer_values)
    kept, _, _, _, _, _ = LK._sample_queries(
        np.uint64(seed), prep.keys, prep.ints, prep.types == TXK.C_INTEGER, prep.types, prep.sbytes, prep.soff, cfg, cdf,
        ws.plans, ws.meta, ws.toks, ws.atoks, ws.spec, ws.aspec, ws.areal, ws.used)
    return (ws.toks, ws.meta, kept, ws.spec, ws.atoks, ws.aspec, ws.areal, prep.keys, prep.ints,
            prep.types, prep.sbytes, prep.soff, prep.header)


def test_table_arrays_and_pool_bytes():
    table = Table.from_columns(
        ["t", "i", "r", "d"], ["text", "integer", "real", "date"],
        [["b", None, "a"], [1, 2, None], [None, 1.5, 2.0], ["2001-03-05", None, "1999-12-31"]])
    types, codes, ints, reals, nulls = table.arrays()
    assert types.tolist() == [0, 1, 2, 3]
    assert codes[0].tolist() == [0, -1, 1]
    assert ints[1].tolist() == [1, 2, 0] and ints[3].tolist() == [20010305, 0, 19991231]
    assert reals[2].tolist() == [0.0, 1.5, 2.0]
    assert nulls.tolist() == [[False, True, False], [False, False, True], [True, False, False], [False, True, False]]
    assert bytes(table.pool_bytes()) == b"b\0a\0"
    synthetic = generate_table(11)
    got = synthetic.arrays()  # the sampler's own matrices, as Table.arrays builds them
    fresh = Table(synthetic.header, synthetic.types, synthetic.data, synthetic.nulls, synthetic.strings).arrays()
    for j, t in enumerate(synthetic.types):
        row = {"text": 1, "real": 3}.get(t, 2)
        assert np.array_equal(got[row][j], fresh[row][j]) and np.array_equal(got[4][j], fresh[4][j])
    assert np.array_equal(got[0], fresh[0])


def _take_rows_twin(table, rows):
    """take_rows as it was written before it worked on arrays: from the Python values."""
    display = [None if d is None else tuple(d[i] for i in rows) for d in table.display]
    columns = [[table.column(j)[i] for i in rows] for j in range(table.num_columns)]
    return Table.from_columns(table.header, table.types, columns, display=display, name=table.name, dedupe=False)


def test_take_rows_equals_its_python_twin():
    rng = random.Random(4)
    tables = [generate_table(900 + i, TableConfig(null_probability=0.2)) for i in range(60)]
    tables += [_random_table(rng, rng.randint(1, 20)) for _ in range(40)]
    tables.append(Table.from_columns(["d", "t"], ["date", "text"], [["2001- 3-05", "1999-12-31"], ["b", "a"]],
                                     display=[None, ["B", "A"]]))
    for table in tables:
        n = table.num_rows
        rows = sorted(rng.sample(range(n), rng.randint(1, n)))
        if rng.random() < 0.3:
            rng.shuffle(rows)
        got, want = table.take_rows(rows), _take_rows_twin(table, rows)
        assert got == want and got.strings == want.strings and got.display == want.display
        assert [got.column_texts(j) for j in range(got.num_columns)] == [
            want.column_texts(j) for j in range(want.num_columns)]
        assert LZ.linearize(got, style="indexed") == LZ._python_text(want, "indexed")
    with pytest.raises(Exception, match="take_rows"):
        tables[0].take_rows([tables[0].num_rows])
