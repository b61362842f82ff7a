"""The seqio layer: registration, vocabulary setting, get_dataset for every registered task
on the fixtures (and on ../shared/data), sharding, mixture rates, metrics through
seqio.Evaluator. Skipped without seqio."""
from __future__ import annotations

import collections
import json
from pathlib import Path

import pytest

seqio = pytest.importorskip("seqio")
tf = pytest.importorskip("tensorflow")

import symjax.tasks as T  # noqa: E402
from symjax.errors import ConfigError, MissingDataError, VocabularyError  # noqa: E402
from symjax.tasks import registry, settings  # noqa: E402
from symjax.tasks.sources import SqlExecutionSource  # noqa: E402

FIXTURES = Path(__file__).resolve().parent / "fixtures" / "benchmarks"
LENGTHS = {"inputs": 4096, "targets": 256}


@pytest.fixture(scope="module", autouse=True)
def byte_vocabulary_and_fixture_data(byte_tasks_on_fixture_data):
    """Every symjax task on seqio.ByteVocabulary and the fixture data directory (conftest)."""
    yield


def _texts(ds, key="targets_pretokenized"):
    return [x[key].decode() for x in ds.as_numpy_iterator()]


# ---------------------------------------------------------------------------- registry
def test_everything_is_registered_with_symjax_prefix():
    names = T.REGISTERED if not registry.is_registered() else registry.register_all()
    assert all(n.startswith("symjax_") for n in names)
    tasks = [n for n in seqio.TaskRegistry.names() if n.startswith("symjax_")]
    assert sum(n.startswith("symjax_wtq_template_") for n in tasks) == 10
    assert sum(n.startswith("symjax_sqa_template_") for n in tasks) == 10
    assert sum(n.startswith("symjax_wikisql_template_") for n in tasks) == 10
    assert sum(n.startswith("symjax_tabfact_template_") for n in tasks) == 10
    assert sum(n.startswith("symjax_svamp_template_") for n in tasks) == 17
    assert sum(n.startswith("symjax_bbh_") for n in tasks) == 27
    assert sum(n.startswith("symjax_mmlu_") for n in tasks) == 57
    # variants + 200k + demo + the miniature's SQL task
    assert sum(n.startswith("symjax_sql_execution_") for n in tasks) == 12 + 2 + 1
    assert sum(n.startswith("symjax_table_questions") for n in tasks) == 4  # 2 + the miniature's 2
    for name in ("symjax_sql_flan", "symjax_table_qa", "symjax_bbh", "symjax_mmlu", "symjax_eval",
                 "symjax_wtq_templates", "symjax_miniature_arm_a", "symjax_miniature_arm_b",
                 "symjax_miniature_eval"):
        assert name in seqio.MixtureRegistry.names()
    for name in tasks:
        task = seqio.get_mixture_or_task(name)
        assert task.metric_fns, name
        assert set(task.output_features) == {"inputs", "targets"}


def test_eval_task_names_are_checked():
    assert registry.eval_task_name("wtq", template=3) == "symjax_wtq_template_3"
    assert registry.eval_task_name("bbh", part="navigate") == "symjax_bbh_navigate"
    assert registry.eval_task_name("mmlu", part="anatomy") in seqio.TaskRegistry.names()
    with pytest.raises(ConfigError, match="templates 0..16"):
        registry.eval_task_name("svamp", template=17)
    with pytest.raises(ConfigError, match="'word_sorting'"):
        registry.eval_task_name("bbh", part="word_sort")
    with pytest.raises(ConfigError, match="use one of"):
        registry.eval_task_name("squad")


def test_register_all_is_idempotent():
    before = set(seqio.TaskRegistry.names())
    registry.register_all()
    assert set(seqio.TaskRegistry.names()) == before


def test_default_vocabulary_is_t5x_and_lazy(monkeypatch):
    monkeypatch.delenv("SYMJAX_VOCABULARY", raising=False)
    vocab = settings.vocabulary_from_spec("default")
    assert vocab == seqio.SentencePieceVocabulary("gs://t5-data/vocabs/cc_all.32000.100extra/sentencepiece.model")
    assert vocab._extra_ids == 0
    assert vocab._model is None  # nothing read yet: no network at import or registration


def test_vocabulary_setting_switches_every_task(monkeypatch):
    monkeypatch.setenv("SYMJAX_VOCABULARY", "default")
    T.set_vocabulary(None)  # back to the environment: the t5x SentencePiece model
    task = seqio.get_mixture_or_task("symjax_wtq_template_0")
    assert isinstance(task.output_features["targets"].vocabulary, seqio.SentencePieceVocabulary)
    monkeypatch.setenv("SYMJAX_VOCABULARY", "byte")
    T.set_vocabulary(None)
    for name in ("symjax_wtq_template_0", "symjax_sql_execution", "symjax_mmlu_anatomy"):
        vocab = seqio.get_mixture_or_task(name).output_features["inputs"].vocabulary
        assert isinstance(vocab, seqio.ByteVocabulary)
    assert isinstance(seqio.get_mixture_or_task("symjax_sql_flan").output_features["targets"].vocabulary,
                      seqio.ByteVocabulary)
    T.set_vocabulary(seqio.ByteVocabulary())
    with pytest.raises(VocabularyError, match="'byte'"):
        settings.vocabulary_from_spec("bytes")



def test_configure_sets_several_settings_and_registers_once(monkeypatch, tmp_path):
    calls = []
    real = registry.register_all
    monkeypatch.setattr(registry, "register_all", lambda: calls.append(1) or real())
    try:
        T.configure(vocabulary="byte", data_dir=tmp_path,
                    flan={"jsonl": str(tmp_path / "*.jsonl"), "rate": "1:2"})
        assert calls == [1]  # once for the three settings (each set_* alone re-registers)
        vocab = seqio.get_mixture_or_task("symjax_sql_execution").output_features["inputs"].vocabulary
        assert isinstance(vocab, seqio.ByteVocabulary)
        assert T.data_dir() == tmp_path
        assert settings.flan_source() == {"mixture": None, "jsonl": [str(tmp_path / "*.jsonl")], "rate": (1.0, 2.0)}
        with pytest.raises(ConfigError, match="mapping of set_flan_source"):
            T.configure(flan=str(tmp_path / "*.jsonl"))
        T.configure()  # nothing set, nothing re-registered
        assert calls == [1]
        T.set_flan_source(rate="1:1")  # a single setter still re-registers by itself
        assert calls == [1, 1]
    finally:
        T.configure(vocabulary=seqio.ByteVocabulary(), data_dir=FIXTURES, flan=None)
    assert calls == [1, 1, 1]
    assert settings.flan_source()["rate"] == (1.0, 3.0)

# ---------------------------------------------------------------------------- SQL execution
def test_sql_task_features_and_determinism():
    task = seqio.get_mixture_or_task("symjax_sql_execution")
    ds = task.get_dataset(LENGTHS, split="validation", shuffle=False).take(5)
    first = list(ds.as_numpy_iterator())
    assert set(first[0]) >= {"inputs", "targets", "inputs_pretokenized", "targets_pretokenized"}
    assert first[0]["inputs_pretokenized"].decode().startswith("Execute SQL on the table: SELECT")
    assert "\nheader: " in first[0]["inputs_pretokenized"].decode()  # indexed tables, as the eval prompts
    assert first[0]["targets"][-1] == 1  # EOS
    again = list(task.get_dataset(LENGTHS, split="validation", shuffle=False).take(5).as_numpy_iterator())
    assert [x["targets_pretokenized"] for x in first] == [x["targets_pretokenized"] for x in again]
    train = _texts(task.get_dataset(LENGTHS, split="train", shuffle=False).take(3), "inputs_pretokenized")
    assert set(train).isdisjoint(_texts(task.get_dataset(LENGTHS, split="validation", shuffle=False).take(3),
                                        "inputs_pretokenized"))


def test_sql_variants_use_their_style_and_instruction():
    task = seqio.get_mixture_or_task("symjax_sql_execution_markdown_result")
    x = next(task.get_dataset(LENGTHS, split="validation", shuffle=False).as_numpy_iterator())
    text = x["inputs_pretokenized"].decode()
    assert text.startswith("What is the result of this SQL query on the table?") and "\n| " in text


@pytest.fixture(scope="module")
def tiny_sql_task():
    name = "symjax_test_tiny_sql"
    if name in seqio.TaskRegistry.names():
        seqio.TaskRegistry.remove(name)
    task = registry.register_sql_execution_task(name, eval_blocks=3, train_blocks=4, num_shards=2)
    yield task
    seqio.TaskRegistry.remove(name)


def test_validation_is_finite_and_shards_are_disjoint(tiny_sql_task):
    full = _texts(tiny_sql_task.get_dataset(LENGTHS, split="validation", shuffle=False), "inputs_pretokenized")
    assert 0 < len(full) <= 3 * 16
    parts = []
    for i in range(3):
        shard = seqio.ShardInfo(index=i, num_shards=3)
        parts.append(_texts(tiny_sql_task.get_dataset(LENGTHS, split="validation", shuffle=False,
                                                      shard_info=shard), "inputs_pretokenized"))
    assert sum(len(p) for p in parts) == len(full)
    assert collections.Counter(x for p in parts for x in p) == collections.Counter(full)
    assert all(p for p in parts)  # every host did part of the work
    assert tiny_sql_task.source.list_shards("train") == ["train-00000-of-00002", "train-00001-of-00002"]
    assert tiny_sql_task.supports_caching


def test_infinite_train_is_not_cacheable():
    source = seqio.get_mixture_or_task("symjax_sql_execution").source
    assert source.blocks("train") is None and not source.caching_permitted
    assert source.supports_arbitrary_sharding
    with pytest.raises(ConfigError):
        SqlExecutionSource(seed=-1)


def test_sql_metrics_via_evaluator(tiny_sql_task):
    _assert_evaluator_scores_targets_perfectly(tiny_sql_task.name, "validation", "exact_match")


# ---------------------------------------------------------------------------- eval tasks
def _assert_evaluator_scores_targets_perfectly(name, split, metric):
    """seqio.Evaluator with a 'model' that predicts the targets: metric_fns and
    postprocess_fn are wired, so the score is 100."""
    evaluator = seqio.Evaluator(
        mixture_or_task_name=name, feature_converter=seqio.EncDecFeatureConverter(pack=False),
        eval_split=split, sequence_length=LENGTHS,
    )

    def predict_fn(ds):
        return [(i, ex["decoder_target_tokens"].tolist()) for i, ex in ds.as_numpy_iterator()]

    result = evaluator.evaluate(compute_metrics=True, predict_fn=predict_fn)
    all_metrics = result[0].result() if hasattr(result[0], "result") else result[0]
    for task_name, values in all_metrics.items():
        value = values[metric]
        value = getattr(value, "value", value)
        assert value == pytest.approx(100.0), (task_name, values)


@pytest.mark.parametrize("bench", ["wtq", "sqa", "wikisql", "tabfact", "svamp"])
def test_every_template_task_reads_the_fixtures(bench):
    n = 17 if bench == "svamp" else 10
    split = "test"
    expected = None
    for k in range(n):
        task = seqio.get_mixture_or_task(f"symjax_{bench}_template_{k}")
        ds = task.get_dataset(LENGTHS, split=split, shuffle=False)
        examples = list(ds.as_numpy_iterator())
        ids = [x["id"].decode() for x in examples]
        expected = expected or ids
        assert ids == expected and ids
        json.loads(examples[0]["gold"].decode())
        assert examples[0]["targets"][-1] == 1


@pytest.mark.parametrize("bench", ["wtq", "tabfact", "wikisql", "sqa"])
def test_eval_metrics_through_seqio_evaluator(bench):
    _assert_evaluator_scores_targets_perfectly(f"symjax_{bench}_template_0", "test", "official_accuracy")


def test_bbh_and_mmlu_tasks():
    present = {"boolean_expressions", "date_understanding"}
    for name in (n for n in seqio.TaskRegistry.names() if n.startswith("symjax_bbh_")):
        task = seqio.get_mixture_or_task(name)
        if name[len("symjax_bbh_"):] in present:
            assert len(list(task.get_dataset(LENGTHS, split="test", shuffle=False).as_numpy_iterator())) in (2, 3)
        else:
            with pytest.raises(MissingDataError, match="cot-prompts|bbh/"):
                task.get_dataset(LENGTHS, split="test", shuffle=False)
    for name in (n for n in seqio.TaskRegistry.names() if n.startswith("symjax_mmlu_")):
        task = seqio.get_mixture_or_task(name)
        if name in ("symjax_mmlu_anatomy", "symjax_mmlu_virology"):
            for split in ("validation", "test"):
                assert list(task.get_dataset(LENGTHS, split=split, shuffle=False).as_numpy_iterator())
        else:
            with pytest.raises(MissingDataError, match="_dev.csv"):
                task.get_dataset(LENGTHS, split="test", shuffle=False)
    _assert_evaluator_scores_targets_perfectly("symjax_mmlu_anatomy", "test", "micro_accuracy")
    _assert_evaluator_scores_targets_perfectly("symjax_bbh_date_understanding", "test", "exact_match")


def test_eval_sharding_splits_examples():
    task = seqio.get_mixture_or_task("symjax_wtq_template_0")
    ids = [[x["id"].decode() for x in task.get_dataset(LENGTHS, split="test", shuffle=False,
                                                       shard_info=seqio.ShardInfo(i, 2)).as_numpy_iterator()]
           for i in range(2)]
    assert sorted(ids[0] + ids[1]) == [f"nu-{i}" for i in range(6)] and ids[0] and ids[1]


def test_missing_data_directory_is_explained(tmp_path, monkeypatch):
    monkeypatch.delenv("SYMJAX_DATA_DIR", raising=False)
    T.set_data_dir(None)
    try:
        task = seqio.get_mixture_or_task("symjax_wtq_template_0")
        with pytest.raises(MissingDataError, match="SYMJAX_DATA_DIR"):
            task.get_dataset(LENGTHS, split="test")
        T.set_data_dir(tmp_path)
        with pytest.raises(MissingDataError, match="github.com/ppasupat/WikiTableQuestions"):
            task.get_dataset(LENGTHS, split="test")
    finally:
        T.set_data_dir(FIXTURES)


def test_real_wtq_sample_through_seqio(shared_data):
    T.set_data_dir(shared_data / "wtq", benchmark="wtq")
    T.set_split_files("wtq", test="pristine-seen-tables.sample")
    try:
        task = seqio.get_mixture_or_task("symjax_wtq_template_3")
        ds = task.get_dataset(LENGTHS, split="test", shuffle=False)
        examples = list(ds.as_numpy_iterator())
        assert len(examples) == 300
        assert examples[0]["inputs_pretokenized"].decode().startswith(
            "Answer the question how long did grand blanc high school participate for? based on the following table: header:")
        _assert_evaluator_scores_targets_perfectly("symjax_wtq_template_3", "test", "official_accuracy")
    finally:
        T.set_data_dir(None, benchmark="wtq")
        T.set_split_files("wtq", test="pristine-unseen-tables")


def test_real_tabfact_sample_through_seqio(shared_data):
    T.set_data_dir(shared_data / "tabfact", benchmark="tabfact")
    T.set_split_files("tabfact", validation="val_examples.sample")
    try:
        task = seqio.get_mixture_or_task("symjax_tabfact_template_5")
        n = sum(1 for _ in task.get_dataset(LENGTHS, split="validation", shuffle=False))
        assert n > 100
    finally:
        T.set_data_dir(None, benchmark="tabfact")
        T.set_split_files("tabfact", validation="val")


# ---------------------------------------------------------------------------- mixtures
def test_prompt_selection_drives_the_eval_mixtures(tmp_path):
    path = tmp_path / "selection.json"
    path.write_text(json.dumps({"wtq": 3, "tabfact": 9}))
    T.set_prompt_selection(path)
    try:
        names = [t.name for t in seqio.get_mixture_or_task("symjax_table_qa").tasks]
        assert "symjax_wtq_template_3" in names and "symjax_tabfact_template_9" in names
        assert "symjax_sqa_template_0" in names
    finally:
        T.set_prompt_selection(None)
    names = [t.name for t in seqio.get_mixture_or_task("symjax_table_qa").tasks]
    assert "symjax_wtq_template_0" in names


def test_sql_flan_mixture_rate(tmp_path):
    flan = tmp_path / "flan.jsonl"
    flan.write_text("".join(json.dumps({"inputs": f"FLAN question {i}", "targets": f"a{i}"}) + "\n"
                            for i in range(50)))
    T.set_flan_source(jsonl=str(flan))
    try:
        mixture = seqio.get_mixture_or_task("symjax_sql_flan")
        rates = {t.name: mixture.get_rate(t) for t in mixture.tasks}
        assert rates == {"symjax_sql_execution": 1.0, "symjax_flan_jsonl": 3.0}
        ds = mixture.get_dataset(LENGTHS, split="train", shuffle=False, seed=7, copy_pretokenized=True)
        inputs = [x["inputs_pretokenized"].decode() for x in ds.take(400).as_numpy_iterator()]
        share = sum(s.startswith("FLAN question") for s in inputs) / len(inputs)
        assert 0.68 < share < 0.82  # 3 / (1 + 3) = 0.75
        T.set_flan_source(jsonl=str(flan), rate="1:1")
        mixture = seqio.get_mixture_or_task("symjax_sql_flan")
        assert {mixture.get_rate(t) for t in mixture.tasks} == {1.0}
        T.set_flan_source(mixture="symjax_bbh")
        names = [t.name for t in seqio.get_mixture_or_task("symjax_sql_flan").tasks]
        assert "symjax_bbh_navigate" in names and "symjax_sql_execution" in names
    finally:
        T.set_flan_source(jsonl=None)
    with pytest.raises(ConfigError, match="not both"):
        T.set_flan_source(mixture="x", jsonl="y")


def test_flan_jsonl_without_files_is_explained():
    task = seqio.get_mixture_or_task("symjax_flan_jsonl")
    with pytest.raises(MissingDataError, match="SYMJAX_FLAN_JSONL"):
        task.get_dataset(LENGTHS, split="train")
