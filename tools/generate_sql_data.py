r"""Generate SQL-execution examples to JSONL or sharded TFRecord files.

    python tools/generate_sql_data.py --num_examples=100000 --output=/tmp/sql/train \
        --format=tfrecord --num_shards=8 --seed=0 --inputs_length=2048 --targets_length=128

With ``--inputs_length``/``--targets_length`` (and ``--vocabulary``) every example is
fitted to those lengths as the seqio task fits them, so a model reading the files at those
lengths sees every example whole; without, the character budget ``--max_input_chars``.

Output file ``i`` of ``n`` holds shard ``i`` of the stream (``symjax.sql.examples(seed,
shard_index=i, num_shards=n)``), so files are disjoint, reproducible one by one, and can be
written by separate processes (``--workers``). Prints a progress bar, then a summary:
examples per family, answer sizes, input-length percentiles.
"""
from __future__ import annotations

import collections
import itertools
import json
import multiprocessing
import os
import sys
import time

from absl import app, flags

FLAGS = flags.FLAGS
flags.DEFINE_integer("num_examples", 10_000, "How many examples in total.")
flags.DEFINE_integer("seed", 0, "Stream seed.")
flags.DEFINE_string("output", None, "Output path prefix (JSONL: a file, or a prefix with --num_shards > 1).")
flags.DEFINE_enum("format", "jsonl", ["jsonl", "tfrecord"], "Output format.")
flags.DEFINE_integer("num_shards", 1, "Number of output files (stream shards).")
flags.DEFINE_integer("workers", 1, "Processes writing shards in parallel.")
flags.DEFINE_enum("sql_style", "standard", ["standard", "tapex"], "SQL style in the inputs.")
flags.DEFINE_enum("table_style", "indexed", ["tapex", "indexed", "markdown"],
                  "Table linearization (default: the registered symjax_sql_execution task's).")
flags.DEFINE_string("instruction", "execute", "Instruction key (execute, result, run, answer) or text.")
flags.DEFINE_enum("layout", "sql_first", ["sql_first", "table_first"], "Prompt layout.")
flags.DEFINE_bool("lowercase", False, "Lower-case inputs and targets (TAPEX).")
flags.DEFINE_integer("queries_per_table", 16, "Queries sampled per table.")
flags.DEFINE_integer("max_input_chars", 6000,
                     "Character budget of the inputs (0: none; ignored with --inputs_length).")
flags.DEFINE_integer("inputs_length", 0,
                     "Fit every example to a model's input length in tokens of --vocabulary (EOS "
                     "included), as the seqio task does: tables are cut before execution, queries "
                     "that still do not fit are left out. 0: the character budget.")
flags.DEFINE_integer("targets_length", 0, "With --inputs_length: the target length in tokens (EOS included).")
flags.DEFINE_string("vocabulary", "byte",
                    "With --inputs_length: 'byte' (seqio.ByteVocabulary) or a SentencePiece .model path.")
flags.DEFINE_string("families", None, "Family weights, e.g. 'count=1,superlative=2' (default: all).")
flags.DEFINE_enum("difficulty", "medium", ["easy", "medium", "hard"], "WHERE complexity.")
flags.DEFINE_string("tables_dir", None, "Sample SQL over the tables in this directory instead of synthetic ones.")
flags.mark_flag_as_required("output")


def _config():
    from symjax.errors import ConfigError
    from symjax.sql import SamplerConfig, StreamConfig

    weights = None
    if FLAGS.families:
        weights = {}
        for item in FLAGS.families.split(","):
            name, _, w = item.partition("=")
            try:
                weights[name.strip()] = float(w) if w else 1.0
            except ValueError:
                raise ConfigError(f"--families: bad weight in {item!r}; use name=number") from None
    fit: dict = {}
    if FLAGS.inputs_length or FLAGS.targets_length:
        if FLAGS.inputs_length < 2 or FLAGS.targets_length < 2:
            raise ConfigError(
                f"--inputs_length and --targets_length go together and must be >= 2 tokens, got "
                f"{FLAGS.inputs_length} and {FLAGS.targets_length}")
        fit = dict(tokenizer=_tokenizer(), max_input_tokens=FLAGS.inputs_length - 1,
                   max_target_tokens=FLAGS.targets_length - 1)
    return StreamConfig(
        tables=FLAGS.tables_dir,
        sampler=SamplerConfig(family_weights=weights, difficulty=FLAGS.difficulty),
        queries_per_table=FLAGS.queries_per_table,
        sql_style=FLAGS.sql_style,
        table_style=FLAGS.table_style,
        instruction=FLAGS.instruction,
        layout=FLAGS.layout,
        lowercase=FLAGS.lowercase,
        max_input_chars=None if fit else (FLAGS.max_input_chars or None),
        **fit,
    )


def _tokenizer():
    from symjax.sql.text.tokens import ByteTokenizer

    if FLAGS.vocabulary == "byte":
        return ByteTokenizer()
    import seqio

    from symjax.tasks.tokenizers import tokenizer_for

    return tokenizer_for(seqio.SentencePieceVocabulary(FLAGS.vocabulary))


def _shard_path(i: int, n: int) -> str:
    ext = ".jsonl" if FLAGS.format == "jsonl" else ".tfrecord"
    if n == 1:
        return FLAGS.output if FLAGS.output.endswith(ext) else FLAGS.output + ext
    return f"{FLAGS.output}-{i:05d}-of-{n:05d}{ext}"


def _write_shard(args):
    i, n, count, flag_values, progress = args
    if flag_values is not None:  # in a worker process
        FLAGS(flag_values)
    from symjax.sql import examples
    from symjax.sql.export.records import JsonlWriter, TFRecordWriter

    writer_cls = JsonlWriter if FLAGS.format == "jsonl" else TFRecordWriter
    stats = {"families": collections.Counter(), "answer_sizes": collections.Counter(), "lengths": []}
    with writer_cls(_shard_path(i, n)) as writer:
        for e in itertools.islice(examples(FLAGS.seed, shard_index=i, num_shards=n, config=_config()), count):
            writer.write_example(e)
            stats["families"][e.family] += 1
            stats["answer_sizes"][len(e.answer)] += 1
            stats["lengths"].append(len(e.inputs))
            if progress is not None:
                progress.update(1)
    return stats


def _percentile(sorted_values, q):
    if not sorted_values:
        return 0
    return sorted_values[min(len(sorted_values) - 1, int(q / 100 * len(sorted_values)))]


def main(argv):
    del argv
    from tqdm import tqdm

    n = FLAGS.num_shards
    if n < 1 or FLAGS.num_examples < 0:
        raise app.UsageError("--num_shards must be >= 1 and --num_examples >= 0")
    _config()  # validate before any work
    parent = os.path.dirname(os.path.abspath(_shard_path(0, n)))
    os.makedirs(parent, exist_ok=True)
    counts = [FLAGS.num_examples // n + (1 if i < FLAGS.num_examples % n else 0) for i in range(n)]
    start = time.perf_counter()
    results = []
    if FLAGS.workers > 1 and n > 1:
        argv_copy = list(sys.argv)
        with multiprocessing.get_context("spawn").Pool(FLAGS.workers) as pool:
            with tqdm(total=n, desc="shards", unit="shard") as bar:
                for stats in pool.imap_unordered(_write_shard, [(i, n, counts[i], argv_copy, None) for i in range(n)]):
                    results.append(stats)
                    bar.update(1)
    else:
        with tqdm(total=FLAGS.num_examples, desc="examples", unit="ex", mininterval=0.5) as bar:
            for i in range(n):
                results.append(_write_shard((i, n, counts[i], None, bar)))
    elapsed = time.perf_counter() - start
    families = collections.Counter()
    sizes = collections.Counter()
    lengths = []
    for s in results:
        families.update(s["families"])
        sizes.update(s["answer_sizes"])
        lengths.extend(s["lengths"])
    lengths.sort()
    total = sum(families.values())
    print(f"\nwrote {total} examples to {n} file(s) in {elapsed:.1f}s ({total / max(elapsed, 1e-9):.0f} examples/s)")
    print("examples per family:")
    for fam, c in sorted(families.items(), key=lambda kv: -kv[1]):
        print(f"  {fam:<16} {c:>9}  {100 * c / max(total, 1):5.1f}%")
    print("answer sizes: " + ", ".join(f"{k}: {v}" for k, v in sorted(sizes.items())))
    pct = {q: _percentile(lengths, q) for q in (50, 90, 99)}
    print(f"input chars: p50={pct[50]} p90={pct[90]} p99={pct[99]} max={lengths[-1] if lengths else 0}")
    summary = {"examples": total, "files": [_shard_path(i, n) for i in range(n)], "families": dict(families),
               "answer_sizes": {str(k): v for k, v in sizes.items()}, "input_chars": pct}
    print(json.dumps(summary))


if __name__ == "__main__":
    app.run(main)
