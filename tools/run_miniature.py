r"""Run the pre-registered miniature (README "The miniature") and print its table.

    python tools/run_miniature.py                      # arms A and B, seeds 0 1 2
    python tools/run_miniature.py --seeds=0 --train_steps=4 --num_examples=32   # a smoke run

For each arm (``gin/experiments/miniature_arm_{a,b}.gin``) and seed: ``python -m
symjax.train`` into ``OUTPUT_DIR/arm_X/seed_S`` (``TrainConfig.seed = S``), then ``python -m
symjax.eval`` with ``gin/experiments/miniature_eval.gin`` (English questions of the seen and
held-out families, validation split). ``--jobs`` runs that many runs at once. The table gives,
per family, the majority baseline and each arm's denotation accuracy as mean and standard
deviation over the seeds (held-out families first: the question the miniature asks), and
is written to ``OUTPUT_DIR/results.md`` with the raw figures in ``OUTPUT_DIR/results.json``
(each as a temporary file renamed into place). A run whose checkpoint and metrics are already
there is not run again, so an interrupted command picks up where it stopped.
"""
from __future__ import annotations

import concurrent.futures
import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

from absl import app, flags

REPO = Path(__file__).resolve().parents[1]
flags.DEFINE_string("output_dir", "/tmp/symjax/miniature", "where the runs and the results go")
flags.DEFINE_list("seeds", ["0", "1", "2"], "seeds of each arm (TrainConfig.seed)")
flags.DEFINE_list("arms", ["a", "b"], "arms to run")
flags.DEFINE_integer("jobs", 2, "runs at once")
flags.DEFINE_integer("train_steps", None, "override the pre-registered 1,200 steps (smoke runs only)")
flags.DEFINE_integer("num_examples", None, "evaluate on this many examples per task (smoke runs only)")
FLAGS = flags.FLAGS


def _gin(name: str) -> str:
    return str(REPO / "gin" / "experiments" / name)


def _run(cmd: list[str], log: Path) -> None:
    with log.open("w") as f:
        r = subprocess.run(cmd, cwd=REPO, stdout=f, stderr=subprocess.STDOUT)
    if r.returncode != 0:
        tail = log.read_text(errors="replace").splitlines()[-15:]
        raise RuntimeError(f"{' '.join(cmd[:4])} ... failed (exit {r.returncode}); {log}:\n" + "\n".join(tail))


def run_one(arm: str, seed: int) -> dict:
    """Train and evaluate one arm and seed; returns the eval's metrics by task."""
    run_dir = Path(FLAGS.output_dir) / f"arm_{arm}" / f"seed_{seed}"
    metrics_file = run_dir / "zero_shot" / "metrics.json"
    if metrics_file.exists():
        return json.loads(metrics_file.read_text())["metrics"]
    run_dir.mkdir(parents=True, exist_ok=True)
    arm_gin = _gin(f"miniature_arm_{arm}.gin")
    common = [f"--gin.MODEL_DIR='{run_dir}'"]
    train = [sys.executable, "-m", "symjax.train", f"--gin_file={arm_gin}", *common, f"--gin.TrainConfig.seed={seed}"]
    if FLAGS.train_steps is not None:
        train += [f"--gin.TrainConfig.train_steps={FLAGS.train_steps}",
                  f"--gin.TrainConfig.checkpoint_period={FLAGS.train_steps}"]
    evaluate = [sys.executable, "-m", "symjax.eval", f"--gin_file={arm_gin}", f"--gin_file={_gin('miniature_eval.gin')}",
                *common, f"--gin.EVAL_OUTPUT_DIR='{run_dir / 'zero_shot'}'"]
    if FLAGS.num_examples is not None:
        evaluate.append(f"--gin.EvalConfig.num_examples={FLAGS.num_examples}")
    start = time.perf_counter()
    _run(train, run_dir / "train.log")
    _run(evaluate, run_dir / "eval.log")
    print(f"arm {arm} seed {seed}: trained and evaluated in {time.perf_counter() - start:.0f} s", flush=True)
    return json.loads(metrics_file.read_text())["metrics"]


def _stats(values: list[float]) -> str:
    if not values:
        return ""
    spread = statistics.stdev(values) if len(values) > 1 else 0.0
    return f"{statistics.mean(values):.1f} ± {spread:.1f}"


def table(results: dict[str, dict[int, dict]]) -> str:
    """The markdown table: per task and family, the majority baseline and each arm's
    accuracy (mean ± standard deviation over seeds)."""
    from symjax.tasks import miniature

    arms = sorted(results)
    head = "| questions | family | examples | majority baseline | " + " | ".join(
        f"arm {a.upper()}" for a in arms) + " |"
    rows = [head, "|" + " --- |" * (4 + len(arms))]
    tasks = (("held-out", "symjax_table_questions_mini_held_out", miniature.HELD_OUT_FAMILIES),
             ("seen", "symjax_table_questions_mini_seen", miniature.SEEN_FAMILIES))
    for label, task, families in tasks:
        for family in (None, *families):
            key = "denotation_accuracy" + ("" if family is None else f"/{family}")
            base_key = "majority_baseline" + ("" if family is None else f"/{family}")
            count_key = "num_examples" + ("" if family is None else f"/{family}")
            any_run = next(iter(next(iter(results.values())).values()))[task]
            cells = [_stats([runs[s][task][key] for s in sorted(runs) if key in runs[s][task]])
                     for runs in (results[a] for a in arms)]
            base = any_run.get(base_key)
            rows.append(f"| {label} | {family or 'all'} | {any_run.get(count_key, '')} | "
                        f"{'' if base is None else f'{base:.1f}'} | " + " | ".join(cells) + " |")
    return "\n".join(rows)


def _write(path: Path, text: str) -> None:
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(text)
    os.replace(tmp, path)


def main(argv: list[str]) -> None:
    del argv
    seeds = [int(s) for s in FLAGS.seeds]
    jobs = [(arm, s) for s in seeds for arm in FLAGS.arms]
    results: dict[str, dict[int, dict]] = {arm: {} for arm in FLAGS.arms}
    with concurrent.futures.ThreadPoolExecutor(max_workers=max(1, FLAGS.jobs)) as pool:
        futures = {pool.submit(run_one, arm, s): (arm, s) for arm, s in jobs}
        for done in concurrent.futures.as_completed(futures):
            arm, s = futures[done]
            results[arm][s] = done.result()
    out = Path(FLAGS.output_dir)
    text = table(results)
    _write(out / "results.json", json.dumps(results, indent=1, sort_keys=True))
    _write(out / "results.md", text + "\n")
    print(text)


if __name__ == "__main__":
    app.run(main)
