"""Zero-shot evaluation of a checkpoint: :class:`EvalConfig` and :func:`evaluate`.

``evaluate(config)`` loads the weights (a symjax run directory or train checkpoint, symjax
weights, Hugging Face safetensors or a t5x checkpoint), decodes every task of each mixture
in ``mixtures`` greedily and scores the predictions with each task's seqio metrics. It
writes to ``output_dir``:

* ``<task>-<step>.jsonl``: one line per example (inputs, prediction, target), seqio's
  ``JSONLogger`` format, read by ``tools/evaluate_predictions.py``;
* ``metrics.json``: ``{task: {metric: value}}`` (benchmark tasks also give
  ``examples_left_out``: examples that cannot fit the lengths even with the table cut and
  the shots dropped, which are not in the dataset and so not scored);
* ``report.md``: a markdown table (task, examples, main metric, all metrics);
* TensorBoard events under ``output_dir/inference_eval`` and ``metrics.jsonl``.

and returns the metrics; :func:`format_table` is the table the binary prints.
"""
from __future__ import annotations

import dataclasses
import json
import logging
import time
from typing import Any, Mapping

import jax

from symjax.errors import ConfigError
from symjax.model import T5, T5Config, abstract_params
from symjax.train import data as data_lib
from symjax.train import partitioning as part
from symjax.train.checkpoints import resolve_checkpoint
from symjax.train.evaluation import DecodingEvaluator
from symjax.train.summaries import MetricsWriter
from symjax.train.trainer import build_mesh, load_model_params, use_run_vocabulary

__all__ = ["EvalConfig", "evaluate", "format_table", "markdown_report", "MAIN_METRICS"]

log = logging.getLogger(__name__)

# The figure a report leads with, by preference.
MAIN_METRICS = ("accuracy", "denotation_accuracy", "official_accuracy", "exact_match",
                "sequence_accuracy", "micro_accuracy")


@dataclasses.dataclass(frozen=True)
class EvalConfig:
    """A zero-shot evaluation (gin binds it in ``gin/runs/eval_zero_shot.gin``).

    ``checkpoint_path``: weights to evaluate (see :func:`symjax.train.load_model_params`);
    ``mixtures``: seqio eval mixtures or tasks; ``split``; ``task_feature_lengths``
    (inputs are truncated to it); ``batch_size``; ``max_decode_length`` (default the targets
    length); ``num_examples`` per task (``None``: all); ``vocabulary`` as in
    :class:`symjax.train.TrainConfig`; ``mesh``; ``output_dir``; ``step`` labels the
    outputs (default: the checkpoint's step when known, else 0).
    """

    model: T5Config
    checkpoint_path: str
    output_dir: str
    mixtures: tuple[str, ...]
    task_feature_lengths: Mapping[str, int]
    split: str = "validation"
    batch_size: int = 32
    max_decode_length: int | None = None
    num_examples: int | None = None
    vocabulary: str = "default"
    mesh: str = "model:1"
    step: int | None = None

    def __post_init__(self) -> None:
        if not self.mixtures:
            raise ConfigError("EvalConfig.mixtures is empty; name eval mixtures, e.g. ('symjax_table_qa',)")
        if isinstance(self.mixtures, str):
            object.__setattr__(self, "mixtures", (self.mixtures,))
        object.__setattr__(self, "mixtures", tuple(self.mixtures))
        object.__setattr__(self, "task_feature_lengths", dict(self.task_feature_lengths))
        if not self.output_dir:
            raise ConfigError("EvalConfig.output_dir is empty; set EVAL_OUTPUT_DIR")


def main_metric(metrics: Mapping[str, Any]) -> tuple[str, Any]:
    for name in MAIN_METRICS:
        if name in metrics:
            return name, metrics[name]
    numeric = [(k, v) for k, v in sorted(metrics.items()) if isinstance(v, (int, float))]
    return numeric[0] if numeric else ("", None)


def _fmt(v: Any) -> str:
    return f"{v:.2f}" if isinstance(v, float) else str(v)


def format_table(results: Mapping[str, Mapping[str, Any]]) -> str:
    """A plain-text table: per task its main metric, then any per-family breakdown
    (``<metric>/<family>``, with ``majority_baseline/<family>`` beside it), with example
    counts."""
    rows = [("task", "metric", "value", "majority baseline", "examples")]
    for task, metrics in sorted(results.items()):
        name, value = main_metric(metrics)
        rows.append((task, name, _fmt(value), _fmt(metrics.get("majority_baseline", "")),
                     _fmt(metrics.get("num_examples", ""))))
        for key in sorted(k for k in metrics if k.startswith(f"{name}/")):
            family = key.split("/", 1)[1]
            rows.append(("", f"  {family}", _fmt(metrics[key]),
                         _fmt(metrics.get(f"majority_baseline/{family}", "")),
                         _fmt(metrics.get(f"num_examples/{family}", ""))))
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
    return "\n".join("  ".join(c.ljust(w) for c, w in zip(r, widths)).rstrip() for r in rows)


def markdown_report(results: Mapping[str, Mapping[str, Any]], *, title: str) -> str:
    lines = [f"# {title}", "", "| task | main metric | value | all metrics |", "|---|---|---|---|"]
    for task, metrics in sorted(results.items()):
        name, value = main_metric(metrics)
        rest = ", ".join(f"{k} {_fmt(v)}" for k, v in sorted(metrics.items())
                         if isinstance(v, (int, float)) and k != name)
        lines.append(f"| {task} | {name} | {_fmt(value)} | {rest} |")
    return "\n".join(lines) + "\n"


def _left_out(task: str, split: str, lengths: Mapping[str, int]) -> int | None:
    """How many examples of a benchmark task could not fit ``lengths`` and are not in its
    dataset (:meth:`symjax.tasks.sources.BenchmarkSource.unfit`); ``None`` for other tasks."""
    import seqio

    unfit = getattr(seqio.get_mixture_or_task(task).source, "unfit", None)
    return None if unfit is None else len(unfit(split, dict(lengths)))


def evaluate(config: EvalConfig) -> dict[str, dict[str, Any]]:
    """Evaluate ``config.checkpoint_path`` (see the module docstring)."""
    started = time.perf_counter()
    vocabulary = use_run_vocabulary(config)
    for name in config.mixtures:
        data_lib.check_vocabularies(name=name, vocabulary=vocabulary,
                                    model_vocab_size=config.model.vocab_size)
    mesh = build_mesh(config.mesh)
    rules = part.standard_logical_axis_rules()
    part.check_config_fits_mesh(config=config.model, mesh=mesh, rules=rules)
    host_params = load_model_params(path=config.checkpoint_path, config=config.model)
    shardings = part.param_shardings(params=abstract_params(config=config.model), rules=rules,
                                     mesh=mesh)
    params = jax.device_put(host_params, shardings)
    step = config.step
    if step is None:  # the checkpoint's own step when it is a train checkpoint, else 0
        step = resolve_checkpoint(config.checkpoint_path)[1] or 0
    model = T5(config.model)
    from etils import epath

    out = epath.Path(config.output_dir)
    out.mkdir(parents=True, exist_ok=True)
    writer = MetricsWriter(model_dir=config.output_dir, enabled=jax.process_index() == 0)
    results: dict[str, dict[str, Any]] = {}
    try:
        with part.sharding_context(mesh=mesh, rules=rules):
            for name in config.mixtures:
                evaluator = DecodingEvaluator(
                    name=name, split=config.split, feature_lengths=config.task_feature_lengths,
                    batch_size=config.batch_size, max_decode_length=config.max_decode_length,
                    num_examples=config.num_examples, log_dir=config.output_dir)
                try:
                    for task, metrics in evaluator.evaluate(model=model, params=params, step=step).items():
                        left_out = _left_out(task, config.split, config.task_feature_lengths)
                        if left_out is not None:
                            metrics = {**metrics, "examples_left_out": left_out}
                        results[task] = metrics
                        writer.write(step=step, split="inference_eval",
                                     scalars={f"{task}/{k}": v for k, v in metrics.items()
                                              if isinstance(v, (int, float))})
                finally:
                    evaluator.close()
    finally:
        writer.close()
    if jax.process_index() == 0:
        (out / "metrics.json").write_text(json.dumps(
            {"checkpoint": config.checkpoint_path, "step": step, "split": config.split,
             "metrics": results}, indent=2, sort_keys=True))
        (out / "report.md").write_text(markdown_report(
            results, title=f"Zero-shot eval of {config.checkpoint_path} (step {step}, {config.split})"))
    log.info("evaluated %d tasks in %.1f s", len(results), time.perf_counter() - started)
    return results
