"""Partitioning: logical axis rules, the device mesh, and shardings of parameters.

A rule table is a tuple of ``(logical axis, mesh axis or None)`` pairs, read in order of
priority exactly as flax / t5x read them: for an array with logical axes ``(a1, a2, ...)``,
each rule in turn assigns its mesh axis to its logical axis if that array dimension is
still unassigned and the mesh axis is not used yet by another dimension of the same
array. Dimensions no rule assigns are replicated. So ``("embed", "model")`` followed by
``("embed", "data")`` shards an activation ``(batch, length, embed)`` as
``(data, None, model)`` and a kernel ``(embed, mlp)`` as ``(data, model)``.

The tables below are t5x's ``standard_logical_axis_rules`` written out
(``t5x/partitioning.py``); ``joined_kv`` is absent because symjax keeps attention kernels
3-D (``heads`` and ``kv`` separate), and ``relpos_buckets`` and ``layers`` are listed with
the replicated axes (t5x replicates ``layers`` too). Every logical axis the model uses must appear in the table: an unknown name is a
:class:`ShardingError`, not a silent replication.
"""
from __future__ import annotations

import contextlib
from typing import Any, Iterator, Sequence

import flax.linen as nn
import jax
import numpy as np
from jax.sharding import Mesh, NamedSharding, PartitionSpec

from symjax.errors import ShardingError
from symjax.model import (BATCH, EMBED, HEADS, KV, LAYERS, LENGTH, MLP, RELPOS_BUCKETS,
                          VOCAB, T5Config)

__all__ = [
    "DATA", "MODEL", "MESH_AXES",
    "LogicalAxisRules",
    "RULES_1D", "RULES_2D_ACTIVATIONS", "RULES_2D_PARAMETERS", "RULES_2D",
    "standard_logical_axis_rules",
    "make_mesh", "parse_mesh_spec",
    "logical_to_mesh_axes", "logical_sharding", "param_shardings",
    "check_config_fits_mesh", "batch_size_fits", "sharding_context", "opt_state_shardings",
]

# Mesh axis names.
DATA = "data"
MODEL = "model"
MESH_AXES = (DATA, MODEL)

LogicalAxisRules = tuple[tuple[str, str | None], ...]

# Axes that stay replicated under every table.
_REPLICATED: LogicalAxisRules = (
    (KV, None),
    (LENGTH, None),
    (RELPOS_BUCKETS, None),
    (LAYERS, None),  # the stacked axis of scanned layers: every device holds all layers
)

# 1-D activations, 1-D parameters (t5x's default): batch over data; vocab, mlp and heads
# over model (Megatron-style tensor parallelism); embed replicated.
RULES_1D: LogicalAxisRules = (
    (BATCH, DATA),
    (VOCAB, MODEL),
    (EMBED, None),
    (MLP, MODEL),
    (HEADS, MODEL),
) + _REPLICATED

# 2-D activations: activations additionally sharded on embed over model.
RULES_2D_ACTIVATIONS: LogicalAxisRules = (
    (BATCH, DATA),
    (VOCAB, MODEL),
    (MLP, MODEL),
    (HEADS, MODEL),
    (EMBED, MODEL),
) + _REPLICATED

# 2-D parameters: parameters additionally sharded on embed over data (ZeRO-3 like).
RULES_2D_PARAMETERS: LogicalAxisRules = (
    (BATCH, DATA),
    (VOCAB, MODEL),
    (MLP, MODEL),
    (HEADS, MODEL),
    (EMBED, DATA),
) + _REPLICATED

# 2-D activations and 2-D parameters.
RULES_2D: LogicalAxisRules = (
    (BATCH, DATA),
    (VOCAB, MODEL),
    (MLP, MODEL),
    (HEADS, MODEL),
    (EMBED, MODEL),
    (EMBED, DATA),
) + _REPLICATED

_TABLES = {
    (1, 1): RULES_1D,
    (2, 1): RULES_2D_ACTIVATIONS,
    (1, 2): RULES_2D_PARAMETERS,
    (2, 2): RULES_2D,
}


def standard_logical_axis_rules(*, activation_partitioning_dims: int = 1,
                                parameter_partitioning_dims: int = 1,
                                additional_rules: Sequence[tuple[str, str | None]] = ()
                                ) -> LogicalAxisRules:
    """t5x's rule tables by name; ``additional_rules`` come first (they take priority)."""
    key = (activation_partitioning_dims, parameter_partitioning_dims)
    if key not in _TABLES:
        raise ShardingError(
            f"activation_partitioning_dims={activation_partitioning_dims}, "
            f"parameter_partitioning_dims={parameter_partitioning_dims}: each must be 1 or 2"
        )
    return tuple((str(a), m) for a, m in additional_rules) + _TABLES[key]


# ---------------------------------------------------------------------------------------
# Mesh
# ---------------------------------------------------------------------------------------
def make_mesh(*, data: int, model: int, devices: Sequence[jax.Device] | None = None) -> Mesh:
    """A ``(data, model)`` mesh over ``devices`` (default: all devices).

    ``data * model`` must equal the number of devices. On TPU the device order comes from
    ``jax.make_mesh`` (ICI-aware), so ``model`` neighbours are physical neighbours.
    """
    devices = list(jax.devices() if devices is None else devices)
    if data < 1 or model < 1:
        raise ShardingError(f"mesh axes must be >= 1, got data={data}, model={model}")
    if data * model != len(devices):
        raise ShardingError(
            f"mesh data={data} x model={model} = {data * model} devices, but "
            f"{len(devices)} are available ({devices[0].platform}); choose axes whose "
            "product is the device count"
        )
    return jax.make_mesh((data, model), MESH_AXES,
                         axis_types=(jax.sharding.AxisType.Auto,) * 2, devices=devices)


def parse_mesh_spec(spec: str) -> dict[str, int]:
    """``"data:2,model:4"`` -> ``{"data": 2, "model": 4}`` (missing axes are 1)."""
    sizes = {DATA: 1, MODEL: 1}
    for part in filter(None, (p.strip() for p in spec.split(","))):
        name, _, value = part.partition(":")
        if name not in sizes or not value.isdigit():
            raise ShardingError(
                f"bad mesh spec {spec!r} at {part!r}; write e.g. 'data:2,model:4' with axes "
                f"{MESH_AXES}"
            )
        sizes[name] = int(value)
    return sizes


def _describe(mesh: Mesh) -> str:
    return ", ".join(f"{name}={size}" for name, size in mesh.shape.items())


# ---------------------------------------------------------------------------------------
# Logical -> mesh
# ---------------------------------------------------------------------------------------
def logical_to_mesh_axes(*, logical_axes: Sequence[str | None], rules: LogicalAxisRules
                         ) -> PartitionSpec:
    """The PartitionSpec the rules give an array with these logical axes (see module doc)."""
    known = {name for name, _ in rules}
    for axis in logical_axes:
        if axis is not None and axis not in known:
            raise ShardingError(
                f"logical axis {axis!r} has no rule; the table covers {sorted(known)}. Add "
                f"({axis!r}, None) to replicate it or map it to a mesh axis"
            )
    names = [a for a in logical_axes if a is not None]
    if len(set(names)) != len(names):
        raise ShardingError(f"logical axes {tuple(logical_axes)} name an axis twice")
    assigned: list[str | None] = [None] * len(logical_axes)
    decided = [axis is None for axis in logical_axes]
    used: set[str] = set()
    for logical, mesh_axis in rules:
        if logical not in logical_axes:
            continue
        position = list(logical_axes).index(logical)
        if decided[position] or (mesh_axis is not None and mesh_axis in used):
            continue
        assigned[position] = mesh_axis
        decided[position] = True
        if mesh_axis is not None:
            used.add(mesh_axis)
    return PartitionSpec(*assigned)


def logical_sharding(*, shape: Sequence[int], logical_axes: Sequence[str | None],
                     rules: LogicalAxisRules, mesh: Mesh, name: str = "array") -> NamedSharding:
    """NamedSharding for one array; raises :class:`ShardingError` if an axis does not divide.

    The message names the array, its shape, the axis and the mesh.
    """
    shape = tuple(int(d) for d in shape)
    if len(shape) != len(logical_axes):
        raise ShardingError(
            f"{name}: shape {shape} has {len(shape)} axes but logical axes "
            f"{tuple(logical_axes)} name {len(logical_axes)}"
        )
    spec = logical_to_mesh_axes(logical_axes=logical_axes, rules=rules)
    for dim, (size, mesh_axis) in enumerate(zip(shape, spec)):
        if mesh_axis is None:
            continue
        if mesh_axis not in mesh.shape:
            raise ShardingError(
                f"{name}: rules map {logical_axes[dim]!r} to mesh axis {mesh_axis!r}, which "
                f"the mesh ({_describe(mesh)}) lacks"
            )
        parts = mesh.shape[mesh_axis]
        if size % parts:
            raise ShardingError(
                f"{name} of shape {shape}: axis {dim} ({logical_axes[dim]!r}, size {size}) "
                f"does not divide mesh axis {mesh_axis!r} of size {parts} (mesh "
                f"{_describe(mesh)}); pick a mesh whose {mesh_axis!r} size divides {size}, "
                f"or map {logical_axes[dim]!r} to None in the rules"
            )
    return NamedSharding(mesh, spec)


def _path_name(path: tuple[Any, ...]) -> str:
    parts = []
    for key in path:
        key_name = getattr(key, "key", getattr(key, "name", getattr(key, "idx", key)))
        if key_name == "value":  # the field of a LogicallyPartitioned box
            continue
        parts.append(str(key_name))
    return "/".join(parts)


def _is_box(x: Any) -> bool:
    return isinstance(x, nn.Partitioned)


def param_shardings(*, params: Any, rules: LogicalAxisRules, mesh: Mesh,
                    logical_axes: Any = None) -> Any:
    """A tree of ``NamedSharding`` (same structure as the unboxed params).

    Args:
      params: parameters or their abstract shapes; leaves boxed in
        ``nn.LogicallyPartitioned`` (from ``model.init`` or
        ``symjax.model.abstract_params``) carry their logical axes. Unboxed leaves need
        ``logical_axes``.
      rules: a rule table such as :data:`RULES_1D`.
      mesh: the device mesh (:func:`make_mesh`).
      logical_axes: optional tree of logical-axis tuples matching the unboxed params
        (``symjax.model.param_logical_axes``); overrides the boxes' names.

    Raises:
      ShardingError: naming the parameter, its shape and the mesh, when a dimension does
        not divide its mesh axis, or a parameter has no logical axes.
    """
    if logical_axes is not None:
        unboxed = nn.meta.unbox(params)
        axes_leaves = jax.tree_util.tree_flatten(
            logical_axes, is_leaf=lambda x: isinstance(x, tuple))[0]
        flat, treedef = jax.tree_util.tree_flatten_with_path(unboxed)
        if len(flat) != len(axes_leaves):
            raise ShardingError(
                f"logical_axes has {len(axes_leaves)} leaves but params have {len(flat)}"
            )
        shardings = [
            logical_sharding(shape=np.shape(leaf), logical_axes=axes, rules=rules, mesh=mesh,
                             name=f"parameter {_path_name(path)!r}")
            for (path, leaf), axes in zip(flat, axes_leaves)
        ]
        return jax.tree_util.tree_unflatten(treedef, shardings)

    def one(path: tuple[Any, ...], leaf: Any) -> NamedSharding:
        name = f"parameter {_path_name(path)!r}"
        if not _is_box(leaf):
            raise ShardingError(
                f"{name} carries no logical axes; pass boxed params (model.init / "
                "symjax.model.abstract_params) or logical_axes=param_logical_axes(...)"
            )
        return logical_sharding(shape=leaf.value.shape, logical_axes=leaf.names, rules=rules,
                                mesh=mesh, name=name)

    return jax.tree_util.tree_map_with_path(one, params, is_leaf=_is_box)


def check_config_fits_mesh(*, config: T5Config, mesh: Mesh, rules: LogicalAxisRules) -> None:
    """Raise :class:`ShardingError` naming the config field that does not divide the mesh.

    The same condition as :func:`param_shardings`, said in config terms
    (``num_heads=6 does not divide mesh axis 'model' of size 4``).
    """
    fields = (("num_heads", HEADS, config.num_heads), ("d_ff", MLP, config.d_ff),
              ("vocab_size", VOCAB, config.vocab_size), ("d_model", EMBED, config.d_model),
              ("head_dim", KV, config.head_dim))
    for field, logical, size in fields:
        # Every mesh axis a rule may give this logical axis: which one applies depends on
        # the other axes of each array (2-D tables shard embed over model in activations
        # and over data in kernels), and each occurs for some parameter or activation.
        for rule_axis, mesh_axis in rules:
            if rule_axis != logical or mesh_axis is None:
                continue
            parts = mesh.shape.get(mesh_axis, 1)
            if size % parts:
                raise ShardingError(
                    f"T5 config {config.name!r}: {field}={size} ({logical!r}) does not divide "
                    f"mesh axis {mesh_axis!r} of size {parts} (mesh {_describe(mesh)}); "
                    f"choose a mesh whose {mesh_axis!r} size divides {size}"
                )


@contextlib.contextmanager
def sharding_context(*, mesh: Mesh, rules: LogicalAxisRules) -> Iterator[None]:
    """Activate ``mesh`` and ``rules`` so the model's activation constraints take effect.

    Use around tracing (``jax.jit(...)(...)`` or ``.lower``): the model calls
    ``nn.with_logical_constraint``, which needs both a mesh and a rule table.
    """
    with jax.set_mesh(mesh), nn.logical_axis_rules(rules):
        yield


def batch_size_fits(*, batch_size: int, mesh: Mesh, rules: LogicalAxisRules) -> None:
    """Raise :class:`ShardingError` if ``batch_size`` does not divide the batch mesh axis."""
    mesh_axis = logical_to_mesh_axes(logical_axes=(BATCH,), rules=rules)[0]
    if mesh_axis is not None and batch_size % mesh.shape[mesh_axis]:
        raise ShardingError(
            f"batch size {batch_size} does not divide mesh axis {mesh_axis!r} of size "
            f"{mesh.shape[mesh_axis]} (mesh {_describe(mesh)})"
        )



def opt_state_shardings(*, opt_state: Any, params: Any, shardings: Any, mesh: Mesh) -> Any:
    """Shardings for an optimizer state: each leaf that is a parameter's copy (AdamW's
    moments, Adafactor's unfactored second moments and momentum: same shape, and the
    parameter's path inside the leaf's path) is sharded like that parameter; the rest
    (counters, Adafactor's factored row and column statistics, a few KB to MB) is
    replicated.

    The optimizer's ``init`` builds its state from zeros, so XLA's sharding propagation
    does not carry the parameters' shardings to it: without this, AdamW's two moments
    would be replicated on every device (3 x the sharded parameters for XL on 4 chips).
    """
    by_path: dict[tuple[str, ...], tuple[tuple[int, ...], Any]] = {}
    for (path, leaf), sharding in zip(jax.tree_util.tree_flatten_with_path(params)[0],
                                      jax.tree.leaves(shardings)):
        by_path[tuple(jax.tree_util.keystr((k,)) for k in path)] = (tuple(np.shape(leaf)),
                                                                      sharding)
    replicated = NamedSharding(mesh, PartitionSpec())

    def one(path: tuple[Any, ...], leaf: Any) -> Any:
        keys = tuple(jax.tree_util.keystr((k,)) for k in path)
        shape = tuple(np.shape(leaf))
        for start in range(len(keys)):
            for end in range(len(keys), start, -1):
                hit = by_path.get(keys[start:end])
                if hit is not None and hit[0] == shape:
                    return hit[1]
        return replicated

    return jax.tree_util.tree_map_with_path(one, opt_state)
