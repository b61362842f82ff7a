"""What a training run depends on: :class:`TrainConfig` (validated when built), the keys a
restart may change (:data:`TRAJECTORY_FREE_KEYS`) and :func:`config_differences`, which
names the ones that would change the trajectory; :class:`TrainResult` is what a run
returns. :func:`symjax.train.trainer.train` runs it.
"""
from __future__ import annotations

import dataclasses
import json
import math
from typing import Any, Mapping

from symjax.errors import ConfigError
from symjax.model import T5Config
from symjax.train.step import check_loss_normalizing_factor

__all__ = ["TRAJECTORY_FREE_KEYS", "TrainConfig", "TrainResult", "config_differences"]

# Keys a restart may change: they do not alter the parameters reached at a given step.
TRAJECTORY_FREE_KEYS = frozenset({
    "train_steps", "model_dir", "checkpoint_period", "keep_checkpoints", "async_checkpointing",
    "log_period", "eval_period", "eval_mixtures", "eval_split", "eval_loss_batches",
    "eval_batch_size", "infer_eval", "infer_num_examples", "max_decode_length",
    "stop_after_steps", "peak_tflops", "profile_steps",
})


@dataclasses.dataclass(frozen=True)
class TrainConfig:
    """Everything a training run depends on (gin binds it in ``gin/runs/*.gin``).

    Data: ``mixture_or_task_name`` (a registered seqio task or mixture),
    ``task_feature_lengths`` (``{"inputs": 2048, "targets": 128}``), ``batch_size`` (global,
    in packed sequences when ``pack``), ``vocabulary`` (``"default"`` = t5x's T5 1.1 /
    Flan-T5 SentencePiece model, ``"byte"``, or a SentencePiece path; symjax tasks are
    switched to it, other tasks must already use it), ``seed`` (shuffle and init),
    ``use_cached`` (seqio offline cache).

    Optimization: ``optimizer`` (``"adafactor"`` with t5x defaults or ``"adamw"``) with
    ``optimizer_kwargs``; ``learning_rate`` with ``warmup_steps`` and ``decay``
    (``"constant"``, ``"rsqrt"``, ``"linear"`` to ``final_learning_rate`` at
    ``decay_steps``, default ``train_steps``); ``accumulation_steps`` microbatches per
    step; ``z_loss``; ``loss_normalizing_factor`` (see :mod:`symjax.train.step`); dropout is
    the model's ``dropout_rate``; compute dtype the model's ``dtype``.

    Partitioning: ``mesh`` (``"model:8"``: the data axis takes the remaining devices, or
    ``"data:2,model:4"``), ``activation_partitioning_dims``,
    ``parameter_partitioning_dims`` (t5x's 1-D / 2-D rule tables).

    Checkpoints: ``initial_checkpoint`` (directory of symjax, Hugging Face safetensors or
    t5x weights, or ``None`` to train from scratch), ``checkpoint_period``,
    ``keep_checkpoints``, ``async_checkpointing``.

    Eval: every ``eval_period`` steps (and at the end) on ``eval_mixtures``' ``eval_split``:
    teacher-forced loss over ``eval_loss_batches`` batches (``None``: all) and, with
    ``infer_eval``, greedy decoding scored by the tasks' metrics
    (``infer_num_examples`` per task, ``None``: all; ``max_decode_length`` default the
    targets length).

    ``stop_after_steps`` ends this invocation early (as if preempted, but without a
    signal): for tests and for splitting a run into jobs.

    Utilization: each log line, TensorBoard and ``metrics.jsonl`` carry
    ``tflops_per_device`` (model FLOPs per step, :mod:`symjax.train.flops`, times steps/s,
    over the devices) and ``mfu`` (that over the device's peak bf16 rate). The peak comes
    from ``peak_tflops`` (TFLOP/s per jax device) when set, else from the device table
    (:mod:`symjax.train.hardware`) by the device's kind; on CPU or an unknown device ``mfu``
    is left out and the log line says "unknown peak". ``profile_steps = (start, stop)``
    writes a ``jax.profiler`` trace of steps ``start`` .. ``stop - 1`` to
    ``<model_dir>/train/plugins/profile/`` (TensorBoard's Profile tab, with the
    ``tensorboard-plugin-profile`` package).
    """

    model: T5Config
    model_dir: str
    mixture_or_task_name: str
    task_feature_lengths: Mapping[str, int]
    train_steps: int
    batch_size: int = 64
    vocabulary: str = "default"
    seed: int = 0
    pack: bool = True
    use_cached: bool = False
    optimizer: str = "adafactor"
    optimizer_kwargs: Mapping[str, Any] = dataclasses.field(default_factory=dict)
    learning_rate: float = 1e-3
    warmup_steps: int = 0
    decay: str = "constant"
    decay_steps: int | None = None
    final_learning_rate: float = 0.0
    accumulation_steps: int = 1
    z_loss: float = 1e-4
    loss_normalizing_factor: Any = None
    mesh: str = "model:1"
    activation_partitioning_dims: int = 1
    parameter_partitioning_dims: int = 1
    initial_checkpoint: str | None = None
    checkpoint_period: int = 1000
    keep_checkpoints: int | None = 3
    async_checkpointing: bool = True
    log_period: int = 100
    eval_period: int | None = None
    eval_mixtures: tuple[str, ...] = ()
    eval_split: str = "validation"
    eval_loss_batches: int | None = None
    eval_batch_size: int = 64
    infer_eval: bool = True
    infer_num_examples: int | None = None
    max_decode_length: int | None = None
    stop_after_steps: int | None = None
    peak_tflops: float | None = None
    profile_steps: tuple[int, int] | None = None

    def __post_init__(self) -> None:
        if not isinstance(self.model, T5Config):
            raise ConfigError(f"TrainConfig.model must be a T5Config, got {type(self.model).__name__}")
        if not self.model_dir:
            raise ConfigError("TrainConfig.model_dir is empty; set MODEL_DIR")
        lengths = dict(self.task_feature_lengths)
        if set(lengths) != {"inputs", "targets"} or min(lengths.values()) < 1:
            raise ConfigError(
                f"task_feature_lengths must be {{'inputs': n, 'targets': m}} with n, m >= 1, "
                f"got {lengths!r}"
            )
        for name in ("train_steps", "batch_size", "accumulation_steps", "checkpoint_period",
                     "log_period", "eval_batch_size"):
            value = getattr(self, name)
            if not _is_int(value, 1):
                raise ConfigError(f"TrainConfig.{name} must be an int >= 1, got {value!r}")
        for name, minimum in (("warmup_steps", 0), ("seed", 0), ("decay_steps", 1),
                              ("stop_after_steps", 1), ("keep_checkpoints", 1)):
            value = getattr(self, name)
            if not (_is_int(value, minimum) or (value is None and name not in ("warmup_steps", "seed"))):
                raise ConfigError(f"TrainConfig.{name} must be an int >= {minimum}"
                                  f"{'' if name in ('warmup_steps', 'seed') else ' or None'}, got {value!r}")
        for name, positive in (("learning_rate", True), ("final_learning_rate", False), ("z_loss", False)):
            value = getattr(self, name)
            if (not isinstance(value, (int, float)) or isinstance(value, bool) or not math.isfinite(value)
                    or value < 0 or (positive and value == 0)):
                raise ConfigError(
                    f"TrainConfig.{name} must be a finite number {'> 0' if positive else '>= 0'}, got "
                    f"{value!r}" + (" (a string: write the number without quotes, e.g. "
                                    f"--gin.TrainConfig.{name}=1e-3)" if isinstance(value, str) else ""))
        if self.batch_size % self.accumulation_steps:
            raise ConfigError(
                f"batch_size {self.batch_size} is not divisible by accumulation_steps "
                f"{self.accumulation_steps}"
            )
        if self.eval_period is not None and self.eval_period < 1:
            raise ConfigError(f"eval_period must be >= 1 or None, got {self.eval_period}")
        check_loss_normalizing_factor(self.loss_normalizing_factor)
        if self.peak_tflops is not None and (
                not isinstance(self.peak_tflops, (int, float)) or isinstance(self.peak_tflops, bool)
                or not math.isfinite(self.peak_tflops) or self.peak_tflops <= 0):
            raise ConfigError(f"TrainConfig.peak_tflops must be a number > 0 (TFLOP/s per "
                              f"device) or None, got {self.peak_tflops!r}")
        if self.profile_steps is not None:
            steps = self.profile_steps
            if (not isinstance(steps, (tuple, list)) or len(steps) != 2
                    or not all(_is_int(v, 1) for v in steps) or steps[0] >= steps[1]):
                raise ConfigError(
                    f"TrainConfig.profile_steps must be (start, stop) with 1 <= start < stop "
                    f"(steps start .. stop - 1 are traced), or None; got {steps!r}")
            object.__setattr__(self, "profile_steps", tuple(steps))
        if self.decay == "linear" and self.decay_steps is None:
            # fixed now, so that a restart with more train_steps cannot bend the schedule
            object.__setattr__(self, "decay_steps", self.train_steps)
        object.__setattr__(self, "task_feature_lengths", lengths)
        object.__setattr__(self, "eval_mixtures", tuple(self.eval_mixtures))
        object.__setattr__(self, "optimizer_kwargs", dict(self.optimizer_kwargs))

    def to_dict(self) -> dict[str, Any]:
        out = {f.name: getattr(self, f.name) for f in dataclasses.fields(self)}
        out["model"] = self.model.to_dict()
        out["eval_mixtures"] = list(self.eval_mixtures)
        if self.profile_steps is not None:
            out["profile_steps"] = list(self.profile_steps)
        return json.loads(json.dumps(out))  # plain JSON types, as stored


@dataclasses.dataclass
class TrainResult:
    step: int
    preempted: bool
    metrics: dict[str, float]
    eval_metrics: dict[str, dict[str, Any]]
    params: Any = None


def _is_int(value: Any, minimum: int) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and value >= minimum


def config_differences(stored: Mapping[str, Any], current: Mapping[str, Any]) -> list[str]:
    """Keys (``model.d_model`` for nested ones) whose values differ and change the trajectory."""
    diffs = []
    for key in sorted(set(stored) | set(current)):
        if key in TRAJECTORY_FREE_KEYS:
            continue
        a, b = stored.get(key), current.get(key)
        if isinstance(a, Mapping) and isinstance(b, Mapping) and key == "model":
            diffs += [f"model.{k}: {a.get(k)!r} -> {b.get(k)!r}"
                      for k in sorted(set(a) | set(b)) if a.get(k) != b.get(k)]
        elif a != b:
            diffs.append(f"{key}: {a!r} -> {b!r}")
    return diffs
