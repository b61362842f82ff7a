"""The seqio boundary is token-true: every task fits its examples to the lengths it is
asked for, with its own vocabulary, before anything is executed or scored, so seqio's
trimming never cuts anything. Checked per source family (SQL execution, the table
benchmarks, BBH/MMLU/SVAMP, FLAN JSONL) with seqio's ByteVocabulary and with a small
SentencePiece model trained here (never downloaded)."""
from __future__ import annotations

import itertools
import json
import logging
from pathlib import Path

import numpy as np
import pytest

seqio = pytest.importorskip("seqio")
tf = pytest.importorskip("tensorflow")
spm = pytest.importorskip("sentencepiece")

import symjax.sql as sql  # noqa: E402
import symjax.tasks as T  # noqa: E402
from symjax.errors import ConfigError, VocabularyError  # noqa: E402
from symjax.tasks import preprocessors, registry  # noqa: E402
from symjax.tasks.tokenizers import SentencePieceTokenizer, tokenizer_for  # noqa: E402

FIXTURES = Path(__file__).resolve().parent / "fixtures" / "benchmarks"


@pytest.fixture(scope="module")
def spm_path(tmp_path_factory):
    """A 700-piece unigram SentencePiece model (spm_train's defaults: nmt_nfkc, dummy
    prefix; T5's special ids) trained on SQL-execution prompts and benchmark text."""
    texts = [e.inputs + "\n" + e.targets for e in itertools.islice(
        sql.examples(5, config=sql.StreamConfig(table_style="indexed")), 1500)]
    for path in sorted(FIXTURES.rglob("*")):
        if path.is_file() and path.suffix in (".tsv", ".csv", ".json", ".jsonl", ".txt", ".tagged"):
            texts.extend(path.read_text(encoding="utf-8", errors="replace").splitlines())
    prefix = tmp_path_factory.mktemp("spm") / "sql"
    spm.SentencePieceTrainer.train(sentence_iterator=iter(texts), model_prefix=str(prefix), vocab_size=700,
                                   model_type="unigram", character_coverage=1.0, minloglevel=2,
                                   pad_id=0, eos_id=1, unk_id=2, bos_id=-1)  # T5's special ids
    return str(prefix) + ".model"


@pytest.fixture(scope="module", params=["byte", "spm"])
def vocabulary(request, spm_path):
    """Every symjax task on this vocabulary, reading the fixture benchmarks."""
    vocab = seqio.ByteVocabulary() if request.param == "byte" else seqio.SentencePieceVocabulary(spm_path)
    T.set_vocabulary(vocab)
    T.set_data_dir(FIXTURES)
    yield vocab
    T.set_data_dir(None)
    T.set_vocabulary(None)


def _checked(name, lengths, split, vocab, *, limit=None):
    """The task's examples built without seqio's trimming; fails if any would be cut, and
    if any token sequence is not exactly the vocabulary's encoding of its text plus EOS."""
    task = seqio.get_mixture_or_task(name)
    ds = task.get_dataset(lengths, split=split, shuffle=False, trim_output_features=False)
    n = preprocessors.check_lengths(ds, lengths, name=name, limit=limit)
    assert n > 0, name
    out = list(itertools.islice(ds.as_numpy_iterator(), limit))
    for ex in out[:200]:
        for key in ("inputs", "targets"):
            text = ex[key + "_pretokenized"].decode()
            assert list(ex[key]) == list(vocab.encode(text)) + [1], (name, key, text[:80])
    return out


# ---------------------------------------------------------------------------- SQL execution
@pytest.mark.parametrize("name", ["symjax_sql_execution", "symjax_sql_execution_tapex_run",
                                  "symjax_sql_execution_markdown_answer"])
@pytest.mark.parametrize("lengths", [{"inputs": 512, "targets": 64}, {"inputs": 192, "targets": 12}])
def test_sql_tasks_fit_and_nothing_is_cut(vocabulary, name, lengths):
    out = _checked(name, lengths, "validation", vocabulary)
    # queries that do not fit are left out, not cut: most fit at 512, few at 192
    assert len(out) > (100 if lengths["inputs"] >= 512 else 10)


def test_sql_answers_are_computed_on_the_table_the_model_sees(vocabulary):
    lengths = {"inputs": 384, "targets": 32}
    source = seqio.get_mixture_or_task("symjax_sql_execution").source
    tokenizer = tokenizer_for(vocabulary)
    seen = 0
    for ex in itertools.islice(source.python_examples("validation", lengths=lengths), 300):
        table_text = sql.linearize(ex.table, style="indexed")
        assert ex.inputs.endswith("\n" + table_text)
        assert tokenizer.count(ex.inputs) <= lengths["inputs"] - 1
        assert tokenizer.count(ex.targets) <= lengths["targets"] - 1
        got = sql.execute(ex.sql, ex.table)
        assert sql.answer_text(got) == ex.targets
        seen += 1
    assert seen == 300
    # the dataset holds exactly these examples
    task = seqio.get_mixture_or_task("symjax_sql_execution")
    ds = task.get_dataset(lengths, split="validation", shuffle=False)
    texts = [x["inputs_pretokenized"].decode() for x in itertools.islice(ds.as_numpy_iterator(), 300)]
    assert texts == [e.inputs for e in itertools.islice(source.python_examples("validation", lengths=lengths), 300)]


def test_sql_targets_that_cannot_fit_are_left_out_not_cut(vocabulary):
    task = seqio.get_mixture_or_task("symjax_sql_execution")
    short = {"inputs": 512, "targets": 3}
    out = _checked("symjax_sql_execution", short, "validation", vocabulary)
    wide = list(task.get_dataset({"inputs": 512, "targets": 64}, split="validation", shuffle=False)
                .as_numpy_iterator())
    assert len(out) < len(wide)
    kept = {x["targets_pretokenized"] for x in out}
    assert all(len(vocabulary.encode(t.decode())) <= 2 for t in kept)


def test_without_a_length_the_character_budget_applies(vocabulary):
    task = seqio.get_mixture_or_task("symjax_sql_execution")
    out = list(itertools.islice(task.get_dataset(None, split="validation", shuffle=False).as_numpy_iterator(), 50))
    assert all(len(x["inputs_pretokenized"].decode()) <= sql.StreamConfig().max_input_chars for x in out)
    assert all(x["inputs"][-1] == 1 for x in out)


def test_the_demo_task_fits_the_main_jobs_lengths(vocabulary):
    _checked("symjax_sql_execution_demo", {"inputs": 200, "targets": 16}, "validation", vocabulary)


def test_a_cached_task_is_fitted_before_the_cache_and_refuses_shorter_lengths(vocabulary):
    name = "symjax_test_cached_sql"
    if name in seqio.TaskRegistry.names():
        seqio.TaskRegistry.remove(name)
    try:
        task = registry.register_sql_execution_task(name, train_blocks=3, eval_blocks=2,
                                                    cache_lengths={"inputs": 384, "targets": 32})
        _checked(name, {"inputs": 384, "targets": 32}, "train", vocabulary)
        _checked(name, {"inputs": 1024, "targets": 64}, "train", vocabulary)
        with pytest.raises(ConfigError, match="fitted to .*384.*before seqio's cache"):
            task.get_dataset({"inputs": 256, "targets": 32}, split="train")
    finally:
        seqio.TaskRegistry.remove(name)
    with pytest.raises(ConfigError, match="train_blocks"):
        registry.register_sql_execution_task("symjax_test_x", cache_lengths={"inputs": 8, "targets": 8})


def test_the_source_is_block_numbers_and_tf_data_can_save_its_position(vocabulary, tmp_path):
    task = seqio.get_mixture_or_task("symjax_sql_execution")
    assert task.source.get_dataset("train").element_spec["block"].dtype == tf.int64
    lengths = {"inputs": 256, "targets": 32}

    def make():
        ds = task.get_dataset(lengths, split="train", shuffle=True, seed=3)
        return ds.map(lambda x: {"inputs": x["inputs"], "targets": x["targets"]}).padded_batch(
            4, padded_shapes={"inputs": [256], "targets": [32]})

    it = iter(make())
    for _ in range(30):
        next(it)
    prefix = tf.train.Checkpoint(iterator=it).write(str(tmp_path / "data"))
    want = [next(it)["inputs"].numpy() for _ in range(5)]
    again = iter(make())
    tf.train.Checkpoint(iterator=again).read(prefix).assert_consumed()
    got = [next(again)["inputs"].numpy() for _ in range(5)]
    assert all((a == b).all() for a, b in zip(want, got))


# ---------------------------------------------------------------------------- benchmarks
@pytest.mark.parametrize("name, split", [
    ("symjax_wtq_template_0", "test"), ("symjax_wtq_template_4", "test"),  # question last
    ("symjax_sqa_template_2", "test"), ("symjax_wikisql_template_1", "test"),
    ("symjax_tabfact_template_0", "test"), ("symjax_svamp_template_3", "test"),
    ("symjax_bbh_boolean_expressions", "test"), ("symjax_mmlu_anatomy", "test"),
])
def test_benchmark_tasks_fit_and_nothing_is_cut(vocabulary, name, split):
    lengths = {"inputs": 640, "targets": 64}
    out = _checked(name, lengths, split, vocabulary)
    for ex in out:
        text = ex["inputs_pretokenized"].decode()
        gold = json.loads(ex["gold"])
        if "wtq" in name or "sqa" in name or "tabfact" in name or "wikisql" in name:
            assert "header:" in text  # the table is cut, never dropped entirely
        assert gold is not None


def test_benchmark_questions_are_never_cut(vocabulary):
    """WTQ template 4 puts the question last: with a long table it is the table that is cut."""
    from symjax.sql import read_table  # noqa: F401  (the reader below parses the tables)
    from symjax.tasks.table_qa import read_wtq

    questions = {q.id: q for q in read_wtq(FIXTURES / "wtq", "pristine-unseen-tables")}
    budget = 256 if isinstance(vocabulary, seqio.ByteVocabulary) else 110  # about the same text
    out = _checked("symjax_wtq_template_4", {"inputs": budget, "targets": 64}, "test", vocabulary)
    assert out
    cut = 0
    for ex in out:
        text = ex["inputs_pretokenized"].decode()
        q = questions[ex["id"].decode()]
        assert text.rstrip().endswith(q.question.rstrip()) or q.question in text
        cut += text.count("\nrow ") < q.table.num_rows
    assert cut  # at this length some tables were cut, and their questions kept whole


def test_examples_that_cannot_fit_are_counted_and_reported(vocabulary, caplog):
    lengths = {"inputs": 24, "targets": 64}
    task = seqio.get_mixture_or_task("symjax_wtq_template_0")
    with caplog.at_level(logging.WARNING, logger="symjax.tasks.sources"):
        out = list(task.get_dataset(lengths, split="test", shuffle=False).as_numpy_iterator())
    unfit = task.source.unfit("test", lengths)
    total = len(task.source.fitted_examples("test", None, tokenizer_for(vocabulary)))
    assert len(unfit) + len(out) == total and unfit
    assert all(reason for _, reason in unfit)
    assert any("cannot fit" in r.message and "left out" in r.message for r in caplog.records)
    # and the zero-shot eval reports the count next to the task's metrics
    from symjax.train import zero_shot

    assert zero_shot._left_out("symjax_wtq_template_0", "test", lengths) == len(unfit)
    assert zero_shot._left_out("symjax_sql_execution", "validation", lengths) is None


def test_bbh_and_mmlu_drop_shots_before_they_give_up(vocabulary):
    tokenizer = tokenizer_for(vocabulary)
    for name, key in (("symjax_mmlu_anatomy", "shots"), ("symjax_bbh_boolean_expressions", "shots")):
        task = seqio.get_mixture_or_task(name)
        full = task.source.fitted_examples("test", {"inputs": 8192, "targets": 64}, tokenizer)
        longest = max(tokenizer.count(r.inputs) for r in full)
        tight = task.source.fitted_examples("test", {"inputs": longest // 2, "targets": 64}, tokenizer)
        assert any(r.gold[key] < max(f.gold[key] for f in full) for r in tight), name
        assert all(tokenizer.count(r.inputs) < longest // 2 for r in tight)


# ---------------------------------------------------------------------------- FLAN JSONL
def test_flan_jsonl_fits_by_leaving_out_what_is_too_long(vocabulary, tmp_path):
    flan = tmp_path / "flan.jsonl"
    rows = [{"inputs": "Q" * (10 + 40 * (i % 5)), "targets": f"a{i}"} for i in range(40)]
    flan.write_text("".join(json.dumps(r) + "\n" for r in rows) + "\n")
    T.set_flan_source(jsonl=str(flan))
    try:
        out = _checked("symjax_flan_jsonl", {"inputs": 100, "targets": 8}, "train", vocabulary)
        assert 0 < len(out) < 40
        bad = tmp_path / "bad.jsonl"
        bad.write_text('{"inputs": "x", "targets": "y"}\nnot json\n')
        T.set_flan_source(jsonl=str(bad))
        task = seqio.get_mixture_or_task("symjax_flan_jsonl")
        with pytest.raises(tf.errors.OpError, match=r"bad.jsonl, line 2"):
            list(task.get_dataset({"inputs": 100, "targets": 8}, split="train", shuffle=False).as_numpy_iterator())
    finally:
        T.set_flan_source(jsonl=None)


# ---------------------------------------------------------------------------- tokenizers
def test_tokenizers_give_the_vocabularys_ids(vocabulary):
    tokenizer = tokenizer_for(vocabulary)
    assert tokenizer_for(vocabulary) is tokenizer
    texts = ["Execute SQL on the table: SELECT 1", "", "Größe | naïve ✓", "a  b\n c"]
    ids, lengths = tokenizer.encode(texts)
    assert [list(p) for p in np.split(ids, np.cumsum(lengths)[:-1])] == [list(vocabulary.encode(t)) for t in texts]
    assert [tokenizer.count(t) for t in texts] == list(lengths)


def test_the_sentencepiece_joiner_is_checked_on_the_model(spm_path):
    tokenizer = SentencePieceTokenizer(seqio.SentencePieceVocabulary(spm_path))
    assert tokenizer.joiner("\n") is not None and len(tokenizer.joiner("\n")) == 0
    assert tokenizer.joiner("|") is None


def test_an_unreadable_vocabulary_is_a_typed_error_naming_the_offline_choices():
    for path in ("/nonexistent/dir/sentencepiece.model", "gs://symjax-no-such-bucket-0/vocab/none.model"):
        T.set_vocabulary(seqio.SentencePieceVocabulary(path))
        task = seqio.get_mixture_or_task("symjax_sql_execution")
        try:
            with pytest.raises(VocabularyError, match="SYMJAX_VOCABULARY=byte") as info:
                task.get_dataset({"inputs": 64, "targets": 8}, split="validation")
            assert path in str(info.value)
        finally:
            T.set_vocabulary(None)


# ---------------------------------------------------------------------------- files
def test_generated_files_fitted_to_lengths_read_back_as_a_seqio_task_whole(tmp_path):
    """tools/generate_sql_data.py --inputs_length/--targets_length, registered as the README
    shows (seqio.TFExampleDataSource), is read at those lengths without any cut."""
    import subprocess
    import sys

    repo = Path(__file__).resolve().parents[1]
    out = tmp_path / "sql"
    proc = subprocess.run(
        [sys.executable, "tools/generate_sql_data.py", "--num_examples=300", f"--output={out}",
         "--format=tfrecord", "--num_shards=2", "--inputs_length=320", "--targets_length=32"],
        cwd=repo, capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stderr[-2000:]
    name = "symjax_test_sql_files"
    if name in seqio.TaskRegistry.names():
        seqio.TaskRegistry.remove(name)
    string = tf.io.FixedLenFeature([], tf.string)
    seqio.TaskRegistry.add(
        name,
        source=seqio.TFExampleDataSource(
            {"train": str(out) + "-*-of-00002.tfrecord"},
            feature_description={"inputs": string, "targets": string, "sql": string, "family": string,
                                 "table": string, "answer": tf.io.RaggedFeature(tf.string)}),
        preprocessors=[seqio.preprocessors.tokenize, seqio.preprocessors.append_eos_after_trim],
        output_features=registry.output_features(seqio.ByteVocabulary()))
    try:
        lengths = {"inputs": 320, "targets": 32}
        ds = seqio.get_mixture_or_task(name).get_dataset(lengths, split="train", shuffle=False,
                                                         trim_output_features=False)
        assert preprocessors.check_lengths(ds, lengths, name=name) == 300
    finally:
        seqio.TaskRegistry.remove(name)


def test_offline_default_vocabulary_stops_the_trainer_with_a_typed_error():
    from symjax.train import data

    with pytest.raises(VocabularyError, match="SYMJAX_VOCABULARY=byte"):
        data.check_vocabularies(name="symjax_sql_execution", model_vocab_size=32128,
                                vocabulary=seqio.SentencePieceVocabulary("/nonexistent/spm.model"))
