"""Reading prediction files and scoring them against a benchmark's gold answers.

A predictions file is JSONL. Each line is either ``{"id": ..., "prediction": "..."}`` or a
line of t5x ``infer`` output, ``{"inputs": {..., "id": ...}, "prediction": "...", ...}``
(the symjax eval tasks carry an ``id`` feature, which t5x writes back under ``inputs``).
Used by ``tools/evaluate_predictions.py`` and ``tools/select_prompts.py``.
"""
from __future__ import annotations

from pathlib import Path
from typing import Mapping

from symjax.errors import DataError, MissingDataError
from symjax.tasks.records import json_objects

__all__ = ["read_predictions", "align", "evaluate_file"]


def _id_of(obj: dict) -> str | None:
    if "id" in obj:
        return obj["id"]
    inputs = obj.get("inputs")
    if isinstance(inputs, Mapping) and "id" in inputs:
        return inputs["id"]
    return None


def read_predictions(path: str | Path) -> list[tuple[int, str, str]]:
    """``[(line number, id, prediction)]``; a malformed line raises :class:`DataError`
    naming the file and line."""
    path = Path(path)
    if not path.is_file():
        raise MissingDataError(f"predictions file {path} does not exist")
    out = []
    for k, obj in json_objects(path):
        ex_id = _id_of(obj)
        if ex_id is None:
            raise DataError(
                f"{path}, line {k}: no example id (expected {{\"id\": ..., \"prediction\": ...}} or t5x "
                "output with inputs.id)"
            )
        if not isinstance(ex_id, (str, int)) or isinstance(ex_id, bool):
            raise DataError(f"{path}, line {k}: id must be a string, got {ex_id!r}")
        prediction = obj.get("prediction")
        if not isinstance(prediction, str):
            raise DataError(f"{path}, line {k}: 'prediction' must be a string, got {prediction!r}")
        out.append((k, str(ex_id), prediction))
    return out


def align(
    path: str | Path, golds: Mapping[str, dict], *, allow_missing: bool = False
) -> tuple[list[dict], list[str | None], list[str]]:
    """Golds and predictions in gold order, and the ids without a prediction. An unknown
    or repeated id names its line; missing ids are an error unless ``allow_missing``
    (then they count as wrong)."""
    seen: dict[str, int] = {}
    predictions: dict[str, str] = {}
    for k, ex_id, prediction in read_predictions(path):
        if ex_id not in golds:
            raise DataError(f"{path}, line {k}: unknown example id {ex_id!r} (not in the gold split)")
        if ex_id in seen:
            raise DataError(f"{path}, line {k}: example id {ex_id!r} already predicted on line {seen[ex_id]}")
        seen[ex_id] = k
        predictions[ex_id] = prediction
    missing = [i for i in golds if i not in predictions]
    if missing and not allow_missing:
        shown = ", ".join(repr(i) for i in missing[:5])
        raise DataError(
            f"{path}: {len(missing)} of {len(golds)} gold examples have no prediction (first: {shown}); "
            "predict every id, or pass allow_missing to count them wrong"
        )
    ids = list(golds)
    return [golds[i] for i in ids], [predictions.get(i) for i in ids], missing


def evaluate_file(benchmark: str, path: str | Path, golds: Mapping[str, dict], *, allow_missing: bool = False) -> dict:
    """Scores of one predictions file (see :func:`symjax.tasks.benchmarks.score`), with
    ``num_predictions`` and ``num_missing``."""
    from symjax.tasks.benchmarks import score

    gold_list, preds, missing = align(path, golds, allow_missing=allow_missing)
    out = score(benchmark, gold_list, preds)
    out["num_predictions"] = len(gold_list) - len(missing)
    out["num_missing"] = len(missing)
    return out
