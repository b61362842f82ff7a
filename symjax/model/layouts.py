"""Where each tensor of a Hugging Face or t5x T5 1.1 checkpoint goes in symjax's
parameters: one :class:`LayoutEntry` per source tensor (its name, symjax path, layer on the
stacked ``layers`` axis, accepted shapes and transform, and the inverse the export uses).
:mod:`symjax.model.weights` imports with these tables and :mod:`symjax.model.export`
writes with them.
"""
from __future__ import annotations

import dataclasses
from typing import Callable

import numpy as np

from symjax.model.config import T5Config

__all__ = ["LayoutEntry", "ParamPath", "hf_layout", "t5x_layout", "HF_EMBEDDING_ALIASES", "HF_IGNORED"]

ParamPath = tuple[str, ...]


# ---------------------------------------------------------------------------------------
# Layout tables: source tensor name -> symjax parameter path, expected source shape and
# the transform from the source array to symjax's array.
# ---------------------------------------------------------------------------------------
@dataclasses.dataclass(frozen=True)
class LayoutEntry:
    """One source tensor: its name, the symjax parameter it fills (and its layer on the
    stacked ``layers`` axis), the shapes accepted and the transform into symjax's array."""

    source: str
    target: ParamPath
    source_shapes: tuple[tuple[int, ...], ...]  # accepted shapes, first is canonical
    transform: Callable[[np.ndarray], np.ndarray]
    layer: int | None = None  # index on the stacked ``layers`` axis of ``target``
    transposed: bool = False  # whether ``transform`` transposes (then reshapes)

    def to_source(self, value: np.ndarray) -> np.ndarray:
        """The inverse of ``transform``: symjax's array (one layer of it) in the source's
        canonical shape, as the export writes it."""
        value = np.asarray(value)
        if self.transposed:
            return np.ascontiguousarray(value.reshape(self.source_shapes[0][::-1]).T)
        return np.ascontiguousarray(value.reshape(self.source_shapes[0]))


def _identity(x: np.ndarray) -> np.ndarray:
    return x


def _transpose(x: np.ndarray) -> np.ndarray:
    return np.ascontiguousarray(x.T)


def _attention_entries(config: T5Config, source: Callable[[str], str], target: ParamPath,
                       *, layout: str, layer: int) -> list[LayoutEntry]:
    d, h, k = config.d_model, config.num_heads, config.head_dim
    entries = []
    for src, dst in (("q", "query"), ("k", "key"), ("v", "value"), ("o", "out")):
        is_out = dst == "out"
        shape = (h, k, d) if is_out else (d, h, k)
        if layout == "hf":
            # torch Linear weights are [out_features, in_features].
            source_shape = (d, h * k) if is_out else (h * k, d)
            transform = (lambda x, s=shape: np.ascontiguousarray(x.T).reshape(s))
            name = source(src)
            accepted: tuple[tuple[int, ...], ...] = (source_shape,)
        else:
            # t5x keeps attention kernels flattened: [embed, joined_kv] / [joined_kv, embed].
            accepted = ((h * k, d) if is_out else (d, h * k), shape)
            transform = (lambda x, s=shape: np.ascontiguousarray(x).reshape(s))
            name = source(dst)
        entries.append(LayoutEntry(name, target + (dst, "kernel"), accepted, transform, layer,
                              transposed=layout == "hf"))
    return entries


def hf_layout(config: T5Config) -> list[LayoutEntry]:
    """The tensors of a Hugging Face T5 1.1 checkpoint and where each goes."""
    d, f, v = config.d_model, config.d_ff, config.vocab_size
    buckets, h = config.relative_attention_num_buckets, config.num_heads
    entries = [
        LayoutEntry("shared.weight", ("token_embedder", "embedding"), ((v, d),), _identity),
        LayoutEntry("lm_head.weight", ("decoder", "logits_dense", "kernel"), ((v, d),), _transpose, transposed=True),
        LayoutEntry("encoder.final_layer_norm.weight", ("encoder", "encoder_norm", "scale"),
               ((d,),), _identity),
        LayoutEntry("decoder.final_layer_norm.weight", ("decoder", "decoder_norm", "scale"),
               ((d,),), _identity),
    ]
    for stack in ("encoder", "decoder"):
        entries.append(LayoutEntry(
            f"{stack}.block.0.layer.0.SelfAttention.relative_attention_bias.weight",
            (stack, "relpos_bias", "rel_embedding"), ((buckets, h),), _transpose, transposed=True,
        ))

    def mlp(prefix: str, target: ParamPath, layer: int) -> list[LayoutEntry]:
        return [
            LayoutEntry(f"{prefix}.DenseReluDense.wi_0.weight", target + ("wi_0", "kernel"),
                   ((f, d),), _transpose, layer, transposed=True),
            LayoutEntry(f"{prefix}.DenseReluDense.wi_1.weight", target + ("wi_1", "kernel"),
                   ((f, d),), _transpose, layer, transposed=True),
            LayoutEntry(f"{prefix}.DenseReluDense.wo.weight", target + ("wo", "kernel"),
                   ((d, f),), _transpose, layer, transposed=True),
        ]

    def norm(name: str, target: ParamPath, layer: int) -> LayoutEntry:
        return LayoutEntry(name, target + ("scale",), ((d,),), _identity, layer)

    for i in range(config.num_encoder_layers):
        hf, sj = f"encoder.block.{i}.layer", ("encoder", "layers")
        entries += _attention_entries(config, lambda p, hf=hf: f"{hf}.0.SelfAttention.{p}.weight",
                                      sj + ("attention",), layout="hf", layer=i)
        entries.append(norm(f"{hf}.0.layer_norm.weight", sj + ("pre_attention_layer_norm",), i))
        entries += mlp(f"{hf}.1", sj + ("mlp",), i)
        entries.append(norm(f"{hf}.1.layer_norm.weight", sj + ("pre_mlp_layer_norm",), i))
    for i in range(config.num_decoder_layers):
        hf, sj = f"decoder.block.{i}.layer", ("decoder", "layers")
        entries += _attention_entries(config, lambda p, hf=hf: f"{hf}.0.SelfAttention.{p}.weight",
                                      sj + ("self_attention",), layout="hf", layer=i)
        entries.append(norm(f"{hf}.0.layer_norm.weight",
                            sj + ("pre_self_attention_layer_norm",), i))
        entries += _attention_entries(config, lambda p, hf=hf: f"{hf}.1.EncDecAttention.{p}.weight",
                                      sj + ("encoder_decoder_attention",), layout="hf", layer=i)
        entries.append(norm(f"{hf}.1.layer_norm.weight",
                            sj + ("pre_cross_attention_layer_norm",), i))
        entries += mlp(f"{hf}.2", sj + ("mlp",), i)
        entries.append(norm(f"{hf}.2.layer_norm.weight", sj + ("pre_mlp_layer_norm",), i))
    return entries


# Tensors Hugging Face checkpoints may carry that symjax does not need: the embedding
# aliases (checked equal to ``shared.weight``) and a cross-attention bias that T5 never uses.
HF_EMBEDDING_ALIASES = ("encoder.embed_tokens.weight", "decoder.embed_tokens.weight")
HF_IGNORED = ("decoder.block.0.layer.1.EncDecAttention.relative_attention_bias.weight",)


def t5x_layout(config: T5Config) -> list[LayoutEntry]:
    """The ``target/...`` tensors of a t5x T5 1.1 checkpoint and where each goes."""
    d, f, v = config.d_model, config.d_ff, config.vocab_size
    buckets, h = config.relative_attention_num_buckets, config.num_heads

    def same(path: ParamPath, shape: tuple[int, ...]) -> LayoutEntry:
        return LayoutEntry("/".join(path), path, (shape,), _identity)

    def stacked(stack: str, index: int, path: ParamPath, shape: tuple[int, ...]) -> LayoutEntry:
        source = "/".join((stack, f"layers_{index}") + path)
        return LayoutEntry(source, (stack, "layers") + path, (shape,), _identity, index)

    entries = [
        same(("token_embedder", "embedding"), (v, d)),
        same(("decoder", "logits_dense", "kernel"), (d, v)),
        same(("encoder", "encoder_norm", "scale"), (d,)),
        same(("decoder", "decoder_norm", "scale"), (d,)),
        same(("encoder", "relpos_bias", "rel_embedding"), (h, buckets)),
        same(("decoder", "relpos_bias", "rel_embedding"), (h, buckets)),
    ]

    def layer(stack: str, index: int, attentions: tuple[str, ...], norms: tuple[str, ...]
              ) -> list[LayoutEntry]:
        base = (stack, f"layers_{index}")
        out = []
        for attention in attentions:
            out += _attention_entries(
                config, lambda p, a=attention: "/".join(base + (a, p, "kernel")),
                (stack, "layers", attention), layout="t5x", layer=index,
            )
        out += [stacked(stack, index, ("mlp", "wi_0", "kernel"), (d, f)),
                stacked(stack, index, ("mlp", "wi_1", "kernel"), (d, f)),
                stacked(stack, index, ("mlp", "wo", "kernel"), (f, d))]
        out += [stacked(stack, index, (n, "scale"), (d,)) for n in norms]
        return out

    for i in range(config.num_encoder_layers):
        entries += layer("encoder", i, ("attention",),
                         ("pre_attention_layer_norm", "pre_mlp_layer_norm"))
    for i in range(config.num_decoder_layers):
        entries += layer("decoder", i, ("self_attention", "encoder_decoder_attention"),
                         ("pre_self_attention_layer_norm", "pre_cross_attention_layer_norm",
                          "pre_mlp_layer_norm"))
    return entries
