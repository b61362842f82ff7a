"""Stage 0, text: what the model reads and what it must write.

* :mod:`symjax.sql.text.answers`: the one definition of answer text (targets and metrics);
* :mod:`symjax.sql.text.linearize`: tables as text (``tapex``, ``indexed``, ``markdown``)
  and their truncation to a budget;
* :mod:`symjax.sql.text.tokens`: tokenizers that fit examples to a model's lengths;
* ``_text_kernels``: the numba kernels that write UTF-8 (numbers, quoted strings,
  linearizations), shared by every stage that writes text.
"""
from symjax.sql.text.answers import (
           EMPTY_ANSWER,
           NULL_VALUE,
           answer_text,
           canonical_answer,
           split_answer,
           split_row,
)
from symjax.sql.text.linearize import (
           STYLES,
           fits_as_is,
           linearize,
           linearized_length,
           truncate_table,
)
from symjax.sql.text.tokens import ByteTokenizer, FunctionTokenizer, Tokenizer

__all__ = ["EMPTY_ANSWER", "NULL_VALUE", "answer_text", "canonical_answer", "split_answer", "split_row", "STYLES",
           "fits_as_is", "linearize", "linearized_length", "truncate_table", "ByteTokenizer",
           "FunctionTokenizer", "Tokenizer"]
