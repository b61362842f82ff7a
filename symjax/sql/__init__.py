"""symjax.sql: the data core. Pure numpy/numba: importing it pulls in no TensorFlow or JAX.

Laid out by stage; each stage imports only the ones before it:

* the table: :class:`Table` (:mod:`symjax.sql.table`), readers (:mod:`symjax.sql.io`) and
  type inference (:mod:`symjax.sql.infer`);
* :mod:`symjax.sql.text`: answer text, linearization and truncation, tokenizers;
* :mod:`symjax.sql.synth`: synthetic Wikipedia-like tables;
* :mod:`symjax.sql.query`: the plan as data, the families (:class:`SamplerConfig`), the
  executor with SQLite's semantics, the SQL parser and renderer, plans asked in English;
* :mod:`symjax.sql.lane`: a block's queries, sampled, executed and rendered in one kernel
  call;
* :mod:`symjax.sql.stream`: blocks into prompted examples (:func:`examples`) or token ids
  fitted to a model's lengths (:func:`encode_blocks`);
* :mod:`symjax.sql.export`: TFRecord and JSONL files.
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
from symjax.sql.query.questions import question
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
    split_row,
)
from symjax.sql.text.linearize import STYLES as TABLE_STYLES
from symjax.sql.text.linearize import linearize, truncate_table

__all__ = [
    "COLUMN_TYPES", "DATE", "INTEGER", "REAL", "TEXT", "Table", "dedupe_header", "format_number",
    "EMPTY_ANSWER", "answer_text", "canonical_answer", "split_answer", "split_row",
    "Result", "execute", "execute_plan", "run_plan",
    "DEFAULT_FAMILY_WEIGHTS", "FAMILIES", "SamplerConfig", "sample_query",
    "from_dataframe", "read_csv", "read_jsonl", "read_table", "read_table_dir", "read_tabfact",
    "read_wtq", "table_from_rows",
    "TABLE_STYLES", "linearize", "truncate_table", "parse_sql", "SQL_STYLES", "render", "transpile",
    "question",
    "INSTRUCTIONS", "Example", "StreamConfig", "examples", "EncodedExamples", "encode_blocks",
]


def __getattr__(name):
    # The synthetic generator loads its word lists lazily.
    if name in ("TableConfig", "generate_table", "synthetic_tables", "ARCHETYPES"):
        from symjax.sql.synth import tables

        return getattr(tables, name)
    raise AttributeError(f"module 'symjax.sql' has no attribute {name!r}")
