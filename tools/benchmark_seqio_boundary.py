r"""How much of the data core's speed reaches a model through seqio, side by side.

    SYMJAX_VOCABULARY=byte python tools/benchmark_seqio_boundary.py
    python tools/benchmark_seqio_boundary.py --vocabulary=/path/to/sentencepiece.model
    python tools/benchmark_seqio_boundary.py --cores=1      # everything on one core

Four paths over the same task, configuration and lengths (default ``symjax_sql_execution``
at inputs 2048 / targets 128), alternating in rounds in this process:

1. ``raw``: :func:`symjax.sql.examples` with the task's stream configuration at those
   lengths (tables cut to the token budget; ``inputs``/``targets`` text, no ids);
2. ``encoded``: :func:`symjax.sql.encode_blocks`, the same examples as token ids (no
   TensorFlow);
3. ``seqio``: ``task.get_dataset(lengths, split="train")`` (shuffled, as a trainer reads
   it), padded into batches of 128 and fetched as numpy: everything between the data core
   and a model's input;
4. ``floor``: a seqio Task over examples already tokenized in memory
   (``from_tensor_slices``) through the same ``get_dataset`` and batching: what seqio and
   tf.data cost per example on this machine with no data work at all.

The last line is ``raw=<n> encoded=<n> seqio=<n> floor=<n> seqio_over_raw=<x>
seqio_over_floor=<x>`` (examples/s; medians of the rounds, ratios as medians of the rounds'
paired ratios).
"""
from __future__ import annotations

import itertools
import os
import platform
import statistics
import time

from absl import app, flags

FLAGS = flags.FLAGS
flags.DEFINE_string("task", "symjax_sql_execution", "A registered symjax SQL-execution task.")
flags.DEFINE_integer("inputs", 2048, "Input length (tokens, EOS included).")
flags.DEFINE_integer("targets", 128, "Target length (tokens, EOS included).")
flags.DEFINE_string("vocabulary", None, "byte, or a SentencePiece .model path (default: SYMJAX_VOCABULARY).")
flags.DEFINE_integer("rounds", 5, "Alternating rounds; medians are reported.")
flags.DEFINE_float("seconds", 6.0, "Seconds each path runs per round.")
flags.DEFINE_integer("cores", 0, "Pin the process to this many cores (0: leave it as it is).")

_BATCH = 128


def _timed(it, per_item, seconds):
    next(it)  # warm: pipelines start, caches fill
    start = time.perf_counter()
    n = 0
    while time.perf_counter() - start < seconds:
        n += per_item(next(it))
    return n / (time.perf_counter() - start)


def _batched(ds, lengths):
    import tensorflow as tf

    @tf.autograph.experimental.do_not_convert
    def model_features(x):
        return {"inputs": x["inputs"], "targets": x["targets"]}

    shapes = {"inputs": [lengths["inputs"]], "targets": [lengths["targets"]]}
    return ds.map(model_features).padded_batch(_BATCH, padded_shapes=shapes).as_numpy_iterator()


def _floor_task(name, source_task, lengths, examples):
    """A seqio Task over ``examples`` (EncodedExamples) held in memory."""
    import numpy as np
    import seqio
    import tensorflow as tf

    inputs = tf.RaggedTensor.from_row_lengths(examples.inputs, examples.input_lengths)
    targets = tf.RaggedTensor.from_row_lengths(examples.targets, examples.target_lengths)
    data = {"inputs": inputs, "targets": targets,
            "inputs_pretokenized": np.array(examples.inputs_text, object),
            "targets_pretokenized": np.array(examples.targets_text, object),
            "family": np.array(examples.families, object), "sql": np.array(examples.sql, object)}

    @tf.autograph.experimental.do_not_convert
    def dense(x):
        return {k: (v.flat_values if isinstance(v, tf.RaggedTensor) else v) for k, v in x.items()}

    def source_fn(split, shuffle_files, seed=None):
        del split, shuffle_files, seed
        return tf.data.Dataset.from_tensor_slices(data).map(dense).cache().repeat()

    if name in seqio.TaskRegistry.names():
        seqio.TaskRegistry.remove(name)
    return seqio.TaskRegistry.add(
        name, source=seqio.FunctionDataSource(source_fn, splits=["train"]),
        output_features=source_task.output_features, preprocessors=[], shuffle_buffer_size=1000)


def main(argv):
    del argv
    if FLAGS.cores and hasattr(os, "sched_setaffinity"):
        os.sched_setaffinity(0, set(sorted(os.sched_getaffinity(0))[: FLAGS.cores]))
    import seqio

    import symjax.tasks as T
    from symjax.sql import encode_blocks, examples
    from symjax.tasks.settings import get_vocabulary
    from symjax.tasks.tokenizers import tokenizer_for

    if FLAGS.vocabulary:
        T.set_vocabulary(FLAGS.vocabulary)
    lengths = {"inputs": FLAGS.inputs, "targets": FLAGS.targets}
    task = seqio.get_mixture_or_task(FLAGS.task)
    vocabulary = get_vocabulary()
    config = task.source.fitted_config(lengths, tokenizer_for(vocabulary))
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    print(f"machine: {platform.processor() or platform.machine()}, {cores} of {os.cpu_count()} cores, "
          f"python {platform.python_version()}")
    print(f"task {FLAGS.task}, lengths {lengths}, vocabulary {type(vocabulary).__name__} "
          f"({getattr(vocabulary, 'sentencepiece_model_file', 'bytes')})")

    floor_examples = encode_blocks(12345, range(200), config=config)
    floor = _floor_task("symjax_benchmark_floor", task, lengths, floor_examples)

    rates: dict[str, list[float]] = {"raw": [], "encoded": [], "seqio": [], "floor": []}
    block = itertools.count(10_000, 400)
    for r in range(FLAGS.rounds):
        stream = examples(1000 + r, config=config)
        rates["raw"].append(_timed(stream, lambda _: 1, FLAGS.seconds))

        def chunks():
            while True:
                start = next(block)
                yield encode_blocks(7, range(start, start + 8), config=config)

        rates["encoded"].append(_timed(chunks(), len, FLAGS.seconds))
        ds = task.get_dataset(lengths, split="train", shuffle=True, seed=r)
        rates["seqio"].append(_timed(_batched(ds, lengths), lambda b: len(b["inputs"]), FLAGS.seconds))
        ds = floor.get_dataset(lengths, split="train", shuffle=True, seed=r)
        rates["floor"].append(_timed(_batched(ds, lengths), lambda b: len(b["inputs"]), FLAGS.seconds))
        print(f"round {r}: " + ", ".join(f"{k} {v[-1]:,.0f}" for k, v in rates.items()) + " examples/s; "
              f"seqio/raw {rates['seqio'][-1] / rates['raw'][-1]:.2f}, "
              f"seqio/floor {rates['seqio'][-1] / rates['floor'][-1]:.2f}", flush=True)

    med = {k: statistics.median(v) for k, v in rates.items()}
    over_raw = statistics.median(s / w for s, w in zip(rates["seqio"], rates["raw"]))
    over_floor = statistics.median(s / f for s, f in zip(rates["seqio"], rates["floor"]))
    print(" ".join(f"{k}={v:.0f}" for k, v in med.items())
          + f" seqio_over_raw={over_raw:.2f} seqio_over_floor={over_floor:.2f}")


if __name__ == "__main__":
    app.run(main)
