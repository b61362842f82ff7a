"""Weight import (Hugging Face fixture parity, t5x layouts), symjax format, convert tool."""
from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from conftest import assert_trees_equal
from safetensors.numpy import load_file, save_file

from symjax.errors import CheckpointError
from symjax.model import (T5, T5Config, from_name, greedy_decode, import_hf_checkpoint,
                          import_t5x_checkpoint, init_params, load_checkpoint,
                          relative_position_bucket, save_checkpoint)
from symjax.model.layouts import t5x_layout

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
FIXTURE = os.path.join(ROOT, "tests", "fixtures", "hf_t5_tiny")
SMALL = T5Config(vocab_size=40, d_model=12, num_heads=3, head_dim=4, num_encoder_layers=2,
                 num_decoder_layers=1, d_ff=20, relative_attention_num_buckets=8, name="test")


@pytest.fixture(scope="module")
def reference():
    with open(os.path.join(FIXTURE, "reference.json")) as f:
        meta = json.load(f)
    return meta, dict(np.load(os.path.join(FIXTURE, "reference.npz")))


@pytest.fixture(scope="module")
def small_params():
    return jax.tree.map(np.asarray, init_params(config=SMALL, rng=jax.random.key(7)))


# --- Hugging Face parity ----------------------------------------------------------------------
def test_hf_fixture_logits_match_to_1e4(reference):
    _, ref = reference
    config, params = import_hf_checkpoint(directory=FIXTURE)
    assert (config.d_model, config.num_heads, config.head_dim, config.d_ff) == (32, 4, 8, 64)
    logits = T5(config).apply({"params": params}, ref["encoder_input_ids"],
                              ref["decoder_input_ids"])
    difference = np.abs(np.asarray(logits) - ref["logits"]).max()
    assert difference < 1e-4, difference


def test_hf_fixture_greedy_decodes_match_exactly(reference):
    meta, ref = reference
    config, params = import_hf_checkpoint(directory=FIXTURE)
    config = config.replace(eos_id=meta["greedy_eos_id"])
    result = greedy_decode(model=T5(config), params=params,
                           encoder_input_tokens=ref["encoder_input_ids"],
                           max_decode_length=meta["greedy_max_new_tokens"])
    np.testing.assert_array_equal(np.asarray(result.tokens), ref["greedy_tokens"])
    # The fixture covers EOS at the first step, EOS mid-way, and no EOS.
    assert (ref["greedy_tokens"] == meta["greedy_eos_id"]).any(axis=1).tolist() == [True, True,
                                                                                      False]


def test_relative_position_buckets_match_hf(reference):
    _, ref = reference
    for bidirectional, key in ((True, "buckets_bidirectional"), (False, "buckets_causal")):
        buckets = relative_position_bucket(ref["relative_positions"],
                                           bidirectional=bidirectional, num_buckets=32,
                                           max_distance=128)
        np.testing.assert_array_equal(buckets, ref[key])


# --- Hugging Face errors ------------------------------------------------------------------------
def _edited_fixture(tmp_path, edit):
    directory = tmp_path / "hf"
    shutil.copytree(FIXTURE, directory)
    tensors = load_file(str(directory / "model.safetensors"))
    edit(tensors)
    save_file(tensors, str(directory / "model.safetensors"))
    return str(directory)


def test_hf_missing_extra_and_misshaped_tensors_are_named(tmp_path):
    missing = _edited_fixture(tmp_path / "a", lambda t: t.pop(
        "decoder.block.1.layer.1.EncDecAttention.k.weight"))
    with pytest.raises(CheckpointError,
                       match="missing 1 tensor.*decoder.block.1.layer.1.EncDecAttention.k.weight"):
        import_hf_checkpoint(directory=missing)
    bias = "encoder.block.1.layer.0.SelfAttention.relative_attention_bias.weight"
    extra = _edited_fixture(tmp_path / "b", lambda t: t.update(
        {bias: np.ones((32, 4), np.float32)}))
    with pytest.raises(CheckpointError, match=f"unexpected 1 tensor.*{bias}"):
        import_hf_checkpoint(directory=extra)

    def reshape(t):
        t["encoder.block.0.layer.1.DenseReluDense.wi_1.weight"] = np.ones((48, 32), np.float32)
    misshaped = _edited_fixture(tmp_path / "c", reshape)
    with pytest.raises(CheckpointError, match=r"'encoder.block.0.layer.1.DenseReluDense.wi_1."
                                              r"weight' has shape \(48, 32\).*expects \(64, 32\)"):
        import_hf_checkpoint(directory=misshaped)

    def alias(t):
        t["encoder.embed_tokens.weight"] = t["shared.weight"] + 1
    with pytest.raises(CheckpointError, match="encoder.embed_tokens.weight differs"):
        import_hf_checkpoint(directory=_edited_fixture(tmp_path / "d", alias))
    # An identical alias (as some exports write) is accepted.
    same = _edited_fixture(tmp_path / "e", lambda t: t.update(
        {"decoder.embed_tokens.weight": t["shared.weight"].copy()}))
    import_hf_checkpoint(directory=same)


def test_hf_checkpoint_of_another_size_names_both_values():
    with pytest.raises(CheckpointError, match="not of size 'small': vocab_size: expected 32128, "
                                              "found 128; d_model: expected 512, found 32"):
        import_hf_checkpoint(directory=FIXTURE, config=from_name("small"))


# --- t5x ----------------------------------------------------------------------------------------
def _t5x_target(params, config):
    """symjax params renamed and reshaped as t5x stores them (flattened attention kernels)."""
    target = {}
    for entry in t5x_layout(config):
        array = params
        for key in entry.target:
            array = array[key]
        if entry.layer is not None:  # symjax stacks layers; t5x names each one
            array = array[entry.layer]
        node = target
        parts = entry.source.split("/")
        for key in parts[:-1]:
            node = node.setdefault(key, {})
        node[parts[-1]] = np.asarray(array).reshape(entry.source_shapes[0])
    return target


def _write_t5x_tensorstore(directory, target, inline=()):
    """A checkpoint in t5x's tensorstore layout, written the way t5x.checkpoints does."""
    import tensorstore as ts
    from flax import serialization

    def visit(node, path):
        out = {}
        for key, value in node.items():
            if isinstance(value, dict):
                out[key] = visit(value, path + (key,))
                continue
            name = "/".join(path + (key,))
            if name in inline:  # t5x writes small arrays into the msgpack file itself
                out[key] = value
                continue
            relative = ".".join(("target",) + path + (key,))
            spec = {"driver": "zarr", "dtype": value.dtype.name,
                    "kvstore": {"driver": "file", "path": relative},
                    "metadata": {"chunks": list(value.shape), "shape": list(value.shape),
                                 "compressor": {"id": "gzip", "level": 1}}}
            store = ts.open({**spec, "kvstore": {"driver": "file",
                                                 "path": os.path.join(directory, relative)}},
                            create=True, open=True).result()
            store.write(value).result()
            out[key] = spec
        return out

    os.makedirs(directory)
    state = {"version": 3, "optimizer": {
        "target": visit(target, ()),
        "state": {"step": np.int32(1138000),
                  "param_states": {"token_embedder": {"embedding": {"v_row": np.zeros(3)}}}},
    }}
    with open(os.path.join(directory, "checkpoint"), "wb") as f:
        f.write(serialization.msgpack_serialize(state))


def _write_t5x_orbax(directory, target):
    import orbax.checkpoint as ocp

    checkpointer = ocp.PyTreeCheckpointer()
    checkpointer.save(os.path.join(directory, "state"),
                      {"target": target, "state": {"step": np.int32(5)}})


def test_t5x_tensorstore_layout_imports_exactly(tmp_path, small_params):
    target = _t5x_target(small_params, SMALL)
    assert target["encoder"]["layers_0"]["attention"]["query"]["kernel"].shape == (12, 12)
    directory = str(tmp_path / "checkpoint_1138000")
    _write_t5x_tensorstore(directory, target, inline={"decoder/decoder_norm/scale"})
    assert os.path.isdir(os.path.join(directory,
                                      "target.encoder.layers_0.attention.query.kernel"))
    assert_trees_equal(small_params, import_t5x_checkpoint(directory=directory, config=SMALL))


def test_t5x_orbax_layout_imports_exactly(tmp_path, small_params):
    directory = str(tmp_path / "checkpoint_5")
    _write_t5x_orbax(directory, _t5x_target(small_params, SMALL))
    assert_trees_equal(small_params, import_t5x_checkpoint(directory=directory, config=SMALL))


def test_t5x_errors_name_the_tensor_and_both_shapes(tmp_path, small_params):
    target = _t5x_target(small_params, SMALL)
    directory = str(tmp_path / "ckpt")
    _write_t5x_tensorstore(directory, target)
    with pytest.raises(CheckpointError, match="not of size 'test': d_ff: expected 24, found 20"):
        import_t5x_checkpoint(directory=directory, config=SMALL.replace(d_ff=24))
    with pytest.raises(CheckpointError, match="num_decoder_layers: expected 2, found 1"):
        import_t5x_checkpoint(directory=directory, config=SMALL.replace(num_decoder_layers=2))
    # A tensor of the wrong shape that the size probes do not see is still named.
    target["decoder"]["layers_0"]["mlp"]["wo"]["kernel"] = np.zeros((21, 12), np.float32)
    odd = str(tmp_path / "odd")
    _write_t5x_orbax(odd, target)
    with pytest.raises(CheckpointError, match=r"'decoder/layers_0/mlp/wo/kernel' has shape "
                                              r"\(21, 12\), but T5 config 'test' expects \(20, 12\)"):
        import_t5x_checkpoint(directory=odd, config=SMALL)
    del target["decoder"]["layers_0"]["mlp"]["wo"]
    broken = str(tmp_path / "broken")
    _write_t5x_orbax(broken, target)
    with pytest.raises(CheckpointError, match="missing 1 tensor.*decoder/layers_0/mlp/wo/kernel"):
        import_t5x_checkpoint(directory=broken, config=SMALL)
    with pytest.raises(CheckpointError, match="is not a t5x checkpoint"):
        import_t5x_checkpoint(directory=str(tmp_path), config=SMALL)


# --- symjax format ------------------------------------------------------------------------------
@pytest.mark.parametrize("dtype", ["float32", "bfloat16"])
def test_own_format_round_trips_exactly(tmp_path, small_params, dtype):
    config = SMALL.replace(param_dtype=dtype)
    params = jax.tree.map(lambda x: np.asarray(x).astype(jnp.dtype(dtype)), small_params)
    save_checkpoint(directory=str(tmp_path / "ckpt"), params=params, config=config)
    loaded_config, loaded = load_checkpoint(directory=str(tmp_path / "ckpt"))
    assert loaded_config == config
    assert_trees_equal(params, jax.tree.map(np.asarray, loaded))
    sharding = jax.sharding.SingleDeviceSharding(jax.devices()[0])
    _, placed = load_checkpoint(directory=str(tmp_path / "ckpt"), config=config,
                                shardings=jax.tree.map(lambda _: sharding, params))
    assert all(leaf.sharding == sharding for leaf in jax.tree.leaves(placed))


def test_own_format_errors(tmp_path, small_params):
    directory = str(tmp_path / "ckpt")
    save_checkpoint(directory=directory, params=small_params, config=SMALL)
    with pytest.raises(CheckpointError, match="exists"):
        save_checkpoint(directory=directory, params=small_params, config=SMALL)
    with pytest.raises(CheckpointError, match="size 'test', not 'base': vocab_size: expected "
                                              "32128, found 40"):
        load_checkpoint(directory=directory, config=from_name("base"))
    incomplete = jax.tree.map(lambda x: x, small_params)
    del incomplete["encoder"]["layers"]["mlp"]
    with pytest.raises(CheckpointError, match="missing encoder/layers/mlp/"):
        save_checkpoint(directory=str(tmp_path / "other"), params=incomplete, config=SMALL)


# --- tools/convert_checkpoint.py ----------------------------------------------------------------
def _convert(*args):
    return subprocess.run([sys.executable, os.path.join(ROOT, "tools", "convert_checkpoint.py"),
                           *args], capture_output=True, text=True, cwd=ROOT, timeout=300)


def test_convert_tool_hf_and_t5x(tmp_path, small_params):
    out = tmp_path / "from_hf"
    done = _convert("--from=hf", f"--input={FIXTURE}", f"--output={out}")
    assert done.returncode == 0, done.stderr
    config, params = load_checkpoint(directory=str(out))
    assert_trees_equal(import_hf_checkpoint(directory=FIXTURE)[1],
                        jax.tree.map(np.asarray, params))

    t5x_dir = str(tmp_path / "t5x")
    _write_t5x_tensorstore(t5x_dir, _t5x_target(small_params, SMALL))
    config_file = tmp_path / "small.json"
    config_file.write_text(SMALL.to_json())
    done = _convert("--from=t5x", f"--input={t5x_dir}", f"--output={tmp_path / 'from_t5x'}",
                    f"--config_json={config_file}", "--param_dtype=bfloat16")
    assert done.returncode == 0, done.stderr
    config, params = load_checkpoint(directory=str(tmp_path / "from_t5x"))
    assert config == SMALL.replace(param_dtype="bfloat16")
    assert_trees_equal(jax.tree.map(lambda x: x.astype(jnp.bfloat16), small_params),
                        jax.tree.map(np.asarray, params))

    done = _convert("--from=t5x", f"--input={t5x_dir}", f"--output={tmp_path / 'x'}",
                    "--model=small")
    assert done.returncode == 1
    assert "CheckpointError" in done.stderr
    assert "not of size 'small': vocab_size: expected 32128, found 40" in done.stderr


# --- bad input (issue 16) -------------------------------------------------------------------
def _hf_copy(tmp_path):
    directory = tmp_path / "hf"
    shutil.copytree(FIXTURE, directory)
    return directory


@pytest.mark.parametrize("damage", ["truncated", "garbage", "bad_header"])
def test_damaged_safetensors_is_named(tmp_path, damage):
    directory = _hf_copy(tmp_path)
    path = directory / "model.safetensors"
    data = path.read_bytes()
    path.write_bytes({"truncated": data[: len(data) // 2], "garbage": os.urandom(4096),
                      "bad_header": (40).to_bytes(8, "little") + b'{"a": ' + b"x" * 100}[damage])
    with pytest.raises(CheckpointError, match=r"model\.safetensors is not a readable safetensors file .*download it again"):
        import_hf_checkpoint(directory=str(directory))


@pytest.mark.parametrize("text, fragment", [('{"d_model": 64,', "is not valid JSON"),
                                            ("[1, 2]", "holds a JSON list, not an object"),
                                            ('{"feed_forward_proj": "gated-gelu", "tie_word_embeddings": false}',
                                             "is not a T5 config")])
def test_malformed_hf_config_json_is_named(tmp_path, text, fragment):
    directory = _hf_copy(tmp_path)
    (directory / "config.json").write_text(text)
    with pytest.raises(CheckpointError, match=fragment) as e:
        import_hf_checkpoint(directory=str(directory))
    assert str(directory / "config.json") in str(e.value)


def test_read_only_output_is_named(tmp_path, monkeypatch):
    import errno

    from symjax.errors import OutputError
    from symjax.model import save_checkpoint

    config, params = import_hf_checkpoint(directory=FIXTURE)
    out = tmp_path / "ro" / "converted"
    real_makedirs = os.makedirs

    def read_only_makedirs(name, *args, **kwargs):  # the file system refuses new directories there
        if str(name).startswith(str(tmp_path / "ro")):
            raise OSError(errno.EROFS, os.strerror(errno.EROFS), str(name))
        return real_makedirs(name, *args, **kwargs)

    monkeypatch.setattr(os, "makedirs", read_only_makedirs)
    with pytest.raises(OutputError, match=r"cannot write the checkpoint .*converted: Read-only file system; choose a writable"):
        save_checkpoint(directory=str(out), params=params, config=config)


def test_convert_tool_bad_input_is_one_line(tmp_path):
    directory = _hf_copy(tmp_path)
    (directory / "model.safetensors").write_bytes(os.urandom(4096))
    done = _convert("--from=hf", f"--input={directory}", f"--output={tmp_path / 'out'}")
    assert done.returncode == 1 and "Traceback" not in done.stderr
    assert done.stderr.strip().splitlines()[-1].startswith(
        f"convert_checkpoint: CheckpointError: {directory / 'model.safetensors'} is not a readable safetensors file")
    done = _convert("--from=t5x", f"--input={tmp_path}", f"--output={tmp_path / 'out'}",
                    f"--config_json={tmp_path / 'nope.json'}")
    assert done.returncode == 1 and "Traceback" not in done.stderr
    assert done.stderr.strip().splitlines()[-1] == (
        f"convert_checkpoint: ConfigError: --config_json={tmp_path / 'nope.json'}: no such file; give a "
        "symjax T5Config JSON file (or --model=<size>)")
    assert not (tmp_path / "out").exists()
