"""Tables as text for the model, and truncation of tables to a length budget.

Three styles (:data:`STYLES`), for a table with header ``h1, h2`` and rows ``(v1, v2)``, ...:

* ``"tapex"``: ``col : h1 | h2 row 1 : v1 | v2 row 2 : ...`` (TAPEX pre-training; TAPEX
  lower-cased everything, which ``lowercase=True`` reproduces);
* ``"indexed"``: ``header: h1 | h2\\nrow 1 : v1 | v2\\nrow 2 : ...`` (TAPEX-Zero's
  ``IndexedRowTableLinearize``: one line per row, no trailing newline);
* ``"markdown"``: ``| h1 | h2 |\\n| --- | --- |\\n| v1 | v2 |``.

Cells show :meth:`Table.column_texts` (the original text where a table keeps one, else the
value's canonical text; NULL is empty). Line breaks inside a cell become spaces so a row stays
on one line. A ``|`` inside a cell is kept as is in ``tapex``/``indexed`` (TAPEX did not
escape it either, so such a row reads as having an extra cell) and written ``\\|`` in markdown.

:func:`truncate_table` cuts a table to a budget *before* queries are executed on it, so the
answer is always computed on exactly the table the model sees: shortened text cells get the
shortened text as their value, and dropped rows are gone from the table itself.

The ``tapex`` and ``indexed`` styles are written by a numba kernel straight from the table's
arrays (:func:`symjax.sql.text._text_kernels.linearize`); the Python path built from
:meth:`Table.column_texts` is its reference (``tests/test_text_kernels.py``) and takes what
the kernel leaves to it (markdown, tables that keep their cells' original text, line breaks
in cells, reals it cannot round with certainty).

The linearization is memoised in the table's cache: a table linearized once per ~8 examples
costs one dict lookup after the first time, and a truncation that cuts nothing costs one
length computation (the linearization the caller then reuses) and, with ``max_cell_chars``,
one scan of the table's string pool.
"""
from __future__ import annotations

import random
from itertools import chain
from typing import Callable, Iterable

from symjax.errors import ConfigError, TableError
from symjax.sql.per_table import PerTable
from symjax.sql.table import TEXT, Table
from symjax.sql.text import _text_kernels as TK

__all__ = ["STYLES", "fits_as_is", "linearize", "linearized_length", "shorten_cells", "truncate_table"]

STYLES = ("tapex", "indexed", "markdown")

_HEADER_PREFIX = {"tapex": "col : ", "indexed": "header: "}
_ROW_SEPARATOR = {"tapex": " ", "indexed": "\n", "markdown": "\n"}
_CELL_SEPARATOR = " | "
_PREFIXES: dict[str, list[str]] = {}
_UNCHANGED = "unchanged"  # cache marker: shortening cells left this table as it was
_CACHE: PerTable[dict] = PerTable()  # per table: its texts, parts, lengths and shortened copies


def _cache_of(table: Table) -> dict:
    return _CACHE.setdefault(table, dict)

TokenCounter = Callable[[str], int]


# ---------------------------------------------------------------------------- linearize
def linearize(table: Table, *, style: str = "tapex", lowercase: bool = False) -> str:
    """The table as one string in ``style`` (see the module docstring for the formats).

    ``lowercase=True`` lower-cases the whole string, as TAPEX did. The result is cached on
    the table, so calling this again for the same table is a dict lookup.
    """
    key = ("linearize", style, lowercase)
    cached = _cache_of(table).get(key)
    if cached is not None:
        return cached
    if lowercase:
        text = linearize(table, style=style).lower()
    else:
        text = _kernel_text(table, style)
        if text is None:
            text = _python_text(table, style)
    _cache_of(table)[key] = text
    return text


def _python_text(table: Table, style: str) -> str:
    """The linearization built in Python from :meth:`Table.column_texts` (the reference of
    the kernel, and the path for what it leaves to Python)."""
    head, bodies = _parts(table, style, False)
    if style == "markdown":
        return "\n".join([head, *bodies])
    prefixes = _row_prefixes(_ROW_SEPARATOR[style], len(bodies))
    return head + "".join(chain.from_iterable(zip(prefixes, bodies)))


_KERNEL_STYLES = {"tapex": TK.STYLE_TAPEX, "indexed": TK.STYLE_INDEXED}


def _kernel_text(table: Table, style: str) -> str | None:
    """The linearization written by :func:`symjax.sql.text._text_kernels.linearize` straight
    from the table's arrays, or ``None`` where that kernel leaves the table to Python: a
    table that keeps its cells' original text, a date column that keeps the text it was
    given, a NUL inside a string, the markdown style, and what the kernel itself declines
    (line breaks, reals it cannot round with certainty)."""
    code = _KERNEL_STYLES.get(style)
    texts = table.kernel_texts() if code is not None else None
    if texts is None:
        return None
    pool, header = texts
    codes_of_types, codes, ints, reals, nulls = table.arrays()
    data, status = TK.linearize(pool, len(table.strings), header, codes_of_types, codes, ints, reals,
                                nulls, code)
    if status != TK.OK:
        return None
    return str(data, "utf-8", "surrogatepass")


def _row_prefixes(separator: str, n: int) -> list[str]:
    """``[sep + "row 1 : ", sep + "row 2 : ", ...]``, at least ``n`` long; shared, grown by
    replacement (never mutated in place) so concurrent readers always see a valid list."""
    prefixes = _PREFIXES.get(separator, [])
    if len(prefixes) < n:
        size = max(n, 2 * len(prefixes), 64)
        prefixes = prefixes + [f"{separator}row {k} : " for k in range(len(prefixes) + 1, size + 1)]
        _PREFIXES[separator] = prefixes
    return prefixes


def linearized_length(table: Table, style: str = "tapex", *, lowercase: bool = False) -> int:
    """``len(linearize(table, style=style, lowercase=lowercase))``, from the cache if present."""
    return len(linearize(table, style=style, lowercase=lowercase))


def _check_style(style: str) -> None:
    if style not in _ROW_SEPARATOR:
        raise ConfigError(f"unknown linearization style {style!r}; use one of {STYLES}")


def _parts(table: Table, style: str, lowercase: bool) -> tuple[str, list[str]]:
    """(header line, one body string per row), cached. A row's body is its cells joined by
    ``" | "`` (for markdown, the whole ``| ... |`` line); ``row k : `` is added by the caller
    because the row number changes when rows are dropped."""
    key = ("linearize_parts", style, lowercase)
    cached = _cache_of(table).get(key)
    if cached is not None:
        return cached
    if lowercase:
        head, bodies = _parts(table, style, False)
        out = (head.lower(), [b.lower() for b in bodies])
        _cache_of(table)[key] = out
        return out
    _check_style(style)
    markdown = style == "markdown"
    join = _CELL_SEPARATOR.join
    header = table.header
    columns = [table.column_texts(j) for j in range(len(header))]
    rows = list(map(join, zip(*columns)))
    # One scan of the joined rows finds whether any cell needs cleaning (rarely); markdown
    # looks for "|" in the cells themselves, since the joined rows hold the separators.
    joined = join(header) + "".join(rows)
    if "\n" in joined or "\r" in joined or (markdown and "|" in "".join(chain(header, *columns))):
        header = _clean_cells(header, markdown)
        rows = list(map(join, zip(*[_clean_cells(texts, markdown) for texts in columns])))
    if markdown:
        head = "| " + join(header) + " |\n" + "|" + " --- |" * len(header)
        bodies = ["| " + b + " |" for b in rows]
    else:
        head = _HEADER_PREFIX[style] + join(header)
        bodies = rows
    if not table.num_rows:
        bodies = []
    out = (head, bodies)
    _cache_of(table)[key] = out
    return out


def _clean_cells(texts: tuple[str, ...], markdown: bool) -> tuple[str, ...] | list[str]:
    """Line breaks -> spaces (and ``|`` -> ``\\|`` for markdown). One scan of the joined
    column decides whether any cell needs work, so clean columns cost no per-cell step."""
    joined = "".join(texts)
    needs_pipe = markdown and "|" in joined
    if "\n" not in joined and "\r" not in joined and not needs_pipe:
        return texts
    out = []
    for t in texts:
        if "\n" in t or "\r" in t:
            t = t.replace("\r\n", " ").replace("\r", " ").replace("\n", " ")
        if needs_pipe and "|" in t:
            t = t.replace("|", "\\|")
        out.append(t)
    return out


# ---------------------------------------------------------------------------- truncation
def truncate_table(
    table: Table,
    *,
    max_chars: int | None = None,
    max_tokens: int | None = None,
    count_tokens: TokenCounter | None = None,
    style: str = "tapex",
    lowercase: bool = False,
    reserve: int = 0,
    max_cell_chars: int | None = None,
    max_cell_tokens: int | None = None,
    seed: int = 0,
    keep_rows: Iterable[int] | None = None,
) -> Table:
    """A table whose linearization fits the budget; ``table`` itself when it already fits.

    Applied before execution: the returned table is what the model sees *and* what queries
    run on.

    1. Cells: with ``max_cell_chars`` (or ``max_cell_tokens``, counted with
       ``count_tokens``) a longer cell of a *text* column is cut to that prefix (trailing
       spaces removed) and the cut text becomes the cell's value, so a query compares
       exactly what the model reads. Integer, real and date columns are never cut.
    2. Rows: the budget is ``max_chars`` characters or ``max_tokens`` tokens of
       ``linearize(t, style=style, lowercase=lowercase)``, minus ``reserve`` (room for the
       instruction and the SQL). The header is always kept. As in TAPEX, when rows must go a
       fraction ``1 - room/rows_size`` of the rows is first dropped at random
       (``random.Random(seed)``), then the remaining rows are kept in their original order
       while they fit; rows are renumbered ``row 1, row 2, ...``. At least one row is kept.
    3. ``keep_rows`` (row indices of ``table``) are never dropped. If the header and those
       rows, or the header and the shortest row, do not fit, :class:`TableError` says the
       size needed and the budget.

    Token budgets treat a row's tokens as ``count_tokens`` of its text and then check the
    whole linearization once; if the counter is not additive the last kept rows are dropped
    until the exact count fits.
    """
    _check_style(style)
    if reserve < 0:
        raise ConfigError(f"reserve must be >= 0, got {reserve!r}")
    if (max_chars is not None and max_tokens is None and max_cell_tokens is None and keep_rows is None
            and fits_as_is(table, max_chars - reserve, style=style, lowercase=lowercase,
                           max_cell_chars=max_cell_chars)):
        return table  # fits as it is: the common case, answered without building a measure
    measure = _make_measure(max_chars, max_tokens, count_tokens, style, lowercase, reserve)
    if max_cell_chars is not None and max_cell_chars < 1:
        raise ConfigError(f"max_cell_chars must be a positive integer, got {max_cell_chars!r}")
    if max_cell_tokens is not None:
        if count_tokens is None:
            raise ConfigError("max_cell_tokens needs count_tokens (a function str -> int)")
        if max_cell_tokens < 1:
            raise ConfigError(f"max_cell_tokens must be a positive integer, got {max_cell_tokens!r}")
    protected = _check_keep_rows(keep_rows, table.num_rows)

    if max_cell_chars is not None or max_cell_tokens is not None:
        table = shorten_cells(
            table, max_cell_chars=max_cell_chars, max_cell_tokens=max_cell_tokens,
            count_tokens=count_tokens,
        )
    if measure is None:
        return table
    budget = measure.budget
    total = measure.total(table)
    if total <= budget:
        return table
    kept, estimated = _choose_rows(table, measure, budget, total, protected, seed)
    # Check the exact size of the result; only a non-additive token counter can exceed it.
    while True:
        result = table.take_rows(kept)
        size = measure.total(result)
        if size <= budget:
            return result
        droppable = [n for n, i in enumerate(kept) if i not in protected]
        if len(kept) == 1 or not droppable:
            raise TableError(
                f"{_label(table)} truncated to rows {kept} still needs {size} {measure.unit} "
                f"but the budget is {measure.describe()}; the token "
                "counter is not additive over rows: lower reserve or raise the budget"
            )
        excess = size - budget
        drop: set[int] = set()
        for n in reversed(droppable):
            if len(drop) == len(kept) - 1:
                break
            drop.add(n)
            excess -= estimated[kept[n]]
            if excess <= 0:
                break
        kept = [i for n, i in enumerate(kept) if n not in drop]


def shorten_cells(
    table: Table,
    *,
    max_cell_chars: int | None = None,
    max_cell_tokens: int | None = None,
    count_tokens: TokenCounter | None = None,
) -> Table:
    """Cut long cells of text columns; the cut text becomes the value (see truncate_table).

    Returns ``table`` itself when no cell is too long. The result is cached on ``table``.
    """
    if max_cell_chars is None and max_cell_tokens is None:
        return table
    if max_cell_tokens is not None and count_tokens is None:
        raise ConfigError("max_cell_tokens needs count_tokens (a function str -> int)")
    counter = count_tokens if max_cell_tokens is not None else None
    key = ("shorten_cells", max_cell_chars, max_cell_tokens, counter)
    cached = _cache_of(table).get(key)
    if cached is not None:
        return table if cached is _UNCHANGED else cached
    if max_cell_tokens is None and _text_cells_fit(table, max_cell_chars):
        _cache_of(table)[key] = _UNCHANGED
        return table
    token_memo: dict[str, str] = {}
    new_columns: dict[int, tuple[list, list[str]]] = {}
    for j, t in enumerate(table.types):
        if t != TEXT:
            continue
        texts = table.column_texts(j)
        if not texts:
            continue
        if max_cell_tokens is None and max(map(len, texts)) <= max_cell_chars:
            continue
        values = None
        shown = None
        for i, text in enumerate(texts):
            cut = text
            if max_cell_chars is not None and len(cut) > max_cell_chars:
                cut = _cut(cut[:max_cell_chars])
            if max_cell_tokens is not None and cut:
                short = token_memo.get(cut)
                if short is None:
                    short = token_memo[cut] = _cut_to_tokens(cut, max_cell_tokens, count_tokens)
                cut = short
            if cut != text:
                if values is None:
                    values = list(table.column(j))
                    shown = list(texts)
                values[i] = cut
                shown[i] = cut
        if values is not None:
            new_columns[j] = (values, shown)
    if not new_columns:
        _cache_of(table)[key] = _UNCHANGED
        return table
    columns = []
    display = []
    for j in range(len(table.header)):
        if j in new_columns:
            values, shown = new_columns[j]
            columns.append(values)
            display.append(None if table.display[j] is None else shown)
        else:
            columns.append(table.column(j))
            display.append(table.display[j])
    out = Table.from_columns(
        table.header, table.types, columns, display=display, name=table.name, dedupe=False
    )
    _cache_of(table)[key] = out
    return out


def fits_as_is(table: Table, max_chars: int | None, *, style: str = "tapex", lowercase: bool = False,
               max_cell_chars: int | None = None) -> bool:
    """Whether :func:`truncate_table` with a character budget returns ``table`` itself: no
    text cell is longer than ``max_cell_chars`` and the linearization has at most
    ``max_chars`` characters (the budget left after the reserve; ``None``: only the cells
    are checked, as for a token budget, whose count the caller makes)."""
    return ((max_cell_chars is None or (max_cell_chars >= 1 and _text_cells_fit(table, max_cell_chars)))
            and (max_chars is None or len(linearize(table, style=style, lowercase=lowercase)) <= max_chars))


def _text_cells_fit(table: Table, cap: int) -> bool:
    """True when no cell of a text column can be longer than ``cap`` characters, judged from
    the string pool (every value of a text column is pooled, so one scan of the distinct
    strings covers them all) and the display text of text columns that keep one. False
    only means "look cell by cell": the pool may hold strings no cell uses."""
    longest = _cache_of(table).get("longest_string")
    if longest is None:
        longest = _cache_of(table)["longest_string"] = max(map(len, table.strings), default=0)
    for t, shown in zip(table.types, table.display):
        if t == TEXT and shown:
            longest = max(longest, max(map(len, shown)))
    return longest <= cap


def _cut(text: str) -> str:
    """Drop trailing spaces left by a cut (unless nothing else would remain)."""
    return text.rstrip() or text


def _cut_to_tokens(text: str, cap: int, count: TokenCounter) -> str:
    """The longest prefix of ``text`` with at most ``cap`` tokens, preferring to cut between
    words; found by bisection with ``count`` (assumed not to decrease as a prefix grows)."""
    if count(text) <= cap:
        return text
    ends = [i for i in range(1, len(text)) if text[i] == " " and text[i - 1] != " "]
    lo, hi = 0, len(ends)  # ends[:lo] fit; ends[hi:] do not
    while lo < hi:
        mid = (lo + hi + 1) // 2
        if count(text[: ends[mid - 1]]) <= cap:
            lo = mid
        else:
            hi = mid - 1
    if lo:
        return _cut(text[: ends[lo - 1]])
    first = ends[0] if ends else len(text)
    lo, hi = 1, first  # the first word alone is too long: cut inside it
    while lo < hi:
        mid = (lo + hi + 1) // 2
        if count(text[:mid]) <= cap:
            lo = mid
        else:
            hi = mid - 1
    return _cut(text[:lo])


def _label(table: Table) -> str:
    name = f" {table.name!r}" if table.name else ""
    return f"table{name} ({table.num_rows} rows x {len(table.header)} columns)"


def _check_keep_rows(keep_rows: Iterable[int] | None, num_rows: int) -> frozenset[int]:
    if keep_rows is None:
        return frozenset()
    rows = frozenset(int(i) for i in keep_rows)
    bad = sorted(i for i in rows if not 0 <= i < num_rows)
    if bad:
        raise ConfigError(
            f"keep_rows {bad} are outside the table's rows 0..{num_rows - 1}"
        )
    return rows


class _Measure:
    """Size of a linearization in characters (exact and additive) or tokens."""

    def __init__(
        self, limit: int, reserve: int, style: str, lowercase: bool, count: TokenCounter | None
    ):
        self.limit = limit
        self.reserve = reserve
        self.budget = limit - reserve
        self.style = style
        self.lowercase = lowercase
        self.count = count
        self.unit = "chars" if count is None else "tokens"
        self.separator = 0 if count is not None else len(_ROW_SEPARATOR[style])

    def total(self, table: Table) -> int:
        if self.count is None:
            return linearized_length(table, self.style, lowercase=self.lowercase)
        key = ("linearize_tokens", self.style, self.lowercase, self.count)
        n = _cache_of(table).get(key)
        if n is None:
            n = _cache_of(table)[key] = int(
                self.count(linearize(table, style=self.style, lowercase=self.lowercase))
            )
        return n

    def text(self, s: str) -> int:
        return len(s) if self.count is None else int(self.count(s))

    def row(self, position: int, body: str) -> int:
        """Size a row adds at 1-based ``position`` (its separator included)."""
        if self.style == "markdown":
            return self.separator + self.text(body)
        if self.count is None:
            return self.separator + 7 + len(str(position)) + len(body)  # "row k : " + body
        return self.text(f"row {position} : {body}")

    def describe(self) -> str:
        name = "max_chars" if self.count is None else "max_tokens"
        return f"{self.budget} {self.unit} ({name}={self.limit} minus reserve={self.reserve})"


def _make_measure(max_chars, max_tokens, count_tokens, style, lowercase, reserve):
    if max_chars is not None and max_tokens is not None:
        raise ConfigError(
            f"give max_chars or max_tokens, not both (got {max_chars} and {max_tokens})"
        )
    if max_tokens is not None:
        if count_tokens is None:
            raise ConfigError("max_tokens needs count_tokens (a function str -> int)")
        return _Measure(int(max_tokens), reserve, style, lowercase, count_tokens)
    if max_chars is not None:
        return _Measure(int(max_chars), reserve, style, lowercase, None)
    return None


def _choose_rows(
    table: Table,
    measure: _Measure,
    budget: int,
    total: int,
    protected: frozenset[int],
    seed: int,
) -> tuple[list[int], dict[int, int]]:
    """Row indices to keep (ascending) and the estimated size of each kept row."""
    head, bodies = _parts(table, measure.style, measure.lowercase)
    n = len(bodies)
    room = budget - measure.text(head)
    memo: dict[tuple[int, int], int] = {}

    def cost(position: int, i: int) -> int:
        c = memo.get((position, i))
        if c is None:
            c = memo[(position, i)] = measure.row(position, bodies[i])
        return c

    if protected:
        ordered = sorted(protected)
        needed = sum(cost(k, i) for k, i in enumerate(ordered, 1))
        if needed > room:
            raise TableError(
                f"{_label(table)} cannot keep rows {ordered}: the header and those rows need "
                f"{budget - room + needed} {measure.unit} but the budget is "
                f"{measure.describe()}; raise "
                "the budget, lower reserve, shorten cells or protect fewer rows"
            )

    # TAPEX: drop a random fraction of the unprotected rows, sized by how far over we are.
    unprotected = [i for i in range(n) if i not in protected]
    rows_size = max(total - (budget - room), 1)
    ratio = 1.0 - max(room, 0) / rows_size
    n_drop = min(len(unprotected), max(0, int(n * ratio)))
    dropped = set(random.Random(seed).sample(unprotected, n_drop)) if n_drop else set()
    candidates = [i for i in range(n) if i not in dropped]

    # Room for protected rows not yet reached, at the largest position they could take.
    last = len(candidates)
    reserved = {i: cost(last, i) for i in protected}
    pending = sum(reserved.values())
    used = 0
    kept: list[int] = []
    stopped = False
    for i in candidates:
        position = len(kept) + 1
        if i in protected:
            used += cost(position, i)
            pending -= reserved[i]
            kept.append(i)
        elif not stopped:
            c = cost(position, i)
            if used + c + pending <= room:
                used += c
                kept.append(i)
            else:
                stopped = True  # like TAPEX: keep rows while they fit, then stop
    if not kept:
        kept = [_one_row(table, measure, budget, room, candidates, cost)]
    return kept, {i: memo.get((k, i), 0) for k, i in enumerate(kept, 1)}


def _one_row(table, measure, budget, room, candidates, cost) -> int:
    """The first row (survivors of the random drop first) that fits alone."""
    n = table.num_rows
    if not n:
        raise TableError(
            f"{_label(table)} does not fit: its header alone needs {budget - room} "
            f"{measure.unit} but the budget is {measure.describe()}"
        )
    for i in [*candidates, *range(n)]:
        if cost(1, i) <= room:
            return i
    smallest = min(cost(1, i) for i in range(n))
    head_size = budget - room
    raise TableError(
        f"{_label(table)} does not fit: the header ({head_size} {measure.unit}) plus its "
        f"shortest row need {head_size + smallest} {measure.unit} but the budget is "
        f"{measure.describe()}; raise the "
        "budget, lower reserve or set max_cell_chars"
    )
