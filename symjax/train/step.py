"""The jitted train and eval steps: t5x's loss, gradient accumulation, optimizer update.

Loss (t5x ``compute_weighted_cross_entropy``): per target token
``logsumexp(logits) - logit[target] + z_loss * logsumexp(logits)**2``, weighted by
``decoder_loss_weights`` and summed, then divided by the loss normalizing factor:

* ``None`` (t5x's default for fine-tuning): no division, the loss is the sum;
* a number: divide by it (t5x's ``2048 * 114`` for Mesh-TF pre-trained checkpoints);
* ``"num_real_target_tokens"``: divide by the number of weighted target tokens;
* ``"num_total_target_tokens"``: divide by batch x target length.

The factor is computed over the whole global batch, so a step with gradient accumulation
(``accumulation_steps`` microbatches whose gradients are summed in a ``lax.scan``) makes the
same update as one step on the whole batch, up to float summation order.

Metrics are returned as sums (``loss``, ``cross_ent_sum``, ``z_loss_sum``,
``weight_sum``, ``correct``, ``num_sequences``) so they can be added across steps;
:func:`summarize` turns them into per-token figures.
"""
from __future__ import annotations

import functools
from typing import Any, Callable, Mapping

import jax
import jax.numpy as jnp
import optax

from symjax.errors import ConfigError
from symjax.model import T5

__all__ = ["LOSS_NORMALIZING_FACTORS", "check_loss_normalizing_factor", "normalizer",
           "weighted_loss_sums", "make_train_step", "make_eval_step", "summarize"]

LOSS_NORMALIZING_FACTORS = ("num_real_target_tokens", "num_total_target_tokens")


def check_loss_normalizing_factor(value: Any) -> None:
    if value is None or value in LOSS_NORMALIZING_FACTORS:
        return
    if isinstance(value, (int, float)) and not isinstance(value, bool) and value > 0:
        return
    raise ConfigError(
        f"loss_normalizing_factor must be None, a positive number or one of "
        f"{LOSS_NORMALIZING_FACTORS}, got {value!r}"
    )


def normalizer(batch: Mapping[str, jax.Array], factor: Any) -> jax.Array:
    """The number the summed loss of ``batch`` is divided by (see the module docstring)."""
    if factor is None:
        return jnp.float32(1.0)
    if factor == "num_real_target_tokens":
        return jnp.maximum(jnp.sum(batch["decoder_loss_weights"].astype(jnp.float32)), 1.0)
    if factor == "num_total_target_tokens":
        return jnp.float32(batch["decoder_target_tokens"].size)
    return jnp.float32(factor)


def weighted_loss_sums(*, logits: jax.Array, targets: jax.Array, weights: jax.Array,
                       z_loss: float) -> dict[str, jax.Array]:
    """Sums over weighted target tokens: total loss (with z-loss), cross-entropy, z-loss,
    weight and correct argmax predictions."""
    logits = logits.astype(jnp.float32)
    weights = weights.astype(jnp.float32)
    log_z = jax.nn.logsumexp(logits, axis=-1)
    target_logit = jnp.take_along_axis(logits, targets[..., None], axis=-1)[..., 0]
    cross_ent = (log_z - target_logit) * weights
    z_term = z_loss * jnp.square(log_z) * weights
    correct = (jnp.argmax(logits, axis=-1) == targets).astype(jnp.float32) * weights
    return {
        "total": jnp.sum(cross_ent + z_term),
        "cross_ent_sum": jnp.sum(cross_ent),
        "z_loss_sum": jnp.sum(z_term),
        "weight_sum": jnp.sum(weights),
        "correct": jnp.sum(correct),
    }


def _forward(model: T5, params: Any, batch: Mapping[str, jax.Array], *, rng: jax.Array | None
             ) -> jax.Array:
    deterministic = rng is None
    return model.apply(
        {"params": params},
        batch["encoder_input_tokens"], batch["decoder_input_tokens"],
        encoder_segment_ids=batch.get("encoder_segment_ids"),
        decoder_segment_ids=batch.get("decoder_segment_ids"),
        deterministic=deterministic,
        rngs=None if deterministic else {"dropout": rng},
    )


def _num_sequences(batch: Mapping[str, jax.Array]) -> jax.Array:
    """Examples in a batch: packed rows hold several (count segment starts)."""
    if "decoder_segment_ids" in batch:
        seg = batch["decoder_segment_ids"]
        starts = (seg != 0) & (seg != jnp.pad(seg, ((0, 0), (1, 0)))[:, :-1])
        return jnp.sum(starts).astype(jnp.float32)
    return jnp.sum(jnp.any(batch["decoder_loss_weights"] > 0, axis=-1)).astype(jnp.float32)


def _loss_fn(params: Any, batch: Mapping[str, jax.Array], rng: jax.Array | None, norm: jax.Array,
             *, model: T5, z_loss: float) -> tuple[jax.Array, dict[str, jax.Array]]:
    logits = _forward(model, params, batch, rng=rng)
    sums = weighted_loss_sums(logits=logits, targets=batch["decoder_target_tokens"],
                              weights=batch["decoder_loss_weights"], z_loss=z_loss)
    loss = sums.pop("total") / norm
    sums["loss"] = loss
    sums["num_sequences"] = _num_sequences(batch)
    return loss, sums


def make_train_step(*, model: T5, optimizer: optax.GradientTransformation, z_loss: float,
                    loss_normalizing_factor: Any, accumulation_steps: int = 1,
                    dropout: bool = False) -> Callable[..., tuple[dict, dict]]:
    """``step(state, batch, rng) -> (state, metric sums)``; ``state`` is
    ``{"params", "opt_state", "step"}``. Not jitted: the caller jits with shardings."""
    check_loss_normalizing_factor(loss_normalizing_factor)
    if accumulation_steps < 1:
        raise ConfigError(f"accumulation_steps must be >= 1, got {accumulation_steps}")
    grad_fn = jax.value_and_grad(functools.partial(_loss_fn, model=model, z_loss=z_loss),
                                 has_aux=True)

    def train_step(state: dict, batch: Mapping[str, jax.Array], rng: jax.Array
                   ) -> tuple[dict, dict]:
        params = state["params"]
        norm = normalizer(batch, loss_normalizing_factor)
        step_rng = jax.random.fold_in(rng, state["step"]) if dropout else None
        if accumulation_steps == 1:
            (_, sums), grads = grad_fn(params, batch, step_rng, norm)
        else:
            rows = next(iter(batch.values())).shape[0]
            micro = {k: v.reshape((accumulation_steps, rows // accumulation_steps) + v.shape[1:])
                     for k, v in batch.items()}

            def body(carry, xs):
                index, mb = xs
                mb_rng = None if step_rng is None else jax.random.fold_in(step_rng, index)
                (_, s), g = grad_fn(params, mb, mb_rng, norm)
                return jax.tree.map(jnp.add, carry, (g, s)), None

            first = {k: v[0] for k, v in micro.items()}
            (_, sums_shape), grads_shape = jax.eval_shape(grad_fn, params, first, step_rng, norm)
            zeros = jax.tree.map(lambda s: jnp.zeros(s.shape, s.dtype), (grads_shape, sums_shape))
            (grads, sums), _ = jax.lax.scan(body, zeros, (jnp.arange(accumulation_steps), micro))
        updates, opt_state = optimizer.update(grads, state["opt_state"], params)
        new_params = optax.apply_updates(params, updates)
        sums["grad_norm"] = optax.global_norm(grads)
        # 1.0 while every new parameter is finite: a checkpoint is never written otherwise
        sums["params_finite"] = jnp.all(jnp.stack(
            [jnp.all(jnp.isfinite(p)) for p in jax.tree.leaves(new_params)])).astype(jnp.float32)
        new_state = {"params": new_params, "opt_state": opt_state, "step": state["step"] + 1}
        return new_state, sums

    return train_step


def make_eval_step(*, model: T5, z_loss: float) -> Callable[..., dict]:
    """``eval_step(params, batch) -> metric sums`` (teacher forcing, no dropout)."""

    def eval_step(params: Any, batch: Mapping[str, jax.Array]) -> dict:
        _, sums = _loss_fn(params, batch, None, jnp.float32(1.0), model=model, z_loss=z_loss)
        return sums

    return eval_step


def summarize(sums: Mapping[str, float], *, prefix: str = "") -> dict[str, float]:
    """Per-token figures from metric sums (as t5x's ``cross_ent_loss_per_all_target_tokens``
    and ``accuracy``)."""
    weight = max(float(sums.get("weight_sum", 0.0)), 1e-9)
    out = {
        f"{prefix}cross_ent_loss": float(sums["cross_ent_sum"]) / weight,
        f"{prefix}z_loss": float(sums["z_loss_sum"]) / weight,
        f"{prefix}accuracy": float(sums["correct"]) / weight,
        f"{prefix}target_tokens": float(sums["weight_sum"]),
    }
    if "loss" in sums:
        out[f"{prefix}loss"] = float(sums["loss"])
    return out
