"""Every symjax Task and Mixture, registered with seqio on ``import symjax.tasks``.

Tasks (features ``inputs``/``targets`` in the symjax vocabulary with EOS, ``*_pretokenized``
kept; ``postprocess_fn`` and ``metric_fns`` set, so t5x decoding eval runs):

``symjax_sql_execution``
    SQL execution, tables linearized ``indexed`` (as the eval prompts), instruction
    ``execute``. Infinite ``train``; ``validation``/``test`` of 64 tables each (about 1,000
    examples), fixed by seed. Generated per host shard (:class:`~symjax.tasks.sources.SqlExecutionSource`).
``symjax_sql_execution_<style>_<instruction>``
    Variants for every linearization style (``tapex``, ``indexed``, ``markdown``) and
    instruction phrasing (keys of :data:`symjax.sql.INSTRUCTIONS`).
``symjax_sql_execution_200k``
    A finite, cacheable version (200K examples' worth of tables, the paper's size) for
    ``python -m seqio.scripts.cache_tasks_main --module_import=symjax.tasks
    --tasks=symjax_sql_execution_200k --output_cache_dir=...`` (64 shards).
``symjax_sql_execution_demo``
    Small medal tables and four easy families (:func:`demo_stream_config`), for the CPU
    demo and smoke tests; ``validation`` reports accuracy per family and the majority
    baseline.
``symjax_flan_jsonl``
    FLAN examples from JSONL files (see :mod:`symjax.tasks.settings`).
``symjax_{wtq,wikisql,sqa,tabfact,svamp}_template_<k>``
    Zero-shot eval, one task per paper template (``validation`` and ``test``; SVAMP ``test``).
``symjax_wtq_tfds_template_<k>``
    The WTQ templates again, reading the prepared TFDS builder ``wiki_table_questions``
    (``SYMJAX_TFDS_DATA_DIR``; :class:`~symjax.tasks.sources.WtqTfdsSource`) with the same
    prompts and table budget. Metrics :func:`~symjax.tasks.metrics.wtq_tfds_metrics`:
    denotation accuracy and ``official_accuracy_no_canon`` (TFDS has no targetCanon, so
    the official number is approximated; the raw ``.tagged`` files are the exact path).
``symjax_bbh_<task>`` (27, 3-shot answer-only, ``test``), ``symjax_mmlu_<subject>`` (57,
5-shot, ``validation`` and ``test``).

Mixtures:

``symjax_sql_flan``
    SQL execution with FLAN at ``SQL:FLAN`` = 1:3 by default (see
    :func:`symjax.tasks.settings.set_flan_source`).
``symjax_<benchmark>_templates``, ``symjax_wtq_tfds_templates``
    Every template of one benchmark (for choosing templates on ``validation``).
``symjax_table_qa``, ``symjax_bbh``, ``symjax_mmlu``, ``symjax_eval``
    The table benchmarks (WTQ, SQA, WikiSQL, TabFact) and SVAMP with the selected template
    each (:func:`symjax.tasks.settings.prompt_selection`), BBH, MMLU, and all of them.

:func:`register_sql_execution_task` registers a custom SQL task (another stream config,
seed, size or shard count).
"""
from __future__ import annotations

import functools
import logging
from typing import Any, Mapping

import seqio

from symjax.errors import ConfigError
from symjax.tasks import metrics, miniature, preprocessors
from symjax.tasks.general import BBH_TASKS, MMLU_SUBJECTS
from symjax.tasks.prompts import num_templates
from symjax.tasks.settings import eval_prompt_config, flan_source, get_vocabulary, on_change, prompt_selection
from symjax.tasks.sources import BenchmarkSource, JsonlSource, SqlExecutionSource, WtqTfdsSource

__all__ = [
    "register_all",
    "is_registered",
    "register_sql_execution_task",
    "eval_task_name",
    "output_features",
    "TEMPLATE_BENCHMARKS",
    "TABLE_QA",
]

log = logging.getLogger(__name__)
TEMPLATE_BENCHMARKS = ("wtq", "wikisql", "sqa", "tabfact", "svamp")
TABLE_QA = ("wtq", "sqa", "wikisql", "tabfact")
_tasks: list[str] = []
_mixtures: list[str] = []
_registered = False


def output_features(vocabulary: Any = None) -> dict[str, seqio.Feature]:
    vocabulary = vocabulary or get_vocabulary()
    return {
        "inputs": seqio.Feature(vocabulary=vocabulary, add_eos=True, required=False),
        "targets": seqio.Feature(vocabulary=vocabulary, add_eos=True),
    }


def _add_task(name: str, source: seqio.DataSource, preprocessors: list, metric_fn, *,
              shuffle_buffer_size: int | None = 1000) -> None:
    seqio.TaskRegistry.add(
        name,
        source=source,
        output_features=output_features(),
        preprocessors=preprocessors,
        postprocess_fn=metrics.postprocess,
        metric_fns=[metric_fn],
        shuffle_buffer_size=shuffle_buffer_size,
    )
    _tasks.append(name)


def _add_mixture(name: str, tasks: list, **kw) -> None:
    seqio.MixtureRegistry.add(name, tasks, **kw)
    _mixtures.append(name)


CACHE_LENGTHS = {"inputs": 2048, "targets": 128}  # the paper's lengths


def register_sql_execution_task(
    name: str,
    *,
    config: Any = None,
    seed: int = 0,
    train_blocks: int | None = None,
    eval_blocks: int = 64,
    num_shards: int = 16,
    cache_lengths: Mapping[str, int] | None = None,
) -> seqio.Task:
    """Register an SQL-execution task (``config``: a :class:`symjax.sql.StreamConfig` or a
    function returning one). Its examples are fitted to the lengths the dataset is asked
    for (:func:`symjax.tasks.preprocessors.sql_execution`).

    With ``train_blocks`` the train split is finite and the task can be cached offline
    (``seqio.scripts.cache_tasks_main``, fanning out over ``num_shards``): seqio gives the
    steps before its cache no lengths, so the examples are fitted to ``cache_lengths``
    (default :data:`CACHE_LENGTHS`, the paper's 2048 / 128) before caching, and a dataset
    asked for shorter lengths afterwards is refused."""
    source = SqlExecutionSource(
        config, seed=seed, train_blocks=train_blocks, eval_blocks=eval_blocks, num_shards=num_shards
    )
    if train_blocks is None:
        if cache_lengths is not None:
            raise ConfigError("cache_lengths is for a cacheable task: give train_blocks too")
        steps: list = [functools.partial(preprocessors.sql_execution, source=source)]
    else:
        lengths = dict(cache_lengths or CACHE_LENGTHS)
        preprocessors.fit_lengths(lengths)  # checks them
        steps = [
            functools.partial(preprocessors.sql_execution_at, source=source, lengths=lengths),
            seqio.CacheDatasetPlaceholder(),
            functools.partial(preprocessors.check_fitted_lengths, task=name, lengths=lengths),
        ]
    _add_task(name, source, steps, metrics.sql_execution_metrics)
    return seqio.TaskRegistry.get(name)


def _add_benchmark_task(name: str, source: seqio.DataSource, metric_fn) -> None:
    _add_task(name, source, [functools.partial(preprocessors.benchmark, source=source)], metric_fn)


def eval_task_name(benchmark: str, *, template: int = 0, part: str | None = None) -> str:
    """The registered name of an eval task; a wrong benchmark, template, BBH task or MMLU
    subject raises :class:`~symjax.errors.ConfigError` listing the valid ones."""
    from symjax.errors import ConfigError
    from symjax.tasks.prompts import template as check_template

    if benchmark in TEMPLATE_BENCHMARKS:
        check_template(benchmark, template)
        return f"symjax_{benchmark}_template_{template}"
    valid = {"bbh": BBH_TASKS, "mmlu": MMLU_SUBJECTS}.get(benchmark)
    if valid is None:
        raise ConfigError(f"unknown benchmark {benchmark!r}; use one of {TEMPLATE_BENCHMARKS + ('bbh', 'mmlu')}")
    if part not in valid:
        raise ConfigError(f"{benchmark} has no part {part!r}; valid: {list(valid)}")
    return f"symjax_{benchmark}_{part}"


def _stream_config(table_style: str, instruction: str, view: str = "sql"):
    def build():
        from symjax.sql import StreamConfig

        # the token budget of the lengths the task is asked for is the only input budget
        return StreamConfig(table_style=table_style, instruction=instruction, max_input_chars=None, view=view)

    return build


DEMO_FAMILIES = ("select_where", "count", "aggregate", "superlative")


def demo_stream_config():
    """The stream of ``symjax_sql_execution_demo``: small medal tables (2 to 4 rows, 6
    columns), four easy families with one-value answers, TAPEX-style SQL, inputs under
    200 bytes -- what a tiny T5 learns on 2 CPU cores in minutes (``gin/local/cpu_demo.gin``)."""
    from symjax.sql import SamplerConfig, StreamConfig, TableConfig

    return StreamConfig(
        table_config=TableConfig(min_rows=2, max_rows=4, row_median=2.6, row_p90=3.6,
                                 archetypes=("medal_table",)),
        sampler=SamplerConfig(family_weights={f: 1.0 for f in DEMO_FAMILIES}, difficulty="easy",
                              max_answer_values=1),
        sql_style="tapex", table_style="indexed", instruction="execute",
        max_input_chars=200, sql_reserve_chars=90, max_cell_chars=16,
    )


def _remove_all() -> None:
    for name in _mixtures:
        seqio.MixtureRegistry.remove(name)
    for name in _tasks:
        seqio.TaskRegistry.remove(name)
    _mixtures.clear()
    _tasks.clear()


def is_registered() -> bool:
    return _registered


def _settings_changed() -> None:
    if _registered:
        register_all()


on_change(_settings_changed)


def register_all() -> tuple[str, ...]:
    """(Re-)register every symjax task and mixture with the current settings; returns
    their names. Once registered, they are registered again whenever a setting changes
    (:func:`symjax.tasks.settings.on_change`)."""
    global _registered
    from symjax.sql import INSTRUCTIONS, TABLE_STYLES, StreamConfig

    _remove_all()
    # SQL execution
    register_sql_execution_task("symjax_sql_execution", config=_stream_config("indexed", "execute"))
    for style in TABLE_STYLES:
        for instruction in INSTRUCTIONS:
            register_sql_execution_task(
                f"symjax_sql_execution_{style}_{instruction}", config=_stream_config(style, instruction)
            )
    config_200k = _stream_config("indexed", "execute")
    per_table = StreamConfig().queries_per_table
    register_sql_execution_task(
        "symjax_sql_execution_200k", config=config_200k, train_blocks=-(-200_000 // per_table), num_shards=64,
    )
    register_sql_execution_task("symjax_sql_execution_demo", config=demo_stream_config)
    # the same plans asked in English (StreamConfig.view), and the miniature's tasks
    register_sql_execution_task("symjax_table_questions", config=_stream_config("indexed", "execute", "question"))
    register_sql_execution_task("symjax_table_questions_and_sql", config=_stream_config("indexed", "execute", "both"))
    for name, (view, families) in miniature.TASKS.items():
        register_sql_execution_task(name, config=functools.partial(miniature.stream_config, view, families))
    for name, rates in miniature.MIXTURES.items():
        _add_mixture(name, list(rates.items()))
    # FLAN from JSONL
    _add_task(
        "symjax_flan_jsonl", JsonlSource(lambda: {"train": flan_source()["jsonl"]}), [preprocessors.jsonl],
        metrics.sql_execution_metrics,
    )
    # zero-shot eval
    for bench in TEMPLATE_BENCHMARKS:
        splits = ("test",) if bench == "svamp" else ("validation", "test")
        for k in range(num_templates(bench)):
            config_fn = eval_prompt_config if bench != "svamp" else None
            source = BenchmarkSource(bench, template=k, splits=splits, config_fn=config_fn)
            _add_benchmark_task(f"symjax_{bench}_template_{k}", source, metrics.METRIC_FNS[bench])
        _add_mixture(f"symjax_{bench}_templates", [f"symjax_{bench}_template_{k}" for k in range(num_templates(bench))],
                     default_rate=1.0)
    wtq_tfds = [f"symjax_wtq_tfds_template_{k}" for k in range(num_templates("wtq"))]
    for k, name in enumerate(wtq_tfds):
        _add_benchmark_task(name, WtqTfdsSource(template=k, config_fn=eval_prompt_config), metrics.wtq_tfds_metrics)
    _add_mixture("symjax_wtq_tfds_templates", wtq_tfds, default_rate=1.0)
    for task in BBH_TASKS:
        _add_benchmark_task(f"symjax_bbh_{task}", BenchmarkSource("bbh", part=task, splits=("test",)),
                            metrics.bbh_metrics)
    for subject in MMLU_SUBJECTS:
        _add_benchmark_task(
            f"symjax_mmlu_{subject}", BenchmarkSource("mmlu", part=subject, config_fn=eval_prompt_config),
            metrics.mmlu_metrics,
        )
    # mixtures
    selected = prompt_selection()
    for bench, k in selected.items():
        if bench in TEMPLATE_BENCHMARKS and k >= num_templates(bench):
            raise ValueError(f"prompt selection picks template {k} of {bench}, which has {num_templates(bench)}")
    table_tasks = [f"symjax_{b}_template_{selected.get(b, 0)}" for b in TABLE_QA]
    _add_mixture("symjax_table_qa", table_tasks, default_rate=1.0)
    _add_mixture("symjax_bbh", [f"symjax_bbh_{t}" for t in BBH_TASKS], default_rate=1.0)
    _add_mixture("symjax_mmlu", [f"symjax_mmlu_{s}" for s in MMLU_SUBJECTS], default_rate=1.0)
    _add_mixture(
        "symjax_eval",
        table_tasks + [f"symjax_svamp_template_{selected.get('svamp', 0)}"]
        + [f"symjax_bbh_{t}" for t in BBH_TASKS] + [f"symjax_mmlu_{s}" for s in MMLU_SUBJECTS],
        default_rate=1.0,
    )
    _register_sql_flan()
    _registered = True
    return tuple(_tasks + _mixtures)


def _register_sql_flan() -> None:
    flan = flan_source()
    sql_rate, flan_rate = flan["rate"]
    name = flan["mixture"]
    if name is None:
        flan_part: Any = "symjax_flan_jsonl"
    elif name in seqio.MixtureRegistry.names() or name in seqio.TaskRegistry.names():
        flan_part = name
    else:
        log.warning(
            "symjax_sql_flan is not registered: the FLAN mixture %r is not registered yet; import its module "
            "before symjax.tasks, or call symjax.tasks.set_flan_source(mixture=%r) after importing it", name, name,
        )
        return
    _add_mixture("symjax_sql_flan", [("symjax_sql_execution", sql_rate), (flan_part, flan_rate)])
