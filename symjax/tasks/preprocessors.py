"""The seqio preprocessors that turn symjax sources into token-true examples.

seqio hands ``sequence_length`` only to preprocessors that ask for it, never to a data
source. So every symjax source yields *what to build* (block numbers of the SQL stream,
one shard of a benchmark split, lines of a JSONL file) and the first preprocessor builds
the examples at the requested lengths, with the task's own vocabulary, and tokenizes them:

* :func:`sql_execution` fits SQL-execution blocks (:func:`symjax.sql.encode_blocks`): the
  table is cut to the input length before the queries are sampled and executed, and a query
  whose prompt or answer does not fit is left out (the next one takes its place);
* :func:`benchmark` fits benchmark prompts: tables are cut, shots dropped, the question,
  options and instruction never cut; an example that cannot fit even so is left out, counted
  and reported (:meth:`symjax.tasks.sources.BenchmarkSource.unfit`);
* :func:`jsonl` tokenizes FLAN JSONL examples and leaves out those longer than the lengths.

Each emits ``inputs``/``targets`` ids with EOS (the tasks' features have ``add_eos``) and at
most ``length`` ids, so seqio's trimming removes nothing; ``*_pretokenized`` texts come
alongside. With no ``sequence_length`` (``task.get_dataset(None)``) the character budgets of
the source's configuration apply and nothing is left out for length.

The work runs in ``tf.numpy_function`` calls over groups of elements (8 blocks, a whole
shard, 256 lines), never a per-example Python generator, and the pipeline is made of
``range``/``TextLineDataset``, ``batch``, ``map`` and ``unbatch``: ``tf.data`` can save and
restore its position (the trainer's data checkpoints, t5x's ``checkpoint_dataset``).

:func:`sql_execution_at` is the same fit at lengths fixed when the task is registered, for
the steps before seqio's cache (where seqio gives no ``sequence_length``), and
:func:`check_fitted_lengths` refuses, after the cache, lengths shorter than those.
"""
from __future__ import annotations

import json
import logging
from typing import Any, Callable, Mapping, Sequence

import numpy as np
import tensorflow as tf

from symjax.errors import ConfigError, DataError
from symjax.tasks.tokenizers import tokenizer_for

__all__ = ["BLOCKS_PER_CALL", "fit_lengths", "sql_execution", "sql_execution_at", "check_fitted_lengths",
           "benchmark", "jsonl", "check_lengths"]

log = logging.getLogger(__name__)

BLOCKS_PER_CALL = 8  # SQL blocks built per numpy_function call (about 128 examples)
JSONL_LINES_PER_CALL = 256
_TEXT_FEATURES = {
    "sql": ("inputs_pretokenized", "targets_pretokenized", "family", "sql"),
    "benchmark": ("inputs_pretokenized", "targets_pretokenized", "id", "gold"),
    "jsonl": ("inputs_pretokenized", "targets_pretokenized"),
}


def fit_lengths(sequence_length: Mapping[str, Any] | None) -> dict[str, int] | None:
    """``{"inputs": L, "targets": L}`` from seqio's ``sequence_length`` (``None``: no fit)."""
    if sequence_length is None:
        return None
    out = {}
    for key in ("inputs", "targets"):
        value = sequence_length.get(key)
        if value is None:
            return None
        if not isinstance(value, (int, np.integer)) or isinstance(value, bool) or value < 2:
            raise ConfigError(
                f"sequence_length[{key!r}] must be an int >= 2 (room for one token and EOS), got {value!r}"
            )
        out[key] = int(value)
    return out


def _tokenizer(output_features: Mapping[str, Any]):
    inputs, targets = output_features["inputs"], output_features["targets"]
    if inputs.vocabulary != targets.vocabulary:
        raise ConfigError("symjax tasks tokenize inputs and targets with one vocabulary; these features differ")
    if not (inputs.add_eos and targets.add_eos):
        raise ConfigError("symjax tasks end inputs and targets with EOS (seqio.Feature(add_eos=True))")
    return tokenizer_for(inputs.vocabulary)


@tf.autograph.experimental.do_not_convert
def _example(row: Mapping[str, Any]) -> dict[str, tf.Tensor]:
    """One unbatched row -> seqio features: rank-1 id tensors and scalar strings."""
    out = {}
    for key, value in row.items():
        if isinstance(value, tf.RaggedTensor):
            value = value.flat_values
        out[key] = tf.reshape(value, [-1]) if key in ("inputs", "targets") else tf.reshape(value, [])
    return out


def _rows(dataset: tf.data.Dataset, build: Callable[..., tuple], inputs: Callable[[Any], list],
          texts: Sequence[str], *, parallel: bool) -> tf.data.Dataset:
    """``build(*inputs(element))`` -> (ids, lengths, ids, lengths, *texts) per element, as a
    dataset of examples."""
    out_types = [tf.int32, tf.int64, tf.int32, tf.int64] + [tf.string] * len(texts)

    @tf.autograph.experimental.do_not_convert
    def call(element):
        got = tf.numpy_function(build, inputs(element), out_types, stateful=False)
        row = {
            "inputs": tf.RaggedTensor.from_row_lengths(got[0], got[1], validate=False),
            "targets": tf.RaggedTensor.from_row_lengths(got[2], got[3], validate=False),
        }
        for key, value in zip(texts, got[4:]):
            row[key] = tf.ensure_shape(value, [None])
        return row

    if parallel:
        rows = dataset.map(call, num_parallel_calls=tf.data.AUTOTUNE, deterministic=True)
    else:
        rows = dataset.map(call)
    rows = rows.unbatch().map(_example)
    return rows.with_options(_OPTIONS)


# Per-example maps (this module's, seqio's trimming, the feature converter's) fused into one
# function call per example: tf.data's per-element cost is the boundary's main cost.
_OPTIONS = tf.data.Options()
_OPTIONS.experimental_optimization.map_fusion = True


def _strings(values: Sequence[str]) -> np.ndarray:
    out = np.empty(len(values), object)
    out[:] = values
    return out


# ---------------------------------------------------------------------------- SQL execution
def _sql_rows(dataset: tf.data.Dataset, source: Any, lengths: dict[str, int] | None,
              output_features: Mapping[str, Any]) -> tf.data.Dataset:
    from symjax.sql import encode_blocks

    config = source.fitted_config(lengths, _tokenizer(output_features))

    def build(blocks: np.ndarray, seeds: np.ndarray) -> tuple:
        if not len(blocks):
            got = encode_blocks(0, [], config=config)
        else:
            got = encode_blocks(int(seeds[0]), blocks.tolist(), config=config)
        return (got.inputs, got.input_lengths, got.targets, got.target_lengths,
                _strings(got.inputs_text), _strings(got.targets_text), _strings(got.families),
                _strings(got.sql))

    return _rows(dataset.batch(BLOCKS_PER_CALL), build, lambda x: [x["block"], x["stream_seed"]],
                 _TEXT_FEATURES["sql"], parallel=True)


def sql_execution(dataset: tf.data.Dataset, sequence_length: Mapping[str, int] | None,
                  output_features: Mapping[str, Any], *, source: Any) -> tf.data.Dataset:
    """Block numbers of ``source`` (a :class:`~symjax.tasks.sources.SqlExecutionSource`) ->
    SQL-execution examples fitted to ``sequence_length`` (see the module docstring)."""
    return _sql_rows(dataset, source, fit_lengths(sequence_length), output_features)


def sql_execution_at(dataset: tf.data.Dataset, output_features: Mapping[str, Any], *, source: Any,
                     lengths: Mapping[str, int]) -> tf.data.Dataset:
    """:func:`sql_execution` at fixed ``lengths``: the step before seqio's cache."""
    return _sql_rows(dataset, source, fit_lengths(lengths), output_features)


def check_fitted_lengths(dataset: tf.data.Dataset, sequence_length: Mapping[str, int] | None, *,
                         task: str, lengths: Mapping[str, int]) -> tf.data.Dataset:
    """After seqio's cache: examples were fitted to ``lengths`` before caching, so shorter
    requested lengths would cut them; refuse those."""
    requested = fit_lengths(sequence_length)
    if requested is not None:
        short = {k: (requested[k], lengths[k]) for k in lengths if requested[k] < lengths[k]}
        if short:
            raise ConfigError(
                f"task {task!r} was fitted to {dict(lengths)} tokens before seqio's cache, but "
                f"{ {k: v[0] for k, v in short.items()} } was asked for: seqio would cut the cached "
                f"examples. Ask for at least {dict(lengths)}, or register a task fitted to your lengths "
                "with symjax.tasks.register_sql_execution_task(..., cache_lengths=...)"
            )
    return dataset


# ---------------------------------------------------------------------------- benchmarks
def benchmark(dataset: tf.data.Dataset, sequence_length: Mapping[str, int] | None,
              output_features: Mapping[str, Any], *, source: Any) -> tf.data.Dataset:
    """One element per shard of a :class:`~symjax.tasks.sources.BenchmarkSource` -> its
    prompted examples fitted to ``sequence_length``."""
    lengths = fit_lengths(sequence_length)
    tokenizer = _tokenizer(output_features)

    def build(split: bytes, reading: np.ndarray, index: np.ndarray, num: np.ndarray) -> tuple:
        rows = source.fitted_examples(split.decode(), lengths, tokenizer, build=int(reading))
        rows = rows[int(index)::int(num)]
        input_ids, input_lengths = _with_eos(tokenizer, [r.inputs for r in rows])
        target_ids, target_lengths = _with_eos(tokenizer, [r.targets for r in rows])
        return (input_ids, input_lengths, target_ids, target_lengths,
                _strings([r.inputs for r in rows]), _strings([r.targets for r in rows]),
                _strings([r.id for r in rows]),
                _strings([json.dumps(r.gold, ensure_ascii=False) for r in rows]))

    return _rows(dataset, build, lambda x: [x["split"], x["build"], x["shard_index"], x["num_shards"]],
                 _TEXT_FEATURES["benchmark"], parallel=False)


def _with_eos(tokenizer: Any, texts: Sequence[str]) -> tuple[np.ndarray, np.ndarray]:
    from symjax.sql.text.tokens import append_eos

    ids, lengths = tokenizer.encode(texts)
    return append_eos(ids, lengths, tokenizer.eos_id)


# ---------------------------------------------------------------------------- JSONL
def jsonl(dataset: tf.data.Dataset, sequence_length: Mapping[str, int] | None,
          output_features: Mapping[str, Any]) -> tf.data.Dataset:
    """Lines of FLAN JSONL files (``{"text", "file", "line"}``) -> examples; an example
    longer than ``sequence_length`` (EOS included) is left out, never cut."""
    lengths = fit_lengths(sequence_length)
    tokenizer = _tokenizer(output_features)

    def build(lines: np.ndarray, files: np.ndarray, numbers: np.ndarray) -> tuple:
        inputs, targets = [], []
        for line, path, number in zip(lines, files, numbers):
            try:
                obj = json.loads(line)
                inputs.append(str(obj["inputs"]))
                targets.append(str(obj["targets"]))
            except (json.JSONDecodeError, KeyError, TypeError, UnicodeDecodeError) as e:
                raise DataError(
                    f"{path.decode()}, line {int(number)}: a FLAN line is "
                    f"{{\"inputs\": str, \"targets\": str}} ({type(e).__name__}: {e})"
                ) from e
        input_ids, input_lengths = _with_eos(tokenizer, inputs)
        target_ids, target_lengths = _with_eos(tokenizer, targets)
        if lengths is not None:
            keep = (input_lengths <= lengths["inputs"]) & (target_lengths <= lengths["targets"])
            if not keep.all():
                from symjax.sql.text.tokens import select_ids

                input_ids, input_lengths = select_ids(input_ids, input_lengths, keep)
                target_ids, target_lengths = select_ids(target_ids, target_lengths, keep)
                inputs = [t for t, k in zip(inputs, keep) if k]
                targets = [t for t, k in zip(targets, keep) if k]
        return (input_ids, input_lengths, target_ids, target_lengths, _strings(inputs), _strings(targets))

    return _rows(dataset.batch(JSONL_LINES_PER_CALL), build, lambda x: [x["text"], x["file"], x["line"]],
                 _TEXT_FEATURES["jsonl"], parallel=True)


# ---------------------------------------------------------------------------- checks
def check_lengths(dataset: tf.data.Dataset, sequence_length: Mapping[str, int], *,
                  name: str = "dataset", limit: int | None = None, eos_id: int = 1) -> int:
    """Iterate ``dataset`` (a task's, built with ``trim_output_features=False``) and raise
    :class:`DataError` naming the first example whose ``inputs`` or ``targets`` exceed
    ``sequence_length``, or that does not end with EOS: what seqio would have cut. Returns
    the number of examples checked (at most ``limit``)."""
    n = 0
    for n, ex in enumerate(dataset.as_numpy_iterator(), start=1):
        for key in ("inputs", "targets"):
            ids = ex[key]
            if len(ids) > sequence_length[key]:
                raise DataError(
                    f"{name}: example {n} has {len(ids)} {key} tokens, more than the {sequence_length[key]} "
                    f"asked for; seqio would cut it ({ex.get(key + '_pretokenized', b'')[:120]!r}...)"
                )
            if len(ids) == 0 or ids[-1] != eos_id:
                raise DataError(f"{name}: example {n}'s {key} does not end with EOS")
        if limit is not None and n >= limit:
            break
    return n
