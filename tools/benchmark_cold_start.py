r"""What the data core's first call costs: the first 100 examples from an empty numba cache,
then from a warm one, and the warm-up command that fills the cache.

    python tools/benchmark_cold_start.py
    python tools/benchmark_cold_start.py --examples=1000 --skip_warmup

Each measurement is a new Python process with its own ``NUMBA_CACHE_DIR`` (a temporary
directory), timed from interpreter start to the last example, import included:

* ``cold``: an empty cache, ``symjax.sql.examples(0)``'s first ``--examples`` examples
  (what a new machine, TPU worker or CI run pays on its first call); the kernels it
  compiled, with seconds, are listed (outermost calls; a kernel's time includes the
  kernels it calls);
* ``warm``: the same again, reading the cache the cold run wrote;
* ``warmup``: ``python -m symjax.sql.warmup`` on an empty cache (every path of the data
  core, what ``tpu_scripts/setup.sh`` runs on each worker), then ``after_warmup``: the
  cold run's examples from that cache.

The last line is ``cold_s=<x> warm_s=<x> warmup_s=<x> after_warmup_s=<x>``.
"""
from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import time

from absl import app, flags

FLAGS = flags.FLAGS
flags.DEFINE_integer("examples", 100, "Examples drawn from symjax.sql.examples(0).")
flags.DEFINE_bool("skip_warmup", False, "Leave out the warm-up measurement.")

_FIRST = r"""
import itertools, json, sys
from symjax.sql.warmup import CompileLog
with CompileLog() as compiles:
    import symjax.sql as sql
    n = sum(1 for _ in itertools.islice(sql.examples(0), int(sys.argv[1])))
print("RESULT " + json.dumps({"examples": n, "compiled": compiles.compiled}))
"""


def _run(args: list[str], cache: str) -> tuple[float, str]:
    env = {**os.environ, "NUMBA_CACHE_DIR": cache}
    env.pop("SYMJAX_NUMBA_CACHE", None)
    start = time.perf_counter()
    res = subprocess.run([sys.executable, *args], capture_output=True, text=True, env=env)
    seconds = time.perf_counter() - start
    if res.returncode:
        raise SystemExit(f"{' '.join(args[:2])} failed:\n{res.stderr[-3000:]}")
    return seconds, res.stdout


def _first(cache: str) -> tuple[float, dict]:
    seconds, out = _run(["-c", _FIRST, str(FLAGS.examples)], cache)
    line = [ln for ln in out.splitlines() if ln.startswith("RESULT ")][-1]
    return seconds, json.loads(line[len("RESULT "):])


def main(argv):
    del argv
    print(f"machine: {os.cpu_count()} cores; python {sys.version.split()[0]}", flush=True)
    with tempfile.TemporaryDirectory() as cold_cache, tempfile.TemporaryDirectory() as warm_cache:
        cold, info = _first(cold_cache)
        print(f"cold: first {info['examples']} examples in {cold:.1f} s from an empty cache", flush=True)
        for name, sec in sorted(info["compiled"].items(), key=lambda kv: -kv[1]):
            print(f"  compiled {name}: {sec:.1f} s")
        warm, _ = _first(cold_cache)
        print(f"warm: {warm:.1f} s from the cache the cold run wrote", flush=True)
        warmup = after = float("nan")
        if not FLAGS.skip_warmup:
            warmup, out = _run(["-m", "symjax.sql.warmup"], warm_cache)
            print(f"warmup: python -m symjax.sql.warmup in {warmup:.1f} s ({out.strip().splitlines()[-1]})",
                  flush=True)
            after, info = _first(warm_cache)
            print(f"after warmup: first {info['examples']} examples in {after:.1f} s, "
                  f"{len(info['compiled'])} kernels compiled", flush=True)
    print(f"cold_s={cold:.1f} warm_s={warm:.1f} warmup_s={warmup:.1f} after_warmup_s={after:.1f}")


if __name__ == "__main__":
    app.run(main)
