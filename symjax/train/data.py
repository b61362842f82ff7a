"""Training and eval input: seqio mixture -> encoder-decoder features (packed) -> host batches.

:func:`train_batches` builds t5x's train pipeline: ``seqio.get_dataset`` over the mixture
or task (shuffled with a fixed seed, repeated), ``seqio.EncDecFeatureConverter`` (packing
by default), then batches of this host's share of the global batch. On several hosts each
host reads only its shard (``shard_info`` = process index / process count) and
:func:`to_global` assembles the global ``jax.Array`` sharded on the mesh.

Data position. :class:`TrainBatches` saves ``tf.data``'s iterator state with each
checkpoint (for the SQL tasks, whose source is a ``Dataset.range`` of block numbers, that is
the block and the offset in it plus the buffers downstream), so a resumed run continues
where the saved one stopped, in constant time, and sees exactly the batches an
uninterrupted run would have. A pipeline ``tf.data`` cannot save (a ``from_generator``
source of another project) falls back to replay: the pipeline is deterministic, so
skipping the consumed batches regenerates the same position, at the source's speed.

:func:`check_vocabularies` is the t5x check that the task's vocabulary is the model's.
"""
from __future__ import annotations

import io
import logging
import os
import zipfile
from typing import Any, Iterator, Mapping

import numpy as np

from symjax.errors import ConfigError, DataError, VocabularyError

__all__ = ["MODEL_FEATURES", "TrainBatches", "get_provider", "train_batches", "eval_batches", "feature_converter",
           "check_vocabularies", "task_vocabularies", "to_global"]

log = logging.getLogger(__name__)

MODEL_FEATURES = (
    "encoder_input_tokens", "encoder_segment_ids", "encoder_positions",
    "decoder_input_tokens", "decoder_target_tokens", "decoder_loss_weights",
    "decoder_segment_ids", "decoder_positions",
)


def feature_converter(*, pack: bool) -> Any:
    import seqio

    return seqio.EncDecFeatureConverter(pack=pack)


def get_provider(name: str) -> Any:
    import seqio

    try:
        return seqio.get_mixture_or_task(name)
    except ValueError as e:
        raise ConfigError(
            f"seqio has no task or mixture {name!r}; import the module that registers it "
            "(symjax tasks: `import symjax.tasks`, in gin `import symjax.tasks`) or fix "
            "the name (MIXTURE_OR_TASK_NAME)"
        ) from e


def task_vocabularies(name: str) -> dict[str, Any]:
    """``{task name: targets vocabulary}`` for a task or every task of a mixture."""
    provider = get_provider(name)
    tasks = getattr(provider, "tasks", None) or [provider]
    return {t.name: t.output_features["targets"].vocabulary for t in tasks}


def _describe_vocabulary(vocab: Any) -> str:
    path = getattr(vocab, "sentencepiece_model_file", None) or getattr(vocab, "_sentencepiece_model_file", None)
    kind = type(vocab).__name__
    return f"{kind}({path})" if path else f"{kind}(size {vocab.vocab_size})"


def check_vocabularies(*, name: str, vocabulary: Any, model_vocab_size: int) -> None:
    """Every task of ``name`` must use ``vocabulary`` (the run's), and the model's output
    layer must cover it. Raises :class:`VocabularyError` naming both vocabularies, or, when
    a SentencePiece model cannot be read (offline), the offline alternatives."""
    from symjax.tasks.tokenizers import load_vocabulary

    load_vocabulary(vocabulary)
    for task, vocab in task_vocabularies(name).items():
        if vocab != vocabulary:
            raise VocabularyError(
                f"task {task!r} uses vocabulary {_describe_vocabulary(vocab)} but the run's "
                f"vocabulary is {_describe_vocabulary(vocabulary)}; make them the same "
                "(TrainConfig.vocabulary / the VOCABULARY macro, or SYMJAX_VOCABULARY for "
                "symjax tasks)"
            )
    size = vocabulary.vocab_size
    if size > model_vocab_size:
        raise VocabularyError(
            f"the vocabulary has {size} tokens ({_describe_vocabulary(vocabulary)}) but the "
            f"model's vocab_size is {model_vocab_size}; use a model config with "
            f"vocab_size >= {size} (T5Config.vocab_size)"
        )


def _shard_info(shard_index: int, num_shards: int) -> Any:
    import seqio

    if num_shards < 1 or not 0 <= shard_index < num_shards:
        raise ConfigError(f"bad host shard {shard_index} of {num_shards}")
    return seqio.ShardInfo(index=shard_index, num_shards=num_shards) if num_shards > 1 else None


def _dataset(*, name: str, feature_lengths: Mapping[str, int], split: str, shuffle: bool,
             seed: int | None, pack: bool, use_cached: bool, num_epochs: int | None,
             shard_index: int, num_shards: int) -> Any:
    import seqio

    get_provider(name)
    try:
        return seqio.get_dataset(
            name, task_feature_lengths=dict(feature_lengths),
            feature_converter=feature_converter(pack=pack), dataset_split=split,
            use_cached=use_cached, shuffle=shuffle, num_epochs=num_epochs,
            shard_info=_shard_info(shard_index, num_shards), seed=seed, verbose=False,
        )
    except (ValueError, KeyError, FileNotFoundError) as e:
        raise DataError(f"cannot build the {split!r} dataset of {name!r}: {e}") from e


def _pipeline_options() -> Any:
    """Keep tf.data to a small private thread pool: the input pipeline of a training step is
    light, and TensorFlow's default pools (one thread per core, spinning while idle) take
    cores from the XLA computation on CPU hosts."""
    import tensorflow as tf

    options = tf.data.Options()
    options.threading.private_threadpool_size = 2
    options.threading.max_intra_op_parallelism = 1
    return options


class TrainBatches:
    """Endless host batches ``{feature: int32 [batch_size, length]}`` of a ``tf.data``
    pipeline whose position can be saved and restored (:meth:`state`, :meth:`restore`).

    The position is ``tf.data``'s own iterator state: for the SQL tasks the block number and
    the offset in the block, plus what the pipeline holds at that moment (the shuffle
    buffer, partly packed rows, prefetched batches), so a restored pipeline hands out
    exactly the batches an uninterrupted one would have, without regenerating any."""

    def __init__(self, dataset: Any):
        import tensorflow as tf

        self._tf = tf
        self._dataset = dataset
        self._iterator = iter(dataset)
        self.saveable = True

    def __iter__(self) -> "TrainBatches":
        return self

    def __next__(self) -> dict[str, np.ndarray]:
        batch = next(self._iterator)
        return {k: np.asarray(v, np.int32) for k, v in batch.items()}

    def state(self) -> bytes | None:
        """The position, as bytes; ``None`` when the pipeline cannot be saved (a source
        ``tf.data`` cannot checkpoint, such as ``Dataset.from_generator``), in which case a
        restart replays the consumed batches instead."""
        import tempfile

        if not self.saveable:
            return None
        with tempfile.TemporaryDirectory(prefix="symjax_data_") as tmp:
            try:
                prefix = self._tf.train.Checkpoint(iterator=self._iterator).write(os.path.join(tmp, "data"))
            except (self._tf.errors.OpError, ValueError, TypeError) as e:
                self.saveable = False
                log.warning("the input pipeline's position cannot be saved (%s: %s); a restart will replay "
                            "the consumed batches instead", type(e).__name__, str(e)[:300])
                return None
            del prefix
            buffer = io.BytesIO()
            with zipfile.ZipFile(buffer, "w", zipfile.ZIP_STORED) as archive:
                for name in sorted(os.listdir(tmp)):
                    archive.write(os.path.join(tmp, name), arcname=name)
            return buffer.getvalue()

    def restore(self, state: bytes) -> None:
        """Continue from a position saved by :meth:`state` on the same pipeline."""
        import tempfile

        with tempfile.TemporaryDirectory(prefix="symjax_data_") as tmp:
            try:
                with zipfile.ZipFile(io.BytesIO(state)) as archive:
                    for name in archive.namelist():
                        if os.path.basename(name) != name or not name.startswith("data"):
                            raise ValueError(f"unexpected member {name!r}")
                        with open(os.path.join(tmp, name), "wb") as f:
                            f.write(archive.read(name))
                status = self._tf.train.Checkpoint(iterator=self._iterator).read(os.path.join(tmp, "data"))
                status.assert_consumed()
            except (zipfile.BadZipFile, self._tf.errors.OpError, AssertionError, ValueError) as e:
                raise DataError(
                    f"the saved input-pipeline position does not fit this pipeline ({type(e).__name__}: "
                    f"{str(e)[:300]}); the data configuration changed since the checkpoint, or the file is "
                    "damaged"
                ) from e


def train_batches(*, name: str, feature_lengths: Mapping[str, int], batch_size: int, seed: int,
                  pack: bool = True, use_cached: bool = False, skip_batches: int = 0,
                  shard_index: int = 0, num_shards: int = 1, split: str = "train") -> TrainBatches:
    """Endless host batches of the train split (:class:`TrainBatches`), starting after
    ``skip_batches`` batches (which regenerates them; a saved position restores in
    constant time instead, :meth:`TrainBatches.restore`).

    ``batch_size`` is this host's share of the global batch."""
    import tensorflow as tf

    if batch_size < 1:
        raise ConfigError(f"batch_size must be >= 1, got {batch_size}")
    ds = _dataset(name=name, feature_lengths=feature_lengths, split=split, shuffle=True,
                  seed=seed, pack=pack, use_cached=use_cached, num_epochs=None,
                  shard_index=shard_index, num_shards=num_shards)
    ds = ds.batch(batch_size, drop_remainder=True)
    ds = ds.with_options(_pipeline_options())
    if skip_batches:
        log.info("skipping %d batches to restore the data position (replay)", skip_batches)
        ds = ds.skip(skip_batches)
    ds = ds.prefetch(tf.data.AUTOTUNE)
    return TrainBatches(ds)


def eval_batches(*, name: str, feature_lengths: Mapping[str, int], batch_size: int,
                 split: str = "validation", max_batches: int | None = None,
                 use_cached: bool = False, shard_index: int = 0, num_shards: int = 1
                 ) -> Iterator[dict[str, np.ndarray]]:
    """One pass over a finite split, unpacked and in order; the last batch is padded with
    empty rows (zero loss weight) to ``batch_size``."""
    ds = _dataset(name=name, feature_lengths=feature_lengths, split=split, shuffle=False,
                  seed=None, pack=False, use_cached=use_cached, num_epochs=1,
                  shard_index=shard_index, num_shards=num_shards)
    ds = ds.batch(batch_size, drop_remainder=False)
    for i, batch in enumerate(ds.as_numpy_iterator()):
        if max_batches is not None and i >= max_batches:
            return
        out = {}
        for k, v in batch.items():
            v = np.asarray(v, np.int32)
            if v.shape[0] < batch_size:
                v = np.concatenate([v, np.zeros((batch_size - v.shape[0],) + v.shape[1:], np.int32)])
            out[k] = v
        yield out


def to_global(batch: Mapping[str, np.ndarray], sharding: Any) -> dict[str, Any]:
    """This host's rows -> global ``jax.Array``s with ``sharding`` (the batch axis split
    over hosts in process order)."""
    import jax

    return {k: jax.make_array_from_process_local_data(sharding, v) for k, v in batch.items()}
