"""Optimizers: Adafactor against a slow float64 twin of t5x's Adafactor, state shapes,
factoring rules, schedules, the AdamW decay mask, dispatch and jit."""
from __future__ import annotations

import math
from collections import defaultdict

import jax
import jax.numpy as jnp
import numpy as np
import pytest

import symjax.model as m
from symjax.errors import ConfigError
from symjax.train.optimizers import (AdafactorState, adafactor, adafactor_state_logical_axes,
                                     adamw, learning_rate_schedule, make_optimizer)

SMALL = m.from_name("tiny", vocab_size=64)  # tiny's real tree, a vocabulary the twin can loop over


def _is_axes(x):
    return isinstance(x, tuple) and not hasattr(x, "_fields")


def _is_stat(x):
    return isinstance(x, dict) and ("v" in x or "v_row" in x)


def _named(tree, is_leaf=None):
    flat = jax.tree_util.tree_flatten_with_path(tree, is_leaf=is_leaf)[0]
    return {"/".join(str(k.key) for k in path): leaf for path, leaf in flat}


@pytest.fixture(scope="module")
def small():
    """tiny's parameter tree and axes, filled with random values of varied scale (compiling
    the real initialiser costs seconds; the optimizer only sees shapes, axes and values)."""
    abstract = jax.eval_shape(lambda: m.init_params(config=SMALL, rng=jax.random.key(0)))
    rng = np.random.default_rng(1)
    params = jax.tree.map(
        lambda a: jnp.asarray(rng.normal(size=a.shape) * 10.0 ** rng.uniform(-3, 0), a.dtype),
        abstract)
    return params, m.param_logical_axes(config=SMALL)


# ---------------------------------------------------------------------------------------------
# The twin: t5x's Adafactor restated per parameter in float64 with explicit loops.

# t5x/adafactor.py standard_logical_factor_rules(), the names symjax uses.
TWIN_RULES = {"vocab": "column", "embed": "row", "mlp": "column", "heads": "column",
              "kv": "column", "relpos_buckets": "none", "layers": "batch"}


def twin_plan(axes, shape, min_dim):
    """(row dims, column dims, batch dims), as t5x's set_param_axes + _parse_rule decide."""
    roles = [TWIN_RULES[a] for a in axes]
    batch = [i for i, r in enumerate(roles) if r == "batch"]
    if len(shape) <= 2 and not batch:  # t5x ignores the rule: shape heuristic
        if len(shape) == 2 and min(shape) >= min_dim:
            row = 0 if shape[0] <= shape[1] else 1
            return [row], [1 - row], []
        return [], [], []
    if "row" not in roles or "column" not in roles:
        return [], [], batch
    return ([i for i, r in enumerate(roles) if r == "row"],
            [i for i, r in enumerate(roles) if r == "column"], batch)


def twin_step(p, g, st, *, count, lr, plan, hp):
    """One parameter, one step; returns (new param, new state)."""
    rows, cols, batch = plan
    shape = p.shape
    idx_all = list(np.ndindex(shape))
    pick = lambda idx, dims: tuple(idx[i] for i in dims)  # noqa: E731
    n_avg = math.prod(shape[i] for i in range(p.ndim) if i not in batch)
    t = count - hp["step_offset"]
    beta2 = 1.0 - (t + 1.0) ** -hp["decay_rate"]
    g2 = g * g + hp["epsilon1"]
    y = np.zeros(shape)
    new = {}
    if rows:
        keep_r = [d for d in range(p.ndim) if d not in cols]  # dims of v_row
        keep_c = [d for d in range(p.ndim) if d not in rows]
        n_rows, n_cols = math.prod(shape[d] for d in rows), math.prod(shape[d] for d in cols)
        sum_r, sum_c = defaultdict(float), defaultdict(float)
        for idx in idx_all:
            sum_r[pick(idx, keep_r)] += g2[idx]
            sum_c[pick(idx, keep_c)] += g2[idx]
        v_row, v_col = np.zeros(st["v_row"].shape), np.zeros(st["v_col"].shape)
        for k in np.ndindex(v_row.shape):
            v_row[k] = beta2 * st["v_row"][k] + (1 - beta2) * sum_r[k] / n_cols
        for k in np.ndindex(v_col.shape):
            v_col[k] = beta2 * st["v_col"][k] + (1 - beta2) * sum_c[k] / n_rows
        row_mean = defaultdict(float)  # mean of v_row over the rows, per batch index
        for k in np.ndindex(v_row.shape):
            row_mean[tuple(k[j] for j, d in enumerate(keep_r) if d in batch)] += v_row[k] / n_rows
        for idx in idx_all:
            v_hat = v_row[pick(idx, keep_r)] / row_mean[pick(idx, batch)] * v_col[pick(idx, keep_c)]
            y[idx] = g[idx] / math.sqrt(v_hat)
        new.update(v_row=v_row, v_col=v_col)
    else:
        v = np.zeros(shape)
        for idx in idx_all:
            v[idx] = beta2 * st["v"][idx] + (1 - beta2) * g2[idx]
            y[idx] = g[idx] / math.sqrt(v[idx])
        new["v"] = v
    if hp["clipping_threshold"] is not None:
        mean_sq = defaultdict(float)
        for idx in idx_all:
            mean_sq[pick(idx, batch)] += y[idx] ** 2 / n_avg
        for idx in idx_all:
            y[idx] /= max(1.0, math.sqrt(mean_sq[pick(idx, batch)]) / hp["clipping_threshold"])
    scale = defaultdict(lambda: lr)
    if hp["multiply_by_parameter_scale"]:
        p_sq = defaultdict(float)
        for idx in idx_all:
            p_sq[pick(idx, batch)] += p[idx] ** 2 / n_avg
        scale = {b: lr * max(hp["epsilon2"], math.sqrt(s)) for b, s in p_sq.items()}
    step = np.zeros(shape)
    for idx in idx_all:
        step[idx] = scale[pick(idx, batch)] * y[idx]
    if hp["beta1"] is not None:
        step = hp["beta1"] * st["m"] + (1 - hp["beta1"]) * step
        new["m"] = step
    decay = 1.0 - (hp["weight_decay_rate"] or 0.0)
    return decay * p - step, new


CASES = {
    "t5x_defaults": dict(learning_rate=1e-2, min_dim_size_to_factor=4, start=0),
    "all_options": dict(
        learning_rate=learning_rate_schedule(base_learning_rate=0.05, warmup_steps=105,
                                             decay="rsqrt"),
        beta1=0.9, clipping_threshold=0.5, weight_decay_rate=1e-3, decay_rate=0.7,
        step_offset=100, epsilon2=0.2, min_dim_size_to_factor=4, start=103),
    "no_scale_no_clip": dict(learning_rate=3e-3, multiply_by_parameter_scale=False,
                             clipping_threshold=None, start=0),  # min_dim 128: 2-D unfactored
}


@pytest.mark.parametrize("case", sorted(CASES))
def test_adafactor_matches_slow_t5x_twin(small, case):
    params, axes = small
    options = dict(CASES[case])
    start = options.pop("start")
    hp = dict(decay_rate=0.8, step_offset=0, beta1=None, clipping_threshold=1.0,
              epsilon1=1e-30, epsilon2=1e-3, multiply_by_parameter_scale=True,
              min_dim_size_to_factor=128, weight_decay_rate=None)
    hp.update({k: v for k, v in options.items() if k != "learning_rate"})
    lr_of = options["learning_rate"]
    opt = adafactor(logical_axes=axes, **options)
    state = opt.init(params)._replace(count=jnp.asarray(start, jnp.int32))
    update = jax.jit(opt.update)

    names = list(_named(params))
    axes_by_name = _named(axes, is_leaf=_is_axes)
    twin_params = {n: np.asarray(v, np.float64) for n, v in _named(params).items()}
    twin_state = {n: {k: np.asarray(v, np.float64) for k, v in s.items()}
                  for n, s in _named(state.stats, is_leaf=_is_stat).items()}
    rng = np.random.default_rng(0)
    for step in range(5):
        count = start + step
        lr = float(lr_of(count)) if callable(lr_of) else lr_of
        grads_np = {n: rng.normal(size=twin_params[n].shape) * 10.0 ** rng.uniform(-3, 0)
                    for n in names}
        grads = jax.tree_util.tree_unflatten(jax.tree.structure(params),
                                             [jnp.asarray(grads_np[n], jnp.float32) for n in names])
        updates, state = update(grads, state, params)
        params = jax.tree.map(lambda p, u: np.asarray(p) + np.asarray(u), params, updates)
        for n in names:
            plan = twin_plan(axes_by_name[n], twin_params[n].shape, hp["min_dim_size_to_factor"])
            twin_params[n], twin_state[n] = twin_step(
                twin_params[n], grads_np[n].astype(np.float32).astype(np.float64),
                twin_state[n], count=count, lr=lr, plan=plan, hp=hp)
        assert int(state.count) == count + 1
        got_params = _named(params)
        got_stats = _named(state.stats, is_leaf=_is_stat)
        for n in names:
            np.testing.assert_allclose(got_params[n], twin_params[n], rtol=1e-5, atol=1e-7,
                                       err_msg=f"{case} step {step} param {n}")
            assert set(got_stats[n]) == set(twin_state[n]), n
            for k, want in twin_state[n].items():  # momentum sums cancel: absolute slack
                np.testing.assert_allclose(got_stats[n][k], want, rtol=1e-5,
                                           atol=1e-6 * np.abs(want).max(),
                                           err_msg=f"{case} step {step} {n} {k}")


# ---------------------------------------------------------------------------------------------
# State shapes, derived by hand from t5x's rules for tiny (d 8, heads 4, kv 3, 2 layers, ff 16).

def _state_shapes(config, **options):
    abstract = jax.eval_shape(lambda: m.init_params(config=config, rng=jax.random.key(0)))
    opt = adafactor(learning_rate=1e-3, logical_axes=m.param_logical_axes(config=config),
                    **options)
    state = jax.eval_shape(opt.init, abstract)
    stats = _named(state.stats, is_leaf=_is_stat)
    return {n: {k: tuple(v.shape) for k, v in s.items()} for n, s in stats.items()}


def _expected_layer_shapes(d, vocab):
    return {
        "attention/query/kernel": {"v_row": (2, d), "v_col": (2, 4, 3)},   # (L, d, h, kv)
        "attention/out/kernel": {"v_row": (2, d), "v_col": (2, 4, 3)},     # (L, h, kv, d)
        "mlp/wi_0/kernel": {"v_row": (2, d), "v_col": (2, 16)},            # (L, d, mlp)
        "mlp/wo/kernel": {"v_row": (2, d), "v_col": (2, 16)},              # (L, mlp, d)
        "pre_mlp_layer_norm/scale": {"v": (2, d)},                         # (L, d): batch+none
        "encoder_norm/scale": {"v": (d,)},
    }


def test_state_shapes_of_real_tiny_model_with_t5x_defaults():
    shapes = _state_shapes(m.from_name("tiny"))
    for suffix, want in _expected_layer_shapes(8, 32128).items():
        hits = [s for n, s in shapes.items() if n.endswith(suffix)]
        assert hits and all(s == want for s in hits), (suffix, hits)
    # min_dim_size_to_factor=128 does not apply to scanned kernels (batch dim: t5x uses the
    # rule), but rank-2 params fall back to the shape heuristic and d_model 8 < 128:
    assert shapes["decoder/logits_dense/kernel"] == {"v": (8, 32128)}
    assert shapes["token_embedder/embedding"] == {"v": (32128, 8)}
    assert shapes["encoder/relpos_bias/rel_embedding"] == {"v": (4, 32)}


def test_min_dim_size_to_factor_applies_to_rank_two_params_only():
    shapes = _state_shapes(m.from_name("tiny", d_model=128))
    assert shapes["decoder/logits_dense/kernel"] == {"v_row": (128,), "v_col": (32128,)}
    # (vocab, embed): the smaller dim (embed) is the row, whatever the rule says
    assert shapes["token_embedder/embedding"] == {"v_row": (128,), "v_col": (32128,)}
    assert shapes["encoder/relpos_bias/rel_embedding"] == {"v": (4, 32)}
    # relpos (heads 4, buckets 32): rule says (column, none), the heuristic factors it at >= 4
    at4 = _state_shapes(m.from_name("tiny"), min_dim_size_to_factor=4)
    assert at4["encoder/relpos_bias/rel_embedding"] == {"v_row": (4,), "v_col": (32,)}
    at5 = _state_shapes(m.from_name("tiny"), min_dim_size_to_factor=5)
    assert at5["encoder/relpos_bias/rel_embedding"] == {"v": (4, 32)}
    assert at4["encoder/encoder_norm/scale"] == {"v": (8,)}


def test_state_is_a_pytree_of_float32_arrays_with_momentum_when_beta1(small):
    params, axes = small
    state = adafactor(learning_rate=1e-3, logical_axes=axes, beta1=0.9).init(params)
    assert isinstance(state, AdafactorState) and state.count.dtype == jnp.int32
    for name, stat in _named(state.stats, is_leaf=_is_stat).items():
        assert stat["m"].shape == _named(params)[name].shape
    leaves = jax.tree.leaves(state)
    assert all(isinstance(x, jax.Array) for x in leaves)
    assert all(x.dtype == jnp.float32 for x in jax.tree.leaves(state.stats))


def test_state_logical_axes_match_state(small):
    params, axes = small
    options = dict(beta1=0.9, min_dim_size_to_factor=4)
    state = adafactor(learning_rate=1e-3, logical_axes=axes, **options).init(params)
    state_axes = adafactor_state_logical_axes(params=params, logical_axes=axes, **options)
    assert jax.tree.structure(state) == jax.tree.structure(state_axes, is_leaf=_is_axes)
    for leaf, names in zip(jax.tree.leaves(state), jax.tree.leaves(state_axes, is_leaf=_is_axes)):
        assert leaf.ndim == len(names)
    stat = state_axes.stats["encoder"]["layers"]["attention"]["out"]["kernel"]
    assert stat == {"v_row": ("layers", "embed"), "v_col": ("layers", "heads", "kv"),
                    "m": ("layers", "heads", "kv", "embed")}


# ---------------------------------------------------------------------------------------------
# Rules and errors on synthetic trees.

def _synthetic(axes, shape=(2, 3, 5), **options):
    params = {"block": {"kernel": jnp.ones(shape)}}
    opt = adafactor(learning_rate=1e-3, logical_axes={"block": {"kernel": axes}}, **options)
    return opt.init(params).stats["block"]["kernel"]


def test_unknown_axis_names_the_parameter_and_axis():
    with pytest.raises(ConfigError, match=r"block/kernel.*'foo'.*factor_rules"):
        _synthetic(("layers", "embed", "foo"))
    stat = _synthetic(("layers", "embed", "foo"), factor_rules={"foo": "column"})
    assert {k: v.shape for k, v in stat.items()} == {"v_row": (2, 3), "v_col": (2, 5)}


def test_half_factorizations_are_unfactored_and_incomplete_specs_rejected():
    assert _synthetic(("layers", "mlp", "relpos_buckets"))["v"].shape == (2, 3, 5)
    with pytest.raises(ConfigError, match="relpos_buckets"):
        _synthetic(("embed", "mlp", "relpos_buckets"))
    with pytest.raises(ConfigError, match=r"shape \(2, 3, 5\).*\('embed', 'mlp'\)"):
        _synthetic(("embed", "mlp"))
    with pytest.raises(ConfigError, match="'sideways'"):
        _synthetic(("layers", "embed", "mlp"), factor_rules={"mlp": "sideways"})


def test_axes_tree_must_match_params(small):
    params, axes = small
    opt = adafactor(learning_rate=1e-3, logical_axes={"encoder": axes["encoder"]})
    with pytest.raises(ConfigError, match="decoder/"):
        opt.init(params)


@pytest.mark.parametrize("bad", [dict(learning_rate=0.0), dict(learning_rate="1e-3"),
                                 dict(beta1=1.0), dict(clipping_threshold=0.0)])
def test_bad_options_raise_config_error(small, bad):
    options = {"learning_rate": 1e-3, "logical_axes": small[1], **bad}
    with pytest.raises(ConfigError, match=repr(next(iter(bad.values())))):
        adafactor(**options)


def test_init_and_update_jit_and_keep_the_state_structure(small):
    # (the twin test above runs the jitted update; eager dispatch would take seconds here)
    params, axes = ({"decoder": tree["decoder"]} for tree in small)
    opt = adafactor(learning_rate=1e-3, logical_axes=axes, beta1=0.5, weight_decay_rate=1e-4)
    state = jax.jit(opt.init)(params)
    grads = jax.tree.map(lambda p: np.cos(np.asarray(p) * 3.0 + 1.0), params)
    updates, new_state = jax.jit(opt.update)(grads, state, params)
    assert jax.tree.structure(updates) == jax.tree.structure(params)
    assert jax.tree.structure(new_state) == jax.tree.structure(state)
    assert int(new_state.count) == 1
    assert all(np.isfinite(np.asarray(x)).all() for x in jax.tree.leaves((updates, new_state)))
    with pytest.raises(ConfigError, match="needs params"):
        opt.update(grads, state)


# ---------------------------------------------------------------------------------------------
# Schedules.

SCHEDULES = [
    # (options, {step: learning rate})
    (dict(base_learning_rate=1e-3, warmup_steps=10),
     {0: 0.0, 9: 9e-4, 10: 1e-3, 50: 1e-3, 10**6: 1e-3}),
    (dict(base_learning_rate=1e-3, warmup_steps=10, warmup_init=1e-4),
     {0: 1e-4, 5: 5.5e-4, 9: 9.1e-4, 10: 1e-3}),
    (dict(base_learning_rate=1e-3), {0: 1e-3, 7: 1e-3}),
    (dict(base_learning_rate=1e-2, warmup_steps=100, decay="rsqrt"),
     {0: 0.0, 99: 9.9e-3, 100: 1e-2, 400: 5e-3, 10000: 1e-3}),
    (dict(base_learning_rate=1.0, warmup_steps=10000, decay="t5x_rsqrt"),  # t5x pretrain.gin
     {0: 0.01, 9999: 0.01, 10000: 0.01, 40000: 0.005, 10**6: 0.001}),
    (dict(base_learning_rate=3e-5, warmup_steps=1000, decay="linear", total_steps=20000),
     {0: 0.0, 999: 2.997e-5, 1000: 3e-5, 10500: 1.5e-5, 20000: 0.0, 25000: 0.0}),
    (dict(base_learning_rate=3e-5, warmup_steps=1000, decay="linear", total_steps=20000,
          final_learning_rate=1e-6),
     {1000: 3e-5, 10500: 1.55e-5, 20000: 1e-6, 30000: 1e-6}),
]


@pytest.mark.parametrize("options,expected", SCHEDULES)
def test_schedule_values(options, expected):
    schedule = learning_rate_schedule(**options)
    jitted = jax.jit(schedule)
    for step, want in expected.items():
        assert float(schedule(step)) == pytest.approx(want, rel=1e-6, abs=1e-12), step
        assert float(jitted(jnp.asarray(step, jnp.int32))) == pytest.approx(want, rel=1e-6,
                                                                            abs=1e-12)


@pytest.mark.parametrize("options,match", [
    (dict(decay="linear"), "total_steps"),
    (dict(decay="linear", warmup_steps=10, total_steps=10), "total_steps=10"),
    (dict(decay="cosine"), "'cosine'.*constant"),
    (dict(decay="rsqrt"), "warmup_steps=0"),
    (dict(decay="t5x_rsqrt", warmup_steps=5, warmup_init=1e-4), "warmup_init"),
    (dict(warmup_steps=-1), "warmup_steps=-1"),
    (dict(base_learning_rate=0.0), "base_learning_rate=0.0"),
])
def test_schedule_errors(options, match):
    with pytest.raises(ConfigError, match=match):
        learning_rate_schedule(**{"base_learning_rate": 1e-3, **options})


# ---------------------------------------------------------------------------------------------
# AdamW and dispatch.

def test_adamw_decays_kernels_but_not_norm_scales(small):
    params, axes = small
    opt = adamw(learning_rate=1.0, logical_axes=axes, weight_decay=0.1)
    zeros = jax.tree.map(lambda p: np.zeros(p.shape, np.float32), params)
    updates, _ = jax.jit(opt.update)(zeros, jax.jit(opt.init)(params), params)
    got, ps, ax = _named(updates), _named(params), _named(axes, is_leaf=_is_axes)
    for name, update in got.items():
        is_norm = name.endswith("/scale")
        assert (set(ax[name]) <= {"layers", "embed"}) == is_norm, name
        want = np.zeros_like(ps[name]) if is_norm else -0.1 * np.asarray(ps[name])
        np.testing.assert_allclose(update, want, rtol=1e-6, atol=1e-9, err_msg=name)


def test_make_optimizer_dispatches_and_rejects_unknowns(small):
    params, axes = small
    grads = params
    for name, kwargs in (("adafactor", dict(beta1=0.9)), ("adamw", dict(weight_decay=0.01))):
        opt = make_optimizer(name=name, learning_rate=1e-3, logical_axes=axes, **kwargs)
        updates, _ = jax.eval_shape(opt.update, grads, jax.eval_shape(opt.init, params), params)
        assert jax.tree.structure(updates) == jax.tree.structure(params)
    with pytest.raises(ConfigError, match=r"'sgd'.*'adafactor', 'adamw'"):
        make_optimizer(name="sgd", learning_rate=1e-3, logical_axes=axes)
    with pytest.raises(ConfigError, match=r"\['b3'\].*'b1'"):
        make_optimizer(name="adamw", learning_rate=1e-3, logical_axes=axes, b3=0.5)
