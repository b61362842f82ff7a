"""What every benchmark reader shares: the eval example record, where each benchmark is
published (for error messages), file lookup, and the table-prompt budget.

An :class:`EvalExample` is one prompted example: ``inputs``/``targets`` text, a stable
``id`` and the ``gold`` dict the metrics read (answers, ``targetCanon``, labels, sequence
ids, ...; see :mod:`symjax.tasks.metrics`).
"""
from __future__ import annotations

import hashlib
import json
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Iterable, Sequence

from symjax.errors import ConfigError, DataError, MissingDataError, TableError

__all__ = [
    "EvalExample",
    "TablePromptConfig",
    "PUBLISHED_AT",
    "find_file",
    "json_objects",
    "stable_seed",
    "related_rows",
    "visible_table",
    "table_prompt",
    "fit_table_prompt",
    "token_budget",
]

PUBLISHED_AT = {
    "wtq": "https://github.com/ppasupat/WikiTableQuestions (release 1.0.2: data/*.tsv, "
    "tagged/data/*.tagged, csv/20x-csv/*.csv)",
    "sqa": "https://download.microsoft.com/download/1/D/C/1DC270D2-1B53-4A61-A2E3-88AB3E4E6E1F/"
    "SQA%20Release%201.0.zip (*.tsv and table_csv/*.csv)",
    "wikisql": "https://github.com/salesforce/WikiSQL/raw/master/data.tar.bz2 "
    "({split}.jsonl and {split}.tables.jsonl)",
    "tabfact": "https://github.com/wenhuchen/Table-Fact-Checking (tokenized_data/*_examples.json "
    "and data/all_csv/*.html.csv)",
    "svamp": "https://github.com/arkilpatel/SVAMP (data/mawps-asdiv-a_svamp/dev.csv)",
    "bbh": "https://github.com/suzgunmirac/BIG-Bench-Hard (bbh/<task>.json and cot-prompts/<task>.txt)",
    "mmlu": "https://people.eecs.berkeley.edu/~hendrycks/data.tar (data/{dev,val,test}/<subject>_<split>.csv)",
}


@dataclass(frozen=True)
class EvalExample:
    """One prompted benchmark example."""

    id: str
    inputs: str
    targets: str
    gold: dict = field(default_factory=dict)


@dataclass(frozen=True)
class TablePromptConfig:
    """How a benchmark table becomes prompt text.

    The table is linearized in ``table_style`` (the paper: ``indexed``). Before that it is
    cut with :func:`symjax.sql.truncate_table` to ``max_input_chars`` characters minus
    ``reserve_chars`` and the question's length (room for the template), or, with
    ``count_tokens``, to ``max_input_tokens`` tokens minus ``reserve_tokens`` and the
    question's tokens. The paper's limit is 2048 Flan-T5 tokens; 6500 characters is about
    that at 3.2 characters per token. The budget does not depend on the template, so every
    template of an example sees the same table (and WikiSQL's gold answers, computed on that
    table, are the same for all templates). ``max_cell_chars`` (or ``max_cell_tokens``)
    shortens long text cells first (the paper: 10 tokens); off by default, because a cut
    cell can no longer equal a gold answer.

    With ``protect_related_rows``, rows holding a cell that the question mentions (and the
    two rows on each side, as the paper's truncation) are never dropped, when they fit.
    """

    table_style: str = "indexed"
    max_input_chars: int | None = 6500
    reserve_chars: int = 400
    max_cell_chars: int | None = None
    max_input_tokens: int | None = None
    reserve_tokens: int = 128
    max_cell_tokens: int | None = None
    count_tokens: Callable[[str], int] | None = None
    protect_related_rows: bool = True

    def __post_init__(self):
        from symjax.sql import TABLE_STYLES

        if self.table_style not in TABLE_STYLES:
            raise ConfigError(f"table_style={self.table_style!r}; use one of {TABLE_STYLES}")
        if (self.max_input_tokens is not None or self.max_cell_tokens is not None) and self.count_tokens is None:
            raise ConfigError("max_input_tokens / max_cell_tokens need count_tokens (a function str -> int)")
        if self.max_input_chars is not None and self.max_input_chars <= self.reserve_chars:
            raise ConfigError(f"max_input_chars={self.max_input_chars} must exceed reserve_chars={self.reserve_chars}")


def token_budget(config: TablePromptConfig, *, inputs_length: int,
                 count_tokens: Callable[[str], int]) -> TablePromptConfig:
    """``config`` fitted to a model whose inputs hold ``inputs_length`` tokens with EOS: the
    character budget is replaced by ``inputs_length - 1`` tokens of ``count_tokens``. The
    eval tasks (:meth:`symjax.tasks.sources.BenchmarkSource.fitted_examples`) and
    ``python -m symjax.predict`` build their prompts with it."""
    import dataclasses

    return dataclasses.replace(config, max_input_chars=None, max_input_tokens=inputs_length - 1,
                               count_tokens=count_tokens)


def find_file(benchmark: str, root: Path, candidates: Sequence[str], what: str) -> Path:
    """The first of ``candidates`` (paths relative to ``root``) that exists; else
    :class:`MissingDataError` naming them and where the benchmark is published."""
    root = Path(root)
    for rel in candidates:
        p = root / rel
        if p.is_file():
            return p
    if not root.is_dir():
        raise MissingDataError(
            f"{benchmark} data directory {root} does not exist; it should hold {what} "
            f"({' or '.join(candidates)}). Get the benchmark from {PUBLISHED_AT[benchmark]}"
        )
    raise MissingDataError(
        f"{benchmark}: {what} not found in {root}; expected one of {list(candidates)}. "
        f"Get the benchmark from {PUBLISHED_AT[benchmark]}"
    )


def json_objects(path: Path) -> list[tuple[int, dict]]:
    """``(line number, object)`` of every non-blank line of a JSONL file of objects; a line
    that is not JSON, or not an object, is a :class:`DataError` naming the file and line."""
    out = []
    with Path(path).open("rb") as f:
        for k, raw in enumerate(f, start=1):
            try:
                line = raw.decode("utf-8")
            except UnicodeDecodeError as e:
                raise DataError(
                    f"{path}, line {k}: bytes {raw[e.start:e.start + 4]!r} are not UTF-8 text; is it a "
                    "binary file? Give a JSONL file (one JSON object a line)") from None
            if not line.strip():
                continue
            try:
                obj = json.loads(line)
            except json.JSONDecodeError as e:
                raise DataError(f"{path}, line {k}: invalid JSON: {e.msg}") from e
            except RecursionError:
                raise DataError(f"{path}, line {k}: JSON nested too deeply to read") from None
            if not isinstance(obj, dict):
                raise DataError(f"{path}, line {k}: expected a JSON object, got {type(obj).__name__}")
            out.append((k, obj))
    return out


def stable_seed(text: str) -> int:
    """A seed from a string, the same in every process (for per-example truncation)."""
    return int.from_bytes(hashlib.md5(text.encode("utf-8")).digest()[:4], "little")


def related_rows(table: Any, question: str, *, min_chars: int = 2) -> list[int]:
    """Rows with a cell whose text the question mentions as a whole word or phrase
    (case-insensitive; cells shorter than ``min_chars`` are ignored)."""
    q = " ".join(question.lower().split())
    rows: set[int] = set()
    for j in range(len(table.header)):
        for i, text in enumerate(table.column_texts(j)):
            t = " ".join(str(text).lower().split())
            if len(t) < min_chars or i in rows or t not in q:
                continue
            if re.search(r"(?<!\w)" + re.escape(t) + r"(?!\w)", q):
                rows.add(i)
    return sorted(rows)


def _widen(rows: Iterable[int], n: int, by: int) -> list[int]:
    out: set[int] = set()
    for i in rows:
        out.update(range(max(0, i - by), min(n, i + by + 1)))
    return sorted(out)


def visible_table(table: Any, question: str, config: TablePromptConfig, seed: int, *,
                  reserve_tokens: int | None = None) -> Any:
    """The table the model sees for this question: cut to the budget of ``config`` (see
    :class:`TablePromptConfig`; ``reserve_tokens`` replaces the token reserve, e.g. the
    tokens of the prompt without its table); raises :class:`TableError` when even one row
    cannot fit."""
    from symjax.sql import truncate_table

    c = config
    kwargs: dict[str, Any] = dict(style=c.table_style, seed=seed)
    if c.max_input_tokens is not None:
        reserve = reserve_tokens if reserve_tokens is not None else c.reserve_tokens + c.count_tokens(question)
        kwargs.update(max_tokens=c.max_input_tokens, count_tokens=c.count_tokens, reserve=reserve)
    elif c.max_input_chars is not None:
        kwargs.update(max_chars=c.max_input_chars, reserve=c.reserve_chars + len(question))
    if c.max_cell_chars is not None:
        kwargs["max_cell_chars"] = c.max_cell_chars
    if c.max_cell_tokens is not None:
        kwargs.update(max_cell_tokens=c.max_cell_tokens, count_tokens=c.count_tokens)
    attempts: list[list[int] | None] = [None]
    if c.protect_related_rows and ("max_chars" in kwargs or "max_tokens" in kwargs):
        related = related_rows(table, question)
        if related:
            attempts = [_widen(related, table.num_rows, 2), related, None]
    for keep in attempts:
        try:
            return truncate_table(table, keep_rows=keep, **kwargs)
        except TableError:
            if keep is None:
                raise
    raise AssertionError("unreachable")  # pragma: no cover


def table_prompt(template_text: str, table: Any, question: str, config: TablePromptConfig) -> str:
    """The prompt: ``template_text`` with the linearized (already cut) table and the question."""
    from symjax.sql import linearize

    from symjax.tasks.prompts import render

    return render(template_text, table=linearize(table, style=config.table_style), question=question)


_FIT_ATTEMPTS = 4


def fit_table_prompt(template_text: str, table: Any, question: str, config: TablePromptConfig,
                     seed: int, *, sibling_templates: Sequence[str] = ()) -> tuple[str, Any]:
    """``(prompt, visible table)`` for a question: the table cut so the whole prompt fits
    ``config``'s budget, the question and the template never cut.

    With a token budget the table's room is the budget minus the tokens of the prompt
    without its table, for the longest of ``template_text`` and ``sibling_templates`` (the
    benchmark's other templates), so every template of a question sees the same table (and
    WikiSQL's gold, computed on it, is the same). A tokenizer that is not additive may still
    overshoot by a few tokens, which the next attempt takes off the table. Raises
    :class:`TableError` when the prompt cannot fit even with one row left."""
    c = config
    if c.max_input_tokens is None:
        table = visible_table(table, question, c, seed)
        return table_prompt(template_text, table, question, c), table
    from symjax.tasks.prompts import render

    reserve = max(c.count_tokens(render(t, table="", question=question))
                  for t in (template_text, *sibling_templates))
    for _ in range(_FIT_ATTEMPTS):
        if reserve >= c.max_input_tokens:
            raise TableError(
                f"the prompt without its table needs {reserve} tokens, the budget is {c.max_input_tokens}"
            )
        shown = visible_table(table, question, c, seed, reserve_tokens=reserve)
        prompt = table_prompt(template_text, shown, question, c)
        over = c.count_tokens(prompt) - c.max_input_tokens
        if over <= 0:
            return prompt, shown
        reserve += over
    raise TableError(f"the prompt still needs {over} tokens more than the budget of {c.max_input_tokens}")
