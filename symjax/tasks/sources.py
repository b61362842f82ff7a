"""seqio data sources: the SQL-execution stream, benchmark files, and FLAN JSONL files.

A source yields *what to build*; the task's first preprocessor
(:mod:`symjax.tasks.preprocessors`), which seqio gives the ``sequence_length``, builds the
examples at those lengths with the task's vocabulary. So nothing is fitted to a guess and
seqio's trimming never removes anything.

:class:`SqlExecutionSource` yields the block numbers (``{"block", "stream_seed"}``) of
:func:`symjax.sql.examples` for this host's shard: it declares
``supports_arbitrary_sharding``, so ``Task.get_dataset(shard_info=...)`` hands each host its
``ShardInfo`` and the host builds only the blocks ``b = index, index + n, ...`` (disjoint
shards whose union is the whole stream). A block's examples are a pure function of
``(seed, block, config, lengths, vocabulary)``, so the data position is the block number
and the offset in it: a ``tf.data.Dataset.range``, which ``tf.data`` saves and restores in
constant time. The ``train`` split is infinite unless ``train_blocks`` is set;
``validation`` and ``test`` are the first ``eval_blocks`` blocks of their own seeds, the
same for any number of shards. seqio's ``shuffle`` and ``seed`` arguments are not used by
the source (the stream is fixed by the source's ``seed``; the Task's shuffle buffer, which
seqio seeds, mixes the blocks' examples).

:class:`BenchmarkSource` yields one element per shard; the examples of one benchmark split
with a prompt template (or one BBH task / MMLU subject) are read from the configured data
directory and prompted at the requested lengths (:meth:`BenchmarkSource.fitted_examples`).
:class:`WtqTfdsSource` does the same for WTQ read from the prepared TFDS builder
``wiki_table_questions`` (:func:`symjax.tasks.table_qa.read_wtq_tfds`).

:class:`JsonlSource` yields the lines of ``{"inputs", "targets"}`` JSONL files (a FLAN
export), sharded by file when there are enough files, else by line.
"""
from __future__ import annotations

import collections
import logging
import threading
from typing import Any, Callable, Mapping, Sequence

import seqio
import tensorflow as tf

from symjax.errors import ConfigError, MissingDataError

__all__ = ["SqlExecutionSource", "BenchmarkSource", "WtqTfdsSource", "JsonlSource", "split_seed", "SQL_FEATURES"]

log = logging.getLogger(__name__)
SQL_FEATURES = ("inputs", "targets", "family", "sql")
_SPLIT_OFFSETS = {"train": 0, "validation": 1, "test": 2}


def split_seed(seed: int, split: str) -> int:
    """The stream seed of a split: train, validation and test draw disjoint streams."""
    return seed * 3 + _SPLIT_OFFSETS[split]


def _shard(shard_info: Any) -> tuple[int, int]:
    if shard_info is None:
        return 0, 1
    return int(shard_info.index), int(shard_info.num_shards)


class SqlExecutionSource(seqio.DataSource):
    """Block numbers of the SQL-execution stream (see the module docstring).

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
        if not isinstance(seed, int) or isinstance(seed, bool) or seed < 0:
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
        self._fitted: dict[tuple, Any] = {}
        self._lock = threading.Lock()
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

    def fitted_config(self, lengths: Mapping[str, int] | None, tokenizer: Any):
        """The stream configuration at model lengths ``{"inputs": L, "targets": L}`` (token
        budgets ``L - 1``, EOS being the last token) with ``tokenizer``; with ``lengths=None``
        the configuration's character budget (the stream's default when it has none)."""
        import dataclasses

        from symjax.sql import StreamConfig

        key = (None if lengths is None else (lengths["inputs"], lengths["targets"]), id(tokenizer))
        with self._lock:
            entry = self._fitted.get(key)
            if entry is not None and entry[0] is tokenizer:
                return entry[1]
            base = self.config
            changes: dict[str, Any] = dict(tokenizer=tokenizer, count_tokens=None)
            if lengths is None:
                if base.max_input_chars is None and base.max_input_tokens is None:
                    changes["max_input_chars"] = StreamConfig.max_input_chars
            else:
                changes.update(max_input_tokens=lengths["inputs"] - 1, max_target_tokens=lengths["targets"] - 1)
            config = dataclasses.replace(base, **changes)
            self._fitted[key] = (tokenizer, config)
            return config

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
        """Blocks times queries per table: an upper bound (queries that do not fit are left out)."""
        blocks = self.blocks(split)
        return None if blocks is None else blocks * self.config.queries_per_table

    def _check_split(self, split: str) -> None:
        if split not in self.splits:
            raise ConfigError(f"split {split!r} is not one of {self.splits}")

    def python_examples(self, split: str, shard_info: Any = None, *, lengths: Mapping[str, int] | None = None,
                        vocabulary: Any = None):
        """The examples of ``split`` (shard ``shard_info``) as :class:`symjax.sql.Example`:
        the ones the task's dataset holds at ``lengths`` with ``vocabulary`` (the task's,
        by default)."""
        from symjax.sql.stream import block_examples

        from symjax.tasks.settings import get_vocabulary
        from symjax.tasks.tokenizers import tokenizer_for

        self._check_split(split)
        config = self.fitted_config(lengths, tokenizer_for(vocabulary or get_vocabulary()))
        index, num = _shard(shard_info)
        limit = self.blocks(split)
        seed = split_seed(self._seed, split)
        block = index
        while limit is None or block < limit:
            yield from block_examples(seed, block, config=config)
            block += num

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
        self._check_split(split)
        index, num = _shard(shard_info)
        limit = self.blocks(split)
        stream_seed = tf.constant(split_seed(self._seed, split), tf.int64)
        blocks = tf.data.Dataset.range(index, _ENDLESS if limit is None else limit, num)
        return blocks.map(lambda b: {"block": b, "stream_seed": stream_seed})


_ENDLESS = 2 ** 62  # the last block number of an infinite split (never reached)
_BUILDS_KEPT = 64  # benchmark readings a source keeps for the datasets built from them


class BenchmarkSource(seqio.DataSource):
    """Prompted examples of one benchmark and template, read from the raw files when the
    dataset is built (the data directory may be set after registration) and fitted to the
    lengths the task is asked for."""

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
        self._builds: collections.OrderedDict[int, dict] = collections.OrderedDict()
        self._count = 0
        self._lock = threading.RLock()
        super().__init__(splits=splits)

    @property
    def name(self) -> str:
        what = self.part if self.part is not None else f"template {self.template}"
        return f"{self.benchmark} ({what})"

    @property
    def supports_arbitrary_sharding(self) -> bool:
        return True

    def list_shards(self, split: str) -> Sequence[str]:
        return [split]

    def prompt_config(self) -> Any:
        """The :class:`~symjax.tasks.records.TablePromptConfig` of the character budget."""
        from symjax.tasks.records import TablePromptConfig

        return self._config_fn() if self._config_fn is not None else TablePromptConfig()

    def examples(self, split: str, *, config: Any = None, unfit: list | None = None):
        """The prompted examples of ``split`` at ``config``'s budget (default
        :meth:`prompt_config`); with ``unfit`` (a list), examples that cannot fit are
        appended to it as ``(id, reason)`` instead of raising."""
        from symjax.tasks.benchmarks import load_examples
        from symjax.tasks.settings import split_file

        if split not in self.splits:
            raise ConfigError(f"{self.benchmark} has splits {list(self.splits)}, not {split!r}")
        return load_examples(
            self.benchmark, split_file(self.benchmark, split), template=self.template, part=self.part,
            config=config or self.prompt_config(), unfit=unfit,
        )

    def read(self, split: str) -> int:
        """Read the examples of ``split`` at the character budget and return the number of
        this reading (a *build*): building a dataset reads the files, so a missing or
        malformed file is a typed error then, not while iterating, and a dataset keeps
        the data it was built from (the data directory may change afterwards)."""
        rows = self.examples(split)
        with self._lock:
            self._count += 1
            self._builds[self._count] = {"split": split, "rows": rows, "fitted": {}}
            while len(self._builds) > _BUILDS_KEPT:
                self._builds.popitem(last=False)
            return self._count

    def fitted_examples(self, split: str, lengths: Mapping[str, int] | None, tokenizer: Any, *,
                        build: int | None = None) -> list:
        """The examples of ``split`` fitted to model lengths ``{"inputs": L, "targets": L}``
        with ``tokenizer`` (EOS included): tables cut and shots dropped as needed, the
        question never cut. Those that cannot fit are left out, logged, and listed by
        :meth:`unfit`. ``lengths=None``: the character budget, nothing left out. ``build``
        (from :meth:`read`) reuses a reading."""
        from symjax.tasks.records import token_budget

        if build is None:
            build = self.read(split)
        with self._lock:
            entry = self._builds.get(build)
            if entry is None:
                raise ConfigError(f"{self.name}: dataset build {build} is gone; build the dataset again")
            if lengths is None:
                return entry["rows"]
            key = ((lengths["inputs"], lengths["targets"]), id(tokenizer))
            fitted = entry["fitted"].get(key)
            if fitted is not None and fitted[0] is tokenizer:
                return fitted[1]
            unfit: list[tuple[str, str]] = []
            config = token_budget(self.prompt_config(), inputs_length=lengths["inputs"],
                                  count_tokens=tokenizer.count)
            rows = self.examples(entry["split"], config=config, unfit=unfit)
            input_lengths = tokenizer.lengths([r.inputs for r in rows])
            target_lengths = tokenizer.lengths([r.targets for r in rows])
            kept = []
            for r, n_in, n_out in zip(rows, input_lengths, target_lengths):
                if n_in >= lengths["inputs"]:
                    unfit.append((r.id, f"inputs need {n_in + 1} tokens"))
                elif n_out >= lengths["targets"]:
                    unfit.append((r.id, f"targets need {n_out + 1} tokens"))
                else:
                    kept.append(r)
            if unfit:
                log.warning(
                    "%s %s: %d of %d examples cannot fit inputs %d / targets %d tokens even with the "
                    "table cut and the shots dropped; they are left out of the dataset (first: %s)",
                    self.name, entry["split"], len(unfit), len(kept) + len(unfit), lengths["inputs"],
                    lengths["targets"], "; ".join(f"{i}: {why}" for i, why in unfit[:3]))
            entry["fitted"][key] = (tokenizer, kept, unfit)
            return kept

    def unfit(self, split: str, lengths: Mapping[str, int], vocabulary: Any = None) -> list[tuple[str, str]]:
        """``(id, reason)`` of the examples of ``split`` that a dataset at ``lengths`` with
        ``vocabulary`` (the task's, by default) leaves out: of the latest reading of
        ``split`` (the one the last dataset was built from, so its fitting is reused), or a
        new reading when there is none."""
        from symjax.tasks.settings import get_vocabulary
        from symjax.tasks.tokenizers import tokenizer_for

        tokenizer = tokenizer_for(vocabulary or get_vocabulary())
        with self._lock:
            build = next((b for b in reversed(self._builds) if self._builds[b]["split"] == split), None)
        if build is None:
            build = self.read(split)
        self.fitted_examples(split, dict(lengths), tokenizer, build=build)
        with self._lock:
            return list(self._builds[build]["fitted"][((lengths["inputs"], lengths["targets"]), id(tokenizer))][2])

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
        if split not in self.splits:
            raise ConfigError(f"{self.benchmark} has splits {list(self.splits)}, not {split!r}")
        build = self.read(split)  # typed errors for missing or malformed files now
        index, num = _shard(shard_info)
        return tf.data.Dataset.from_tensors({
            "split": tf.constant(split), "build": tf.constant(build, tf.int64),
            "shard_index": tf.constant(index, tf.int64), "num_shards": tf.constant(num, tf.int64),
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

    def examples(self, split: str, *, config: Any = None, unfit: list | None = None):
        from symjax.tasks.settings import tfds_data_dir, tfds_split
        from symjax.tasks.table_qa import read_wtq_tfds, table_questions_to_examples

        if split not in self.splits:
            raise ConfigError(f"the TFDS WTQ tasks have splits {list(self.splits)}, not {split!r}")
        questions = read_wtq_tfds(tfds_split(split), data_dir=tfds_data_dir())
        return table_questions_to_examples("wtq", questions, self.template, config or self.prompt_config(),
                                           unfit=unfit)


class JsonlSource(seqio.DataSource):
    """``{"inputs": ..., "targets": ...}`` JSONL files; ``patterns`` is a function returning
    ``{split: [glob pattern, ...]}`` (read when the dataset is built). Yields the non-blank
    lines as ``{"text", "file", "line"}``; :func:`symjax.tasks.preprocessors.jsonl` parses
    and fits them."""

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
        files = sorted({f for p in patterns for f in tf.io.gfile.glob(p)})
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

        def lines(path: tf.Tensor) -> tf.data.Dataset:
            numbered = tf.data.Dataset.zip(tf.data.TextLineDataset(path), tf.data.Dataset.range(1, _ENDLESS))
            return numbered.map(lambda text, k: {"text": text, "file": path, "line": k})

        ds = tf.data.Dataset.from_tensor_slices(mine).flat_map(lines)
        ds = ds.filter(lambda x: tf.strings.length(tf.strings.strip(x["text"])) > 0)
        if not by_file:
            ds = ds.shard(num, index)
        return ds
