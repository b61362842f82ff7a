"""Linearization styles (golden strings) and truncation to a budget."""
from __future__ import annotations

import datetime as dt
import random
import re
import subprocess
import sys

import numpy as np
import pytest

from symjax.errors import ConfigError, TableError
from symjax.sql.synth.tables import generate_table
from symjax.sql.table import TEXT, Table, format_number, int_to_date
from symjax.sql.text.linearize import (
    STYLES,
    fits_as_is,
    linearize,
    linearized_length,
    shorten_cells,
    truncate_table,
)


def small_table() -> Table:
    """A NULL in every column type, a real, a date, a '|' and newlines inside cells."""
    return Table.from_columns(
        ["Name", "Score", "Date", "Note"],
        ["text", "real", "date", "text"],
        [
            ["Alice", "Bob\nJr", None],
            [2.5, None, 3],
            ["2001-03-05", "1999-12-31", None],
            ["a | b", "x", "line1\r\nline2"],
        ],
    )


def words_counter(text: str) -> int:
    return len(text.split())


def big_table(num_rows: int = 40, seed: int = 0) -> Table:
    """Rows of varied length; column ``id`` identifies each original row."""
    rng = random.Random(seed)
    words = "alpha beta gamma delta epsilon zeta eta theta iota kappa".split()
    return Table.from_columns(
        ["id", "name", "points", "when"],
        ["integer", "text", "real", "date"],
        [
            list(range(num_rows)),
            [" ".join(rng.choices(words, k=rng.randint(1, 6))) for _ in range(num_rows)],
            [None if rng.random() < 0.1 else round(rng.uniform(0, 1000), 2) for _ in range(num_rows)],
            [f"20{rng.randint(10, 23)}-0{rng.randint(1, 9)}-1{rng.randint(0, 9)}" for _ in range(num_rows)],
        ],
        name="big",
    )


def kept_ids(table: Table) -> list[int]:
    return table.column(0)


def assert_rows_are_original(result: Table, original: Table) -> None:
    """Every row of ``result`` is the original row with that id, in increasing id order."""
    ids = kept_ids(result)
    assert ids == sorted(ids) and len(set(ids)) == len(ids)
    for row in result.rows:
        assert row == original.rows[row[0]]


# ---------------------------------------------------------------------------- styles
def test_tapex_golden():
    assert linearize(small_table()) == (
        "col : Name | Score | Date | Note "
        "row 1 : Alice | 2.5 | 2001-03-05 | a | b "
        "row 2 : Bob Jr |  | 1999-12-31 | x "
        "row 3 :  | 3 |  | line1 line2"
    )


def test_indexed_golden():
    assert linearize(small_table(), style="indexed") == (
        "header: Name | Score | Date | Note\n"
        "row 1 : Alice | 2.5 | 2001-03-05 | a | b\n"
        "row 2 : Bob Jr |  | 1999-12-31 | x\n"
        "row 3 :  | 3 |  | line1 line2"
    )


def test_markdown_golden():
    assert linearize(small_table(), style="markdown") == (
        "| Name | Score | Date | Note |\n"
        "| --- | --- | --- | --- |\n"
        "| Alice | 2.5 | 2001-03-05 | a \\| b |\n"
        "| Bob Jr |  | 1999-12-31 | x |\n"
        "|  | 3 |  | line1 line2 |"
    )


def test_lowercase_lowers_everything():
    t = small_table()
    assert linearize(t, lowercase=True) == linearize(t).lower()
    assert linearize(t, lowercase=True).startswith("col : name | score")
    assert linearize(t, style="indexed", lowercase=True) == linearize(t, style="indexed").lower()


def test_display_text_is_shown_and_cached():
    t = Table.from_columns(
        ["city", "pop"], [TEXT, "integer"], [["Oslo", "Bergen"], [700000, 285000]],
        display=[None, ["700,000", "285,000 (2020)"]],
    )
    text = linearize(t, style="indexed")
    assert text == "header: city | pop\nrow 1 : Oslo | 700,000\nrow 2 : Bergen | 285,000 (2020)"
    assert linearize(t, style="indexed") is text  # memoised on the table
    assert linearized_length(t, "indexed") == len(text)


def test_header_pipe_and_newline():
    t = Table(("a|b", "c\nd"), (TEXT, TEXT), small_table().data[:1] * 2, small_table().nulls[:1] * 2,
              small_table().strings)
    assert linearize(t, style="markdown").startswith("| a\\|b | c d |\n| --- | --- |\n")
    assert linearize(t).startswith("col : a|b | c d row 1 : ")


def test_unknown_style_lists_valid_styles():
    with pytest.raises(ConfigError, match="tapex.*indexed.*markdown"):
        linearize(small_table(), style="html")
    with pytest.raises(ConfigError, match="html"):
        truncate_table(small_table(), max_chars=10, style="html")
    assert STYLES == ("tapex", "indexed", "markdown")


def slow_cell_texts(table: Table, j: int) -> list[str]:
    """Twin of ``Table.column_texts`` from the Python values, cell by cell (dates through
    ``datetime``, not the table's own date formatting)."""
    if table.display[j] is not None:
        return list(table.display[j])
    out = []
    for v in table.column(j):
        if v is None:
            out.append("")
        elif table.types[j] == "real":
            out.append(format_number(v))
        elif table.types[j] == "date":
            out.append(dt.date.fromisoformat(v).isoformat())
        else:
            out.append(str(v))
    return out


def slow_linearize(table: Table, style: str = "tapex", lowercase: bool = False) -> str:
    """Twin of ``linearize``: an obviously correct cell-by-cell loop."""
    def cell(text):
        text = text.replace("\r\n", " ").replace("\r", " ").replace("\n", " ")
        return text.replace("|", "\\|") if style == "markdown" else text

    header = [cell(h) for h in table.header]
    columns = [slow_cell_texts(table, j) for j in range(len(header))]
    rows = [[cell(columns[j][i]) for j in range(len(header))] for i in range(table.num_rows)]
    if style == "markdown":
        lines = ["| " + " | ".join(header) + " |", "|" + " --- |" * len(header)]
        lines += ["| " + " | ".join(r) + " |" for r in rows]
        expected = "\n".join(lines)
    else:
        sep = " " if style == "tapex" else "\n"
        expected = ("col : " if style == "tapex" else "header: ") + " | ".join(header)
        for k, r in enumerate(rows, 1):
            expected += sep + f"row {k} : " + " | ".join(r)
    return expected.lower() if lowercase else expected


def generated_tables(n: int = 300) -> list[Table]:
    """Synthetic tables as the stream draws them, plus a few with line breaks and pipes."""
    tables = [generate_table(seed) for seed in range(n)]
    for seed, special in enumerate(["two\nlines", "a\rreturn", "a | pipe", "crlf\r\nend | x"]):
        t = tables[seed]
        columns = [list(t.column(j)) for j in range(t.num_columns)]
        columns[t.types.index(TEXT)][1] = special
        tables.append(Table.from_columns(t.header, t.types, columns, name=t.name))
    return tables


@pytest.mark.parametrize("style", STYLES)
def test_matches_slow_twin(style):
    """The fast joins agree with an obviously correct cell-by-cell loop."""
    t = big_table(25, seed=3)
    assert linearize(t, style=style) == slow_linearize(t, style)
    assert linearize(small_table(), style=style) == slow_linearize(small_table(), style)


@pytest.mark.parametrize("style", STYLES)
def test_generated_tables_match_slow_twin(style):
    """Cell texts read from the arrays and the one-scan cleaning check agree with the
    cell-by-cell twin on the tables the stream draws (NULLs, reals, dates, and some line
    breaks and pipes)."""
    for t in generated_tables():
        for j in range(t.num_columns):
            assert list(t.column_texts(j)) == slow_cell_texts(t, j), (t.name, j)
        assert linearize(t, style=style) == slow_linearize(t, style)
        assert linearize(t, style=style, lowercase=True) == slow_linearize(t, style, True)


def test_cell_texts_of_nulls_in_every_type():
    """NULL shows as "" (text: code -1; other types: whatever the array holds under the
    mask)."""
    t = small_table()
    data = [d.copy() for d in t.data]
    for d, m, type_ in zip(data, t.nulls, t.types):
        if type_ != TEXT:
            d[m] = 7  # garbage under the NULL mask
    raw = Table(t.header, t.types, data, t.nulls, t.strings)
    assert [raw.column_texts(j) for j in range(4)] == [t.column_texts(j) for j in range(4)]
    assert [list(t.column_texts(j)) for j in range(4)] == [slow_cell_texts(t, j) for j in range(4)]
    assert t.column_texts(0)[2] == t.column_texts(1)[1] == t.column_texts(2)[2] == ""


def test_dates_show_the_text_they_were_given():
    """A date passed to from_columns as a string is shown as given, also after truncation."""
    t = Table.from_columns(
        ["d", "n"], ["date", "integer"], [["2001- 3-05", "+999-01-01", None], [1, 2, 3]]
    )
    assert t.column_texts(0) == ("2001- 3-05", "+999-01-01", "")
    assert list(t.column_texts(0)) == [v or "" for v in t.column(0)]
    out = truncate_table(t, max_chars=len(linearize(t)) - 1, seed=0)
    assert 1 <= out.num_rows < 3
    assert list(out.column_texts(0)) == [v or "" for v in out.column(0)]
    assert set(out.column_texts(0)) <= set(t.column_texts(0))


def test_int_to_date_twin():
    """``int_to_date`` keeps the output of its f-string formula, negative values included."""
    rng = random.Random(0)
    values = [rng.randint(10000101, 99991231) for _ in range(2000)]
    values += [rng.randint(-(2**63), 2**63 - 1) for _ in range(2000)] + list(range(-1500, 1500))
    for v in values:
        assert int_to_date(v) == f"{v // 10000:04d}-{(v // 100) % 100:02d}-{v % 100:02d}"


# ---------------------------------------------------------------------------- truncation
def test_unchanged_identity_when_it_fits():
    t = big_table()
    size = linearized_length(t)
    assert truncate_table(t, max_chars=size) is t
    assert truncate_table(t, max_chars=size + 50, reserve=50) is t
    assert truncate_table(t, max_chars=10**6, max_cell_chars=1000) is t
    assert truncate_table(t) is t
    n_tokens = words_counter(linearize(t))
    assert truncate_table(t, max_tokens=n_tokens, count_tokens=words_counter) is t


@pytest.mark.parametrize("style", STYLES)
def test_fits_budget_and_keeps_order(style):
    t = big_table()
    full = linearized_length(t, style)
    for budget in (150, 300, full // 2, full - 1):
        for seed in range(5):
            out = truncate_table(t, max_chars=budget + 40, reserve=40, style=style, seed=seed)
            assert out is not t
            assert 1 <= out.num_rows < t.num_rows
            assert linearized_length(out, style) <= budget
            assert_rows_are_original(out, t)
            # Rows are renumbered in the text the model sees.
            if style != "markdown":
                assert f"row {out.num_rows} : " in linearize(out, style=style)


def outcome(table: Table, **kwargs) -> Table | str:
    """``truncate_table``'s result, or the message of the TableError it raised."""
    try:
        return truncate_table(table, **kwargs)
    except TableError as err:
        return str(err)


def is_subsequence(rows: list, of: list) -> bool:
    rest = iter(of)
    return all(any(r == x for x in rest) for r in rows)


@pytest.mark.parametrize(
    "style,lowercase", [("tapex", False), ("indexed", False), ("tapex", True), ("markdown", False)]
)
def test_truncation_fast_path_matches_full_computation(style, lowercase):
    """On the stream's tables: ``truncate_table`` returns the table itself exactly when the
    cell-by-cell twins say it fits (no text cell over the cap, short enough), else what the
    twins predict, and always the same as on a freshly built copy (its own string pool, no
    cached texts): fitting tables, long cells, too many rows, token budgets."""
    n = 150 if style == "tapex" and not lowercase else 60
    for t, twin in zip(generated_tables(n), generated_tables(n)):  # t: nothing cached yet
        size = len(slow_linearize(twin, style, lowercase))
        texts = [slow_cell_texts(twin, j) for j in range(t.num_columns)]
        longest = max(len(x) for j, type_ in enumerate(t.types) if type_ == TEXT for x in texts[j])
        copy = Table.from_columns(
            t.header, t.types, [twin.column(j) for j in range(t.num_columns)],
            display=t.display, name=t.name,
        )
        for max_chars, cap in (
            (5600, 100), (size, longest), (size - 1, longest), (10**6, max(longest - 1, 1)),
            (size // 2, 6),
        ):
            kwargs = dict(
                max_chars=max_chars, max_cell_chars=cap, style=style, lowercase=lowercase, seed=3
            )
            out = outcome(t, **kwargs)
            assert (out is t) == (longest <= cap and size <= max_chars)
            assert fits_as_is(t, max_chars, style=style, lowercase=lowercase, max_cell_chars=cap) == (
                longest <= cap and size <= max_chars)
            expected = outcome(copy, **kwargs)
            if isinstance(out, str):
                assert out == expected
                continue
            assert out == expected and linearize(out, style=style, lowercase=lowercase) == (
                linearize(expected, style=style, lowercase=lowercase)
            ) == slow_linearize(out, style, lowercase)
            assert len(linearize(out, style=style, lowercase=lowercase)) <= max_chars
            # Cells are cut cell by cell, then whole rows are dropped.
            columns = [
                [v if v is None or len(v) <= cap else v[:cap].rstrip() or v[:cap]
                 for v in twin.column(j)]
                if type_ == TEXT else twin.column(j)
                for j, type_ in enumerate(t.types)
            ]
            short = Table.from_columns(t.header, t.types, columns, name=t.name)
            if len(slow_linearize(short, style, lowercase)) <= max_chars:
                assert out == short
            else:
                assert out.num_rows < t.num_rows and is_subsequence(out.rows, short.rows)
        n_tokens = words_counter(slow_linearize(t, style, lowercase))
        for budget in (n_tokens, n_tokens - 1):
            kwargs = dict(
                max_tokens=budget, count_tokens=words_counter, style=style, lowercase=lowercase
            )
            out = truncate_table(t, **kwargs)
            assert (out is t) == (budget == n_tokens)
            assert out == truncate_table(copy, **kwargs)


def test_deterministic_for_a_seed_and_varies_across_seeds():
    t = big_table(60)
    budget = linearized_length(t) // 2
    first = kept_ids(truncate_table(t, max_chars=budget, seed=7))
    assert kept_ids(truncate_table(t, max_chars=budget, seed=7)) == first
    choices = {tuple(kept_ids(truncate_table(t, max_chars=budget, seed=s))) for s in range(10)}
    assert len(choices) > 5


def test_rows_come_from_across_the_table():
    """Random dropping (not just cutting the tail) lets late rows survive."""
    t = big_table(60)
    budget = linearized_length(t) // 3
    late = [max(kept_ids(truncate_table(t, max_chars=budget, seed=s))) for s in range(20)]
    assert max(late) > 40


def test_keep_rows_are_kept():
    t = big_table(60)
    protected = [3, 31, 59]
    budget = linearized_length(t) // 4
    for seed in range(10):
        out = truncate_table(t, max_chars=budget, seed=seed, keep_rows=protected)
        assert set(protected) <= set(kept_ids(out))
        assert linearized_length(out) <= budget
        assert_rows_are_original(out, t)


def test_keep_rows_that_do_not_fit_raise_with_numbers():
    t = big_table(60)
    head = len("col : id | name | points | when")
    with pytest.raises(TableError, match=r"rows \[0, 1, 2, 3\].*need (\d+) chars.*budget is 120 chars") as err:
        truncate_table(t, max_chars=200, reserve=80, keep_rows=range(4))
    needed = int(re.search(r"need (\d+) chars", str(err.value)).group(1))
    assert needed == head + sum(
        len(" row {} : ".format(k + 1)) + len(" | ".join(t.cell_text(k, j) for j in range(4)))
        for k in range(4)
    )
    assert "max_chars=200 minus reserve=80" in str(err.value)
    with pytest.raises(ConfigError, match="keep_rows"):
        truncate_table(t, max_chars=200, keep_rows=[60])


def test_header_plus_one_row_must_fit():
    t = big_table(10)
    shortest = min(
        len(" row 1 : ") + len(" | ".join(t.cell_text(i, j) for j in range(4))) for i in range(10)
    )
    head = len("col : id | name | points | when")
    with pytest.raises(TableError, match=rf"need {head + shortest} chars but the budget is 40 chars"):
        truncate_table(t, max_chars=40)
    with pytest.raises(TableError, match="budget is -5 chars"):
        truncate_table(t, max_chars=5, reserve=10)
    # Exactly enough for the header and the shortest row: that row alone is kept.
    out = truncate_table(t, max_chars=head + shortest)
    assert out.num_rows == 1 and linearized_length(out) == head + shortest


def test_token_budget():
    t = big_table(60)
    total = words_counter(linearize(t, style="indexed"))
    for budget in (60, total // 2):
        for seed in range(3):
            out = truncate_table(
                t, max_tokens=budget + 10, reserve=10, count_tokens=words_counter,
                style="indexed", seed=seed,
            )
            assert words_counter(linearize(out, style="indexed")) <= budget
            assert_rows_are_original(out, t)
    with pytest.raises(TableError, match="tokens"):
        truncate_table(t, max_tokens=5, count_tokens=words_counter)


def test_token_budget_with_non_additive_counter():
    """A counter that also charges the row separators: the exact check drops extra rows."""
    def count(text):
        return len(text.split()) + 3 * text.count("\n")

    t = big_table(60)
    budget = count(linearize(t, style="indexed")) // 2
    out = truncate_table(t, max_tokens=budget, count_tokens=count, style="indexed", keep_rows=[5])
    assert count(linearize(out, style="indexed")) <= budget
    assert 5 in kept_ids(out)


def test_budget_arguments_are_checked():
    t = big_table(5)
    with pytest.raises(ConfigError, match="not both"):
        truncate_table(t, max_chars=10, max_tokens=10, count_tokens=words_counter)
    with pytest.raises(ConfigError, match="count_tokens"):
        truncate_table(t, max_tokens=10)
    with pytest.raises(ConfigError, match="count_tokens"):
        truncate_table(t, max_cell_tokens=3)
    with pytest.raises(ConfigError, match="max_cell_chars"):
        truncate_table(t, max_cell_chars=0)
    with pytest.raises(ConfigError, match="reserve"):
        truncate_table(t, max_chars=100, reserve=-1)


# ---------------------------------------------------------------------------- cells
def test_shortened_cells_become_the_values_of_text_columns():
    t = Table.from_columns(
        ["name", "score", "city"],
        [TEXT, "integer", TEXT],
        [
            ["Championship 2001", "Championship 2002", "Cup", None],
            [123456789, 5, None, 7],
            ["Rio de Janeiro", "Oslo", "São Paulo    area", "Rome"],
        ],
        display=[None, ["123,456,789 points", "5", "", "7"], ["Rio de Janeiro!", "Oslo", "São Paulo    area", "Rome"]],
    )
    out = truncate_table(t, max_cell_chars=12)
    assert out.column(0) == ["Championship", "Championship", "Cup", None]
    # Numbers are never cut, neither their values nor their display.
    assert out.column(1) == t.column(1)
    assert out.column_texts(1) == t.column_texts(1)
    # A text column with its own display: the cut display text becomes the value too.
    assert out.column_texts(2) == ("Rio de Janei", "Oslo", "São Paulo", "Rome")
    assert out.column(2) == ["Rio de Janei", "Oslo", "São Paulo", "Rome"]
    for j, t_ in enumerate(out.types):
        if t_ == TEXT:
            assert [r[j] or "" for r in out.rows] == list(out.column_texts(j))
    assert "Championship | 123,456,789 points" in linearize(out)
    assert shorten_cells(t, max_cell_chars=12) is shorten_cells(t, max_cell_chars=12)
    assert shorten_cells(t, max_cell_chars=100) is t


def test_cell_check_reads_the_pool_and_display_texts():
    """The one-scan check for long cells: a long string in the pool that no cell uses
    falls back to the cell-by-cell look (nothing is cut, the table itself comes back); a
    long display text of a text column is cut even when its value is short."""
    codes = [np.array([0, 1, -1], dtype=np.int32)]
    t = Table(("w",), (TEXT,), codes, [codes[0] < 0], ("ab", "cd", "an unused long string"))
    assert shorten_cells(t, max_cell_chars=5) is t
    assert truncate_table(t, max_chars=1000, max_cell_chars=5) is t
    shown = Table.from_columns(["w", "n"], [TEXT, "integer"], [["a", "b"], [1, 2]],
                               display=[["a long display text", "b"], ["1", "a long number"]])
    out = truncate_table(shown, max_chars=1000, max_cell_chars=6)
    assert out.column(0) == ["a long", "b"] and out.column_texts(1) == ("1", "a long number")
    assert truncate_table(shown, max_chars=1000, max_cell_chars=19) is shown


def test_cell_token_cap():
    t = Table.from_columns(
        ["title"], [TEXT], [["one two three four five", "short", "a-very-long-single-word"]]
    )
    out = truncate_table(t, max_cell_tokens=3, count_tokens=words_counter)
    assert out.column(0) == ["one two three", "short", "a-very-long-single-word"]

    def chars_as_tokens(text):
        return len(text)

    out = truncate_table(t, max_cell_tokens=5, count_tokens=chars_as_tokens)
    assert out.column(0) == ["one", "short", "a-ver"]


def test_cells_are_cut_before_rows_are_dropped():
    t = big_table(30)
    out = truncate_table(t, max_chars=linearized_length(t) // 2, max_cell_chars=8, seed=1)
    assert max(len(x) for x in out.column(1)) <= 8
    assert linearized_length(out) <= linearized_length(t) // 2
    short = shorten_cells(t, max_cell_chars=8)
    for row in out.rows:
        assert row == short.rows[row[0]]


def test_import_pulls_in_no_tensorflow_or_jax():
    code = (
        "import sys, symjax.sql.text.linearize; "
        "bad = [m for m in ('tensorflow', 'jax', 'flax') if m in sys.modules]; "
        "assert not bad, bad"
    )
    subprocess.run([sys.executable, "-c", code], check=True)


def test_truncation_measures_the_lowercased_text():
    t = Table.from_columns(
        ["w"], [TEXT], [["İSTANBUL " * 3, "x", "İzmir y", "z"]]
    )  # 'İ'.lower() is two characters: lengths must come from the lower-cased text
    budget = len(linearize(t, lowercase=True)) - 1
    out = truncate_table(t, max_chars=budget, lowercase=True, seed=0)
    assert len(linearize(out, lowercase=True)) <= budget < len(linearize(t, lowercase=True))


def test_rowless_table_whose_header_is_too_long():
    empty = [np.zeros(0, dtype=np.int32), np.zeros(0, dtype=np.int32)]
    t = Table(("a_long_header", "b"), (TEXT, TEXT), empty, [np.zeros(0, dtype=bool)] * 2, ())
    assert linearize(t) == "col : a_long_header | b"
    assert linearize(t, style="markdown") == "| a_long_header | b |\n| --- | --- |"
    with pytest.raises(TableError, match="header alone needs 23 chars"):
        truncate_table(t, max_chars=10)
