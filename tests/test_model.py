"""T5 model: configs, parameter layout and axis names, masking, packing, remat, loss."""
from __future__ import annotations

import functools

import flax.linen as nn
import jax
import jax.numpy as jnp
import numpy as np
import pytest

from symjax.errors import ConfigError, ModelError, VocabularyError
from symjax.model import (LOGICAL_AXIS_NAMES, MODEL_SIZES, T5, T5Config, abstract_params,
                          from_hf_config, from_name, init_params, param_logical_axes,
                          token_cross_entropy)

TINY = T5Config(vocab_size=64, d_model=16, num_heads=4, head_dim=4, num_encoder_layers=2,
                num_decoder_layers=2, d_ff=24, name="test")


@pytest.fixture(scope="module")
def params():
    return init_params(config=TINY, rng=jax.random.key(0))


@functools.lru_cache(maxsize=None)
def _forward(config, deterministic=True):
    def forward(params, enc, dec, encoder_segment_ids=None, decoder_segment_ids=None,
                dropout_rng=None):
        rngs = {} if dropout_rng is None else {"dropout": dropout_rng}
        return T5(config).apply({"params": params}, enc, dec, deterministic=deterministic,
                                encoder_segment_ids=encoder_segment_ids,
                                decoder_segment_ids=decoder_segment_ids, rngs=rngs)
    return jax.jit(forward)


def _apply(params, enc, dec, config=TINY, **kw):
    return np.asarray(_forward(config)(params, jnp.asarray(enc), jnp.asarray(dec), **kw))


def _batch(rng, batch=2, enc_len=9, dec_len=6):
    enc = rng.integers(2, TINY.vocab_size, (batch, enc_len)).astype(np.int32)
    dec = rng.integers(2, TINY.vocab_size, (batch, dec_len)).astype(np.int32)
    dec[:, 0] = 0
    return enc, dec


# --- configs ----------------------------------------------------------------------------
def test_named_sizes_match_t5_1_1_and_flan_t5():
    xl = from_name("xl")
    assert (xl.d_model, xl.num_heads, xl.head_dim, xl.num_encoder_layers,
            xl.num_decoder_layers, xl.d_ff, xl.vocab_size) == (2048, 32, 64, 24, 24, 5120, 32128)
    # Parameter counts of google/flan-t5-{small,base,large,xl} as Hugging Face reports them.
    assert from_name("small").num_params() == 76_961_152
    assert from_name("base").num_params() == 247_577_856
    assert from_name("large").num_params() == 783_150_080
    assert from_name("xl").num_params() == 2_849_757_184
    assert from_name("flan-t5-xxl").d_model == 4096
    assert set(MODEL_SIZES) == {"tiny", "small", "base", "large", "xl", "xxl"}


def test_config_errors_name_the_value():
    with pytest.raises(ConfigError, match="'huge'"):
        from_name("huge")
    with pytest.raises(ConfigError, match="num_heads must be a positive int, got 0"):
        T5Config(num_heads=0)
    with pytest.raises(ConfigError, match="eos_id=200 is outside the vocabulary \\[0, 100\\)"):
        T5Config(vocab_size=100, eos_id=200)
    with pytest.raises(ConfigError, match="remat_policy"):
        from_name("base", remat_policy="sometimes")
    with pytest.raises(ConfigError, match="unknown T5Config fields \\['emb_dim'\\]"):
        from_name("base").replace(emb_dim=3)


def test_config_json_round_trip():
    config = from_name("xl", dtype="bfloat16", remat_policy="full")
    assert T5Config.from_dict(config.to_dict()) == config


def _hf(**overrides):
    base = dict(vocab_size=32128, d_model=768, d_kv=64, d_ff=2048, num_layers=12,
                num_decoder_layers=12, num_heads=12, feed_forward_proj="gated-gelu",
                tie_word_embeddings=False, pad_token_id=0, eos_token_id=1,
                decoder_start_token_id=0)
    base.update(overrides)
    return base


def test_from_hf_config_reads_flan_t5_and_rejects_t5_1_0():
    config = from_hf_config(_hf())
    assert config.name == "base" and config == from_name("base")
    # transformers 5 writes tie_word_embeddings=true and scale_decoder_outputs=false.
    assert from_hf_config(_hf(tie_word_embeddings=True, scale_decoder_outputs=False)).name == "base"
    with pytest.raises(ModelError, match="scale_decoder_outputs=true"):
        from_hf_config(_hf(scale_decoder_outputs=True))
    with pytest.raises(ModelError, match="tie_word_embeddings=true"):
        from_hf_config(_hf(tie_word_embeddings=True))
    with pytest.raises(ModelError, match="feed_forward_proj='relu'"):
        from_hf_config(_hf(feed_forward_proj="relu"))


# --- parameters -----------------------------------------------------------------------------
def test_every_parameter_has_known_logical_axes_and_the_counted_size():
    boxed = abstract_params(config=TINY)
    leaves = jax.tree.leaves(boxed, is_leaf=lambda x: isinstance(x, nn.LogicallyPartitioned))
    assert all(isinstance(leaf, nn.LogicallyPartitioned) for leaf in leaves)
    for leaf in leaves:
        assert len(leaf.names) == len(leaf.value.shape)
        assert set(leaf.names) <= set(LOGICAL_AXIS_NAMES)
        assert isinstance(leaf.value, jax.ShapeDtypeStruct)  # nothing allocated
    assert sum(int(np.prod(leaf.value.shape)) for leaf in leaves) == TINY.num_params()
    axes = param_logical_axes(config=TINY)
    layers = axes["encoder"]["layers"]
    assert layers["attention"]["query"]["kernel"] == ("layers", "embed", "heads", "kv")
    assert layers["attention"]["out"]["kernel"] == ("layers", "heads", "kv", "embed")
    assert axes["decoder"]["layers"]["mlp"]["wi_0"]["kernel"] == ("layers", "embed", "mlp")
    assert axes["token_embedder"]["embedding"] == ("vocab", "embed")
    assert axes["decoder"]["logits_dense"]["kernel"] == ("embed", "vocab")
    assert axes["decoder"]["relpos_bias"]["rel_embedding"] == ("heads", "relpos_buckets")
    # Relative position tables are per stack, not per layer; layers are stacked (scanned).
    assert "relpos_bias" not in layers["attention"]
    shapes = jax.tree.map(lambda box: box.value.shape, boxed,
                          is_leaf=lambda x: isinstance(x, nn.LogicallyPartitioned))
    assert shapes["decoder"]["layers"]["self_attention"]["query"]["kernel"] == (2, 16, 4, 4)


def test_xl_abstract_params_are_free():
    boxed = abstract_params(config=from_name("xl"))
    sizes = [int(np.prod(x.value.shape)) for x in
             jax.tree.leaves(boxed, is_leaf=lambda x: isinstance(x, nn.LogicallyPartitioned))]
    assert sum(sizes) == 2_849_757_184


# --- forward semantics ------------------------------------------------------------------------
def test_encoder_padding_does_not_change_logits(params):
    enc, dec = _batch(np.random.default_rng(0))
    padded = np.concatenate([enc, np.zeros((2, 5), np.int32)], axis=1)
    np.testing.assert_allclose(_apply(params, enc, dec), _apply(params, padded, dec),
                               atol=1e-5)
    shorter = enc.copy()
    shorter[0, 6:] = 0  # padding inside the batch changes row 0 only
    a, b = _apply(params, enc, dec), _apply(params, shorter, dec)
    np.testing.assert_allclose(a[1], b[1], atol=1e-6)
    assert np.abs(a[0] - b[0]).max() > 1e-3


def test_decoder_is_causal(params):
    enc, dec = _batch(np.random.default_rng(1))
    changed = dec.copy()
    changed[:, 4] = (changed[:, 4] + 7) % TINY.vocab_size
    a, b = _apply(params, enc, dec), _apply(params, enc, changed)
    np.testing.assert_allclose(a[:, :4], b[:, :4], atol=1e-6)
    assert np.abs(a[:, 4:] - b[:, 4:]).max() > 1e-3


def test_packed_examples_equal_separate_examples(params):
    rng = np.random.default_rng(2)
    enc, dec = _batch(rng, batch=2, enc_len=5, dec_len=4)
    separate = _apply(params, enc, dec)
    packed_enc = np.concatenate([enc[0], enc[1]])[None]
    packed_dec = np.concatenate([dec[0], dec[1]])[None]
    enc_seg = np.array([[1] * 5 + [2] * 5], np.int32)
    dec_seg = np.array([[1] * 4 + [2] * 4], np.int32)
    # Relative positions are taken from the array index, so the second example needs its
    # positions to start where the first ends; attention never crosses segments.
    packed = _apply(params, packed_enc, packed_dec, encoder_segment_ids=jnp.asarray(enc_seg),
                    decoder_segment_ids=jnp.asarray(dec_seg))
    np.testing.assert_allclose(packed[0, :4], separate[0], atol=1e-5)
    np.testing.assert_allclose(packed[0, 4:], separate[1], atol=1e-5)


def test_out_of_vocabulary_ids_are_an_error_with_both_values(params):
    enc, dec = _batch(np.random.default_rng(3))
    enc[1, 2] = 64
    model = T5(TINY)  # eager apply: concrete ids are checked before anything runs
    with pytest.raises(VocabularyError, match=r"token id 64 at index \(1, 2\).*\[0, 64\)"):
        model.apply({"params": params}, enc, dec)
    enc[1, 2] = -1
    with pytest.raises(VocabularyError, match="token id -1"):
        model.apply({"params": params}, enc, dec)
    with pytest.raises(VocabularyError, match="decoder_input_tokens holds token id 99"):
        model.apply({"params": params}, np.abs(enc), np.full_like(dec, 99))


def test_bfloat16_compute_is_close_to_float32(params):
    enc, dec = _batch(np.random.default_rng(4))
    full = _apply(params, enc, dec)
    half = _apply(params, enc, dec, config=TINY.replace(dtype="bfloat16"))
    assert half.dtype == np.float32  # logits come back in float32
    assert np.abs(full - half).max() < 0.05 * np.abs(full).max()


def test_remat_gives_the_same_loss_and_gradients(params):
    enc, dec = _batch(np.random.default_rng(5))
    targets = np.roll(dec, -1, axis=1)

    def loss(config):
        def fn(p):
            logits = T5(config).apply({"params": p}, enc, dec)
            return token_cross_entropy(logits=logits, targets=jnp.asarray(targets))[0]
        return jax.jit(jax.value_and_grad(fn))(params)

    base_loss, base_grads = loss(TINY)
    for policy in ("full", "save_dots"):
        remat_loss, remat_grads = loss(TINY.replace(remat_policy=policy))
        np.testing.assert_allclose(base_loss, remat_loss, rtol=1e-6)
        for a, b in zip(jax.tree.leaves(base_grads), jax.tree.leaves(remat_grads)):
            np.testing.assert_allclose(a, b, atol=1e-6)


def test_dropout_needs_an_rng_and_changes_outputs(params):
    enc, dec = _batch(np.random.default_rng(6))
    config = TINY.replace(dropout_rate=0.3)
    train = _forward(config, deterministic=False)
    a = train(params, enc, dec, dropout_rng=jax.random.key(1))
    b = train(params, enc, dec, dropout_rng=jax.random.key(2))
    assert np.abs(np.asarray(a) - np.asarray(b)).max() > 1e-3
    with pytest.raises(Exception, match="dropout"):
        train(params, enc, dec)
    # Evaluation ignores the dropout rate.
    np.testing.assert_allclose(_apply(params, enc, dec, config=config),
                               _apply(params, enc, dec), atol=1e-6)


def test_token_cross_entropy_matches_a_numpy_twin():
    rng = np.random.default_rng(7)
    logits = rng.normal(size=(2, 5, 11)).astype(np.float32) * 3
    targets = rng.integers(1, 11, (2, 5)).astype(np.int32)
    targets[1, 3:] = 0
    loss, weight = token_cross_entropy(logits=jnp.asarray(logits), targets=jnp.asarray(targets),
                                       z_loss=1e-2)
    log_z = np.log(np.exp(logits.astype(np.float64)).sum(-1))
    picked = np.take_along_axis(logits, targets[..., None], -1)[..., 0]
    per_token = log_z - picked + 1e-2 * log_z ** 2
    mask = targets != 0
    assert float(weight) == mask.sum()
    np.testing.assert_allclose(float(loss), per_token[mask].mean(), rtol=1e-5)
