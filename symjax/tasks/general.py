"""Readers of the non-table benchmarks: SVAMP (numerical reasoning), BBH and MMLU.

Layouts (``root`` is the benchmark folder):

SVAMP (github.com/arkilpatel/SVAMP)
    ``<split>.csv``, ``mawps-asdiv-a_svamp/<split>.csv`` or
    ``data/mawps-asdiv-a_svamp/<split>.csv`` with columns ``Question`` (numbers written
    ``number0``, ``number1``, ...), ``Numbers`` (space-separated) and ``Answer``. As the
    paper, numbers are put back through ``int(float(.))`` (decimals truncated) and the
    target is ``str(int(Answer))``; the official metric compares with the exact answer.
BBH (github.com/suzgunmirac/BIG-Bench-Hard)
    ``bbh/<task>.json`` or ``<task>.json`` (``{"examples": [{"input", "target"}]}``) and the
    3 exemplars of ``cot-prompts/<task>.txt``, used answer-only (the chain of thought is
    dropped), as the paper. Ids ``<task>-<index>``.
MMLU (people.eecs.berkeley.edu/~hendrycks/data.tar)
    ``data/<split>/<subject>_<split>.csv`` or ``<split>/<subject>_<split>.csv``, headerless
    rows ``question, A, B, C, D, answer``; the shots are the first 5 rows of the ``dev``
    split, reduced until the prompt fits ``max_input_chars`` (or ``max_input_tokens`` with
    ``count_tokens``), as the paper. Ids ``<subject>-<index>``.
"""
from __future__ import annotations

import csv
import io
import json
from pathlib import Path
from typing import Callable

from symjax.errors import ConfigError, DataError
from symjax.tasks.prompts import bbh_prompt, mmlu_prompt, parse_bbh_shots, render, template as get_template
from symjax.tasks.records import EvalExample, find_file

__all__ = [
    "BBH_TASKS",
    "MMLU_SUBJECTS",
    "read_svamp",
    "svamp_examples",
    "bbh_examples",
    "mmlu_examples",
]

BBH_TASKS = (
    "boolean_expressions", "causal_judgement", "date_understanding", "disambiguation_qa",
    "dyck_languages", "formal_fallacies", "geometric_shapes", "hyperbaton",
    "logical_deduction_five_objects", "logical_deduction_seven_objects",
    "logical_deduction_three_objects", "movie_recommendation", "multistep_arithmetic_two",
    "navigate", "object_counting", "penguins_in_a_table", "reasoning_about_colored_objects",
    "ruin_names", "salient_translation_error_detection", "snarks", "sports_understanding",
    "temporal_sequences", "tracking_shuffled_objects_five_objects",
    "tracking_shuffled_objects_seven_objects", "tracking_shuffled_objects_three_objects",
    "web_of_lies", "word_sorting",
)

MMLU_SUBJECTS = (
    "abstract_algebra", "anatomy", "astronomy", "business_ethics", "clinical_knowledge",
    "college_biology", "college_chemistry", "college_computer_science", "college_mathematics",
    "college_medicine", "college_physics", "computer_security", "conceptual_physics",
    "econometrics", "electrical_engineering", "elementary_mathematics", "formal_logic",
    "global_facts", "high_school_biology", "high_school_chemistry",
    "high_school_computer_science", "high_school_european_history", "high_school_geography",
    "high_school_government_and_politics", "high_school_macroeconomics",
    "high_school_mathematics", "high_school_microeconomics", "high_school_physics",
    "high_school_psychology", "high_school_statistics", "high_school_us_history",
    "high_school_world_history", "human_aging", "human_sexuality", "international_law",
    "jurisprudence", "logical_fallacies", "machine_learning", "management", "marketing",
    "medical_genetics", "miscellaneous", "moral_disputes", "moral_scenarios", "nutrition",
    "philosophy", "prehistory", "professional_accounting", "professional_law",
    "professional_medicine", "professional_psychology", "public_relations",
    "security_studies", "sociology", "us_foreign_policy", "virology", "world_religions",
)


def _csv_rows(path: Path, *, header: bool) -> list[tuple[int, list[str]]]:
    text = path.read_text(encoding="utf-8")
    text = text[1:] if text.startswith("\ufeff") else text
    reader = csv.reader(io.StringIO(text, newline=""))
    out, line = [], 1
    try:
        for row in reader:
            if row and any(c.strip() for c in row):
                out.append((line, row))
            line = reader.line_num + 1
    except csv.Error as e:
        raise DataError(f"{path}, line {reader.line_num}: malformed CSV: {e}") from e
    return out


# ---------------------------------------------------------------------------- SVAMP
def read_svamp(root: str | Path, split: str) -> list[tuple[str, str, str, float]]:
    """``[(id, question, target, answer)]``: the question with its numbers put back, the
    paper's integer target text, and the exact answer."""
    root = Path(root)
    path = find_file(
        "svamp", root,
        [f"{split}.csv", f"mawps-asdiv-a_svamp/{split}.csv", f"data/mawps-asdiv-a_svamp/{split}.csv"],
        f"the problems of split {split!r}",
    )
    rows = _csv_rows(path, header=True)
    if not rows:
        raise DataError(f"{path}, line 1: empty file")
    header = rows[0][1]
    missing = [c for c in ("Question", "Numbers", "Answer") if c not in header]
    if missing:
        raise DataError(f"{path}, line 1: header {header!r} lacks columns {missing!r}")
    col = {name: header.index(name) for name in header}
    out = []
    for index, (line, row) in enumerate(rows[1:]):
        where = f"{path}, line {line}"
        if len(row) != len(header):
            raise DataError(f"{where}: {len(row)} fields, the header has {len(header)}")
        question = row[col["Question"]]
        try:
            numbers = [str(int(float(x))) for x in row[col["Numbers"]].split()]
            answer = float(row[col["Answer"]])
        except ValueError as e:
            raise DataError(f"{where}: Numbers/Answer are not numbers: {e}") from e
        # replace number10 before number1
        for i in sorted(range(len(numbers)), reverse=True):
            question = question.replace(f"number{i}", numbers[i])
        ex_id = row[col["ID"]] if "ID" in col and row[col["ID"]] else f"{split}-{index}"
        out.append((ex_id, question, str(int(answer)), answer))
    return out


def svamp_examples(root: str | Path, split: str, template: int, *,
                   fits: Callable[[str], bool] | None = None, unfit: list | None = None) -> list[EvalExample]:
    """The SVAMP problems of ``split`` in template ``template``. With ``fits`` and ``unfit``
    (a list), a prompt ``fits`` rejects is appended to ``unfit`` as ``(id, reason)``
    instead (nothing of a question can be cut)."""
    text = get_template("svamp", template)
    out = []
    for ex_id, q, target, answer in read_svamp(root, split):
        prompt = render(text, question=q)
        if fits is not None and unfit is not None and not fits(prompt):
            unfit.append((ex_id, "the prompt is longer than the budget"))
            continue
        out.append(EvalExample(ex_id, prompt, target, {"number": answer}))
    return out


# ---------------------------------------------------------------------------- BBH
def _check_bbh_task(task: str) -> None:
    if task not in BBH_TASKS:
        raise ConfigError(f"unknown BBH task {task!r}; the 27 tasks are {list(BBH_TASKS)}")


def bbh_examples(root: str | Path, task: str, *, num_shots: int = 3,
                 fits: Callable[[str], bool] | None = None, unfit: list | None = None) -> list[EvalExample]:
    """The examples of one BBH task as 3-shot answer-only prompts. With ``fits``, shots are
    dropped (last first) until the prompt fits; a question that does not fit even with no
    shot is kept as it is, or, with ``unfit`` (a list), appended to it as ``(id, reason)``."""
    _check_bbh_task(task)
    root = Path(root)
    path = find_file("bbh", root, [f"bbh/{task}.json", f"{task}.json"], f"the examples of task {task!r}")
    shots_path = find_file("bbh", root, [f"cot-prompts/{task}.txt"], f"the exemplars of task {task!r}")
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except json.JSONDecodeError as e:
        raise DataError(f"{path}, line {e.lineno}: invalid JSON: {e.msg}") from e
    examples = data.get("examples") if isinstance(data, dict) else None
    if not isinstance(examples, list):
        raise DataError(f"{path}: expected {{'examples': [{{'input', 'target'}}, ...]}}")
    try:
        description, shots = parse_bbh_shots(shots_path.read_text(encoding="utf-8"))
    except ValueError as e:
        raise DataError(f"{shots_path}: {e}") from e
    shots = shots[:num_shots]
    out = []
    for i, ex in enumerate(examples):
        if not (isinstance(ex, dict) and isinstance(ex.get("input"), str) and "target" in ex):
            raise DataError(f"{path}: example {i} is not {{'input': str, 'target': ...}}")
        target = str(ex["target"])
        k = len(shots)
        prompt = bbh_prompt(description, shots, ex["input"])
        while fits is not None and k > 0 and not fits(prompt):
            k -= 1
            prompt = bbh_prompt(description, shots[:k], ex["input"])
        if fits is not None and unfit is not None and not fits(prompt):
            unfit.append((f"{task}-{i}", "the question does not fit even with no shot"))
            continue
        out.append(EvalExample(f"{task}-{i}", prompt, target, {"task": task, "shots": k}))
    return out


# ---------------------------------------------------------------------------- MMLU
def _mmlu_file(root: Path, subject: str, split: str) -> Path:
    return find_file(
        "mmlu", root, [f"data/{split}/{subject}_{split}.csv", f"{split}/{subject}_{split}.csv"],
        f"the {split} questions of subject {subject!r}",
    )


def _mmlu_rows(path: Path) -> list[tuple[str, list[str], str]]:
    out = []
    for line, row in _csv_rows(path, header=False):
        if len(row) != 6:
            raise DataError(f"{path}, line {line}: {len(row)} fields; an MMLU row is question, A, B, C, D, answer")
        answer = row[5].strip().upper()
        if answer not in ("A", "B", "C", "D"):
            raise DataError(f"{path}, line {line}: answer {row[5]!r} is not A, B, C or D")
        out.append((row[0], row[1:5], answer))
    return out


def mmlu_examples(
    root: str | Path,
    subject: str,
    split: str,
    *,
    num_shots: int = 5,
    max_input_chars: int | None = 6500,
    max_input_tokens: int | None = None,
    count_tokens: Callable[[str], int] | None = None,
    unfit: list | None = None,
) -> list[EvalExample]:
    """The questions of one subject as k-shot prompts (shots dropped until the prompt fits).
    A question that does not fit even with no shot is kept as it is, or, with ``unfit`` (a
    list), appended to it as ``(id, reason)``."""
    if subject not in MMLU_SUBJECTS:
        raise ConfigError(f"unknown MMLU subject {subject!r}; the 57 subjects are {list(MMLU_SUBJECTS)}")
    if max_input_tokens is not None and count_tokens is None:
        raise ConfigError("max_input_tokens needs count_tokens (a function str -> int)")
    root = Path(root)
    shots = _mmlu_rows(_mmlu_file(root, subject, "dev"))[:num_shots]

    def fits(prompt: str) -> bool:
        if max_input_tokens is not None:
            return count_tokens(prompt) <= max_input_tokens
        return max_input_chars is None or len(prompt) <= max_input_chars

    out = []
    for i, (question, options, answer) in enumerate(_mmlu_rows(_mmlu_file(root, subject, split))):
        k = len(shots)
        prompt = mmlu_prompt(subject, shots[:k], question, options)
        while k > 0 and not fits(prompt):
            k -= 1
            prompt = mmlu_prompt(subject, shots[:k], question, options)
        if unfit is not None and not fits(prompt):
            unfit.append((f"{subject}-{i}", "the question and its options do not fit even with no shot"))
            continue
        out.append(EvalExample(f"{subject}-{i}", prompt, answer, {"label": answer, "subject": subject, "shots": k}))
    return out
