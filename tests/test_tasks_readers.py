"""Benchmark readers and prompts on tiny self-made fixtures in each official format, on the
real samples in ../shared/data, and on bad input. Pure Python (no seqio)."""
from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from symjax.errors import ConfigError, DataError, MissingDataError
from symjax.tasks import prompts
from symjax.tasks.benchmarks import load_examples, load_golds, score
from symjax.tasks.general import BBH_TASKS, MMLU_SUBJECTS, bbh_examples, mmlu_examples
from symjax.tasks.records import TablePromptConfig, related_rows, visible_table
from symjax.tasks.wikisql import read_wikisql, wikisql_gold

FIXTURES = Path(__file__).resolve().parent / "fixtures" / "benchmarks"


def _ex(benchmark, split, **kw):
    return load_examples(benchmark, split, root=FIXTURES / benchmark, **kw)


# ---------------------------------------------------------------------------- prompts
def test_template_counts_and_errors():
    assert [prompts.num_templates(b) for b in ("wtq", "wikisql", "sqa", "tabfact", "svamp")] == [10, 10, 10, 10, 17]
    assert prompts.template("wtq", 0).startswith("[Table] {table} [/Table]")
    for bench in prompts.TABLE_BENCHMARKS:
        for t in prompts.TEMPLATES[bench]:
            assert "{table}" in t and "{question}" in t
    with pytest.raises(ConfigError, match="templates 0..9"):
        prompts.template("wtq", 10)
    with pytest.raises(ConfigError, match="benchmarks with templates"):
        prompts.template("imdb", 0)


def test_render_is_single_pass():
    assert prompts.render("{table} | {question}", table="{question} {x}", question="Q?") == "{question} {x} | Q?"


def test_parse_bbh_shots_drops_the_chain_of_thought():
    text = (FIXTURES / "bbh" / "cot-prompts" / "boolean_expressions.txt").read_text()
    description, shots = prompts.parse_bbh_shots(text)
    assert description == "Evaluate the result of a random Boolean expression."
    assert shots == [
        ("not ( ( not not True ) ) is", "False"),
        ("True and False and not True and True is", "False"),
        ("not not ( not ( False ) ) is", "True"),
    ]


def test_mmlu_prompt_format():
    p = prompts.mmlu_prompt("college_biology", [("Q1?", ["a", "b", "c", "d"], "C")], "Q2?", ["w", "x", "y", "z"])
    assert p == (
        "The following are multiple choice questions (with answers) about  college biology.\n\n"
        "Q1?\nA. a\nB. b\nC. c\nD. d\nAnswer: C\n\n"
        "Q2?\nA. w\nB. x\nC. y\nD. z\nAnswer:"
    )


# ---------------------------------------------------------------------------- fixtures, per benchmark
def test_wtq_fixture():
    exs = _ex("wtq", "pristine-unseen-tables", template=4)
    assert [e.id for e in exs] == [f"nu-{i}" for i in range(6)]
    e = exs[1]
    assert e.targets == "1,204" and e.gold == {"answers": ["1,204"], "canon": ["1204.0"]}
    assert e.inputs.startswith("header: Rank | Nation | Gold | Silver | Bronze | Total\nrow 1 : 1 | United States")
    assert e.inputs.endswith("\nAnswer this question: how many silver medals did washington, d.c. win?")
    assert exs[2].gold["answers"] == ["France (FRA)", "Greece"]
    assert 'Leeds "United"' in exs[3].inputs  # WTQ csv escapes read
    assert len(_ex("wtq", "random-split-1-dev")) == 3


def test_wtq_without_tagged_file_has_no_canon(tmp_path):
    root = tmp_path / "wtq"
    shutil.copytree(FIXTURES / "wtq", root)
    shutil.rmtree(root / "tagged")
    exs = load_examples("wtq", "pristine-unseen-tables", root=root)
    assert exs[1].gold["canon"] is None


def test_sqa_fixture_sequences_and_history():
    exs = _ex("sqa", "test", template=7)
    assert [e.id for e in exs] == ["nt-1-0_0", "nt-1-0_1", "nt-1-0_2", "nt-2-1_0", "nt-2-1_1"]
    assert exs[2].inputs.endswith(
        "] where were the games held? which of them ended in 1st position? of those, which came last?"
    )
    assert exs[0].gold["answers"] == ["Athens", "Paris", "St. Louis, MO", "London"]
    assert exs[0].gold["coordinates"][2] == (2, 1)
    assert exs[2].gold["sequence"] == "nt-1-0" and exs[2].gold["position"] == 2
    assert "St. Louis, MO" in exs[0].inputs  # quoted CSV cell


def test_tabfact_fixture_and_subsets():
    exs = _ex("tabfact", "test", template=2)
    assert [e.targets for e in exs] == ["yes", "no", "yes", "yes", "no"]
    assert exs[0].id == "2-1000-1.html.csv:0"
    assert exs[0].gold["subsets"] == ["simple"] and exs[3].gold["subsets"] == ["complex", "small"]
    assert exs[0].inputs.startswith("[ header: year | film | role | notes\nrow 1 : 2001 | the host | lead | debut")
    assert exs[0].inputs.endswith("Verify this claim based on the above table: the host be release in 2001. "
                                  "Options: - yes - no. The answer is")
    golds = list(load_golds("tabfact", "test", root=FIXTURES / "tabfact").values())
    m = score("tabfact", golds, ["yes", "no", "no", "yes", "no"])
    assert m["official_accuracy"] == pytest.approx(80.0)
    assert m["simple_accuracy"] == pytest.approx(200 / 3) and m["complex_accuracy"] == 100.0


def test_wikisql_fixture_gold_answers_by_execution():
    exs = {e.id: e for e in _ex("wikisql", "test")}
    expect = {
        "test-0": ([], "none"),  # no row matches
        "test-1": (["ZZZ·562"], "ZZZ·562"),
        "test-2": (["Guard-Forward"], "Guard-Forward"),  # tokenized match of 'Butler CC (KS)'
        "test-3": (["1.0"], "1.0"),  # COUNT is a float
        "test-4": (["42.0"], "42.0"),  # MAX of a real column
        "test-5": (["26.5"], "26.5"),  # AVG; 'guard-forward' matches 'Guard-Forward' by tokens
        "test-6": (["Martin Lewis", "Brad Lohaus", "Art Long"], None),  # real > 30
        "test-7": (["Antonio Lang"], "Antonio Lang"),  # '21' converted for a real column
        "test-8": (["Voshon Lenard"], "Voshon Lenard"),  # MAX over text: the raw string maximum
        "test-9": ([], "none"),  # a number against a text column: TAPAS's type mismatch
    }
    for ex_id, (answers, target) in expect.items():
        assert sorted(exs[ex_id].gold["answers"]) == sorted(answers), ex_id
        if target is not None:
            assert exs[ex_id].targets == target, ex_id
    assert exs["test-9"].gold["warning"].startswith("condition value 1996")
    assert exs["test-0"].gold["warning"] is None
    assert exs["test-4"].gold["sql"] == 'SELECT MAX("No.") FROM w WHERE "Position" = \'Forward-Center\''


def test_wikisql_gold_uses_the_truncated_table():
    (q,) = [q for q in read_wikisql(FIXTURES / "wikisql", "test") if q.id == "test-6"]
    full = wikisql_gold(q, q.table)
    assert sorted(full["answers"]) == ["Art Long", "Brad Lohaus", "Martin Lewis"]
    cut = q.table.take_rows([0, 1, 2])  # rows of Lang, Lenard, Lewis only
    assert wikisql_gold(q, cut)["answers"] == ["Martin Lewis"]


def test_svamp_fixture():
    exs = _ex("svamp", "dev", template=8)
    assert exs[0].inputs == "Q: Jack had 8 pens . He gave 3 to Jill . How many pens does Jack have now ? A:"
    assert [e.targets for e in exs] == ["5", "120", "3"]  # the paper's int() targets
    assert exs[2].gold == {"number": 3.5}
    assert "number0" not in exs[1].inputs


def test_bbh_fixture():
    exs = _ex("bbh", "test")
    assert [e.id for e in exs] == [f"boolean_expressions-{i}" for i in range(3)] + [
        "date_understanding-0", "date_understanding-1"]
    assert exs[0].inputs.endswith("Q: not not ( not ( False ) ) is\nA: True\n\nQ: not ( True ) and ( True ) is\nA:")
    assert exs[3].targets == "(A)" and exs[3].gold == {"task": "date_understanding", "shots": 3}
    assert "So the answer is" not in exs[3].inputs and "\nA: (B)\n\n" in exs[3].inputs
    with pytest.raises(ConfigError, match="27 tasks"):
        bbh_examples(FIXTURES / "bbh", "not_a_task")
    assert len(BBH_TASKS) == 27 and len(MMLU_SUBJECTS) == 57


def test_mmlu_fixture_and_shot_reduction():
    exs = _ex("mmlu", "test")
    assert [e.id for e in exs] == ["anatomy-0", "anatomy-1", "virology-0"]
    assert exs[0].targets == "B" and exs[0].gold == {"label": "B", "subject": "anatomy", "shots": 5}
    assert exs[0].inputs.count("\nAnswer:") == 6 and exs[0].inputs.endswith("D. kidney\nAnswer:")
    short = mmlu_examples(FIXTURES / "mmlu", "anatomy", "test", max_input_chars=400)
    assert 0 <= short[0].gold["shots"] < 5 and len(short[0].inputs) <= 400
    tokens = mmlu_examples(FIXTURES / "mmlu", "anatomy", "test", max_input_tokens=60,
                           count_tokens=lambda s: len(s.split()))
    assert len(tokens[0].inputs.split()) <= 60
    assert len(_ex("mmlu", "val")) == 2


# ---------------------------------------------------------------------------- truncation
def test_visible_table_keeps_rows_the_question_mentions():
    from symjax.sql import table_from_rows

    rows = [[str(i), f"name{i}", str(i * 7)] for i in range(60)]
    table = table_from_rows(rows, header=["id", "name", "score"])
    question = "what is the score of name57?"
    assert related_rows(table, question) == [57]
    config = TablePromptConfig(max_input_chars=800, reserve_chars=100)
    cut = visible_table(table, question, config, seed=1)
    assert cut.num_rows < 60
    assert "name57" in cut.column_texts(1)
    # the same for every call (the seed comes from the example id)
    assert visible_table(table, question, config, seed=1) == cut


def test_prompts_fit_the_character_budget(shared_data):
    config = TablePromptConfig(max_input_chars=3000)
    exs = load_examples("wtq", "pristine-seen-tables.sample", root=shared_data / "wtq", config=config)
    assert max(len(e.inputs) for e in exs) <= 3000


# ---------------------------------------------------------------------------- real samples
def test_real_wtq_sample(shared_data):
    exs = load_examples("wtq", "pristine-seen-tables.sample", root=shared_data / "wtq")
    assert len(exs) == 300 and exs[0].id == "ns-0"
    assert exs[0].gold == {"answers": ["10 years"], "canon": ["10.0"]}
    golds = list(load_golds("wtq", "pristine-seen-tables.sample", root=shared_data / "wtq").values())
    m = score("wtq", golds, [g["text"] for g in golds])
    assert m["official_accuracy"] == 100.0 and m["num_examples"] == 300


def test_real_tabfact_sample(shared_data):
    exs = load_examples("tabfact", "val_examples.sample", root=shared_data / "tabfact", template=0)
    assert len(exs) > 100 and {e.targets for e in exs} == {"yes", "no"}
    assert all(e.inputs.startswith("Table:\nheader: ") for e in exs)
    golds = [dict(e.gold, text=e.targets) for e in exs]
    assert score("tabfact", golds, [e.targets for e in exs])["official_accuracy"] == 100.0


# ---------------------------------------------------------------------------- bad input
@pytest.mark.parametrize(
    "bench, split, expected",
    [
        ("wtq", "pristine-unseen-tables", "data/pristine-unseen-tables.tsv"),
        ("sqa", "test", "test.tsv"),
        ("wikisql", "test", "test.jsonl"),
        ("tabfact", "test", "tokenized_data/test_examples.json"),
        ("svamp", "dev", "mawps-asdiv-a_svamp/dev.csv"),
        ("bbh", "test", "bbh/<task>.json"),
        ("mmlu", "test", "data/test/<subject>_test.csv"),
    ],
)
def test_missing_data_names_files_and_source(tmp_path, bench, split, expected):
    for root in (tmp_path / "absent", tmp_path):
        with pytest.raises(MissingDataError) as e:
            load_examples(bench, split, root=root)
        assert expected in str(e.value) and "http" in str(e.value), str(e.value)


def _copy(tmp_path, benchmark):
    root = tmp_path / benchmark
    shutil.copytree(FIXTURES / benchmark, root)
    return root


def test_malformed_rows_name_file_and_line(tmp_path):
    root = _copy(tmp_path, "wtq")
    tsv = root / "data" / "pristine-unseen-tables.tsv"
    tsv.write_text(tsv.read_text() + "nu-9\tonly two fields\n")
    with pytest.raises(DataError, match=r"pristine-unseen-tables.tsv, line 8: 2 tab-separated fields"):
        load_examples("wtq", "pristine-unseen-tables", root=root)

    root = _copy(tmp_path, "sqa")
    tsv = root / "test.tsv"
    lines = tsv.read_text().split("\n")
    lines[3] = lines[3].replace("['St. Louis, MO']", "['St. Louis, MO'")
    tsv.write_text("\n".join(lines))
    with pytest.raises(DataError, match=r"test.tsv, line 4: answer_text"):
        load_examples("sqa", "test", root=root)

    root = _copy(tmp_path, "wikisql")
    (root / "test.jsonl").write_text((root / "test.jsonl").read_text() + "{not json}\n")
    with pytest.raises(DataError, match=r"test.jsonl, line 11: invalid JSON"):
        load_examples("wikisql", "test", root=root)
    (root / "dev.jsonl").write_text(json.dumps({"table_id": "nope", "question": "q", "sql": {}}) + "\n")
    with pytest.raises(DataError, match=r"dev.jsonl, line 1: table_id 'nope'"):
        load_examples("wikisql", "dev", root=root)

    root = _copy(tmp_path, "mmlu")
    (root / "data" / "test" / "anatomy_test.csv").write_text("q,a,b,c,d,B\nq2,a,b,c,E\n")
    with pytest.raises(DataError, match=r"anatomy_test.csv, line 2: 5 fields"):
        load_examples("mmlu", "test", root=root, part="anatomy")

    root = _copy(tmp_path, "tabfact")
    (root / "tokenized_data" / "test_examples.json").write_text('{"1-2000-2.html.csv": [["a", "b"], [1]]}')
    with pytest.raises(DataError, match="one label per statement"):
        load_examples("tabfact", "test", root=root)

    root = _copy(tmp_path, "svamp")
    csv_path = root / "mawps-asdiv-a_svamp" / "dev.csv"
    csv_path.write_text(csv_path.read_text() + '"x number0",abc,e,1.0,"[]",\n')
    with pytest.raises(DataError, match=r"dev.csv, line 5: Numbers/Answer"):
        load_examples("svamp", "dev", root=root)


def test_missing_table_file_names_the_question_line(tmp_path):
    root = _copy(tmp_path, "wtq")
    (root / "csv" / "200-csv" / "1.csv").unlink()
    with pytest.raises(MissingDataError, match=r"line 5: table file .*1.csv not found"):
        load_examples("wtq", "pristine-unseen-tables", root=root)


def test_unknown_benchmark():
    with pytest.raises(ConfigError, match="use one of"):
        load_examples("imdb", "test", root=FIXTURES)
