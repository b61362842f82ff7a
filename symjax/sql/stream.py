"""The example stream: deterministic, sharded, effectively infinite SQL-execution examples.

The stream is a sequence of *blocks*. Block ``b`` draws one table (synthetic, or one of the
user's tables), truncates it to the input budget (before anything is executed, so answers
always match the visible table), linearizes it once, and samples
``queries_per_table`` distinct, well-defined queries on it in one call of the batched
numba lane (:func:`symjax.sql.lane.sample_block`), the same way for every table.
Everything a block does is a pure function of ``(seed, b, config)``,
so:

* the same arguments give byte-identical examples in any process;
* shard ``s`` of ``n`` takes the blocks ``b = s, s + n, s + 2n, ...``: shards are disjoint
  and together they are exactly the unsharded stream (interleaved by block).
"""
from __future__ import annotations

import itertools
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Iterator, Sequence

import numpy as np

from symjax.errors import ConfigError, SamplingError, TableError
from symjax.sql.lane.blocks import Block, sample_block
from symjax.sql.query.families import SamplerConfig
from symjax.sql.query.plan import Query
from symjax.sql.query.render import SQL_STYLES
from symjax.sql.table import Table
from symjax.sql.text.answers import answer_text
from symjax.sql.text.linearize import STYLES, linearize, truncate_table
from symjax.sql.text.tokens import Tokenizer, select_ids, split_ids
from symjax.sql.text.tokens import append_eos as _append_eos

__all__ = ["INSTRUCTIONS", "QUESTION_INSTRUCTIONS", "LAYOUTS", "VIEWS", "StreamConfig", "Example", "EncodedExamples", "examples",
           "block_examples", "encode_blocks", "block_seed"]

INSTRUCTIONS: dict[str, str] = {
    "execute": "Execute SQL on the table:",
    "result": "What is the result of this SQL query on the table?",
    "run": "Run the following SQL query against the table and give the result:",
    "answer": "Answer the SQL query based on the table below.",
}
#: instructions of the question view (``StreamConfig(view="question")``)
QUESTION_INSTRUCTIONS: dict[str, str] = {
    "question": "Answer the question about the table:",
    "question_and_sql": "Answer the question about the table (its SQL is given):",
}
LAYOUTS = ("sql_first", "table_first")
#: what a prompt shows of its query: the SQL, the English question, or the question then the SQL
VIEWS = ("sql", "question", "both")
_MASK64 = (1 << 64) - 1
_QUERY_STREAM = 1  # block_seed(bseed, 1) seeds the block's queries; bseed its table


def block_seed(seed: int, block: int) -> int:
    """A 64-bit seed for block ``block`` of the stream ``seed`` (splitmix64 mixing)."""
    z = (seed * 0x9E3779B97F4A7C15 + block * 0xBF58476D1CE4E5B9 + 0x94D049BB133111EB) & _MASK64
    z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & _MASK64
    z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & _MASK64
    return z ^ (z >> 31)


def _is_int(value: Any, *, minimum: int) -> bool:
    """Whether ``value`` is an int (not a bool) of at least ``minimum``."""
    return isinstance(value, (int, np.integer)) and not isinstance(value, (bool, np.bool_)) and value >= minimum


@dataclass(frozen=True)
class StreamConfig:
    """Everything that shapes the stream besides the seed and the shard.

    Table source (``tables``): ``None`` for the synthetic generator (shaped by
    ``table_config``), a sequence of :class:`Table`, or a directory of CSV/JSONL/WTQ/TabFact
    files (read with :func:`symjax.sql.io.read_table_dir` when a stream starts, and again
    for a later stream when a file was added, removed or changed; a running stream keeps
    the tables it started with).

    Prompt: ``inputs`` is ``"{instruction} {sql}\\n{table}"`` (``layout="sql_first"``) or
    ``"{table}\\n{instruction} {sql}"`` (``"table_first"``), with the SQL in ``sql_style``
    (``standard`` or ``tapex``) and the table in ``table_style`` (``tapex``, ``indexed`` or
    ``markdown``); ``instruction`` is a key of :data:`INSTRUCTIONS` or literal text;
    ``lowercase`` lower-cases inputs and targets (TAPEX). ``targets`` is the canonical
    answer text. ``Example.sql`` is always the standard style.

    View: ``view="sql"`` shows the query's SQL; ``"question"`` the same query asked in
    English (:func:`symjax.sql.query.questions.question`; the answer is the plan's, checked
    against SQLite like every answer), with the instruction ``"question"`` of
    :data:`QUESTION_INSTRUCTIONS` unless another is given; ``"both"`` the question, a line
    break and the SQL (instruction ``"question_and_sql"``). ``Example.question`` holds the
    question in the last two views. The budgets below treat the question like the SQL.

    Budget, in characters: text cells are cut to ``max_cell_chars``, then rows are dropped
    until the table text fits ``max_input_chars - sql_reserve_chars`` characters; examples
    whose ``inputs`` still exceed ``max_input_chars`` are left out, so the character budget
    is a guarantee.

    Budget, in tokens (what a model reads): with ``max_input_tokens`` the table is cut to
    ``max_input_tokens - sql_reserve_tokens`` tokens instead (``sql_reserve_tokens=None``:
    the instruction's tokens plus those of ``sql_reserve_chars`` characters of typical
    SQL, at most a third of what the instruction leaves), and examples whose ``inputs``
    exceed ``max_input_tokens`` tokens, or whose
    ``targets`` exceed ``max_target_tokens`` tokens, are left out: the next query takes
    their place, nothing is ever cut after execution. Tokens are counted with
    ``tokenizer`` (a :class:`symjax.sql.text.tokens.Tokenizer`, which also gives the ids, see
    :func:`encode_blocks`) or with ``count_tokens`` (a function ``str -> int``). A
    character budget given together with a token budget applies too.
    """

    tables: Any = None
    table_config: Any = None
    sampler: SamplerConfig = field(default_factory=SamplerConfig)
    queries_per_table: int = 16
    sql_style: str = "standard"
    table_style: str = "tapex"
    instruction: str = "execute"
    layout: str = "sql_first"
    view: str = "sql"
    lowercase: bool = False
    max_input_chars: int | None = 6000
    sql_reserve_chars: int = 400
    max_cell_chars: int | None = 100
    max_input_tokens: int | None = None
    max_target_tokens: int | None = None
    sql_reserve_tokens: int | None = None
    count_tokens: Callable[[str], int] | None = None
    tokenizer: Tokenizer | None = None

    def __post_init__(self):
        for name in ("max_input_chars", "max_cell_chars"):
            value = getattr(self, name)
            if value is not None and not _is_int(value, minimum=1):
                raise ConfigError(f"StreamConfig.{name} must be an int >= 1 or None, got {value!r}")
        if not _is_int(self.sql_reserve_chars, minimum=0):
            raise ConfigError(f"StreamConfig.sql_reserve_chars must be an int >= 0, got {self.sql_reserve_chars!r}")
        if not isinstance(self.instruction, str) or not self.instruction.strip():
            raise ConfigError(
                f"StreamConfig.instruction must be a key of INSTRUCTIONS {sorted(INSTRUCTIONS)} or "
                f"non-empty text, got {self.instruction!r}")
        if not isinstance(self.lowercase, bool):
            raise ConfigError(f"StreamConfig.lowercase must be True or False, got {self.lowercase!r}")
        if self.sql_style not in SQL_STYLES:
            raise ConfigError(f"sql_style={self.sql_style!r}; use one of {SQL_STYLES}")
        if self.table_style not in STYLES:
            raise ConfigError(f"table_style={self.table_style!r}; use one of {STYLES}")
        if self.layout not in LAYOUTS:
            raise ConfigError(f"layout={self.layout!r}; use one of {LAYOUTS}")
        if self.view not in VIEWS:
            raise ConfigError(f"view={self.view!r}; use one of {VIEWS}")
        if not _is_int(self.queries_per_table, minimum=1):
            raise ConfigError(f"queries_per_table must be an int >= 1, got {self.queries_per_table!r}")
        if self.max_input_chars is not None and self.max_input_chars <= self.sql_reserve_chars:
            raise ConfigError(
                f"max_input_chars={self.max_input_chars} leaves no room for the table after "
                f"sql_reserve_chars={self.sql_reserve_chars}"
            )
        for name in ("max_input_tokens", "max_target_tokens"):
            value = getattr(self, name)
            if value is not None and (not isinstance(value, int) or isinstance(value, bool) or value < 1):
                raise ConfigError(f"{name} must be an int >= 1 or None, got {value!r}")
        if self.sql_reserve_tokens is not None and (
                not isinstance(self.sql_reserve_tokens, int) or self.sql_reserve_tokens < 0):
            raise ConfigError(f"sql_reserve_tokens must be an int >= 0 or None, got {self.sql_reserve_tokens!r}")
        if self.tokenizer is not None and not isinstance(self.tokenizer, Tokenizer):
            raise ConfigError(
                f"tokenizer must be a symjax.sql.text.tokens.Tokenizer, got {type(self.tokenizer).__name__} "
                "(wrap a function str -> list[int] in symjax.sql.text.tokens.FunctionTokenizer)"
            )
        if self.tokenizer is not None and self.count_tokens is not None:
            raise ConfigError("give tokenizer or count_tokens, not both (the tokenizer counts tokens itself)")
        if ((self.max_input_tokens is not None or self.max_target_tokens is not None)
                and self.tokenizer is None and self.count_tokens is None):
            raise ConfigError(
                "max_input_tokens / max_target_tokens need a tokenizer (symjax.sql.text.tokens.Tokenizer) "
                "or count_tokens (a function str -> int)"
            )
        if not isinstance(self.sampler, SamplerConfig):
            raise ConfigError(f"sampler must be a SamplerConfig, got {type(self.sampler).__name__}")
        if self.tables is not None and not isinstance(self.tables, (str, os.PathLike, list, tuple)):
            raise ConfigError(
                "tables must be None (synthetic), a list of Table, or a directory path; "
                f"got {type(self.tables).__name__}"
            )

    @property
    def instruction_text(self) -> str:
        instruction = self.instruction
        if self.view != "sql" and instruction == "execute":  # the default follows the view
            instruction = "question" if self.view == "question" else "question_and_sql"
        return INSTRUCTIONS.get(instruction, QUESTION_INSTRUCTIONS.get(instruction, instruction))

    def token_counter(self) -> Callable[[str], int] | None:
        """The function that counts tokens: the tokenizer's, else ``count_tokens``."""
        return self.tokenizer.count if self.tokenizer is not None else self.count_tokens

    def reserve_tokens(self) -> int:
        """Tokens of the input budget kept for the instruction and the SQL when the table
        is cut (see the class docstring)."""
        if self.sql_reserve_tokens is not None:
            return self.sql_reserve_tokens
        if self.max_input_tokens is None:
            return 0
        count = self.token_counter()
        head = self.instruction_text.lower() if self.lowercase else self.instruction_text
        head_tokens = int(count(head + " x")) + 2  # the instruction, a separator and the line break
        chars = max(self.sql_reserve_chars - len(head), 0)
        probe = (_RESERVE_PROBE * (chars // len(_RESERVE_PROBE) + 1))[:chars].rstrip()
        sql_tokens = int(count(probe)) if probe else 0
        return head_tokens + min(sql_tokens, max(self.max_input_tokens - head_tokens, 0) // 3)


# typical instruction + SQL text, whose tokens size the default sql_reserve_tokens
_RESERVE_PROBE = (
    'SELECT "Nation", COUNT(*) FROM w WHERE "Gold" > 3 AND "Year" BETWEEN 1996 AND 2004 OR '
    "\"Venue\" = 'Estadio Nacional' ORDER BY \"Total\" DESC LIMIT 2 "
)


@dataclass(frozen=True, slots=True)
class Example:
    """One SQL-execution example (build it with keywords).

    ``table`` is the table the model sees (after truncation); ``sql`` the standard-style
    SQL; ``answer`` the canonical answer strings; ``family`` the query family;
    ``inputs``/``targets`` the prompt and the target text; ``ordered`` whether the answer's
    order is defined (``ORDER BY``); ``block``/``position`` where it sits in the stream;
    ``question`` the query asked in English when the stream's ``view`` shows it (else
    ``None``; :meth:`ask` phrases it for any example).
    ``queries``/``query_index``: the lane's block it came from and its place there, from
    which :attr:`plan` (the query plan) is decoded on access; they take no part in
    equality.
    """

    table: Table
    sql: str
    answer: tuple[str, ...]
    family: str
    inputs: str
    targets: str
    ordered: bool
    block: int
    position: int
    queries: Block = field(repr=False, compare=False)
    query_index: int = field(repr=False, compare=False)
    question: str | None = None

    __hash__ = None  # type: ignore[assignment]  # tables are not dict keys

    @property
    def plan(self) -> Query:
        return self.queries.plan(self.query_index)

    def ask(self, seed: int = 0) -> str:
        """The query in English (``seed`` picks the paraphrase); the stream's own choice
        is :attr:`question` when its view shows questions."""
        from symjax.sql.query.questions import question

        return question(self.plan, self.table, seed)

    def to_dict(self, *, include_table: bool = True) -> dict[str, Any]:
        """A JSON-ready dict (the table as header/types/rows unless ``include_table=False``)."""
        out = {
            "inputs": self.inputs,
            "targets": self.targets,
            "sql": self.sql,
            **({} if self.question is None else {"question": self.question}),
            "answer": list(self.answer),
            "family": self.family,
            "block": self.block,
            "position": self.position,
        }
        if include_table:
            out["table"] = self.table.to_dict()
        return out


# directory -> (listing signature, tables): a directory is read again when a file in it was
# added, removed or changed since (a running stream keeps the tables it started with)
_DIR_CACHE: dict[str, tuple[tuple, list[Table]]] = {}


def _dir_signature(root: Path) -> tuple:
    """Name, size and modification time of every file under ``root``."""
    out = []
    for directory, dirs, files in os.walk(root):
        dirs.sort()
        for name in sorted(files):
            try:
                st = os.stat(os.path.join(directory, name))
            except OSError:
                continue
            out.append((os.path.relpath(os.path.join(directory, name), root), st.st_size, st.st_mtime_ns))
    return tuple(out)


def _user_tables(source: Any) -> list[Table]:
    if isinstance(source, (str, os.PathLike)):
        root = Path(source).resolve()
        key = str(root)
        signature = _dir_signature(root) if root.is_dir() else ()
        cached = _DIR_CACHE.get(key)
        if cached is not None and cached[0] == signature:
            return cached[1]
        from symjax.sql.io import read_table_dir

        tables = read_table_dir(source, one_per_stem=True)
        if not tables:
            raise ConfigError(f"no tables found in {source!s} (supported: .csv, .tsv, .jsonl, .json, .html.csv)")
        _DIR_CACHE[key] = (signature, tables)
        return tables
    tables = list(source)
    if not tables:
        raise ConfigError("tables is an empty list; give at least one Table or use None for synthetic tables")
    for i, t in enumerate(tables):
        if not isinstance(t, Table):
            raise ConfigError(f"tables[{i}] is a {type(t).__name__}, not a symjax.sql.Table")
    return tables


class _Built:
    """One block before it becomes :class:`Example` objects or token arrays: its table, the
    lane's queries, which of them were kept (``keep``), the kept examples' texts and, when
    asked for, their ids (concatenated, with each example's length; no EOS)."""

    __slots__ = ("table", "got", "keep", "inputs", "targets", "input_ids", "input_lengths",
                 "target_ids", "target_lengths", "questions")

    def __init__(self, table, got, keep, inputs, targets, ids, questions=None):
        self.table: Table = table
        self.got: Block = got
        self.keep: Sequence[int] = keep
        self.inputs: list[str] = inputs
        self.targets: list[str] = targets
        self.input_ids, self.input_lengths, self.target_ids, self.target_lengths = ids
        self.questions: list[str] | None = questions  # all the block's queries, kept or not


def _clean_edges(text: str) -> bool:
    return bool(text) and not text[0].isspace() and not text[-1].isspace()


class _BlockMaker:
    """Builds the examples of one block; holds what is shared across blocks."""

    def __init__(self, seed: int, config: StreamConfig):
        self.seed = seed
        self.config = config
        self.linearize = linearize
        self.truncate = truncate_table
        self.user_tables = None if config.tables is None else _user_tables(config.tables)
        if self.user_tables is None:
            from symjax.sql.synth.tables import TableConfig, generate_table

            self.table_config = config.table_config or TableConfig()
            self.generate_table = generate_table
        self.instruction = config.instruction_text.lower() if config.lowercase else config.instruction_text
        self.tokenizer = config.tokenizer
        self.count = config.token_counter()
        self._last_ids: tuple[str | None, np.ndarray | None] = (None, None)  # a text counted, its ids
        if self.tokenizer is not None:
            self.count = self._count_keeping_ids  # the table's ids, counted to cut it, serve its prompts
        self.joiner = None if self.tokenizer is None else self.tokenizer.joiner("\n")
        # the table's budget: in tokens when the config has a token budget, else in characters
        self.table_tokens = None
        if config.max_input_tokens is not None:
            self.reserve = config.reserve_tokens()
            self.table_tokens = config.max_input_tokens - self.reserve
            if self.table_tokens < 1:
                raise ConfigError(
                    f"max_input_tokens={config.max_input_tokens} leaves no room for the table after "
                    f"sql_reserve_tokens={self.reserve}; raise the input length or lower sql_reserve_tokens"
                )
        self.table_budget = None
        if config.max_input_chars is not None:
            self.table_budget = config.max_input_chars - config.sql_reserve_chars

    def table(self, bseed: int) -> Table:
        cfg = self.config
        if self.user_tables is None:
            table = self.generate_table(bseed & 0x7FFFFFFFFFFFFFFF, self.table_config)
        else:
            table = self.user_tables[bseed % len(self.user_tables)]
        if self.table_tokens is not None:
            return self.truncate(
                table, max_tokens=cfg.max_input_tokens, count_tokens=self.count,
                reserve=self.reserve, style=cfg.table_style, lowercase=cfg.lowercase,
                max_cell_chars=cfg.max_cell_chars, seed=bseed,
            )
        if self.table_budget is not None or cfg.max_cell_chars is not None:
            return self.truncate(
                table, max_chars=self.table_budget, style=cfg.table_style,
                lowercase=cfg.lowercase, max_cell_chars=cfg.max_cell_chars, seed=bseed,
            )
        return table

    def build(self, b: int, *, ids: bool = False) -> _Built | None:
        """Block ``b``: its table and queries, and the examples that fit the budgets (with
        their ids when ``ids``; that needs a tokenizer)."""
        cfg = self.config
        bseed = block_seed(self.seed, b)
        qseed = block_seed(bseed, _QUERY_STREAM)
        try:
            table = self.table(bseed)
        except TableError:
            return None  # a user table that cannot fit the budget at all
        table_text = self.linearize(table, style=cfg.table_style, lowercase=cfg.lowercase)
        got = sample_block(table, qseed, cfg.sampler, cfg.queries_per_table, sql_style=cfg.sql_style)
        if cfg.layout == "sql_first":
            head, tail = self.instruction + " ", "\n" + table_text
        else:
            head, tail = table_text + "\n" + self.instruction + " ", ""
        shown = got.shown
        questions = None
        if cfg.view != "sql":
            questions = self.questions(got, table, qseed)
            shown = questions if cfg.view == "question" else [
                q + "\n" + text for q, text in zip(questions, shown)]
        if cfg.lowercase:
            shown = [text.lower() for text in shown]
        inputs = [head + text + tail for text in shown]
        targets = list(map(answer_text, got.answers))
        if cfg.lowercase:
            targets = [text.lower() for text in targets]
        fits = None
        max_chars = cfg.max_input_chars
        if max_chars is not None and inputs and max(map(len, inputs)) > max_chars:
            fits = np.fromiter((len(text) <= max_chars for text in inputs), bool, len(inputs))
        tokens = (None, None, None, None)
        if ids:
            tokens = self._encode(shown, inputs, targets, table_text)
            input_lengths, target_lengths = tokens[1], tokens[3]
        elif self.count is not None and (cfg.max_input_tokens is not None or cfg.max_target_tokens is not None):
            input_lengths, target_lengths = self._lengths(shown, inputs, targets, table_text)
        else:
            input_lengths = target_lengths = None
        if input_lengths is not None:
            token_fits = np.ones(len(inputs), bool)
            if cfg.max_input_tokens is not None:
                token_fits &= input_lengths <= cfg.max_input_tokens
            if cfg.max_target_tokens is not None:
                token_fits &= target_lengths <= cfg.max_target_tokens
            fits = token_fits if fits is None else fits & token_fits
        keep: Sequence[int] = range(len(inputs))
        if fits is not None and not fits.all():
            keep = np.flatnonzero(fits).tolist()
            inputs = [inputs[k] for k in keep]
            targets = [targets[k] for k in keep]
            if ids:
                tokens = (*select_ids(tokens[0], tokens[1], fits), *select_ids(tokens[2], tokens[3], fits))
        return _Built(table, got, keep, inputs, targets, tokens, questions)

    def questions(self, got: Block, table: Table, qseed: int) -> list[str]:
        """Each query of the block in English; query ``k``'s paraphrase is drawn with
        ``block_seed(qseed, k + 2)`` (seeds 0 and 1 seed the table and the queries)."""
        from symjax.sql.query.questions import question

        return [question(got.plan(k), table, block_seed(qseed, k + 2)) for k in range(len(got.sql))]

    def _count_keeping_ids(self, text: str) -> int:
        ids = self.tokenizer.encode([text])[0]
        self._last_ids = (text, ids)
        return len(ids)

    def _ids_of(self, text: str) -> np.ndarray:
        """``text``'s ids: those the last count made when it counted this text."""
        last, ids = self._last_ids
        if last is text or last == text:
            return ids
        ids = self.tokenizer.encode([text])[0]
        self._last_ids = (text, ids)
        return ids

    def _heads_join(self, shown, table_text) -> list[str] | None:
        """Each query's instruction and SQL, when the prompt's ids may be joined from them
        and the table text's (the tokenizer has a joiner and the edges are clean)."""
        if self.joiner is None:
            return None
        heads = [self.instruction + " " + text for text in shown]
        if self.tokenizer.needs_clean_edges and not (
                _clean_edges(table_text) and all(map(_clean_edges, heads))):
            return None
        return heads

    def _lengths(self, shown, inputs, targets, table_text):
        """Token counts of the inputs and targets (no ids)."""
        tok = self.tokenizer
        if tok is None:
            count = self.count
            return (np.fromiter(map(count, inputs), np.int64, len(inputs)),
                    np.fromiter(map(count, targets), np.int64, len(targets)))
        heads = self._heads_join(shown, table_text)
        if heads is None:
            return tok.lengths(inputs), tok.lengths(targets)
        table_length = len(self._ids_of(table_text))
        return tok.lengths(heads) + (len(self.joiner) + table_length), tok.lengths(targets)

    def _encode(self, shown, inputs, targets, table_text):
        """Ids and lengths of the inputs and targets. With a joiner, the table text is
        encoded once and each query's instruction and SQL apart; otherwise every prompt is
        encoded whole."""
        tok = self.tokenizer
        if tok is None:
            raise ConfigError("token ids need a StreamConfig with a tokenizer (symjax.sql.text.tokens.Tokenizer)")
        heads = self._heads_join(shown, table_text)
        if heads is None:
            input_ids, input_lengths = tok.encode(inputs)
        else:
            table_ids = self._ids_of(table_text)
            head_ids, head_lengths = tok.encode(heads)
            joiner = self.joiner
            if self.config.layout == "sql_first":
                pieces = [p for h in split_ids(head_ids, head_lengths) for p in (h, joiner, table_ids)]
            else:
                pieces = [p for h in split_ids(head_ids, head_lengths) for p in (table_ids, joiner, h)]
            input_ids = np.concatenate(pieces).astype(np.int32, copy=False)
            input_lengths = head_lengths + (len(joiner) + len(table_ids))
        target_ids, target_lengths = tok.encode(targets)
        return input_ids, input_lengths, target_ids, target_lengths

    def block(self, b: int) -> list[Example]:
        built = self.build(b)
        if built is None:
            return []
        got, keep = built.got, built.keep
        columns = [got.sql, got.answers, got.families, got.ordered]
        if len(keep) != len(got.sql):
            columns = [[column[k] for k in keep] for column in columns]
        sql, answers, families, ordered = columns
        table = built.table
        questions = built.questions
        return [
            Example(table=table, sql=sql[k], answer=answers[k], family=families[k], inputs=built.inputs[k],
                    targets=built.targets[k], ordered=ordered[k], block=b, position=k, queries=got,
                    query_index=keep[k], question=None if questions is None else questions[keep[k]])
            for k in range(len(keep))
        ]


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
    _check_seed(seed)
    if not _is_int(start_block, minimum=0):
        raise ConfigError(f"start_block must be an int >= 0 (a block number of the stream), got {start_block!r}")
    start_block = int(start_block)
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


def _check_seed(seed: Any) -> None:
    """A stream seed is an int in [0, 2**64): the blocks' seeds are mixed in 64 bits, so a
    larger seed would silently give the stream of ``seed % 2**64``."""
    if not isinstance(seed, int) or isinstance(seed, bool) or not 0 <= seed <= _MASK64:
        raise ConfigError(f"seed must be an int in [0, 2**64), got {seed!r}; seeds are mixed in 64 bits, "
                          "so a larger one would repeat the stream of seed % 2**64")


def _maker(seed: int, config: StreamConfig | None) -> _BlockMaker:
    """The block maker of ``(seed, config)``, kept for the next call (sources that index
    blocks call once per block or group of blocks)."""
    _check_seed(seed)
    config = config or _DEFAULT_STREAM
    key = (seed, id(config))
    maker = _MAKERS.get(key)
    if maker is None or maker.config is not config:
        maker = _BlockMaker(seed, config)
        if len(_MAKERS) > 64:
            _MAKERS.clear()
        _MAKERS[key] = maker
    return maker


def _check_block(block: Any) -> int:
    if not isinstance(block, (int, np.integer)) or isinstance(block, bool) or block < 0:
        raise ConfigError(f"block must be a non-negative int, got {block!r}")
    return int(block)


def block_examples(seed: int, block: int, *, config: StreamConfig | None = None) -> list[Example]:
    """The examples of one block of the stream (possibly none): a pure function of
    ``(seed, block, config)``, for sources that index blocks directly."""
    block = _check_block(block)
    return _maker(seed, config).block(block)


@dataclass(frozen=True)
class EncodedExamples:
    """The examples of some blocks as token ids, ready for a model: ``inputs`` and
    ``targets`` are every example's ids concatenated (``int32``; EOS appended to each with
    ``append_eos``), ``input_lengths``/``target_lengths`` each example's count (``int64``);
    the texts, families, standard SQL and each example's ``block``/``position`` in the
    stream come alongside (:class:`Example` has the same fields)."""

    inputs: np.ndarray
    input_lengths: np.ndarray
    targets: np.ndarray
    target_lengths: np.ndarray
    inputs_text: list[str]
    targets_text: list[str]
    families: list[str]
    sql: list[str]
    blocks: np.ndarray
    positions: np.ndarray

    def __len__(self) -> int:
        return len(self.inputs_text)


def encode_blocks(seed: int, blocks: Sequence[int], *, config: StreamConfig,
                  append_eos: bool = True) -> EncodedExamples:
    """The examples of ``blocks`` (block numbers of the stream ``seed``) tokenized with
    ``config.tokenizer``: the same examples, in the same order, as :func:`block_examples`
    gives for each block, with their ids. Every example fits the config's token budgets
    (EOS not counted: a model's length ``L`` takes ``max_input_tokens=L - 1``)."""
    if config is None or config.tokenizer is None:
        raise ConfigError("encode_blocks needs a StreamConfig with a tokenizer (symjax.sql.text.tokens.Tokenizer)")
    maker = _maker(seed, config)
    columns: list[list] = [[] for _ in range(8)]
    inputs_text: list[str] = []
    targets_text: list[str] = []
    families: list[str] = []
    sql: list[str] = []
    for b in blocks:
        b = _check_block(b)
        built = maker.build(b, ids=True)
        if built is None or not built.inputs:
            continue
        n = len(built.inputs)
        for column, value in zip(columns, (built.input_ids, built.input_lengths, built.target_ids,
                                           built.target_lengths, np.full(n, b, np.int64),
                                           np.arange(n, dtype=np.int64))):
            column.append(value)
        got, keep = built.got, built.keep
        inputs_text.extend(built.inputs)
        targets_text.extend(built.targets)
        families.extend([got.families[k] for k in keep])
        sql.extend([got.sql[k] for k in keep])
    if not inputs_text:
        empty = np.zeros(0, np.int64)
        arrays = [empty.astype(np.int32), empty, empty.astype(np.int32), empty, empty, empty]
    else:
        arrays = [np.concatenate(column[:len(columns[0])]) for column in columns[:6]]
    inputs, input_lengths, targets, target_lengths, block_of, positions = arrays
    if append_eos:
        eos = config.tokenizer.eos_id
        inputs, input_lengths = _append_eos(inputs, input_lengths, eos)
        targets, target_lengths = _append_eos(targets, target_lengths, eos)
    return EncodedExamples(
        inputs=inputs.astype(np.int32, copy=False), input_lengths=input_lengths,
        targets=targets.astype(np.int32, copy=False), target_lengths=target_lengths,
        inputs_text=inputs_text, targets_text=targets_text, families=families, sql=sql,
        blocks=block_of, positions=positions,
    )


_MAKERS: dict[tuple[int, int], _BlockMaker] = {}
_DEFAULT_STREAM = StreamConfig()
