"""python -m symjax.predict: the eval tasks' prompts, and a smoke run of a tiny random model
with the byte vocabulary on CPU."""
from __future__ import annotations

import json
import os
import subprocess
import sys

import jax
import numpy as np
import pytest

from symjax.model import T5Config, init_params

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
WTQ = os.path.join(ROOT, "tests", "fixtures", "benchmarks", "wtq")
LENGTHS = {"inputs": 300, "targets": 16}  # short enough that the fixture's tables are cut
TINY = T5Config(vocab_size=384, d_model=16, num_heads=2, head_dim=8, num_encoder_layers=1,
                num_decoder_layers=1, d_ff=32, relative_attention_num_buckets=8, name="tiny_predict")


@pytest.fixture(scope="module")
def run_dir(tmp_path_factory):
    """A trainer run directory (byte vocabulary, LENGTHS) holding a tiny random model."""
    from symjax.train.checkpoints import Checkpointer

    run = tmp_path_factory.mktemp("predict") / "run"
    params = jax.tree.map(np.asarray, init_params(config=TINY, rng=jax.random.key(5)))
    checkpointer = Checkpointer(model_dir=str(run), keep=1, async_save=False)
    checkpointer.save(step=2, state={"params": params, "opt_state": {}, "step": np.int32(2)}, data_batches=2,
                      config={"model": TINY.to_dict(), "vocabulary": "byte", "task_feature_lengths": LENGTHS})
    checkpointer.close()
    return run


def _wtq_questions(tmp_path):
    """The WTQ fixture's validation questions as a predict JSONL file (tables by path)."""
    from symjax.tasks.wtq_evaluator import tsv_unescape

    lines = open(os.path.join(WTQ, "data", "random-split-1-dev.tsv"), encoding="utf-8").read().splitlines()[1:]
    path = tmp_path / "questions.jsonl"
    with open(path, "w", encoding="utf-8") as f:
        for line in lines:
            qid, utterance, context, _ = line.split("\t")
            f.write(json.dumps({"id": qid, "question": tsv_unescape(utterance),
                                "table": os.path.join(WTQ, context)}) + "\n")
    return path


def _predict(*args, cwd=ROOT):
    return subprocess.run([sys.executable, "-m", "symjax.predict", *args], capture_output=True, text=True,
                          cwd=cwd, timeout=600, env={**os.environ, "PYTHONPATH": ROOT})


@pytest.mark.parametrize("template", [0, 3])
def test_prompts_are_exactly_the_eval_tasks(byte_tasks_on_fixture_data, tmp_path, template):
    import seqio

    from symjax.predict import prompts, read_questions
    from symjax.tasks.tokenizers import tokenizer_for

    task = seqio.get_mixture_or_task(f"symjax_wtq_template_{template}")
    rows = list(task.get_dataset(LENGTHS, split="validation", shuffle=False).as_numpy_iterator())
    expected = {r["id"].decode(): r["inputs_pretokenized"].decode() for r in rows}
    assert expected
    questions = [q for q in read_questions(str(_wtq_questions(tmp_path))) if q.id in expected]
    got = prompts(questions, benchmark="wtq", template=template, inputs_length=LENGTHS["inputs"],
                  tokenizer=tokenizer_for(seqio.ByteVocabulary()))
    assert dict(zip([q.id for q in questions], got)) == expected
    # the budget did cut a table: the prompts are not the whole tables
    assert any(len(p.encode()) >= LENGTHS["inputs"] - 40 for p in got)


def test_cli_answers_a_table_and_a_jsonl_file(run_dir, tmp_path):
    import seqio

    from symjax.predict import Predictor
    from symjax.train.checkpoints import read_trained_model

    table = os.path.join(WTQ, "csv", "200-csv", "0.csv")
    done = _predict(f"--checkpoint={run_dir}", f"--table={table}",
                    "--question=which nation won the most gold medals?")
    assert done.returncode == 0, done.stderr[-3000:]
    single_output = done.stdout

    questions = _wtq_questions(tmp_path)
    out = tmp_path / "answers.jsonl"
    done = _predict(f"--checkpoint={run_dir}", f"--input={questions}", f"--output={out}", "--batch_size=2")
    assert done.returncode == 0, done.stderr[-3000:]
    rows = [json.loads(line) for line in out.read_text(encoding="utf-8").splitlines()]
    assert [r["id"] for r in rows] == ["nu-0", "nu-1", "nu-2"]
    assert rows[0]["question"] == "which nation won the most gold medals?"
    assert all(r["inputs"].startswith("[Table] header:") for r in rows)
    assert not [p for p in os.listdir(tmp_path) if ".partial-" in p]
    # The answers are the model's greedy decodes of those prompts.
    model = read_trained_model(str(run_dir))
    predictor = Predictor(config=model.config, params=model.params, vocabulary=seqio.ByteVocabulary(),
                          inputs_length=LENGTHS["inputs"], max_decode_length=LENGTHS["targets"], batch_size=4)
    assert predictor.answer([r["inputs"] for r in rows]) == [r["answer"] for r in rows]
    # --question with --table: stdout is the answer alone
    assert single_output == predictor.answer(_single_prompt(table))[0] + "\n"

    # An existing output is refused (and left as it was); bad input names the file and line.
    before = out.read_text(encoding="utf-8")
    done = _predict(f"--checkpoint={run_dir}", f"--input={questions}", f"--output={out}")
    assert done.returncode == 1
    assert done.stderr.strip().splitlines()[-1] == (
        f"predict: OutputError: --output={out} exists; give another name or --overwrite")
    assert out.read_text(encoding="utf-8") == before
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"question": "how many?", "table": "nope.csv"}\n', encoding="utf-8")
    done = _predict(f"--checkpoint={run_dir}", f"--input={bad}", f"--output={tmp_path / 'x.jsonl'}")
    assert done.returncode == 1 and "Traceback" not in done.stderr
    last = done.stderr.strip().splitlines()[-1]
    assert last.startswith(f"predict: MissingDataError: {bad}, line 1: table {tmp_path / 'nope.csv'} does not exist"), last
    done = _predict(f"--checkpoint={tmp_path / 'no_run'}", f"--input={questions}", f"--output={tmp_path / 'x.jsonl'}")
    assert done.returncode == 1
    assert done.stderr.strip().splitlines()[-1].startswith("predict: CheckpointError: checkpoint")
    assert not (tmp_path / "x.jsonl").exists()


def _single_prompt(table):
    import seqio

    from symjax.predict import Question, prompts
    from symjax.sql import read_table
    from symjax.tasks.tokenizers import tokenizer_for

    question = Question(id="q1", question="which nation won the most gold medals?", table=read_table(table),
                        table_source=table)
    return prompts([question], benchmark="wtq", template=0, inputs_length=LENGTHS["inputs"],
                   tokenizer=tokenizer_for(seqio.ByteVocabulary()))
