r"""What a restart pays to get the input pipeline back to its position: fresh start, saved
position, replay.

    SYMJAX_VOCABULARY=byte python tools/benchmark_resume.py                  # 1M examples
    SYMJAX_VOCABULARY=byte python tools/benchmark_resume.py --examples=100000 --replay=false

It builds the trainer's own input pipeline (:func:`symjax.train.data.train_batches`: the
seqio task, packing, batches of ``--batch_size`` rows), consumes ``--examples`` examples,
saves the position (:meth:`~symjax.train.data.TrainBatches.state`, what a checkpoint
stores), and then times, each in a new pipeline, the way to the next batch:

* ``fresh``: a new run's first batch (the baseline a restart should match);
* ``restored``: restore the saved position, then the next batch (checked equal, bitwise,
  to the batch the original pipeline gives next);
* ``replay``: skip the consumed batches (what the trainer did before positions were
  saved), then the next batch.

The last line is ``fresh_s=<x> restored_s=<x> replay_s=<x> state_mib=<x> examples=<n>``.
"""
from __future__ import annotations

import time

import numpy as np
from absl import app, flags

FLAGS = flags.FLAGS
flags.DEFINE_string("task", "symjax_sql_execution", "Registered seqio task or mixture.")
flags.DEFINE_integer("inputs", 2048, "Input length.")
flags.DEFINE_integer("targets", 128, "Target length.")
flags.DEFINE_integer("batch_size", 64, "Rows per batch (packed).")
flags.DEFINE_integer("examples", 1_000_000, "Examples consumed before the position is saved.")
flags.DEFINE_bool("replay", True, "Also time the replay (as long as consuming the examples again).")


def _pipeline(skip: int = 0):
    from symjax.train import data

    return data.train_batches(name=FLAGS.task, feature_lengths={"inputs": FLAGS.inputs, "targets": FLAGS.targets},
                              batch_size=FLAGS.batch_size, seed=0, pack=True, skip_batches=skip)


def _examples_in(batch) -> int:
    return int(batch["decoder_segment_ids"].max(axis=1).sum())


def main(argv):
    del argv
    import symjax.tasks  # noqa: F401  (registers the tasks)

    start = time.perf_counter()
    batches = _pipeline()
    next(batches)
    fresh = time.perf_counter() - start
    consumed, n = 0, 1
    t0 = time.perf_counter()
    last_report = t0
    while consumed < FLAGS.examples:
        consumed += _examples_in(next(batches))
        n += 1
        now = time.perf_counter()
        if now - last_report > 10:
            rate = consumed / (now - t0)
            print(f"consumed {consumed:,} examples in {n:,} batches ({rate:,.0f}/s, "
                  f"eta {(FLAGS.examples - consumed) / rate:,.0f} s)", flush=True)
            last_report = now
    t0 = time.perf_counter()
    state = batches.state()
    save_s = time.perf_counter() - t0
    want = next(batches)
    print(f"consumed {consumed:,} examples ({n:,} batches); position saved in {save_s:.2f} s, "
          f"{len(state) / 2**20:.1f} MiB", flush=True)

    start = time.perf_counter()
    again = _pipeline()
    again.restore(state)
    got = next(again)
    restored = time.perf_counter() - start
    same = all(np.array_equal(got[k], want[k]) for k in want)
    print(f"restored: next batch after {restored:.2f} s, equal to the original's next batch: {same}", flush=True)
    if not same:
        raise SystemExit("the restored pipeline's next batch differs")

    start = time.perf_counter()
    fresh_again = _pipeline()
    next(fresh_again)
    fresh = min(fresh, time.perf_counter() - start)
    print(f"fresh: first batch after {fresh:.2f} s", flush=True)

    replay = float("nan")
    if FLAGS.replay:
        start = time.perf_counter()
        replayed = _pipeline(skip=n)
        got = next(replayed)
        replay = time.perf_counter() - start
        print(f"replay: next batch after {replay:.2f} s "
              f"(equal: {all(np.array_equal(got[k], want[k]) for k in want)})", flush=True)
    print(f"fresh_s={fresh:.2f} restored_s={restored:.2f} replay_s={replay:.2f} "
          f"state_mib={len(state) / 2**20:.1f} examples={consumed}")


if __name__ == "__main__":
    app.run(main)
