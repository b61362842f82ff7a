"""One entry point over the benchmark readers: prompted examples, gold targets and scores
for any benchmark, by name. Pure Python (used by the seqio sources and by
``tools/evaluate_predictions.py``).
"""
from __future__ import annotations

from pathlib import Path
from typing import Any, Mapping, Sequence

from symjax.errors import ConfigError, MissingDataError
from symjax.tasks import general, metrics, table_qa, wikisql
from symjax.tasks.records import PUBLISHED_AT, EvalExample, TablePromptConfig
from symjax.tasks.settings import BENCHMARKS, benchmark_dir

__all__ = ["BENCHMARKS", "load_examples", "load_golds", "score", "available_parts"]

_TABLE_READERS = {"wtq": table_qa.read_wtq, "sqa": table_qa.read_sqa, "tabfact": table_qa.read_tabfact}


def _check(benchmark: str) -> None:
    if benchmark not in BENCHMARKS:
        raise ConfigError(f"unknown benchmark {benchmark!r}; use one of {BENCHMARKS}")


def available_parts(benchmark: str, root: Path, split: str) -> list[str]:
    """The BBH tasks or MMLU subjects whose files are in ``root`` (in canonical order)."""
    root = Path(root)
    if benchmark == "bbh":
        return [t for t in general.BBH_TASKS if (root / "bbh" / f"{t}.json").is_file() or (root / f"{t}.json").is_file()]
    if benchmark == "mmlu":
        return [
            s for s in general.MMLU_SUBJECTS
            if (root / "data" / split / f"{s}_{split}.csv").is_file() or (root / split / f"{s}_{split}.csv").is_file()
        ]
    raise ConfigError(f"{benchmark} is not split into tasks or subjects")


def _fits(config: TablePromptConfig | None):
    """The prompt-length check of ``config``'s budget (``None``: no budget)."""
    if config is None:
        return None
    if config.max_input_tokens is not None:
        return lambda prompt: config.count_tokens(prompt) <= config.max_input_tokens
    if config.max_input_chars is not None:
        return lambda prompt: len(prompt) <= config.max_input_chars
    return None


def load_examples(
    benchmark: str,
    split: str,
    *,
    template: int = 0,
    part: str | None = None,
    root: str | Path | None = None,
    config: TablePromptConfig | None = None,
    unfit: list | None = None,
) -> list[EvalExample]:
    """Prompted examples of ``benchmark`` from the raw file ``split`` (a file stem such as
    ``pristine-unseen-tables``, ``test``, ``val``, ``dev``) with template ``template``.

    ``part`` is a BBH task or an MMLU subject (``None``: every one present). ``root``
    defaults to the configured data directory (:func:`symjax.tasks.settings.benchmark_dir`).
    ``config`` is the prompt budget: tables are cut (table benchmarks) and shots dropped
    (BBH, MMLU) to fit it, questions never. With ``unfit`` (a list), an example that cannot
    fit even so is appended to it as ``(id, reason)`` and left out; without, a table that
    cannot fit raises :class:`~symjax.errors.DataError` and other prompts are kept as they are.
    """
    _check(benchmark)
    root = Path(root) if root is not None else benchmark_dir(benchmark)
    if benchmark in _TABLE_READERS:
        questions = _TABLE_READERS[benchmark](root, split)
        return table_qa.table_questions_to_examples(benchmark, questions, template, config, unfit=unfit)
    if benchmark == "wikisql":
        return wikisql.wikisql_examples(wikisql.read_wikisql(root, split), template, config, unfit=unfit)
    fits = _fits(config)
    if benchmark == "svamp":
        return general.svamp_examples(root, split, template, fits=fits, unfit=unfit)
    parts = [part] if part is not None else available_parts(benchmark, root, split)
    if not parts:
        what = "bbh/<task>.json files" if benchmark == "bbh" else f"data/{split}/<subject>_{split}.csv files"
        raise MissingDataError(
            f"{benchmark}: no {what} in {root}; get the benchmark from {PUBLISHED_AT[benchmark]}"
        )
    out: list[EvalExample] = []
    for p in parts:
        if benchmark == "bbh":
            out.extend(general.bbh_examples(root, p, fits=fits, unfit=unfit))
        else:
            kw = {}
            if config is not None:
                kw = dict(max_input_chars=config.max_input_chars, max_input_tokens=config.max_input_tokens,
                          count_tokens=config.count_tokens)
            out.extend(general.mmlu_examples(root, p, split, unfit=unfit, **kw))
    return out


def load_golds(benchmark: str, split: str, **kwargs: Any) -> dict[str, dict]:
    """``{id: gold dict}`` (with ``text``, the target string) of a raw split, in file order."""
    return {ex.id: dict(ex.gold, text=ex.targets) for ex in load_examples(benchmark, split, **kwargs)}


def score(benchmark: str, golds: Sequence[Mapping], predictions: Sequence[str | None]) -> dict:
    """The benchmark's metrics (:data:`symjax.tasks.metrics.METRIC_FNS`) over parallel
    lists; TabFact also reports its ``simple``/``complex``/``small`` test subsets when the
    golds carry them."""
    _check(benchmark)
    out = metrics.METRIC_FNS[benchmark](list(golds), list(predictions))
    if benchmark == "tabfact":
        for subset in table_qa.TABFACT_SUBSETS:
            idx = [i for i, g in enumerate(golds) if subset in (g.get("subsets") or ())]
            if idx:
                sub = metrics.tabfact_metrics([golds[i] for i in idx], [predictions[i] for i in idx])
                out[f"{subset}_accuracy"] = sub["official_accuracy"]
    return out
