"""symjax.sql.query.questions: every sampled plan asked in English, answered by the plan's
SQLite-verified answer.

Drawn examples of every family (the default rules, and hard queries with empty results and
NULL cells) each get a clean question in several paraphrases; the SQL they phrase is the SQL
SQLite answers with the example's answer; hand-written plans over a small table give exact
questions (which also pins the seeded choice across processes); plans outside the sampler's
shapes raise UnsupportedSqlError.
"""
import collections
import sqlite3

import pytest

from symjax.errors import ConfigError, SqlError, UnsupportedSqlError
from symjax.sql.io import table_from_rows
from symjax.sql.query import parse_sql, question
from symjax.sql.query.families import FAMILIES, SamplerConfig
from symjax.sql.query.plan import (
    ROWID,
    Aggregate,
    And,
    Arithmetic,
    Between,
    Column,
    ColumnArithmetic,
    Compare,
    Comparison,
    Having,
    Like,
    Literal,
    NullTest,
    Or,
    OrderBy,
    Scalar,
    Select,
    SelectQuery,
    SetOperation,
    TableSource,
)
from symjax.sql.query.render import render
from symjax.sql.stream import StreamConfig, examples
from symjax.sql.text.answers import canonical_answer

N_PER_CONFIG = 5_000  # two configs: 10,000 examples
SEEDS_PER_PLAN = 40
ALL_FAMILIES = {f: 1.0 for f in FAMILIES}
CONFIGS = {
    "default-rules": SamplerConfig(family_weights=ALL_FAMILIES),
    "hard-empty-null": SamplerConfig(family_weights=ALL_FAMILIES, allow_empty=True, allow_null=True,
                                     difficulty="hard"),
}
#: what a question must not contain: SQL, unfilled slots, Python's None
FORBIDDEN = ("SELECT", "FROM w", "WHERE", "GROUP BY", "ORDER BY", "HAVING", "LIMIT", "DISTINCT", "UNION",
             "INTERSECT", "EXCEPT", "BETWEEN", "LIKE", "IS NULL", "IS NOT NULL", " IN (", "rowid", "COUNT(",
             "SUM(", "AVG(", "MIN(", "MAX(", "ABS(", "{", "}", "None", "  ")


@pytest.fixture(scope="module")
def drawn():
    """{config name: examples} with every family at weight 1."""
    out = {}
    for seed, (name, sampler) in enumerate(CONFIGS.items()):
        stream = examples(180 + seed, config=StreamConfig(sampler=sampler))
        out[name] = [next(stream) for _ in range(N_PER_CONFIG)]
    return out


@pytest.mark.parametrize("config", list(CONFIGS))
def test_every_family_gets_a_question(drawn, config):
    families = collections.Counter()
    for i, e in enumerate(drawn[config]):
        text = question(e.plan, e.table, i)
        assert isinstance(text, str) and text, (e.family, e.sql)
        families[e.family] += 1
    assert set(families) == set(FAMILIES), set(FAMILIES) - set(families)


def test_questions_are_clean_english(drawn):
    problems = []
    for config, batch in drawn.items():
        for i, e in enumerate(batch):
            text = question(e.plan, e.table, 7 * i + 1)
            bad = [w for w in FORBIDDEN if w in text]
            if not text[0].isupper() and text[0] != '"':
                bad.append("lower-case start")
            if text[-1] not in ".?":
                bad.append("no final '.' or '?'")
            if not any(f'"{name}"' in text for name in e.table.header):
                bad.append("no column named")
            if bad:
                problems.append((config, e.family, e.sql, text, bad))
    assert not problems, problems[:5]


def test_seeds_give_paraphrases_in_every_family(drawn):
    """Per family, each of its first five plans reads at least three ways over 40 seeds."""
    seen = collections.Counter()
    for e in drawn["default-rules"] + drawn["hard-empty-null"]:
        if seen[e.family] == 5:
            continue
        seen[e.family] += 1
        texts = {question(e.plan, e.table, seed) for seed in range(SEEDS_PER_PLAN)}
        assert len(texts) >= 3, (e.family, e.sql, texts)
        assert question(e.plan, e.table, 2**64 - 1) == question(e.plan, e.table, 2**64 - 1)
    assert set(seen) == set(FAMILIES)


def test_the_phrased_plan_is_the_sql_sqlite_answers(drawn):
    """The plan a question phrases prints as the example's SQL, and SQLite's result of that SQL
    is the example's answer: the question is paired with a verified answer."""
    mismatches = []
    for config, batch in drawn.items():
        conn, last_table = None, None
        for e in batch:
            if e.table is not last_table:
                conn = sqlite3.connect(":memory:")
                e.table.to_sqlite(conn)
                last_table = e.table
            if render(e.plan, e.table.header) != e.sql:
                mismatches.append((config, e.family, "render", e.sql))
                continue
            rows = conn.execute(e.sql).fetchall()
            want = canonical_answer([r[0] if len(r) == 1 else tuple(r) for r in rows], ordered=e.ordered)
            if want != e.answer:
                mismatches.append((config, e.family, e.sql, e.answer, want))
    assert not mismatches, mismatches[:5]


# ---------------------------------------------------------------------------- exact questions
@pytest.fixture(scope="module")
def medals():
    return table_from_rows([
        ["Nation", "Gold", "Silver", "Date", "Notes"],
        ["Kenya", "5", "2", "2001-03-05", "host"],
        ["Peru", "3", "4", "2002-07-01", ""],
        ["Chad", "1", "1", "1999-12-31", "new"],
        ["Fiji", "3", "0", "2004-01-20", "host"],
    ])


def _gold_of(nation):
    return Scalar(Select(Column(1), where=Compare(0, "=", Literal(nation))))


GOLDEN = [
    ("count", Select(Aggregate("count", None), where=Compare(1, ">", Literal(3))), 0,
     'In how many rows is it true that "Gold" is above 3?'),
    ("count", Select(Aggregate("count", None), where=Compare(1, ">", Literal(3))), 1,
     'Count the rows in which "Gold" is above 3.'),
    ("superlative", Select(Column(0), order_by=OrderBy(Column(3), descending=True), limit=2), 0,
     'List the "Nation" of the 2 rows with the most recent "Date", most recent first.'),
    ("set_operation", SetOperation("EXCEPT", Select(Column(0), where=Compare(1, ">=", Literal(3))),
                                   Select(Column(0), where=Like(4, "ho"))), 0,
     'Which "Nation" values appear in rows where "Gold" is no less than 3 but in no row where "Notes" '
     "begins with 'ho' (in any letter case)?"),
    ("compare", Comparison(">", _gold_of("Kenya"), _gold_of("Peru")), 0,
     'Let a be the "Gold" of the row where "Nation" is \'Kenya\', and b be the "Gold" of the row where '
     '"Nation" equals \'Peru\'. Is a larger than b? Answer 1 for yes, 0 for no.'),
    ("adjacent", Select(Column(0), where=Compare(ROWID, "=", Scalar(
        Select(Column(ROWID), where=Compare(0, "=", Literal("Peru"))), 1))), 0,
     'Find the row where "Nation" equals \'Peru\'; what is the "Nation" of the next row?'),
    # "Notes" has an empty cell, which != leaves out
    ("select_where", Select(Aggregate("count", None), where=Compare(4, "!=", Literal("host"))), 0,
     'In how many rows is it true that "Notes" is filled in and is not \'host\'?'),
    ("select_where", Select(Column(0), where=Or((And((Compare(1, ">", Literal(2)), Compare(2, "<", Literal(3)))),
                                                 NullTest(4)))), 0,
     'List the "Nation" for every row where either ("Gold" is more than 2 and "Silver" is below 3) or the '
     '"Notes" cell is blank.'),
    ("group_having", Select(Column(1), group_by=1, having=Having(Aggregate("count", None), ">=", Literal(2))), 0,
     'List the "Gold" values that appear in at least 2 rows.'),
    ("column_arithmetic", Select(Aggregate("avg", ColumnArithmetic("-", 1, 2))), 0,
     'Compute the difference "Gold" minus "Silver" in each row. What is the average of these values?'),
    ("multi_column", Select((Column(0), Column(3)), where=Between(3, Literal("2000-01-01"), Literal("2003-12-31"))),
     0, 'List the "Nation" and "Date" for every row where "Date" is on or after 2000-01-01 and on or before '
        '2003-12-31.'),
    ("nested", Select(Column(0), where=Compare(1, "=", Scalar(Select(Aggregate("max", 1))))), 0,
     'For the row or rows with the largest "Gold", what is the "Nation"?'),
    ("most_frequent", Select(Column(1), group_by=1, order_by=OrderBy(Aggregate("count", None), descending=True),
                             limit=1), 0,
     'Grouping the rows by "Gold", which group has the highest number of rows? Give its "Gold".'),
    ("distinct", Select(Column(4), distinct=True), 0,
     'Name each different value of "Notes" once. An empty "Notes" counts as a value of its own.'),
    ("aggregate", Select(Aggregate("min", 3), where=Compare(2, "<=", Literal(2.5))), 0,
     'Which "Date" value is the earliest in the rows where "Silver" is less than or equal to 2.5?'),
    ("count_distinct", Select(Aggregate("count", 4, distinct=True)), 0,
     'What is the number of different non-empty "Notes" values?'),
    ("abs_difference", Arithmetic("-", _gold_of("Chad"), _gold_of("Fiji"), abs=True), 6,
     'By how much does the "Gold" differ between the row where "Nation" is exactly \'Chad\' and the row where '
     '"Nation" equals \'Fiji\', ignoring the sign?'),
    ("arithmetic", Arithmetic("-", _gold_of("Chad"), _gold_of("Fiji")), 0,
     'What do you get when you subtract the "Gold" of the row where "Nation" equals \'Fiji\' from the "Gold" of '
     'the row where "Nation" is exactly \'Chad\'?'),
]


@pytest.mark.parametrize("family, plan, seed, expected", GOLDEN, ids=[f"{g[0]}-{i}" for i, g in enumerate(GOLDEN)])
def test_golden_questions(medals, family, plan, seed, expected):
    assert question(plan, medals, seed) == expected


def test_a_real_threshold_keeps_its_digits(medals):
    """canonical_value rounds reals to 2 places; a threshold is written in full."""
    plan = Select(Aggregate("count", None), where=Compare(2, "<", Literal(0.125)))
    texts = {question(plan, medals, seed) for seed in range(20)}
    assert all("0.125" in t for t in texts), texts


# ---------------------------------------------------------------------------- what is refused
def test_general_plans_are_refused(medals):
    plan = parse_sql('SELECT "Nation" FROM w WHERE "Gold" * 2 > "Silver" + 1', medals)
    assert isinstance(plan, SelectQuery)
    with pytest.raises(UnsupportedSqlError, match="general plan"):
        question(plan, medals, 0)
    with pytest.raises(UnsupportedSqlError, match="SelectQuery"):
        question(SelectQuery(columns=(Column(0),), names=("Nation",), source=TableSource()), medals, 0)


@pytest.mark.parametrize("plan, construct", [
    (Select(Column(0), limit=2), "LIMIT 2 without ORDER BY"),
    (Select(Aggregate("sum", 3)), "SUM of the date column"),
    (Select(Column(0), where=Compare(1, "=", Literal(None))), "literal None"),
    (Select(Column(0), where=Like(0, "K_")), "wildcard"),
])
def test_step_plans_outside_the_sampler_are_refused(medals, plan, construct):
    with pytest.raises(UnsupportedSqlError, match=construct):
        question(plan, medals, 0)


def test_bad_seed_and_bad_column(medals):
    plan = Select(Column(0), where=Compare(1, ">", Literal(3)))
    for seed in (-1, 2**64, 1.5, "3"):
        with pytest.raises(ConfigError, match="seed"):
            question(plan, medals, seed)
    with pytest.raises(SqlError, match="column index 9"):
        question(Select(Column(9), where=Compare(1, ">", Literal(3))), medals, 0)
