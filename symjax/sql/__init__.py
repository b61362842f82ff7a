"""symjax.sql: the data core. Pure numpy/numba: importing it pulls in no TensorFlow or JAX.

Tables (:class:`Table`, loaders in :mod:`symjax.sql.io` with type inference in
:mod:`symjax.sql.infer`, synthetic Wikipedia-like tables in
:mod:`symjax.sql.synth.tables`), query plans (:mod:`symjax.sql.query.plan`) sampled by family
(:mod:`symjax.sql.query.families`), executed by numba kernels with SQLite's semantics
(:mod:`symjax.sql.query.executor`), rendered as SQL (:mod:`symjax.sql.query.render`), parsed from
external SQL (:mod:`symjax.sql.query.parse`), linearized (:mod:`symjax.sql.text.linearize`), and
streamed as prompted examples (:func:`examples`), whose queries come a block at a time
from the batched numba lane (:mod:`symjax.sql.lane`), or as token ids fitted to a model's
lengths (:func:`encode_blocks`, with a :mod:`symjax.sql.text.tokens` tokenizer).
"""
from symjax.sql.io import (
    from_dataframe,
    read_csv,
    read_jsonl,
    read_tabfact,
    read_table,
    read_table_dir,
    read_wtq,
    table_from_rows,
)
from symjax.sql.lane import sample_query
from symjax.sql.query.executor import Result, execute, execute_plan, run_plan
from symjax.sql.query.families import DEFAULT_FAMILY_WEIGHTS, FAMILIES, SamplerConfig
from symjax.sql.query.parse import parse_sql
from symjax.sql.query.render import SQL_STYLES, render, transpile
from symjax.sql.stream import (
    INSTRUCTIONS,
    EncodedExamples,
    Example,
    StreamConfig,
    encode_blocks,
    examples,
)
from symjax.sql.table import (
    COLUMN_TYPES,
    DATE,
    INTEGER,
    REAL,
    TEXT,
    Table,
    dedupe_header,
    format_number,
)
from symjax.sql.text.answers import (
    EMPTY_ANSWER,
    answer_text,
    canonical_answer,
    split_answer,
)
from symjax.sql.text.linearize import STYLES as TABLE_STYLES
from symjax.sql.text.linearize import linearize, truncate_table

__all__ = [
    "COLUMN_TYPES", "DATE", "INTEGER", "REAL", "TEXT", "Table", "dedupe_header", "format_number",
    "EMPTY_ANSWER", "answer_text", "canonical_answer", "split_answer",
    "Result", "execute", "execute_plan", "run_plan",
    "DEFAULT_FAMILY_WEIGHTS", "FAMILIES", "SamplerConfig", "sample_query",
    "from_dataframe", "read_csv", "read_jsonl", "read_table", "read_table_dir", "read_tabfact",
    "read_wtq", "table_from_rows",
    "TABLE_STYLES", "linearize", "truncate_table", "parse_sql", "SQL_STYLES", "render", "transpile",
    "INSTRUCTIONS", "Example", "StreamConfig", "examples", "EncodedExamples", "encode_blocks",
]


def __getattr__(name):
    # The synthetic generator loads its word lists lazily.
    if name in ("TableConfig", "generate_table", "synthetic_tables", "ARCHETYPES"):
        from symjax.sql.synth import tables

        return getattr(tables, name)
    raise AttributeError(f"module 'symjax.sql' has no attribute {name!r}")
