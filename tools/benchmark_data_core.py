r"""End-to-end speed of the SQL-execution stream against the SQLite path, side by side.

    python tools/benchmark_data_core.py --num_examples=100000
    python tools/benchmark_data_core.py --memory_examples=10000000   # memory stays flat
    python tools/benchmark_data_core.py --queries_per_table=32       # another stream config
    python tools/benchmark_data_core.py --per_family                 # also each family alone

1. The stream: ``symjax.sql.examples`` on synthetic WTQ-sized tables, one core, counting
   everything (table generation, truncation, sampling, numba execution, SQL rendering,
   linearization, ``inputs``/``targets`` text).
2. The anchor on the same examples, as TAPEX made its data: for each example a fresh
   in-memory ``sqlite3`` database, ``CREATE TABLE w``, insert the rows, execute the
   standard SQL, format the answer with the same canonical function.

Both run in this process, alternating in rounds, so machine noise hits both alike: each
round times the stream, then the SQLite path on that round's examples, and gives one ratio.
The last line is ``examples_per_s=<n> sqlite_examples_per_s=<n> ratio=<x>``: the median
rate of each path over the rounds, and the median of the rounds' ratios (on a noisy shared
host the paired ratio is steadier than a ratio of medians taken from different rounds).
``--per_family`` first prints one line per query family, the stream drawing that family
alone against the SQLite path on its examples (``--family_examples`` each, the SQLite path
on a fifth of them), in ``--family_rounds`` alternating rounds.
"""
from __future__ import annotations

import gc
import itertools
import os
import platform
import sqlite3
import statistics
import time

from absl import app, flags

FLAGS = flags.FLAGS
flags.DEFINE_integer("num_examples", 40_000, "Examples per stream round.")
flags.DEFINE_integer("sqlite_examples", 6_000, "Examples per SQLite round (a subset of the same examples).")
flags.DEFINE_integer("rounds", 7, "Alternating rounds; the medians are reported.")
flags.DEFINE_integer("seed", 0, "Stream seed.")
flags.DEFINE_integer("memory_examples", 0, "If > 0, also run this many examples and report RSS along the way.")
flags.DEFINE_bool("pin_core", True, "Pin the process to one CPU core.")
flags.DEFINE_integer("queries_per_table", None,
                     "StreamConfig.queries_per_table of the measured stream (default: StreamConfig's).")
flags.DEFINE_bool("per_family", False, "Also measure each query family alone.")
flags.DEFINE_integer("family_examples", 10_000, "Examples per family and round (--per_family).")
flags.DEFINE_integer("family_rounds", 3, "Alternating rounds per family (--per_family).")
flags.DEFINE_enum("clock", "wall", ["wall", "cpu"],
                  "wall: time.perf_counter; cpu: time.process_time (this process's CPU time, which "
                  "leaves out the time a shared host's other tenants hold the core).")


def _rss_mib() -> float:
    with open("/proc/self/statm") as f:
        pages = int(f.read().split()[1])
    return pages * os.sysconf("SC_PAGE_SIZE") / 2**20


def _sqlite_path(batch) -> None:
    from symjax.sql.text.answers import answer_text, canonical_answer

    for e, rows, ddl, insert in batch:
        conn = sqlite3.connect(":memory:")
        conn.execute(ddl)
        conn.executemany(insert, rows)
        result = conn.execute(e.sql).fetchall()
        answer_text(canonical_answer([r[0] for r in result], ordered=e.ordered))
        conn.close()


def _prepare(examples):
    from symjax.sql.table import _SQLITE_DECLARED, quote_identifier

    batch = []
    for e in examples:
        t = e.table
        cols = ", ".join(f"{quote_identifier(h)} {_SQLITE_DECLARED[ty]}" for h, ty in zip(t.header, t.types))
        ddl = f"CREATE TABLE w ({cols})"
        insert = f"INSERT INTO w VALUES ({', '.join('?' * len(t.header))})"
        batch.append((e, t.rows, ddl, insert))
    return batch


def main(argv):
    del argv
    if FLAGS.pin_core and hasattr(os, "sched_setaffinity"):
        os.sched_setaffinity(0, {sorted(os.sched_getaffinity(0))[0]})
    from symjax.sql import examples as stream_examples
    from symjax.sql.stream import StreamConfig

    config = StreamConfig()
    if FLAGS.queries_per_table is not None:
        config = StreamConfig(queries_per_table=FLAGS.queries_per_table)

    def examples(seed):
        return stream_examples(seed, config=config)

    print(f"machine: {platform.processor() or platform.machine()}, {os.cpu_count()} cores, python {platform.python_version()}")
    print(f"stream: queries_per_table={config.queries_per_table}")
    warm = list(itertools.islice(examples(FLAGS.seed + 1), 5_000))  # JIT and caches
    _sqlite_path(_prepare(warm[:500]))

    clock = time.perf_counter if FLAGS.clock == "wall" else time.process_time

    def one_round(it, num_examples, sqlite_examples):
        gc.collect()
        kept = []
        t0 = clock()
        # Keep only the examples the SQLite path needs: a consumer (seqio, a file writer)
        # does not hold the stream in memory either.
        for i, e in enumerate(itertools.islice(it, num_examples)):
            if i < sqlite_examples:
                kept.append(e)
        stream_rate = num_examples / (clock() - t0)
        batch = _prepare(kept)
        del kept
        gc.collect()
        t0 = clock()
        _sqlite_path(batch)
        sqlite_rate = len(batch) / (clock() - t0)
        return stream_rate, sqlite_rate

    if FLAGS.per_family:
        import dataclasses

        from symjax.sql.query.families import FAMILIES, SamplerConfig

        for family in FAMILIES:
            one = dataclasses.replace(config, sampler=SamplerConfig(family_weights={family: 1.0}))
            list(itertools.islice(stream_examples(FLAGS.seed + 1, config=one), 500))  # compile
            rates = [one_round(stream_examples(FLAGS.seed + 100 * r, config=one), FLAGS.family_examples,
                               FLAGS.family_examples // 5) for r in range(FLAGS.family_rounds)]
            ex = statistics.median(a for a, _ in rates)
            sq = statistics.median(b for _, b in rates)
            ratio = statistics.median(a / b for a, b in rates)
            print(f"family={family} examples_per_s={ex:.0f} sqlite_examples_per_s={sq:.0f} ratio={ratio:.2f}")

    stream_rates, sqlite_rates, ratios = [], [], []
    for r in range(FLAGS.rounds):
        a, b = one_round(examples(FLAGS.seed + 100 * r), FLAGS.num_examples, FLAGS.sqlite_examples)
        stream_rates.append(a)
        sqlite_rates.append(b)
        ratios.append(a / b)
        print(f"round {r}: stream {stream_rates[-1]:,.0f} examples/s, sqlite path {sqlite_rates[-1]:,.0f} "
              f"examples/s, ratio {ratios[-1]:.2f}")

    if FLAGS.memory_examples > 0:
        it = examples(FLAGS.seed + 7)
        step = max(1, FLAGS.memory_examples // 10)
        start = time.perf_counter()
        done = 0
        print(f"memory: rss={_rss_mib():.1f} MiB at 0 examples")
        while done < FLAGS.memory_examples:
            n = min(step, FLAGS.memory_examples - done)
            for _ in itertools.islice(it, n):
                pass
            done += n
            rate = done / (time.perf_counter() - start)
            eta = (FLAGS.memory_examples - done) / rate
            print(f"memory: rss={_rss_mib():.1f} MiB at {done:,} examples ({rate:,.0f}/s, eta {eta:,.0f}s)")

    ex = statistics.median(stream_rates)
    sq = statistics.median(sqlite_rates)
    print(f"examples_per_s={ex:.0f} sqlite_examples_per_s={sq:.0f} ratio={statistics.median(ratios):.2f}")


if __name__ == "__main__":
    app.run(main)
