"""Stage 1, synthetic tables: Wikipedia-like tables drawn from a seed.

* :mod:`symjax.sql.synth.tables`: the archetypes, :class:`TableConfig` and
  :func:`generate_table` (one kernel call per table);
* :mod:`symjax.sql.synth.vocab`: the word lists the tables' text comes from;
* ``_table_kernels`` (a table's shape and cells) and ``_column_kernels`` (one kernel per
  kind of column): the private numba kernels.

Nothing is imported here: the word lists load on first use (``symjax.sql.TableConfig``
and ``symjax.sql.generate_table`` reach this stage lazily).
"""
