"""``python -m symjax.sql.warmup`` fills numba's cache with every kernel the data core's users
reach: after it, a new process running the symjax tasks, other stream configurations, user
tables, the executor and the linearizer compiles nothing (it only loads from the cache).
The warm-up runs from an empty cache of its own, so this is the slow test of the suite
(about 90 s on 2 cores)."""
from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
WTQ_TABLES = ROOT / "tests" / "fixtures" / "benchmarks" / "wtq" / "csv"

# Runs in a new process on the warmed cache; prints the kernels it had to compile.
_WORKLOAD = r'''
import itertools, json, sys
from symjax.sql.warmup import CompileLog
with CompileLog() as compiles:  # it sees compiles: the warm-up's count from it is checked > 0
    import seqio
    import symjax.sql as sql
    import symjax.tasks as T
    T.set_vocabulary(seqio.ByteVocabulary())
    done = []
    for name, lengths in [("symjax_sql_execution", {"inputs": 2048, "targets": 128}),
                          ("symjax_sql_execution", {"inputs": 384, "targets": 32}),
                          ("symjax_sql_execution_demo", {"inputs": 200, "targets": 16}),
                          ("symjax_sql_execution_tapex_run", {"inputs": 1024, "targets": 64}),
                          ("symjax_sql_execution_markdown_answer", {"inputs": 1024, "targets": 64})]:
        ds = seqio.get_mixture_or_task(name).get_dataset(lengths, split="train", shuffle=False)
        done.append(sum(1 for _ in itertools.islice(ds.as_numpy_iterator(), 200)))
    for config in [sql.StreamConfig(lowercase=True, layout="table_first", table_style="markdown"),
                   sql.StreamConfig(max_input_chars=None, max_input_tokens=300, count_tokens=len),
                   sql.StreamConfig(max_input_chars=900, sql_reserve_chars=300, sql_style="tapex")]:
        done.append(sum(1 for _ in itertools.islice(sql.examples(11, config=config), 300)))
    tables = sql.read_table_dir(sys.argv[1])
    for style in sql.TABLE_STYLES:
        exs = list(itertools.islice(sql.examples(5, config=sql.StreamConfig(tables=tables, table_style=style)), 100))
        done.append(len(exs))
        for ex in exs[:50]:
            sql.execute(ex.sql, ex.table)
print("RESULT " + json.dumps({"compiled": sorted(compiles.compiled), "done": done}))
'''


@pytest.mark.slow
def test_after_warmup_nothing_is_compiled(tmp_path):
    env = {**os.environ, "NUMBA_CACHE_DIR": str(tmp_path / "numba"), "JAX_PLATFORMS": "cpu",
           "TF_CPP_MIN_LOG_LEVEL": "3"}
    env.pop("SYMJAX_NUMBA_CACHE", None)
    warm = subprocess.run([sys.executable, "-m", "symjax.sql.warmup"], capture_output=True, text=True, env=env,
                          cwd=ROOT, timeout=900)
    assert warm.returncode == 0, warm.stderr[-3000:]
    last = warm.stdout.strip().splitlines()[-1]
    assert last.startswith("warmup_s=") and int(last.rsplit("=", 1)[1]) > 0, last  # it compiled, from empty
    assert any((tmp_path / "numba").rglob("*.nbi")), "the warm-up wrote no cache index"
    res = subprocess.run([sys.executable, "-c", _WORKLOAD, str(WTQ_TABLES)], capture_output=True, text=True,
                         env=env, cwd=ROOT, timeout=900)
    assert res.returncode == 0, res.stderr[-3000:]
    out = json.loads([ln for ln in res.stdout.splitlines() if ln.startswith("RESULT ")][-1][len("RESULT "):])
    assert all(n > 0 for n in out["done"]), out["done"]
    assert out["compiled"] == [], f"compiled after the warm-up (missing from symjax.sql.warmup): {out['compiled']}"


def test_warmup_takes_no_arguments():
    res = subprocess.run([sys.executable, "-m", "symjax.sql.warmup", "--fast"], capture_output=True, text=True,
                         cwd=ROOT, timeout=300)
    assert res.returncode == 2 and "takes no arguments" in res.stderr
