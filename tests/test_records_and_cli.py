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


# tools/stream_digest.py --examples=200 since the default mix took the families of the SQL
# people write (null_test ... multi_column); with the first fifteen families' old weights the
# stream is byte-identical to before that change. A change that alters the stream on purpose
# updates these lines and says so in its commit.
_GOLDEN_DIGESTS = """
default 200 9b0b0ebd796c368ef4c5348cfd8317ed61323707502de4c652bbe6574adf9559
tapex 200 121cbfd26d453d577263635f79e422bc283fac564f69ea5ebc297e196daf3b50
small 200 fa16d51beda99e3d4a31a5d0b163ebd9ccb8c7cc67986612a1a5491ebc2ba5c0
tokens 200 276ad3fac43f4461cd2c9f4df67e14052f862b1da258a0a9d6606caf05a6e3ea
user 200 62a7101cc9dd3177541e4f8cf2cae0f8acae0956598c73ffa65767c88e5fcc98
lower 200 9ae3e1c7638a083ba07160f169f5ac4201c50ef108d7fe926ac48ca3143bac53
""".split()


def test_the_stream_is_byte_identical_to_its_golden_digests():
    r = subprocess.run([sys.executable, str(REPO / "tools" / "stream_digest.py"), "--examples=200"],
                       capture_output=True, text=True, cwd=REPO)
    assert r.returncode == 0, r.stderr
    assert r.stdout.split() == _GOLDEN_DIGESTS


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


# ----------------------------------------------------------------------------- safe outputs (issue 16)
def _files(directory):
    return sorted(p.name for p in Path(directory).iterdir())


def _one_line_error(r, *fragments):
    """The tool failed with exit code 1 and one line on stderr naming the error type and
    every fragment (no traceback)."""
    assert r.returncode == 1, (r.returncode, r.stderr[-3000:])
    lines = [line for line in r.stderr.splitlines() if line.strip()]
    assert "Traceback" not in r.stderr, r.stderr[-3000:]
    assert lines[-1].startswith("generate_sql_data: "), lines
    for fragment in fragments:
        assert fragment in lines[-1], (fragment, lines[-1])
    return lines[-1]


def test_generate_writes_a_manifest_and_refuses_to_overwrite(tmp_path):
    r = _run("--num_examples=30", f"--output={tmp_path}/train", "--format=tfrecord", "--num_shards=2")
    assert r.returncode == 0, r.stderr
    manifest = json.loads((tmp_path / "train.manifest.json").read_text())
    assert manifest["complete"] and manifest["examples"] == 30 and manifest["num_shards"] == 2
    assert [f["path"] for f in manifest["files"]] == ["train-00000-of-00002.tfrecord",
                                                      "train-00001-of-00002.tfrecord"]
    for f in manifest["files"]:
        assert len(list(read_tfrecord(str(tmp_path / f["path"])))) == f["examples"]
        assert (tmp_path / f["path"]).stat().st_size == f["bytes"]
    assert _files(tmp_path) == ["train-00000-of-00002.tfrecord", "train-00001-of-00002.tfrecord",
                                "train.manifest.json"]
    before = (tmp_path / "train-00000-of-00002.tfrecord").read_bytes()
    r = _run("--num_examples=30", f"--output={tmp_path}/train", "--format=tfrecord", "--num_shards=2", "--seed=1")
    _one_line_error(r, "OutputError", "train-00000-of-00002.tfrecord exists", "--overwrite")
    assert (tmp_path / "train-00000-of-00002.tfrecord").read_bytes() == before
    r = _run("--num_examples=20", f"--output={tmp_path}/train", "--format=tfrecord", "--num_shards=2",
             "--seed=1", "--overwrite")
    assert r.returncode == 0, r.stderr
    assert json.loads((tmp_path / "train.manifest.json").read_text())["examples"] == 20
    assert (tmp_path / "train-00000-of-00002.tfrecord").read_bytes() != before


def test_generate_checks_the_tables_before_opening_any_output(tmp_path):
    out = tmp_path / "keep.jsonl"
    out.write_text("precious\n")
    tables = tmp_path / "tables"
    tables.mkdir()
    (tables / "good.csv").write_text("a,b\n1,x\n2,y\n")
    (tables / "bad.csv").write_text('a,b\n1,"x\n')
    r = _run("--num_examples=5", f"--output={tmp_path}/keep", f"--tables_dir={tables}", "--overwrite")
    _one_line_error(r, "TableFormatError", "bad.csv, line 2")
    assert out.read_text() == "precious\n"
    assert _files(tmp_path) == ["keep.jsonl", "tables"]
    # a lone surrogate in a JSONL cell was a UnicodeEncodeError at the first write, naming nothing
    (tables / "bad.csv").unlink()
    (tables / "cells.jsonl").write_text('["a", "b"]\n["1", "x\\udc80"]\n')
    r = _run("--num_examples=5", f"--output={tmp_path}/keep", f"--tables_dir={tables}", "--overwrite")
    _one_line_error(r, "TableFormatError", "cells.jsonl, line 2: a string holds a lone surrogate")
    assert out.read_text() == "precious\n"


def test_generate_output_places_that_cannot_be_written(tmp_path):
    (tmp_path / "afile").write_text("x")
    (tmp_path / "adir.jsonl").mkdir()
    _one_line_error(_run("--num_examples=5", f"--output={tmp_path}/afile/out"),
                    "OutputError", "afile is a file")
    _one_line_error(_run("--num_examples=5", f"--output={tmp_path}/adir"),
                    "OutputError", "adir.jsonl is a directory")
    _one_line_error(_run("--num_examples=5", "--output=/proc/symjax_test_output"),
                    "OutputError", "cannot write /proc/symjax_test_output.jsonl")
    assert _files(tmp_path) == ["adir.jsonl", "afile"]


# The tool run with its writes sent where a full or read-only disk would send them:
# the temporary files are opened on /dev/full (every write fails with ENOSPC, from the
# kernel), or their creation fails with EROFS.
_FAULTY_DISK = """
import builtins, errno, os, runpy, sys
fault, tool = sys.argv[1], sys.argv[2]
real_open = builtins.open
def faulty_open(file, mode="r", *args, **kwargs):
    if isinstance(file, str) and ".partial-" in file and "w" in mode:
        if fault == "erofs":
            raise OSError(errno.EROFS, os.strerror(errno.EROFS), file)
        real_open(file, mode).close()
        return real_open("/dev/full", mode, *args, **kwargs)
    return real_open(file, mode, *args, **kwargs)
builtins.open = faulty_open
sys.argv = [tool, *sys.argv[3:]]
runpy.run_path(tool, run_name="__main__")
"""


@pytest.mark.parametrize("fault, fragment", [("enospc", "No space left on device; free disk space"),
                                             ("erofs", "Read-only file system; choose a writable place")])
def test_generate_full_or_read_only_disk(tmp_path, fault, fragment):
    if not Path("/dev/full").exists():
        pytest.skip("/dev/full is absent")
    r = subprocess.run([sys.executable, "-c", _FAULTY_DISK, fault, str(REPO / "tools" / "generate_sql_data.py"),
                        "--num_examples=3000", f"--output={tmp_path}/x", "--format=tfrecord"],
                       capture_output=True, text=True, cwd=REPO)
    _one_line_error(r, "OutputError", "cannot write", "x.tfrecord", fragment)
    assert _files(tmp_path) == []


def _interrupt(tmp_path, args, signals):
    import os
    import signal
    import time

    proc = subprocess.Popen([sys.executable, str(REPO / "tools" / "generate_sql_data.py"), *args],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=REPO)
    deadline = time.time() + 120
    while not any(p.name.startswith(".") and p.stat().st_size > 0 for p in tmp_path.iterdir()):
        assert proc.poll() is None and time.time() < deadline, proc.communicate()
        time.sleep(0.05)
    for _ in range(signals):
        os.kill(proc.pid, signal.SIGINT)
        time.sleep(0.02)
    _, err = proc.communicate(timeout=60)
    assert proc.returncode == 130, err[-3000:]
    assert "Traceback" not in err and "SystemError" not in err, err[-3000:]
    assert err.strip().splitlines()[-1] == (f"generate_sql_data: interrupted; nothing was written under "
                                            f"{args[1].split('=', 1)[1]} (temporary files removed)")
    assert _files(tmp_path) == []


def test_generate_sigint_leaves_no_file(tmp_path):
    _interrupt(tmp_path, ["--num_examples=10000000", f"--output={tmp_path}/big"], signals=1)


def test_generate_second_sigint_in_sharded_workers_leaves_no_file(tmp_path):
    # a second SIGINT raises KeyboardInterrupt wherever the main process is (numba kernels
    # included); the workers are stopped and their temporary files removed
    _interrupt(tmp_path, ["--num_examples=10000000", f"--output={tmp_path}/big", "--format=tfrecord",
                          "--num_shards=2", "--workers=2"], signals=2)
