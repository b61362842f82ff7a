"""T5 1.1 / Flan-T5 model configuration: one frozen dataclass and the named sizes.

The named sizes are those of t5x's ``t5x/examples/t5/t5_1_1/*.gin`` and of the
``google/flan-t5-*`` checkpoints (Flan-T5 uses the T5 1.1 architecture):

======  =======  =====  ========  ======  =====  ======
name    d_model  heads  head_dim  layers  d_ff   params
======  =======  =====  ========  ======  =====  ======
tiny    8        4      3         2+2     16     0.5M (t5x's test model; 32128 vocab)
small   512      6      64        8+8     1024   77M
base    768      12     64        12+12   2048   248M
large   1024     16     64        24+24   2816   783M
xl      2048     32     64        24+24   5120   2.85B
xxl     4096     64     64        24+24   10240  11.1B
======  =======  =====  ========  ======  =====  ======

``small`` has 6 heads, so it cannot be split over a ``model`` mesh axis of 4 or 8: the
partitioning functions say so with both numbers.
"""
from __future__ import annotations

import dataclasses
import json
from typing import Any, Mapping

import jax.numpy as jnp

from symjax.errors import ConfigError, ModelError

__all__ = ["T5Config", "MODEL_SIZES", "from_name", "from_hf_config", "config_mismatches"]

_DTYPES = ("float32", "bfloat16", "float16")
_REMAT_POLICIES = ("none", "full", "save_dots")


@dataclasses.dataclass(frozen=True)
class T5Config:
    """Shape and numerics of a T5 1.1 encoder-decoder.

    Attributes:
      vocab_size: rows of the token embedding and columns of the output head.
      d_model: width of the residual stream (t5x ``emb_dim``).
      num_heads: attention heads per layer.
      head_dim: width of one head (HF ``d_kv``); ``num_heads * head_dim`` need not equal
        ``d_model`` (it does not for ``small``: 6 x 64 = 384 vs 512).
      num_encoder_layers: encoder blocks.
      num_decoder_layers: decoder blocks.
      d_ff: hidden width of the gated-GELU MLP (t5x ``mlp_dim``).
      relative_attention_num_buckets: relative position buckets, shared per stack.
      relative_attention_max_distance: distance beyond which all positions share a bucket.
      dropout_rate: applied after embedding, attention, MLP and final norm (training only).
      layer_norm_epsilon: RMSNorm epsilon.
      dtype: compute dtype of activations (``"bfloat16"`` for training on accelerators).
      param_dtype: storage dtype of parameters (``"float32"`` as t5x).
      remat_policy: ``"none"``; ``"full"`` (recompute each layer in the backward pass);
        ``"save_dots"`` (keep matmul outputs without a batch dimension, recompute the rest).
      scan_unroll: layers per iteration of the scanned layer loop (1: a loop over layers;
        the number of layers: fully unrolled, faster for shallow models on CPU, e.g. 1.2x
        for 2 + 2 layers; more compile time and, without remat, more memory for deep ones).
      pad_id: padding token (also the decoder start token, as in T5).
      eos_id: end-of-sequence token.
      name: the size name this config came from, or ``"custom"``; used in messages only.
    """

    vocab_size: int = 32128
    d_model: int = 768
    num_heads: int = 12
    head_dim: int = 64
    num_encoder_layers: int = 12
    num_decoder_layers: int = 12
    d_ff: int = 2048
    relative_attention_num_buckets: int = 32
    relative_attention_max_distance: int = 128
    dropout_rate: float = 0.0
    layer_norm_epsilon: float = 1e-6
    dtype: str = "float32"
    param_dtype: str = "float32"
    remat_policy: str = "none"
    scan_unroll: int = 1
    pad_id: int = 0
    eos_id: int = 1
    name: str = "custom"

    def __post_init__(self) -> None:
        positive = (
            "vocab_size", "d_model", "num_heads", "head_dim", "num_encoder_layers",
            "num_decoder_layers", "d_ff", "relative_attention_num_buckets",
            "relative_attention_max_distance",
        )
        for field in positive:
            value = getattr(self, field)
            if not isinstance(value, int) or isinstance(value, bool) or value <= 0:
                raise ConfigError(f"T5Config.{field} must be a positive int, got {value!r}")
        if self.relative_attention_num_buckets % 2:
            raise ConfigError(
                "T5Config.relative_attention_num_buckets must be even (half the buckets are "
                f"for each direction in the encoder), got {self.relative_attention_num_buckets}"
            )
        if not 0.0 <= self.dropout_rate < 1.0:
            raise ConfigError(f"T5Config.dropout_rate must be in [0, 1), got {self.dropout_rate}")
        for field in ("dtype", "param_dtype"):
            if getattr(self, field) not in _DTYPES:
                raise ConfigError(
                    f"T5Config.{field} must be one of {_DTYPES}, got {getattr(self, field)!r}"
                )
        if not isinstance(self.scan_unroll, int) or self.scan_unroll < 1:
            raise ConfigError(f"T5Config.scan_unroll must be an int >= 1, got {self.scan_unroll!r}")
        if self.remat_policy not in _REMAT_POLICIES:
            raise ConfigError(
                f"T5Config.remat_policy must be one of {_REMAT_POLICIES}, "
                f"got {self.remat_policy!r}"
            )
        for field in ("pad_id", "eos_id"):
            value = getattr(self, field)
            if not 0 <= value < self.vocab_size:
                raise ConfigError(
                    f"T5Config.{field}={value} is outside the vocabulary [0, {self.vocab_size})"
                )

    @property
    def compute_dtype(self) -> jnp.dtype:
        return jnp.dtype(self.dtype)

    @property
    def storage_dtype(self) -> jnp.dtype:
        return jnp.dtype(self.param_dtype)

    @property
    def inner_dim(self) -> int:
        """Width of the concatenated heads (``num_heads * head_dim``)."""
        return self.num_heads * self.head_dim

    def replace(self, **changes: Any) -> "T5Config":
        """A copy with ``changes`` applied (validated again)."""
        unknown = sorted(set(changes) - {f.name for f in dataclasses.fields(self)})
        if unknown:
            raise ConfigError(f"unknown T5Config fields {unknown}; known: {sorted(_FIELD_NAMES)}")
        return dataclasses.replace(self, **changes)

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), indent=2, sort_keys=True)

    @classmethod
    def from_dict(cls, values: Mapping[str, Any]) -> "T5Config":
        unknown = sorted(set(values) - _FIELD_NAMES)
        if unknown:
            raise ConfigError(f"unknown T5Config fields {unknown}; known: {sorted(_FIELD_NAMES)}")
        return cls(**dict(values))

    def num_params(self) -> int:
        """Parameter count, computed from the shapes (no arrays are built)."""
        d, inner, ff = self.d_model, self.inner_dim, self.d_ff
        attention = 4 * d * inner
        mlp = 3 * d * ff
        encoder = self.num_encoder_layers * (attention + mlp + 2 * d) + d
        decoder = self.num_decoder_layers * (2 * attention + mlp + 3 * d) + d
        relpos = 2 * self.num_heads * self.relative_attention_num_buckets
        return 2 * self.vocab_size * d + encoder + decoder + relpos


_FIELD_NAMES = frozenset(f.name for f in dataclasses.fields(T5Config))

# The architecture fields a checkpoint fixes; dropout, dtypes and remat do not change shapes.
SHAPE_FIELDS = (
    "vocab_size", "d_model", "num_heads", "head_dim", "num_encoder_layers",
    "num_decoder_layers", "d_ff", "relative_attention_num_buckets",
)


def _size(name: str, **shape: int) -> T5Config:
    return T5Config(name=name, vocab_size=32128, **shape)


MODEL_SIZES: Mapping[str, T5Config] = {
    "tiny": _size("tiny", d_model=8, num_heads=4, head_dim=3, num_encoder_layers=2,
                  num_decoder_layers=2, d_ff=16),
    "small": _size("small", d_model=512, num_heads=6, head_dim=64, num_encoder_layers=8,
                   num_decoder_layers=8, d_ff=1024),
    "base": _size("base", d_model=768, num_heads=12, head_dim=64, num_encoder_layers=12,
                  num_decoder_layers=12, d_ff=2048),
    "large": _size("large", d_model=1024, num_heads=16, head_dim=64, num_encoder_layers=24,
                   num_decoder_layers=24, d_ff=2816),
    "xl": _size("xl", d_model=2048, num_heads=32, head_dim=64, num_encoder_layers=24,
                num_decoder_layers=24, d_ff=5120),
    "xxl": _size("xxl", d_model=4096, num_heads=64, head_dim=64, num_encoder_layers=24,
                 num_decoder_layers=24, d_ff=10240),
}


def from_name(name: str, **overrides: Any) -> T5Config:
    """The named size (``tiny`` ... ``xxl``), with optional field overrides.

    ``from_name("xl", dtype="bfloat16", remat_policy="full")`` is the training setup of
    the memory report.
    """
    key = name.lower().removeprefix("flan-t5-").removeprefix("t5_1_1_")
    if key not in MODEL_SIZES:
        raise ConfigError(f"unknown model size {name!r}; known sizes: {sorted(MODEL_SIZES)}")
    config = MODEL_SIZES[key]
    return config.replace(**overrides) if overrides else config


def from_hf_config(hf_config: Mapping[str, Any], **overrides: Any) -> T5Config:
    """A T5Config from a Hugging Face ``config.json`` of a T5 1.1 / Flan-T5 model.

    Only the gated-GELU, untied-embedding variant (T5 1.1, Flan-T5) is supported; T5 1.0
    (ReLU MLP, tied embeddings) is rejected with the offending field.
    """
    projection = hf_config.get("feed_forward_proj", "relu")
    if projection not in ("gated-gelu",):
        raise ModelError(
            f"config.json has feed_forward_proj={projection!r}; symjax implements T5 1.1 / "
            "Flan-T5, which use 'gated-gelu'"
        )
    # transformers < 5 (and the hub's Flan-T5 configs) mark T5 1.1 by
    # tie_word_embeddings=false; transformers 5 always writes tie_word_embeddings=true and
    # says scale_decoder_outputs=false instead (the head itself is lm_head.weight either way).
    if "scale_decoder_outputs" in hf_config:
        field, t5_1_0 = "scale_decoder_outputs", bool(hf_config["scale_decoder_outputs"])
    else:
        field, t5_1_0 = "tie_word_embeddings", bool(hf_config.get("tie_word_embeddings", True))
    if t5_1_0:
        raise ModelError(
            f"config.json has {field}=true: the T5 1.0 output (tied embedding, rescaled by "
            "d_model**-0.5); T5 1.1 / Flan-T5 have a separate, unscaled output head"
        )
    if hf_config.get("decoder_start_token_id", 0) != hf_config.get("pad_token_id", 0):
        raise ModelError(
            f"config.json has decoder_start_token_id={hf_config.get('decoder_start_token_id')} "
            f"!= pad_token_id={hf_config.get('pad_token_id')}; symjax starts decoding at pad_id "
            "as T5 does"
        )
    num_layers = int(hf_config["num_layers"])
    values: dict[str, Any] = dict(
        vocab_size=int(hf_config["vocab_size"]),
        d_model=int(hf_config["d_model"]),
        num_heads=int(hf_config["num_heads"]),
        head_dim=int(hf_config["d_kv"]),
        num_encoder_layers=num_layers,
        num_decoder_layers=int(hf_config.get("num_decoder_layers") or num_layers),
        d_ff=int(hf_config["d_ff"]),
        relative_attention_num_buckets=int(hf_config.get("relative_attention_num_buckets", 32)),
        relative_attention_max_distance=int(
            hf_config.get("relative_attention_max_distance", 128)
        ),
        layer_norm_epsilon=float(hf_config.get("layer_norm_epsilon", 1e-6)),
        pad_id=int(hf_config.get("pad_token_id", 0)),
        eos_id=int(hf_config.get("eos_token_id", 1)),
        name="custom",
    )
    for size_name, size in MODEL_SIZES.items():
        if all(getattr(size, f) == values[f] for f in SHAPE_FIELDS):
            values["name"] = size_name
    values.update(overrides)
    return T5Config(**values)


def config_mismatches(expected: T5Config, found: T5Config) -> list[str]:
    """Shape fields on which two configs differ, as ``"field: expected X, found Y"`` lines."""
    return [
        f"{field}: expected {getattr(expected, field)}, found {getattr(found, field)}"
        for field in SHAPE_FIELDS
        if getattr(expected, field) != getattr(found, field)
    ]
