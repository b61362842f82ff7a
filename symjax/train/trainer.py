"""The trainer: :func:`train` (its config, :class:`TrainConfig`, is in :mod:`symjax.train.config`).

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
from symjax.train.config import TRAJECTORY_FREE_KEYS, TrainConfig, TrainResult, config_differences
from symjax.train.evaluation import DecodingEvaluator, teacher_forced_loss
from symjax.train.optimizers import learning_rate_schedule, make_optimizer
from symjax.train.rundir import RunLock, read_run_config, write_run_files
from symjax.train.step import (make_eval_step, make_train_step,
                               summarize)
from symjax.train.flops import train_step_flops
from symjax.train.hardware import detect_device
from symjax.train.summaries import (MetricsWriter, Progress, StepProfiler, Utilization,
                                    format_duration)

__all__ = ["TrainConfig", "TrainResult", "train", "build_mesh", "build_step", "StepParts",
           "load_model_params",
           "TRAJECTORY_FREE_KEYS"]

log = logging.getLogger(__name__)

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
