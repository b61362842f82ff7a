"""The pre-registered miniature of the paper's effect (README "The miniature"): does
executing SQL teach table reasoning that carries over to questions asked in words?

Every plan the sampler draws has one verified answer, so the same query can be shown as
SQL (``StreamConfig(view="sql")``) or asked in English (``view="question"``). The
miniature trains a small T5 from scratch on CPU in two arms with the same steps and
batch:

* arm A (``symjax_miniature_arm_a``): English questions of the :data:`SEEN_FAMILIES`;
* arm B (``symjax_miniature_arm_b``): the same questions and SQL execution of all
  :data:`FAMILIES` (:data:`SEEN_FAMILIES` and :data:`HELD_OUT_FAMILIES`), 3 questions to
  1 SQL example (the paper's 1 SQL : 3 other);

then scores both zero-shot on English questions of the :data:`HELD_OUT_FAMILIES` (never
asked in words in either arm) and of the seen ones, per family, against the majority
baseline. The tables are small medal tables whose answers are one value, so that a model
of about a million parameters learns something in minutes. What is fixed here was fixed
before the first run (see the README); changing it after seeing results defeats it.
"""
from __future__ import annotations

__all__ = ["SEEN_FAMILIES", "HELD_OUT_FAMILIES", "FAMILIES", "SQL_RATE", "QUESTION_RATE",
           "TASKS", "MIXTURES", "stream_config"]

#: asked in English in training (both arms)
SEEN_FAMILIES = ("select_where", "count", "aggregate", "superlative")
#: never asked in English in training; arm B executes their SQL
HELD_OUT_FAMILIES = ("arithmetic", "compare", "nested", "column_compare")
FAMILIES = SEEN_FAMILIES + HELD_OUT_FAMILIES
#: arm B's mixing rates: 3 question examples to 1 SQL example
QUESTION_RATE, SQL_RATE = 3.0, 1.0

#: task name -> (view, families)
TASKS = {
    "symjax_table_questions_mini_seen": ("question", SEEN_FAMILIES),
    "symjax_table_questions_mini_held_out": ("question", HELD_OUT_FAMILIES),
    "symjax_sql_execution_mini_all": ("sql", FAMILIES),
}
#: mixture name -> {task: rate}
MIXTURES = {
    "symjax_miniature_arm_a": {"symjax_table_questions_mini_seen": 1.0},
    "symjax_miniature_arm_b": {"symjax_table_questions_mini_seen": QUESTION_RATE,
                               "symjax_sql_execution_mini_all": SQL_RATE},
    "symjax_miniature_eval": {"symjax_table_questions_mini_seen": 1.0,
                              "symjax_table_questions_mini_held_out": 1.0},
}


def stream_config(view: str, families: tuple[str, ...]):
    """The stream of a miniature task: medal tables of 2 to 4 rows, easy queries with
    one-value answers, inputs of at most 384 bytes."""
    from symjax.sql import SamplerConfig, StreamConfig, TableConfig

    return StreamConfig(
        table_config=TableConfig(min_rows=2, max_rows=4, row_median=2.6, row_p90=3.6,
                                 archetypes=("medal_table",)),
        sampler=SamplerConfig(family_weights={f: 1.0 for f in families}, difficulty="easy",
                              max_answer_values=1),
        sql_style="tapex", table_style="indexed", view=view,
        max_input_chars=384, sql_reserve_chars=200, max_cell_chars=16,
    )
