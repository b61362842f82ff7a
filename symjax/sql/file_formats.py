"""Table file formats as text: each parser turns a file's text into ``[(line, cells)]``
records (WTQ's quoted ``.csv``, ``.tsv`` escapes, ``| a | b |`` ``.table`` rows) or a JSON
value with typed errors; :mod:`symjax.sql.io` reads the files and builds the tables.
Malformed text raises :class:`TableFormatError` naming the source and line.
"""
from __future__ import annotations

import json
import re
from typing import Any, Mapping

from symjax.errors import TableFormatError

__all__ = ["WTQ_TSV_ESCAPES", "unescape", "parse_wtq_csv", "parse_lines", "parse_wtq_table",
           "is_table_object", "loads_json"]

_WTQ_CSV_FIELD = re.compile(r'"((?:[^"\\]|\\.)*)"|([^,"\r\n]*)', re.DOTALL)
_WTQ_CSV_ESCAPES = {'"': '"', "\\": "\\", "n": "\n"}
WTQ_TSV_ESCAPES = {"n": "\n", "p": "|", "\\": "\\"}
_ESCAPE_RE = re.compile(r"\\(.)", re.DOTALL)


def unescape(s: str, escapes: Mapping[str, str]) -> str:
    if "\\" not in s:
        return s
    return _ESCAPE_RE.sub(lambda m: escapes.get(m.group(1), m.group(0)), s)


def parse_wtq_csv(text: str, source: str) -> list[tuple[int, list[str]]]:
    records, pos, n, line = [], 0, len(text), 1
    while pos < n:
        if text[pos] in "\r\n":  # a blank line
            line += text[pos] == "\n"
            pos += 1
            continue
        start, row = line, []
        while True:
            m = _WTQ_CSV_FIELD.match(text, pos)
            quoted = m.group(1)
            if quoted is not None:
                row.append(unescape(quoted, _WTQ_CSV_ESCAPES))
                line += quoted.count("\n")
            else:
                row.append(m.group(2))
            pos = m.end()
            if pos >= n:
                break
            ch = text[pos]
            if ch == ",":
                pos += 1
            elif ch == "\n" or text.startswith("\r\n", pos):
                pos += 1 if ch == "\n" else 2
                line += 1
                break
            else:
                raise TableFormatError(
                    f"{source}, line {line}: unexpected {ch!r} after field {len(row)} of the "
                    "row (an unterminated or stray quote?); WTQ fields are written "
                    '"..." with \\" and \\\\ escapes'
                )
        records.append((start, row))
    return records


def parse_lines(text: str, sep: str, escapes: Mapping[str, str] | None):
    records = []
    for k, raw in enumerate(text.replace("\r\n", "\n").split("\n"), start=1):
        if raw:  # a line of separators only is a row of blank cells, not a blank line
            cells = raw.split(sep)
            records.append((k, [unescape(c, escapes) for c in cells] if escapes else cells))
    return records


def parse_wtq_table(text: str, source: str):
    """Rows ``| a | b |``; a row whose line does not end with ``|`` goes on over the next
    lines (a few WTQ ``.table`` files keep a raw newline inside a cell)."""
    records, pending, start = [], None, 0
    for k, raw in enumerate(text.replace("\r\n", "\n").split("\n"), start=1):
        if pending is None:
            if not raw.strip():
                continue
            if not raw.lstrip().startswith("|"):
                raise TableFormatError(f"{source}, line {k}: a .table row is '| a | b |', got {raw[:80]!r}")
            pending, start = raw.strip(), k
        else:
            pending += "\n" + raw.rstrip()
        if len(pending) > 1 and pending.endswith("|"):
            records.append((start, [c.strip() for c in pending[1:-1].split("|")]))
            pending = None
    if pending is not None:
        raise TableFormatError(f"{source}, line {start}: the row never ends with '|'")
    return records


def is_table_object(obj: Any) -> bool:
    return isinstance(obj, Mapping) and isinstance(obj.get("header"), list) and isinstance(
        obj.get("rows"), list
    )


_SURROGATE_ESCAPE = re.compile(r"\\u[dD][89a-fA-F][0-9a-fA-F]{2}")


def loads_json(raw: str, where: str) -> Any:
    """``json.loads`` with typed errors: invalid JSON, nesting too deep for Python, and
    lone surrogates (``"\\ud800"``), which no UTF-8 output could hold."""
    try:
        obj = json.loads(raw)
    except json.JSONDecodeError as e:
        raise TableFormatError(f"{where}, column {e.colno}: invalid JSON: {e.msg}") from e
    except RecursionError:
        raise TableFormatError(f"{where}: JSON nested too deeply to read; a table is an object "
                               "or arrays of cells, a few levels deep") from None
    if _SURROGATE_ESCAPE.search(raw):
        try:
            json.dumps(obj, ensure_ascii=False).encode("utf-8")
        except UnicodeEncodeError as e:
            raise TableFormatError(
                f"{where}: a string holds a lone surrogate escape ({e.object[e.start:e.end]!r}), "
                "which is not a character; write the character itself or a valid surrogate pair"
            ) from None
    return obj
