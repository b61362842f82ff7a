"""WikiSQL (weakly supervised, answers only): the reader, and gold answers computed by
executing the gold SQL with the data core on the table the model sees.

Files (``root`` is the benchmark folder, or its ``data/`` subfolder as extracted from
``data.tar.bz2``): ``<split>.jsonl`` (``{"question", "table_id", "sql": {"sel", "agg",
"conds": [[column, operator, value], ...]}}``) and ``<split>.tables.jsonl`` (``{"id",
"header", "types", "rows", ...}``). Ids are TAPAS's ``<split>-<line index>``.

**Gold answers (TAPAS convention, ``tapas/utils/wikisql_utils.py``).** The table is first
cut to the prompt budget (:func:`~symjax.tasks.records.fit_table_prompt`, the same for
every template). The gold query ``SELECT agg(col_sel) WHERE cond AND ...`` is built as a
:mod:`symjax.sql.query.plan` and run by :func:`symjax.sql.run_plan` on an *execution view* of
that visible table in which

* a ``real`` column holds :func:`~symjax.tasks.metrics.convert_to_float` of each visible
  cell, and a condition value on it is converted the same way;
* a ``text`` column holds each cell lower-cased and tokenized (``\\w+|[^\\w\\s]+``, tokens
  joined by spaces), and so does a condition value, so ``=``/``<``/``>`` compare token
  lists as TAPAS does;
* the selected values are read from the raw visible cells (MIN/MAX of a text column compare
  the raw text, as TAPAS's ``max``).

Then, as TAPAS: a condition whose value has the wrong type for its column (a number
against a text column, a non-numeric text against a real column) or a real column with a
non-numeric cell makes the example's gold empty, with a ``warning``; COUNT is a float (0.0
when nothing matches); SUM/AVG are floats (on a text column: one matched cell converted to
a float, several cells returned as they are); MIN/MAX give one cell; a single numeric cell
prints as ``str(float)`` (``2006.0``); no match gives the empty answer. The target text is
the answers joined by ``", "``, or ``none`` when empty (the paper's empty token).
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from symjax.errors import DataError, TableError
from symjax.tasks.metrics import convert_to_float
from symjax.tasks.prompts import num_templates
from symjax.tasks.prompts import template as get_template
from symjax.tasks.records import (
    EvalExample,
    TablePromptConfig,
    find_file,
    fit_table_prompt,
    json_objects,
    stable_seed,
)

__all__ = ["AGG_OPS", "COND_OPS", "WikiSqlQuestion", "read_wikisql", "wikisql_gold", "wikisql_examples", "EMPTY_TARGET"]

AGG_OPS = ("", "MAX", "MIN", "COUNT", "SUM", "AVG")
COND_OPS = ("=", ">", "<", "OP")
EMPTY_TARGET = "none"
_TOKENS = re.compile(r"\w+|[^\w\s]+", re.UNICODE)


@dataclass
class WikiSqlQuestion:
    id: str
    question: str
    table: Any  # symjax Table, before truncation
    types: list[str]
    sel: int
    agg: int
    conds: list[tuple[int, int, Any]]


def _tokens(text: str) -> str:
    return " ".join(_TOKENS.findall(text.lower()))


def _check_sql(sql: Any, ncols: int, where: str) -> tuple[int, int, list[tuple[int, int, Any]]]:
    if not isinstance(sql, dict) or not {"sel", "agg", "conds"} <= set(sql):
        raise DataError(f"{where}: 'sql' must be {{'sel', 'agg', 'conds'}}, got {sql!r}")
    sel, agg, conds = sql["sel"], sql["agg"], sql["conds"]
    if not isinstance(sel, int) or not 0 <= sel < ncols:
        raise DataError(f"{where}: sel={sel!r} is not a column index of a {ncols}-column table")
    if not isinstance(agg, int) or not 0 <= agg < len(AGG_OPS):
        raise DataError(f"{where}: agg={agg!r} is not an index of {AGG_OPS}")
    out = []
    for c in conds:
        if not (isinstance(c, list) and len(c) == 3 and isinstance(c[0], int) and 0 <= c[0] < ncols
                and isinstance(c[1], int) and 0 <= c[1] < 3):
            raise DataError(f"{where}: condition {c!r} is not [column index, operator 0-2, value]")
        out.append((c[0], c[1], c[2]))
    return sel, agg, out


def read_wikisql(root: str | Path, split: str) -> list[WikiSqlQuestion]:
    """WikiSQL questions of ``split`` (``train``, ``dev``, ``test``)."""
    from symjax.sql.io import table_from_rows

    root = Path(root)
    if not (root / f"{split}.jsonl").is_file() and (root / "data" / f"{split}.jsonl").is_file():
        root = root / "data"
    path = find_file("wikisql", root, [f"{split}.jsonl"], f"the questions of split {split!r}")
    tables_path = find_file("wikisql", root, [f"{split}.tables.jsonl"], f"the tables of split {split!r}")
    raw_tables: dict[str, tuple[int, dict]] = {}
    for k, obj in json_objects(tables_path):
        if not {"id", "header", "rows", "types"} <= set(obj):
            raise DataError(f"{tables_path}, line {k}: a table needs id, header, types and rows")
        raw_tables[obj["id"]] = (k, obj)
    built: dict[str, Any] = {}
    out = []
    for index, (k, obj) in enumerate(json_objects(path)):
        where = f"{path}, line {k}"
        table_id = obj.get("table_id")
        if table_id not in raw_tables:
            raise DataError(f"{where}: table_id {table_id!r} is not in {tables_path}")
        tk, raw = raw_tables[table_id]
        if table_id not in built:
            try:
                rows = [[str(c) for c in row] for row in raw["rows"]]
                built[table_id] = table_from_rows(rows, header=[str(h) for h in raw["header"]], name=table_id)
            except TableError as e:
                raise DataError(f"{tables_path}, line {tk}: table {table_id!r}: {e}") from e
        types = [str(t) for t in raw["types"]]
        if len(types) != len(raw["header"]) or any(t not in ("text", "real") for t in types):
            raise DataError(f"{tables_path}, line {tk}: types {types!r} must be 'text'/'real', one per column")
        sel, agg, conds = _check_sql(obj.get("sql"), len(types), where)
        if not isinstance(obj.get("question"), str):
            raise DataError(f"{where}: 'question' must be a string")
        out.append(WikiSqlQuestion(f"{split}-{index}", obj["question"], built[table_id], types, sel, agg, conds))
    return out


class _TypeMismatch(Exception):
    pass


def _cond_value(value: Any, column_type: str) -> Any:
    if column_type == "real":
        try:
            return convert_to_float(value)
        except ValueError:
            raise _TypeMismatch(f"condition value {value!r} is not a number for a real column") from None
    if not isinstance(value, str):
        raise _TypeMismatch(f"condition value {value!r} is not text for a text column")
    return _tokens(value)


def _float_text(value: float) -> str:
    return str(float(value))


def wikisql_gold(q: WikiSqlQuestion, table: Any) -> dict:
    """Gold answers of ``q`` on ``table`` (the visible, truncated table): ``{"answers":
    [...], "sql": gold SQL text, "warning": None or why the answer is empty}``."""
    from symjax.sql import Table, render, run_plan
    from symjax.sql.query.plan import Aggregate, And, Column, Compare, Literal, Select

    n = len(q.types)
    raw = [list(table.column_texts(j)) for j in range(n)]
    agg = AGG_OPS[q.agg].lower()
    project_display = Aggregate("count", None) if agg == "count" else (
        Aggregate(agg, q.sel) if agg else Column(q.sel))
    terms = tuple(Compare(c, COND_OPS[op], Literal(v)) for c, op, v in q.conds)
    where = None if not terms else (terms[0] if len(terms) == 1 else And(terms))
    try:
        sql = render(Select(project_display, where), table.header)
    except Exception:  # pragma: no cover - rendering is informative only
        sql = None
    result = {"answers": [], "sql": sql, "warning": None}
    used = {q.sel} | {c for c, _, _ in q.conds}
    try:
        view_cols, view_types = [], []
        for j in range(n):
            if q.types[j] == "real" and j in used:
                try:
                    view_cols.append([convert_to_float(t) for t in raw[j]])
                except ValueError:
                    raise _TypeMismatch(f"column {j} is 'real' but holds a non-numeric cell") from None
                view_types.append("real")
            else:
                view_cols.append([_tokens(t) for t in raw[j]])
                view_types.append("text")
        view_terms = tuple(Compare(c, COND_OPS[op], Literal(_cond_value(v, q.types[c]))) for c, op, v in q.conds)
    except _TypeMismatch as e:
        result["warning"] = str(e)
        return result
    # columns n..2n-1 hold the raw visible cells, for projections
    header = [f"c{j}" for j in range(n)] + [f"r{j}" for j in range(n)]
    view = Table.from_columns(header, view_types + ["text"] * n, view_cols + raw, dedupe=False)
    vwhere = None if not view_terms else (view_terms[0] if len(view_terms) == 1 else And(view_terms))
    sel_real = q.types[q.sel] == "real"
    if agg == "count":
        values = run_plan(Select(Aggregate("count", None), vwhere), view).values
        result["answers"] = [_float_text(values[0])]
    elif agg in ("sum", "avg") and sel_real:
        (value,) = run_plan(Select(Aggregate(agg, q.sel), vwhere), view).values
        result["answers"] = [] if value is None else [_float_text(value)]
    elif agg in ("max", "min"):
        column = q.sel if sel_real else n + q.sel
        (value,) = run_plan(Select(Aggregate(agg, column), vwhere), view).values
        result["answers"] = [] if value is None else [_single(str(value) if not sel_real else _float_text(value))]
    else:  # no aggregate, or SUM/AVG over a text column
        cells = [str(v) for v in run_plan(Select(Column(n + q.sel), vwhere), view).values]
        if agg in ("sum", "avg") and len(cells) == 1:
            try:
                cells = [_float_text(convert_to_float(cells[0]))]
            except ValueError:
                result["warning"] = f"{agg.upper()} of the non-numeric cell {cells[0]!r}"
                cells = []
        elif len(cells) == 1:
            cells = [_single(cells[0])]
        result["answers"] = cells
    return result


def _single(cell: str) -> str:
    """One answer cell as TAPAS prints it: ``str(float)`` when it converts, else the text."""
    try:
        return _float_text(convert_to_float(cell))
    except ValueError:
        return cell


def wikisql_examples(
    questions: list[WikiSqlQuestion], template: int, config: TablePromptConfig | None = None, *,
    unfit: list | None = None,
) -> list[EvalExample]:
    """Prompted examples; gold answers from :func:`wikisql_gold` on the visible table. A
    prompt that cannot fit raises :class:`DataError`, or, with ``unfit`` (a list), is
    appended to it as ``(id, reason)``."""
    config = config or TablePromptConfig()
    text = get_template("wikisql", template)
    siblings = [get_template("wikisql", k) for k in range(num_templates("wikisql"))]
    out = []
    for q in questions:
        try:
            prompt, table = fit_table_prompt(text, q.table, q.question, config, stable_seed(q.id),
                                             sibling_templates=siblings)
        except TableError as e:
            if unfit is not None:
                unfit.append((q.id, f"the prompt cannot fit: {e}"))
                continue
            raise DataError(f"wikisql example {q.id}: the table cannot fit the prompt budget: {e}") from e
        gold = wikisql_gold(q, table)
        target = ", ".join(gold["answers"]) if gold["answers"] else EMPTY_TARGET
        out.append(EvalExample(q.id, prompt, target, gold))
    return out
