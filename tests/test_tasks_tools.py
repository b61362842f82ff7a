"""tools/evaluate_predictions.py and tools/select_prompts.py, run as subprocesses on the
fixtures (pure Python: they need neither seqio nor TensorFlow)."""
from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
FIXTURES = REPO / "tests" / "fixtures" / "benchmarks"
SPLITS = {"wtq": "pristine-unseen-tables", "sqa": "test", "wikisql": "test", "tabfact": "test",
          "svamp": "dev", "bbh": "test", "mmlu": "test"}


def _run(tool, *args, env=None):
    full_env = dict(os.environ, SYMJAX_TASKS_REGISTER="0", **(env or {}))
    return subprocess.run(
        [sys.executable, str(REPO / "tools" / tool), *args], capture_output=True, text=True, env=full_env,
        cwd=REPO, timeout=120,
    )


def _golds(bench):
    from symjax.tasks.benchmarks import load_golds

    return load_golds(bench, SPLITS[bench], root=FIXTURES / bench)


def _write(path, lines):
    path.write_text("".join((line if isinstance(line, str) else json.dumps(line)) + "\n" for line in lines))
    return path


def _evaluate(bench, predictions, *extra):
    return _run("evaluate_predictions.py", f"--benchmark={bench}", f"--data_dir={FIXTURES / bench}",
                f"--split={SPLITS[bench]}", f"--predictions={predictions}", *extra)


@pytest.mark.parametrize("bench", sorted(SPLITS))
def test_evaluate_predictions_every_benchmark(tmp_path, bench):
    golds = _golds(bench)
    ids = list(golds)
    lines = [{"id": i, "prediction": golds[i]["text"]} for i in ids]
    lines[0]["prediction"] = "definitely wrong"
    proc = _evaluate(bench, _write(tmp_path / "p.jsonl", lines))
    assert proc.returncode == 0, proc.stderr
    out = proc.stdout.strip().split("\n")
    assert out[1].startswith("metric") and any(line.startswith("official_accuracy") for line in out)
    result = json.loads(out[-1])
    assert result["num_examples"] == len(ids)
    expected = 100.0 * (len(ids) - 1) / len(ids)
    # SVAMP: the paper's target is int(answer), so the target text '3' of answer 3.5 is
    # right for the paper's metric and wrong for the exact answer
    official = 100.0 * (len(ids) - 2) / len(ids) if bench == "svamp" else expected
    assert result["official_accuracy"] == pytest.approx(official)
    assert result["denotation_accuracy"] == pytest.approx(expected)
    assert result["benchmark"] == bench and result["split"] == SPLITS[bench]


def test_evaluate_wtq_official_vs_paper_metric(tmp_path):
    lines = [
        {"id": "nu-0", "prediction": "United States"},
        {"id": "nu-1", "prediction": "1204"},  # only the official metric (targetCanon) accepts it
        {"inputs": {"id": "nu-2", "inputs_pretokenized": "..."}, "prediction": "Greece, France (FRA)"},  # t5x
        {"id": "nu-3", "prediction": "2013-02-09"},  # a date canon
        {"id": "nu-4", "prediction": "30512"},
        {"id": "nu-5", "prediction": "Washington, D.C."},
    ]
    proc = _evaluate("wtq", _write(tmp_path / "p.jsonl", lines))
    result = json.loads(proc.stdout.strip().split("\n")[-1])
    assert result["official_accuracy"] == pytest.approx(100.0)
    assert result["denotation_accuracy"] == pytest.approx(100 * 3 / 6)


def test_evaluate_errors_name_the_line(tmp_path):
    good = {"id": "nu-0", "prediction": "x"}
    cases = {
        "invalid JSON": [good, "{not json"],
        "unknown example id 'nu-99'": [good, {"id": "nu-99", "prediction": "x"}],
        "already predicted on line 1": [good, good],
        "no example id": [good, {"prediction": "x"}],
        "'prediction' must be a string": [good, {"id": "nu-1", "prediction": 3}],
    }
    for message, lines in cases.items():
        proc = _evaluate("wtq", _write(tmp_path / "p.jsonl", lines))
        assert proc.returncode == 1
        assert "line 2" in proc.stderr and message in proc.stderr, proc.stderr
    proc = _evaluate("wtq", _write(tmp_path / "p.jsonl", [good]))
    assert proc.returncode == 1 and "5 of 6 gold examples have no prediction (first: 'nu-1'" in proc.stderr
    proc = _evaluate("wtq", _write(tmp_path / "p.jsonl", [{"id": "nu-0", "prediction": "United States"}]),
                     "--allow_missing")
    result = json.loads(proc.stdout.strip().split("\n")[-1])
    assert result["official_accuracy"] == pytest.approx(100 / 6) and result["num_missing"] == 5
    proc = _run("evaluate_predictions.py", "--benchmark=wtq", f"--data_dir={tmp_path / 'nowhere'}",
                f"--predictions={tmp_path / 'p.jsonl'}")
    assert proc.returncode == 1 and "github.com/ppasupat/WikiTableQuestions" in proc.stderr
    # a binary file is named, line and all, in one line (it was a UnicodeDecodeError traceback)
    binary = tmp_path / "p.bin"
    binary.write_bytes(b'{"id": "nu-0", "prediction": "x"}\n' + bytes(range(128, 256)) + b"\n")
    proc = _evaluate("wtq", binary)
    assert proc.returncode == 1 and "Traceback" not in proc.stderr
    assert proc.stderr.strip().splitlines()[-1].startswith(f"error: {binary}, line 2: bytes b'\\x80")
    assert "not UTF-8 text; is it a binary file?" in proc.stderr


def test_evaluate_real_wtq_sample(tmp_path, shared_data):
    from symjax.tasks.benchmarks import load_golds

    golds = load_golds("wtq", "pristine-seen-tables.sample", root=shared_data / "wtq")
    lines = [{"id": i, "prediction": g["text"]} for i, g in golds.items()]
    proc = _run("evaluate_predictions.py", "--benchmark=wtq", f"--data_dir={shared_data / 'wtq'}",
                "--split=pristine-seen-tables.sample", f"--predictions={_write(tmp_path / 'p.jsonl', lines)}")
    result = json.loads(proc.stdout.strip().split("\n")[-1])
    assert result["official_accuracy"] == 100.0 and result["num_examples"] == 300


def test_select_prompts_writes_the_best_template(tmp_path):
    golds = _golds("tabfact")
    preds = tmp_path / "preds"
    preds.mkdir()
    for k, n_right in ((0, 2), (3, 5), (7, 4)):
        lines = [{"id": i, "prediction": g["text"] if j < n_right else "maybe"} for j, (i, g) in enumerate(golds.items())]
        _write(preds / f"symjax_tabfact_template_{k}-1100000.jsonl", lines)
    data = tmp_path / "data"
    data.mkdir()
    (data / "tabfact").symlink_to(FIXTURES / "tabfact")
    output = tmp_path / "selection.json"
    output.write_text(json.dumps({"wtq": 2}))
    proc = _run("select_prompts.py", f"--predictions_dir={preds}", f"--data_dir={data}", "--split_file=test",
                f"--output={output}")
    assert proc.returncode == 0, proc.stderr
    assert json.loads(proc.stdout.strip().split("\n")[-1]) == {"tabfact": 3}
    assert json.loads(output.read_text()) == {"tabfact": 3, "wtq": 2}
    assert "<- selected" in proc.stdout
    # the eval mixtures read it
    from symjax.tasks import settings

    settings.set_prompt_selection(output)
    try:
        assert settings.prompt_selection() == {"tabfact": 3, "wtq": 2}
    finally:
        settings.set_prompt_selection(None)


def test_select_prompts_refuses_an_output_that_is_not_a_selection(tmp_path):
    golds = _golds("tabfact")
    preds = tmp_path / "preds"
    preds.mkdir()
    _write(preds / "symjax_tabfact_template_0.jsonl", [{"id": i, "prediction": g["text"]} for i, g in golds.items()])
    output = tmp_path / "selection.json"
    output.write_text("[1, 2]")
    proc = _run("select_prompts.py", f"--predictions_dir={preds}", f"--data_dir={FIXTURES}", "--split_file=test",
                f"--output={output}")
    assert proc.returncode == 1 and "Traceback" not in proc.stderr
    assert proc.stderr.strip().splitlines()[-1] == (
        f"error: {output} holds a JSON list, not the selection object {{\"wtq\": 3, ...}} it should be; "
        "fix it, move it aside, or choose another --output")
    assert output.read_text() == "[1, 2]"
