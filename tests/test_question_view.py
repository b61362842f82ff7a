"""The question view of the stream (``StreamConfig.view``), its seqio tasks, and the
miniature's command end to end at a tiny size (README "The miniature")."""
from __future__ import annotations

import itertools
import json
import subprocess
import sys
from pathlib import Path

import pytest

import symjax.sql as sql
from symjax.errors import ConfigError
from symjax.sql.stream import QUESTION_INSTRUCTIONS

REPO = Path(__file__).resolve().parents[1]


def test_view_is_checked():
    with pytest.raises(ConfigError, match="view='words'"):
        sql.StreamConfig(view="words")


def test_question_view_shows_the_question_and_keeps_the_plan_answer():
    sql_view = list(itertools.islice(sql.examples(3), 200))
    asked = list(itertools.islice(sql.examples(3, config=sql.StreamConfig(view="question")), 200))
    both = list(itertools.islice(sql.examples(3, config=sql.StreamConfig(view="both")), 200))
    # the same plans in the same order (the character budget may keep other queries where
    # the question is longer than the SQL, so compare the queries both streams kept)
    by_key = {(e.block, e.sql): e for e in sql_view}
    common = [e for e in asked if (e.block, e.sql) in by_key]
    assert len(common) > 150
    for e in common:
        assert e.answer == by_key[(e.block, e.sql)].answer and e.targets == by_key[(e.block, e.sql)].targets
    for e in asked:
        assert e.question and e.inputs.startswith(QUESTION_INSTRUCTIONS["question"] + " " + e.question + "\n")
        assert "SELECT" not in e.inputs
        assert e.to_dict()["question"] == e.question
    for e in both:
        assert e.inputs.startswith(f"{QUESTION_INSTRUCTIONS['question_and_sql']} {e.question}\n{e.sql}\n")
    assert all(e.question is None for e in sql_view) and "question" not in sql_view[0].to_dict()
    # ask() phrases any example; the stream's own question is one of its paraphrases
    assert sql_view[0].ask(1) and isinstance(sql_view[0].ask(2), str)


def test_question_view_respects_the_character_budget():
    cfg = sql.StreamConfig(view="question", max_input_chars=300, sql_reserve_chars=150)
    for e in itertools.islice(sql.examples(4, config=cfg), 300):
        assert len(e.inputs) <= 300


def test_question_tasks_are_token_true():
    seqio = pytest.importorskip("seqio")
    pytest.importorskip("tensorflow")
    import symjax.tasks as T

    if not T.SEQIO_AVAILABLE:
        pytest.skip("symjax.tasks registration is disabled")
    T.set_vocabulary(seqio.ByteVocabulary())
    try:
        lengths = {"inputs": 512, "targets": 32}
        for name in ("symjax_table_questions", "symjax_table_questions_mini_held_out", "symjax_miniature_arm_b"):
            provider = seqio.get_mixture_or_task(name)
            extra = {"copy_pretokenized": True} if isinstance(provider, seqio.Mixture) else {}
            ds = provider.get_dataset(lengths, split="validation", shuffle=False, **extra).take(40)
            rows = list(ds.as_numpy_iterator())
            assert rows, name
            for row in rows:
                # nothing cut: the pretokenized text encodes to the ids seqio hands on (+ EOS)
                text = row["inputs_pretokenized"].decode()
                assert len(row["inputs"]) <= lengths["inputs"] and len(text.encode()) + 1 == len(row["inputs"])
                assert len(row["targets_pretokenized"]) + 1 == len(row["targets"])
        held_out = seqio.get_mixture_or_task("symjax_table_questions_mini_held_out").get_dataset(
            lengths, split="validation", shuffle=False).take(30)
        texts = [r["inputs_pretokenized"].decode() for r in held_out.as_numpy_iterator()]
        assert all(t.startswith(QUESTION_INSTRUCTIONS["question"]) for t in texts)
    finally:
        T.set_vocabulary(None)


def test_the_miniature_runs_end_to_end(tmp_path):
    """tools/run_miniature.py at a tiny size: both arms train, evaluate on the held-out and
    seen questions, and the table comes out with a row per family."""
    pytest.importorskip("seqio")
    pytest.importorskip("flax")
    r = subprocess.run(
        [sys.executable, str(REPO / "tools" / "run_miniature.py"), f"--output_dir={tmp_path}", "--seeds=0",
         "--train_steps=2", "--num_examples=24", "--jobs=2"],
        capture_output=True, text=True, cwd=REPO, env={**__import__("os").environ, "SYMJAX_VOCABULARY": "byte"},
    )
    assert r.returncode == 0, r.stdout[-3000:] + r.stderr[-3000:]
    from symjax.tasks import miniature

    table = (tmp_path / "results.md").read_text()
    for family in miniature.FAMILIES:
        assert f"| {family} |" in table
    assert "arm A" in table and "arm B" in table
    results = json.loads((tmp_path / "results.json").read_text())
    assert set(results) == {"a", "b"}
    assert "symjax_table_questions_mini_held_out" in results["b"]["0"]
