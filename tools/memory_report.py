r"""Per-device memory of a full T5 training step, from the compiled executable.

The step is forward + z-loss cross-entropy + gradient + an optax Adafactor update (t5x
defaults: factored, decay_rate 0.8, clipping 1.0, parameter-scale on), jitted with the
parameter shardings the rules give on a ``(data, model)`` mesh and donated parameters and
optimizer state. It is compiled ahead of time from ``jax.ShapeDtypeStruct`` inputs, so no
parameter, optimizer state or batch is ever allocated: a 3B model reports on a laptop.

Simulate 8 devices on CPU (the XLA CPU compiler's buffer assignment is what is reported;
a TPU or GPU compiler fuses differently, so treat figures as estimates within ~20%):

    XLA_FLAGS=--xla_force_host_platform_device_count=8 \
      python tools/memory_report.py --model=xl --mesh=data:2,model:4 --batch=16 \
        --input_length=2048 --target_length=128 --remat=full

Expected time: about 20 s of compilation for XL on 2 CPU cores (the layers are scanned, so
a stack compiles once); peak host memory about 2.5 GB. Output: one table, plus ``--json``
for a machine-readable line. XL figures measured this way (bf16 activations, float32
params, Adafactor, dropout 0.1, remat full, input 2048, target 128), per device:

    mesh             batch  arguments  temporaries  total
    data:1,model:8   16     1.90 GiB   19.60 GiB    21.50 GiB
    data:2,model:4   16     3.79 GiB   15.91 GiB    19.70 GiB
    data:1,model:8   8      1.90 GiB   10.55 GiB    12.45 GiB
    data:2,model:4   8      3.79 GiB    9.47 GiB    13.26 GiB

``--remat=none`` needs about 117 GiB of temporaries at data:2,model:4, batch 16: the
attention probabilities of every layer (``[batch, heads, 2048, 2048]``) are kept for the
backward pass.
"""
from __future__ import annotations

import json
import time
from typing import Any

from absl import app, flags

FLAGS = flags.FLAGS
flags.DEFINE_string("model", "xl", "Model size: tiny, small, base, large, xl, xxl.")
flags.DEFINE_string("mesh", "data:1,model:8", "Mesh axes, e.g. 'data:2,model:4'.")
flags.DEFINE_integer("batch", 16, "Global batch size (sequences per step).")
flags.DEFINE_integer("input_length", 2048, "Encoder input length.")
flags.DEFINE_integer("target_length", 128, "Decoder target length.")
flags.DEFINE_enum("dtype", "bfloat16", ["bfloat16", "float32"], "Activation dtype.")
flags.DEFINE_enum("param_dtype", "float32", ["bfloat16", "float32"], "Parameter dtype.")
flags.DEFINE_enum("remat", "full", ["none", "full", "save_dots"],
                  "Rematerialisation of each layer in the backward pass.")
flags.DEFINE_integer("activation_partitioning_dims", 1, "1 or 2 (t5x rule tables).")
flags.DEFINE_integer("parameter_partitioning_dims", 1, "1 or 2 (t5x rule tables).")
flags.DEFINE_float("dropout_rate", 0.1, "Dropout as in t5x finetune.gin.")
flags.DEFINE_float("z_loss", 1e-4, "z-loss as in t5x base.gin.")
flags.DEFINE_bool("json", False, "Also print one JSON line with the figures.")


def _gib(n: int) -> str:
    return f"{n / 2**30:8.3f} GiB"


def adafactor() -> Any:
    import optax

    return optax.adafactor(learning_rate=1e-3, decay_rate=0.8, clipping_threshold=1.0,
                           multiply_by_parameter_scale=True, min_dim_size_to_factor=128)


def opt_state_shardings(*, opt_state: Any, params: Any, shardings: Any, mesh: Any) -> Any:
    """Shard each optimizer leaf like the parameter of the same path and shape.

    Adafactor's unfactored second moments have their parameter's shape and get its
    sharding; factored row/column statistics and counters are small and replicated.
    """
    import jax
    from jax.sharding import NamedSharding, PartitionSpec

    by_path = {}
    for (path, leaf), sharding in zip(jax.tree_util.tree_flatten_with_path(params)[0],
                                      jax.tree.leaves(shardings)):
        by_path[jax.tree_util.keystr(path)] = (leaf.shape, sharding)
    replicated = NamedSharding(mesh, PartitionSpec())

    def one(path: tuple[Any, ...], leaf: Any) -> Any:
        # Strip the optimizer's own prefix (tuple index, state field) to reach the param path.
        for start in range(len(path)):
            hit = by_path.get(jax.tree_util.keystr(path[start:]))
            if hit is not None and tuple(hit[0]) == tuple(leaf.shape):
                return hit[1]
        return replicated

    return jax.tree_util.tree_map_with_path(one, opt_state)


def compile_train_step(*, config: Any, mesh: Any, rules: Any, batch: int, input_length: int,
                       target_length: int, z_loss: float) -> Any:
    """Lower and compile the training step on abstract inputs; returns the executable."""
    import flax.linen as nn
    import jax
    import jax.numpy as jnp
    import optax
    from jax.sharding import NamedSharding, PartitionSpec

    from symjax.model import BATCH, LENGTH, T5, abstract_params, token_cross_entropy
    from symjax.train import (batch_size_fits, logical_to_mesh_axes, param_shardings,
                              sharding_context)

    batch_size_fits(batch_size=batch, mesh=mesh, rules=rules)
    boxed = abstract_params(config=config)
    p_shardings = param_shardings(params=boxed, rules=rules, mesh=mesh)
    params = jax.tree.map(lambda x, s: jax.ShapeDtypeStruct(x.shape, x.dtype, sharding=s),
                          nn.meta.unbox(boxed), p_shardings)
    tx = adafactor()
    opt_abstract = jax.eval_shape(tx.init, params)
    o_shardings = opt_state_shardings(opt_state=opt_abstract, params=params,
                                      shardings=p_shardings, mesh=mesh)
    opt_state = jax.tree.map(lambda x, s: jax.ShapeDtypeStruct(x.shape, x.dtype, sharding=s),
                             opt_abstract, o_shardings)
    batch_sharding = NamedSharding(mesh, logical_to_mesh_axes(logical_axes=(BATCH, LENGTH),
                                                              rules=rules))
    tokens = lambda length: jax.ShapeDtypeStruct((batch, length), jnp.int32,
                                                 sharding=batch_sharding)
    inputs = dict(encoder_input_tokens=tokens(input_length),
                  decoder_input_tokens=tokens(target_length),
                  decoder_target_tokens=tokens(target_length))
    replicated = NamedSharding(mesh, PartitionSpec())
    rng = jax.ShapeDtypeStruct((), jax.eval_shape(lambda: jax.random.key(0)).dtype,
                               sharding=replicated)
    model = T5(config)

    def train_step(params: Any, opt_state: Any, inputs: dict[str, Any], rng: Any) -> Any:
        def loss_fn(p: Any) -> Any:
            logits = model.apply({"params": p}, inputs["encoder_input_tokens"],
                                 inputs["decoder_input_tokens"], deterministic=False,
                                 rngs={"dropout": rng})
            return token_cross_entropy(logits=logits, targets=inputs["decoder_target_tokens"],
                                       z_loss=z_loss)[0]

        loss, grads = jax.value_and_grad(loss_fn)(params)
        updates, opt_state = tx.update(grads, opt_state, params)
        return optax.apply_updates(params, updates), opt_state, loss

    step = jax.jit(train_step, donate_argnums=(0, 1),
                   out_shardings=(p_shardings, o_shardings, replicated))
    with sharding_context(mesh=mesh, rules=rules):
        lowered = step.lower(params, opt_state, inputs, rng)
    return lowered.compile()


def main(argv: list[str]) -> None:
    del argv
    import jax
    import numpy as np

    from symjax.model import from_name
    from symjax.train import (check_config_fits_mesh, make_mesh, parse_mesh_spec,
                              standard_logical_axis_rules)

    config = from_name(FLAGS.model, dtype=FLAGS.dtype, param_dtype=FLAGS.param_dtype,
                       remat_policy=FLAGS.remat, dropout_rate=FLAGS.dropout_rate)
    sizes = parse_mesh_spec(FLAGS.mesh)
    mesh = make_mesh(data=sizes["data"], model=sizes["model"])
    rules = standard_logical_axis_rules(
        activation_partitioning_dims=FLAGS.activation_partitioning_dims,
        parameter_partitioning_dims=FLAGS.parameter_partitioning_dims)
    check_config_fits_mesh(config=config, mesh=mesh, rules=rules)

    start = time.perf_counter()
    compiled = compile_train_step(config=config, mesh=mesh, rules=rules, batch=FLAGS.batch,
                                  input_length=FLAGS.input_length,
                                  target_length=FLAGS.target_length, z_loss=FLAGS.z_loss)
    seconds = time.perf_counter() - start
    stats = compiled.memory_analysis()
    argument = int(stats.argument_size_in_bytes)
    output = int(stats.output_size_in_bytes)
    alias = int(stats.alias_size_in_bytes)
    temp = int(stats.temp_size_in_bytes)
    code = int(stats.generated_code_size_in_bytes)
    total = argument + output - alias + temp + code
    num_params = config.num_params()
    param_bytes = num_params * np.dtype(config.param_dtype).itemsize

    print(f"model={config.name} params={num_params / 1e9:.3f}B ({_gib(param_bytes).strip()} "
          f"{config.param_dtype}) dtype={config.dtype} remat={config.remat_policy} "
          f"dropout={config.dropout_rate}")
    print(f"mesh={dict(mesh.shape)} devices={mesh.devices.size} ({jax.devices()[0].platform}) "
          f"rules=act{FLAGS.activation_partitioning_dims}d/param"
          f"{FLAGS.parameter_partitioning_dims}d")
    print(f"batch={FLAGS.batch} input_length={FLAGS.input_length} "
          f"target_length={FLAGS.target_length}; compiled in {seconds:.1f}s")
    print("per-device memory of the compiled training step:")
    print(f"  arguments (params + Adafactor state + batch) {_gib(argument)}")
    print(f"  outputs                                      {_gib(output)}")
    print(f"  aliased (donated arguments reused as outputs) {_gib(alias)}")
    print(f"  temporaries (activations, gradients)         {_gib(temp)}")
    print(f"  generated code                               {_gib(code)}")
    print(f"  total = arguments + outputs - aliased + temporaries + code {_gib(total)}")
    if FLAGS.json:
        print(json.dumps(dict(
            model=config.name, mesh=dict(mesh.shape), batch=FLAGS.batch,
            input_length=FLAGS.input_length, target_length=FLAGS.target_length,
            dtype=config.dtype, param_dtype=config.param_dtype, remat=config.remat_policy,
            argument_bytes=argument, output_bytes=output, alias_bytes=alias,
            temp_bytes=temp, code_bytes=code, total_bytes=total,
            compile_seconds=round(seconds, 1),
        )))


if __name__ == "__main__":
    app.run(main)
