"""T5 1.1 / Flan-T5 encoder-decoder in Flax linen, with logical axis names.

Architecture (what Hugging Face ``T5ForConditionalGeneration`` and t5x's
``examples/t5/network.py`` compute for T5 1.1 / Flan-T5):

* RMSNorm (no mean subtraction, no bias, epsilon 1e-6) before each sub-layer, and at the
  end of each stack; residual connections around each sub-layer.
* Attention without ``1/sqrt(head_dim)`` scaling (T5 folds it into the query init).
* Relative position buckets: one table per stack (``encoder/relpos_bias``,
  ``decoder/relpos_bias``) shared by all layers; bidirectional in the encoder,
  unidirectional in the decoder; the decoder's cross-attention has no position bias.
* Gated-GELU MLP: ``wo(gelu_tanh(wi_0 x) * wi_1 x)``; no biases anywhere.
* Separate output head (``decoder/logits_dense``), not rescaled by ``d_model**-0.5``.

Parameter names follow t5x's sub-module names, with the layers of each stack scanned
(``nn.scan``) and stacked on a leading ``layers`` axis: t5x's
``encoder/layers_3/attention/query/kernel`` is ``encoder/layers/attention/query/kernel[3]``
here (t5x's ``scalable_t5`` does the same). Attention kernels are kept 3-D
(``embed, heads, kv`` and ``heads, kv, embed``) rather than t5x's flattened ``joined_kv``,
so that the ``heads`` axis, and whether it divides the ``model`` mesh axis, is explicit.
The importers in :mod:`symjax.model.weights` do the stacking and reshaping.

Every parameter is created through :func:`flax.linen.with_logical_partitioning` and the main
activations pass through :func:`flax.linen.with_logical_constraint`; the logical axis names
are the constants below. Constraints take effect only under a mesh and a rule table
(``symjax.train.partitioning.sharding_context``); without them the model runs unsharded.
"""
from __future__ import annotations

import functools
import math
from typing import Any, Callable

import flax.linen as nn
import jax
import jax.numpy as jnp
import numpy as np

from symjax.errors import ModelError, VocabularyError
from symjax.model.config import T5Config

__all__ = [
    "BATCH", "LENGTH", "EMBED", "MLP", "HEADS", "KV", "VOCAB", "RELPOS_BUCKETS", "LAYERS",
    "LOGICAL_AXIS_NAMES",
    "T5", "RMSNorm", "Attention", "GatedGeluMlp", "RelativePositionBias",
    "relative_position_bucket", "check_token_ids", "token_cross_entropy",
    "init_params", "abstract_params", "param_logical_axes",
]

# ---------------------------------------------------------------------------------------
# Logical axis names: the only place they are spelled out. Partitioning rules map these to
# mesh axes (``symjax.train.partitioning``).
# ---------------------------------------------------------------------------------------
BATCH = "batch"
LENGTH = "length"
EMBED = "embed"
MLP = "mlp"
HEADS = "heads"
KV = "kv"
VOCAB = "vocab"
RELPOS_BUCKETS = "relpos_buckets"
LAYERS = "layers"  # the stacked-layer axis of scanned parameters and caches
LOGICAL_AXIS_NAMES = (BATCH, LENGTH, EMBED, MLP, HEADS, KV, VOCAB, RELPOS_BUCKETS, LAYERS)

# Added to attention logits of masked positions (float32). Finite, so that a fully masked
# row gives a uniform distribution rather than NaN.
_MASK_VALUE = -1e10

_Initializer = Callable[..., jax.Array]


def _kernel_init(in_axis: int | tuple[int, ...], out_axis: int | tuple[int, ...],
                 scale: float = 1.0) -> _Initializer:
    """t5x's ``variance_scaling(1.0, 'fan_in', 'truncated_normal')``, over named fan axes."""
    base = nn.initializers.variance_scaling(
        1.0, "fan_in", "truncated_normal", in_axis=in_axis, out_axis=out_axis
    )
    if scale == 1.0:
        return base
    return lambda key, shape, dtype=jnp.float32: base(key, shape, dtype) * scale


def _constrain(x: jax.Array, axes: tuple[str | None, ...]) -> jax.Array:
    return nn.with_logical_constraint(x, axes)


def check_token_ids(tokens: Any, *, vocab_size: int, name: str) -> None:
    """Raise :class:`VocabularyError` if a concrete token array leaves ``[0, vocab_size)``.

    Traced arrays (inside ``jax.jit``) cannot be inspected and pass unchecked; the public
    entry points (model ``apply`` on concrete inputs, the decoding functions) call this.
    """
    if isinstance(tokens, jax.core.Tracer):
        return
    array = np.asarray(tokens)
    if array.size == 0:
        return
    if not np.issubdtype(array.dtype, np.integer):
        raise VocabularyError(f"{name} must hold integer token ids, got dtype {array.dtype}")
    low, high = int(array.min()), int(array.max())
    if low < 0 or high >= vocab_size:
        bad = low if low < 0 else high
        where = tuple(int(i) for i in np.argwhere(array == bad)[0])
        raise VocabularyError(
            f"{name} holds token id {bad} at index {where}, outside the model vocabulary "
            f"[0, {vocab_size}); check that the task vocabulary matches the model "
            f"(vocab_size={vocab_size})"
        )


# ---------------------------------------------------------------------------------------
# Relative positions
# ---------------------------------------------------------------------------------------
def relative_position_bucket(relative_position: np.ndarray, *, bidirectional: bool,
                             num_buckets: int, max_distance: int) -> np.ndarray:
    """T5's bucket of ``memory_position - query_position`` (numpy, static shapes).

    Computed in float32 exactly as Hugging Face and Mesh TensorFlow do (no epsilon inside
    the log, unlike t5x), so bucket boundaries agree with the pretrained checkpoints.
    """
    relative_position = np.asarray(relative_position, dtype=np.int64)
    buckets = np.zeros_like(relative_position)
    if bidirectional:
        num_buckets //= 2
        buckets += (relative_position > 0).astype(np.int64) * num_buckets
        distance = np.abs(relative_position)
    else:
        distance = -np.minimum(relative_position, 0)
    max_exact = num_buckets // 2
    is_small = distance < max_exact
    safe = np.maximum(distance, max_exact).astype(np.float32)
    scaled = (np.log(safe / np.float32(max_exact))
              / np.float32(np.log(max_distance / max_exact))
              * np.float32(num_buckets - max_exact))
    if_large = np.minimum(max_exact + scaled.astype(np.int64), num_buckets - 1)
    return buckets + np.where(is_small, distance, if_large)


class RelativePositionBias(nn.Module):
    """One ``[heads, buckets]`` table per stack; returns ``[heads, q_len, k_len]`` (float32)."""

    config: T5Config
    bidirectional: bool

    @nn.compact
    def __call__(self, q_len: int, k_len: int, query_position: jax.Array | None = None
                 ) -> jax.Array:
        cfg = self.config
        table = self.param(
            "rel_embedding",
            nn.with_logical_partitioning(
                nn.initializers.variance_scaling(1.0, "fan_avg", "uniform"),
                (HEADS, RELPOS_BUCKETS),
            ),
            (cfg.num_heads, cfg.relative_attention_num_buckets),
            cfg.storage_dtype,
        ).astype(jnp.float32)
        bucket = functools.partial(
            relative_position_bucket,
            bidirectional=self.bidirectional,
            num_buckets=cfg.relative_attention_num_buckets,
            max_distance=cfg.relative_attention_max_distance,
        )
        if query_position is None:
            relative = np.arange(k_len)[None, :] - np.arange(q_len)[:, None]
            return jnp.take(table, jnp.asarray(bucket(relative), jnp.int32), axis=1)
        # One query at a traced position (incremental decoding): slice a static row table.
        if q_len != 1:
            raise ModelError(f"query_position needs q_len == 1, got {q_len}")
        row_table = jnp.asarray(bucket(np.arange(-(k_len - 1), k_len)), jnp.int32)
        row = jax.lax.dynamic_slice(row_table, (k_len - 1 - query_position,), (k_len,))
        return jnp.take(table, row, axis=1)[:, None, :]


# ---------------------------------------------------------------------------------------
# Layers
# ---------------------------------------------------------------------------------------
class RMSNorm(nn.Module):
    """T5 layer norm: scale only, no mean subtraction, statistics in float32."""

    config: T5Config

    @nn.compact
    def __call__(self, x: jax.Array) -> jax.Array:
        cfg = self.config
        scale = self.param(
            "scale", nn.with_logical_partitioning(nn.initializers.ones, (EMBED,)),
            (x.shape[-1],), cfg.storage_dtype,
        )
        x32 = x.astype(jnp.float32)
        variance = jnp.mean(jnp.square(x32), axis=-1, keepdims=True)
        y = x32 * jax.lax.rsqrt(variance + cfg.layer_norm_epsilon)
        return (y * scale.astype(jnp.float32)).astype(cfg.compute_dtype)


class _Kernel(nn.Module):
    """A bias-free projection ``einsum(equation, x, kernel)`` with a named kernel."""

    shape: tuple[int, ...]
    axes: tuple[str, ...]
    equation: str
    kernel_init: _Initializer
    config: T5Config

    @nn.compact
    def __call__(self, x: jax.Array) -> jax.Array:
        cfg = self.config
        kernel = self.param(
            "kernel", nn.with_logical_partitioning(self.kernel_init, self.axes), self.shape,
            cfg.storage_dtype,
        )
        dtype = cfg.compute_dtype
        # Contract as one 2-D matmul [batch * length, in] @ [in, out]: the same sum as the
        # einsum, but XLA's CPU backend runs the weight gradient of the multi-dimensional
        # einsum (contracting batch and length at once) far slower.
        num_in = len(self.equation.split(",")[0]) - 2  # x is [batch, length, *in]
        lead = x.shape[:2]
        fan_in = math.prod(kernel.shape[:num_in])
        y = jnp.dot(x.reshape(lead[0] * lead[1], fan_in).astype(dtype),
                    kernel.reshape(fan_in, -1).astype(dtype))
        return y.reshape(lead + kernel.shape[num_in:])


class Attention(nn.Module):
    """Multi-head attention, with a key/value cache for incremental decoding.

    ``decode=True`` uses the ``cache`` collection. Self-attention: the first call creates
    zero ``cached_key``/``cached_value`` of shape ``[batch, max_decode_length, heads, kv]``
    (per layer; the scanned stack adds a leading ``layers`` axis);
    later calls write the step's key and value at ``cache_index``. Cross-attention
    (``is_cross``): the first call projects the encoder output once and caches it; later
    calls ignore ``inputs_kv``.
    """

    config: T5Config
    is_cross: bool = False
    deterministic: bool = True
    decode: bool = False

    @nn.compact
    def __call__(self, inputs_q: jax.Array, inputs_kv: jax.Array | None,
                 position_bias: jax.Array | None, mask: jax.Array | None,
                 cache_index: jax.Array | None = None,
                 max_decode_length: int | None = None) -> jax.Array:
        cfg = self.config
        h, k, d = cfg.num_heads, cfg.head_dim, cfg.d_model
        in_proj = functools.partial(
            _Kernel, shape=(d, h, k), axes=(EMBED, HEADS, KV), equation="bld,dhk->blhk",
            config=cfg,
        )
        # T5 does not scale logits by 1/sqrt(head_dim); the query init carries it instead.
        query_proj = in_proj(kernel_init=_kernel_init(0, (1, 2), scale=k ** -0.5), name="query")
        key_proj = in_proj(kernel_init=_kernel_init(0, (1, 2)), name="key")
        value_proj = in_proj(kernel_init=_kernel_init(0, (1, 2)), name="value")
        qkv_axes = (BATCH, LENGTH, HEADS, KV)
        query = _constrain(query_proj(inputs_q), qkv_axes)

        if self.decode and self.is_cross:
            initialized = self.has_variable("cache", "cached_key")
            if initialized:
                key = self.variable("cache", "cached_key").value
                value = self.variable("cache", "cached_value").value
            else:
                key = _constrain(key_proj(inputs_kv), qkv_axes)
                value = _constrain(value_proj(inputs_kv), qkv_axes)
                self.variable("cache", "cached_key", lambda: key)
                self.variable("cache", "cached_value", lambda: value)
        else:
            key = _constrain(key_proj(inputs_kv), qkv_axes)
            value = _constrain(value_proj(inputs_kv), qkv_axes)
            if self.decode:
                initialized = self.has_variable("cache", "cached_key")
                shape = (key.shape[0], max_decode_length, h, k)
                cached_key = self.variable("cache", "cached_key", jnp.zeros, shape, key.dtype)
                cached_value = self.variable("cache", "cached_value", jnp.zeros, shape,
                                             value.dtype)
                if initialized:
                    if query.shape[1] != 1:
                        raise ModelError(
                            f"incremental decoding takes one position per step, got "
                            f"{query.shape[1]}"
                        )
                    start = (0, cache_index, 0, 0)
                    key = jax.lax.dynamic_update_slice(cached_key.value, key, start)
                    value = jax.lax.dynamic_update_slice(cached_value.value, value, start)
                    cached_key.value = key
                    cached_value.value = value

        logits = jnp.einsum("bqhk,bthk->bhqt", query, key, preferred_element_type=jnp.float32)
        if position_bias is not None:
            logits = logits + position_bias[None].astype(jnp.float32)
        if mask is not None:
            logits = jnp.where(mask, logits, _MASK_VALUE)
        weights = jax.nn.softmax(logits, axis=-1).astype(cfg.compute_dtype)
        weights = nn.Dropout(cfg.dropout_rate)(weights, deterministic=self.deterministic)
        mixed = _constrain(jnp.einsum("bhqt,bthk->bqhk", weights, value), qkv_axes)
        out = _Kernel(shape=(h, k, d), axes=(HEADS, KV, EMBED), equation="blhk,hkd->bld",
                      kernel_init=_kernel_init((0, 1), 2), config=cfg, name="out")
        return out(mixed)


class GatedGeluMlp(nn.Module):
    """``wo(gelu_tanh(wi_0 x) * wi_1 x)`` (Hugging Face ``gelu_new`` = tanh approximation)."""

    config: T5Config
    deterministic: bool = True

    @nn.compact
    def __call__(self, x: jax.Array) -> jax.Array:
        cfg = self.config
        wi = functools.partial(_Kernel, shape=(cfg.d_model, cfg.d_ff), axes=(EMBED, MLP),
                               equation="bld,df->blf", kernel_init=_kernel_init(0, 1), config=cfg)
        gate = jax.nn.gelu(wi(name="wi_0")(x), approximate=True)
        hidden = _constrain(gate * wi(name="wi_1")(x), (BATCH, LENGTH, MLP))
        hidden = nn.Dropout(cfg.dropout_rate, broadcast_dims=(-2,))(
            hidden, deterministic=self.deterministic
        )
        wo = _Kernel(shape=(cfg.d_ff, cfg.d_model), axes=(MLP, EMBED), equation="blf,fd->bld",
                     kernel_init=_kernel_init(0, 1), config=cfg, name="wo")
        return wo(hidden)


_ACTIVATION_AXES = (BATCH, LENGTH, EMBED)


class EncoderLayer(nn.Module):
    """One encoder block; a scan body: returns ``(x, None)``."""

    config: T5Config
    deterministic: bool = True

    @nn.compact
    def __call__(self, x: jax.Array, position_bias: jax.Array, mask: jax.Array
                 ) -> tuple[jax.Array, None]:
        cfg = self.config
        dropout = functools.partial(nn.Dropout(cfg.dropout_rate), deterministic=self.deterministic)
        y = RMSNorm(cfg, name="pre_attention_layer_norm")(x)
        y = Attention(cfg, deterministic=self.deterministic, name="attention")(
            y, y, position_bias, mask
        )
        x = _constrain(x + dropout(y), _ACTIVATION_AXES)
        y = RMSNorm(cfg, name="pre_mlp_layer_norm")(x)
        y = GatedGeluMlp(cfg, deterministic=self.deterministic, name="mlp")(y)
        return _constrain(x + dropout(y), _ACTIVATION_AXES), None


class DecoderLayer(nn.Module):
    """One decoder block; a scan body: returns ``(x, None)``."""

    config: T5Config
    deterministic: bool = True
    decode: bool = False
    max_decode_length: int | None = None

    @nn.compact
    def __call__(self, x: jax.Array, encoded: jax.Array | None, position_bias: jax.Array,
                 self_mask: jax.Array | None, cross_mask: jax.Array | None,
                 cache_index: jax.Array | None) -> tuple[jax.Array, None]:
        cfg = self.config
        dropout = functools.partial(nn.Dropout(cfg.dropout_rate), deterministic=self.deterministic)
        attention = functools.partial(Attention, cfg, deterministic=self.deterministic,
                                      decode=self.decode)
        y = RMSNorm(cfg, name="pre_self_attention_layer_norm")(x)
        y = attention(name="self_attention")(y, y, position_bias, self_mask, cache_index,
                                             self.max_decode_length)
        x = _constrain(x + dropout(y), _ACTIVATION_AXES)
        y = RMSNorm(cfg, name="pre_cross_attention_layer_norm")(x)
        y = attention(is_cross=True, name="encoder_decoder_attention")(y, encoded, None,
                                                                       cross_mask)
        x = _constrain(x + dropout(y), _ACTIVATION_AXES)
        y = RMSNorm(cfg, name="pre_mlp_layer_norm")(x)
        y = GatedGeluMlp(cfg, deterministic=self.deterministic, name="mlp")(y)
        return _constrain(x + dropout(y), _ACTIVATION_AXES), None


def _layer_stack(layer_cls: type[nn.Module], config: T5Config, num_layers: int,
                 num_inputs: int, *, decode: bool = False) -> type[nn.Module]:
    """``num_layers`` copies of ``layer_cls`` under ``nn.scan``, remat'ed per the config.

    Parameters (and decoding caches) are stacked on a leading ``layers`` axis. Scanning,
    rather than unrolling, bounds training memory by construction: the backward pass of
    layer ``i`` recomputes only layer ``i``. (XLA's CPU scheduler hoists the recomputation
    of unrolled remat'ed layers, so the memory report would otherwise be meaningless; it
    also compiles a 24-layer stack once instead of 24 times.)
    """
    body = layer_cls
    if config.remat_policy != "none" and not decode:
        policy = (None if config.remat_policy == "full"
                  else jax.checkpoint_policies.dots_with_no_batch_dims_saveable)
        body = nn.remat(layer_cls, policy=policy, prevent_cse=False)
    return nn.scan(
        body,
        variable_axes={"params": 0, "cache": 0},
        split_rngs={"params": True, "dropout": True},
        in_axes=(nn.broadcast,) * num_inputs,
        length=num_layers,
        unroll=min(config.scan_unroll, num_layers),
        metadata_params={nn.PARTITION_NAME: LAYERS},
    )


class Encoder(nn.Module):
    config: T5Config

    @nn.compact
    def __call__(self, embedded: jax.Array, mask: jax.Array, *, deterministic: bool
                 ) -> jax.Array:
        cfg = self.config
        length = embedded.shape[1]
        x = nn.Dropout(cfg.dropout_rate)(embedded, deterministic=deterministic)
        bias = RelativePositionBias(cfg, bidirectional=True, name="relpos_bias")(length, length)
        stack = _layer_stack(EncoderLayer, cfg, cfg.num_encoder_layers, 2)
        x, _ = stack(cfg, deterministic=deterministic, name="layers")(x, bias, mask)
        x = RMSNorm(cfg, name="encoder_norm")(x)
        return nn.Dropout(cfg.dropout_rate)(x, deterministic=deterministic)


class Decoder(nn.Module):
    """Decoder stack and output head; returns float32 logits ``[batch, length, vocab]``."""

    config: T5Config

    @nn.compact
    def __call__(self, embedded: jax.Array, encoded: jax.Array | None,
                 self_mask: jax.Array | None, cross_mask: jax.Array | None, *,
                 deterministic: bool, decode: bool = False,
                 max_decode_length: int | None = None) -> jax.Array:
        cfg = self.config
        length = embedded.shape[1]
        relpos = RelativePositionBias(cfg, bidirectional=False, name="relpos_bias")
        cache_index = None
        if decode:
            stepping = self.has_variable("cache", "cache_index")
            index_var = self.variable("cache", "cache_index", jnp.zeros, (), jnp.int32)
            valid_var = self.variable("cache", "encoder_valid", lambda: cross_mask)
            if stepping:
                cache_index = index_var.value
                bias = relpos(1, max_decode_length, query_position=cache_index)
                self_mask = (jnp.arange(max_decode_length) <= cache_index)[None, None, None, :]
                cross_mask = valid_var.value
                index_var.value = cache_index + 1
            else:
                bias = relpos(length, length)
        else:
            bias = relpos(length, length)

        x = nn.Dropout(cfg.dropout_rate)(embedded, deterministic=deterministic)
        stack = _layer_stack(DecoderLayer, cfg, cfg.num_decoder_layers, 5, decode=decode)
        x, _ = stack(cfg, deterministic=deterministic, decode=decode,
                     max_decode_length=max_decode_length, name="layers")(
            x, encoded, bias, self_mask, cross_mask, cache_index)
        x = RMSNorm(cfg, name="decoder_norm")(x)
        x = nn.Dropout(cfg.dropout_rate)(x, deterministic=deterministic)
        head = _Kernel(shape=(cfg.d_model, cfg.vocab_size), axes=(EMBED, VOCAB),
                       equation="bld,dv->blv", kernel_init=_kernel_init(0, 1), config=cfg,
                       name="logits_dense")
        logits = head(x).astype(jnp.float32)
        return _constrain(logits, (BATCH, LENGTH, VOCAB))


# ---------------------------------------------------------------------------------------
# The model
# ---------------------------------------------------------------------------------------
def _segment_mask(query_segments: jax.Array | None, key_segments: jax.Array | None
                  ) -> jax.Array | bool:
    if query_segments is None or key_segments is None:
        return True
    return (query_segments[:, None, :, None] == key_segments[:, None, None, :])


class T5(nn.Module):
    """T5 1.1 / Flan-T5 encoder-decoder.

    Methods (use with ``model.apply(variables, ..., method=...)``):

    * ``__call__(encoder_input_tokens, decoder_input_tokens)`` -> float32 logits
      ``[batch, target_length, vocab]`` (teacher forcing). Pad id 0 in the encoder input is
      masked out; packed examples pass ``encoder_segment_ids``/``decoder_segment_ids``.
    * ``encode`` / ``decode``: the two halves.
    * ``init_decode_cache`` and ``decode_step``: incremental decoding with a key/value cache
      (``mutable=["cache"]``); see :mod:`symjax.model.decoding`.

    Concrete token arrays are checked against the vocabulary (:class:`VocabularyError`).
    """

    config: T5Config

    def setup(self) -> None:
        cfg = self.config
        self.token_embedder = nn.Embed(
            num_embeddings=cfg.vocab_size,
            features=cfg.d_model,
            embedding_init=nn.with_logical_partitioning(
                nn.initializers.normal(stddev=1.0), (VOCAB, EMBED)
            ),
            dtype=cfg.compute_dtype,
            param_dtype=cfg.storage_dtype,
        )
        self.encoder = Encoder(cfg)
        self.decoder = Decoder(cfg)

    def _embed(self, tokens: jax.Array, name: str) -> jax.Array:
        check_token_ids(tokens, vocab_size=self.config.vocab_size, name=name)
        embedded = self.token_embedder(jnp.asarray(tokens, jnp.int32))
        return _constrain(embedded, _ACTIVATION_AXES)

    def encode(self, encoder_input_tokens: jax.Array, *,
               encoder_segment_ids: jax.Array | None = None,
               deterministic: bool = True) -> jax.Array:
        """Encoder output ``[batch, input_length, d_model]`` in the compute dtype."""
        embedded = self._embed(encoder_input_tokens, "encoder_input_tokens")
        valid = jnp.asarray(encoder_input_tokens) != self.config.pad_id
        mask = valid[:, None, None, :] & _segment_mask(encoder_segment_ids, encoder_segment_ids)
        return self.encoder(embedded, mask, deterministic=deterministic)

    def decode(self, encoded: jax.Array, encoder_input_tokens: jax.Array,
               decoder_input_tokens: jax.Array, *,
               encoder_segment_ids: jax.Array | None = None,
               decoder_segment_ids: jax.Array | None = None,
               deterministic: bool = True) -> jax.Array:
        """Teacher-forced logits (float32) given the encoder output."""
        embedded = self._embed(decoder_input_tokens, "decoder_input_tokens")
        length = embedded.shape[1]
        causal = jnp.tril(jnp.ones((length, length), jnp.bool_))[None, None]
        self_mask = causal & _segment_mask(decoder_segment_ids, decoder_segment_ids)
        valid = jnp.asarray(encoder_input_tokens) != self.config.pad_id
        cross_mask = valid[:, None, None, :] & _segment_mask(decoder_segment_ids,
                                                             encoder_segment_ids)
        return self.decoder(embedded, encoded, self_mask, cross_mask,
                            deterministic=deterministic)

    def __call__(self, encoder_input_tokens: jax.Array, decoder_input_tokens: jax.Array, *,
                 encoder_segment_ids: jax.Array | None = None,
                 decoder_segment_ids: jax.Array | None = None,
                 deterministic: bool = True) -> jax.Array:
        encoded = self.encode(encoder_input_tokens, encoder_segment_ids=encoder_segment_ids,
                              deterministic=deterministic)
        return self.decode(encoded, encoder_input_tokens, decoder_input_tokens,
                           encoder_segment_ids=encoder_segment_ids,
                           decoder_segment_ids=decoder_segment_ids,
                           deterministic=deterministic)

    def init_decode_cache(self, encoded: jax.Array, encoder_input_tokens: jax.Array, *,
                          max_decode_length: int) -> jax.Array:
        """Create the ``cache`` collection (call with ``mutable=["cache"]``).

        Self-attention caches are zeros of length ``max_decode_length``; cross-attention
        keys and values are projected from ``encoded`` once, here.
        """
        batch = encoded.shape[0]
        start = jnp.full((batch, 1), self.config.pad_id, jnp.int32)
        embedded = self._embed(start, "decoder_input_tokens")
        valid = jnp.asarray(encoder_input_tokens) != self.config.pad_id
        return self.decoder(embedded, encoded, None, valid[:, None, None, :],
                            deterministic=True, decode=True,
                            max_decode_length=max_decode_length)

    def decode_step(self, decoder_input_token: jax.Array, *, max_decode_length: int
                    ) -> jax.Array:
        """Logits ``[batch, vocab]`` for the next token, given the previous token
        ``[batch, 1]``; advances the cache by one position (``mutable=["cache"]``)."""
        embedded = self._embed(decoder_input_token, "decoder_input_token")
        logits = self.decoder(embedded, None, None, None, deterministic=True, decode=True,
                              max_decode_length=max_decode_length)
        return logits[:, 0, :]


def token_cross_entropy(*, logits: jax.Array, targets: jax.Array,
                        weights: jax.Array | None = None, z_loss: float = 0.0
                        ) -> tuple[jax.Array, jax.Array]:
    """Mean token cross-entropy (plus t5x's ``z_loss * logsumexp**2``) over weighted tokens.

    Returns ``(loss, weight_sum)``; ``weights`` defaults to ``targets != 0`` (pad is 0).
    """
    logits = logits.astype(jnp.float32)
    if weights is None:
        weights = (targets != 0).astype(jnp.float32)
    log_z = jax.nn.logsumexp(logits, axis=-1)
    target_logit = jnp.take_along_axis(logits, targets[..., None], axis=-1)[..., 0]
    per_token = log_z - target_logit + z_loss * jnp.square(log_z)
    weight_sum = jnp.sum(weights)
    return jnp.sum(per_token * weights) / jnp.maximum(weight_sum, 1.0), weight_sum


def _init_variables(config: T5Config, rng: jax.Array) -> Any:
    tokens = jnp.ones((1, 4), jnp.int32)
    return T5(config).init(rng, tokens, tokens)["params"]


def abstract_params(*, config: T5Config) -> Any:
    """The parameter tree as ``jax.ShapeDtypeStruct`` leaves, boxed in
    ``nn.LogicallyPartitioned`` (their ``.names`` are the logical axes). Nothing is
    allocated; this is what sharding and the memory report start from."""
    return jax.eval_shape(functools.partial(_init_variables, config), jax.random.key(0))


def param_logical_axes(*, config: T5Config) -> Any:
    """Tree (same structure as the params) of tuples of logical axis names."""
    boxed = abstract_params(config=config)
    return jax.tree.map(lambda box: tuple(box.names), boxed,
                        is_leaf=lambda x: isinstance(x, nn.LogicallyPartitioned))


def init_params(*, config: T5Config, rng: jax.Array) -> Any:
    """Freshly initialised parameters (t5x initialisers), unboxed, in ``param_dtype``."""
    return nn.meta.unbox(jax.jit(functools.partial(_init_variables, config))(rng))
