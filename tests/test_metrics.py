"""Golden tests of the TabFact, SQA, WikiSQL (TAPAS), BBH, MMLU, SVAMP and SQL metrics."""
from __future__ import annotations

import json
import sys

import pytest

from symjax.tasks import metrics as M


# ---------------------------------------------------------------------------- TabFact
@pytest.mark.parametrize(
    "text, verdict",
    [
        ("yes", 1), ("Yes", 1), ("yes.", 1), (" YES, it is", 1), ("true", 1), ("entailed", 1),
        ("(yes)", 1), ("- yes", 1), ('"yes"', 1),
        ("no", 0), ("No.", 0), ("false", 0), ("refuted", 0), ("not entailed", 0),
        ("maybe", None), ("", None), ("the answer is yes", None), ("yesterday", None), (None, None),
    ],
)
def test_parse_verdict(text, verdict):
    assert M.parse_verdict(text) == verdict


def test_tabfact_metrics():
    targets = [{"label": 1}, {"label": 0}, {"label": 1}, {"label": 0}, "yes", "no"]
    predictions = ["yes", "no", "maybe", "yes", "Yes.", None]
    m = M.tabfact_metrics(targets, predictions)
    assert m["num_examples"] == 6
    assert m["official_accuracy"] == pytest.approx(100 * 3 / 6)  # yes, no, Yes.
    assert m["unparseable"] == pytest.approx(100 * 2 / 6)  # maybe, missing
    # the paper: lower-cased string equality with "yes"/"no" ('yes.' is not 'yes')
    assert m["denotation_accuracy"] == pytest.approx(100 * 2 / 6)
    with pytest.raises(ValueError, match="neither yes/no"):
        M.tabfact_metrics(["perhaps"], ["yes"])


# ---------------------------------------------------------------------------- TAPAS helpers
@pytest.mark.parametrize(
    "value, expected",
    [
        ("1,000.7", 1000.7),
        ("1,000", 1000.0),
        ("5,5556", 5.5556),  # decimal comma
        ("12,34", 12.34),
        ("0.0.0.1", 1.0),  # several dots removed
        ("1,2,3", 123.0),  # several commas, no group of 3 -> removed
        ("1,234,567", 1234567.0),
        ("3", 3.0),
        (" 3 ", 3.0),
        (7, 7.0),
        (2.5, 2.5),
    ],
)
def test_convert_to_float(value, expected):
    assert M.convert_to_float(value) == pytest.approx(expected)


@pytest.mark.parametrize("value", ["abc", "1,2,3a", "", "12 km"])
def test_convert_to_float_errors(value):
    with pytest.raises(ValueError):
        M.convert_to_float(value)


def test_normalize_answers():
    assert M.normalize_answers(["B", "a", "3", "nan"]) == sorted(["3.0", "b", "a"])
    assert M.normalize_answers(["12", "12.0"]) == ["12.0", "12.0"]  # a multiset
    assert M.normalize_answers([]) == []


def test_tapas_denotation_float32():
    # AVG repeating decimals compare as float32
    assert M.tapas_denotation(["0.3333333333"]) == M.tapas_denotation([str(1 / 3)])
    assert M.tapas_denotation(["0.33"]) != M.tapas_denotation([str(1 / 3)])
    assert M.tapas_denotation(["Paris"]) == ["paris"]
    assert M.tapas_denotation(["1,000"]) == M.tapas_denotation(["1000.0"])


# ---------------------------------------------------------------------------- WikiSQL
def test_wikisql_metrics():
    targets = [
        {"answers": ["12.0"]},  # COUNT / float answer
        {"answers": ["Terrence Ross"]},
        {"answers": []},  # empty gold (no match / TAPAS warning)
        {"answers": ["3.0"]},  # COUNT 3
        {"answers": [str(10 / 3)]},  # AVG
        {"answers": ["a", "b"]},
        {"answers": ["1,000"]},
        {"answers": ["0.0"]},  # COUNT of zero
    ]
    predictions = ["12", "terrence ross", "@NULL@", "3.5", "3.3333333", "b, a", "1000", "0"]
    m = M.wikisql_metrics(targets, predictions)
    assert m["num_examples"] == 8
    # wrong: 3.5 != 3.0 only
    assert m["official_accuracy"] == pytest.approx(100 * 7 / 8)
    assert M.tapas_match("none", [], empty_tokens=("@NULL@", "none"))
    assert not M.tapas_match("none", ["x"], empty_tokens=("@NULL@", "none"))
    assert not M.tapas_match(None, [])


# ---------------------------------------------------------------------------- SQA
def test_sqa_metrics_question_sequence_position():
    targets = [
        {"answers": ["Greece"], "sequence": "nt-1-0", "position": 0},
        {"answers": ["1896", "2004"], "sequence": "nt-1-0", "position": 1},
        {"answers": ["2004"], "sequence": "nt-1-0", "position": 2},
        {"answers": ["Paris"], "sequence": "nt-2-0", "position": 0},
        {"answers": ["7"], "sequence": "nt-2-0", "position": 1},
    ]
    predictions = ["greece", "2004, 1896", "2004.0", "Paris", "8"]
    m = M.sqa_metrics(targets, predictions)
    assert m["official_accuracy"] == pytest.approx(80.0)
    assert m["sequence_accuracy"] == pytest.approx(50.0)
    assert m["position_0_accuracy"] == pytest.approx(100.0)
    assert m["position_1_accuracy"] == pytest.approx(50.0)
    assert m["position_2_accuracy"] == pytest.approx(100.0)
    assert m["num_sequences"] == 2
    # repeated identical cells: a multiset (TAPAS), so the duplicate must be predicted
    assert M.tapas_match("USA, USA", ["USA", "USA"])
    assert not M.tapas_match("USA", ["USA", "USA"])


# ---------------------------------------------------------------------------- BBH
def test_bbh_metrics():
    targets = [
        {"text": "(A)", "task": "date_understanding"},
        {"text": "True", "task": "boolean_expressions"},
        {"text": "(B)", "task": "date_understanding"},
        {"text": "] ) )", "task": "dyck_languages"},
    ]
    predictions = ["A", "true", "(B)", "] ) )"]
    m = M.bbh_metrics(targets, predictions)
    assert m["exact_match"] == pytest.approx(75.0)
    assert m["exact_match_option"] == pytest.approx(100.0)
    assert m["num_tasks"] == 3
    # macro: date 50, boolean 100, dyck 100
    assert m["macro_exact_match"] == pytest.approx((50 + 100 + 100) / 3)
    assert not M.bbh_exact_match(None, "x")


# ---------------------------------------------------------------------------- MMLU
@pytest.mark.parametrize(
    "text, letter",
    [("B", "B"), (" b", "B"), ("(C)", "C"), ("D.", "D"), ("A) Paris", "A"), ("E", None),
     ("Because", None), ("", None), (None, None)],
)
def test_parse_choice_letter(text, letter):
    assert M.parse_choice_letter(text) == letter


def test_mmlu_micro_and_macro():
    targets = [
        {"label": "A", "subject": "anatomy"},
        {"label": "B", "subject": "anatomy"},
        {"label": "C", "subject": "anatomy"},
        {"label": "D", "subject": "virology"},
    ]
    predictions = ["A", "B", "D", "D"]
    m = M.mmlu_metrics(targets, predictions)
    assert m["micro_accuracy"] == pytest.approx(75.0)
    assert m["macro_accuracy"] == pytest.approx((200 / 3 + 100) / 2)
    assert m["num_subjects"] == 2


# ---------------------------------------------------------------------------- SVAMP, SQL
def test_svamp_metrics():
    targets = [{"text": "12", "number": 12.0}, {"text": "3", "number": 3.5}, "7"]
    predictions = ["12", "3.5", "The answer is 7"]
    m = M.svamp_metrics(targets, predictions)
    assert m["official_accuracy"] == pytest.approx(100.0)
    assert m["denotation_accuracy"] == pytest.approx(100 / 3)


def test_sql_execution_metrics():
    m = M.sql_execution_metrics(["1370", "Athens, Paris", "@NULL@"], ["1370", "Paris, Athens", "@NULL@"])
    assert m["exact_match"] == pytest.approx(200 / 3)
    assert m["denotation_accuracy"] == pytest.approx(100.0)


def test_sql_execution_metrics_per_family_and_majority_baseline():
    targets = [{"text": t, "family": f} for t, f in
               [("1", "count"), ("1", "count"), ("2", "count"), ("Alpha", "select_where"), ("Beta", "select_where")]]
    m = M.sql_execution_metrics(targets, ["1", "2", "2", "alpha", None])
    assert m["denotation_accuracy"] == pytest.approx(60.0)
    assert m["denotation_accuracy/count"] == pytest.approx(200 / 3)
    assert m["denotation_accuracy/select_where"] == pytest.approx(50.0)
    assert m["num_examples/count"] == 3 and m["num_examples/select_where"] == 2
    # per family, always answering the most frequent answer: "1" for count (2 of 3), one of two
    assert m["majority_baseline/count"] == pytest.approx(200 / 3)
    assert m["majority_baseline/select_where"] == pytest.approx(50.0)
    assert m["majority_baseline"] == pytest.approx(60.0)
    # the seqio postprocess keeps the family of SQL examples for these metrics
    assert M.postprocess("3", example={"family": b"count"}, is_target=True) == {"text": "3", "family": "count"}
    assert M.postprocess("3", example={}, is_target=True) == "3"


def test_length_mismatch_raises():
    with pytest.raises(ValueError, match="2 targets but 1 predictions"):
        M.wtq_metrics(["a", "b"], ["a"])


# ---------------------------------------------------------------------------- seqio glue
def test_postprocess_builds_target_dicts():
    example = {
        "id": b"nu-0",
        "targets_pretokenized": b"10 years",
        "gold": json.dumps({"answers": ["10 years"], "canon": ["10.0"]}).encode(),
    }
    target = M.postprocess(b"10 years", example=example, is_target=True)
    assert target == {"answers": ["10 years"], "canon": ["10.0"], "id": "nu-0", "text": "10 years"}
    assert M.postprocess(b"10", example=example, is_target=False) == "10"
    assert M.postprocess("x") == "x"
    assert M.wtq_metrics([target], ["10"])["official_accuracy"] == 100.0


def test_pure_python_parts_import_without_tensorflow():
    # metrics, readers, prompts and the tools' code never import TensorFlow or seqio
    import subprocess

    code = (
        "import sys; import symjax.tasks.metrics, symjax.tasks.benchmarks, symjax.tasks.predictions; "
        "bad = [m for m in ('tensorflow', 'seqio') if m in sys.modules]; assert not bad, bad"
    )
    env = dict(__import__("os").environ, SYMJAX_TASKS_REGISTER="0")
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, timeout=120)
    assert proc.returncode == 0, proc.stderr
    assert set(M.METRIC_FNS) >= {"wtq", "tabfact", "sqa", "wikisql", "bbh", "mmlu", "svamp"}


# ---------------------------------------------------------------------------- list readings
def test_prediction_readings_rebuild_gold_values_containing_the_separator():
    gold = {"st. louis, mo", "athens"}
    readings = M.prediction_readings("Athens, St. Louis, MO", mergeable=lambda s: s.lower() in gold)
    assert readings == [["Athens", "St. Louis", "MO"], ["Athens", "St. Louis, MO"]]
    assert M.prediction_readings("@NULL@") == [[]] and M.prediction_readings(None) == []
    assert M.prediction_readings("a, b") == [["a", "b"]]
    # SQA: a 4-value gold whose third value contains ", "
    answers = ["Athens", "Paris", "St. Louis, MO", "London"]
    assert M.tapas_match("Athens, Paris, St. Louis, MO, London", answers)
    assert M.tapas_match("London, St. Louis, MO, Paris, Athens", answers)
    assert not M.tapas_match("Athens, Paris, St. Louis, London", answers)
    # WTQ: a list mixing such a value with another
    assert M.wtq_match("Washington, D.C., Paris", ["Washington, D.C.", "Paris"])
    assert not M.wtq_match("Washington, D.C., Paris", ["Washington", "D.C.", "Paris", "x"])
    # joining never invents a value: 'a, b' is no gold value here
    assert not M.wtq_match("a, b", ["a, b, c"])
