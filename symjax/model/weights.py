"""Weights in and out: Hugging Face safetensors, t5x checkpoints, symjax's own format.

* :func:`import_hf_checkpoint` reads a ``google/flan-t5-*`` directory (``config.json`` and
  ``model.safetensors`` or sharded ``model-0000x-of-0000y.safetensors``).
* :func:`import_t5x_checkpoint` reads a t5x ``checkpoint_N`` directory, in either of t5x's
  layouts: the tensorstore layout (a msgpack ``checkpoint`` file plus one zarr array per
  parameter, e.g. ``target.encoder.layers_0.attention.query.kernel/``; the published
  Flan-T5 checkpoints use it) or the orbax layout (``state/`` with ``_METADATA``, OCDBT).
  t5x stores no model config, so the config is an argument (``from_name("xl")``).
* :func:`save_checkpoint` / :func:`load_checkpoint`: symjax's own format, a directory with
  ``config.json`` and an orbax checkpoint ``params/``; the round trip is exact, and
  :func:`load_checkpoint` can restore straight onto ``NamedSharding``s.

Every importer builds the full expected name list from the config
(:mod:`symjax.model.layouts`: one row per source tensor, with its symjax path, layer index on the
stacked ``layers`` axis, expected shape and transform), so a missing, extra or mis-shaped
tensor is a :class:`CheckpointError` that names it, and a checkpoint of another size fails
first with the config fields that differ (``d_model: expected 2048, found 768``). Checkpoint paths must be local (copy
``gs://`` checkpoints first, e.g. ``gsutil -m cp -r``).
"""
from __future__ import annotations

import json
import os
import re
from typing import Any, Callable, Iterator, Mapping

import flax.linen as nn
import jax
import numpy as np

from symjax.errors import CheckpointError, OutputError, SymjaxError
from symjax.model.config import T5Config, config_mismatches, from_hf_config
from symjax.model.layouts import (
    HF_EMBEDDING_ALIASES,
    HF_IGNORED,
    LayoutEntry,
    ParamPath,
    hf_layout,
    t5x_layout,
)
from symjax.model.t5 import abstract_params

__all__ = [
    "import_hf_checkpoint",
    "import_t5x_checkpoint",
    "save_checkpoint",
    "load_checkpoint",
    "read_checkpoint_config",
    "FORMAT_VERSION",
]

FORMAT_VERSION = "symjax.t5/1"
_CONFIG_FILE = "config.json"
_PARAMS_DIR = "params"
_MAX_NAMES_SHOWN = 8

Params = dict[str, Any]


# ---------------------------------------------------------------------------------------
# Shared import machinery
# ---------------------------------------------------------------------------------------
def _names(names: Any) -> str:
    names = sorted(names)
    shown = ", ".join(names[:_MAX_NAMES_SHOWN])
    more = f" (and {len(names) - _MAX_NAMES_SHOWN} more)" if len(names) > _MAX_NAMES_SHOWN else ""
    return shown + more


def _set_path(tree: dict[str, Any], path: ParamPath, value: Any) -> None:
    for key in path[:-1]:
        tree = tree.setdefault(key, {})
    tree[path[-1]] = value


# Where each layout keeps the tensors that reveal a checkpoint's size:
# (embedding [vocab, d_model], first encoder wi_0 and its d_ff axis, first encoder query and
# its inner axis, encoder relative bias and its heads axis, layer-index patterns).
_SIZE_PROBES = {
    "hf": dict(embedding="shared.weight",
               wi_0=("encoder.block.0.layer.1.DenseReluDense.wi_0.weight", 0),
               query=("encoder.block.0.layer.0.SelfAttention.q.weight", 0),
               relpos=("encoder.block.0.layer.0.SelfAttention.relative_attention_bias.weight",
                       1, 0),
               layers=(r"^encoder\.block\.(\d+)\.", r"^decoder\.block\.(\d+)\.")),
    "t5x": dict(embedding="token_embedder/embedding",
                wi_0=("encoder/layers_0/mlp/wi_0/kernel", 1),
                query=("encoder/layers_0/attention/query/kernel", 1),
                relpos=("encoder/relpos_bias/rel_embedding", 0, 1),
                layers=(r"^encoder/layers_(\d+)/", r"^decoder/layers_(\d+)/")),
}


def _size_mismatches(available: Mapping[str, tuple[int, ...]], kind: str,
                     config: T5Config) -> list[str]:
    """``field: expected X, found Y`` for every size field the checkpoint reveals."""
    probe = _SIZE_PROBES[kind]
    found: dict[str, int] = {}
    if len(available.get(probe["embedding"], ())) == 2:
        found["vocab_size"], found["d_model"] = available[probe["embedding"]]
    name, axis = probe["wi_0"]
    if name in available and len(available[name]) == 2:
        found["d_ff"] = available[name][axis]
    name, axis = probe["query"]
    if name in available and len(available[name]) == 2:
        found["num_heads * head_dim"] = available[name][axis]
    name, heads_axis, buckets_axis = probe["relpos"]
    if name in available and len(available[name]) == 2:
        found["num_heads"] = available[name][heads_axis]
        found["relative_attention_num_buckets"] = available[name][buckets_axis]
    for field, pattern in zip(("num_encoder_layers", "num_decoder_layers"), probe["layers"]):
        indices = [int(m.group(1)) for m in map(re.compile(pattern).match, available) if m]
        if indices:
            found[field] = max(indices) + 1
    expected = {field: getattr(config, field) for field in found if hasattr(config, field)}
    expected["num_heads * head_dim"] = config.inner_dim
    return [f"{field}: expected {expected[field]}, found {value}"
            for field, value in found.items() if expected[field] != value]


def _convert(*, entries: list[LayoutEntry], available: Mapping[str, tuple[int, ...]],
             read: Callable[[str], np.ndarray], ignored: set[str], config: T5Config,
             source: str, kind: str) -> Params:
    """Check size, names and shapes against ``entries``, then read and transform each."""
    mismatches = _size_mismatches(available, kind, config)
    if mismatches:
        raise CheckpointError(
            f"{source} is not of size {config.name!r}: " + "; ".join(mismatches)
        )
    expected = {e.source for e in entries}
    missing = expected - set(available)
    extra = set(available) - expected - ignored
    if missing or extra:
        parts = []
        if missing:
            parts.append(f"missing {len(missing)} tensor(s): {_names(missing)}")
        if extra:
            parts.append(f"unexpected {len(extra)} tensor(s): {_names(extra)}")
        raise CheckpointError(
            f"{source} does not match T5 config {config.name!r} "
            f"({config.num_encoder_layers}+{config.num_decoder_layers} layers): "
            + "; ".join(parts)
        )
    for entry in entries:
        shape = tuple(available[entry.source])
        if shape not in entry.source_shapes:
            raise CheckpointError(
                f"{source}: tensor {entry.source!r} has shape {shape}, but T5 config "
                f"{config.name!r} expects {entry.source_shapes[0]} (d_model={config.d_model}, "
                f"num_heads={config.num_heads}, head_dim={config.head_dim}, d_ff={config.d_ff}, "
                f"vocab_size={config.vocab_size}); is the checkpoint of another size?"
            )
    dtype = config.storage_dtype
    num_layers = {"encoder": config.num_encoder_layers, "decoder": config.num_decoder_layers}
    params: Params = {}
    stacks: dict[ParamPath, np.ndarray] = {}
    for entry in entries:
        value = entry.transform(np.asarray(read(entry.source))).astype(dtype)
        if entry.layer is None:
            _set_path(params, entry.target, value)
            continue
        if entry.target not in stacks:
            stacks[entry.target] = np.empty((num_layers[entry.target[0]],) + value.shape, dtype)
            _set_path(params, entry.target, stacks[entry.target])
        stacks[entry.target][entry.layer] = value
    return params


# ---------------------------------------------------------------------------------------
# Hugging Face
# ---------------------------------------------------------------------------------------
def _safetensors_files(directory: str) -> list[str]:
    index = os.path.join(directory, "model.safetensors.index.json")
    if os.path.exists(index):
        weight_map = _read_json(index).get("weight_map")
        if not isinstance(weight_map, dict):
            raise CheckpointError(f"{index} has no \"weight_map\" object; download it again")
        return sorted({os.path.join(directory, str(name)) for name in weight_map.values()})
    single = os.path.join(directory, "model.safetensors")
    if os.path.exists(single):
        return [single]
    raise CheckpointError(
        f"no model.safetensors or model.safetensors.index.json in {directory!r}; "
        "download the safetensors files of the google/flan-t5-* repository (PyTorch .bin "
        "files are not read)"
    )


def _read_json(path: str) -> dict:
    """A JSON object from ``path``, with a CheckpointError naming the file when it is not one."""
    try:
        with open(path, encoding="utf-8") as f:
            value = json.load(f)
    except (ValueError, RecursionError) as e:  # JSONDecodeError, undecodable bytes
        raise CheckpointError(f"{path} is not valid JSON ({e}); download or write it again") from None
    except OSError as e:
        raise CheckpointError(f"cannot read {path}: {e.strerror or e}") from None
    if not isinstance(value, dict):
        raise CheckpointError(f"{path} holds a JSON {type(value).__name__}, not an object; "
                              "download or write it again")
    return value


def _open_safetensors(path: str) -> Any:
    from safetensors import safe_open

    try:
        return safe_open(path, framework="numpy")
    except Exception as e:  # SafetensorError (truncated, garbage, bad header) or OSError
        raise CheckpointError(
            f"{path} is not a readable safetensors file ({type(e).__name__}: {e}); it is truncated "
            "or damaged: download it again") from None


def import_hf_checkpoint(*, directory: str, config: T5Config | None = None
                         ) -> tuple[T5Config, Params]:
    """Read a Hugging Face T5 1.1 / Flan-T5 checkpoint into symjax parameters.

    Args:
      directory: holds ``config.json`` and ``model.safetensors`` (or the sharded files with
        ``model.safetensors.index.json``), as in the ``google/flan-t5-*`` repositories.
      config: the expected config. ``None`` derives it from ``config.json``; otherwise the
        two must agree on every shape field, or :class:`CheckpointError` lists the fields.
        Its ``dtype``/``param_dtype``/``dropout_rate``/``remat_policy`` are kept.

    Returns:
      ``(config, params)``: params is the ``params`` collection of :class:`T5` as numpy
      arrays in ``config.param_dtype``.
    """
    config_path = os.path.join(directory, _CONFIG_FILE)
    if not os.path.exists(config_path):
        raise CheckpointError(f"no config.json in {directory!r}; is it a Hugging Face model?")
    try:
        found = from_hf_config(_read_json(config_path))
    except (KeyError, TypeError, ValueError) as e:
        if isinstance(e, SymjaxError):
            raise
        raise CheckpointError(
            f"{config_path} is not a T5 config ({type(e).__name__}: {e}); download the "
            "config.json of the google/flan-t5-* repository again") from None
    if config is None:
        config = found
    else:
        mismatches = config_mismatches(config, found)
        if mismatches:
            raise CheckpointError(
                f"the Hugging Face checkpoint in {directory!r} is not of size {config.name!r}: "
                + "; ".join(mismatches)
            )
    handles = [(path, _open_safetensors(path)) for path in _safetensors_files(directory)]
    owner: dict[str, Any] = {}
    available: dict[str, tuple[int, ...]] = {}
    for path, handle in handles:
        for name in handle.keys():
            owner[name] = (path, handle)
            available[name] = tuple(handle.get_slice(name).get_shape())

    def read(name: str) -> np.ndarray:
        path, handle = owner[name]
        try:
            return handle.get_tensor(name)
        except Exception as e:  # SafetensorError, OSError
            raise CheckpointError(f"{path}: tensor {name} cannot be read ({e}); download the file "
                                  "again") from None
    if "lm_head.weight" not in available and "shared.weight" in available:
        raise CheckpointError(
            f"{directory!r} has no lm_head.weight: a tied-embedding checkpoint (T5 1.0 "
            "layout); T5 1.1 / Flan-T5 have a separate output head"
        )
    for alias in HF_EMBEDDING_ALIASES:
        if alias in available and "shared.weight" in available:
            if not np.array_equal(read(alias), read("shared.weight")):
                raise CheckpointError(
                    f"{directory!r}: {alias} differs from shared.weight; T5 shares one "
                    "token embedding between encoder and decoder"
                )
    params = _convert(entries=hf_layout(config), available=available, read=read,
                      ignored=set(HF_EMBEDDING_ALIASES) | set(HF_IGNORED), config=config,
                      source=f"Hugging Face checkpoint {directory!r}", kind="hf")
    return config, params


# ---------------------------------------------------------------------------------------
# t5x
# ---------------------------------------------------------------------------------------
def _flatten(tree: Mapping[str, Any], prefix: tuple[str, ...] = ()
             ) -> Iterator[tuple[tuple[str, ...], Any]]:
    for key, value in tree.items():
        if isinstance(value, Mapping) and not _is_tensorstore_spec(value):
            yield from _flatten(value, prefix + (str(key),))
        else:
            yield prefix + (str(key),), value


def _is_tensorstore_spec(value: Any) -> bool:
    return isinstance(value, Mapping) and "driver" in value and "kvstore" in value


def _find_target(tree: Mapping[str, Any], directory: str) -> Mapping[str, Any]:
    # Legacy t5x: {"version": 3, "optimizer": {"target": ..., "state": ...}}; the orbax
    # aggregate variant uses "_optimizer"; the orbax PyTree layout has "target" at the top.
    for path in (("optimizer", "target"), ("_optimizer", "target"), ("target",)):
        node: Any = tree
        for key in path:
            node = node.get(key) if isinstance(node, Mapping) else None
        if isinstance(node, Mapping):
            return node
    raise CheckpointError(
        f"t5x checkpoint {directory!r} has no 'target' parameters (top-level keys: "
        f"{sorted(tree)}); is it a t5x train-state checkpoint?"
    )


def _open_tensorstore(directory: str, leaf: Any, name: str) -> Any:
    import tensorstore as ts

    if isinstance(leaf, str) and leaf.startswith("PLACEHOLDER://"):
        relative = leaf[len("PLACEHOLDER://"):]
        if os.path.exists(os.path.join(directory, "manifest.ocdbt")):
            kvstore: dict[str, Any] = {"driver": "ocdbt", "base": f"file://{directory}",
                                       "path": relative}
        else:
            kvstore = {"driver": "file", "path": os.path.join(directory, relative)}
        spec: dict[str, Any] = {"driver": "zarr", "kvstore": kvstore}
    elif _is_tensorstore_spec(leaf):
        relative = leaf["kvstore"].get("path") or leaf.get("path")
        if not relative:
            raise CheckpointError(f"t5x checkpoint {directory!r}: {name} has no array path")
        spec = {"driver": leaf["driver"],
                "kvstore": {"driver": "file", "path": os.path.join(directory, relative)}}
    else:
        raise CheckpointError(
            f"t5x checkpoint {directory!r}: cannot read {name} (stored as {type(leaf).__name__})"
        )
    try:
        return ts.open(spec, open=True, read=True).result()
    except Exception as e:  # tensorstore raises ValueError / its own status errors
        raise CheckpointError(
            f"t5x checkpoint {directory!r}: cannot open the array of {name}: {e}"
        ) from e


def _read_t5x_msgpack(directory: str) -> tuple[dict[str, tuple[int, ...]],
                                              Callable[[str], np.ndarray]]:
    from flax import serialization

    with open(os.path.join(directory, "checkpoint"), "rb") as f:
        try:
            tree = serialization.msgpack_restore(f.read())
        except Exception as e:
            raise CheckpointError(
                f"{directory!r}/checkpoint is not a t5x msgpack checkpoint file: {e}"
            ) from e
    leaves = dict(("/".join(path), leaf) for path, leaf in _flatten(_find_target(tree, directory)))
    shapes: dict[str, tuple[int, ...]] = {}
    stores: dict[str, Any] = {}
    for name, leaf in leaves.items():
        if isinstance(leaf, (np.ndarray, np.generic)):  # small arrays are stored inline
            shapes[name] = tuple(np.shape(leaf))
        else:
            stores[name] = _open_tensorstore(directory, leaf, name)
            shapes[name] = tuple(stores[name].shape)

    def read(name: str) -> np.ndarray:
        if name in stores:
            return np.asarray(stores[name].read().result())
        return np.asarray(leaves[name])

    return shapes, read


def _read_t5x_orbax(directory: str) -> tuple[dict[str, tuple[int, ...]],
                                            Callable[[str], np.ndarray]]:
    import orbax.checkpoint as ocp

    checkpointer = ocp.PyTreeCheckpointer()
    try:
        metadata = checkpointer.metadata(directory).item_metadata.tree
    except Exception as e:
        raise CheckpointError(f"cannot read orbax metadata of {directory!r}: {e}") from e
    target = _find_target(metadata, directory)
    shapes = {"/".join(path): tuple(m.shape) for path, m in _flatten(target)}
    item = {"target": jax.tree.map(lambda m: jax.ShapeDtypeStruct(m.shape, m.dtype),
                                   dict(target))}
    restore_args = jax.tree.map(lambda _: ocp.RestoreArgs(restore_type=np.ndarray), item)
    cache: dict[str, np.ndarray] = {}

    def read(name: str) -> np.ndarray:
        if not cache:
            restored = checkpointer.restore(directory, args=ocp.args.PyTreeRestore(
                item=item, restore_args=restore_args, partial_restore=True))
            cache.update(("/".join(p), np.asarray(v)) for p, v in _flatten(restored["target"]))
        return cache[name]

    return shapes, read


def import_t5x_checkpoint(*, directory: str, config: T5Config) -> Params:
    """Read the parameters of a t5x T5 1.1 / Flan-T5 checkpoint (``checkpoint_N`` dir).

    Both t5x layouts are read: the tensorstore layout (``checkpoint`` msgpack file plus
    zarr arrays named like ``target.encoder.layers_0.attention.query.kernel``, as in
    ``gs://t5-data/pretrained_models/t5x/flan_t5_xl/checkpoint_1138000``) and the orbax
    layout (``state/_METADATA``). Optimizer state is ignored.

    Args:
      directory: the local ``checkpoint_N`` directory.
      config: the model size, e.g. ``from_name("xl")``; t5x checkpoints carry no config.
        A checkpoint of another size fails with the first mis-shaped tensor and both shapes.

    Returns:
      the ``params`` collection of :class:`T5`, numpy arrays in ``config.param_dtype``.
    """
    if directory.startswith("gs://"):
        raise CheckpointError(
            f"{directory!r} is on GCS; copy it locally first (gsutil -m cp -r {directory} .)"
        )
    if not os.path.isdir(directory):
        raise CheckpointError(f"t5x checkpoint directory {directory!r} does not exist")
    if os.path.exists(os.path.join(directory, "checkpoint")):
        shapes, read = _read_t5x_msgpack(directory)
    elif os.path.exists(os.path.join(directory, "state", "_METADATA")):
        shapes, read = _read_t5x_orbax(os.path.join(directory, "state"))
    elif os.path.exists(os.path.join(directory, "_METADATA")):
        shapes, read = _read_t5x_orbax(directory)
    else:
        raise CheckpointError(
            f"{directory!r} is not a t5x checkpoint: no 'checkpoint' file (tensorstore layout) "
            "and no 'state/_METADATA' (orbax layout)"
        )
    return _convert(entries=t5x_layout(config), available=shapes, read=read, ignored=set(),
                    config=config, source=f"t5x checkpoint {directory!r}", kind="t5x")


# ---------------------------------------------------------------------------------------
# symjax's own format
# ---------------------------------------------------------------------------------------
def _param_shapes(params: Any) -> dict[str, tuple[tuple[int, ...], str]]:
    flat = jax.tree_util.tree_flatten_with_path(params)[0]
    return {
        "/".join(str(getattr(k, "key", k)) for k in path): (tuple(leaf.shape), str(leaf.dtype))
        for path, leaf in flat
    }


def _check_tree(*, found: Mapping[str, tuple[int, ...]],
                expected: Mapping[str, tuple[int, ...]], source: str, config: T5Config) -> None:
    missing, extra = set(expected) - set(found), set(found) - set(expected)
    if missing or extra:
        parts = []
        if missing:
            parts.append(f"missing {_names(missing)}")
        if extra:
            parts.append(f"unexpected {_names(extra)}")
        raise CheckpointError(f"{source} does not match T5 config {config.name!r}: "
                              + "; ".join(parts))
    for name, shape in expected.items():
        if tuple(found[name]) != tuple(shape):
            raise CheckpointError(
                f"{source}: parameter {name!r} has shape {tuple(found[name])}, but T5 config "
                f"{config.name!r} expects {tuple(shape)}"
            )


def _abstract(config: T5Config) -> Any:
    return nn.meta.unbox(abstract_params(config=config))


def save_checkpoint(*, directory: str, params: Any, config: T5Config) -> None:
    """Write ``params`` (numpy or jax arrays, sharded or not) and ``config`` to ``directory``.

    The directory must not exist; orbax writes to a temporary name and renames, so a crash
    never leaves a half-written checkpoint under ``directory/params``.
    """
    import orbax.checkpoint as ocp

    params = nn.meta.unbox(params)
    expected = {k: v[0] for k, v in _param_shapes(_abstract(config)).items()}
    _check_tree(found={k: v[0] for k, v in _param_shapes(params).items()}, expected=expected,
                source="params to save", config=config)
    if os.path.exists(directory):
        raise CheckpointError(f"{directory!r} exists; choose a new directory")
    try:
        os.makedirs(directory)
        with open(os.path.join(directory, _CONFIG_FILE), "w") as f:
            json.dump({"format": FORMAT_VERSION, "config": config.to_dict()}, f, indent=2,
                      sort_keys=True)
            f.write("\n")
    except OSError as e:
        raise OutputError(f"cannot write the checkpoint {directory}: {e.strerror or e}; choose a "
                          "writable output directory") from None
    checkpointer = ocp.StandardCheckpointer()
    try:
        checkpointer.save(os.path.abspath(os.path.join(directory, _PARAMS_DIR)), params)
        checkpointer.wait_until_finished()
    except Exception as e:  # orbax and tensorstore raise many types (a full disk, ...)
        raise OutputError(f"cannot write the parameters of checkpoint {directory} "
                          f"({type(e).__name__}: {str(e)[:300]}); free disk space or choose another "
                          "output directory, then delete the incomplete one") from None


def read_checkpoint_config(*, directory: str) -> T5Config:
    """The config stored by :func:`save_checkpoint`."""
    path = os.path.join(directory, _CONFIG_FILE)
    if not os.path.exists(path):
        raise CheckpointError(f"{directory!r} has no {_CONFIG_FILE}; not a symjax checkpoint")
    stored = _read_json(path)
    if stored.get("format") != FORMAT_VERSION or not isinstance(stored.get("config"), dict):
        raise CheckpointError(
            f"{path} has format {stored.get('format')!r}; this symjax reads {FORMAT_VERSION!r}"
        )
    return T5Config.from_dict(stored["config"])


def load_checkpoint(*, directory: str, config: T5Config | None = None,
                    shardings: Any = None) -> tuple[T5Config, Params]:
    """Read a checkpoint written by :func:`save_checkpoint`.

    Args:
      directory: the checkpoint directory.
      config: the expected config; its shape fields must equal the stored ones (otherwise
        :class:`CheckpointError` lists the differences). ``None`` uses the stored config.
      shardings: optional tree of ``jax.sharding.Sharding`` (e.g. from
        ``symjax.train.partitioning.param_shardings``); each array is then read straight
        into its shards. Without it, arrays land on the default device.

    Returns:
      ``(config, params)`` with the stored dtypes, exactly as saved.
    """
    import orbax.checkpoint as ocp

    stored = read_checkpoint_config(directory=directory)
    if config is None:
        config = stored
    else:
        mismatches = config_mismatches(config, stored)
        if mismatches:
            raise CheckpointError(
                f"checkpoint {directory!r} holds a model of size {stored.name!r}, not "
                f"{config.name!r}: " + "; ".join(mismatches)
            )
    path = os.path.abspath(os.path.join(directory, _PARAMS_DIR))
    checkpointer = ocp.StandardCheckpointer()
    metadata = checkpointer.metadata(path).item_metadata.tree
    found = {"/".join(p): tuple(m.shape) for p, m in _flatten(metadata)}
    expected = {k: v[0] for k, v in _param_shapes(_abstract(config)).items()}
    _check_tree(found=found, expected=expected, source=f"checkpoint {directory!r}",
                config=config)
    dtypes = {"/".join(p): m.dtype for p, m in _flatten(metadata)}
    target = jax.tree_util.tree_map_with_path(
        lambda p, leaf: jax.ShapeDtypeStruct(
            leaf.shape, dtypes["/".join(str(getattr(k, "key", k)) for k in p)]),
        _abstract(config),
    )
    if shardings is not None:
        target = jax.tree.map(
            lambda leaf, sharding: jax.ShapeDtypeStruct(leaf.shape, leaf.dtype,
                                                        sharding=sharding),
            target, shardings,
        )
    params = checkpointer.restore(path, target)
    return config, params
