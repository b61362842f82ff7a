r"""Does a training config fit its device? Per-device memory of the compiled step vs HBM.

    python tools/memory_report.py --gin_file=gin/paper/sql_flan_xl.gin --device=v4
    python tools/memory_report.py --gin_file=gin/paper/sql_flan_xl_h200.gin --device=h200 \
        --num_devices=1
    python tools/memory_report.py --gin_file=gin/paper/sql_flan_xl.gin --device=v4-32 \
        --gin.ACCUMULATION_STEPS=4
    python tools/memory_report.py --list_devices

It parses the gin files and bindings exactly as ``python -m symjax.train`` does, builds
the run's ``TrainConfig`` (``MODEL_DIR``, ``INITIAL_CHECKPOINT_PATH``,
``MIXTURE_OR_TASK_NAME`` and ``TRAIN_STEPS`` get placeholders when unset: they do not
change the step), and compiles the trainer's own step (``symjax.train.memory``: mesh,
batch, gradient accumulation, optimizer, remat, dtypes, lengths) for the device count of
``--device``: a family name is one host (``v3`` = v3-8: 8 devices; ``v4`` = v4-8: 4;
``a100-40g``, ``h100``: 8 GPUs), a TPU accelerator type is that slice (``v4-32``: 16),
``--num_devices`` overrides. The devices are simulated on the CPU
(``--xla_force_host_platform_device_count``) unless ``--platform=native``, which compiles
for the accelerators of this machine (their count must match).

Prints the per-device memory against the device's HBM (on GPUs, the fraction jax
preallocates: ``XLA_PYTHON_CLIENT_MEM_FRACTION``, default 0.75, or ``--mem_fraction``),
keeping ``--headroom`` (default 15%) free for the CPU compiler's estimate and the runtime.
Exit status: 0 fits, 1 does not fit, 2 a bad config or flag. ``--json`` adds one JSON line.

Time: Flan-T5-XL (2048/128) compiles in about 10-25 s on 2 CPU cores with 3 GB of host
memory (the layer stacks are scanned: each compiles once).
"""
from __future__ import annotations

import json
import math
import os
import sys

from absl import app, flags

FLAGS = flags.FLAGS
flags.DEFINE_multi_string("gin_file", [], "gin config file(s), as for python -m symjax.train")
flags.DEFINE_multi_string("gin_bindings", [], "gin bindings NAME=VALUE (also --gin.NAME=VALUE)")
flags.DEFINE_multi_string("gin_search_paths", [], "extra directories for gin files")
flags.DEFINE_string("device", None, "v3, v4, v5e, v5p, v6e, a100-40g, a100-80g, h100, h200, "
                    "or a TPU accelerator type (v4-32)")
flags.DEFINE_integer("num_devices", None, "devices (default: one host of --device)")
flags.DEFINE_enum("platform", "cpu", ["cpu", "native"],
                  "cpu: simulate the devices on the CPU; native: this machine's accelerators")
flags.DEFINE_float("headroom", None, "fraction of usable memory kept free (default 0.15)")
flags.DEFINE_float("mem_fraction", None, "GPU: fraction of HBM jax may use (default "
                   "XLA_PYTHON_CLIENT_MEM_FRACTION or 0.75)")
flags.DEFINE_bool("json", False, "also print one JSON line with the figures")
flags.DEFINE_bool("list_devices", False, "print the device table and exit")

def _simulate_devices(count: int) -> None:
    """Make the CPU backend show ``count`` devices (before jax starts a backend)."""
    import jax

    flag = f"--xla_force_host_platform_device_count={count}"
    flags_now = [f for f in os.environ.get("XLA_FLAGS", "").split()
                 if not f.startswith("--xla_force_host_platform_device_count")]
    os.environ["XLA_FLAGS"] = " ".join(flags_now + [flag])
    jax.config.update("jax_platforms", "cpu")


def run(argv: list[str]) -> int:
    del argv
    from symjax.errors import ConfigError
    from symjax.train import hardware

    if FLAGS.list_devices:
        print(hardware.format_device_table())
        return 0
    if not FLAGS.device:
        raise ConfigError(f"--device is required: one of {', '.join(hardware.DEVICES)} or a "
                          "TPU accelerator type such as v4-32")
    if not FLAGS.gin_file:
        raise ConfigError("--gin_file is required (e.g. --gin_file=gin/paper/sql_flan_xl.gin)")
    spec, count = hardware.resolve_device(FLAGS.device, FLAGS.num_devices)
    if FLAGS.platform == "cpu":
        _simulate_devices(count)
    import jax

    if jax.device_count() != count:
        raise ConfigError(
            f"{count} {spec.name} devices asked for, but jax sees {jax.device_count()} "
            f"({jax.devices()[0].platform}); with --platform=native run on a machine with "
            f"{count} of them, or simulate them with --platform=cpu")
    from symjax.train import memory

    config = memory.config_from_gin(FLAGS.gin_file, FLAGS.gin_bindings, FLAGS.gin_search_paths)
    hosts = max(1, math.ceil(count / spec.devices_per_host))
    if config.batch_size % hosts:
        raise ConfigError(f"batch size {config.batch_size} does not split over the {hosts} "
                          f"hosts of {count} {spec.name} devices")
    budget = memory.budget_for(
        spec, count, headroom=memory.DEFAULT_HEADROOM if FLAGS.headroom is None else FLAGS.headroom,
        mem_fraction=FLAGS.mem_fraction)
    result = memory.step_memory(config)
    print(memory.format_report(config=config, memory=result, budget=budget))
    fits = memory.check_fits(result, budget)
    if FLAGS.json:
        print(json.dumps(dict(
            device=spec.name, num_devices=count, mesh=result.mesh, batch=config.batch_size,
            accumulation_steps=config.accumulation_steps, optimizer=config.optimizer,
            model=config.model.name, remat=config.model.remat_policy,
            lengths=config.task_feature_lengths, argument_bytes=result.argument,
            output_bytes=result.output, alias_bytes=result.alias, temp_bytes=result.temp,
            code_bytes=result.code, total_bytes=result.total, usable_bytes=budget.usable,
            limit_bytes=budget.limit, headroom=budget.headroom, fits=fits,
            platform=result.platform, compile_seconds=round(result.compile_seconds, 1))))
    return 0 if fits else 1


def main(argv: list[str]) -> None:
    from symjax.errors import SymjaxError

    try:
        code = run(argv)
    except SymjaxError as e:
        print(f"error: {e}", file=sys.stderr)
        code = 2
    sys.exit(code)


if __name__ == "__main__":
    from symjax.train.binary import rewrite_gin_args

    app.run(main, argv=rewrite_gin_args(sys.argv))
