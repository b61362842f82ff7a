"""Optimizers: t5x's Adafactor (factored by logical axis names), AdamW, learning-rate schedules.

Two recipes::

    from symjax import model as m
    from symjax.train import optimizers as o
    axes = m.param_logical_axes(config=config)
    # t5x's default fine-tuning: Adafactor, constant 1e-3 (t5x/configs/runs/finetune.gin)
    opt = o.make_optimizer(name="adafactor", learning_rate=1e-3, logical_axes=axes)
    # the paper's recipe: AdamW 3e-5, 1000 warmup steps, linear decay to 0 at step 20000
    lr = o.learning_rate_schedule(base_learning_rate=3e-5, warmup_steps=1000,
                                  decay="linear", total_steps=20000)
    opt = o.make_optimizer(name="adamw", learning_rate=lr, logical_axes=axes)

Every optimizer is an ``optax.GradientTransformation``; schedules are called with the
optimizer's step count before the update (0 on the first update), as t5x does.
"""
from __future__ import annotations

import dataclasses
import inspect
import numbers
from types import MappingProxyType
from typing import Any, Callable, Literal, Mapping, NamedTuple

import jax
import jax.numpy as jnp
import numpy as np
import optax

from symjax.errors import ConfigError
from symjax.model import EMBED, HEADS, KV, LAYERS, MLP, RELPOS_BUCKETS, VOCAB

__all__ = [
    "ROW", "COLUMN", "BATCH", "NONE", "STANDARD_FACTOR_RULES", "AdafactorState",
    "adafactor", "adafactor_state_logical_axes", "adamw", "learning_rate_schedule",
    "make_optimizer", "OPTIMIZER_NAMES", "DECAYS",
]

# How Adafactor treats one dimension of a parameter (t5x's ``FactorDim``).
ROW = "row"          # the second moment keeps a statistic per row index ...
COLUMN = "column"    # ... and one per column index (several COLUMN dims act as one)
BATCH = "batch"      # independent copies (scanned layers): never averaged over
NONE = "none"        # not factored
_ROLE_NAMES = {"row": ROW, "column": COLUMN, "col": COLUMN, "batch": BATCH, "none": NONE,
               "unfactorized": NONE}

# t5x's ``standard_logical_factor_rules()`` (t5x/adafactor.py), names symjax does not use
# kept so that t5x-style axis trees work unchanged.
STANDARD_FACTOR_RULES: Mapping[str, str] = MappingProxyType({
    VOCAB: COLUMN, EMBED: ROW, MLP: COLUMN, HEADS: COLUMN, KV: COLUMN, "joined_kv": COLUMN,
    RELPOS_BUCKETS: NONE, LAYERS: BATCH, "stack": BATCH, "q_wi_fused": COLUMN,
    "o_wo_fused": COLUMN, "multiquery_heads": COLUMN, "kv_fused": COLUMN,
    "layer_norm_scale": NONE, "mlp_activations": COLUMN,
})

Schedule = Callable[[jax.Array], jax.Array]
OPTIMIZER_NAMES = ("adafactor", "adamw")
DECAYS = ("constant", "rsqrt", "t5x_rsqrt", "linear")


class AdafactorState(NamedTuple):
    """``count``: int32 updates applied so far. ``stats``: the params' tree with, in place of
    each parameter, a dict holding ``v_row`` and ``v_col`` (factored) or ``v`` (not
    factored), plus ``m`` when ``beta1`` is set. All leaves are float32 arrays."""
    count: jax.Array
    stats: Any


@dataclasses.dataclass(frozen=True)
class _Plan:
    """How one parameter's second moment is kept: factored iff ``row_dims`` is not empty."""
    row_dims: tuple[int, ...]
    col_dims: tuple[int, ...]
    averaging_dims: tuple[int, ...]  # dims of the RMS in parameter scale and clipping

    @property
    def factored(self) -> bool:
        return bool(self.row_dims)


def _is_axes(x: Any) -> bool:
    return isinstance(x, tuple) and not hasattr(x, "_fields")


def _path_name(path: tuple) -> str:
    return "/".join(str(getattr(k, "key", getattr(k, "name", getattr(k, "idx", k))))
                    for k in path)


def _paired_axes(params: Any, logical_axes: Any) -> tuple[list, list, list, Any]:
    """(path names, leaves, axes) of ``params`` in flattening order, and its treedef."""
    flat, treedef = jax.tree_util.tree_flatten_with_path(params)
    axes_flat = jax.tree_util.tree_flatten_with_path(logical_axes, is_leaf=_is_axes)[0]
    names = [_path_name(p) for p, _ in flat]
    axes_names = [_path_name(p) for p, _ in axes_flat]
    if names != axes_names:
        missing = sorted(set(names) - set(axes_names))
        extra = sorted(set(axes_names) - set(names))
        raise ConfigError(
            f"logical_axes does not match the params: params without axes {missing[:5]}, "
            f"axes without params {extra[:5]}; pass symjax.model.param_logical_axes(config=...) "
            "of the model these params belong to")
    return names, [leaf for _, leaf in flat], [tuple(a) for _, a in axes_flat], treedef


def _merged_rules(factor_rules: Mapping[str, str] | None) -> dict[str, str]:
    rules = dict(STANDARD_FACTOR_RULES)
    for axis, role in (factor_rules or {}).items():
        if not isinstance(role, str) or role.lower() not in _ROLE_NAMES:
            raise ConfigError(f"factor_rules[{axis!r}] = {role!r}; use one of "
                              f"{sorted(_ROLE_NAMES)}")
        rules[axis] = _ROLE_NAMES[role.lower()]
    return rules


def _plan(*, path: str, axes: tuple, shape: tuple[int, ...], rules: Mapping[str, str],
          min_dim_size_to_factor: int) -> _Plan:
    """t5x's ``set_param_axes`` / ``_parse_rule`` / ``_factored_dims`` for one parameter."""
    if len(axes) != len(shape):
        raise ConfigError(f"parameter {path} has shape {shape} but logical axes {axes}; "
                          "the axes tree must come from the same model config")
    unknown = [a for a in axes if a not in rules]
    if unknown:
        raise ConfigError(
            f"parameter {path} has logical axis {unknown[0]!r} (axes {axes}), which the "
            f"Adafactor factor rules do not name; pass factor_rules={{{unknown[0]!r}: ...}} "
            "with 'row', 'column', 'batch' or 'none'")
    roles = [rules[a] for a in axes]
    if ROW in roles and COLUMN in roles and NONE in roles:
        raise ConfigError(f"parameter {path}: axes {axes} map to {tuple(roles)}, rows and "
                          "columns plus an unfactored axis; map that axis to 'batch' or "
                          "'row'/'column' in factor_rules")
    if ROW not in roles or COLUMN not in roles:  # half a factorization is none at all
        roles = [NONE if r in (ROW, COLUMN) else r for r in roles]
    batch = tuple(i for i, r in enumerate(roles) if r == BATCH)
    if len(shape) <= 2 and not batch:
        # t5x ignores the rule for rank <= 2 without batch dims and uses its shape
        # heuristic: factor iff the smaller dim reaches min_dim_size_to_factor, the
        # smaller dim being the row (the first one on a tie).
        every = tuple(range(len(shape)))
        if len(shape) < 2:
            return _Plan((), (), every)
        small, large = (0, 1) if shape[0] <= shape[1] else (1, 0)
        if shape[small] < min_dim_size_to_factor:
            return _Plan((), (), every)
        return _Plan((small,), (large,), every)
    return _Plan(tuple(i for i, r in enumerate(roles) if r == ROW),
                 tuple(i for i, r in enumerate(roles) if r == COLUMN),
                 tuple(i for i in range(len(shape)) if i not in batch))


def _plans(params: Any, logical_axes: Any, rules: Mapping[str, str],
           min_dim_size_to_factor: int) -> tuple[list[_Plan], list, Any]:
    names, leaves, axes, treedef = _paired_axes(params, logical_axes)
    plans = [_plan(path=n, axes=a, shape=tuple(leaf.shape), rules=rules,
                   min_dim_size_to_factor=min_dim_size_to_factor)
             for n, leaf, a in zip(names, leaves, axes)]
    return plans, leaves, treedef


def _check_learning_rate(learning_rate: Any) -> None:
    if callable(learning_rate):
        return
    if (isinstance(learning_rate, bool) or not isinstance(learning_rate, numbers.Real)
            or not learning_rate > 0):
        raise ConfigError(f"learning_rate={learning_rate!r}; pass a positive float or a "
                          "schedule (callable of the step), e.g. learning_rate_schedule(...)")


def adafactor(*, learning_rate: float | Schedule, logical_axes: Any, decay_rate: float = 0.8,
              step_offset: int = 0, beta1: float | None = None,
              clipping_threshold: float | None = 1.0, epsilon1: float = 1e-30,
              epsilon2: float = 1e-3, multiply_by_parameter_scale: bool = True,
              min_dim_size_to_factor: int = 128, weight_decay_rate: float | None = None,
              factor_rules: Mapping[str, str] | None = None) -> optax.GradientTransformation:
    """t5x's Adafactor (``t5x.adafactor.Adafactor`` with ``standard_logical_factor_rules``).

    Each dimension gets a role from its logical axis name (``STANDARD_FACTOR_RULES``,
    overridden per name by ``factor_rules``): vocab/mlp/heads/kv are columns, embed is the
    row, layers is a batch dim, relpos_buckets is not factored. A parameter is factored
    when it has both a row and a column dim; ``v_row`` then drops the column dims and
    ``v_col`` the row dims (several column dims are reduced together), e.g. a scanned
    query kernel ``(layers, embed, heads, kv)`` keeps ``v_row (layers, embed)`` and
    ``v_col (layers, heads, kv)``. Parameters of rank <= 2 with no batch dim ignore the
    rule, as in t5x: factored iff their smaller dim is >= ``min_dim_size_to_factor``, that
    dim being the row. ``min_dim_size_to_factor`` does not apply to other parameters.

    Per update, with ``t = count - step_offset``: ``beta2 = 1 - (t + 1) ** -decay_rate``;
    ``v = beta2 v + (1 - beta2) (g**2 + epsilon1)`` (or its row/column means);
    ``y = g / sqrt(v)`` (factored: ``v_row v_col / mean_rows(v_row)``); ``y`` is divided
    by ``max(1, rms(y) / clipping_threshold)``; the step is
    ``learning_rate * max(epsilon2, rms(param)) * y`` (scale only with
    ``multiply_by_parameter_scale``), optionally averaged by momentum ``beta1``; the new
    parameter is ``(1 - weight_decay_rate) param - step`` (decay not scaled by the
    learning rate). RMS means skip batch dims, so each scanned layer is its own matrix.

    Differences from t5x: ``update`` returns ``new_param - param`` (optax) and needs
    ``params`` when ``multiply_by_parameter_scale`` or ``weight_decay_rate`` is set; the
    parameter scale is computed in float32; the state has no ``(1,)`` placeholders; t5x's
    ``global_norm_clip_threshold`` is ``optax.chain(optax.clip_by_global_norm(x), ...)``;
    ``max_parameter_scale``, ``skip_nan_updates`` and ``factored=False`` are not offered.
    A fresh state starts at count 0; t5x fine-tuning restores the pretraining step (and
    ``v``) from its checkpoint, hence ``step_offset``.

    Args:
      learning_rate: a float or a schedule called with the count before the update.
      logical_axes: tree of tuples of axis names, the params' structure
        (``symjax.model.param_logical_axes``).
      factor_rules: axis name -> "row" | "column" | "batch" | "none", merged over
        ``STANDARD_FACTOR_RULES``. An axis named by neither is a ``ConfigError``.
    """
    _check_learning_rate(learning_rate)
    if beta1 is not None and not 0.0 <= beta1 < 1.0:
        raise ConfigError(f"beta1={beta1!r}; use None (no momentum) or a value in [0, 1)")
    if clipping_threshold is not None and not clipping_threshold > 0:
        raise ConfigError(f"clipping_threshold={clipping_threshold!r}; use None or > 0 "
                          "(t5x uses 1.0)")
    if not decay_rate > 0:
        raise ConfigError(f"decay_rate={decay_rate!r}; use a positive exponent (t5x: 0.8)")
    rules = _merged_rules(factor_rules)

    def init(params: Any) -> AdafactorState:
        plans, leaves, treedef = _plans(params, logical_axes, rules, min_dim_size_to_factor)
        stats = []
        for plan, leaf in zip(plans, leaves):
            shape = tuple(leaf.shape)
            if plan.factored:
                stat = {"v_row": jnp.zeros(np.delete(shape, plan.col_dims), jnp.float32),
                        "v_col": jnp.zeros(np.delete(shape, plan.row_dims), jnp.float32)}
            else:
                stat = {"v": jnp.zeros(shape, jnp.float32)}
            if beta1 is not None:
                stat["m"] = jnp.zeros(shape, jnp.float32)
            stats.append(stat)
        return AdafactorState(jnp.zeros([], jnp.int32), treedef.unflatten(stats))

    def update(grads: Any, state: AdafactorState, params: Any = None) -> tuple[Any, Any]:
        if params is None and (multiply_by_parameter_scale or weight_decay_rate is not None):
            raise ConfigError("adafactor's update needs params (parameter scale / weight "
                              "decay): call update(grads, state, params)")
        plans, grad_leaves, treedef = _plans(grads, logical_axes, rules,
                                             min_dim_size_to_factor)
        param_leaves = (treedef.flatten_up_to(params) if params is not None
                        else [None] * len(grad_leaves))
        stat_leaves = treedef.flatten_up_to(state.stats)
        t = state.count.astype(jnp.float32) - step_offset + 1.0
        beta2 = 1.0 - t ** (-decay_rate)
        lr = learning_rate(state.count) if callable(learning_rate) else learning_rate
        out = [_adafactor_one(plan, g, p, s, beta2=beta2, lr=lr, beta1=beta1,
                              clipping_threshold=clipping_threshold, epsilon1=epsilon1,
                              epsilon2=epsilon2, scale_by_param=multiply_by_parameter_scale,
                              weight_decay_rate=weight_decay_rate)
               for plan, g, p, s in zip(plans, grad_leaves, param_leaves, stat_leaves)]
        updates = treedef.unflatten([u for u, _ in out])
        stats = treedef.unflatten([s for _, s in out])
        return updates, AdafactorState(optax.safe_int32_increment(state.count), stats)

    return optax.GradientTransformation(init, update)


def _adafactor_one(plan: _Plan, grad: jax.Array, param: jax.Array | None, stat: dict, *,
                   beta2: jax.Array, lr: Any, beta1: float | None,
                   clipping_threshold: float | None, epsilon1: float, epsilon2: float,
                   scale_by_param: bool, weight_decay_rate: float | None
                   ) -> tuple[jax.Array, dict]:
    """One parameter's update (t5x's ``apply_param_gradient``) and its new statistics."""
    g = grad.astype(jnp.float32)
    g2 = g * g + epsilon1
    mix = 1.0 - beta2
    if plan.factored:
        rows, cols = plan.row_dims, plan.col_dims
        v_row = beta2 * stat["v_row"] + mix * jnp.mean(g2, axis=cols)
        v_col = beta2 * stat["v_col"] + mix * jnp.mean(g2, axis=rows)
        new = {"v_row": v_row, "v_col": v_col}
        rows_in_v_row = tuple(d - sum(c < d for c in cols) for d in rows)
        row_factor = (v_row / jnp.mean(v_row, axis=rows_in_v_row, keepdims=True)) ** -0.5
        y = g * jnp.expand_dims(row_factor, cols) * jnp.expand_dims(v_col ** -0.5, rows)
    else:
        v = beta2 * stat["v"] + mix * g2
        new = {"v": v}
        y = g * v ** -0.5
    if clipping_threshold is not None:
        rms = jnp.sqrt(jnp.mean(y * y, axis=plan.averaging_dims, keepdims=True))
        y = y / jnp.maximum(1.0, rms / clipping_threshold)
    scale = lr
    if scale_by_param:
        p = param.astype(jnp.float32)
        p_rms = jnp.sqrt(jnp.mean(p * p, axis=plan.averaging_dims, keepdims=True))
        scale = lr * jnp.maximum(p_rms, epsilon2)
    step = scale * y
    if beta1 is not None:
        step = beta1 * stat["m"] + (1.0 - beta1) * step
        new["m"] = step
    update = -step
    if weight_decay_rate is not None:
        update = update - weight_decay_rate * param.astype(jnp.float32)
    dtype = param.dtype if param is not None else grad.dtype
    return update.astype(dtype), new


def adafactor_state_logical_axes(*, params: Any, logical_axes: Any, beta1: float | None = None,
                                 min_dim_size_to_factor: int = 128,
                                 factor_rules: Mapping[str, str] | None = None
                                 ) -> AdafactorState:
    """Logical axes of each leaf of ``adafactor(...)``'s state, for sharding it.

    ``v`` and ``m`` take the parameter's axes, ``v_row`` drops its column axes, ``v_col``
    its row axes, ``count`` is ``()``. ``params`` may be abstract (``ShapeDtypeStruct``).
    The options must equal those given to :func:`adafactor`. ``AdafactorState`` is a
    NamedTuple: map with ``is_leaf=lambda x: isinstance(x, tuple) and not hasattr(x,
    "_fields")``.
    """
    rules = _merged_rules(factor_rules)
    names, leaves, axes, treedef = _paired_axes(params, logical_axes)
    out = []
    for name, leaf, ax in zip(names, leaves, axes):
        plan = _plan(path=name, axes=ax, shape=tuple(leaf.shape), rules=rules,
                     min_dim_size_to_factor=min_dim_size_to_factor)
        if plan.factored:
            entry = {"v_row": tuple(a for i, a in enumerate(ax) if i not in plan.col_dims),
                     "v_col": tuple(a for i, a in enumerate(ax) if i not in plan.row_dims)}
        else:
            entry = {"v": ax}
        if beta1 is not None:
            entry["m"] = ax
        out.append(entry)
    return AdafactorState((), treedef.unflatten(out))


def adamw(*, learning_rate: float | Schedule, logical_axes: Any, b1: float = 0.9,
          b2: float = 0.999, eps: float = 1e-8, weight_decay: float = 0.0,
          mu_dtype: Any = None) -> optax.GradientTransformation:
    """``optax.adamw`` with weight decay masked off vectors, chosen by logical axes.

    A parameter is decayed iff it has at least two logical axes besides the batch-like
    ``layers``/``stack``: so norm scales, ``(embed,)`` and scanned ``(layers, embed)``, are
    not decayed, while kernels, embeddings and the relative position table are (a
    mask by ``ndim`` would decay the scanned norm scales). As in optax / PyTorch, the
    decay is decoupled and multiplied by the learning rate: ``p -= lr * wd * p``.
    """
    _check_learning_rate(learning_rate)
    for name, value in (("b1", b1), ("b2", b2)):
        if not 0.0 <= value < 1.0:
            raise ConfigError(f"adamw {name}={value!r}; use a value in [0, 1)")
    if not weight_decay >= 0:
        raise ConfigError(f"adamw weight_decay={weight_decay!r}; use a value >= 0")

    def mask(params: Any) -> Any:
        _, _, axes, treedef = _paired_axes(params, logical_axes)
        return treedef.unflatten(
            [len([a for a in ax if a not in (LAYERS, "stack")]) >= 2 for ax in axes])

    return optax.adamw(learning_rate=learning_rate, b1=b1, b2=b2, eps=eps,
                       weight_decay=weight_decay, mu_dtype=mu_dtype, mask=mask)


def learning_rate_schedule(*, base_learning_rate: float, warmup_steps: int = 0,
                           decay: Literal["constant", "rsqrt", "t5x_rsqrt", "linear"]
                           = "constant", total_steps: int | None = None,
                           final_learning_rate: float = 0.0,
                           warmup_init: float = 0.0) -> Schedule:
    """A schedule ``step -> learning rate`` (float32), ``step`` counting from 0.

    For ``step < warmup_steps`` (all decays but ``t5x_rsqrt``) the rate rises linearly:
    ``warmup_init + (base - warmup_init) * step / warmup_steps``; from ``warmup_steps`` on:

    * ``constant``: ``base``.
    * ``rsqrt``: ``base * sqrt(warmup_steps / step)``, continuous at ``warmup_steps`` (t5x's
      ``constant * linear_warmup * rsqrt_normalized_decay`` when ``warmup_init`` is 0).
    * ``t5x_rsqrt``: t5x's pretraining ``constant * rsqrt_decay``, exactly:
      ``base / sqrt(max(step, warmup_steps))`` at every step, no ramp. With base 1.0 and
      warmup_steps 10000 (t5x/configs/runs/pretrain.gin) that is 0.01 up to step 10000,
      then ``1/sqrt(step)`` (0.005 at step 40000). t5x also floors it at 1e-8.
    * ``linear``: from ``base`` at ``warmup_steps`` down to ``final_learning_rate`` at
      ``total_steps`` (required), then flat. The paper's recipe: base 3e-5, warmup 1000,
      total 20000.
    """
    if decay not in DECAYS:
        raise ConfigError(f"decay={decay!r}; choose one of {list(DECAYS)}")
    if not base_learning_rate > 0:
        raise ConfigError(f"base_learning_rate={base_learning_rate!r}; use a value > 0")
    if isinstance(warmup_steps, bool) or not isinstance(warmup_steps, int) or warmup_steps < 0:
        raise ConfigError(f"warmup_steps={warmup_steps!r}; use an int >= 0")
    if decay in ("rsqrt", "t5x_rsqrt") and warmup_steps < 1:
        raise ConfigError(f"decay={decay!r} divides by sqrt(warmup_steps); warmup_steps="
                          f"{warmup_steps} must be >= 1 (t5x pretraining uses 10000)")
    if decay == "t5x_rsqrt" and warmup_init != 0.0:
        raise ConfigError(f"decay='t5x_rsqrt' has no warmup ramp, so warmup_init="
                          f"{warmup_init!r} would be ignored; leave it 0 or use 'rsqrt'")
    if decay == "linear" and (total_steps is None or total_steps <= warmup_steps):
        raise ConfigError(f"decay='linear' needs total_steps > warmup_steps={warmup_steps}, "
                          f"got total_steps={total_steps!r}")
    base, init, final = float(base_learning_rate), float(warmup_init), float(final_learning_rate)

    def schedule(step: jax.Array) -> jax.Array:
        s = jnp.asarray(step, jnp.float32)
        if decay == "t5x_rsqrt":
            return base / jnp.sqrt(jnp.maximum(s, float(warmup_steps)))
        if decay == "constant":
            after = jnp.full_like(s, base)
        elif decay == "rsqrt":
            after = base * jnp.sqrt(warmup_steps / jnp.maximum(s, float(warmup_steps)))
        else:
            left = jnp.clip((total_steps - s) / (total_steps - warmup_steps), 0.0, 1.0)
            after = final + (base - final) * left
        if warmup_steps == 0:
            return after
        ramp = init + (base - init) * s / warmup_steps
        return jnp.where(s < warmup_steps, ramp, after)

    return schedule


_BUILDERS: dict[str, Callable[..., optax.GradientTransformation]] = {
    "adafactor": adafactor, "adamw": adamw}


def make_optimizer(*, name: Literal["adafactor", "adamw"], learning_rate: float | Schedule,
                   logical_axes: Any, **kwargs: Any) -> optax.GradientTransformation:
    """``adafactor(...)`` or ``adamw(...)`` by name; ``kwargs`` are that function's options."""
    if name not in _BUILDERS:
        raise ConfigError(f"unknown optimizer {name!r}; choose one of {list(OPTIMIZER_NAMES)}")
    build = _BUILDERS[name]
    options = sorted(set(inspect.signature(build).parameters) - {"learning_rate",
                                                                 "logical_axes"})
    unknown = sorted(set(kwargs) - set(options))
    if unknown:
        raise ConfigError(f"{name} has no option(s) {unknown}; its options are {options}")
    return build(learning_rate=learning_rate, logical_axes=logical_axes, **kwargs)
