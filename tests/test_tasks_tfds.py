"""WTQ through the TFDS builder ``wiki_table_questions``: the ``symjax_wtq_tfds_template_<k>``
tasks on data mocked with ``tfds.testing.mock_data`` (examples built from the WTQ fixture
files the way the builder builds them), prompts equal to the raw-file tasks', metrics
through seqio.Evaluator, and the typed error for an unprepared dataset. Skipped without
seqio or tensorflow_datasets."""
from __future__ import annotations

import contextlib
import csv
import io
import os
from pathlib import Path

import numpy as np
import pytest

seqio = pytest.importorskip("seqio")
tfds = pytest.importorskip("tensorflow_datasets")
tf = pytest.importorskip("tensorflow")

import symjax.tasks as T  # noqa: E402
from symjax.errors import DataError, MissingDataError  # noqa: E402
from symjax.tasks import metrics, registry, settings  # noqa: E402
from symjax.tasks.prompts import num_templates  # noqa: E402
from symjax.tasks.table_qa import read_wtq_tfds, wtq_tfds_question, wtq_tfds_table  # noqa: E402

FIXTURES = Path(__file__).resolve().parent / "fixtures" / "benchmarks"
LENGTHS = {"inputs": 8192, "targets": 256}  # long enough that few tables are cut (ids seed the cut)
RAW_STEMS = {"test": "pristine-unseen-tables", "split-1-dev": "random-split-1-dev"}


@pytest.fixture(scope="module", autouse=True)
def byte_vocabulary_and_fixture_data(byte_tasks_on_fixture_data):
    """The conftest settings, and the TFDS data directory reset afterwards."""
    yield
    settings.set_tfds_data_dir(None)


# ---------------------------------------------------------------------------- fake TFDS data
def _cells(header, rows):
    """The builder's ``input_text/table`` of a header and rows: one entry per cell."""
    out = {"column_header": [], "row_number": [], "content": []}
    for r, row in enumerate(rows):
        for h, v in zip(header, row):
            out["column_header"].append(h)
            out["row_number"].append(r)
            out["content"].append(v)
    return out


def _examples_from_raw(root: Path, stem: str) -> list[dict]:
    """TFDS-shaped examples of a raw WTQ split, read as the builder reads them: tables with
    ``csv.DictReader`` with backslash escapes (so repeated headers collapse),
    ``target_text`` the raw targetValue. (The builder reads the question TSV with csv's
    default quoting, which mangles a targetValue that starts with a double quote; here the
    TSV is read without quoting so that the questions line up with the raw files.)"""
    out = []
    tsv = next(p for p in (root / "data" / f"{stem}.tsv", root / f"{stem}.tsv") if p.is_file())
    with open(tsv, encoding="utf-8", newline="") as f:
        for q in csv.DictReader(f, delimiter="\t", quoting=csv.QUOTE_NONE):
            text = (root / q["context"]).read_text(encoding="utf-8")
            dict_rows = list(csv.DictReader(io.StringIO(text, newline=""), delimiter=",", quotechar='"',
                                            escapechar="\\"))
            header = list(dict_rows[0])
            out.append({
                "input_text": {"table": _cells(header, [[d[h] for h in header] for d in dict_rows]),
                               "context": q["utterance"]},
                "target_text": q["targetValue"],
            })
    return out


# A table with an empty and a repeated header (possible in a TFDS dataset built by other
# means), rows given out of order, and escaped answers (\p is "|", \n a newline).
HANDMADE = {
    "input_text": {
        "table": {
            "column_header": ["Year", "", "Year", "Year", "", "Year"],
            "row_number": [1, 1, 1, 0, 0, 0],
            "content": ["1999", "b", "Rome", "1998", "a", "Oslo"],
        },
        "context": "which cities hosted?",
    },
    "target_text": "Oslo|Ro\\pme",
}


def _to_numpy(ex: dict) -> dict:
    t = ex["input_text"]["table"]
    return {
        "input_text": {
            "table": {
                "column_header": np.array(t["column_header"], dtype=object),
                "row_number": np.array(t["row_number"], dtype=np.int16),
                "content": np.array(t["content"], dtype=object),
            },
            "context": ex["input_text"]["context"],
        },
        "target_text": ex["target_text"],
    }


@contextlib.contextmanager
def mocked_wtq(by_split: dict[str, list[dict]]):
    """``tfds.load("wiki_table_questions", split=s)`` yields ``by_split[s]``."""
    seen = []

    def as_dataset(self, split, **kwargs):
        del kwargs
        name = str(split)
        seen.append(name)
        examples = [_to_numpy(ex) for ex in by_split[name]]
        return tf.data.Dataset.from_generator(
            lambda: iter(examples), output_signature=self.info.features.get_tensor_spec()
        )

    with tfds.testing.mock_data(as_dataset_fn=as_dataset, policy=tfds.testing.MockPolicy.USE_CODE):
        yield seen


@pytest.fixture(scope="module")
def fixture_splits():
    root = FIXTURES / "wtq"
    return {split: _examples_from_raw(root, stem) for split, stem in RAW_STEMS.items()}


def _numpy_examples(task_name, split):
    task = seqio.get_mixture_or_task(task_name)
    return list(task.get_dataset(LENGTHS, split=split, shuffle=False).as_numpy_iterator())


def _assert_evaluator_scores_targets_perfectly(name, split, keys):
    evaluator = seqio.Evaluator(
        mixture_or_task_name=name, feature_converter=seqio.EncDecFeatureConverter(pack=False),
        eval_split=split, sequence_length=LENGTHS,
    )

    def predict_fn(ds):
        return [(i, ex["decoder_target_tokens"].tolist()) for i, ex in ds.as_numpy_iterator()]

    result = evaluator.evaluate(compute_metrics=True, predict_fn=predict_fn)
    all_metrics = result[0].result() if hasattr(result[0], "result") else result[0]
    assert all_metrics
    for task_name, values in all_metrics.items():
        for key in keys:
            value = getattr(values[key], "value", values[key])
            assert value == pytest.approx(100.0), (task_name, key, values)


# ---------------------------------------------------------------------------- registration
def test_tfds_tasks_are_registered_without_touching_data(tmp_path, monkeypatch):
    missing = tmp_path / "no-such-dir"
    monkeypatch.setenv("SYMJAX_TFDS_DATA_DIR", str(missing))
    registry.register_all()
    n = num_templates("wtq")
    names = [f"symjax_wtq_tfds_template_{k}" for k in range(n)]
    assert all(name in seqio.TaskRegistry.names() for name in names)
    assert "symjax_wtq_tfds_templates" in seqio.MixtureRegistry.names()
    for name in names:
        task = seqio.get_mixture_or_task(name)
        assert task.metric_fns and set(task.output_features) == {"inputs", "targets"}
        assert task.source.splits == ("validation", "test")
    assert not missing.exists()  # nothing created, nothing downloaded
    assert settings.tfds_data_dir() == str(missing)
    settings.set_tfds_data_dir(tmp_path)
    assert settings.tfds_data_dir() == str(tmp_path)  # the setting beats the variable
    settings.set_tfds_data_dir(None)
    assert settings.tfds_split("validation") == "split-1-dev" and settings.tfds_split("test") == "test"


# ---------------------------------------------------------------------------- table rebuild
def test_table_is_rebuilt_from_cells_with_deduplicated_header():
    q = wtq_tfds_question(_to_numpy(HANDMADE), "test-0")
    assert q.table.header == ("Year", "column_2", "Year_2")
    assert q.table.num_rows == 2
    assert [[q.table.cell_text(i, j) for j in range(3)] for i in range(2)] == [["1998", "a", "Oslo"],
                                                                                ["1999", "b", "Rome"]]
    assert q.answers == ["Oslo", "Ro|me"] and q.target == "Oslo, Ro|me"
    assert q.question == "which cities hosted?" and q.gold == {"answers": ["Oslo", "Ro|me"], "canon": None}
    # a list of cell dicts works too; ragged cell lists are a DataError
    t = HANDMADE["input_text"]["table"]
    cells = [dict(zip(t, v)) for v in zip(*t.values())]
    again = wtq_tfds_question({"input_text": {"table": cells, "context": "q"}, "target_text": "x"}, "i")
    assert again.table.header == q.table.header
    with pytest.raises(DataError, match="parallel"):
        wtq_tfds_table(["a", "b"], [0], ["1", "2"])
    with pytest.raises(DataError, match="no cells"):
        wtq_tfds_table([], [], [], where="example x")


# ---------------------------------------------------------------------------- tasks on mocked data
def test_tfds_tasks_match_the_raw_file_tasks(fixture_splits):
    """Same questions, same tables: every template's prompts and targets equal the raw
    tasks' (ids differ: TFDS has none)."""
    with mocked_wtq(fixture_splits) as seen:
        for k in (0, 3, num_templates("wtq") - 1):
            for split in ("test", "validation"):
                got = _numpy_examples(f"symjax_wtq_tfds_template_{k}", split)
                raw = _numpy_examples(f"symjax_wtq_template_{k}", split)
                assert len(got) == len(raw) > 0
                for g, r in zip(got, raw):
                    assert g["inputs_pretokenized"] == r["inputs_pretokenized"]
                    assert g["targets_pretokenized"] == r["targets_pretokenized"]
                    assert g["targets"][-1] == 1
                ids = [x["id"].decode() for x in got]
                assert ids == [f"{settings.tfds_split(split)}-{i}" for i in range(len(got))]
    assert set(seen) == {"test", "split-1-dev"}


def test_inputs_hold_table_and_question_and_targets_are_unescaped(fixture_splits):
    data = {"test": fixture_splits["test"] + [HANDMADE]}
    with mocked_wtq(data):
        examples = _numpy_examples("symjax_wtq_tfds_template_0", "test")
    assert len(examples) == 7
    first = examples[0]["inputs_pretokenized"].decode()
    assert "which nation won the most gold medals?" in first
    for text in ("Rank", "Nation", "United States", "Washington, D.C.", "France (FRA)", "1,213"):
        assert text in first
    targets = [x["targets_pretokenized"].decode() for x in examples]
    assert targets[:6] == ["United States", "1,204", "France (FRA), Greece", "9 February 2013", "30,512 people",
                           "Washington, D.C."]
    assert targets[6] == "Oslo, Ro|me"
    last = examples[6]["inputs_pretokenized"].decode()
    assert "which cities hosted?" in last
    for text in ("Year", "column_2", "Year_2", "Oslo", "Rome", "1998", "1999"):
        assert text in last
    assert last.index("Oslo") < last.index("Rome")  # rows ordered by row_number


def test_metrics_through_seqio_evaluator(fixture_splits):
    with mocked_wtq({"test": fixture_splits["test"] + [HANDMADE]}):
        _assert_evaluator_scores_targets_perfectly(
            "symjax_wtq_tfds_template_0", "test", ("denotation_accuracy", "official_accuracy_no_canon")
        )


def test_tfds_metric_ignores_target_canon():
    gold = {"answers": ["2 inches"], "canon": ["2.0"]}
    assert metrics.wtq_metrics([gold], ["2"])["official_accuracy"] == 100.0
    out = metrics.wtq_tfds_metrics([gold], ["2"])
    assert out["official_accuracy_no_canon"] == 0.0 and "official_accuracy" not in out
    assert metrics.wtq_tfds_metrics([gold], ["2 inches"]) == {
        "denotation_accuracy": 100.0, "official_accuracy_no_canon": 100.0, "num_examples": 1}
    assert metrics.wtq_tfds_metrics(["a, b"], [None])["official_accuracy_no_canon"] == 0.0


def test_real_wtq_sample_through_mocked_tfds(shared_data):
    """The shared 300-question sample: targets equal the raw task's, and prompts too
    wherever the builder's csv.DictReader reading equals ours (unique headers, no escapes)."""
    root = shared_data / "wtq"
    stem = "pristine-seen-tables.sample"
    T.set_data_dir(root, benchmark="wtq")
    T.set_split_files("wtq", test=stem)
    try:
        with mocked_wtq({"test": _examples_from_raw(root, stem)}):
            got = _numpy_examples("symjax_wtq_tfds_template_3", "test")
            raw = _numpy_examples("symjax_wtq_template_3", "test")
            assert len(got) == len(raw) == 300
            assert [g["targets_pretokenized"] for g in got] == [r["targets_pretokenized"] for r in raw]
            same = sum(g["inputs_pretokenized"] == r["inputs_pretokenized"] for g, r in zip(got, raw))
            assert same >= 270, same
            _assert_evaluator_scores_targets_perfectly(
                "symjax_wtq_tfds_template_3", "test", ("denotation_accuracy", "official_accuracy_no_canon")
            )
    finally:
        T.set_data_dir(None, benchmark="wtq")
        T.set_split_files("wtq", test="pristine-unseen-tables")


# ---------------------------------------------------------------------------- not prepared
def test_unprepared_dataset_raises_missing_data_error(tmp_path, monkeypatch):
    empty = tmp_path / "tfds"
    empty.mkdir()
    settings.set_tfds_data_dir(empty)
    try:
        task = seqio.get_mixture_or_task("symjax_wtq_tfds_template_0")
        with pytest.raises(MissingDataError) as info:
            task.get_dataset(LENGTHS, split="test", shuffle=False)
        message = str(info.value)
        for text in (str(empty), "'wiki_table_questions'", "tfds build wiki_table_questions",
                     "download_and_prepare()", "SYMJAX_TFDS_DATA_DIR"):
            assert text in message, (text, message)
        assert isinstance(info.value, FileNotFoundError)
        assert os.listdir(empty) == []  # no download attempt, nothing written
    finally:
        settings.set_tfds_data_dir(None)
    other = tmp_path / "from-env"
    other.mkdir()
    monkeypatch.setenv("SYMJAX_TFDS_DATA_DIR", str(other))
    with pytest.raises(MissingDataError, match=str(other)):
        read_wtq_tfds("split-1-dev", data_dir=settings.tfds_data_dir())
    assert os.listdir(other) == []
