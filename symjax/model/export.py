"""Weights out: a symjax T5 as a Hugging Face checkpoint or as a t5x checkpoint.

The exporters walk the same layout tables as the importers (:func:`~symjax.model.layouts.hf_layout`,
:func:`~symjax.model.layouts.t5x_layout`), applying each row's inverse transform, so
``import(export(params)) == params`` exactly (``tests/test_export.py``).

* :func:`export_hf_checkpoint` writes ``config.json`` (the ``google/flan-t5-*`` layout:
  ``feed_forward_proj="gated-gelu"``, ``tie_word_embeddings=false``) and ``model.safetensors``
  that ``transformers.T5ForConditionalGeneration.from_pretrained`` loads (checked with
  transformers 5.23: the logits agree to 1e-5). The token embedding is written once, as
  ``shared.weight`` (what transformers itself saves): the encoder's and decoder's
  ``embed_tokens`` are tied to it on loading, and ``lm_head.weight`` is the separate output
  head of T5 1.1. With a SentencePiece
  model file it also writes the tokenizer (``spiece.model``, ``tokenizer_config.json``,
  ``special_tokens_map.json``, Flan-T5's ``T5Tokenizer`` with 100 extra ids); for the byte
  vocabulary, a ``ByT5Tokenizer`` config.
* :func:`export_t5x_checkpoint` writes t5x's tensorstore layout, the one of the published
  Flan-T5 checkpoints: a msgpack ``checkpoint`` file ``{"version": 3, "optimizer": {"target":
  ..., "state": {"step": N}}}`` whose leaves are tensorstore specs of zarr arrays named like
  ``target.encoder.layers_0.attention.query.kernel``. It holds no optimizer state (symjax's
  optax state has no t5x counterpart): restore it in t5x with
  ``RestoreCheckpointConfig(assignment_map=((r'state/param_states.*', None),),
  fallback_to_scratch=True)``, which starts the optimizer afresh.

Both write into a temporary directory beside ``directory`` and rename it when every file is
written: ``directory`` is complete or absent.
"""
from __future__ import annotations

import contextlib
import json
import os
import shutil
from typing import Any, Iterator, Mapping

import numpy as np

from symjax.errors import CheckpointError, OutputError
from symjax.model.config import T5Config
from symjax.model.layouts import hf_layout, t5x_layout

__all__ = ["export_hf_checkpoint", "export_t5x_checkpoint", "hf_config_dict",
           "T5X_CHECKPOINT_VERSION"]

T5X_CHECKPOINT_VERSION = 3  # t5x.checkpoints.VERSION
_T5X_CHUNK_BYTES = 64 * 1024 * 1024  # t5x's desired chunk size
_HF_EXTRA_IDS = 100  # Flan-T5's tokenizer: <extra_id_0> ... <extra_id_99>


def hf_config_dict(config: T5Config) -> dict[str, Any]:
    """``config.json`` of a Hugging Face T5 1.1 / Flan-T5 model of ``config``'s shape."""
    return {
        "architectures": ["T5ForConditionalGeneration"],
        "model_type": "t5",
        "vocab_size": config.vocab_size,
        "d_model": config.d_model,
        "d_kv": config.head_dim,
        "d_ff": config.d_ff,
        "num_layers": config.num_encoder_layers,
        "num_decoder_layers": config.num_decoder_layers,
        "num_heads": config.num_heads,
        "relative_attention_num_buckets": config.relative_attention_num_buckets,
        "relative_attention_max_distance": config.relative_attention_max_distance,
        "dropout_rate": config.dropout_rate,
        "layer_norm_epsilon": config.layer_norm_epsilon,
        "initializer_factor": 1.0,
        "feed_forward_proj": "gated-gelu",
        "dense_act_fn": "gelu_new",
        "is_gated_act": True,
        "is_encoder_decoder": True,
        "tie_word_embeddings": False,
        "use_cache": True,
        "pad_token_id": config.pad_id,
        "eos_token_id": config.eos_id,
        "decoder_start_token_id": config.pad_id,
        "torch_dtype": config.param_dtype,
    }


def _leaf(params: Mapping[str, Any], path: tuple[str, ...], source: str) -> np.ndarray:
    node: Any = params
    for key in path:
        if not isinstance(node, Mapping) or key not in node:
            raise CheckpointError(f"parameters to export have no {'/'.join(path)} (for {source})")
        node = node[key]
    return np.asarray(node)


def _source_arrays(entries: list, params: Mapping[str, Any]) -> Iterator[tuple[str, np.ndarray]]:
    """``(source name, array)`` for every row of a layout table, in the source's shape."""
    for entry in entries:
        value = _leaf(params, entry.target, entry.source)
        if entry.layer is not None:
            value = value[entry.layer]
        yield entry.source, entry.to_source(value)


@contextlib.contextmanager
def _staged(directory: str) -> Iterator[str]:
    """A temporary directory beside ``directory``, renamed to it when the block succeeds."""
    directory = os.path.abspath(directory)
    if os.path.exists(directory):
        raise OutputError(f"{directory} exists; choose a new output directory (nothing was written)")
    parent = os.path.dirname(directory)
    staging = os.path.join(parent, f".{os.path.basename(directory)}.partial-{os.getpid()}")
    try:
        os.makedirs(parent, exist_ok=True)
        shutil.rmtree(staging, ignore_errors=True)
        os.makedirs(staging)
    except OSError as e:
        raise OutputError(f"cannot write {directory}: {e.strerror or e}; choose a writable output "
                          "directory") from None
    try:
        yield staging
        os.replace(staging, directory)
    except OSError as e:
        shutil.rmtree(staging, ignore_errors=True)
        raise OutputError(f"cannot write {directory}: {e.strerror or e}; free disk space or choose "
                          "another output directory (nothing was left under that name)") from None
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise


def _check_vocab(config: T5Config, vocabulary_size: int, what: str) -> None:
    if vocabulary_size > config.vocab_size:
        raise CheckpointError(f"{what} has {vocabulary_size} tokens, more than the model's "
                              f"vocab_size {config.vocab_size}; it is not this model's vocabulary")


def _write_tokenizer(staging: str, config: T5Config, *, sentencepiece_model: str | None,
                     byte_vocabulary: bool) -> None:
    if sentencepiece_model is not None:
        import sentencepiece as spm

        try:
            processor = spm.SentencePieceProcessor(model_file=sentencepiece_model)
        except (OSError, RuntimeError) as e:
            raise CheckpointError(f"{sentencepiece_model} is not a readable SentencePiece model "
                                  f"({e}); give the .model file of the run's vocabulary") from None
        _check_vocab(config, processor.get_piece_size() + _HF_EXTRA_IDS,
                     f"SentencePiece model {sentencepiece_model} (+{_HF_EXTRA_IDS} extra ids)")
        shutil.copyfile(sentencepiece_model, os.path.join(staging, "spiece.model"))
        extra = [f"<extra_id_{i}>" for i in range(_HF_EXTRA_IDS)]
        special = {"eos_token": "</s>", "unk_token": "<unk>", "pad_token": "<pad>",
                   "additional_special_tokens": extra}
        tokenizer = {"tokenizer_class": "T5Tokenizer", "extra_ids": _HF_EXTRA_IDS,
                     "model_max_length": 512, **special}
    elif byte_vocabulary:
        _check_vocab(config, 259, "the byte vocabulary")
        special = {"eos_token": "</s>", "unk_token": "<unk>", "pad_token": "<pad>"}
        tokenizer = {"tokenizer_class": "ByT5Tokenizer", "extra_ids": 0, **special}
    else:
        return
    for name, value in (("tokenizer_config.json", tokenizer), ("special_tokens_map.json", special)):
        with open(os.path.join(staging, name), "w", encoding="utf-8") as f:
            json.dump(value, f, indent=2)
            f.write("\n")


def export_hf_checkpoint(*, directory: str, params: Mapping[str, Any], config: T5Config,
                         sentencepiece_model: str | None = None,
                         byte_vocabulary: bool = False) -> list[str]:
    """Write ``params`` as a Hugging Face T5 checkpoint in ``directory`` (must not exist).

    Args:
      directory: the output directory; written complete or not at all.
      params: the ``params`` collection of :class:`~symjax.model.T5` (numpy or jax arrays).
      config: its config.
      sentencepiece_model: a local SentencePiece ``.model`` file of the model's vocabulary;
        its tokenizer files are written beside the weights.
      byte_vocabulary: the model reads seqio's byte vocabulary (ByT5's ids): write a
        ``ByT5Tokenizer`` config.

    Returns:
      the names of the files written.
    """
    from safetensors.numpy import save_file

    tensors = dict(_source_arrays(hf_layout(config), params))
    with _staged(directory) as staging:
        save_file(tensors, os.path.join(staging, "model.safetensors"), metadata={"format": "pt"})
        with open(os.path.join(staging, "config.json"), "w", encoding="utf-8") as f:
            json.dump(hf_config_dict(config), f, indent=2, sort_keys=True)
            f.write("\n")
        _write_tokenizer(staging, config, sentencepiece_model=sentencepiece_model,
                         byte_vocabulary=byte_vocabulary)
        written = sorted(os.listdir(staging))
    return written


def _chunks(shape: tuple[int, ...], itemsize: int) -> list[int]:
    """Chunks of at most t5x's 64 MiB: the leading axes halved until one fits."""
    chunks = list(shape) or [1]
    axis = 0
    while int(np.prod(chunks)) * itemsize > _T5X_CHUNK_BYTES and axis < len(chunks):
        if chunks[axis] > 1:
            chunks[axis] = (chunks[axis] + 1) // 2
        else:
            axis += 1
    return chunks


def export_t5x_checkpoint(*, directory: str, params: Mapping[str, Any], config: T5Config,
                          step: int = 0) -> list[str]:
    """Write ``params`` as a t5x checkpoint (tensorstore layout) in ``directory``.

    ``directory`` is the ``checkpoint_<step>`` directory itself (t5x's
    ``INITIAL_CHECKPOINT_PATH``); it must not exist. Returns the parameter names written
    (``target/encoder/layers_0/...``).
    """
    import tensorstore as ts
    from flax import serialization

    target: dict[str, Any] = {}
    names = []
    with _staged(directory) as staging:
        for name, value in _source_arrays(t5x_layout(config), params):
            relative = "target." + name.replace("/", ".")
            spec = {"driver": "zarr", "dtype": np.dtype(value.dtype).name,
                    "kvstore": {"driver": "file", "path": relative},
                    "metadata": {"compressor": {"id": "gzip"}, "shape": list(value.shape),
                                 "chunks": _chunks(value.shape, value.dtype.itemsize)}}
            store = ts.open({**spec, "kvstore": {"driver": "file",
                                                 "path": os.path.join(staging, relative)}},
                            create=True, open=True).result()
            store.write(value).result()
            node = target
            parts = name.split("/")
            for key in parts[:-1]:
                node = node.setdefault(key, {})
            node[parts[-1]] = spec
            names.append(f"target/{name}")
        state = {"version": T5X_CHECKPOINT_VERSION,
                 "optimizer": {"target": target, "state": {"step": np.int32(step)}}}
        with open(os.path.join(staging, "checkpoint"), "wb") as f:
            f.write(serialization.msgpack_serialize(state))
    return names
