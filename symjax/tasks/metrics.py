"""Metrics of the benchmarks, as the paper scored them and as their official scorers do.

Pure Python (no TensorFlow, no seqio), so ``tools/evaluate_predictions.py`` and the tests
run without them. Every ``*_metrics(targets, predictions)`` function is a seqio decoding
metric: it takes parallel lists and returns ``{name: value}`` with accuracies in percent
(0-100, the t5/seqio convention) plus ``num_examples``.

A *target* is either the target string or a dict made by :func:`postprocess_target` from a
seqio example (keys below); a *prediction* is the decoded string, or ``None`` for a missing
prediction, which is always wrong.

Two families of scores:

``denotation_accuracy`` (every benchmark; the paper's ``get_denotation_accuracy``)
    :func:`denotation_match`: lower-case prediction and target, split both on ``","``,
    ``float()`` each span where possible else strip it, and compare the two multisets.
    No date, unit or quote normalization. The target string is the gold answers joined
    by ``", "`` (``"yes"``/``"no"`` for TabFact).

``official_accuracy`` (the benchmark's own scorer)
    * WTQ: :mod:`symjax.tasks.wtq_evaluator` with ``targetCanon`` (target keys
      ``answers``, ``canon``).
      The TFDS-backed WTQ tasks (:func:`wtq_tfds_metrics`) have no ``targetCanon`` and
      report ``official_accuracy_no_canon`` instead: the same rules with gold items typed
      by their own text, an approximation of the official number.
    * TabFact: the generated text mapped to entailed/refuted by :func:`parse_verdict`;
      unparseable text is wrong (target key ``label``: 1 entailed, 0 refuted).
    * SQA: per question, TAPAS's normalized denotations (:func:`tapas_denotation`) must be
      equal; also per sequence (every question of an ``(id, annotator)`` sequence right)
      and per position (target keys ``answers``, ``sequence``, ``position``).
    * WikiSQL: TAPAS's answer accuracy, ``normalize_answers(pred) == normalize_answers(gold)``
      after ``convert_to_float`` and float32 rounding (target key ``answers``).
    * BBH: exact match (whitespace stripped, case-insensitive, as the paper's
      ``get_exact_match``) and the option variant (parentheses removed).
    * MMLU: the answer letter; micro (per question) and macro (mean over subjects) accuracy
      (target keys ``label``, ``subject``).
    * SVAMP: the number in the prediction equals the gold number.

**Reading a prediction as a list.** The model writes several values joined by ``", "``
(the SQL-execution targets' separator, :data:`symjax.sql.text.answers.ANSWER_SEPARATOR`) and
``@NULL@`` for an empty answer. A value may itself contain ``", "`` (``Washington,
D.C.``), so for the official list scorers (WTQ, SQA, WikiSQL) adjacent pieces of the
prediction may be joined back where the joined text is one of the gold values, and the
prediction is correct when any such reading is (:func:`prediction_readings`). Joining can
only rebuild a gold value the model wrote out in full; it never invents one. A result
of several columns has one item per row, its values joined by ``" | "``
(:data:`symjax.sql.text.answers.ROW_VALUE_SEPARATOR`), so rows are compared as items.
"""
from __future__ import annotations

import json
import math
import re
import struct
from collections import Counter, defaultdict
from typing import Any, Callable, Iterable, Mapping, Sequence

from symjax.tasks import wtq_evaluator

__all__ = [
    "EMPTY_ANSWER",
    "ANSWER_SEPARATOR",
    "denotation_match",
    "denotation_accuracy",
    "prediction_readings",
    "wtq_match",
    "parse_verdict",
    "convert_to_float",
    "normalize_answers",
    "tapas_denotation",
    "tapas_match",
    "bbh_exact_match",
    "bbh_exact_match_option",
    "parse_choice_letter",
    "wtq_metrics",
    "wtq_tfds_metrics",
    "tabfact_metrics",
    "sqa_metrics",
    "wikisql_metrics",
    "bbh_metrics",
    "mmlu_metrics",
    "svamp_metrics",
    "sql_execution_metrics",
    "postprocess_target",
    "postprocess",
    "METRIC_FNS",
]

EMPTY_ANSWER = "@NULL@"  # == symjax.sql.text.answers.EMPTY_ANSWER (kept import-free of the data core)
ANSWER_SEPARATOR = ", "


# ---------------------------------------------------------------------------- helpers
def _text(x: Any) -> str:
    if isinstance(x, bytes):
        return x.decode("utf-8")
    if hasattr(x, "item") and not isinstance(x, str):  # numpy scalar
        x = x.item()
        if isinstance(x, bytes):
            return x.decode("utf-8")
    return str(x)


def _percent(correct: int, total: int) -> float:
    return 100.0 * correct / total if total else 0.0


def _gold(target: Any) -> dict:
    if isinstance(target, Mapping):
        return dict(target)
    return {"text": _text(target)}


def _gold_text(gold: dict) -> str:
    if "text" in gold and gold["text"] is not None:
        return _text(gold["text"])
    answers = gold.get("answers")
    if answers is not None:
        return ANSWER_SEPARATOR.join(_text(a) for a in answers)
    if gold.get("label") is not None:
        return _text(gold["label"])
    raise ValueError(f"target has none of 'text', 'answers', 'label': {gold!r}")


def _gold_answers(gold: dict) -> list[str]:
    answers = gold.get("answers")
    if answers is not None:
        return [_text(a) for a in answers]
    return prediction_readings(_gold_text(gold))[0]


def _check_lengths(targets: Sequence, predictions: Sequence) -> None:
    if len(targets) != len(predictions):
        raise ValueError(f"{len(targets)} targets but {len(predictions)} predictions")


# ---------------------------------------------------------------------------- paper metric
def _span_counts(text: str) -> Counter:
    counts: Counter = Counter()
    for span in text.lower().split(","):
        try:
            counts[float(span)] += 1
        except ValueError:
            counts[span.strip()] += 1
    return counts


def denotation_match(prediction: str | None, target: str) -> bool:
    """TAPEX-Zero's ``evaluate_example``: lower-case, split on ``","``, ``float()`` each span
    where possible (Python 3's ``float``, as the paper ran it) else strip it, and compare
    the multisets."""
    if prediction is None:
        return False
    return _span_counts(_text(prediction)) == _span_counts(_text(target))


def denotation_accuracy(targets: Sequence[Any], predictions: Sequence[str | None]) -> dict:
    """``{"denotation_accuracy": percent}`` over parallel lists (targets as strings or dicts)."""
    _check_lengths(targets, predictions)
    correct = sum(denotation_match(p, _gold_text(_gold(t))) for t, p in zip(targets, predictions))
    return {"denotation_accuracy": _percent(correct, len(targets))}


# ---------------------------------------------------------------------------- list readings
_MAX_READINGS = 256


def prediction_readings(
    text: str | None,
    *,
    empty_tokens: Iterable[str] = (EMPTY_ANSWER,),
    mergeable: Callable[[str], bool] | None = None,
) -> list[list[str]]:
    """The ways a generated answer is read as a list of values.

    The text is split on ``", "``; ``@NULL@`` (and any of ``empty_tokens``) or blank text is
    the empty list; ``None`` (a missing prediction) has no reading. Adjacent pieces may be
    joined back into one value where ``mergeable(joined)`` is true (the scorers pass "is
    the text of a gold value"), so ``Washington, D.C.`` or ``St. Louis, MO`` stay whole;
    every such reading is returned (at most 256), the plain split first.
    """
    if text is None:
        return []
    text = _text(text).strip()
    if not text or text in set(empty_tokens):
        return [[]]
    parts = [part.strip() for part in text.split(ANSWER_SEPARATOR)]
    if mergeable is None or len(parts) == 1:
        return [parts]
    n = len(parts)
    # joinable[i][j]: pieces i..j (j > i) joined form a gold value
    spans = {
        (i, j) for i in range(n) for j in range(i + 1, n)
        if mergeable(ANSWER_SEPARATOR.join(parts[i : j + 1]))
    }
    readings: list[list[str]] = []

    def walk(i: int, acc: list[str]) -> None:
        if len(readings) >= _MAX_READINGS:
            return
        if i == n:
            readings.append(list(acc))
            return
        acc.append(parts[i])
        walk(i + 1, acc)
        acc.pop()
        for j in range(i + 1, n):
            if (i, j) in spans:
                acc.append(ANSWER_SEPARATOR.join(parts[i : j + 1]))
                walk(j + 1, acc)
                acc.pop()

    walk(0, [])
    return readings


def _any_reading(prediction: str | None, accept: Callable[[list[str]], bool], **kw) -> bool:
    return any(accept(items) for items in prediction_readings(prediction, **kw))


# ---------------------------------------------------------------------------- WTQ official
def wtq_match(prediction: str | None, answers: Sequence[str], canon: Sequence[str] | None = None) -> bool:
    """The official WTQ check of one prediction against gold ``answers`` (``targetValue``
    items) typed by ``canon`` (``targetCanon`` items; ``None`` types them by their own text)."""
    target_values = wtq_evaluator.to_value_list(list(answers), None if canon is None else list(canon))
    gold_texts = {v.normalized for v in target_values}
    return _any_reading(
        prediction,
        lambda items: wtq_evaluator.check_denotation(target_values, wtq_evaluator.to_value_list(items)),
        mergeable=lambda s: wtq_evaluator.normalize(s) in gold_texts,
    )


def wtq_metrics(targets: Sequence[Any], predictions: Sequence[str | None]) -> dict:
    """WTQ: the paper's denotation accuracy and the official evaluator's accuracy (every
    target counted, so a missing prediction is wrong)."""
    _check_lengths(targets, predictions)
    golds = [_gold(t) for t in targets]
    official = sum(
        wtq_match(p, _gold_answers(g), g.get("canon")) for g, p in zip(golds, predictions)
    )
    out = denotation_accuracy(golds, predictions)
    out["official_accuracy"] = _percent(official, len(golds))
    out["num_examples"] = len(golds)
    return out


def wtq_tfds_metrics(targets: Sequence[Any], predictions: Sequence[str | None]) -> dict:
    """WTQ read through TFDS (``symjax_wtq_tfds_template_<k>``): the paper's denotation
    accuracy, and ``official_accuracy_no_canon``, the official evaluator's rules with gold
    items typed by their own text, because the TFDS ``wiki_table_questions`` builder has
    no ``targetCanon``. That differs from ``official_accuracy`` on gold items that are
    numbers or dates only after canonicalization (``2 inches``, ``100,000``,
    ``9 February 2013``; about 6% of test answer items), so it approximates the official
    number; the raw ``.tagged`` files (``symjax_wtq_template_<k>``) give the exact one."""
    _check_lengths(targets, predictions)
    golds = [_gold(t) for t in targets]
    correct = sum(wtq_match(p, _gold_answers(g), None) for g, p in zip(golds, predictions))
    out = denotation_accuracy(golds, predictions)
    out["official_accuracy_no_canon"] = _percent(correct, len(golds))
    out["num_examples"] = len(golds)
    return out


# ---------------------------------------------------------------------------- TabFact
_ENTAILED = {"yes", "true", "entailed", "entail", "entails", "supported", "correct", "1"}
_REFUTED = {"no", "false", "refuted", "refute", "refutes", "not", "incorrect", "0"}
_VERDICT = re.compile(r"^[\s\"'(\[*\-]*([a-z0-9]+)")


def parse_verdict(text: str | None) -> int | None:
    """1 (entailed) or 0 (refuted) from generated text, by its first word: ``yes``/``true``/
    ``entailed``/... or ``no``/``false``/``refuted``/...; ``None`` when unparseable."""
    if text is None:
        return None
    m = _VERDICT.match(_text(text).lower())
    if m is None:
        return None
    word = m.group(1)
    if word in _ENTAILED:
        return 1
    if word in _REFUTED:
        return 0
    return None


def _gold_label(gold: dict) -> int:
    label = gold.get("label")
    if label is None:
        label = _gold_text(gold)
    if isinstance(label, (bytes, str)):
        verdict = parse_verdict(_text(label))
        if verdict is None:
            raise ValueError(f"TabFact target {label!r} is neither yes/no, entailed/refuted nor 1/0")
        return verdict
    return int(label)


def tabfact_metrics(targets: Sequence[Any], predictions: Sequence[str | None]) -> dict:
    """TabFact: accuracy of the mapped verdict (unparseable = wrong), the paper's denotation
    accuracy against ``yes``/``no``, and the share of unparseable predictions."""
    _check_lengths(targets, predictions)
    golds = [_gold(t) for t in targets]
    labels = [_gold_label(g) for g in golds]
    verdicts = [parse_verdict(p) for p in predictions]
    correct = sum(v is not None and v == y for v, y in zip(verdicts, labels))
    texts = [{"text": "yes" if y == 1 else "no"} for y in labels]
    out = denotation_accuracy(texts, predictions)
    out["official_accuracy"] = _percent(correct, len(golds))
    out["unparseable"] = _percent(sum(v is None for v in verdicts), len(golds))
    out["num_examples"] = len(golds)
    return out


# ---------------------------------------------------------------------------- TAPAS (SQA, WikiSQL)
def _splits_thousands(delimiter: str, value: str) -> bool:
    parts = value.split(delimiter)
    return len(parts) > 1 and any(len(p) == 3 for p in parts)


def convert_to_float(value: Any) -> float:
    """TAPAS's ``convert_to_float``: ``1,000.7`` -> 1000.7; ``1,000`` -> 1000 (a group of 3
    digits); ``5,5556`` -> 5.5556 (one decimal comma); several dots, or several commas, are
    removed; else ``float()``. Raises ``ValueError``."""
    if isinstance(value, bool):
        raise ValueError("a bool is not a number")
    if isinstance(value, float):
        return value
    if isinstance(value, int):
        return float(value)
    if not isinstance(value, str):
        raise ValueError(f"cannot convert a {type(value).__name__} to float")
    s = value
    try:
        if "." in s and "," in s:
            return float(s.replace(",", ""))
        if "," in s and _splits_thousands(",", s):
            return float(s.replace(",", ""))
        if s.count(",") == 1 and not _splits_thousands(",", s):
            return float(s.replace(",", "."))
        if s.count(".") > 1:
            return float(s.replace(".", ""))
        if s.count(",") > 1:
            return float(s.replace(",", ""))
        return float(s)
    except ValueError:
        raise ValueError("Unable to convert value to float") from None


def _normalize_float(answer: Any) -> Any:
    if answer is None:
        return None
    try:
        value = convert_to_float(answer)
    except ValueError:
        return answer.lower()
    return None if math.isnan(value) else value


def normalize_answers(answers: Iterable[Any]) -> list[str]:
    """TAPAS's ``normalize_answers``: each item to a float where :func:`convert_to_float`
    can (NaN dropped), else lower-cased; stringified and sorted."""
    values = (_normalize_float(a) for a in answers)
    return sorted(str(v) for v in values if v is not None)


def _to_float32(v: Any) -> Any:
    if not isinstance(v, float):
        return v
    return struct.unpack("!f", struct.pack("!f", v))[0]


def _parse_cell(value: str) -> Any:
    try:
        f = convert_to_float(value)
        if math.isnan(f):
            raise ValueError
        return f
    except ValueError:
        return value.lower()


def tapas_denotation(items: Iterable[str]) -> list[str]:
    """The denotation TAPAS compares (``calc_metrics_utils``): each item parsed as a float
    (:func:`convert_to_float`) or lower-cased, floats rounded to float32, then
    :func:`normalize_answers`. A multiset: duplicates count."""
    return normalize_answers(_to_float32(_parse_cell(_text(x))) for x in items)


def tapas_match(prediction: str | None, answers: Sequence[str], **kw) -> bool:
    """TAPAS answer accuracy of one generated prediction against gold ``answers``."""
    gold = tapas_denotation(answers)
    gold_texts = {_text(a).strip().lower() for a in answers}
    return _any_reading(
        prediction, lambda items: tapas_denotation(items) == gold,
        mergeable=lambda s: s.strip().lower() in gold_texts, **kw,
    )


def wikisql_metrics(targets: Sequence[Any], predictions: Sequence[str | None]) -> dict:
    """WikiSQL (weak supervision, TAPAS convention): answer accuracy; ``none`` and ``@NULL@``
    read as the empty answer (the paper's and symjax's empty tokens)."""
    _check_lengths(targets, predictions)
    golds = [_gold(t) for t in targets]
    correct = sum(
        tapas_match(p, _gold_answers(g), empty_tokens=(EMPTY_ANSWER, "none"))
        for g, p in zip(golds, predictions)
    )
    out = denotation_accuracy(golds, predictions)
    out["official_accuracy"] = _percent(correct, len(golds))
    out["num_examples"] = len(golds)
    return out


def sqa_metrics(targets: Sequence[Any], predictions: Sequence[str | None]) -> dict:
    """SQA: per-question accuracy (``official_accuracy``, ALL), per-sequence accuracy (SEQ:
    every question of a sequence right), and accuracy per position (``position_k_accuracy``).
    Sequences and positions come from the target keys ``sequence`` and ``position``;
    without them every question is its own sequence at position 0."""
    _check_lengths(targets, predictions)
    golds = [_gold(t) for t in targets]
    flags = [tapas_match(p, _gold_answers(g)) for g, p in zip(golds, predictions)]
    by_sequence: dict[str, list[bool]] = defaultdict(list)
    by_position: dict[int, list[bool]] = defaultdict(list)
    for k, (g, ok) in enumerate(zip(golds, flags)):
        by_sequence[_text(g.get("sequence", f"#{k}"))].append(ok)
        by_position[int(g.get("position", 0))].append(ok)
    out = denotation_accuracy(golds, predictions)
    out["official_accuracy"] = _percent(sum(flags), len(flags))
    out["sequence_accuracy"] = _percent(sum(all(v) for v in by_sequence.values()), len(by_sequence))
    for position in sorted(by_position):
        values = by_position[position]
        out[f"position_{position}_accuracy"] = _percent(sum(values), len(values))
    out["num_examples"] = len(golds)
    out["num_sequences"] = len(by_sequence)
    return out


# ---------------------------------------------------------------------------- BBH
def bbh_exact_match(prediction: str | None, target: str) -> bool:
    """The paper's ``get_exact_match`` (case-insensitive), with surrounding whitespace
    stripped (decoded T5 output has none, so this changes nothing for model output)."""
    return prediction is not None and _text(prediction).strip().lower() == _text(target).strip().lower()


def _drop_parens(s: str) -> str:
    return s.strip().lower().replace("(", "").replace(")", "")


def bbh_exact_match_option(prediction: str | None, target: str) -> bool:
    """The paper's ``get_exact_match_option``: also ignore parentheses (``A`` = ``(A)``)."""
    return prediction is not None and _drop_parens(_text(prediction)) == _drop_parens(_text(target))


def bbh_metrics(targets: Sequence[Any], predictions: Sequence[str | None]) -> dict:
    """BBH: exact match and the option variant. With a ``task`` key in the targets, also the
    macro average over tasks (the paper's number is the mean over the 27 tasks)."""
    _check_lengths(targets, predictions)
    golds = [_gold(t) for t in targets]
    texts = [_gold_text(g) for g in golds]
    em = [bbh_exact_match(p, t) for t, p in zip(texts, predictions)]
    em_opt = [bbh_exact_match_option(p, t) for t, p in zip(texts, predictions)]
    out = {
        "exact_match": _percent(sum(em), len(em)),
        "exact_match_option": _percent(sum(em_opt), len(em_opt)),
        "official_accuracy": _percent(sum(em), len(em)),
        "denotation_accuracy": denotation_accuracy(golds, predictions)["denotation_accuracy"],
        "num_examples": len(golds),
    }
    tasks = [g.get("task") for g in golds]
    if all(t is not None for t in tasks) and tasks:
        per_task: dict[str, list[bool]] = defaultdict(list)
        for t, ok in zip(tasks, em):
            per_task[_text(t)].append(ok)
        out["macro_exact_match"] = sum(_percent(sum(v), len(v)) for v in per_task.values()) / len(per_task)
        out["num_tasks"] = len(per_task)
    return out


# ---------------------------------------------------------------------------- MMLU
_LETTER = re.compile(r"^\s*\(?([A-Za-z])\)?(?:[\s.:)]|$)")


def parse_choice_letter(text: str | None, choices: str = "ABCD") -> str | None:
    """The answer letter of generated text (``B``, ``(B)``, ``B.``, ``B) ...``), upper-cased,
    or ``None`` when the text does not start with one of ``choices``."""
    if text is None:
        return None
    m = _LETTER.match(_text(text))
    if m is None:
        return None
    letter = m.group(1).upper()
    return letter if letter in choices else None


def mmlu_metrics(targets: Sequence[Any], predictions: Sequence[str | None]) -> dict:
    """MMLU: micro accuracy (per question, as hendrycks/test ``evaluate.py``) and, with a
    ``subject`` key in the targets, macro accuracy (mean of the subjects' accuracies)."""
    _check_lengths(targets, predictions)
    golds = [_gold(t) for t in targets]
    labels = [_gold_text({"text": g.get("label")} if g.get("label") is not None else g).strip().upper() for g in golds]
    flags = [parse_choice_letter(p) == y for p, y in zip(predictions, labels)]
    out = {
        "micro_accuracy": _percent(sum(flags), len(flags)),
        "official_accuracy": _percent(sum(flags), len(flags)),
        "denotation_accuracy": denotation_accuracy(golds, predictions)["denotation_accuracy"],
        "num_examples": len(golds),
    }
    subjects = [g.get("subject") for g in golds]
    if subjects and all(s is not None for s in subjects):
        per: dict[str, list[bool]] = defaultdict(list)
        for s, ok in zip(subjects, flags):
            per[_text(s)].append(ok)
        out["macro_accuracy"] = sum(_percent(sum(v), len(v)) for v in per.values()) / len(per)
        out["num_subjects"] = len(per)
    return out


# ---------------------------------------------------------------------------- SVAMP, SQL
_NUMBER = re.compile(r"-?\d+(?:\.\d+)?")


def _first_number(text: str) -> float | None:
    m = _NUMBER.search(_text(text).replace(",", ""))
    return float(m.group(0)) if m else None


def svamp_metrics(targets: Sequence[Any], predictions: Sequence[str | None]) -> dict:
    """SVAMP: the paper's denotation accuracy against the integer answer, and the official
    accuracy: the first number in the prediction equals the gold number (within 1e-4)."""
    _check_lengths(targets, predictions)
    golds = [_gold(t) for t in targets]
    correct = 0
    for g, p in zip(golds, predictions):
        gold = g.get("number")
        gold = _first_number(_gold_text(g)) if gold is None else float(gold)
        pred = None if p is None else _first_number(p)
        correct += gold is not None and pred is not None and abs(pred - gold) < 1e-4
    out = denotation_accuracy(golds, predictions)
    out["official_accuracy"] = _percent(correct, len(golds))
    out["num_examples"] = len(golds)
    return out


def sql_execution_metrics(targets: Sequence[Any], predictions: Sequence[str | None]) -> dict:
    """The SQL-execution task: exact match of the canonical answer text and the paper's
    denotation accuracy.

    When the targets carry their query ``family`` (the SQL tasks' postprocessed targets
    do), also ``denotation_accuracy/<family>`` per family and ``majority_baseline``: the
    accuracy of answering, for each family, the answer most frequent among these very
    examples -- the best any predictor that ignores the table and the query can do."""
    _check_lengths(targets, predictions)
    golds = [_gold(t) for t in targets]
    texts = [_gold_text(g) for g in golds]
    exact = sum(p is not None and _text(p).strip() == g.strip() for g, p in zip(texts, predictions))
    out = denotation_accuracy(texts, predictions)
    out["exact_match"] = _percent(exact, len(texts))
    out["num_examples"] = len(texts)
    families = [g.get("family") for g in golds]
    if texts and all(families):
        by_family: dict[str, list[int]] = {}
        answers: dict[str, Counter] = {}
        for family, text, pred in zip(families, texts, predictions):
            by_family.setdefault(family, []).append(int(denotation_match(pred, text)))
            answers.setdefault(family, Counter())[text.strip()] += 1
        for family, hits in sorted(by_family.items()):
            out[f"denotation_accuracy/{family}"] = _percent(sum(hits), len(hits))
            out[f"num_examples/{family}"] = len(hits)
            out[f"majority_baseline/{family}"] = _percent(answers[family].most_common(1)[0][1], len(hits))
        majority = sum(c.most_common(1)[0][1] for c in answers.values())
        out["majority_baseline"] = _percent(majority, len(texts))
    return out


METRIC_FNS: dict[str, Callable[[Sequence[Any], Sequence[str | None]], dict]] = {
    "wtq": wtq_metrics,
    "tabfact": tabfact_metrics,
    "sqa": sqa_metrics,
    "wikisql": wikisql_metrics,
    "bbh": bbh_metrics,
    "mmlu": mmlu_metrics,
    "svamp": svamp_metrics,
    "sql_execution": sql_execution_metrics,
}


# ---------------------------------------------------------------------------- seqio postprocess
# Features that eval examples carry besides inputs/targets; JSON-encoded where structured.
GOLD_FEATURES = ("id", "gold")


def postprocess_target(example: Mapping[str, Any]) -> dict:
    """The target dict of a seqio example: ``json.loads(example["gold"])`` (what the
    benchmark readers store: answers, canon, label, sequence, ...) plus ``id`` and
    ``text`` (``targets_pretokenized``)."""
    gold: dict = {}
    if "gold" in example:
        gold = json.loads(_text(example["gold"]))
    if "id" in example:
        gold["id"] = _text(example["id"])
    if "targets_pretokenized" in example:
        gold["text"] = _text(example["targets_pretokenized"])
    return gold


def postprocess(output: Any, example: Mapping[str, Any] | None = None, is_target: bool = False) -> Any:
    """seqio ``postprocess_fn``: a target becomes its dict (:func:`postprocess_target`) when
    the example carries gold features, a prediction stays its text."""
    if is_target and example is not None and "gold" in example:
        return postprocess_target(example)
    if is_target and example is not None and "family" in example:
        # SQL execution: keep the query family for the per-family metrics
        return {"text": _text(output), "family": _text(example["family"])}
    return _text(output)
