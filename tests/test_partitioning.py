"""Partitioning rules, meshes and shardings.

Multi-device checks run this file as a script in a child process with 8 simulated CPU
devices (``XLA_FLAGS=--xla_force_host_platform_device_count=8`` must be set before JAX
starts, so it cannot share the pytest process); the child prints one JSON report that the
tests below read.
"""
from __future__ import annotations

import contextlib
import io
import json
import os
import subprocess
import sys

import flax.linen as nn
import jax
import numpy as np
import pytest

from symjax.errors import ShardingError
from symjax.model import T5Config, abstract_params, param_logical_axes
from symjax.train import (RULES_1D, RULES_2D, RULES_2D_ACTIVATIONS, RULES_2D_PARAMETERS,
                          logical_sharding, logical_to_mesh_axes, make_mesh, param_shardings,
                          parse_mesh_spec, standard_logical_axis_rules)

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
CONFIG = T5Config(vocab_size=64, d_model=16, num_heads=8, head_dim=4, num_encoder_layers=1,
                  num_decoder_layers=1, d_ff=32, name="test")
MESHES = (("1x8", 1, 8, "1d"), ("2x4", 2, 4, "1d"), ("8x1", 8, 1, "1d"), ("2x4", 2, 4, "2d"))
ALL_TABLES = (RULES_1D, RULES_2D_ACTIVATIONS, RULES_2D_PARAMETERS, RULES_2D)


# --- single process ---------------------------------------------------------------------------
def test_rule_tables_are_t5x_standard_rules():
    def mapping(rules):
        out = {}
        for logical, mesh in rules:
            out.setdefault(logical, []).append(mesh)
        return out

    base = {"batch": ["data"], "vocab": ["model"], "mlp": ["model"], "heads": ["model"],
            "kv": [None], "length": [None], "relpos_buckets": [None], "layers": [None]}
    assert mapping(RULES_1D) == {**base, "embed": [None]}
    assert mapping(RULES_2D_ACTIVATIONS) == {**base, "embed": ["model"]}
    assert mapping(RULES_2D_PARAMETERS) == {**base, "embed": ["data"]}
    assert mapping(RULES_2D) == {**base, "embed": ["model", "data"]}
    assert standard_logical_axis_rules() == RULES_1D
    assert standard_logical_axis_rules(activation_partitioning_dims=2,
                                       parameter_partitioning_dims=2) == RULES_2D
    extra = standard_logical_axis_rules(additional_rules=[("heads", None)])
    assert extra[0] == ("heads", None)
    with pytest.raises(ShardingError, match="activation_partitioning_dims=3"):
        standard_logical_axis_rules(activation_partitioning_dims=3)


def test_resolution_agrees_with_flax_for_every_array_of_the_model():
    boxed = abstract_params(config=CONFIG)
    names = {tuple(box.names) for box in jax.tree.leaves(
        boxed, is_leaf=lambda x: isinstance(x, nn.LogicallyPartitioned))}
    names |= {("batch", "length", "embed"), ("batch", "length", "heads", "kv"),
              ("batch", "length", "mlp"), ("batch", "length", "vocab"), ("batch", "length")}
    for rules in ALL_TABLES:
        for axes in names:
            ours = logical_to_mesh_axes(logical_axes=axes, rules=rules)
            assert tuple(ours) == tuple(nn.logical_to_mesh_axes(axes, rules)), (axes, rules)


def test_two_d_rules_shard_embed_by_priority():
    spec = lambda axes, rules: tuple(logical_to_mesh_axes(logical_axes=axes, rules=rules))
    assert spec(("batch", "length", "embed"), RULES_2D) == ("data", None, "model")
    assert spec(("embed", "mlp"), RULES_2D) == ("data", "model")
    assert spec(("vocab", "embed"), RULES_2D) == ("model", "data")
    assert spec(("embed", "heads", "kv"), RULES_1D) == (None, "model", None)
    assert spec(("batch", "length", "embed"), RULES_2D_PARAMETERS) == ("data", None, None)


def test_rule_errors():
    with pytest.raises(ShardingError, match="logical axis 'embedd' has no rule"):
        logical_to_mesh_axes(logical_axes=("embedd",), rules=RULES_1D)
    with pytest.raises(ShardingError, match="name an axis twice"):
        logical_to_mesh_axes(logical_axes=("embed", "embed"), rules=RULES_1D)
    with pytest.raises(ShardingError, match="mesh data=2 x model=4 = 8 devices, but 1 are"):
        make_mesh(data=2, model=4, devices=jax.devices()[:1])
    assert parse_mesh_spec("data:2,model:4") == {"data": 2, "model": 4}
    assert parse_mesh_spec("model:8") == {"data": 1, "model": 8}
    with pytest.raises(ShardingError, match="'pipeline:2'"):
        parse_mesh_spec("data:2,pipeline:2")
    mesh = make_mesh(data=1, model=1)
    unboxed = nn.meta.unbox(abstract_params(config=CONFIG))
    with pytest.raises(ShardingError, match="carries no logical axes"):
        param_shardings(params=unboxed, rules=RULES_1D, mesh=mesh)
    with pytest.raises(ShardingError, match=r"shape \(4, 2\) has 2 axes but logical axes"):
        logical_sharding(shape=(4, 2), logical_axes=("batch",), rules=RULES_1D, mesh=mesh)


def test_unboxed_params_take_their_axes_from_param_logical_axes():
    mesh = make_mesh(data=1, model=1)
    boxed = abstract_params(config=CONFIG)
    from_boxes = param_shardings(params=boxed, rules=RULES_2D, mesh=mesh)
    from_axes = param_shardings(params=nn.meta.unbox(boxed), rules=RULES_2D, mesh=mesh,
                                logical_axes=param_logical_axes(config=CONFIG))
    assert jax.tree.structure(from_boxes) == jax.tree.structure(from_axes)
    for a, b in zip(jax.tree.leaves(from_boxes), jax.tree.leaves(from_axes)):
        assert a == b


# --- 8 simulated devices, in a child process ---------------------------------------------------
@pytest.fixture(scope="module")
def child_report():
    env = dict(os.environ, XLA_FLAGS="--xla_force_host_platform_device_count=8",
               JAX_PLATFORMS="cpu")
    done = subprocess.run([sys.executable, os.path.abspath(__file__), "--child"], env=env,
                          capture_output=True, text=True, cwd=ROOT, timeout=600)
    assert done.returncode == 0, done.stderr[-4000:]
    return json.loads(done.stdout.strip().splitlines()[-1])


@pytest.mark.parametrize("name,data,model,dims", MESHES)
def test_meshes_give_the_single_device_logits_loss_and_gradients(child_report, name, data,
                                                                 model, dims):
    result = child_report["meshes"][f"{name}/{dims}"]
    assert result["devices"] == 8
    assert result["logits_max_abs_diff"] < 1e-5
    assert result["loss_abs_diff"] < 1e-6
    assert result["grads_max_abs_diff"] < 1e-6


@pytest.mark.parametrize("name,data,model,dims", MESHES)
def test_each_parameter_is_sharded_as_the_rules_say(child_report, name, data, model, dims):
    result = child_report["meshes"][f"{name}/{dims}"]
    assert result["params_checked"] == result["params_total"] == 29
    assert result["sharding_mismatches"] == []
    expected = {  # written out by hand from the t5x tables; "layers" is replicated
        "1d": {"encoder/layers/attention/query/kernel": [None, None, "model", None],
               "encoder/layers/attention/out/kernel": [None, "model", None, None],
               "decoder/layers/mlp/wi_0/kernel": [None, None, "model"],
               "decoder/layers/mlp/wo/kernel": [None, "model", None],
               "token_embedder/embedding": ["model", None],
               "decoder/logits_dense/kernel": [None, "model"],
               "encoder/relpos_bias/rel_embedding": ["model", None],
               "encoder/encoder_norm/scale": [None]},
        "2d": {"encoder/layers/attention/query/kernel": [None, "data", "model", None],
               "encoder/layers/attention/out/kernel": [None, "model", None, "data"],
               "decoder/layers/mlp/wi_0/kernel": [None, "data", "model"],
               "decoder/layers/mlp/wo/kernel": [None, "model", "data"],
               "token_embedder/embedding": ["model", "data"],
               "decoder/logits_dense/kernel": ["data", "model"],
               "encoder/relpos_bias/rel_embedding": ["model", None],
               "encoder/encoder_norm/scale": ["model"]},  # the first embed rule wins
    }[dims]
    for param, spec in expected.items():
        got = result["specs"][param]
        assert got + [None] * (len(spec) - len(got)) == spec, param
    # The activation constraints reach the compiled program: logits are [batch, len, vocab].
    assert result["logits_spec"][0] == ("data" if data > 1 else None)
    assert result["logits_spec"][2:] == (["model"] if model > 1 else [])


def test_divisibility_errors_name_parameter_shape_and_mesh(child_report):
    errors = child_report["errors"]
    heads = errors["heads"]
    assert "parameter 'decoder/layers/encoder_decoder_attention/key/kernel'" in heads
    assert "of shape (1, 16, 6, 4)" in heads and "axis 2 ('heads', size 6)" in heads
    assert "mesh axis 'model' of size 4 (mesh data=2, model=4)" in heads
    assert errors["heads_config"].startswith("T5 config 'test': num_heads=6 ('heads') does not "
                                             "divide mesh axis 'model' of size 4")
    assert "'mlp', size 30" in errors["mlp"] and "d_ff=30" in errors["mlp_config"]
    assert "'vocab', size 130" in errors["vocab"] and "vocab_size=130" in errors["vocab_config"]
    assert "batch size 6 does not divide mesh axis 'data' of size 4" in errors["batch"]


def test_memory_report_binary_compiles_a_sharded_train_step(child_report):
    memory = child_report["memory"]
    assert memory["model"] == "tiny" and memory["mesh"] == {"data": 2, "model": 4}
    assert memory["argument_bytes"] > 0 and memory["temp_bytes"] > 0
    assert memory["alias_bytes"] > 0  # params and optimizer state are donated
    assert memory["total_bytes"] == (memory["argument_bytes"] + memory["output_bytes"]
                                     - memory["alias_bytes"] + memory["temp_bytes"]
                                     + memory["code_bytes"])
    # tiny: 2 x 32128 x 8 embedding/head floats dominate; each device holds a quarter of the
    # vocab-sharded ones, so the arguments are far below the unsharded parameter bytes.
    assert memory["argument_bytes"] < 0.5 * 4 * 2 * 32128 * 8 * 2
    assert "per-device memory of the compiled step" in child_report["memory_table"]
    assert "FITS" in child_report["memory_table"] and memory["fits"] is True


# --- the child ---------------------------------------------------------------------------------
def _child() -> None:
    import jax.numpy as jnp
    from jax.sharding import NamedSharding

    from symjax.model import T5, init_params, token_cross_entropy
    from symjax.train import batch_size_fits, check_config_fits_mesh, sharding_context

    assert len(jax.devices()) == 8, jax.devices()
    sys.path.insert(0, os.path.join(ROOT, "tools"))
    import memory_report

    def path_name(path):
        return "/".join(str(k.key) for k in path)

    rng = np.random.default_rng(0)
    enc = rng.integers(2, CONFIG.vocab_size, (8, 12)).astype(np.int32)
    enc[3, 7:] = 0
    targets = rng.integers(2, CONFIG.vocab_size, (8, 6)).astype(np.int32)
    dec = np.concatenate([np.zeros((8, 1), np.int32), targets[:, :-1]], axis=1)
    params = init_params(config=CONFIG, rng=jax.random.key(0))
    model = T5(CONFIG)

    def loss_fn(p, enc, dec, targets):
        logits = model.apply({"params": p}, enc, dec)
        return token_cross_entropy(logits=logits, targets=targets)[0], logits

    step = jax.value_and_grad(loss_fn, has_aux=True)
    (ref_loss, ref_logits), ref_grads = jax.jit(step)(params, enc, dec, targets)
    boxed = abstract_params(config=CONFIG)
    names = {path_name(p): tuple(box.names) for p, box in
             jax.tree_util.tree_flatten_with_path(
                 boxed, is_leaf=lambda x: isinstance(x, nn.LogicallyPartitioned))[0]}
    report = {"meshes": {}, "errors": {}}
    for name, data, model_size, dims in MESHES:
        rules = RULES_1D if dims == "1d" else RULES_2D
        mesh = make_mesh(data=data, model=model_size)
        shardings = param_shardings(params=boxed, rules=rules, mesh=mesh)
        placed = jax.device_put(params, shardings)
        batch = NamedSharding(mesh, logical_to_mesh_axes(logical_axes=("batch", "length"),
                                                         rules=rules))
        with sharding_context(mesh=mesh, rules=rules):
            compiled = jax.jit(step, in_shardings=(shardings, batch, batch, batch),
                               out_shardings=((None, None), shardings))
            (loss, logits), grads = compiled(placed, enc, dec, targets)
        mismatches, specs, checked = [], {}, 0
        for (path, leaf), (_, grad) in zip(jax.tree_util.tree_flatten_with_path(placed)[0],
                                           jax.tree_util.tree_flatten_with_path(grads)[0]):
            param = path_name(path)
            want = logical_to_mesh_axes(logical_axes=names[param], rules=rules)
            expected_shard = tuple(
                size // (mesh.shape[axis] if axis else 1) for size, axis in
                zip(leaf.shape, tuple(want) + (None,) * (leaf.ndim - len(want))))
            for array in (leaf, grad):
                if (not array.sharding.is_equivalent_to(NamedSharding(mesh, want), array.ndim)
                        or array.addressable_shards[0].data.shape != expected_shard):
                    mismatches.append(param)
            specs[param] = list(leaf.sharding.spec)
            checked += 1
        grad_diff = max(float(jnp.abs(a - b).max()) for a, b in
                        zip(jax.tree.leaves(grads), jax.tree.leaves(ref_grads)))
        report["meshes"][f"{name}/{dims}"] = dict(
            devices=int(mesh.devices.size),
            logits_max_abs_diff=float(jnp.abs(logits - ref_logits).max()),
            loss_abs_diff=float(abs(loss - ref_loss)),
            grads_max_abs_diff=grad_diff,
            params_checked=checked, params_total=len(names),
            sharding_mismatches=mismatches, specs=specs,
            logits_spec=list(logits.sharding.spec),
        )

    mesh = make_mesh(data=2, model=4)

    def error_of(fn):
        try:
            fn()
        except ShardingError as e:
            return str(e)
        return "no error"

    for key, config in (("heads", CONFIG.replace(num_heads=6)),
                        ("mlp", CONFIG.replace(d_ff=30)),
                        ("vocab", CONFIG.replace(vocab_size=130))):
        report["errors"][key] = error_of(lambda: param_shardings(
            params=abstract_params(config=config), rules=RULES_1D, mesh=mesh))
        report["errors"][key + "_config"] = error_of(lambda: check_config_fits_mesh(
            config=config, mesh=mesh, rules=RULES_1D))
    report["errors"]["batch"] = error_of(lambda: batch_size_fits(
        batch_size=6, mesh=make_mesh(data=4, model=2), rules=RULES_1D))

    # The memory report binary, through its flags, on t5x's tiny model with the run gin, on
    # the 8 devices this child already has (--platform=native: a v3-8's count).
    from symjax.train.binary import rewrite_gin_args

    memory_report.FLAGS(rewrite_gin_args([
        "memory_report", "--gin_file=gin/models/tiny.gin", "--gin_file=gin/runs/finetune.gin",
        "--gin.MESH='data:2,model:4'", "--gin.BATCH_SIZE=4",
        "--gin.TASK_FEATURE_LENGTHS={'inputs': 16, 'targets': 8}", "--device=v3",
        "--platform=native", "--json"]))
    printed = io.StringIO()
    with contextlib.redirect_stdout(printed):
        assert memory_report.run([]) == 0
    report["memory"] = json.loads(printed.getvalue().strip().splitlines()[-1])
    report["memory_table"] = printed.getvalue()
    print(json.dumps(report))


if __name__ == "__main__" and "--child" in sys.argv:
    _child()
