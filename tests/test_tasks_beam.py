"""The offline cache round trip: ``python -m seqio.scripts.cache_tasks_main
--module_import=...`` (Apache Beam, DirectRunner) caches a small SQL-execution task over its
shards, and reading the cache back gives exactly the examples generated on the fly.

Needs apache_beam: in this interpreter, or in the one ``$SYMJAX_BEAM_PYTHON`` names (Beam
pins ``protobuf<7``, which may not fit the main environment; see the report of issue 3).
"""
from __future__ import annotations

import collections
import importlib.util
import os
import subprocess
import sys
import textwrap

import pytest

seqio = pytest.importorskip("seqio")

TASK = "symjax_test_beam_tiny"
MODULE = f"""
import symjax.tasks
from symjax.tasks import registry
registry.register_sql_execution_task({TASK!r}, seed=5, train_blocks=3, eval_blocks=2, num_shards=3)
"""


def _beam_python() -> str:
    if importlib.util.find_spec("apache_beam") is not None:
        return sys.executable
    other = os.environ.get("SYMJAX_BEAM_PYTHON")
    if other:
        return other
    pytest.skip("apache_beam is not installed (set SYMJAX_BEAM_PYTHON to an interpreter that has it)")


def test_cache_tasks_main_round_trip(tmp_path):
    import symjax.tasks as T
    from symjax.tasks import registry

    if not T.SEQIO_AVAILABLE:
        pytest.skip("symjax.tasks registration is disabled")
    python = _beam_python()
    (tmp_path / "beam_tiny_tasks.py").write_text(textwrap.dedent(MODULE))
    cache = tmp_path / "cache"
    env = dict(os.environ, PYTHONPATH=f"{tmp_path}{os.pathsep}{os.environ.get('PYTHONPATH', '')}",
               SYMJAX_VOCABULARY="byte", SYMJAX_TASKS_REGISTER="1")
    proc = subprocess.run(
        [python, "-m", "seqio.scripts.cache_tasks_main", "--module_import=beam_tiny_tasks", f"--tasks={TASK}",
         f"--output_cache_dir={cache}", "--min_shards=2", "--pipeline_options=--runner=DirectRunner"],
        capture_output=True, text=True, env=env, timeout=600,
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert (cache / TASK / "info.train.json").is_file()

    T.set_vocabulary(seqio.ByteVocabulary())
    if TASK in seqio.TaskRegistry.names():
        seqio.TaskRegistry.remove(TASK)
    task = registry.register_sql_execution_task(TASK, seed=5, train_blocks=3, eval_blocks=2, num_shards=3)
    try:
        seqio.add_global_cache_dirs([str(cache)])
        for split in ("train", "validation", "test"):
            fresh = task.get_dataset(None, split=split, shuffle=False)
            cached = task.get_dataset(None, split=split, shuffle=False, use_cached=True)
            key = lambda x: (x["inputs_pretokenized"], x["targets_pretokenized"])  # noqa: E731
            a = collections.Counter(key(x) for x in fresh.as_numpy_iterator())
            b = collections.Counter(key(x) for x in cached.as_numpy_iterator())
            assert a == b and sum(a.values()) > 0, split
            assert task.get_cached_stats(split)["examples"] == sum(a.values())
    finally:
        seqio.TaskRegistry.remove(TASK)
        seqio.set_global_cache_dirs([])
        T.set_vocabulary(None)
