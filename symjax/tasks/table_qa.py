"""Readers of the table-QA benchmarks' official raw files: WTQ, SQA and TabFact.

Each ``read_*`` returns :class:`TableQuestion` records (question, table, gold answers) and
each ``*_examples`` turns them into prompted :class:`~symjax.tasks.records.EvalExample`
for one of the paper's templates. WikiSQL is in :mod:`symjax.tasks.wikisql`.

Layouts (``root`` is the benchmark folder; the first existing candidate is used):

WTQ (github.com/ppasupat/WikiTableQuestions)
    questions ``data/<split>.tsv`` or ``<split>.tsv`` (``id, utterance, context,
    targetValue``); ``targetCanon`` from ``tagged/data/<split>.tagged`` or
    ``<split>.tagged`` (when only the ``.tagged`` file exists it is read alone); tables at
    the ``context`` path, e.g. ``csv/203-csv/591.csv``, read with
    :func:`symjax.sql.io.read_wtq`. Without a ``.tagged`` file the official metric types
    gold items by their own text (a warning says so).
SQA (SQA Release 1.0)
    ``<split>.tsv`` (``id, annotator, position, question, table_file, answer_coordinates,
    answer_text``; the last two are Python literals read with :func:`ast.literal_eval`),
    tables ``table_csv/<name>.csv``. A sequence is ``(id, annotator)``; the question of
    position ``k`` is, as in the paper, the questions ``0..k`` of its sequence joined by
    spaces. Ids are TAPAS's ``<id>-<annotator>_<position>``.
WTQ through TFDS (builder ``wiki_table_questions`` v1.0.0, :func:`read_wtq_tfds`)
    The prepared TFDS dataset (``tfds build wiki_table_questions``), read with
    ``tfds.load(..., download=False)``: nothing is downloaded. Each example's table
    (``input_text/table``: one ``column_header, row_number, content`` entry per cell) is
    rebuilt as a :class:`symjax.sql.Table`; ``input_text/context`` is the question and
    ``target_text`` the escaped, ``|``-joined ``targetValue``. Differences from the raw
    files: TFDS has **no targetCanon**, so the official WTQ metric types gold items by
    their own text (``2 inches`` or ``9 February 2013`` stay strings), an approximation
    of the official number (the raw ``.tagged`` files remain the exact path); TFDS read the
    tables with ``csv.DictReader``, so a repeated header name was collapsed into one column
    before it got here, and ``\\n`` in a cell came out as ``n``; it read the question TSV
    with csv's default quoting, so a targetValue starting with ``"`` loses its quotes and
    an unmatched one swallows the following lines (in the shared 300-question sample of
    ``pristine-seen-tables``, 21 questions vanish into one example's target); and the
    examples carry no WTQ ids, so ids are ``<tfds split>-<index>`` (in TFDS's order), which
    also seeds the row sampling of tables over the prompt budget.
TabFact (github.com/wenhuchen/Table-Fact-Checking)
    ``tokenized_data/<split>_examples.json``, ``<split>_examples.json`` or ``<split>.json``
    (``{table_id: [statements, labels, caption]}``, label 1 = entailed); tables
    ``data/all_csv/<table_id>`` or ``all_csv/<table_id>`` (``#``-separated) read with
    :func:`symjax.sql.io.read_tabfact`. Ids are ``<table_id>:<k>``. Test-subset files
    ``data/{simple,complex,small}_test_id.json`` (lists of table ids), when present, tag
    each gold with its subsets.
"""
from __future__ import annotations

import ast
import csv
import io
import json
import logging
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterable, Mapping, Sequence

from symjax.errors import DataError, MissingDataError, TableError
from symjax.tasks.prompts import num_templates
from symjax.tasks.prompts import template as get_template
from symjax.tasks.records import EvalExample, TablePromptConfig, find_file, fit_table_prompt, stable_seed
from symjax.tasks.wtq_evaluator import tsv_unescape, tsv_unescape_list

__all__ = [
    "TableQuestion",
    "read_wtq",
    "read_wtq_tfds",
    "wtq_tfds_table",
    "wtq_tfds_question",
    "read_sqa",
    "read_tabfact",
    "table_questions_to_examples",
    "TABFACT_SUBSETS",
]

log = logging.getLogger(__name__)
TABFACT_SUBSETS = ("simple", "complex", "small")


@dataclass
class TableQuestion:
    """A question (or TabFact statement) on a table, with its gold answers and the extra
    gold fields the metrics read (``canon``, ``label``, ``sequence``, ...)."""

    id: str
    question: str
    table: Any
    answers: list[str]
    target: str
    gold: dict = field(default_factory=dict)


class _Tables:
    """Reads each table file once per call of a reader."""

    def __init__(self, benchmark: str, root: Path, reader):
        self.benchmark, self.root, self.reader, self.cache = benchmark, root, reader, {}

    def get(self, rel: str, where: str):
        table = self.cache.get(rel)
        if table is None:
            path = self.root / rel
            if not path.is_file():
                raise MissingDataError(
                    f"{where}: table file {path} not found (the {self.benchmark} tables must sit "
                    f"under {self.root} as in the official release)"
                )
            try:
                table = self.reader(path)
            except TableError as e:
                raise DataError(f"{where}: cannot read table {path}: {e}") from e
            self.cache[rel] = table
        return table


def _tsv_rows(path: Path, required: Iterable[str]) -> list[tuple[int, dict]]:
    """``[(line number, {column: value})]`` of a header-first TSV without quoting."""
    text = path.read_text(encoding="utf-8")
    lines = text.split("\n")
    header = lines[0].rstrip("\r").split("\t")
    missing = [c for c in required if c not in header]
    if missing:
        raise DataError(f"{path}, line 1: header {header!r} lacks columns {missing!r}")
    out = []
    for k, line in enumerate(lines[1:], start=2):
        line = line.rstrip("\r")
        if not line.strip():
            continue
        fields = line.split("\t")
        if len(fields) != len(header):
            raise DataError(
                f"{path}, line {k}: {len(fields)} tab-separated fields, the header has {len(header)} ({header!r})"
            )
        out.append((k, dict(zip(header, fields))))
    return out


# ---------------------------------------------------------------------------- WTQ
def _wtq_files(root: Path, split: str) -> tuple[Path | None, Path | None]:
    tsv = next((root / c for c in (f"data/{split}.tsv", f"{split}.tsv") if (root / c).is_file()), None)
    tagged = next(
        (root / c for c in (f"tagged/data/{split}.tagged", f"{split}.tagged") if (root / c).is_file()), None
    )
    if tsv is None and tagged is None:
        find_file("wtq", root, [f"data/{split}.tsv", f"{split}.tsv", f"tagged/data/{split}.tagged"],
                  f"the questions of split {split!r}")
    return tsv, tagged


def read_wtq(root: str | Path, split: str) -> list[TableQuestion]:
    """WTQ questions of ``split`` (a file stem such as ``pristine-unseen-tables``)."""
    from symjax.sql.io import read_wtq as read_wtq_table

    root = Path(root)
    tsv, tagged = _wtq_files(root, split)
    canon: dict[str, list[str]] = {}
    tagged_rows = []
    if tagged is not None:
        tagged_rows = _tsv_rows(tagged, ("id", "utterance", "context", "targetValue", "targetCanon"))
        for k, row in tagged_rows:
            canon[row["id"]] = tsv_unescape_list(row["targetCanon"])
    else:
        log.warning("WTQ %s: no .tagged file, so the official metric has no targetCanon", split)
    rows = _tsv_rows(tsv, ("id", "utterance", "context", "targetValue")) if tsv else tagged_rows
    source = tsv or tagged
    tables = _Tables("wtq", root, read_wtq_table)
    out = []
    for k, row in rows:
        where = f"{source}, line {k}"
        answers = tsv_unescape_list(row["targetValue"])
        gold: dict[str, Any] = {"answers": answers, "canon": canon.get(row["id"])}
        if gold["canon"] is not None and len(gold["canon"]) != len(answers):
            raise DataError(f"{where}: {len(answers)} targetValue items but {len(gold['canon'])} targetCanon items")
        out.append(TableQuestion(
            id=row["id"], question=tsv_unescape(row["utterance"]), table=tables.get(row["context"], where),
            answers=answers, target=", ".join(answers), gold=gold,
        ))
    return out


# ---------------------------------------------------------------------------- WTQ via TFDS
def _str(x: Any) -> str:
    if isinstance(x, bytes):
        return x.decode("utf-8")
    if hasattr(x, "item") and not isinstance(x, str):  # numpy scalar
        return _str(x.item())
    return str(x)


def wtq_tfds_table(
    column_headers: Sequence[Any],
    row_numbers: Sequence[Any],
    contents: Sequence[Any],
    *,
    name: str | None = None,
    where: str = "wiki_table_questions example",
) -> Any:
    """A :class:`symjax.sql.Table` from the cells of a TFDS ``wiki_table_questions`` table
    (parallel ``column_header``, ``row_number``, ``content`` lists; bytes or str).

    Rows are grouped by ``row_number`` (in increasing order); columns keep the order in
    which their headers first appear. A header repeated within one row is a second column
    (the ``k``-th occurrence in a row is the ``k``-th column of that name), a cell missing
    from a row is empty, and names go through :func:`symjax.sql.dedupe_header` (empty or
    repeated names get a unique name), as :func:`symjax.sql.io.read_wtq` does for files.
    Cells are typed as in the raw-file reader (:mod:`symjax.sql.infer`)."""
    from symjax.sql import dedupe_header
    from symjax.sql.io import table_from_rows

    if not (len(column_headers) == len(row_numbers) == len(contents)):
        raise DataError(
            f"{where}: the table has {len(column_headers)} column_header, {len(row_numbers)} row_number and "
            f"{len(contents)} content entries; they must be parallel"
        )
    names: list[str] = []
    index: dict[tuple[str, int], int] = {}
    rows: dict[int, dict[int, str]] = {}
    for header, row_number, content in zip(column_headers, row_numbers, contents):
        header = _str(header)
        row = rows.setdefault(int(row_number), {})
        k = 0
        while (header, k) in index and index[(header, k)] in row:
            k += 1
        j = index.get((header, k))
        if j is None:
            j = index[(header, k)] = len(names)
            names.append(header)
        row[j] = _str(content)
    if not rows:
        raise DataError(f"{where}: the table has no cells")
    body = [[rows[r].get(j, "") for j in range(len(names))] for r in sorted(rows)]
    try:
        return table_from_rows(body, header=dedupe_header(names), name=name)
    except TableError as e:
        raise DataError(f"{where}: cannot rebuild the table: {e}") from e


def _table_cells(table: Any) -> tuple[Sequence[Any], Sequence[Any], Sequence[Any]]:
    """``(column_header, row_number, content)`` of a decoded TFDS ``Sequence`` feature: a
    dict of parallel lists (what ``tfds.as_numpy`` yields) or a list of cell dicts."""
    if isinstance(table, Mapping):
        return table["column_header"], table["row_number"], table["content"]
    cells = list(table)
    return ([c["column_header"] for c in cells], [c["row_number"] for c in cells], [c["content"] for c in cells])


def wtq_tfds_question(example: Mapping[str, Any], id: str, *, _cache: dict | None = None) -> TableQuestion:
    """A :class:`TableQuestion` from one decoded TFDS ``wiki_table_questions`` example
    (``{"input_text": {"table": ..., "context": ...}, "target_text": ...}``). The question
    and answers are unescaped as in :func:`read_wtq`; the gold has no ``canon`` (TFDS has
    no targetCanon)."""
    where = f"wiki_table_questions example {id}"
    try:
        inputs = example["input_text"]
        cells = _table_cells(inputs["table"])
        question, target_text = _str(inputs["context"]), _str(example["target_text"])
    except (KeyError, TypeError) as e:
        raise DataError(
            f"{where}: expected features input_text{{table{{column_header, row_number, content}}, context}} "
            f"and target_text ({type(e).__name__}: {e})"
        ) from e
    key = tuple(tuple(_str(x) for x in part) for part in cells)
    table = None if _cache is None else _cache.get(key)
    if table is None:
        table = wtq_tfds_table(*cells, where=where)
        if _cache is not None:
            _cache[key] = table
    answers = tsv_unescape_list(target_text)
    return TableQuestion(
        id=id, question=tsv_unescape(question), table=table, answers=answers, target=", ".join(answers),
        gold={"answers": answers, "canon": None},
    )


def _tfds_default_data_dir(tfds: Any) -> str:
    import os

    return os.environ.get("TFDS_DATA_DIR") or getattr(tfds.core.constants, "DATA_DIR", "~/tensorflow_datasets")


def read_wtq_tfds(split: str, *, data_dir: str | None = None, builder: str | None = None) -> list[TableQuestion]:
    """WTQ questions of TFDS split ``split`` (``test``, ``train``, ``split-1-dev``, ...) from
    the *prepared* TFDS builder ``wiki_table_questions`` in ``data_dir`` (``None``: TFDS's
    default). Never downloads: an unprepared dataset raises :class:`MissingDataError`
    saying how to prepare it. See the module docstring for how this differs from the raw
    files (no targetCanon)."""
    from symjax.tasks.settings import WTQ_TFDS_BUILDER

    builder = builder or WTQ_TFDS_BUILDER
    try:
        import tensorflow_datasets as tfds
    except ImportError as e:
        raise ImportError(
            f"reading WTQ through the TFDS builder {builder!r} needs tensorflow-datasets "
            "(pip install tensorflow-datasets)"
        ) from e
    shown = data_dir if data_dir is not None else f"{_tfds_default_data_dir(tfds)} (TFDS's default)"
    how = (
        f"prepare it with `tfds build {builder} --data_dir={data_dir or '<dir>'}` or "
        f"`tfds.builder({builder!r}, data_dir=...).download_and_prepare()` (it downloads "
        "github.com/ppasupat/WikiTableQuestions), then point SYMJAX_TFDS_DATA_DIR or "
        "symjax.tasks.settings.set_tfds_data_dir at that directory"
    )
    not_found = getattr(getattr(tfds.core, "registered", None), "DatasetNotFoundError", ())
    try:
        ds = tfds.load(builder, split=split, data_dir=data_dir, download=False, try_gcs=False, shuffle_files=False)
    except AssertionError as e:  # DatasetBuilder.as_dataset: "could not find data in <dir>"
        raise MissingDataError(
            f"the TFDS dataset {builder!r} is not prepared in the TFDS data directory {shown}: {how}"
        ) from e
    except not_found as e:  # type: ignore[misc]
        raise MissingDataError(f"TFDS does not know the builder {builder!r} ({e}); {how}") from e
    except ValueError as e:
        if "split" in str(e).lower():
            from symjax.errors import ConfigError

            raise ConfigError(f"TFDS dataset {builder!r} in {shown}: bad split {split!r}: {e}") from e
        raise
    cache: dict = {}
    return [wtq_tfds_question(ex, f"{split}-{i}", _cache=cache) for i, ex in enumerate(tfds.as_numpy(ds))]


# ---------------------------------------------------------------------------- SQA
def _literal_list(text: str, where: str, what: str) -> list:
    try:
        value = ast.literal_eval(text)
    except (ValueError, SyntaxError) as e:
        raise DataError(f"{where}: {what} {text[:80]!r} is not a Python literal list: {e}") from e
    if not isinstance(value, (list, tuple)):
        raise DataError(f"{where}: {what} must be a list, got {value!r}")
    return list(value)


def _coordinate(item: Any, where: str) -> tuple[int, int]:
    value = ast.literal_eval(item) if isinstance(item, str) else item
    if not (isinstance(value, tuple) and len(value) == 2 and all(isinstance(v, int) for v in value)):
        raise DataError(f"{where}: answer coordinate {item!r} is not '(row, column)'")
    return value


def _sqa_rows(path: Path) -> list[tuple[int, dict]]:
    text = path.read_text(encoding="utf-8")
    reader = csv.reader(io.StringIO(text, newline=""), delimiter="\t")
    required = ("id", "annotator", "position", "question", "table_file", "answer_coordinates", "answer_text")
    try:
        header = next(reader)
    except StopIteration:
        raise DataError(f"{path}, line 1: empty file") from None
    missing = [c for c in required if c not in header]
    if missing:
        raise DataError(f"{path}, line 1: header {header!r} lacks columns {missing!r}")
    out = []
    line = reader.line_num + 1
    try:
        for fields in reader:
            if fields and any(f.strip() for f in fields):
                if len(fields) != len(header):
                    raise DataError(f"{path}, line {line}: {len(fields)} fields, the header has {len(header)}")
                out.append((line, dict(zip(header, fields))))
            line = reader.line_num + 1
    except csv.Error as e:
        raise DataError(f"{path}, line {reader.line_num}: malformed TSV: {e}") from e
    return out


def read_sqa(root: str | Path, split: str) -> list[TableQuestion]:
    """SQA questions of ``split`` (``test``, ``random-split-1-dev``, ...), in sequence order."""
    from symjax.sql.io import read_csv

    root = Path(root)
    path = find_file("sqa", root, [f"{split}.tsv", f"data/{split}.tsv"], f"the questions of split {split!r}")
    tables = _Tables("sqa", root, read_csv)
    sequences: dict[str, list[tuple[int, int, dict]]] = {}
    for k, row in _sqa_rows(path):
        where = f"{path}, line {k}"
        try:
            position = int(row["position"])
        except ValueError:
            raise DataError(f"{where}: position {row['position']!r} is not an integer") from None
        seq = f"{row['id']}-{row['annotator']}"
        sequences.setdefault(seq, []).append((position, k, row))
    out = []
    for seq, items in sequences.items():
        items.sort(key=lambda t: t[0])
        history: list[str] = []
        for position, k, row in items:
            where = f"{path}, line {k}"
            history.append(row["question"].strip())
            answers = [str(a) for a in _literal_list(row["answer_text"], where, "answer_text")]
            coords = [_coordinate(c, where) for c in _literal_list(row["answer_coordinates"], where, "answer_coordinates")]
            out.append(TableQuestion(
                id=f"{seq}_{position}", question=" ".join(history), table=tables.get(row["table_file"], where),
                answers=answers, target=", ".join(answers),
                gold={"answers": answers, "sequence": seq, "position": position, "coordinates": coords},
            ))
    return out


# ---------------------------------------------------------------------------- TabFact
def _tabfact_subsets(root: Path) -> dict[str, set[str]]:
    subsets = {}
    for name in TABFACT_SUBSETS:
        for rel in (f"data/{name}_test_id.json", f"{name}_test_id.json"):
            p = root / rel
            if p.is_file():
                try:
                    subsets[name] = set(json.loads(p.read_text(encoding="utf-8")))
                except json.JSONDecodeError as e:
                    raise DataError(f"{p}, line {e.lineno}: invalid JSON: {e.msg}") from e
                break
    return subsets


def read_tabfact(root: str | Path, split: str) -> list[TableQuestion]:
    """TabFact statements of ``split`` (``train``, ``val``, ``test`` or a file stem)."""
    from symjax.sql.io import read_tabfact as read_tabfact_table

    root = Path(root)
    path = find_file(
        "tabfact", root,
        [f"tokenized_data/{split}_examples.json", f"{split}_examples.json", f"{split}.json", f"data/{split}.json"],
        f"the statements of split {split!r}",
    )
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except json.JSONDecodeError as e:
        raise DataError(f"{path}, line {e.lineno}: invalid JSON: {e.msg}") from e
    if not isinstance(data, dict):
        raise DataError(f"{path}: expected {{table_id: [statements, labels, caption]}}, got a {type(data).__name__}")
    table_dir = next((root / d for d in ("data/all_csv", "all_csv") if (root / d).is_dir()), None)
    if table_dir is None:
        raise MissingDataError(
            f"tabfact: no table folder data/all_csv or all_csv in {root}; get it from "
            "https://github.com/wenhuchen/Table-Fact-Checking"
        )
    tables = _Tables("tabfact", table_dir, read_tabfact_table)
    subsets = _tabfact_subsets(root)
    out = []
    for table_id, entry in data.items():
        where = f"{path}, table {table_id!r}"
        if not (isinstance(entry, list) and len(entry) >= 2 and isinstance(entry[0], list)
                and isinstance(entry[1], list) and len(entry[0]) == len(entry[1])):
            raise DataError(f"{where}: expected [statements, labels, caption] with one label per statement")
        caption = entry[2] if len(entry) > 2 else ""
        table = tables.get(table_id, where)
        tags = sorted(name for name, ids in subsets.items() if table_id in ids)
        for k, (statement, label) in enumerate(zip(entry[0], entry[1])):
            if label not in (0, 1):
                raise DataError(f"{where}, statement {k}: label must be 0 or 1, got {label!r}")
            answer = "yes" if label == 1 else "no"
            out.append(TableQuestion(
                id=f"{table_id}:{k}", question=str(statement), table=table, answers=[answer], target=answer,
                gold={"label": label, "table_id": table_id, "caption": caption, "subsets": tags},
            ))
    return out


# ---------------------------------------------------------------------------- prompts
def table_questions_to_examples(
    benchmark: str,
    questions: Iterable[TableQuestion],
    template: int,
    config: TablePromptConfig | None = None,
    *,
    unfit: list | None = None,
) -> list[EvalExample]:
    """Prompted examples for template ``template`` of ``benchmark``: each table is cut so the
    prompt fits the budget (:func:`~symjax.tasks.records.fit_table_prompt`), linearized and
    put in the template. A prompt that cannot fit even with one row raises
    :class:`DataError`, or, with ``unfit`` (a list), is appended to it as ``(id, reason)``."""
    config = config or TablePromptConfig()
    text = get_template(benchmark, template)
    siblings = [get_template(benchmark, k) for k in range(num_templates(benchmark))]
    out = []
    for q in questions:
        try:
            prompt, _ = fit_table_prompt(text, q.table, q.question, config, stable_seed(q.id),
                                         sibling_templates=siblings)
        except TableError as e:
            if unfit is not None:
                unfit.append((q.id, f"the prompt cannot fit: {e}"))
                continue
            raise DataError(f"{benchmark} example {q.id}: the table cannot fit the prompt budget: {e}") from e
        out.append(EvalExample(id=q.id, inputs=prompt, targets=q.target, gold=dict(q.gold, answers=q.answers)))
    return out
