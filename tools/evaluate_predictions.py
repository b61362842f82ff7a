r"""Score a predictions file on a benchmark with the paper's metric and the official one.

    python tools/evaluate_predictions.py --benchmark=wtq --data_dir=/data/WikiTableQuestions \
        --split=pristine-unseen-tables --predictions=/tmp/wtq_predictions.jsonl

``--predictions`` is JSONL: ``{"id": "nu-0", "prediction": "..."}`` per line, or t5x
``infer`` output of a symjax eval task (the id is read from ``inputs.id``). Every gold id
of the split must be predicted (``--allow_missing`` counts the missing ones wrong); an
unknown or repeated id, or a malformed line, is an error that names the line.

``--benchmark`` is one of wtq, sqa, wikisql, tabfact, svamp, bbh, mmlu; ``--data_dir`` is
that benchmark's folder of official raw files (default ``$SYMJAX_DATA_DIR/<benchmark>``);
``--split`` is the raw file stem (default: the benchmark's test file, e.g.
``pristine-unseen-tables``, ``test``, ``dev``). Layouts: ``symjax/tasks/table_qa.py``,
``wikisql.py``, ``general.py``.

Prints a table of every metric, then, as the last line, one JSON object with at least
``official_accuracy``, ``denotation_accuracy`` (both in percent) and ``num_examples``.
Runs without seqio or TensorFlow (pure Python, about a second for WTQ's 4,344 questions).
"""
from __future__ import annotations

import json
import os
import sys

os.environ.setdefault("SYMJAX_TASKS_REGISTER", "0")  # no seqio/TensorFlow import needed here

from absl import app, flags  # noqa: E402

FLAGS = flags.FLAGS
flags.DEFINE_enum("benchmark", None, ["wtq", "sqa", "wikisql", "tabfact", "svamp", "bbh", "mmlu"], "Benchmark.")
flags.DEFINE_string("data_dir", None, "The benchmark's folder of raw files (default $SYMJAX_DATA_DIR/<benchmark>).")
flags.DEFINE_string("split", None, "Raw file stem of the split (default: the benchmark's test file).")
flags.DEFINE_string("predictions", None, "JSONL predictions file.")
flags.DEFINE_bool("allow_missing", False, "Count gold ids without a prediction as wrong instead of failing.")
flags.DEFINE_string("part", None, "Only this BBH task or MMLU subject.")
flags.DEFINE_integer("max_input_chars", 6500, "Table prompt budget (WikiSQL golds are computed on the cut table).")
flags.mark_flags_as_required(["benchmark", "predictions"])


def _format_table(metrics: dict) -> str:
    width = max(len(k) for k in metrics)
    lines = [f"{'metric':<{width}}  value", f"{'-' * width}  -----"]
    for key, value in metrics.items():
        shown = f"{value:.2f}" if isinstance(value, float) else str(value)
        lines.append(f"{key:<{width}}  {shown}")
    return "\n".join(lines)


def main(argv):
    if len(argv) > 1:
        raise app.UsageError(f"unexpected arguments: {argv[1:]}")
    from symjax.errors import SymjaxError
    from symjax.tasks.benchmarks import load_golds
    from symjax.tasks.predictions import evaluate_file
    from symjax.tasks.records import TablePromptConfig
    from symjax.tasks.settings import benchmark_dir, split_file

    bench = FLAGS.benchmark
    try:
        root = FLAGS.data_dir or benchmark_dir(bench)
        split = FLAGS.split or split_file(bench, "test")
        config = TablePromptConfig(max_input_chars=FLAGS.max_input_chars or None)
        golds = load_golds(bench, split, root=root, part=FLAGS.part, config=config)
        metrics = evaluate_file(bench, FLAGS.predictions, golds, allow_missing=FLAGS.allow_missing)
    except SymjaxError as e:
        print(f"error: {e}", file=sys.stderr)
        return 1
    first = ["official_accuracy", "denotation_accuracy", "num_examples"]
    ordered = {k: metrics[k] for k in first if k in metrics}
    ordered.update((k, v) for k, v in metrics.items() if k not in ordered)
    print(f"{bench} {split} ({FLAGS.predictions})")
    print(_format_table(ordered))
    print(json.dumps({"benchmark": bench, "split": split, **ordered}, sort_keys=False))
    return 0


if __name__ == "__main__":
    app.run(lambda argv: sys.exit(main(argv)))
