"""The columnar table every part of the data core works on.

A :class:`Table` has a header of unique column names, a type per column (``text``,
``integer``, ``real`` or ``date``) and columnar storage:

* ``text``: ``int32`` codes into the table's string pool ``strings`` (``-1`` is NULL);
* ``integer``: ``int64`` values; ``real``: ``float64`` values; ``date``: ``int64``
  ``yyyymmdd`` numbers; each with a boolean NULL mask.

Python values (``Table.rows``, ``Table.column``) are ``str``, ``int``, ``float``, ISO
``'YYYY-MM-DD'`` strings for dates, and ``None`` for NULL: exactly what is inserted into
SQLite by :meth:`Table.to_sqlite`, the oracle of the executor.

Tables loaded from real files may keep each cell's original text (``display``), shown by
the linearizers, while execution uses the parsed value (like WTQ's ``targetCanon``).
"""
from __future__ import annotations

import datetime as _dt
import math
from typing import Any, Iterable, Sequence

import numpy as np

from symjax.errors import CellTypeError, TableError
from symjax.sql.cell_values import (
    COLUMN_TYPES,
    DATE,
    EXACT_INT_LIMIT,
    INTEGER,
    REAL,
    TEXT,
    TYPE_CODES,
    date_to_int,
    format_number,
    int_to_date,
    type_codes,
)

__all__ = [
    "TEXT",
    "INTEGER",
    "REAL",
    "DATE",
    "COLUMN_TYPES",
    "Table",
    "format_number",
    "date_to_int",
    "int_to_date",
    "dedupe_header",
    "TYPE_CODES",
    "type_codes",
]

_SQLITE_DECLARED = {TEXT: "TEXT", INTEGER: "INTEGER", REAL: "REAL", DATE: "TEXT"}


class _Memo(dict):
    """``f(value)`` remembered for the last up to 65,536 distinct values (then forgotten at
    once): synthetic reals and dates repeat across tables, and a lookup is ~10x cheaper
    than formatting."""

    __slots__ = ("f",)

    def __init__(self, f):
        super().__init__()
        self.f = f

    def __missing__(self, value):
        if len(self) >= 65536:
            self.clear()
        text = self[value] = self.f(value)
        return text


# non-NULL cell -> text (keys are the stored values: int for dates, float for reals; a
# float key never meets an int one, the dicts are per type)
_CELL_TEXT = {INTEGER: str, REAL: _Memo(format_number).__getitem__, DATE: _Memo(int_to_date).__getitem__}


def dedupe_header(names: Sequence[Any]) -> tuple[str, ...]:
    """Make column names unique and non-empty, deterministically, never merging columns.

    Names are stripped; an empty name becomes ``column_<j+1>``; a repeated name gets a
    suffix ``_2``, ``_3``, ... (the first occurrence keeps its name). Comparison is
    case-insensitive, because SQL identifiers are: ``Total`` and ``total`` would name the
    same SQLite column.
    """
    out: list[str] = []
    seen: set[str] = set()
    for j, raw in enumerate(names):
        name = "" if raw is None else " ".join(str(raw).split())
        if not name:
            name = f"column_{j + 1}"
        candidate, k = name, 2
        while candidate.lower() in seen:
            candidate = f"{name}_{k}"
            k += 1
        seen.add(candidate.lower())
        out.append(candidate)
    return tuple(out)


class Table:
    """An immutable, typed, columnar table. Build with :meth:`from_columns` or the loaders
    in :mod:`symjax.sql.io` (``table_from_rows``, ``read_csv``, ``read_table``, ...)."""

    __slots__ = (
        "header",
        "types",
        "num_rows",
        "strings",
        "_data",
        "_nulls",
        "display",
        "name",
        "_cache",
        "__weakref__",
    )

    def __init__(
        self,
        header: tuple[str, ...],
        types: tuple[str, ...],
        data: list[np.ndarray],
        nulls: list[np.ndarray],
        strings: tuple[str, ...],
        *,
        display: list[tuple[str, ...] | None] | None = None,
        name: str | None = None,
    ):
        """Low-level constructor over already-encoded arrays; prefer :meth:`from_columns`."""
        self.header = header
        self.types = types
        self._data = data
        self._nulls = nulls
        self.strings = strings
        self.num_rows = int(len(data[0])) if data else 0
        self.display = display if display is not None else [None] * len(header)
        self.name = name
        self._cache: dict[Any, Any] = {}

    @classmethod
    def from_arrays(cls, header: tuple[str, ...], types: tuple[str, ...], strings: tuple[str, ...],
                    arrays: tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray], *,
                    name: str | None = None, pool_bytes: np.ndarray | None = None) -> "Table":
        """Low-level constructor over the kernels' view of the columns (:meth:`arrays`, taken
        as given: the type codes must be those of ``types``); :attr:`data` and
        :attr:`nulls` are its rows, built on first use. ``pool_bytes``: the strings as
        :meth:`pool_bytes` writes them, when the caller has them already (read-only, so
        that the kernels taking the pool are compiled for one array type)."""
        self = cls.__new__(cls)
        self.header = header
        self.types = types
        self._data = None
        self._nulls = None
        self.strings = strings
        self.num_rows = int(arrays[1].shape[1])
        self.display = [None] * len(header)
        self.name = name
        self._cache = {"arrays": arrays}
        if pool_bytes is not None:
            self._cache["pool_bytes"] = pool_bytes
        return self

    @property
    def data(self) -> list[np.ndarray]:
        """Per column the encoded values: pool codes (``int32``, -1 for NULL) for text,
        ``float64`` for real, ``int64`` for integer and date (``yyyymmdd``)."""
        data = self._data
        if data is None:
            _, codes, ints, reals, _ = self._cache["arrays"]
            data = self._data = [codes[j] if t == TEXT else (reals[j] if t == REAL else ints[j])
                                 for j, t in enumerate(self.types)]
        return data

    @property
    def nulls(self) -> list[np.ndarray]:
        """Per column the NULL mask (``bool``)."""
        nulls = self._nulls
        if nulls is None:
            nulls = self._nulls = list(self._cache["arrays"][4])
        return nulls

    # ------------------------------------------------------------------ building
    @classmethod
    def from_columns(
        cls,
        header: Sequence[str],
        types: Sequence[str],
        columns: Sequence[Sequence[Any]],
        *,
        display: Sequence[Sequence[str] | None] | None = None,
        name: str | None = None,
        dedupe: bool = True,
    ) -> "Table":
        """Build a table from Python values per column (``None`` is NULL).

        Values must agree with the declared types: ``int`` for integer (``bool`` is
        refused), ``int``/``float`` for real, ``str`` for text, ISO date strings or
        ``datetime.date`` for date. A mismatch raises :class:`CellTypeError` naming the
        row, column and value.
        """
        header = list(header)
        types = tuple(types)
        if not header:
            raise TableError("a table needs at least one column; got an empty header")
        if len(types) != len(header):
            raise TableError(
                f"header has {len(header)} columns but {len(types)} types were given: "
                f"header={header!r}, types={types!r}"
            )
        if len(columns) != len(header):
            raise TableError(
                f"header has {len(header)} columns but {len(columns)} columns of data"
            )
        for j, t in enumerate(types):
            if t not in COLUMN_TYPES:
                raise TableError(
                    f"column {j} ({header[j]!r}) has unknown type {t!r}; "
                    f"use one of {COLUMN_TYPES}"
                )
        if dedupe:
            header_t = dedupe_header(header)
        else:
            header_t = tuple(header)
            if len({h.lower() for h in header_t}) != len(header_t) or any(not h for h in header_t):
                raise TableError(f"column names must be unique and non-empty: {header_t!r}")
        num_rows = len(columns[0])
        if num_rows == 0:
            raise TableError(f"table {name or ''!s} has no rows (header {header_t!r})")
        for j, col in enumerate(columns):
            if len(col) != num_rows:
                raise TableError(
                    f"column {j} ({header_t[j]!r}) has {len(col)} cells but column 0 has "
                    f"{num_rows}: all columns must have the same number of rows"
                )
        pool: dict[str, int] = {}
        data: list[np.ndarray] = []
        nulls: list[np.ndarray] = []
        pycols: list[list[Any]] = []
        for j, (t, col) in enumerate(zip(types, columns)):
            arr, mask, values = _encode_column(col, t, j, header_t[j], pool)
            data.append(arr)
            nulls.append(mask)
            pycols.append(values)
        disp: list[tuple[str, ...] | None] = [None] * len(header_t)
        if display is not None:
            if len(display) != len(header_t):
                raise TableError(f"display has {len(display)} columns, table has {len(header_t)}")
            for j, d in enumerate(display):
                if d is None:
                    continue
                if len(d) != num_rows:
                    raise TableError(
                        f"display of column {j} ({header_t[j]!r}) has {len(d)} cells, "
                        f"expected {num_rows}"
                    )
                disp[j] = tuple(str(x) for x in d)
        table = cls(header_t, types, data, nulls, tuple(pool), display=disp, name=name)
        for j, values in enumerate(pycols):  # the Python values are known already
            table._cache[("column", j)] = values
        return table

    # ------------------------------------------------------------------ access
    @property
    def num_columns(self) -> int:
        return len(self.header)

    @property
    def shape(self) -> tuple[int, int]:
        return (self.num_rows, len(self.header))

    def column(self, j: int) -> list[Any]:
        """Python values of column ``j`` (``None`` for NULL, dates as ISO strings)."""
        key = ("column", j)
        cached = self._cache.get(key)
        if cached is not None:
            return cached
        t = self.types[j]
        arr, mask = self.data[j], self.nulls[j]
        if t == TEXT:
            s = self.strings
            out = [None if c < 0 else s[c] for c in arr.tolist()]
        elif t == DATE:
            out = [None if m else int_to_date(v) for v, m in zip(arr.tolist(), mask.tolist())]
        else:
            out = [None if m else v for v, m in zip(arr.tolist(), mask.tolist())]
        self._cache[key] = out
        return out

    @property
    def rows(self) -> list[list[Any]]:
        """Rows as lists of Python values (``None`` for NULL)."""
        cached = self._cache.get("rows")
        if cached is None:
            cols = [self.column(j) for j in range(len(self.header))]
            cached = [list(r) for r in zip(*cols)]
            self._cache["rows"] = cached
        return cached

    def cell_text(self, i: int, j: int) -> str:
        """What a reader sees in cell (i, j): the original text if kept, else the value's
        canonical text; NULL shows as an empty string."""
        return self.column_texts(j)[i]

    def column_texts(self, j: int) -> tuple[str, ...]:
        """:meth:`cell_text` of every cell of column ``j``, cached. Read straight from the
        arrays, without building :meth:`column`'s values (linearizing a table costs mostly
        this), except for dates whose text ``from_columns`` kept as given."""
        key = ("texts", j)
        cached = self._cache.get(key)
        if cached is not None:
            return cached
        disp = self.display[j]
        t = self.types[j]
        if disp is not None:
            out = disp
        elif t == TEXT:  # code -1 (NULL) picks the "" appended to the pool
            out = tuple(map((self.strings + ("",)).__getitem__, self.data[j].tolist()))
        elif t == DATE and ("column", j) in self._cache:
            # from_columns keeps a date's text as given (date_to_int accepts "2001- 3-05")
            out = tuple("" if v is None else v for v in self.column(j))
        else:
            text = _CELL_TEXT[t]
            values = self.data[j].tolist()
            mask = self.nulls[j]
            if np.count_nonzero(mask):  # cheaper than mask.any() on short columns
                out = tuple(["" if m else text(v) for v, m in zip(values, mask.tolist())])
            else:
                out = tuple(map(text, values))
        self._cache[key] = out
        return out

    def sort_keys(self, j: int) -> np.ndarray:
        """``float64`` keys whose order is SQLite's order for column ``j`` (NaN at NULLs).

        Text: the rank of the string under BINARY collation (code-point order, which is
        UTF-8 byte order), equal strings share a rank; numbers: the value; dates: yyyymmdd.
        """
        key = ("keys", j)
        cached = self._cache.get(key)
        if cached is not None:
            return cached
        t = self.types[j]
        if t == TEXT:  # code -1 (NULL) picks the NaN appended to the ranks
            keys = np.append(self.string_ranks(), np.nan)[self.data[j]]
        else:
            keys = self.data[j].astype(np.float64)
            nulls = self.nulls[j]
            if np.count_nonzero(nulls):  # cheaper than a masked store on short columns
                keys[nulls] = np.nan
        keys.setflags(write=False)
        self._cache[key] = keys
        return keys

    def arrays(self) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        """The columns as the kernels read them, cached: ``(type codes, codes, ints, reals,
        nulls)``; ``codes[j]`` (``int32``, -1 for NULL) holds text column ``j``, ``ints[j]``
        an integer or date column (``yyyymmdd``), ``reals[j]`` a real column, ``nulls[j]``
        every column's NULL mask; what the other rows hold is unspecified. The type codes are
        :data:`TYPE_CODES` of each column's type."""
        cached = self._cache.get("arrays")
        if cached is None:
            m, n = len(self.header), self.num_rows
            codes = np.full((m, n), -1, dtype=np.int32)
            ints = np.zeros((m, n), dtype=np.int64)
            reals = np.zeros((m, n), dtype=np.float64)
            nulls = np.zeros((m, n), dtype=np.bool_)
            for j, t in enumerate(self.types):
                target = codes if t == TEXT else (reals if t == REAL else ints)
                target[j] = self.data[j]
                nulls[j] = self.nulls[j]
            cached = self._cache["arrays"] = (type_codes(self.types), codes, ints, reals, nulls)
        return cached

    def shows_values(self) -> bool:
        """Whether every cell's text is its value's canonical text (no original text kept,
        no date kept as the text it was given), so kernels can write cell texts from
        :meth:`arrays` alone."""
        if self.display.count(None) != len(self.types):
            return False
        return DATE not in self.types or not any(
            t == DATE and ("column", j) in self._cache for j, t in enumerate(self.types))

    def kernel_texts(self) -> tuple[np.ndarray, np.ndarray] | None:
        """``(pool_bytes(), header_bytes())`` when kernels can write this table's texts from
        :meth:`arrays` alone (every cell shows its value, no string or name holds a NUL);
        ``None`` otherwise, and Python writes them."""
        if not self.shows_values():
            return None
        pool, header = self.pool_bytes(), self.header_bytes()
        return None if pool is None or header is None else (pool, header)

    def pool_bytes(self) -> np.ndarray | None:
        """The string pool as the kernels read it, cached: UTF-8 (lone surrogates passed
        through), each string followed by a NUL byte; ``None`` when a string holds a NUL."""
        cached = self._cache.get("pool_bytes", False)
        if cached is False:
            cached = self._cache["pool_bytes"] = nul_terminated(self.strings)
        return cached

    def header_bytes(self) -> np.ndarray | None:
        """The column names as the kernels read them, cached: UTF-8, each followed by a NUL
        byte; ``None`` when a name holds a NUL."""
        cached = self._cache.get("header_bytes", False)
        if cached is False:
            cached = self._cache["header_bytes"] = nul_terminated(self.header)
        return cached

    def string_ranks(self) -> np.ndarray:
        """Rank of each pooled string in code-point order (the pool holds no duplicates)."""
        cached = self._cache.get("ranks")
        if cached is None:
            rank_of = {s: r for r, s in enumerate(self.strings_by_rank())}
            cached = np.array([rank_of[s] for s in self.strings], dtype=np.float64)
            self._cache["ranks"] = cached
        return cached

    def strings_by_rank(self) -> list[str]:
        cached = self._cache.get("by_rank")
        if cached is None:
            cached = sorted(self.strings)
            self._cache["by_rank"] = cached
        return cached

    def value_from_key(self, j: int, key: float) -> Any:
        """The Python value of column ``j`` whose sort key is ``key`` (inverse of sort_keys)."""
        t = self.types[j]
        if t == TEXT:
            return self.strings_by_rank()[int(key)]
        if t == INTEGER:
            return int(key)
        if t == DATE:
            return int_to_date(int(key))
        return float(key)

    # ------------------------------------------------------------------ transforms
    def take_rows(self, indices: Iterable[int]) -> "Table":
        """A new table with the given rows, in the given order (row ids renumbered)."""
        idx = np.asarray(list(indices), dtype=np.int64)
        if idx.size == 0:
            raise TableError("take_rows would leave the table without rows")
        if idx.min() < -self.num_rows or idx.max() >= self.num_rows:
            raise TableError(f"take_rows: row indices must be in [-{self.num_rows}, {self.num_rows}) "
                             f"(negative ones count from the end), got {idx.tolist()}")
        rows = idx.tolist()
        display = [None if d is None else tuple(d[i] for i in rows) for d in self.display]
        data = [d[idx] for d in self.data]
        # The pool of the result: the strings its cells use, numbered in order of first
        # appearance (column by column, row by row), as from_columns numbers them.
        text = [j for j, t in enumerate(self.types) if t == TEXT]
        pool: tuple[str, ...] = ()
        if text:
            flat = np.concatenate([data[j] for j in text])
            present = flat[flat >= 0]
            old, first = np.unique(present, return_index=True)
            order = np.argsort(first, kind="stable")
            remap = np.full(len(self.strings) + 1, -1, dtype=np.int32)  # [-1] stays -1
            remap[old[order]] = np.arange(len(order), dtype=np.int32)
            strings = self.strings
            pool = tuple([strings[c] for c in old[order].tolist()])
            for j in text:
                data[j] = remap[data[j]]
        table = Table(self.header, self.types, data, [m[idx] for m in self.nulls], pool,
                      display=display, name=self.name)
        for j in range(len(self.header)):  # values a caller gave (a date's own text) stay
            values = self._cache.get(("column", j))
            if values is not None:
                table._cache[("column", j)] = [values[i] for i in rows]
        return table

    def to_sqlite(self, conn, name: str = "w") -> None:
        """Create table ``name`` in a ``sqlite3`` connection and insert the rows.

        Declared types: TEXT, INTEGER, REAL, and TEXT for dates (ISO strings compare in
        date order). This is the reference loading used by the differential tests.
        """
        cols = ", ".join(
            f"{quote_identifier(h)} {_SQLITE_DECLARED[t]}" for h, t in zip(self.header, self.types)
        )
        conn.execute(f"CREATE TABLE {quote_identifier(name)} ({cols})")
        marks = ", ".join("?" * len(self.header))
        conn.executemany(f"INSERT INTO {quote_identifier(name)} VALUES ({marks})", self.rows)

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dict: ``header``, ``types``, ``rows`` (and ``name`` if set)."""
        out: dict[str, Any] = {"header": list(self.header), "types": list(self.types), "rows": self.rows}
        if self.name is not None:
            out["name"] = self.name
        return out

    # ------------------------------------------------------------------ misc
    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Table):
            return NotImplemented
        return (
            self.header == other.header
            and self.types == other.types
            and _rows_equal(self.rows, other.rows)
        )

    def __hash__(self) -> int:  # pragma: no cover - tables are not dict keys
        return hash((self.header, self.types, self.num_rows))

    def __repr__(self) -> str:
        cols = ", ".join(f"{h}:{t}" for h, t in zip(self.header, self.types))
        return f"Table({self.num_rows} rows; {cols})"


def nul_terminated(strings: tuple[str, ...]) -> np.ndarray | None:
    """The strings as UTF-8 (lone surrogates passed through), each followed by a NUL byte
    (one NUL for no strings); ``None`` when a string holds a NUL."""
    joined = "\0".join(strings) + "\0"
    if joined.count("\0") != len(strings) + (not strings):
        return None
    return np.frombuffer(joined.encode("utf-8", "surrogatepass"), dtype=np.uint8)


def quote_identifier(name: str) -> str:
    """Double-quote an SQL identifier, doubling embedded quotes."""
    return '"' + name.replace('"', '""') + '"'


def _rows_equal(a: list[list[Any]], b: list[list[Any]]) -> bool:
    if len(a) != len(b):
        return False
    for ra, rb in zip(a, b):
        for x, y in zip(ra, rb):
            if x != y and not (isinstance(x, float) and isinstance(y, float) and math.isnan(x) and math.isnan(y)):
                return False
    return True


def _encode_column(col: Sequence[Any], t: str, j: int, name: str, pool: dict[str, int]):
    n = len(col)
    mask = np.zeros(n, dtype=np.bool_)
    if t == TEXT:
        codes = [0] * n
        for i, v in enumerate(col):
            if v is None:
                codes[i] = -1
                mask[i] = True
                continue
            if v.__class__ is not str and not isinstance(v, str):
                raise CellTypeError(
                    f"data row {i + 1}, column {j} ({name!r}) is declared text but holds "
                    f"{type(v).__name__} {v!r}; pass text cells as str"
                )
            code = pool.get(v)
            if code is None:
                code = pool[v] = len(pool)
            codes[i] = code
        return np.array(codes, dtype=np.int32), mask, list(col)
    if t == INTEGER:
        values = [None] * n
        for i, v in enumerate(col):
            if v is None:
                mask[i] = True
            elif v.__class__ is int or (
                isinstance(v, (int, np.integer)) and not isinstance(v, (bool, np.bool_))
            ):
                if not -(2**63) <= int(v) < 2**63:
                    raise CellTypeError(f"data row {i + 1}, column {j} ({name!r}): integer {v} exceeds 64 bits")
                values[i] = int(v)
            elif isinstance(v, float) and v.is_integer() and abs(v) < EXACT_INT_LIMIT:
                values[i] = int(v)
            else:
                raise CellTypeError(
                    f"data row {i + 1}, column {j} ({name!r}) is declared integer but holds "
                    f"{type(v).__name__} {v!r}; declare the column real or text, or fix the cell"
                )
        arr = np.array([0 if v is None else v for v in values], dtype=np.int64)
        return arr, mask, values
    if t == REAL:
        values = [None] * n
        for i, v in enumerate(col):
            if v is None:
                mask[i] = True
            elif v.__class__ is float or (
                isinstance(v, (int, float, np.integer, np.floating)) and not isinstance(v, (bool, np.bool_))
            ):
                x = float(v)
                if not math.isfinite(x):
                    raise CellTypeError(
                        f"data row {i + 1}, column {j} ({name!r}) holds non-finite {v!r}; "
                        "SQLite stores no NaN: use None for a missing value"
                    )
                values[i] = x
            else:
                raise CellTypeError(
                    f"data row {i + 1}, column {j} ({name!r}) is declared real but holds "
                    f"{type(v).__name__} {v!r}; declare the column text, or fix the cell"
                )
        arr = np.array([0.0 if v is None else v for v in values], dtype=np.float64)
        return arr, mask, values
    # DATE
    arr = np.zeros(n, dtype=np.int64)
    values = [None] * n
    for i, v in enumerate(col):
        if v is None:
            mask[i] = True
            continue
        if isinstance(v, _dt.datetime):
            v = v.date()
        if isinstance(v, _dt.date):
            arr[i] = v.year * 10000 + v.month * 100 + v.day
            values[i] = v.isoformat()
            continue
        try:
            arr[i] = date_to_int(v) if isinstance(v, str) else _raise()
            values[i] = v
        except (ValueError, TypeError):
            raise CellTypeError(
                f"data row {i + 1}, column {j} ({name!r}) is declared date but holds "
                f"{type(v).__name__} {v!r}; dates are ISO strings 'YYYY-MM-DD' or datetime.date"
            ) from None
    return arr, mask, values


def _raise():
    raise TypeError
