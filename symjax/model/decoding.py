"""Decoding with a key/value cache: greedy, temperature sampling and beam search.

All three encode once, build the cache with ``T5.init_decode_cache`` (cross-attention
keys/values projected once), then run one ``T5.decode_step`` per position inside a
``lax.while_loop`` that stops when every sequence has emitted EOS or at
``max_decode_length``. Inputs may be right-padded with ``pad_id`` (0); outputs are
``[batch, max_decode_length]`` token arrays without the decoder start token, EOS included,
padded with 0 after it, which is the layout of Hugging Face ``generate`` minus its leading
start token.

The public functions check their arguments (token ids in the vocabulary, positive
lengths) and call a jitted core; compiled functions are cached per config and shapes.
"""
from __future__ import annotations

import functools
from typing import Any, NamedTuple

import flax.linen as nn
import jax
import jax.numpy as jnp
import numpy as np

from symjax.errors import ModelError
from symjax.model.config import T5Config
from symjax.model.t5 import T5, check_token_ids

__all__ = ["DecodeResult", "greedy_decode", "temperature_sample", "beam_search",
           "brevity_penalty"]

_NEG_INF = -1.0e9  # finite "impossible" score, so that sums and comparisons stay defined


class DecodeResult(NamedTuple):
    """Decoded tokens and their scores.

    Attributes:
      tokens: ``int32 [batch, max_decode_length]`` (greedy, sampling) or
        ``[batch, num_beams, max_decode_length]`` (beam search, best beam first).
      scores: log-probability of each sequence under the model (untempered);
        for beam search divided by :func:`brevity_penalty`. ``[batch]`` / ``[batch, beams]``.
      lengths: tokens up to and including EOS (``max_decode_length`` if none).
    """

    tokens: jax.Array
    scores: jax.Array
    lengths: jax.Array


def brevity_penalty(length: jax.Array | int, alpha: float) -> jax.Array:
    """t5x / GNMT length normalisation ``((5 + length) / 6) ** alpha``."""
    return jnp.power((5.0 + jnp.asarray(length, jnp.float32)) / 6.0, alpha)


def _check_common(config: T5Config, encoder_input_tokens: Any, max_decode_length: int
                  ) -> jax.Array:
    if not isinstance(max_decode_length, int) or max_decode_length <= 0:
        raise ModelError(f"max_decode_length must be a positive int, got {max_decode_length!r}")
    tokens = np.asarray(encoder_input_tokens)
    if tokens.ndim != 2:
        raise ModelError(
            f"encoder_input_tokens must be [batch, length], got shape {tokens.shape}"
        )
    check_token_ids(tokens, vocab_size=config.vocab_size, name="encoder_input_tokens")
    return jnp.asarray(tokens, jnp.int32)


def _prefill(config: T5Config, params: Any, tokens: jax.Array, max_decode_length: int,
             repeat: int = 1) -> Any:
    model = T5(config)
    encoded = model.apply({"params": params}, tokens, method=T5.encode)
    if repeat > 1:
        encoded = jnp.repeat(encoded, repeat, axis=0)
        tokens = jnp.repeat(tokens, repeat, axis=0)
    _, variables = model.apply({"params": params}, encoded, tokens,
                               max_decode_length=max_decode_length,
                               method=T5.init_decode_cache, mutable=["cache"])
    return variables["cache"]


def _step(config: T5Config, params: Any, cache: Any, last_tokens: jax.Array,
          max_decode_length: int) -> tuple[jax.Array, Any]:
    logits, variables = T5(config).apply(
        {"params": params, "cache": cache}, last_tokens[:, None],
        max_decode_length=max_decode_length, method=T5.decode_step, mutable=["cache"],
    )
    return logits.astype(jnp.float32), variables["cache"]


# ---------------------------------------------------------------------------------------
# Greedy and sampling
# ---------------------------------------------------------------------------------------
@functools.partial(jax.jit, static_argnames=("config", "max_decode_length", "greedy", "top_k"))
def _sample_core(params: Any, tokens: jax.Array, rng: jax.Array, temperature: jax.Array, *,
                 config: T5Config, max_decode_length: int, greedy: bool, top_k: int
                 ) -> DecodeResult:
    batch = tokens.shape[0]
    cache = _prefill(config, params, tokens, max_decode_length)
    state = dict(
        step=jnp.array(0, jnp.int32),
        last=jnp.full((batch,), config.pad_id, jnp.int32),
        cache=cache,
        sequences=jnp.full((batch, max_decode_length), config.pad_id, jnp.int32),
        finished=jnp.zeros((batch,), jnp.bool_),
        scores=jnp.zeros((batch,), jnp.float32),
        lengths=jnp.zeros((batch,), jnp.int32),
        rng=rng,
    )

    def cond(s: dict[str, Any]) -> jax.Array:
        return (s["step"] < max_decode_length) & ~jnp.all(s["finished"])

    def body(s: dict[str, Any]) -> dict[str, Any]:
        logits, cache = _step(config, params, s["cache"], s["last"], max_decode_length)
        log_probs = jax.nn.log_softmax(logits, axis=-1)
        rng, key = jax.random.split(s["rng"])
        if greedy:
            chosen = jnp.argmax(logits, axis=-1).astype(jnp.int32)
        else:
            scaled = logits / temperature
            if top_k:
                kth = jax.lax.top_k(scaled, top_k)[0][:, -1:]
                scaled = jnp.where(scaled < kth, -jnp.inf, scaled)
            chosen = jax.random.categorical(key, scaled, axis=-1).astype(jnp.int32)
        active = ~s["finished"]
        chosen = jnp.where(active, chosen, config.pad_id)
        picked = jnp.take_along_axis(log_probs, chosen[:, None], axis=-1)[:, 0]
        return dict(
            step=s["step"] + 1,
            last=chosen,
            cache=cache,
            sequences=jax.lax.dynamic_update_slice(s["sequences"], chosen[:, None],
                                                   (0, s["step"])),
            finished=s["finished"] | (chosen == config.eos_id),
            scores=s["scores"] + jnp.where(active, picked, 0.0),
            lengths=s["lengths"] + active.astype(jnp.int32),
            rng=rng,
        )

    final = jax.lax.while_loop(cond, body, state)
    return DecodeResult(final["sequences"], final["scores"], final["lengths"])


def _params(params: Any) -> Any:
    return nn.meta.unbox(params.get("params", params) if isinstance(params, dict) else params)


def greedy_decode(*, model: T5, params: Any, encoder_input_tokens: Any,
                  max_decode_length: int) -> DecodeResult:
    """Argmax decoding (ties to the lowest id, as ``torch.argmax``).

    Args:
      model: a :class:`T5` (its ``config`` is what matters).
      params: the ``params`` collection (boxed or not), or ``{"params": ...}``.
      encoder_input_tokens: ``int [batch, input_length]``, right-padded with ``pad_id``.
      max_decode_length: tokens to generate at most per sequence.
    """
    config = model.config
    tokens = _check_common(config, encoder_input_tokens, max_decode_length)
    return _sample_core(_params(params), tokens, jax.random.key(0), jnp.float32(1.0),
                        config=config, max_decode_length=max_decode_length, greedy=True,
                        top_k=0)


def temperature_sample(*, model: T5, params: Any, encoder_input_tokens: Any,
                       max_decode_length: int, rng: jax.Array, temperature: float = 1.0,
                       top_k: int = 0) -> DecodeResult:
    """Ancestral sampling from ``softmax(logits / temperature)``.

    ``temperature=0`` is greedy decoding; ``top_k > 0`` samples among the ``top_k`` most
    likely tokens only. ``scores`` are log-probabilities under the untempered model.
    """
    config = model.config
    tokens = _check_common(config, encoder_input_tokens, max_decode_length)
    if temperature < 0:
        raise ModelError(f"temperature must be >= 0, got {temperature}")
    if not 0 <= top_k <= config.vocab_size:
        raise ModelError(f"top_k must be in [0, vocab_size={config.vocab_size}], got {top_k}")
    return _sample_core(_params(params), tokens, rng, jnp.float32(max(temperature, 1e-6)),
                        config=config, max_decode_length=max_decode_length,
                        greedy=temperature == 0, top_k=int(top_k))


# ---------------------------------------------------------------------------------------
# Beam search
# ---------------------------------------------------------------------------------------
def _gather_beams(x: jax.Array, beam_indices: jax.Array) -> jax.Array:
    """``x[b, beam_indices[b, j]]`` for ``x`` of shape ``[batch, beams, ...]``."""
    return jax.vmap(lambda row, idx: row[idx])(x, beam_indices)


def _gather_cache(cache: Any, flat_indices: jax.Array) -> Any:
    """Reorder the self-attention caches of the flattened ``batch * beams`` axis.

    Cross-attention caches and the encoder mask are identical across the beams of one
    example (beams never move between examples), so they are left alone. Caches of the
    scanned layers carry the ``layers`` axis first, so their batch axis is 1.
    """
    def gather(path: tuple[Any, ...], leaf: jax.Array) -> jax.Array:
        names = {str(getattr(k, "key", k)) for k in path}
        if "self_attention" in names:
            return jnp.take(leaf, flat_indices, axis=1 if "layers" in names else 0)
        return leaf

    return jax.tree_util.tree_map_with_path(gather, cache)


@functools.partial(jax.jit, static_argnames=("config", "max_decode_length", "num_beams",
                                             "alpha"))
def _beam_core(params: Any, tokens: jax.Array, *, config: T5Config, max_decode_length: int,
               num_beams: int, alpha: float) -> DecodeResult:
    batch, beams, length = tokens.shape[0], num_beams, max_decode_length
    vocab = config.vocab_size
    cache = _prefill(config, params, tokens, length, repeat=beams)
    offsets = (jnp.arange(batch) * beams)[:, None]
    state = dict(
        step=jnp.array(0, jnp.int32),
        cache=cache,
        alive_seqs=jnp.full((batch, beams, length), config.pad_id, jnp.int32),
        # Only the first beam is live at the start, so the first step does not pick the
        # same continuation num_beams times.
        alive_log_probs=jnp.tile(
            jnp.array([0.0] + [_NEG_INF] * (beams - 1), jnp.float32), (batch, 1)),
        last=jnp.full((batch, beams), config.pad_id, jnp.int32),
        finished_seqs=jnp.full((batch, beams, length), config.pad_id, jnp.int32),
        finished_scores=jnp.full((batch, beams), _NEG_INF, jnp.float32),
        finished_lengths=jnp.zeros((batch, beams), jnp.int32),
    )

    def cond(s: dict[str, Any]) -> jax.Array:
        # Stop early once no live beam can beat the worst kept finished sequence: log-probs
        # only fall, and the brevity penalty is largest at max length.
        best_alive = s["alive_log_probs"][:, 0] / brevity_penalty(length, alpha)
        worst_finished = s["finished_scores"][:, -1]
        settled = jnp.all(worst_finished > best_alive)
        return (s["step"] < length) & ~settled

    def body(s: dict[str, Any]) -> dict[str, Any]:
        step = s["step"]
        logits, cache = _step(config, params, s["cache"], s["last"].reshape(-1), length)
        log_probs = jax.nn.log_softmax(logits, axis=-1).reshape(batch, beams, vocab)
        candidates = (s["alive_log_probs"][:, :, None] + log_probs).reshape(batch, -1)
        # 2 * beams candidates always hold at least `beams` that do not end in EOS.
        top_scores, top_ids = jax.lax.top_k(candidates, 2 * beams)
        source_beam = top_ids // vocab
        token = (top_ids % vocab).astype(jnp.int32)
        seqs = _gather_beams(s["alive_seqs"], source_beam)
        seqs = jax.lax.dynamic_update_slice(seqs, token[:, :, None], (0, 0, step))
        ends = (token == config.eos_id) | (step == length - 1)

        # Live beams: the best `beams` candidates that did not emit EOS.
        alive_scores = jnp.where(token == config.eos_id, _NEG_INF, top_scores)
        alive_scores, keep = jax.lax.top_k(alive_scores, beams)
        alive_source = _gather_beams(source_beam, keep)
        new_cache = _gather_cache(cache, (offsets + alive_source).reshape(-1))

        # Finished: merge the candidates that ended here with those kept so far.
        finished_now = jnp.where(ends, top_scores / brevity_penalty(step + 1, alpha), _NEG_INF)
        merged_scores = jnp.concatenate([s["finished_scores"], finished_now], axis=1)
        merged_seqs = jnp.concatenate([s["finished_seqs"], seqs], axis=1)
        merged_lengths = jnp.concatenate(
            [s["finished_lengths"], jnp.full((batch, 2 * beams), step + 1, jnp.int32)], axis=1)
        finished_scores, pick = jax.lax.top_k(merged_scores, beams)
        return dict(
            step=step + 1,
            cache=new_cache,
            alive_seqs=_gather_beams(seqs, keep),
            alive_log_probs=alive_scores,
            last=_gather_beams(token, keep),
            finished_seqs=_gather_beams(merged_seqs, pick),
            finished_scores=finished_scores,
            finished_lengths=_gather_beams(merged_lengths, pick),
        )

    final = jax.lax.while_loop(cond, body, state)
    return DecodeResult(final["finished_seqs"], final["finished_scores"],
                        final["finished_lengths"])


def beam_search(*, model: T5, params: Any, encoder_input_tokens: Any, max_decode_length: int,
                num_beams: int = 4, alpha: float = 0.6) -> DecodeResult:
    """Beam search with the t5x / GNMT brevity penalty.

    A hypothesis finishes when it emits EOS or reaches ``max_decode_length``; its score is
    ``log_prob / brevity_penalty(length, alpha)``. At each step the ``2 * num_beams`` best
    continuations are split into finished ones (kept among the ``num_beams`` best finished
    so far) and live ones (the ``num_beams`` best that did not emit EOS). The search stops
    early once no live beam can beat the worst kept finished hypothesis.

    Returns tokens ``[batch, num_beams, max_decode_length]``, best first.
    """
    config = model.config
    tokens = _check_common(config, encoder_input_tokens, max_decode_length)
    if alpha < 0:
        raise ModelError(f"alpha must be >= 0 (0 turns the brevity penalty off), got {alpha}")
    if not isinstance(num_beams, int) or num_beams < 1:
        raise ModelError(f"num_beams must be a positive int, got {num_beams!r}")
    if 2 * num_beams > config.vocab_size:
        raise ModelError(
            f"num_beams={num_beams} needs 2 * num_beams <= vocab_size={config.vocab_size}"
        )
    return _beam_core(_params(params), tokens, config=config,
                      max_decode_length=max_decode_length, num_beams=num_beams,
                      alpha=float(alpha))
