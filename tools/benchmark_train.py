"""Trainer speed: steps/s and tokens/s of ``python -m symjax.train`` on a gin config.

    python tools/benchmark_train.py --gin_file=gin/bench/cpu_anchor.gin [--steps=60] [--warmup=5]

Runs the real trainer (data pipeline, jitted step, host metrics) with a fresh temporary
MODEL_DIR, logging every step, and reports the median over the steps after ``--warmup``
(the first includes compilation) of each step's rate, as t5x reports
``timing/steps_per_second``. Checkpointing is off except the final save. The last line is
``steps_per_s=<x> tokens_per_s=<y>`` (tokens: non-padding target tokens, t5x's count).

Anchor: upstream t5x ran ``gin/bench/cpu_anchor.gin``'s configuration at 0.73 steps/s on
the project's 2-core CPU machine (``gin/t5x/bench_cpu_anchor.gin`` reproduces it when t5x
is installed).
"""
from __future__ import annotations

import json
import os
import statistics
import sys
import tempfile

from absl import app, flags

flags.DEFINE_multi_string("gin_file", [], "gin config files")
flags.DEFINE_multi_string("gin_bindings", [], "extra gin bindings")
flags.DEFINE_integer("steps", 60, "train steps to run")
flags.DEFINE_integer("warmup", 5, "steps left out of the median (compilation, pipeline start)")
FLAGS = flags.FLAGS


def main(argv):
    del argv
    from symjax.train.binary import build_from_gin, parse_gin
    from symjax.train.trainer import train

    with tempfile.TemporaryDirectory() as tmp:
        model_dir = os.path.join(tmp, "run")
        bindings = list(FLAGS.gin_bindings) + [
            f"MODEL_DIR = '{model_dir}'", f"TrainConfig.train_steps = {FLAGS.steps}",
            "TrainConfig.log_period = 1", "TrainConfig.checkpoint_period = 1000000",
            "TrainConfig.eval_mixtures = []", "TrainConfig.async_checkpointing = False",
        ]
        parse_gin(files=FLAGS.gin_file, bindings=bindings)
        config = build_from_gin("TrainConfig")
        train(config)
        with open(os.path.join(model_dir, "metrics.jsonl"), encoding="utf-8") as f:
            records = [json.loads(line) for line in f if line.strip()]
    rows = [r for r in records if r.get("split") == "train" and r["step"] > FLAGS.warmup]
    if not rows:
        sys.exit(f"no steps after warmup {FLAGS.warmup}; raise --steps")
    steps_per_s = statistics.median(r["steps_per_s"] for r in rows)
    tokens_per_s = statistics.median(r["tokens_per_s"] for r in rows)
    print(f"model {config.model.name}, batch {config.batch_size}, lengths "
          f"{config.task_feature_lengths}, {len(rows)} steps measured")
    print(f"steps_per_s={steps_per_s:.3f} tokens_per_s={tokens_per_s:.1f}")


if __name__ == "__main__":
    app.run(main)
