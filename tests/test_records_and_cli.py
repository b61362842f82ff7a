"""TFRecord/JSONL writing and the generate_sql_data.py command."""
import json
import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from symjax.sql.export._record_kernels import CRC_TABLE, crc32c
from symjax.sql.export.records import read_tfrecord, serialize_example

REPO = Path(__file__).resolve().parents[1]


def _crc32c_twin(data: bytes) -> int:
    crc = 0xFFFFFFFF
    for byte in data:
        crc ^= byte
        for _ in range(8):
            crc = (crc >> 1) ^ 0x82F63B78 if crc & 1 else crc >> 1
    return crc ^ 0xFFFFFFFF


@pytest.mark.parametrize("data", [b"", b"a", b"123456789", bytes(range(256)) * 3])
def test_crc32c_matches_twin(data):
    assert int(crc32c(np.frombuffer(data, np.uint8), CRC_TABLE)) == _crc32c_twin(data)


def test_crc32c_known_vector():
    assert int(crc32c(np.frombuffer(b"123456789", np.uint8), CRC_TABLE)) == 0xE3069283


def test_serialized_example_parses_with_tensorflow_when_available(tmp_path):
    payload = serialize_example({"inputs": [b"x y"], "answer": [b"1", b"2"]})
    tf = pytest.importorskip("tensorflow")
    ex = tf.train.Example.FromString(payload)
    assert list(ex.features.feature["answer"].bytes_list.value) == [b"1", b"2"]


def _run(*args):
    return subprocess.run([sys.executable, str(REPO / "tools" / "generate_sql_data.py"), *args],
                          capture_output=True, text=True, cwd=REPO)


def test_generate_jsonl(tmp_path):
    out = tmp_path / "sql.jsonl"
    r = _run("--num_examples=200", f"--output={out}", "--seed=3")
    assert r.returncode == 0, r.stderr
    lines = out.read_text().splitlines()
    assert len(lines) == 200
    first = json.loads(lines[0])
    assert {"inputs", "targets", "sql", "answer", "family", "table"} <= set(first)
    summary = json.loads(r.stdout.strip().splitlines()[-1])
    assert summary["examples"] == 200 and "input_chars" in summary
    assert "examples per family" in r.stdout


def test_generate_sharded_tfrecord(tmp_path):
    r = _run("--num_examples=90", f"--output={tmp_path}/train", "--format=tfrecord", "--num_shards=3")
    assert r.returncode == 0, r.stderr
    files = sorted(tmp_path.glob("train-*-of-00003.tfrecord"))
    assert len(files) == 3
    records = [rec for f in files for rec in read_tfrecord(str(f))]
    assert len(records) == 90 and len(set(records)) == 90  # disjoint shards


def test_bad_flag_is_reported(tmp_path):
    r = _run("--num_examples=5", f"--output={tmp_path}/x", "--families=nope=1")
    assert r.returncode != 0
    assert "unknown query family 'nope'" in r.stderr


def test_jsonl_lines_equal_example_to_dict(tmp_path):
    import itertools

    from symjax.sql import examples
    from symjax.sql.export.records import JsonlWriter

    es = list(itertools.islice(examples(8), 40))
    with JsonlWriter(str(tmp_path / "x.jsonl")) as w:
        for e in es:
            w.write_example(e)
    lines = (tmp_path / "x.jsonl").read_text(encoding="utf-8").splitlines()
    assert [json.loads(line) for line in lines] == [e.to_dict() for e in es]


def test_data_core_benchmark_runs_and_ends_with_its_figures():
    """The benchmark tool's plumbing (its figures are for the closing notes, not for tests):
    a tiny run on another stream config ends with the line the README describes."""
    r = subprocess.run(
        [sys.executable, str(REPO / "tools" / "benchmark_data_core.py"), "--num_examples=300",
         "--sqlite_examples=60", "--rounds=1", "--nopin_core", "--queries_per_table=8"],
        capture_output=True, text=True, cwd=REPO,
    )
    assert r.returncode == 0, r.stderr
    assert "queries_per_table=8" in r.stdout
    last = r.stdout.strip().splitlines()[-1]
    assert re.fullmatch(r"examples_per_s=\d+ sqlite_examples_per_s=\d+ ratio=\d+\.\d\d", last), last
