"""seqio data sources: the SQL-execution stream, benchmark files, and FLAN JSONL files.

:class:`SqlExecutionSource` generates examples with :func:`symjax.sql.examples` *per
shard*: it declares ``supports_arbitrary_sharding``, so ``Task.get_dataset(shard_info=...)``
hands each host its ``ShardInfo`` and the host generates only the stream shard
``shard_index`` of ``num_shards`` (disjoint shards whose union is the whole stream). The
``train`` split is infinite unless ``train_blocks`` is set; ``validation`` and ``test`` are
finite: the examples of the first ``eval_blocks`` blocks (tables) of their own seeds, the
same for any number of shards. seqio's shuffle ``seed`` is not used: the stream is fixed by
the source's ``seed`` (shuffling happens in the Task's shuffle buffer).

:class:`BenchmarkSource` reads one benchmark split with a prompt template (or one BBH task /
MMLU subject) from the configured data directory when the dataset is built, and yields
``inputs``, ``targets``, ``id`` and ``gold`` (JSON of the gold fields the metrics read).
:class:`WtqTfdsSource` does the same for WTQ read from the prepared TFDS builder
``wiki_table_questions`` (:func:`symjax.tasks.table_qa.read_wtq_tfds`).

:class:`JsonlSource` reads ``{"inputs", "targets"}`` JSONL files (a FLAN export), sharded by
file when there are enough files, else by line.
"""
from __future__ import annotations

import glob
import json
from typing import Any, Callable, Mapping, Sequence

import seqio
import tensorflow as tf

from symjax.errors import ConfigError, DataError, MissingDataError

__all__ = ["SqlExecutionSource", "BenchmarkSource", "WtqTfdsSource", "JsonlSource", "split_seed", "SQL_FEATURES"]

SQL_FEATURES = ("inputs", "targets", "family", "sql")
_SPLIT_OFFSETS = {"train": 0, "validation": 1, "test": 2}
_STRING = tf.TensorSpec(shape=(), dtype=tf.string)


def split_seed(seed: int, split: str) -> int:
    """The stream seed of a split: train, validation and test draw disjoint streams."""
    return seed * 3 + _SPLIT_OFFSETS[split]


def _shard(shard_info: Any) -> tuple[int, int]:
    if shard_info is None:
        return 0, 1
    return int(shard_info.index), int(shard_info.num_shards)


class SqlExecutionSource(seqio.DataSource):
    """SQL-execution examples from :func:`symjax.sql.examples` (see the module docstring).

    ``config`` is a :class:`symjax.sql.StreamConfig` or a zero-argument function returning
    one (built on first use, so registration stays cheap); ``num_shards`` is how many
    shards :meth:`list_shards` reports, i.e. how many workers
    ``seqio.scripts.cache_tasks_main`` fans out over.
    """

    def __init__(
        self,
        config: Any = None,
        *,
        seed: int = 0,
        train_blocks: int | None = None,
        eval_blocks: int = 64,
        num_shards: int = 16,
        splits: Sequence[str] = ("train", "validation", "test"),
    ):
        if not isinstance(seed, int) or seed < 0:
            raise ConfigError(f"seed must be an int >= 0, got {seed!r}")
        if train_blocks is not None and train_blocks < 1:
            raise ConfigError(f"train_blocks must be >= 1 or None (infinite), got {train_blocks!r}")
        if eval_blocks < 1 or num_shards < 1:
            raise ConfigError(f"eval_blocks and num_shards must be >= 1, got {eval_blocks}, {num_shards}")
        unknown = [s for s in splits if s not in _SPLIT_OFFSETS]
        if unknown:
            raise ConfigError(f"unknown splits {unknown}; use train, validation, test")
        self._config = config
        self._seed = seed
        self._train_blocks = train_blocks
        self._eval_blocks = eval_blocks
        self._num_shards = num_shards
        # An infinite split cannot be cached offline.
        super().__init__(splits=splits, caching_permitted=train_blocks is not None)

    @property
    def config(self):
        from symjax.sql import StreamConfig

        if self._config is None:
            self._config = StreamConfig()
        elif callable(self._config) and not isinstance(self._config, StreamConfig):
            self._config = self._config()
        return self._config

    @property
    def seed(self) -> int:
        return self._seed

    @property
    def supports_arbitrary_sharding(self) -> bool:
        return True

    def blocks(self, split: str) -> int | None:
        """How many blocks (tables) ``split`` has; ``None`` for an infinite split."""
        return self._train_blocks if split == "train" else self._eval_blocks

    def list_shards(self, split: str) -> Sequence[str]:
        n = self._num_shards
        return [f"{split}-{i:05d}-of-{n:05d}" for i in range(n)]

    def num_input_examples(self, split: str) -> int | None:
        blocks = self.blocks(split)
        return None if blocks is None else blocks * self.config.queries_per_table

    def python_examples(self, split: str, shard_info: Any = None):
        """The examples of ``split`` (shard ``shard_info``) as :class:`symjax.sql.Example`."""
        from symjax.sql import examples

        if split not in self.splits:
            raise ConfigError(f"split {split!r} is not one of {self.splits}")
        index, num = _shard(shard_info)
        limit = self.blocks(split)
        for ex in examples(split_seed(self._seed, split), shard_index=index, num_shards=num, config=self.config):
            if limit is not None and ex.block >= limit:
                return
            yield ex

    def get_dataset(
        self,
        split: str = "train",
        shuffle: bool = True,
        seed: int | None = None,
        shard_info: Any = None,
        *,
        sequence_length: Mapping[str, int] | None = None,
        use_cached: bool = False,
        num_epochs: int | None = 1,
    ) -> tf.data.Dataset:
        del shuffle, seed, sequence_length, use_cached, num_epochs  # the stream is fixed by self.seed

        def generate():
            for ex in self.python_examples(split, shard_info):
                yield {"inputs": ex.inputs, "targets": ex.targets, "family": ex.family, "sql": ex.sql}

        return tf.data.Dataset.from_generator(generate, output_signature={k: _STRING for k in SQL_FEATURES})


class BenchmarkSource(seqio.DataSource):
    """Prompted examples of one benchmark and template, read from the raw files when the
    dataset is built (the data directory may be set after registration)."""

    def __init__(
        self,
        benchmark: str,
        *,
        template: int = 0,
        part: str | None = None,
        splits: Sequence[str] = ("validation", "test"),
        config_fn: Callable[[], Any] | None = None,
    ):
        self.benchmark = benchmark
        self.template = template
        self.part = part
        self._config_fn = config_fn
        super().__init__(splits=splits)

    @property
    def supports_arbitrary_sharding(self) -> bool:
        return True

    def list_shards(self, split: str) -> Sequence[str]:
        return [split]

    def examples(self, split: str):
        from symjax.tasks.benchmarks import load_examples
        from symjax.tasks.settings import split_file

        if split not in self.splits:
            raise ConfigError(f"{self.benchmark} has splits {list(self.splits)}, not {split!r}")
        config = self._config_fn() if self._config_fn is not None else None
        return load_examples(
            self.benchmark, split_file(self.benchmark, split), template=self.template, part=self.part,
            config=config,
        )

    def get_dataset(
        self,
        split: str = "test",
        shuffle: bool = True,
        seed: int | None = None,
        shard_info: Any = None,
        *,
        sequence_length: Mapping[str, int] | None = None,
        use_cached: bool = False,
        num_epochs: int | None = 1,
    ) -> tf.data.Dataset:
        del shuffle, seed, sequence_length, use_cached, num_epochs
        index, num = _shard(shard_info)
        rows = self.examples(split)[index::num]
        return tf.data.Dataset.from_tensor_slices({
            "inputs": tf.constant([r.inputs for r in rows], dtype=tf.string),
            "targets": tf.constant([r.targets for r in rows], dtype=tf.string),
            "id": tf.constant([r.id for r in rows], dtype=tf.string),
            "gold": tf.constant([json.dumps(r.gold, ensure_ascii=False) for r in rows], dtype=tf.string),
        })


class WtqTfdsSource(BenchmarkSource):
    """Prompted WTQ examples (template ``template``, the raw-file tasks' prompts and table
    budget) from the prepared TFDS builder ``wiki_table_questions``.

    The TFDS data directory (:func:`symjax.tasks.settings.tfds_data_dir`) and the seqio ->
    TFDS split map (:func:`symjax.tasks.settings.tfds_split`) are read when the dataset is
    built; nothing is loaded, and nothing is ever downloaded, at registration. An
    unprepared dataset raises :class:`~symjax.errors.MissingDataError`."""

    def __init__(
        self,
        *,
        template: int = 0,
        splits: Sequence[str] = ("validation", "test"),
        config_fn: Callable[[], Any] | None = None,
    ):
        super().__init__("wtq", template=template, splits=splits, config_fn=config_fn)

    def examples(self, split: str):
        from symjax.tasks.settings import tfds_data_dir, tfds_split
        from symjax.tasks.table_qa import read_wtq_tfds, table_questions_to_examples

        if split not in self.splits:
            raise ConfigError(f"the TFDS WTQ tasks have splits {list(self.splits)}, not {split!r}")
        config = self._config_fn() if self._config_fn is not None else None
        questions = read_wtq_tfds(tfds_split(split), data_dir=tfds_data_dir())
        return table_questions_to_examples("wtq", questions, self.template, config)


class JsonlSource(seqio.DataSource):
    """``{"inputs": ..., "targets": ...}`` JSONL files; ``patterns`` is a function returning
    ``{split: [glob pattern, ...]}`` (read when the dataset is built)."""

    def __init__(self, patterns: Callable[[], Mapping[str, Sequence[str]]], *, splits: Sequence[str] = ("train",)):
        self._patterns = patterns
        super().__init__(splits=splits)

    @property
    def supports_arbitrary_sharding(self) -> bool:
        return True

    def files(self, split: str) -> list[str]:
        patterns = self._patterns().get(split)
        if not patterns:
            raise MissingDataError(
                f"no FLAN JSONL files configured for split {split!r}: set SYMJAX_FLAN_JSONL (comma-separated "
                "glob patterns of JSONL files with 'inputs' and 'targets') or call "
                "symjax.tasks.set_flan_source(jsonl=...), or name a registered FLAN mixture with "
                "SYMJAX_FLAN_MIXTURE / set_flan_source(mixture=...)"
            )
        files = sorted({f for p in patterns for f in glob.glob(p)})
        if not files:
            raise MissingDataError(f"the FLAN JSONL patterns {list(patterns)} match no file")
        return files

    def list_shards(self, split: str) -> Sequence[str]:
        return self.files(split)

    def get_dataset(
        self,
        split: str = "train",
        shuffle: bool = True,
        seed: int | None = None,
        shard_info: Any = None,
        *,
        sequence_length: Mapping[str, int] | None = None,
        use_cached: bool = False,
        num_epochs: int | None = 1,
    ) -> tf.data.Dataset:
        del shuffle, seed, sequence_length, use_cached, num_epochs
        files = self.files(split)
        index, num = _shard(shard_info)
        by_file = len(files) >= num
        mine = files[index::num] if by_file else files

        def generate():
            k = 0
            for path in mine:
                with tf.io.gfile.GFile(path, "r") as f:
                    for line_no, line in enumerate(f, start=1):
                        if not line.strip():
                            continue
                        if not by_file:
                            k += 1
                            if (k - 1) % num != index:
                                continue
                        try:
                            obj = json.loads(line)
                            yield {"inputs": str(obj["inputs"]), "targets": str(obj["targets"])}
                        except (json.JSONDecodeError, KeyError, TypeError) as e:
                            raise DataError(
                                f"{path}, line {line_no}: a FLAN line is {{\"inputs\": str, \"targets\": str}} ({e})"
                            ) from e

        return tf.data.Dataset.from_generator(
            generate, output_signature={"inputs": _STRING, "targets": _STRING}
        )
