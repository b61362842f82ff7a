"""Stage 2, queries one at a time: the plan, what the sampler is asked for, and the executor.

* :mod:`symjax.sql.query.plan`: the query plan as data (small frozen dataclasses);
* :mod:`symjax.sql.query.families`: the query families, their default weights and
  :class:`SamplerConfig` (the batched sampler itself is :mod:`symjax.sql.lane`);
* :mod:`symjax.sql.query.executor`: plans run on numba kernels with SQLite's semantics;
* :mod:`symjax.sql.query.parse`: external SQL (sqlglot) into plans;
* :mod:`symjax.sql.query.render`: plans printed as SQL;
* :mod:`symjax.sql.query.questions`: plans asked in English (the wording in
  :mod:`symjax.sql.query.question_wording`), answered by the plan's verified answer;
* ``_kernels``: the executor's numba kernels (aggregates, ordering, grouping), which the
  lane reuses.
"""
from symjax.sql.query.executor import Result, execute, execute_plan, run_plan
from symjax.sql.query.families import (
           DEFAULT_FAMILY_WEIGHTS,
           DIFFICULTIES,
           FAMILIES,
           SamplerConfig,
)
from symjax.sql.query.parse import parse_sql
from symjax.sql.query.questions import question
from symjax.sql.query.render import SQL_STYLES, render, render_literal, transpile

__all__ = ["Result", "execute", "execute_plan", "run_plan", "DEFAULT_FAMILY_WEIGHTS", "DIFFICULTIES",
           "FAMILIES", "SamplerConfig", "parse_sql", "question", "SQL_STYLES", "render", "render_literal", "transpile"]
