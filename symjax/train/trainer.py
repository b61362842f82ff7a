"""The trainer: :class:`TrainConfig` and :func:`train`.

``train(config)`` runs t5x's fine-tuning loop on a ``jax.sharding.Mesh`` (``data`` x
``model``):

1. the run directory (:mod:`symjax.train.rundir`): the trainer holds its lock
   (``run.lock``: a second trainer is refused, a dead one's lock taken over); a restart
   with a config that differs from the stored ``config.json`` in a key that changes the
   trajectory is refused (:class:`ConfigError` naming the keys); keys that do not
   (``train_steps``, periods, eval settings) may change. ``config.json`` (and the binary's
   ``config.gin``) are written only once every check below has passed and the state is
   built, so a refused or failed start leaves them as they were;
2. the vocabulary check (the tasks' vocabulary is the run's, the model covers it);
3. parameters from ``initial_checkpoint`` (symjax, Hugging Face or t5x weights) or freshly
   initialised, sharded by the partitioning rules; the optimizer state's copies of the
   parameters (AdamW's moments) are sharded like them
   (:func:`symjax.train.partitioning.opt_state_shardings`), the rest replicated;
4. resume: the latest checkpoint in ``<model_dir>/checkpoints`` restores parameters,
   optimizer state, step and the input pipeline's saved position (constant time, no
   replay; :class:`symjax.train.data.TrainBatches`), so a run killed after step k and
   restarted reaches bitwise the same parameters at step n as an uninterrupted run (on CPU);
5. the loop: one jitted step per global batch (gradient accumulation inside), metrics every
   ``log_period`` steps (log line with rate, TFLOP/s per device, MFU and ETA; TensorBoard;
   ``metrics.jsonl``), a ``jax.profiler`` trace of ``profile_steps``,
   checkpoints every ``checkpoint_period`` steps (async), teacher-forced eval loss and
   ``seqio.Evaluator`` decoding eval on ``eval_mixtures`` every ``eval_period`` steps;
6. SIGTERM (TPU preemption) finishes the current step, saves, and returns
   ``TrainResult(preempted=True)`` (the binary exits 143); a NaN or infinite loss stops with
   :class:`TrainingError` before anything non-finite is saved, keeping the last good
   checkpoint.
"""
from __future__ import annotations

import dataclasses
import json
import logging
import math
import os
import signal
import time
from typing import Any, Mapping

import jax
import jax.numpy as jnp

from symjax.errors import CheckpointError, ConfigError, TrainingError
from symjax.model import (T5, T5Config, abstract_params, init_params, param_logical_axes)
from symjax.train import data as data_lib
from symjax.train import partitioning as part
from symjax.train.checkpoints import Checkpointer, read_params
from symjax.train.evaluation import DecodingEvaluator, teacher_forced_loss
from symjax.train.optimizers import learning_rate_schedule, make_optimizer
from symjax.train.rundir import RunLock, read_run_config, write_run_files
from symjax.train.step import (check_loss_normalizing_factor, make_eval_step, make_train_step,
                               summarize)
from symjax.train.flops import train_step_flops
from symjax.train.hardware import detect_device
from symjax.train.summaries import (MetricsWriter, Progress, StepProfiler, Utilization,
                                    format_duration)

__all__ = ["TrainConfig", "TrainResult", "train", "build_mesh", "build_step", "StepParts",
           "load_model_params",
           "TRAJECTORY_FREE_KEYS"]

log = logging.getLogger(__name__)

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


def _check_run_dir(config: TrainConfig) -> None:
    """Refuse a restart whose config changes the trajectory (nothing is written here: the
    config files are written once every check of the start has passed)."""
    stored = read_run_config(config.model_dir)
    if stored is None:
        return
    diffs = config_differences(stored, config.to_dict())
    if diffs:
        raise ConfigError(
            f"run directory {config.model_dir} holds a run with a different config "
            f"({os.path.join(config.model_dir, 'config.json')}); differing keys: {'; '.join(diffs)}. "
            "Use a new MODEL_DIR, or restore the old values"
        )


def build_mesh(spec: str) -> jax.sharding.Mesh:
    """``"model:8"`` (data takes the remaining devices) or ``"data:2,model:4"``."""
    sizes = part.parse_mesh_spec(spec)
    n = jax.device_count()
    if "data" not in spec:
        if n % sizes["model"]:
            raise ConfigError(
                f"mesh {spec!r}: model parallelism {sizes['model']} does not divide the "
                f"{n} devices; choose a model size that divides {n}"
            )
        sizes["data"] = n // sizes["model"]
    return part.make_mesh(data=sizes["data"], model=sizes["model"])


def use_run_vocabulary(config: TrainConfig) -> Any:
    """Switch the symjax tasks to the run's vocabulary (``config.vocabulary``); returns it."""
    from symjax.tasks import settings

    vocabulary = settings.vocabulary_from_spec(config.vocabulary)
    if settings.get_vocabulary() != vocabulary:
        log.info("switching symjax tasks to the run's vocabulary %r", config.vocabulary)
        settings.set_vocabulary(vocabulary)
    return vocabulary


def load_model_params(*, path: str, config: T5Config) -> Any:
    """Model weights from a directory of symjax weights (``config.json`` +
    ``params/``), Hugging Face safetensors, a t5x checkpoint, or a symjax train run /
    checkpoint (the parameters of its latest / that checkpoint). Host numpy arrays."""
    from etils import epath

    from symjax.model import weights

    if not path or not epath.Path(path).exists():
        raise CheckpointError(
            f"checkpoint {path!r} does not exist; give a directory of symjax, Hugging Face "
            "(safetensors) or t5x weights, or a symjax run directory"
        )
    entries = {p.name for p in epath.Path(path).iterdir()}
    if "checkpoints" in entries or "state" in entries:
        from flax import linen as nn

        return read_params(path, nn.meta.unbox(abstract_params(config=config)))
    if "config.json" in entries and "params" in entries:
        return weights.load_checkpoint(directory=path, config=config)[1]
    if any(e.endswith(".safetensors") for e in entries):
        return weights.import_hf_checkpoint(directory=path, config=config)[1]
    return weights.import_t5x_checkpoint(directory=path, config=config)


class _Preemption:
    """Turns SIGTERM into a flag the loop checks after each step."""

    def __init__(self) -> None:
        self.requested = False
        self._previous = None

    def __enter__(self) -> "_Preemption":
        try:
            self._previous = signal.signal(signal.SIGTERM, self._handle)
        except ValueError:  # not the main thread: no handler
            self._previous = None
        return self

    def _handle(self, signum: int, frame: Any) -> None:
        log.warning("SIGTERM received: saving a checkpoint after this step, then exiting")
        self.requested = True

    def __exit__(self, *exc: Any) -> None:
        if self._previous is not None:
            signal.signal(signal.SIGTERM, self._previous)


def _check_finite(step: int, metrics: Mapping[str, Any], checkpointer: Checkpointer) -> None:
    loss = float(metrics["loss"])
    if (not math.isfinite(loss) or not math.isfinite(float(metrics["grad_norm"]))
            or float(metrics.get("params_finite", 1.0)) != 1.0):
        checkpointer.wait()
        kept = checkpointer.all_steps()
        raise TrainingError(
            f"non-finite loss {loss} (grad norm {float(metrics['grad_norm'])}) at step {step}; "
            f"stopped without saving it. Last good checkpoint: "
            f"{kept[-1] if kept else 'none'} in {checkpointer.directory}. Lower the learning "
            "rate, use float32 (T5Config.dtype) or check the data"
        )


def train(config: TrainConfig, *, keep_params: bool = False,
          run_files: Mapping[str, str] | None = None) -> TrainResult:
    """Run (or resume) training; see the module docstring. ``run_files`` (``{name: text}``,
    e.g. the binary's ``config.gin``) are written into the run directory with ``config.json``
    once every check has passed."""
    started = time.perf_counter()
    lock = RunLock(config.model_dir) if jax.process_index() == 0 else None
    if lock is not None:
        lock.acquire()
    try:
        return _train(config, keep_params=keep_params, run_files=run_files or {}, started=started)
    finally:
        if lock is not None:
            lock.release()


def _train(config: TrainConfig, *, keep_params: bool, run_files: Mapping[str, str],
           started: float) -> TrainResult:
    _check_run_dir(config)
    vocabulary = use_run_vocabulary(config)
    data_lib.check_vocabularies(name=config.mixture_or_task_name, vocabulary=vocabulary,
                                model_vocab_size=config.model.vocab_size)
    parts = build_step(config)
    checkpointer = Checkpointer(model_dir=config.model_dir, keep=config.keep_checkpoints,
                                async_save=config.async_checkpointing)
    try:
        return _run(config=config, keep_params=keep_params, run_files=run_files, started=started,
                    checkpointer=checkpointer, parts=parts)
    except BaseException:
        checkpointer.abandon()  # the error in flight is the one to report
        raise


@dataclasses.dataclass(frozen=True)
class StepParts:
    """What :func:`build_step` makes of a :class:`TrainConfig`: the mesh and rules, the
    model, optimizer and schedule, the shardings, the abstract train state and the jitted
    ``init_state``, ``train_step`` and ``eval_step`` (traced under
    ``part.sharding_context(mesh=..., rules=...)``)."""

    mesh: Any
    rules: Any
    model: T5
    optimizer: Any
    schedule: Any
    param_sharding: Any
    batch_sharding: Any
    replicated: Any
    state_sharding: Any
    abstract_state: Any
    init_state: Any
    train_step: Any
    eval_step: Any

    def abstract_batch(self, *, batch_size: int, feature_lengths: Mapping[str, int],
                       pack: bool) -> dict[str, jax.ShapeDtypeStruct]:
        """The shapes of one global batch as the input pipeline gives it (int32; packed
        batches carry segment ids and positions)."""
        names = data_lib.MODEL_FEATURES if pack else (
            "encoder_input_tokens", "decoder_input_tokens", "decoder_target_tokens",
            "decoder_loss_weights")
        length = {"encoder": feature_lengths["inputs"], "decoder": feature_lengths["targets"]}
        return {name: jax.ShapeDtypeStruct((batch_size, length[name.split("_")[0]]), jnp.int32,
                                           sharding=self.batch_sharding)
                for name in names}


def build_step(config: TrainConfig) -> StepParts:
    """The jitted step a run of ``config`` executes, on a mesh over ``jax.devices()``, with
    every check of the configuration against the mesh. The trainer runs it;
    :mod:`symjax.train.memory` compiles it on abstract inputs to report its memory."""
    mesh = build_mesh(config.mesh)
    rules = part.standard_logical_axis_rules(
        activation_partitioning_dims=config.activation_partitioning_dims,
        parameter_partitioning_dims=config.parameter_partitioning_dims)
    part.check_config_fits_mesh(config=config.model, mesh=mesh, rules=rules)
    part.batch_size_fits(batch_size=config.batch_size, mesh=mesh, rules=rules)
    if config.batch_size % jax.process_count():
        raise ConfigError(f"batch size {config.batch_size} does not split over "
                          f"{jax.process_count()} hosts")
    micro = config.batch_size // config.accumulation_steps
    batch_axis = part.logical_to_mesh_axes(logical_axes=(part.BATCH,), rules=rules)[0]
    if batch_axis is not None and micro % mesh.shape[batch_axis]:
        raise ConfigError(
            f"a microbatch of {micro} rows (batch_size {config.batch_size} / "
            f"accumulation_steps {config.accumulation_steps}) does not split over mesh axis "
            f"{batch_axis!r} of size {mesh.shape[batch_axis]}; choose accumulation_steps so "
            f"that batch_size / accumulation_steps divides by {mesh.shape[batch_axis]}")
    model = T5(config.model)
    logical_axes = param_logical_axes(config=config.model)
    schedule = learning_rate_schedule(
        base_learning_rate=config.learning_rate, warmup_steps=config.warmup_steps,
        decay=config.decay, total_steps=config.decay_steps or config.train_steps,
        final_learning_rate=config.final_learning_rate)
    optimizer = make_optimizer(name=config.optimizer, learning_rate=schedule,
                               logical_axes=logical_axes, **config.optimizer_kwargs)
    param_sharding = part.param_shardings(params=abstract_params(config=config.model),
                                          rules=rules, mesh=mesh)
    batch_sharding = part.logical_sharding(shape=(config.batch_size, 1),
                                           logical_axes=(part.BATCH, part.LENGTH),
                                           rules=rules, mesh=mesh)
    replicated = jax.sharding.NamedSharding(mesh, jax.sharding.PartitionSpec())

    def init_state(params: Any) -> dict:
        params = jax.lax.with_sharding_constraint(params, param_sharding)
        return {"params": params, "opt_state": optimizer.init(params),
                "step": jnp.zeros((), jnp.int32)}

    with part.sharding_context(mesh=mesh, rules=rules):
        abstract_p = jax.tree.map(lambda a: jax.ShapeDtypeStruct(a.shape, a.dtype),
                                  jax.eval_shape(lambda: init_params(config=config.model,
                                                                     rng=jax.random.key(0))))
        abstract_opt = jax.eval_shape(optimizer.init, abstract_p)
        state_sharding = {
            "params": param_sharding,
            "opt_state": part.opt_state_shardings(opt_state=abstract_opt, params=abstract_p,
                                                  shardings=param_sharding, mesh=mesh),
            "step": replicated}
        init_jit = jax.jit(init_state, in_shardings=(param_sharding,),
                           out_shardings=state_sharding)
        abstract_state = jax.tree.map(
            lambda a, s: jax.ShapeDtypeStruct(a.shape, a.dtype, sharding=s),
            jax.eval_shape(init_state, abstract_p), state_sharding)
    train_step = jax.jit(
        make_train_step(model=model, optimizer=optimizer, z_loss=config.z_loss,
                        loss_normalizing_factor=config.loss_normalizing_factor,
                        accumulation_steps=config.accumulation_steps,
                        dropout=config.model.dropout_rate > 0),
        in_shardings=(state_sharding, batch_sharding, replicated),
        out_shardings=(state_sharding, replicated), donate_argnums=(0,))
    eval_step = jax.jit(make_eval_step(model=model, z_loss=config.z_loss),
                        in_shardings=(state_sharding["params"], batch_sharding),
                        out_shardings=replicated)
    return StepParts(mesh=mesh, rules=rules, model=model, optimizer=optimizer,
                     schedule=schedule, param_sharding=param_sharding,
                     batch_sharding=batch_sharding, replicated=replicated,
                     state_sharding=state_sharding, abstract_state=abstract_state,
                     init_state=init_jit, train_step=train_step, eval_step=eval_step)


def _run(*, config: TrainConfig, keep_params: bool, run_files: Mapping[str, str], started: float,
         checkpointer: Checkpointer, parts: StepParts) -> TrainResult:
    mesh, rules, model, schedule = parts.mesh, parts.rules, parts.model, parts.schedule
    batch_sharding, param_sharding = parts.batch_sharding, parts.param_sharding
    init_jit, abstract_state = parts.init_state, parts.abstract_state
    train_step, eval_step = parts.train_step, parts.eval_step
    with part.sharding_context(mesh=mesh, rules=rules):
        latest = checkpointer.latest_step()
        data_state = None
        if latest is not None:
            state, meta = checkpointer.restore(step=latest, abstract_state=abstract_state)
            data_batches = int(meta["data_batches"])
            data_state = checkpointer.read_data_state(latest)
            log.info("resumed from checkpoint %d (%d batches consumed)", latest, data_batches)
        else:
            if config.initial_checkpoint:
                host_params = load_model_params(path=config.initial_checkpoint, config=config.model)
                log.info("initial weights from %s", config.initial_checkpoint)
            else:
                host_params = init_params(config=config.model, rng=jax.random.key(config.seed))
            params = jax.device_put(host_params, param_sharding)
            state = init_jit(params)
            data_batches = 0
        start_step = int(jax.device_get(state["step"]))

    writer = MetricsWriter(model_dir=config.model_dir, enabled=jax.process_index() == 0)
    evaluators = _build_evaluators(config) if (config.eval_mixtures and config.infer_eval) else []
    saved_config = config.to_dict()
    host_batch = config.batch_size // jax.process_count()
    data_started = time.perf_counter()
    batches = data_lib.train_batches(
        name=config.mixture_or_task_name, feature_lengths=config.task_feature_lengths,
        batch_size=host_batch, seed=config.seed, pack=config.pack, use_cached=config.use_cached,
        skip_batches=data_batches if data_state is None else 0, shard_index=jax.process_index(),
        num_shards=jax.process_count())
    if data_state is not None:
        batches.restore(data_state)
        log.info("input pipeline restored to its saved position in %.2f s (no replay)",
                 time.perf_counter() - data_started)
    if jax.process_index() == 0:  # every check passed: this start is a start of the run
        write_run_files(config.model_dir, {
            **run_files, "config.json": json.dumps(saved_config, indent=2, sort_keys=True)})
    rng = jax.random.key(config.seed + 1)
    end_step = config.train_steps
    if config.stop_after_steps is not None:
        end_step = min(end_step, start_step + config.stop_after_steps)
    progress = Progress(total_steps=config.train_steps, start_step=start_step)
    utilization = Utilization(
        flops_per_step=train_step_flops(config=config.model, batch=config.batch_size,
                                        input_length=config.task_feature_lengths["inputs"],
                                        target_length=config.task_feature_lengths["targets"]),
        num_devices=mesh.devices.size, peak_tflops=_peak_tflops(config, mesh))
    profiler = StepProfiler(steps=config.profile_steps,
                            log_dir=os.path.join(config.model_dir, "train"),
                            enabled=jax.process_index() == 0)
    log.info("training %s on %s from step %d to %d (mesh %s, global batch %d, %.3g model "
             "TFLOP per step, peak %s)", config.model.name, config.mixture_or_task_name,
             start_step, config.train_steps, dict(mesh.shape), config.batch_size,
             utilization.flops_per_step / 1e12,
             f"{utilization.peak_tflops:g} TFLOP/s per device" if utilization.peak_tflops
             else "unknown")

    def run_eval(step: int, params: Any) -> dict[str, dict[str, Any]]:
        return _evaluate(config=config, step=step, params=params, model=model,
                         evaluators=evaluators, eval_step=eval_step, writer=writer,
                         put=lambda b: data_lib.to_global(b, batch_sharding), mesh=mesh,
                         rules=rules)

    step = start_step
    pending: tuple[int, Any] | None = None  # (step, metrics) not yet checked on the host
    sums_since_log: dict[str, float] = {}
    last_metrics: dict[str, float] = {}
    eval_metrics: dict[str, dict[str, Any]] = {}
    preempted = False

    def absorb(item: tuple[int, Any]) -> None:
        done_step, metrics = item
        metrics = jax.device_get(metrics)
        _check_finite(done_step, metrics, checkpointer)
        for k, v in metrics.items():
            sums_since_log[k] = sums_since_log.get(k, 0.0) + float(v)
        sums_since_log["_steps"] = sums_since_log.get("_steps", 0.0) + 1
        progress.add_tokens(float(metrics["weight_sum"]))

    def settle() -> None:
        """Check and count the step still in flight (before logging, saving or leaving)."""
        nonlocal pending
        if pending is not None:
            absorb(pending)
            pending = None

    with _Preemption() as preemption:
        try:
            while step < end_step:
                try:
                    batch = next(batches)
                except StopIteration as e:
                    raise TrainingError(
                        f"the train split of {config.mixture_or_task_name!r} ran out at step "
                        f"{step}; use an infinite (repeated) task") from e
                profiler.before(step + 1)
                with part.sharding_context(mesh=mesh, rules=rules), profiler.annotate(step + 1):
                    state, metrics = train_step(state, data_lib.to_global(batch, batch_sharding), rng)
                step += 1
                profiler.after(step, state)
                data_batches += 1
                settle()
                pending = (step, metrics)
                if step == start_step + 1:
                    settle()
                    progress.restart(step)
                    log.info("step %d compiled and ran in %.1f s", step, time.perf_counter() - started)
                at_end = step >= end_step
                if step % config.log_period == 0 or at_end or preemption.requested:
                    settle()
                    checkpointer.check()  # a background save that failed, named now
                    if sums_since_log:
                        n = sums_since_log.pop("_steps")
                        last_metrics = summarize(sums_since_log)
                        last_metrics["loss"] = sums_since_log["loss"] / n
                        last_metrics["grad_norm"] = sums_since_log["grad_norm"] / n
                        sums_since_log.pop("params_finite", None)
                        last_metrics["learning_rate"] = float(jax.device_get(schedule(step - 1)))
                        last_metrics.update(progress.report(step))
                        last_metrics.update(utilization.report(last_metrics["steps_per_s"]))
                        _log_line(step, config.train_steps, last_metrics)
                        writer.write(step=step, split="train", scalars=last_metrics)
                        sums_since_log.clear()
                if step % config.checkpoint_period == 0 or at_end or preemption.requested:
                    settle()
                    checkpointer.save(step=step, state=state, data_batches=data_batches,
                                      config=saved_config, data_state=batches.state())
                if config.eval_period and config.eval_mixtures and (
                        step % config.eval_period == 0 or step == config.train_steps):
                    eval_metrics = run_eval(step, state["params"])
                if preemption.requested:
                    preempted = True
                    break
            settle()
            if (config.eval_mixtures and not config.eval_period and step == config.train_steps
                    and step > start_step):
                eval_metrics = run_eval(step, state["params"])
        finally:
            profiler.close()
            writer.close()
            for ev in evaluators:
                ev.close()
    checkpointer.close()  # waits for the last save: a failed one is a CheckpointError
    if preempted:
        log.warning("preempted: checkpoint %d saved in %s", step, checkpointer.directory)
    log.info("finished at step %d in %s", step, format_duration(time.perf_counter() - started))
    return TrainResult(step=step, preempted=preempted, metrics=last_metrics,
                       eval_metrics=eval_metrics,
                       params=jax.device_get(state["params"]) if keep_params else None)


def _peak_tflops(config: TrainConfig, mesh: Any) -> float | None:
    """``config.peak_tflops``, else the device table's bf16 peak for the mesh's devices
    (None on CPU and unknown devices)."""
    if config.peak_tflops is not None:
        return float(config.peak_tflops)
    spec = detect_device(mesh.devices.flat[0])
    return spec.peak_bf16_tflops if spec is not None else None


def _log_line(step: int, total: int, m: Mapping[str, float]) -> None:
    eta = format_duration(m["eta_s"]) if "eta_s" in m else "?"
    mfu = f"MFU {100 * m['mfu']:.1f}%" if "mfu" in m else "MFU ? (unknown peak)"
    log.info("step %d/%d loss %.4f cross_ent %.4f acc %.3f lr %.2e | %.2f steps/s %.0f tokens/s "
             "%.3g TFLOP/s/device %s ETA %s",
             step, total, m.get("loss", float("nan")), m["cross_ent_loss"], m["accuracy"],
             m["learning_rate"], m["steps_per_s"], m["tokens_per_s"], m["tflops_per_device"],
             mfu, eta)


def _build_evaluators(config: TrainConfig) -> list[DecodingEvaluator]:
    return [DecodingEvaluator(name=name, split=config.eval_split,
                              feature_lengths=config.task_feature_lengths,
                              batch_size=config.eval_batch_size,
                              max_decode_length=config.max_decode_length,
                              num_examples=config.infer_num_examples,
                              log_dir=os.path.join(config.model_dir, "inference_eval"))
            for name in config.eval_mixtures]


def _evaluate(*, config: TrainConfig, step: int, params: Any, model: T5,
              evaluators: list[DecodingEvaluator], eval_step: Any, writer: MetricsWriter,
              put: Any, mesh: Any, rules: Any) -> dict[str, dict[str, Any]]:
    out: dict[str, dict[str, Any]] = {}
    with part.sharding_context(mesh=mesh, rules=rules):
        losses = teacher_forced_loss(names=config.eval_mixtures, split=config.eval_split,
                                     feature_lengths=config.task_feature_lengths,
                                     batch_size=config.eval_batch_size, eval_step=eval_step,
                                     params=params, put=put, max_batches=config.eval_loss_batches)
        for task, metrics in losses.items():
            writer.write(step=step, split="eval", scalars={f"{task}/{k}": v for k, v in metrics.items()})
            out.setdefault(task, {}).update({f"eval_{k}": v for k, v in metrics.items()})
            log.info("eval %s step %d: cross_ent %.4f token accuracy %.3f", task, step,
                     metrics["cross_ent_loss"], metrics["accuracy"])
        for ev in evaluators:
            for task, metrics in ev.evaluate(model=model, params=params, step=step).items():
                scalars = {f"{task}/{k}": v for k, v in metrics.items() if isinstance(v, (int, float))}
                writer.write(step=step, split="inference_eval", scalars=scalars)
                out.setdefault(task, {}).update(metrics)
                log.info("inference eval %s step %d: %s", task, step,
                         ", ".join(f"{k} {v:.2f}" for k, v in sorted(metrics.items())
                                   if isinstance(v, (int, float)) and "/" not in k))
    return out
