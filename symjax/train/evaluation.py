"""Evaluation of a model on seqio tasks: teacher-forced loss and decoding with ``seqio.Evaluator``.

:class:`DecodingEvaluator` wraps one ``seqio.Evaluator`` per eval mixture (built once, it
caches the finite eval split in memory) and decodes with symjax's greedy decoder in fixed
batches (one compilation). Predictions, postprocessing and metrics are seqio's: each task's
``postprocess_fn`` and ``metric_fns``, so the figures are the benchmarks' own metrics.
``seqio.JSONLogger`` writes ``<log_dir>/<task>-<step>.jsonl`` (inputs, prediction, target)
and ``<task>-metrics.jsonl``.

On several hosts every host decodes the whole eval set with the global (sharded)
parameters; eval sets are small (about 1,000 examples per task).

:func:`teacher_forced_loss` runs the eval step over a finite split of each task.
"""
from __future__ import annotations

import logging
import time
from typing import Any, Callable, Mapping, Sequence

import jax
import numpy as np

from symjax.errors import ConfigError
from symjax.model import T5, greedy_decode
from symjax.train import data as data_lib
from symjax.train.step import summarize

__all__ = ["DecodingEvaluator", "teacher_forced_loss", "metric_value", "eval_task_names"]

log = logging.getLogger(__name__)


def metric_value(value: Any) -> Any:
    """A seqio metric (``seqio.metrics.Scalar`` or a plain number) as a Python number."""
    value = getattr(value, "value", value)
    if isinstance(value, np.generic):
        value = value.item()
    return value


def eval_task_names(name: str, split: str) -> list[str]:
    """The tasks of ``name`` that have ``split`` and metrics (what seqio evaluates)."""
    import seqio

    provider = data_lib.get_provider(name)
    tasks = seqio.get_subtasks(provider)
    return [t.name for t in tasks if split in t.splits and (t.metric_fns or t.predict_metric_fns)]


class DecodingEvaluator:
    """Decoding eval of one mixture or task with ``seqio.Evaluator`` (module docstring)."""

    def __init__(self, *, name: str, split: str, feature_lengths: Mapping[str, int],
                 batch_size: int, max_decode_length: int | None = None,
                 num_examples: int | None = None, log_dir: str | None = None):
        import seqio

        if not eval_task_names(name, split):
            raise ConfigError(
                f"{name!r} has no task with a {split!r} split and metrics to evaluate; pick "
                "an eval mixture such as symjax_table_qa or a task's validation split"
            )
        self.name = name
        self.batch_size = batch_size
        self.max_decode_length = max_decode_length or int(feature_lengths["targets"])
        if log_dir:
            from etils import epath

            epath.Path(log_dir).mkdir(parents=True, exist_ok=True)
        started = time.perf_counter()
        self._evaluator = seqio.Evaluator(
            mixture_or_task_name=name,
            feature_converter=data_lib.feature_converter(pack=False),
            eval_split=split, sequence_length=dict(feature_lengths), num_examples=num_examples,
            logger_cls=[seqio.JSONLogger] if log_dir else (), log_dir=log_dir,
            async_compute_metrics=False,
        )
        log.info("built the %s eval of %s in %.1f s", split, name, time.perf_counter() - started)

    @property
    def task_names(self) -> list[str]:
        return [t.name for t in self._evaluator.eval_tasks]

    def _predict_fn(self, model: T5, params: Any) -> Callable[[Any], list[tuple[int, np.ndarray]]]:
        eos = model.config.eos_id

        def predict(dataset: Any) -> list[tuple[int, np.ndarray]]:
            out: list[tuple[int, np.ndarray]] = []
            indices: list[int] = []
            rows: list[np.ndarray] = []

            def flush() -> None:
                if not rows:
                    return
                batch = np.stack(rows)
                n = batch.shape[0]
                if n < self.batch_size:
                    batch = np.concatenate([batch, np.zeros((self.batch_size - n, batch.shape[1]), batch.dtype)])
                batch[n:, 0] = eos  # padding rows: one real token, so attention is defined
                result = greedy_decode(model=model, params=params, encoder_input_tokens=batch,
                                       max_decode_length=self.max_decode_length)
                tokens = np.asarray(jax.device_get(result.tokens))[:n]
                # full rows, as t5x: seqio's vocabulary.decode drops everything after EOS
                out.extend((i, t) for i, t in zip(indices, tokens))
                indices.clear()
                rows.clear()

            for index, features in dataset.as_numpy_iterator():
                indices.append(int(index))
                rows.append(np.asarray(features["encoder_input_tokens"], np.int32))
                if len(rows) == self.batch_size:
                    flush()
            flush()
            return out

        return predict

    def evaluate(self, *, model: T5, params: Any, step: int) -> dict[str, dict[str, Any]]:
        """``{task: {metric: value}}`` of the model's greedy predictions."""
        started = time.perf_counter()
        future, _ = self._evaluator.evaluate(compute_metrics=True, step=step,
                                             predict_fn=self._predict_fn(model, params))
        results = future.result() or {}
        log.info("decoding eval of %s at step %d took %.1f s", self.name, step,
                 time.perf_counter() - started)
        return {task: {k: metric_value(v) for k, v in metrics.items()}
                for task, metrics in results.items()}

    def close(self) -> None:
        self._evaluator.close()


def teacher_forced_loss(*, names: Sequence[str], split: str, feature_lengths: Mapping[str, int],
                        batch_size: int, eval_step: Callable[[Any, Any], Any], params: Any,
                        put: Callable[[dict], Any], max_batches: int | None = None
                        ) -> dict[str, dict[str, float]]:
    """``{task: {cross_ent_loss, accuracy, ...}}`` over ``split`` of each task of ``names``."""
    results: dict[str, dict[str, float]] = {}
    for name in names:
        for task in eval_task_names(name, split):
            if task in results:
                continue
            totals: dict[str, float] = {}
            for batch in data_lib.eval_batches(name=task, feature_lengths=feature_lengths,
                                               batch_size=batch_size, split=split,
                                               max_batches=max_batches):
                sums = jax.device_get(eval_step(params, put(batch)))
                sums.pop("loss", None)  # per-token figures only: the sum depends on batching
                for k, v in sums.items():
                    totals[k] = totals.get(k, 0.0) + float(v)
            if totals:
                results[task] = summarize(totals)
    return results
