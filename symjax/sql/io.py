"""Loading tables from files, rows and data frames.

Every loader returns a :class:`~symjax.sql.table.Table`. Cells parsed from text into
numbers or dates keep their original text as the table's ``display``, so linearizations
show what the file showed while execution uses the parsed value.

Which text is a number, a date, NULL or text is decided by :mod:`symjax.sql.infer`
(:func:`infer_cell`, :func:`infer_column`, re-exported here); its module docstring gives
the rules. Python values (JSON, data frames, :func:`table_from_rows`) are typed by their
own type, and ``infer=False`` keeps string cells text.

File formats
------------
* ``.csv``: RFC 4180 (quotes doubled), read by :func:`read_csv`.
* WTQ ``csv/20x-csv/N.csv`` (a ``.csv`` in a folder named ``<digits>-csv``): every field
  in double quotes, escapes ``\\"`` and ``\\\\`` (``\\n`` is also read as a newline),
  newlines inside quotes kept; read by :func:`read_wtq`.
* ``.tsv`` (WTQ convention): tab-separated, one row a line, escapes ``\\n`` (newline),
  ``\\p`` (``|``), ``\\\\`` (backslash); other escapes are kept as written.
* ``.table`` (WTQ): ``| a | b |`` lines, padding stripped. Lossy: newlines in cells were
  written as spaces; prefer the ``.csv`` or ``.tsv`` of the same table.
* ``*.html.csv`` (TabFact ``all_csv``): ``#``-separated, header first; read by
  :func:`read_tabfact`.
* ``.jsonl`` / ``.json``: see :func:`read_jsonl` and :func:`read_json`.

Blank lines are skipped in every line-based format. The first row is the header; header
names go through :func:`~symjax.sql.table.dedupe_header` (empty or repeated names get a
deterministic unique name, columns are never merged). Undecodable bytes and malformed rows
raise :class:`TableFormatError` naming the file and line; a missing file raises
:class:`MissingDataError`.
"""
from __future__ import annotations

import csv
import io as _io
import json
import re
from pathlib import Path
from typing import Any, Mapping, Sequence, Union

from symjax.errors import CellTypeError, MissingDataError, TableError, TableFormatError
from symjax.sql.cell_values import EXACT_INT_LIMIT
from symjax.sql.file_formats import (
    WTQ_TSV_ESCAPES,
    is_table_object,
    loads_json,
    parse_lines,
    parse_wtq_csv,
    parse_wtq_table,
)
from symjax.sql.infer import (
    cell_value,
    classify_cell,
    column_type_of,
    infer_cell,
    infer_column,
)
from symjax.sql.table import (
    COLUMN_TYPES,
    INTEGER,
    REAL,
    TEXT,
    Table,
    dedupe_header,
    format_number,
)

__all__ = [
    "infer_cell",
    "infer_column",
    "table_from_rows",
    "from_dataframe",
    "read_csv",
    "read_wtq",
    "read_tabfact",
    "read_jsonl",
    "read_jsonl_tables",
    "read_json",
    "read_json_table",
    "read_table",
    "read_table_dir",
    "SUPPORTED_SUFFIXES",
]

Types = Union[Sequence[str], Mapping[str, str], None]
PathLike = Union[str, Path]

SUPPORTED_SUFFIXES = (".html.csv", ".csv", ".tsv", ".table", ".jsonl", ".json")


# ---------------------------------------------------------------------------- tables
def table_from_rows(
    rows: Sequence[Sequence[Any]],
    *,
    header: Sequence[Any] | None = None,
    types: Types = None,
    name: str | None = None,
    infer: bool = True,
) -> Table:
    """A table from rows of strings or Python values; the first row is the header unless
    ``header`` is given.

    ``types`` declares column types, as a list (one per column) or a mapping from
    (de-duplicated) column names to types; undeclared columns are inferred (``infer=True``)
    or text. A cell that contradicts its declared type raises :class:`CellTypeError`
    naming the row, column and value. Ragged rows, no columns or no data rows raise
    :class:`TableError`.
    """
    rows = list(rows)
    if header is None:
        if not rows:
            raise TableError(f"table {name or ''!s} has no header row: got no rows at all")
        header, rows = rows[0], rows[1:]
    return _table_from_body(header, rows, types=types, name=name, infer=infer)


def _where(i: int, source: str | None, lines: Sequence[int | None] | None) -> str:
    """Human-readable place of data row ``i`` (0-based) for error messages."""
    if source is not None and lines is not None and lines[i] is not None:
        return f"data row {i + 1} ({source}, line {lines[i]})"
    if source is not None:
        return f"data row {i + 1} of {source}"
    return f"data row {i + 1}"


def _at(path: Any, line: int | None) -> str:
    return f"{path}" if line is None else f"{path}, line {line}"


def _table_from_body(
    header: Sequence[Any],
    body: Sequence[Sequence[Any]],
    *,
    types: Types,
    name: str | None,
    infer: bool,
    source: str | None = None,
    lines: Sequence[int] | None = None,
) -> Table:
    source = source or name
    label = source or "table"
    names = dedupe_header(["" if h is None else str(h) for h in header])
    if not names:
        raise TableError(f"{label}: the header is empty; a table needs at least one column")
    if not body:
        raise TableError(f"{label}: no data rows under header {list(names)!r}")
    for i, row in enumerate(body):
        if isinstance(row, (str, bytes, Mapping)) or not hasattr(row, "__len__"):
            raise TableError(f"{_where(i, source, lines)}: a row is a list of cells, got {row!r}")
        if len(row) != len(names):
            raise TableError(
                f"{_where(i, source, lines)} has {len(row)} cells but the header has "
                f"{len(names)} columns {list(names)!r}: every row needs one cell per column"
            )
    declared = _declared_types(types, names, label)
    columns, out_types, display = [], [], []
    for j, col in enumerate(zip(*body)):
        t, values, disp = _build_column(col, declared[j], names[j], infer, source, lines)
        columns.append(values)
        out_types.append(t)
        display.append(disp)
    return Table.from_columns(names, out_types, columns, display=display, name=name, dedupe=False)


def _declared_types(types: Types, names: tuple[str, ...], label: str) -> list[str | None]:
    if types is None:
        return [None] * len(names)
    if isinstance(types, Mapping):
        unknown = [k for k in types if k not in names]
        if unknown:
            raise TableError(f"{label}: types name unknown columns {unknown!r}; columns are {list(names)!r}")
        declared = [types.get(n) for n in names]
    else:
        declared = list(types)
        if len(declared) != len(names):
            raise TableError(
                f"{label}: {len(declared)} types {declared!r} for {len(names)} columns {list(names)!r}"
            )
    for n, t in zip(names, declared):
        if t is not None and t not in COLUMN_TYPES:
            raise TableError(f"{label}: column {n!r} has unknown type {t!r}; use one of {COLUMN_TYPES}")
    return declared


def _build_column(col, declared, col_name, infer, source, lines):
    """``(type, values, display or None)`` of one column of raw cells."""
    classified = []
    for i, cell in enumerate(col):
        try:
            classified.append(classify_cell(cell, infer or declared not in (None, TEXT)))
        except TypeError as e:
            raise CellTypeError(f"{_where(i, source, lines)}, column {col_name!r}: {e}") from None
    t = declared or column_type_of({k for k, _, _ in classified})
    values = []
    for i, (kind, parsed, text) in enumerate(classified):
        if declared is not None and not _fits(declared, kind, parsed, col[i]):
            raise CellTypeError(
                f"{_where(i, source, lines)}, column {col_name!r} is declared {declared} but "
                f"holds {col[i]!r} ({kind or 'null'}); fix the cell or declare the column "
                f"{'real' if declared == INTEGER and kind == REAL else 'text'}"
            )
        if t == INTEGER and kind == REAL:
            parsed = int(parsed)  # an integral Python float, e.g. from a pandas int column with NaN
        values.append(cell_value(t, kind, parsed, text))
    display = [c if isinstance(c, str) else _canonical(t, v) for c, v in zip(col, values)]
    if all(d == _canonical(t, v) for d, v in zip(display, values)):
        return t, values, None
    return t, values, display


def _fits(declared: str, kind: str | None, parsed: Any, cell: Any) -> bool:
    """Whether a classified cell may go into a column declared ``declared``. An integral
    Python float fits an integer column (pandas turns int columns with NaN into floats);
    the text ``'3.0'`` does not."""
    if kind is None or declared == TEXT or declared == kind:
        return True
    if declared == REAL:
        return kind == INTEGER
    if declared == INTEGER and kind == REAL and not isinstance(cell, str):
        return parsed.is_integer() and abs(parsed) < EXACT_INT_LIMIT
    return False


def _canonical(t: str, value: Any) -> str:
    if value is None:
        return ""
    return format_number(value) if t in (INTEGER, REAL) else value


def from_dataframe(df: Any, *, infer: bool = True, types: Types = None, name: str | None = None) -> Table:
    """A table from a pandas ``DataFrame`` (pandas is imported only here).

    Column labels become the header (tuples of a MultiIndex joined by spaces); missing
    values (``None``, ``NaN``, ``NaT``, ``pd.NA``) are NULL; numeric columns keep their
    type; string cells are inferred unless ``infer=False``.
    """
    try:
        import pandas as pd
    except ImportError as e:  # pragma: no cover - a DataFrame implies pandas
        raise ImportError("from_dataframe needs pandas: pip install pandas") from e
    if not isinstance(df, pd.DataFrame):
        raise TableError(f"from_dataframe takes a pandas DataFrame, got {type(df).__name__}")
    header = [
        " ".join(str(x) for x in c if str(x)) if isinstance(c, tuple) else str(c) for c in df.columns
    ]
    columns = []
    for j in range(df.shape[1]):
        series = df.iloc[:, j]
        missing = series.isna().tolist()
        columns.append([None if m else v for v, m in zip(series.tolist(), missing)])
    body = [list(r) for r in zip(*columns)]
    return _table_from_body(header, body, types=types, name=name, infer=infer)


# ---------------------------------------------------------------------------- files
def _read_text(path: PathLike, encoding: str = "utf-8") -> str:
    p = Path(path)
    if not p.exists():
        raise MissingDataError(f"table file not found: {p}")
    if p.is_dir():
        raise MissingDataError(f"{p} is a directory, not a table file; use read_table_dir")
    if not p.is_file():  # a FIFO or a device would block or never end
        raise TableFormatError(f"{p} is not a regular file (a FIFO, socket or device); "
                               "give a table file, e.g. copy the data to a .csv or .jsonl file")
    data = p.read_bytes()
    try:
        text = data.decode(encoding)
    except UnicodeDecodeError as e:
        line = data.count(b"\n", 0, e.start) + 1
        column = e.start - (data.rfind(b"\n", 0, e.start) + 1) + 1
        raise TableFormatError(
            f"{p}, line {line}, column {column}: bytes {data[e.start:e.end]!r} (file offset "
            f"{e.start}) are not valid {encoding} ({e.reason}); re-encode the file or pass "
            "the right encoding="
        ) from e
    except LookupError as e:
        raise TableFormatError(f"{p}: unknown encoding {encoding!r}") from e
    return text[1:] if text.startswith("\ufeff") else text


def _split_records(records, header: bool):
    """``(header, body, lines)`` from ``[(line, row), ...]``."""
    if not records:
        return [], [], []
    if header:
        return records[0][1], [r for _, r in records[1:]], [ln for ln, _ in records[1:]]
    return [""] * len(records[0][1]), [r for _, r in records], [ln for ln, _ in records]


def _finish(path, records, *, header=True, types=None, infer=True, name=None) -> Table:
    head, body, lines = _split_records(records, header)
    source = str(path)
    if not records:
        raise TableError(f"{source}: the file holds no rows (not even a header)")
    if any(ln is None for ln in lines):
        lines = None
    return _table_from_body(
        head, body, types=types, name=source if name is None else name, infer=infer,
        source=source, lines=lines,
    )


def read_csv(
    path: PathLike,
    *,
    delimiter: str = ",",
    header: bool = True,
    types: Types = None,
    infer: bool = True,
    encoding: str = "utf-8",
    name: str | None = None,
) -> Table:
    """An RFC 4180 CSV file (quotes doubled, newlines allowed inside quotes).

    With ``header=False`` the columns are named ``column_1``, ``column_2``, ... The table's
    name defaults to ``str(path)``.
    """
    text = _read_text(path, encoding)
    reader = csv.reader(_io.StringIO(text, newline=""), delimiter=delimiter, strict=True)
    records, start = [], 1
    # the csv module's default field limit (131,072 characters) would refuse long cells that
    # the TSV and JSONL readers take; no field can be longer than the file
    limit = csv.field_size_limit()
    csv.field_size_limit(max(limit, min(len(text) + 1, 2**31 - 1)))
    try:
        for row in reader:
            if row:
                records.append((start, row))
            start = reader.line_num + 1
    except csv.Error as e:
        raise TableFormatError(f"{path}, line {reader.line_num}: malformed CSV: {e}") from e
    finally:
        csv.field_size_limit(limit)
    return _finish(path, records, header=header, types=types, infer=infer, name=name)


def read_wtq(
    path: PathLike, *, types: Types = None, infer: bool = True, name: str | None = None
) -> Table:
    """A WikiTableQuestions table: ``.csv`` (backslash-escaped), ``.tsv`` or ``.table``
    (formats in the module docstring). The first row is the header."""
    suffix = Path(path).suffix.lower()
    if suffix not in (".csv", ".tsv", ".table"):
        raise TableFormatError(f"{path}: read_wtq reads .csv, .tsv or .table files, not {suffix!r}")
    text = _read_text(path)
    if suffix == ".csv":
        records = parse_wtq_csv(text, str(path))
    elif suffix == ".tsv":
        records = parse_lines(text, "\t", WTQ_TSV_ESCAPES)
    else:
        records = parse_wtq_table(text, str(path))
    return _finish(path, records, types=types, infer=infer, name=name)


def read_tabfact(
    path: PathLike, *, types: Types = None, infer: bool = True, name: str | None = None
) -> Table:
    """A TabFact ``all_csv/<id>.html.csv`` table: ``#``-separated, header first, no
    quoting or escapes (cells are lowercased and tokenized in the dataset)."""
    records = parse_lines(_read_text(path), "#", None)
    return _finish(path, records, types=types, infer=infer, name=name)


def read_json_table(
    obj: Mapping[str, Any], *, infer: bool = True, name: str | None = None
) -> Table:
    """A table from a dict ``{"header": [...], "rows": [[...], ...]}`` with optional
    ``"types"`` (one per column) and ``"name"`` (WikiSQL's ``tables.jsonl`` lines have this
    shape)."""
    return _json_table(obj, infer=infer, name=name, source=None)


def _json_table(obj, *, infer, name, source, default_name=None):
    """The table of a table object; its name is ``name``, else the object's ``"name"``,
    else ``default_name``."""
    where = source or "table object"
    if not is_table_object(obj):
        got = sorted(obj) if isinstance(obj, Mapping) else type(obj).__name__
        raise TableFormatError(
            f"{where}: a table object is {{'header': [...], 'rows': [[...]], 'types': [...]?}}; got {got!r}"
        )
    if name is None:
        name = obj["name"] if isinstance(obj.get("name"), str) else default_name
    return _table_from_body(
        obj["header"], obj["rows"], types=obj.get("types"), name=name, infer=infer, source=source,
    )


def _json_lines(path: PathLike, encoding: str) -> list[tuple[int, Any]]:
    out = []
    for k, raw in enumerate(_read_text(path, encoding).split("\n"), start=1):
        if not raw.strip():
            continue
        out.append((k, loads_json(raw, f"{path}, line {k}")))
    return out


def _records_table(path, records, *, types, infer, name) -> Table:
    """A table from ``[(line, record)]``: row objects ``{column: value}`` (the keys of the
    first give the header and every object must have the same keys) or row arrays (the
    first is the header)."""
    first_line, first = records[0]
    if isinstance(first, Mapping):
        header = list(first)
        rows = []
        for k, rec in records:
            if not isinstance(rec, Mapping) or set(rec) != set(header):
                keys = sorted(rec) if isinstance(rec, Mapping) else type(rec).__name__
                raise TableFormatError(
                    f"{_at(path, k)}: expected a row object with the keys of the first row "
                    f"{header!r}, got {keys!r}"
                )
            rows.append((k, [rec[h] for h in header]))
        return _finish(path, [(first_line, header)] + rows, types=types, infer=infer, name=name)
    if isinstance(first, list):
        for k, rec in records:
            if not isinstance(rec, list):
                raise TableFormatError(f"{_at(path, k)}: expected a JSON array (a row), got {rec!r}")
        return _finish(path, records, types=types, infer=infer, name=name)
    raise TableFormatError(
        f"{_at(path, first_line)}: expected a table object, a row object or a row array, "
        f"got {first!r}"
    )


def read_jsonl(
    path: PathLike,
    *,
    types: Types = None,
    infer: bool = True,
    encoding: str = "utf-8",
    name: str | None = None,
) -> Table:
    """One table from a JSON Lines file. Supported shapes (blank lines skipped):

    * one line holding a table object ``{"header": [...], "rows": [[...]], "types"?}``
      (several table objects: use :func:`read_jsonl_tables`);
    * one row object per line, ``{"Year": 2001, "City": "Paris"}``: the keys of the first
      line are the header, in order, and every line must have the same keys;
    * one JSON array per line, the first being the header.
    """
    records = _json_lines(path, encoding)
    if not records:
        raise TableError(f"{path}: the file holds no rows (not even a header)")
    if is_table_object(records[0][1]):
        if len(records) > 1:
            raise TableFormatError(
                f"{path}: holds {len(records)} lines but line {records[0][0]} is a whole table "
                "object; read a file of table objects with read_jsonl_tables"
            )
        k, obj = records[0]
        if types is not None:
            obj = {**obj, "types": types}
        return _json_table(
            obj, infer=infer, name=name, source=f"{path}, line {k}", default_name=str(path)
        )
    return _records_table(path, records, types=types, infer=infer, name=name)


def read_jsonl_tables(path: PathLike, *, infer: bool = True, encoding: str = "utf-8") -> list[Table]:
    """Every table of a JSON Lines file of table objects, one per line (WikiSQL's
    ``*.tables.jsonl``). A table is named by its ``"name"``, else ``"<path>:<line>"``."""
    return [
        _json_table(obj, infer=infer, name=None, source=f"{path}, line {k}", default_name=f"{path}:{k}")
        for k, obj in _json_lines(path, encoding)
    ]


def read_json(
    path: PathLike,
    *,
    types: Types = None,
    infer: bool = True,
    encoding: str = "utf-8",
    name: str | None = None,
) -> Table:
    """One table from a JSON file: a table object, a list of row objects, or a list of row
    arrays whose first is the header (the shapes of :func:`read_jsonl`)."""
    text = _read_text(path, encoding)
    try:
        obj = loads_json(text, str(path))
    except TableFormatError as e:
        cause = e.__cause__
        if isinstance(cause, json.JSONDecodeError):
            raise TableFormatError(
                f"{path}, line {cause.lineno}, column {cause.colno}: invalid JSON: {cause.msg}") from cause
        raise
    if is_table_object(obj):
        if types is not None:
            obj = {**obj, "types": types}
        return _json_table(obj, infer=infer, name=name, source=str(path), default_name=str(path))
    if isinstance(obj, list) and obj:
        return _records_table(path, [(None, r) for r in obj], types=types, infer=infer, name=name)
    raise TableFormatError(
        f"{path}: expected a table object or a non-empty list of rows, got {type(obj).__name__}"
    )


# ---------------------------------------------------------------------------- dispatch
_WTQ_DIR_RE = re.compile(r"[0-9]+-csv")


def _reader_for(path: Path):
    """The reader for a file name, or ``None`` when the suffix is not supported.

    ``*.html.csv`` is TabFact; a ``.csv`` inside a folder named ``<digits>-csv`` is WTQ;
    any other ``.csv`` is RFC 4180; ``.tsv`` and ``.table`` are WTQ."""
    lower = path.name.lower()
    if lower.endswith(".html.csv"):
        return read_tabfact
    if lower.endswith(".csv"):
        return read_wtq if _WTQ_DIR_RE.fullmatch(path.parent.name) else read_csv
    if lower.endswith((".tsv", ".table")):
        return read_wtq
    if lower.endswith(".jsonl"):
        return read_jsonl
    if lower.endswith(".json"):
        return read_json
    return None


def read_table(
    path: PathLike, *, types: Types = None, infer: bool = True, name: str | None = None
) -> Table:
    """Read a table file, choosing the reader by its name (see :func:`_reader_for`):
    ``*.html.csv`` TabFact, ``<digits>-csv/*.csv`` WTQ, other ``.csv`` RFC 4180, ``.tsv``
    and ``.table`` WTQ, ``.jsonl``, ``.json``."""
    p = Path(path)
    if not p.exists():
        raise MissingDataError(f"table file not found: {p}")
    reader = _reader_for(p)
    if reader is None:
        raise TableFormatError(f"{p}: unsupported table file; supported suffixes: {SUPPORTED_SUFFIXES}")
    return reader(p, types=types, infer=infer, name=name)


def read_table_dir(
    directory: PathLike,
    *,
    suffixes: Sequence[str] | None = None,
    infer: bool = True,
    one_per_stem: bool = False,
) -> list[Table]:
    """Every supported table file under ``directory`` (recursively, hidden entries
    skipped), sorted by relative path, each named by its relative POSIX path.

    ``suffixes`` keeps only files whose names end with one of them, e.g. ``(".tsv",)``.

    ``one_per_stem=True`` reads each table once when it ships in several formats: of the
    files in one folder whose names are equal up to their supported suffix (the longest of
    :data:`SUPPORTED_SUFFIXES` that matches, so ``N.html.csv`` has stem ``N``), only the
    first by sorted path is kept, so WTQ's ``N.csv``, ``N.table`` and ``N.tsv`` give
    ``N.csv``. It applies after ``suffixes``.

    A symbolic link that leads out of ``directory`` is a :class:`TableFormatError` (it is
    not followed), as is a supported name that is not a regular file (a FIFO would block).
    """
    root = Path(directory)
    if not root.is_dir():
        raise MissingDataError(f"table directory not found: {root}")
    real_root = root.resolve()
    found = []
    for p in root.rglob("*"):
        rel = p.relative_to(root)
        if any(part.startswith(".") for part in rel.parts) or p.is_dir():
            continue
        if suffixes is not None and not p.name.lower().endswith(tuple(s.lower() for s in suffixes)):
            continue
        if _reader_for(p) is None:
            continue
        target = p.resolve()
        if target != real_root and real_root not in target.parents:
            raise TableFormatError(
                f"{p} is a symbolic link to {target}, outside the table directory {root}; "
                "copy the table into the directory or remove the link")
        found.append((rel.as_posix(), p))
    found.sort()
    if one_per_stem:
        seen, kept = set(), []
        for rel, p in found:
            stem = _table_stem(rel)
            if stem not in seen:
                seen.add(stem)
                kept.append((rel, p))
        found = kept
    return [_reader_for(p)(p, infer=infer, name=rel) for rel, p in found]


def _table_stem(rel: str) -> str:
    """``rel`` without its supported suffix: ``"204-csv/5.csv"`` -> ``"204-csv/5"``."""
    lower = rel.lower()
    for suffix in SUPPORTED_SUFFIXES:  # ".html.csv" comes before ".csv"
        if lower.endswith(suffix):
            return rel[: -len(suffix)]
    return rel
