"""Export: symjax -> Hugging Face / t5x, exact round trips, the convert tool on a run directory,
and (where torch and transformers are installed) Hugging Face logits of the export."""
from __future__ import annotations

import json
import os
import subprocess
import sys

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from conftest import assert_trees_equal
from safetensors.numpy import load_file

from symjax.errors import CheckpointError, OutputError
from symjax.model import (T5, T5Config, export_hf_checkpoint, export_t5x_checkpoint,
                          import_hf_checkpoint, import_t5x_checkpoint, init_params)

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
FIXTURE = os.path.join(ROOT, "tests", "fixtures", "hf_t5_tiny")
# vocab 300 covers the byte vocabulary (259 ids), so a run of it can export a tokenizer
SMALL = T5Config(vocab_size=300, d_model=12, num_heads=3, head_dim=4, num_encoder_layers=2,
                 num_decoder_layers=1, d_ff=20, relative_attention_num_buckets=8, name="test")


@pytest.fixture(scope="module")
def small_params():
    return jax.tree.map(np.asarray, init_params(config=SMALL, rng=jax.random.key(3)))


# --- Hugging Face ---------------------------------------------------------------------------
def test_hf_round_trip_is_exact_on_the_fixture(tmp_path):
    config, params = import_hf_checkpoint(directory=FIXTURE)
    out = tmp_path / "hf"
    files = export_hf_checkpoint(directory=str(out), params=params, config=config)
    assert files == ["config.json", "model.safetensors"]
    again_config, again = import_hf_checkpoint(directory=str(out))
    assert again_config == config
    assert_trees_equal(params, again)
    # Every tensor transformers saved comes back bit for bit under its own name.
    original, exported = load_file(os.path.join(FIXTURE, "model.safetensors")), load_file(str(out / "model.safetensors"))
    assert sorted(exported) == sorted(original)
    for name, value in original.items():
        np.testing.assert_array_equal(exported[name], value, err_msg=name)
    written = json.loads((out / "config.json").read_text())
    assert (written["feed_forward_proj"], written["tie_word_embeddings"], written["d_kv"]) == ("gated-gelu", False, 8)


def test_hf_round_trip_bfloat16_and_refusals(tmp_path, small_params):
    config = SMALL.replace(param_dtype="bfloat16")
    params = jax.tree.map(lambda x: x.astype(jnp.bfloat16), small_params)
    export_hf_checkpoint(directory=str(tmp_path / "bf16"), params=params, config=config)
    assert_trees_equal(params, import_hf_checkpoint(directory=str(tmp_path / "bf16"), config=config)[1])
    with pytest.raises(OutputError, match="exists; choose a new output directory"):
        export_hf_checkpoint(directory=str(tmp_path / "bf16"), params=params, config=config)
    broken = jax.tree.map(lambda x: x, small_params)
    del broken["decoder"]["logits_dense"]
    with pytest.raises(CheckpointError, match="no decoder/logits_dense/kernel"):
        export_hf_checkpoint(directory=str(tmp_path / "broken"), params=broken, config=SMALL)
    # nothing half-written is left behind, under the name or a temporary one
    assert sorted(os.listdir(tmp_path)) == ["bf16"]


# --- t5x --------------------------------------------------------------------------------------
@pytest.mark.parametrize("dtype", ["float32", "bfloat16"])
def test_t5x_round_trip_is_exact_and_has_t5x_layout(tmp_path, small_params, dtype):
    import tensorstore as ts
    from flax import serialization

    config = SMALL.replace(param_dtype=dtype)
    params = jax.tree.map(lambda x: np.asarray(x).astype(jnp.dtype(dtype)), small_params)
    directory = tmp_path / "checkpoint_1200"
    names = export_t5x_checkpoint(directory=str(directory), params=params, config=config, step=1200)
    assert "target/encoder/layers_1/attention/query/kernel" in names
    assert_trees_equal(params, import_t5x_checkpoint(directory=str(directory), config=config))
    # What t5x.checkpoints.Checkpointer.restore reads: the msgpack file, version >= 2, the
    # optimizer state dict, and per parameter a zarr spec whose kvstore path is relative to the
    # checkpoint directory.
    contents = serialization.msgpack_restore((directory / "checkpoint").read_bytes())
    assert contents["version"] == 3 and int(contents["optimizer"]["state"]["step"]) == 1200
    spec = contents["optimizer"]["target"]["encoder"]["layers_1"]["attention"]["query"]["kernel"]
    assert spec["driver"] == "zarr" and spec["kvstore"] == {
        "driver": "file", "path": "target.encoder.layers_1.attention.query.kernel"}
    assert spec["dtype"] == dtype
    spec["kvstore"]["path"] = os.path.join(str(directory), spec["kvstore"]["path"])  # as t5x does
    stored = ts.open(spec, open=True, read=True).result().read().result()
    flat = params["encoder"]["layers"]["attention"]["query"]["kernel"][1].reshape(12, 12)
    np.testing.assert_array_equal(np.asarray(stored), flat)


# --- the tool on a run directory ----------------------------------------------------------------
def _run_directory(tmp_path, params, *, vocabulary="byte", step=7):
    """A trainer run directory with one checkpoint, written by the trainer's Checkpointer."""
    from symjax.train.checkpoints import Checkpointer

    run = tmp_path / f"run_{vocabulary}"
    checkpointer = Checkpointer(model_dir=str(run), keep=2, async_save=False)
    config = {"model": SMALL.to_dict(), "vocabulary": vocabulary,
              "task_feature_lengths": {"inputs": 64, "targets": 8}}
    checkpointer.save(step=step, state={"params": params, "opt_state": {}, "step": np.int32(step)},
                      data_batches=step, config=config)
    checkpointer.close()
    return run


def _convert(*args):
    return subprocess.run([sys.executable, os.path.join(ROOT, "tools", "convert_checkpoint.py"), *args],
                          capture_output=True, text=True, cwd=ROOT, timeout=300)


def test_convert_tool_exports_a_run_directory(tmp_path, small_params):
    run = _run_directory(tmp_path, small_params)
    done = _convert("--from=symjax", "--to=hf", f"--input={run}", f"--output={tmp_path / 'hf'}")
    assert done.returncode == 0, done.stderr
    assert f"from step 7 of {run}/checkpoints/7" in done.stdout
    config, params = import_hf_checkpoint(directory=str(tmp_path / "hf"))
    assert config == SMALL.replace(name="custom")
    assert_trees_equal(small_params, params)
    assert json.loads((tmp_path / "hf" / "tokenizer_config.json").read_text())["tokenizer_class"] == "ByT5Tokenizer"

    done = _convert("--from=symjax", "--to=t5x", f"--input={run}/checkpoints/7",
                    f"--output={tmp_path / 'checkpoint_7'}")
    assert done.returncode == 0, done.stderr
    assert_trees_equal(small_params, import_t5x_checkpoint(directory=str(tmp_path / "checkpoint_7"), config=SMALL))

    # The default vocabulary lives on gs://: the weights are written, and the output says why
    # there is no tokenizer and what to do.
    default_run = _run_directory(tmp_path, small_params, vocabulary="default")
    done = _convert("--from=symjax", "--to=hf", f"--input={default_run}", f"--output={tmp_path / 'hf2'}")
    assert done.returncode == 0, done.stderr
    assert "no tokenizer files written: the run's vocabulary gs://t5-data/vocabs/cc_all.32000.100extra/" \
           "sentencepiece.model is not a local file; copy it" in done.stdout
    assert sorted(os.listdir(tmp_path / "hf2")) == ["config.json", "model.safetensors"]

    # An existing output is refused in one line; nothing is written.
    done = _convert("--from=symjax", "--to=hf", f"--input={run}", f"--output={tmp_path / 'hf'}")
    assert done.returncode == 1 and "Traceback" not in done.stderr
    assert done.stderr.strip().splitlines()[-1] == (
        f"convert_checkpoint: OutputError: {tmp_path / 'hf'} exists; choose a new output directory "
        "(nothing was written)")
    done = _convert("--from=symjax", "--to=hf", f"--input={tmp_path / 'nope'}", f"--output={tmp_path / 'x'}")
    assert done.returncode == 1
    assert "CheckpointError: checkpoint" in done.stderr.strip().splitlines()[-1]
    assert not (tmp_path / "x").exists()


def test_sentencepiece_tokenizer_is_written(tmp_path, small_params):
    seqio = pytest.importorskip("seqio")
    model = os.path.join(os.path.dirname(seqio.__file__), "test_data", "sentencepiece", "sentencepiece.model")
    if not os.path.isfile(model):
        pytest.skip(f"seqio's test SentencePiece model {model} is not installed")
    files = export_hf_checkpoint(directory=str(tmp_path / "hf"), params=small_params, config=SMALL,
                                 sentencepiece_model=model)
    assert files == ["config.json", "model.safetensors", "special_tokens_map.json", "spiece.model",
                     "tokenizer_config.json"]
    assert (tmp_path / "hf" / "spiece.model").read_bytes() == open(model, "rb").read()
    with pytest.raises(CheckpointError, match="not a readable SentencePiece model"):
        export_hf_checkpoint(directory=str(tmp_path / "bad"), params=small_params, config=SMALL,
                             sentencepiece_model=os.path.join(FIXTURE, "config.json"))


# --- Hugging Face logits (needs torch and transformers, which symjax does not depend on) ------------
def test_transformers_loads_the_export_with_the_same_logits(tmp_path, small_params):
    torch = pytest.importorskip("torch", reason="torch is not installed (not a symjax dependency); "
                                "see tools/make_hf_fixture.py for the environment of this check")
    transformers = pytest.importorskip("transformers", reason="transformers is not installed (not a "
                                       "symjax dependency)")
    rng = np.random.default_rng(0)
    for name, (config, params) in {"fixture": import_hf_checkpoint(directory=FIXTURE),
                                   "random": (SMALL, small_params)}.items():
        out = tmp_path / name
        export_hf_checkpoint(directory=str(out), params=params, config=config)
        model = transformers.T5ForConditionalGeneration.from_pretrained(str(out)).eval()
        encoder = rng.integers(2, config.vocab_size, size=(3, 11)).astype(np.int32)
        encoder[1, 7:] = 0
        decoder = np.concatenate([np.zeros((3, 1), np.int32),
                                  rng.integers(2, config.vocab_size, size=(3, 5)).astype(np.int32)], axis=1)
        ours = np.asarray(T5(config).apply({"params": params}, encoder, decoder))
        with torch.no_grad():
            theirs = model(input_ids=torch.from_numpy(encoder).long(),
                           attention_mask=torch.from_numpy(encoder != 0).long(),
                           decoder_input_ids=torch.from_numpy(decoder).long()).logits.numpy()
        difference = float(np.abs(ours - theirs).max())
        print(f"{name}: max |logits difference| = {difference:.3g}")
        assert difference < 1e-4, (name, difference)


def test_transformers_reads_the_exported_tokenizers(tmp_path, small_params):
    pytest.importorskip("torch", reason="torch is not installed (not a symjax dependency)")
    transformers = pytest.importorskip("transformers", reason="transformers is not installed (not a symjax dependency)")
    seqio = pytest.importorskip("seqio")
    text = "which nation won the most gold medals? héllo"
    export_hf_checkpoint(directory=str(tmp_path / "byte"), params=small_params, config=SMALL, byte_vocabulary=True)
    tokenizer = transformers.AutoTokenizer.from_pretrained(str(tmp_path / "byte"))
    assert tokenizer(text).input_ids == list(seqio.ByteVocabulary().encode(text)) + [1]
    model = os.path.join(os.path.dirname(seqio.__file__), "test_data", "sentencepiece", "sentencepiece.model")
    if os.path.isfile(model):
        export_hf_checkpoint(directory=str(tmp_path / "spm"), params=small_params, config=SMALL,
                             sentencepiece_model=model)
        tokenizer = transformers.AutoTokenizer.from_pretrained(str(tmp_path / "spm"))
        assert tokenizer(text).input_ids == list(seqio.SentencePieceVocabulary(model).encode(text)) + [1]
