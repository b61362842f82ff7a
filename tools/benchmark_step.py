r"""The train step of a gin config on this machine's accelerators: time, MFU and peak memory.

    python tools/benchmark_step.py --gin_file=gin/paper/sql_flan_xl_h200.gin --steps=5

Builds the trainer's own step (``symjax.train.trainer.build_step``: mesh, accumulation,
optimizer, remat, shardings) with freshly initialised parameters and random token batches
of the configured shape (no input pipeline, no checkpoint), runs ``--steps`` steps after
one compiling step, and prints the median step time, model TFLOP/s per device
(``symjax.train.flops``), MFU against the device table's peak (``--peak_tflops``
overrides it) and the devices' peak memory in use (``memory_stats()``, where the backend
reports it), next to what ``tools/memory_report.py --platform=native`` reads from the
same executable. Unset run macros (``MODEL_DIR``, ...) get placeholders as in
``tools/memory_report.py``. One JSON line last.
"""
from __future__ import annotations

import json
import statistics
import sys
import time

from absl import app, flags

flags.DEFINE_multi_string("gin_file", [], "gin config files")
flags.DEFINE_multi_string("gin_bindings", [], "gin bindings (also --gin.NAME=VALUE)")
flags.DEFINE_integer("steps", 5, "timed steps after the compiling one")
flags.DEFINE_float("peak_tflops", None, "peak TFLOP/s per device (default: the device table)")
FLAGS = flags.FLAGS


def main(argv: list[str]) -> None:
    del argv
    import jax
    import numpy as np

    from symjax.model import init_params
    from symjax.train import partitioning as part
    from symjax.train.flops import train_step_flops
    from symjax.train.hardware import detect_device
    from symjax.train.memory import config_from_gin
    from symjax.train.trainer import build_step

    config = config_from_gin(FLAGS.gin_file, FLAGS.gin_bindings)
    parts = build_step(config)
    with part.sharding_context(mesh=parts.mesh, rules=parts.rules):
        params = jax.jit(lambda k: init_params(config=config.model, rng=k),
                         out_shardings=parts.param_sharding)(jax.random.key(0))
        state = parts.init_state(params)
        del params
        shapes = parts.abstract_batch(batch_size=config.batch_size,
                                      feature_lengths=config.task_feature_lengths,
                                      pack=config.pack)
        rng = np.random.default_rng(0)

        def batch():
            out = {}
            for name, s in shapes.items():
                if "segment" in name:
                    v = np.ones(s.shape, np.int32)
                elif "positions" in name:
                    v = np.broadcast_to(np.arange(s.shape[1], dtype=np.int32), s.shape)
                elif "weights" in name:
                    v = np.ones(s.shape, np.int32)
                else:
                    v = rng.integers(2, config.model.vocab_size, s.shape, dtype=np.int32)
                out[name] = jax.device_put(v, parts.batch_sharding)
            return out

        compiled = parts.train_step.lower(parts.abstract_state, shapes,
                                          jax.random.key(1)).compile()
        stats = compiled.memory_analysis()
        reported = (stats.argument_size_in_bytes + stats.output_size_in_bytes
                    - stats.alias_size_in_bytes + stats.temp_size_in_bytes
                    + stats.generated_code_size_in_bytes)
        key = jax.random.key(1)
        state, metrics = parts.train_step(state, batch(), key)
        jax.block_until_ready(metrics)
        times = []
        for _ in range(FLAGS.steps):
            b = batch()
            start = time.perf_counter()
            state, metrics = parts.train_step(state, b, key)
            jax.block_until_ready((state, metrics))
            times.append(time.perf_counter() - start)
    step_s = statistics.median(times)
    devices = parts.mesh.devices.size
    flops = train_step_flops(config=config.model, batch=config.batch_size,
                             input_length=config.task_feature_lengths["inputs"],
                             target_length=config.task_feature_lengths["targets"])
    tflops = flops / step_s / devices / 1e12
    spec = detect_device(jax.devices()[0])
    peak = FLAGS.peak_tflops or (spec.peak_bf16_tflops if spec else None)
    mem = jax.devices()[0].memory_stats() or {}
    row = dict(device=jax.devices()[0].device_kind, devices=devices, batch=config.batch_size,
               accumulation_steps=config.accumulation_steps, step_seconds=round(step_s, 3),
               model_tflop_per_step=round(flops / 1e12, 2),
               tflops_per_device=round(tflops, 1),
               mfu=round(tflops / peak, 3) if peak else None,
               loss=float(metrics["loss"]),
               compiled_total_bytes=int(reported),
               peak_bytes_in_use=mem.get("peak_bytes_in_use"),
               bytes_limit=mem.get("bytes_limit"))
    print(f"{config.model.name} batch {config.batch_size} ({config.accumulation_steps} "
          f"microbatches) on {devices} x {row['device']}: {step_s:.3f} s/step, "
          f"{tflops:.1f} TFLOP/s/device, MFU {'%.1f%%' % (100 * tflops / peak) if peak else '?'}")
    if mem:
        print(f"peak memory in use {mem.get('peak_bytes_in_use', 0) / 2**30:.2f} GiB of "
              f"{mem.get('bytes_limit', 0) / 2**30:.2f} GiB; the compiled step reports "
              f"{reported / 2**30:.2f} GiB")
    print(json.dumps(row))


if __name__ == "__main__":
    from symjax.train.binary import rewrite_gin_args

    app.run(main, argv=rewrite_gin_args(sys.argv))
