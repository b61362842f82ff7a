"""Per-device memory of the training step a :class:`TrainConfig` runs, from its compiled
executable, against a device's HBM.

:func:`compile_train_step` builds the step with the trainer's own
:func:`symjax.train.trainer.build_step` (the same mesh, rules, optimizer, accumulation
loop, remat, dtypes, shardings and donation) and compiles it ahead of time on abstract
inputs (``jax.ShapeDtypeStruct``): no parameter, optimizer state or batch is allocated, so
a 3B model is compiled on a laptop. On a CPU host the mesh's devices are simulated
(``XLA_FLAGS=--xla_force_host_platform_device_count=N``; ``tools/memory_report.py`` sets
it), and the figures are those of XLA's CPU buffer assignment: a TPU or GPU compiler
fuses and schedules differently, which is why :func:`check_fits` keeps headroom.

``total = arguments + outputs - aliased + temporaries + generated code`` is the memory
the executable needs while it runs: the train state (parameters, optimizer state, step),
the batch, and the temporaries (activations kept for the backward pass, gradients, the
accumulated gradient, the optimizer's intermediates). The donated state is aliased to the
new state, so it is counted once.
"""
from __future__ import annotations

import dataclasses
import os
import time
from typing import Any

import jax

from symjax.errors import ConfigError
from symjax.train import partitioning as part
from symjax.train.hardware import GIB, GPU_DEFAULT_MEM_FRACTION, DeviceSpec

__all__ = ["StepMemory", "Budget", "compile_train_step", "step_memory", "budget_for",
           "check_fits", "format_report", "config_from_gin", "DEFAULT_HEADROOM", "PLACEHOLDERS"]

# Kept free of the device's usable memory: the CPU compiler's buffer assignment is an
# estimate of a TPU's or GPU's (fusion and scheduling differ), and the runtime needs some.
DEFAULT_HEADROOM = 0.15


# Macros a run must set that do not change the compiled step (placeholders when unset).
PLACEHOLDERS = {"MODEL_DIR": "'/tmp/symjax_memory_report'",
                "INITIAL_CHECKPOINT_PATH": "None",
                "MIXTURE_OR_TASK_NAME": "'symjax_memory_report'",
                "TRAIN_STEPS": "1000"}


def config_from_gin(files: list[str], bindings: list[str], search_paths: list[str] = ()) -> Any:
    """The ``TrainConfig`` ``python -m symjax.train`` would build from these gin files and
    bindings (the binaries' checks included), with :data:`PLACEHOLDERS` for the run
    macros left ``%gin.REQUIRED``."""
    from symjax.train import binary

    binary.parse_gin(files=files, bindings=bindings, search_paths=search_paths)
    missing = [m for m in binary.unbound_required_macros() if m in PLACEHOLDERS]
    if missing:
        extra = [f"{m} = {PLACEHOLDERS[m]}" for m in missing]
        binary.parse_gin(files=files, bindings=[*bindings, *extra], search_paths=search_paths)
    binary.check_bindings_used(bindings, "TrainConfig")
    return binary.build_from_gin("TrainConfig")


@dataclasses.dataclass(frozen=True)
class StepMemory:
    """Bytes per device of one compiled train step (``memory_analysis()``)."""

    argument: int
    output: int
    alias: int
    temp: int
    code: int
    compile_seconds: float
    platform: str
    mesh: dict[str, int]

    @property
    def total(self) -> int:
        return self.argument + self.output - self.alias + self.temp + self.code


@dataclasses.dataclass(frozen=True)
class Budget:
    """How much of ``device``'s memory the step may use: ``usable`` (HBM, times jax's
    preallocated fraction on GPUs), of which ``headroom`` is kept free: ``limit``."""

    device: DeviceSpec
    num_devices: int
    usable: int
    headroom: float
    mem_fraction: float

    @property
    def limit(self) -> int:
        return int(self.usable * (1.0 - self.headroom))


def budget_for(device: DeviceSpec, num_devices: int, *, headroom: float = DEFAULT_HEADROOM,
               mem_fraction: float | None = None) -> Budget:
    """``mem_fraction`` (GPU only): default ``XLA_PYTHON_CLIENT_MEM_FRACTION`` if set, else
    jax's 0.75."""
    if not 0.0 <= headroom < 1.0:
        raise ConfigError(f"headroom must be in [0, 1), got {headroom}")
    if device.kind == "gpu":
        if mem_fraction is None:
            mem_fraction = float(os.environ.get("XLA_PYTHON_CLIENT_MEM_FRACTION",
                                                GPU_DEFAULT_MEM_FRACTION))
    else:
        mem_fraction = 1.0 if mem_fraction is None else mem_fraction
    if not 0.0 < mem_fraction <= 1.0:
        raise ConfigError(f"mem_fraction must be in (0, 1], got {mem_fraction}")
    return Budget(device=device, num_devices=num_devices,
                  usable=int(device.hbm_bytes * mem_fraction), headroom=headroom,
                  mem_fraction=mem_fraction)


def compile_train_step(config: Any) -> Any:
    """The compiled executable of ``config``'s train step on ``jax.devices()``."""
    from symjax.train.trainer import build_step

    parts = build_step(config)
    batch = parts.abstract_batch(batch_size=config.batch_size,
                                 feature_lengths=config.task_feature_lengths, pack=config.pack)
    rng = jax.ShapeDtypeStruct((), jax.eval_shape(lambda: jax.random.key(0)).dtype,
                               sharding=parts.replicated)
    with part.sharding_context(mesh=parts.mesh, rules=parts.rules):
        lowered = parts.train_step.lower(parts.abstract_state, batch, rng)
    return lowered.compile()


def step_memory(config: Any) -> StepMemory:
    """Compile ``config``'s step and read its per-device memory."""
    from symjax.train.trainer import build_mesh

    start = time.perf_counter()
    compiled = compile_train_step(config)
    seconds = time.perf_counter() - start
    stats = compiled.memory_analysis()
    return StepMemory(argument=int(stats.argument_size_in_bytes),
                      output=int(stats.output_size_in_bytes),
                      alias=int(stats.alias_size_in_bytes),
                      temp=int(stats.temp_size_in_bytes),
                      code=int(stats.generated_code_size_in_bytes),
                      compile_seconds=seconds, platform=jax.devices()[0].platform,
                      mesh=dict(build_mesh(config.mesh).shape))


def check_fits(memory: StepMemory, budget: Budget) -> bool:
    return memory.total <= budget.limit


def _gib(n: float) -> str:
    return f"{n / GIB:7.2f} GiB"


def format_report(*, config: Any, memory: StepMemory, budget: Budget) -> str:
    """The human-readable report (what ``tools/memory_report.py`` prints)."""
    m, d = config.model, budget.device
    micro = config.batch_size // config.accumulation_steps
    mesh = ",".join(f"{k}:{v}" for k, v in memory.mesh.items())
    fits = check_fits(memory, budget)
    lines = [
        f"model {m.name} ({m.num_params() / 1e9:.3f}B params, {m.param_dtype}), activations "
        f"{m.dtype}, remat {m.remat_policy}, dropout {m.dropout_rate}",
        f"step: batch {config.batch_size} = {config.accumulation_steps} x {micro} "
        f"(accumulation), lengths {config.task_feature_lengths['inputs']}/"
        f"{config.task_feature_lengths['targets']}, pack {config.pack}, optimizer "
        f"{config.optimizer}",
        f"mesh {mesh} on {budget.num_devices} x {d.name}, rules act"
        f"{config.activation_partitioning_dims}d/param{config.parameter_partitioning_dims}d; "
        f"compiled on {memory.platform} in {memory.compile_seconds:.1f} s",
        "per-device memory of the compiled step:",
        f"  arguments (train state + batch)        {_gib(memory.argument)}",
        f"  outputs (new train state + metrics)    {_gib(memory.output)}",
        f"  aliased (donated state reused)        -{_gib(memory.alias).strip():>11}",
        f"  temporaries (activations, gradients)   {_gib(memory.temp)}",
        f"  generated code                         {_gib(memory.code)}",
        f"  total                                  {_gib(memory.total)}",
        f"device {d.name}: {_gib(d.hbm_bytes).strip()} HBM per device"
        + (f", {budget.mem_fraction:.2f} of it preallocated by jax "
           f"(XLA_PYTHON_CLIENT_MEM_FRACTION) = {_gib(budget.usable).strip()}"
           if d.kind == "gpu" else "")
        + f"; limit with {budget.headroom:.0%} headroom {_gib(budget.limit).strip()}",
        (f"FITS: {_gib(memory.total).strip()} of {_gib(budget.limit).strip()} "
         f"({memory.total / budget.usable:.0%} of usable memory)" if fits else
         f"DOES NOT FIT: {_gib(memory.total).strip()} > {_gib(budget.limit).strip()}; raise "
         f"accumulation_steps (microbatch {micro}), shard more (mesh 'model:N', "
         f"parameter_partitioning_dims=2) or use remat 'full'"),
    ]
    return "\n".join(lines)
