"""The example stream: deterministic, sharded, effectively infinite SQL-execution examples.

The stream is a sequence of *blocks*. Block ``b`` draws one table (synthetic, or one of the
user's tables), truncates it to the input budget (before anything is executed, so answers
always match the visible table), linearizes it once, and samples
``queries_per_table`` distinct, well-defined queries on it in one call of the batched
numba lane (:func:`symjax.sql.lane.sample_block`). A synthetic table that fits the budget
as it is takes all of that in one kernel call (:func:`symjax.sql.lane.sample_synthetic`),
with the same result. Everything a block does is a pure function of ``(seed, b, config)``,
so:

* the same arguments give byte-identical examples in any process;
* shard ``s`` of ``n`` takes the blocks ``b = s, s + n, s + 2n, ...``: shards are disjoint
  and together they are exactly the unsharded stream (interleaved by block).
"""
from __future__ import annotations

import itertools
import os
from dataclasses import dataclass, field
from itertools import repeat
from pathlib import Path
from typing import Any, Callable, Iterator

from symjax.errors import ConfigError, SamplingError, TableError
from symjax.sql.answers import answer_text
from symjax.sql.families import SamplerConfig
from symjax.sql.lane import Block, sample_block, sample_synthetic
from symjax.sql.linearize import STYLES, fits_as_is, linearize, truncate_table
from symjax.sql.plan import Query
from symjax.sql.render import SQL_STYLES
from symjax.sql.table import Table

__all__ = ["INSTRUCTIONS", "LAYOUTS", "StreamConfig", "Example", "examples", "block_examples", "block_seed"]

INSTRUCTIONS: dict[str, str] = {
    "execute": "Execute SQL on the table:",
    "result": "What is the result of this SQL query on the table?",
    "run": "Run the following SQL query against the table and give the result:",
    "answer": "Answer the SQL query based on the table below.",
}
LAYOUTS = ("sql_first", "table_first")
_MASK64 = (1 << 64) - 1
_QUERY_STREAM = 1  # block_seed(bseed, 1) seeds the block's queries; bseed its table


def block_seed(seed: int, block: int) -> int:
    """A 64-bit seed for block ``block`` of the stream ``seed`` (splitmix64 mixing)."""
    z = (seed * 0x9E3779B97F4A7C15 + block * 0xBF58476D1CE4E5B9 + 0x94D049BB133111EB) & _MASK64
    z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & _MASK64
    z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & _MASK64
    return z ^ (z >> 31)


@dataclass(frozen=True)
class StreamConfig:
    """Everything that shapes the stream besides the seed and the shard.

    Table source (``tables``): ``None`` for the synthetic generator (shaped by
    ``table_config``), a sequence of :class:`Table`, or a directory of CSV/JSONL/WTQ/TabFact
    files (read once with :func:`symjax.sql.io.read_table_dir`).

    Prompt: ``inputs`` is ``"{instruction} {sql}\\n{table}"`` (``layout="sql_first"``) or
    ``"{table}\\n{instruction} {sql}"`` (``"table_first"``), with the SQL in ``sql_style``
    (``standard`` or ``tapex``) and the table in ``table_style`` (``tapex``, ``indexed`` or
    ``markdown``); ``instruction`` is a key of :data:`INSTRUCTIONS` or literal text;
    ``lowercase`` lower-cases inputs and targets (TAPEX). ``targets`` is the canonical
    answer text. ``Example.sql`` is always the standard style.

    Budget: tables are cut (cells to ``max_cell_chars``, then rows) so that the table text
    fits ``max_input_chars - sql_reserve_chars`` characters, or, with ``count_tokens``,
    ``max_input_tokens - sql_reserve_tokens`` tokens; examples whose ``inputs`` still exceed
    ``max_input_chars`` are skipped, so the character budget is a guarantee.
    """

    tables: Any = None
    table_config: Any = None
    sampler: SamplerConfig = field(default_factory=SamplerConfig)
    queries_per_table: int = 16
    sql_style: str = "standard"
    table_style: str = "tapex"
    instruction: str = "execute"
    layout: str = "sql_first"
    lowercase: bool = False
    max_input_chars: int | None = 6000
    sql_reserve_chars: int = 400
    max_cell_chars: int | None = 100
    max_input_tokens: int | None = None
    sql_reserve_tokens: int = 128
    count_tokens: Callable[[str], int] | None = None

    def __post_init__(self):
        if self.sql_style not in SQL_STYLES:
            raise ConfigError(f"sql_style={self.sql_style!r}; use one of {SQL_STYLES}")
        if self.table_style not in STYLES:
            raise ConfigError(f"table_style={self.table_style!r}; use one of {STYLES}")
        if self.layout not in LAYOUTS:
            raise ConfigError(f"layout={self.layout!r}; use one of {LAYOUTS}")
        if not isinstance(self.queries_per_table, int) or self.queries_per_table < 1:
            raise ConfigError(f"queries_per_table must be an int >= 1, got {self.queries_per_table!r}")
        if self.max_input_chars is not None and self.max_input_chars <= self.sql_reserve_chars:
            raise ConfigError(
                f"max_input_chars={self.max_input_chars} leaves no room for the table after "
                f"sql_reserve_chars={self.sql_reserve_chars}"
            )
        if self.max_input_tokens is not None and self.count_tokens is None:
            raise ConfigError("max_input_tokens needs count_tokens (a function str -> int)")
        if not isinstance(self.sampler, SamplerConfig):
            raise ConfigError(f"sampler must be a SamplerConfig, got {type(self.sampler).__name__}")
        if self.tables is not None and not isinstance(self.tables, (str, os.PathLike, list, tuple)):
            raise ConfigError(
                "tables must be None (synthetic), a list of Table, or a directory path; "
                f"got {type(self.tables).__name__}"
            )

    @property
    def instruction_text(self) -> str:
        return INSTRUCTIONS.get(self.instruction, self.instruction)


class Example:
    """One SQL-execution example.

    ``table`` is the table the model sees (after truncation); ``sql`` the standard-style
    SQL; ``answer`` the canonical answer strings; ``inputs``/``targets`` the prompt and the
    target text; ``plan`` the query plan (decoded on first access); ``ordered`` whether the
    answer's order is defined (``ORDER BY``); ``block``/``position`` where it sits in the
    stream.
    """

    __slots__ = ("table", "sql", "answer", "family", "inputs", "targets", "ordered", "block",
                 "position", "_source")

    def __init__(self, table, sql, answer, family, inputs, targets, source, ordered, block, position):
        self.table: Table = table
        self.sql: str = sql
        self.answer: tuple[str, ...] = answer
        self.family: str = family
        self.inputs: str = inputs
        self.targets: str = targets
        self._source = source  # a Query, or (lane Block, index) decoded on demand
        self.ordered: bool = ordered
        self.block: int = block
        self.position: int = position

    @property
    def plan(self) -> Query:
        source = self._source
        if isinstance(source, tuple):
            source = self._source = source[0].plan(source[1])
        return source

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Example):
            return NotImplemented
        return (
            self.to_dict(include_table=False) == other.to_dict(include_table=False)
            and self.ordered == other.ordered
            and self.table == other.table
        )

    __hash__ = None  # type: ignore[assignment]

    def __repr__(self) -> str:
        return (
            f"Example(block={self.block}, position={self.position}, family={self.family!r}, "
            f"sql={self.sql!r}, answer={self.answer!r})"
        )

    def to_dict(self, *, include_table: bool = True) -> dict[str, Any]:
        """A JSON-ready dict (the table as header/types/rows unless ``include_table=False``)."""
        out = {
            "inputs": self.inputs,
            "targets": self.targets,
            "sql": self.sql,
            "answer": list(self.answer),
            "family": self.family,
            "block": self.block,
            "position": self.position,
        }
        if include_table:
            out["table"] = self.table.to_dict()
        return out


_DIR_CACHE: dict[str, list[Table]] = {}


def _user_tables(source: Any) -> list[Table]:
    if isinstance(source, (str, os.PathLike)):
        key = str(Path(source).resolve())
        tables = _DIR_CACHE.get(key)
        if tables is None:
            from symjax.sql.io import read_table_dir

            tables = read_table_dir(source, one_per_stem=True)
            if not tables:
                raise ConfigError(f"no tables found in {source!s} (supported: .csv, .tsv, .jsonl, .json, .html.csv)")
            _DIR_CACHE[key] = tables
        return tables
    tables = list(source)
    if not tables:
        raise ConfigError("tables is an empty list; give at least one Table or use None for synthetic tables")
    for i, t in enumerate(tables):
        if not isinstance(t, Table):
            raise ConfigError(f"tables[{i}] is a {type(t).__name__}, not a symjax.sql.Table")
    return tables


class _BlockMaker:
    """Builds the examples of one block; holds what is shared across blocks."""

    def __init__(self, seed: int, config: StreamConfig):
        self.seed = seed
        self.config = config
        self.linearize = linearize
        self.truncate = truncate_table
        self.user_tables = None if config.tables is None else _user_tables(config.tables)
        if self.user_tables is None:
            from symjax.sql.tables import TableConfig, generate_table

            self.table_config = config.table_config or TableConfig()
            self.generate_table = generate_table
        self.instruction = config.instruction_text.lower() if config.lowercase else config.instruction_text
        self.table_budget = None
        if config.max_input_chars is not None:
            self.table_budget = config.max_input_chars - config.sql_reserve_chars
        # one kernel call per block (lane.sample_synthetic) where the table's budget is in
        # characters: a drawn table that fits is used as it is (truncate_table's first case)
        self.fused = (self.user_tables is None and config.max_input_tokens is None
                      and self.table_budget is not None and config.sql_style == "standard")

    def table(self, bseed: int) -> Table:
        cfg = self.config
        if self.user_tables is None:
            table = self.generate_table(bseed & 0x7FFFFFFFFFFFFFFF, self.table_config)
        else:
            table = self.user_tables[bseed % len(self.user_tables)]
        if cfg.max_input_tokens is not None:
            return self.truncate(
                table, max_tokens=cfg.max_input_tokens, count_tokens=cfg.count_tokens,
                reserve=cfg.sql_reserve_tokens, style=cfg.table_style, lowercase=cfg.lowercase,
                max_cell_chars=cfg.max_cell_chars, seed=bseed,
            )
        if self.table_budget is not None or cfg.max_cell_chars is not None:
            return self.truncate(
                table, max_chars=self.table_budget, style=cfg.table_style,
                lowercase=cfg.lowercase, max_cell_chars=cfg.max_cell_chars, seed=bseed,
            )
        return table

    def fused_block(self, bseed: int, qseed: int) -> tuple[str, Block] | None:
        """The table text and queries of the block whose table and queries are seeded by
        ``bseed`` and ``qseed``, from one kernel call, or ``None`` (the drawn table must be
        cut, or the kernels left part of it to Python)."""
        cfg = self.config
        got = sample_synthetic(bseed & 0x7FFFFFFFFFFFFFFF, self.table_config, qseed, cfg.sampler,
                               cfg.queries_per_table, cfg.table_style)
        if got is None:
            return None
        table = got[1].table
        if not fits_as_is(table, self.table_budget, style=cfg.table_style, lowercase=cfg.lowercase,
                          max_cell_chars=cfg.max_cell_chars):
            return None
        return self.linearize(table, style=cfg.table_style, lowercase=cfg.lowercase), got[1]

    def block(self, b: int) -> list[Example]:
        cfg = self.config
        bseed = block_seed(self.seed, b)
        qseed = block_seed(bseed, _QUERY_STREAM)
        fused = self.fused_block(bseed, qseed) if self.fused else None
        if fused is not None:
            table_text, got = fused
            table = got.table
        else:
            try:
                table = self.table(bseed)
            except TableError:
                return []  # a user table that cannot fit the budget at all
            table_text = self.linearize(table, style=cfg.table_style, lowercase=cfg.lowercase)
            got = sample_block(
                table, qseed, cfg.sampler, cfg.queries_per_table,
                sql_style=cfg.sql_style, keep_prepared=self.user_tables is not None,
            )
        if cfg.layout == "sql_first":
            head, tail = self.instruction + " ", "\n" + table_text
        else:
            head, tail = table_text + "\n" + self.instruction + " ", ""
        shown = got.shown
        if cfg.lowercase:
            shown = [text.lower() for text in shown]
        inputs = [head + text + tail for text in shown]
        targets = list(map(answer_text, got.answers))
        if cfg.lowercase:
            targets = [text.lower() for text in targets]
        columns = [got.sql, got.answers, got.families, inputs, targets, got.ordered]
        keep = range(len(inputs))
        max_chars = cfg.max_input_chars
        if max_chars is not None and inputs and max(map(len, inputs)) > max_chars:
            keep = [k for k, text in enumerate(inputs) if len(text) <= max_chars]
            columns = [[column[k] for k in keep] for column in columns]
        sql, answers, families, inputs, targets, ordered = columns
        return list(map(Example, repeat(table), sql, answers, families, inputs, targets,
                        zip(repeat(got), keep), ordered, repeat(b), range(len(keep))))


def examples(
    seed: int,
    *,
    shard_index: int = 0,
    num_shards: int = 1,
    config: StreamConfig | None = None,
    start_block: int = 0,
) -> Iterator[Example]:
    """An infinite iterator of :class:`Example` for ``seed``, shard ``shard_index`` of
    ``num_shards``. ``start_block`` skips ahead (resuming a stream without replaying it)."""
    if not isinstance(seed, int) or seed < 0:
        raise ConfigError(f"seed must be a non-negative int, got {seed!r}")
    if not isinstance(num_shards, int) or num_shards < 1:
        raise ConfigError(f"num_shards must be an int >= 1, got {num_shards!r}")
    if not isinstance(shard_index, int) or not 0 <= shard_index < num_shards:
        raise ConfigError(
            f"shard_index must be an int in [0, {num_shards}), got {shard_index!r}"
        )
    maker = _BlockMaker(seed, config or StreamConfig())
    return _iterate(maker, shard_index, num_shards, start_block)


_MAX_EMPTY_BLOCKS = 200


def _iterate(maker: _BlockMaker, shard_index: int, num_shards: int, start_block: int) -> Iterator[Example]:
    first = start_block + ((shard_index - start_block) % num_shards)
    empty = 0
    for b in itertools.count(first, num_shards):
        got = maker.block(b)
        if got:
            empty = 0
            yield from got
            continue
        empty += 1
        if empty >= _MAX_EMPTY_BLOCKS:
            raise SamplingError(
                f"{empty} blocks in a row (up to block {b}) produced no example: no table fits "
                "the input budget or no family can be sampled on the tables; raise "
                "max_input_chars, give other tables, or change the family weights"
            )


def block_examples(seed: int, block: int, *, config: StreamConfig | None = None) -> list[Example]:
    """The examples of one block of the stream (possibly none): a pure function of
    ``(seed, block, config)``, for sources that index blocks directly (e.g. a resumable
    ``tf.data.Dataset.range`` of block numbers)."""
    if not isinstance(block, int) or block < 0:
        raise ConfigError(f"block must be a non-negative int, got {block!r}")
    if not isinstance(seed, int) or seed < 0:
        raise ConfigError(f"seed must be a non-negative int, got {seed!r}")
    key = (seed, id(config))
    maker = _MAKERS.get(key)
    if maker is None or maker.config is not (config or _DEFAULT_STREAM):
        maker = _BlockMaker(seed, config or _DEFAULT_STREAM)
        if len(_MAKERS) > 64:
            _MAKERS.clear()
        _MAKERS[key] = maker
    return maker.block(block)


_MAKERS: dict[tuple[int, int], _BlockMaker] = {}
_DEFAULT_STREAM = StreamConfig()
