"""Stage 3, the batched query lane: all the queries of one stream block in one kernel call.

* :mod:`symjax.sql.lane.blocks`: :func:`sample_block` (the one way a block's queries are
  made), :func:`sample_query`, :class:`Block`, :func:`decode_plan`;
* the private numba kernels, one file per step: ``_layout`` (the plan row, tokens and
  answers as data), ``_strings`` (ranking a table's strings, preparing its arrays),
  ``_conditions`` and ``_families`` (sampling: WHERE terms, then one small kernel per
  family behind a dispatcher), ``_execution`` (running a plan row, the ambiguity rules),
  ``_emit`` (SQL tokens and the UTF-8 texts), ``_kernels`` (the entry point,
  ``sample_block``).
"""
from symjax.sql.lane.blocks import (
    Block,
    decode_plan,
    family_cdf,
    sample_block,
    sample_query,
)

__all__ = ["Block", "decode_plan", "family_cdf", "sample_block", "sample_query"]
