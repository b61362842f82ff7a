"""The lane's data layout (private): the families' ids, the plan row, the SQL tokens and
the answers, as constants every lane kernel reads and :mod:`symjax.sql.lane.blocks`
decodes with.

**The plan as data.** A query is one row of ``int64`` (``IR_WIDTH`` wide): the family, the
top-level kind (``SELECT``, arithmetic or comparison of two scalar sub-selects) and up to
three SELECT records (``S_*`` fields); a SELECT has up to three ``WHERE`` terms (``T_*``
fields). A literal is a reference (``L_CELL``: a row of the term's column, always the first
row holding that value, so equal plans are equal rows; ``L_INT``: an integer;
``L_TENTHS``: a real given in tenths; ``L_PREFIX``: the first ``n`` characters of a text
cell, for ``LIKE``). :func:`symjax.sql.lane.decode_plan` turns a row into plan objects.

**Rendering** writes token ids: ``FIXED`` fragments, then column identifiers
(``COLUMN_BASE + j``), cell literals (``cell_base + j * num_rows + i``) and special
literals (``spec_base + slot``: numbers and ``LIKE`` patterns, described by the
``spec_*`` arrays). :func:`render_texts` writes the standard-style text of those tokens
(and of the answers) as UTF-8; Python joining the fragments is its reference and the path
for the tapex style, which maps the same tokens.

**Answers** are written as (kind, int, float) triples: ``A_CELL`` (int ``j * num_rows + i``:
the canonical text of that cell), ``A_INT``, ``A_REAL`` (canonical text by
:func:`symjax.sql.table.format_number`), ``A_NULL``; unordered results are already in
canonical order (NULL first, then by key).
"""
from __future__ import annotations

import numpy as np

from symjax.sql.query import _kernels as K

# ---------------------------------------------------------------------------- families
FAMILY_NAMES = (
    "adjacent", "aggregate", "arithmetic", "compare", "count", "count_distinct", "distinct",
    "group_having", "most_frequent", "nested", "select_between", "select_in", "select_like",
    "select_where", "superlative",
    # the SQL people write about tables (added after the first fifteen, so their ids stay)
    "null_test", "column_compare", "column_arithmetic", "abs_difference", "having_aggregate",
    "group_count_column", "set_operation", "multi_column",
)
(F_ADJACENT, F_AGGREGATE, F_ARITHMETIC, F_COMPARE, F_COUNT, F_COUNT_DISTINCT, F_DISTINCT,
 F_GROUP_HAVING, F_MOST_FREQUENT, F_NESTED, F_SELECT_BETWEEN, F_SELECT_IN, F_SELECT_LIKE,
 F_SELECT_WHERE, F_SUPERLATIVE,
 F_NULL_TEST, F_COLUMN_COMPARE, F_COLUMN_ARITHMETIC, F_ABS_DIFFERENCE, F_HAVING_AGGREGATE,
 F_GROUP_COUNT_COLUMN, F_SET_OPERATION, F_MULTI_COLUMN) = range(23)

# ---------------------------------------------------------------------------- plan layout
IR_FAMILY, IR_KIND, IR_OP = 0, 1, 2
Q_SELECT, Q_ARITHMETIC, Q_COMPARISON, Q_SET = 0, 1, 2, 3
ARITH_MINUS, ARITH_PLUS, ARITH_ABS_MINUS = 0, 1, 2  # IR_OP of Q_ARITHMETIC; ABS(a - b)
SET_UNION, SET_INTERSECT, SET_EXCEPT = 0, 1, 2  # IR_OP of Q_SET (of SELECTs 1 and 2)
NUM_SELECTS = 3
MAX_TERMS = 3
MAX_LITERALS = 3

(S_PROJ, S_AGG, S_AGG_COL, S_AGG_DISTINCT, S_DISTINCT, S_NTERMS, S_CONJ, S_GROUP,
 S_HAVING_OP, S_HAVING_N, S_ORDER, S_ORDER_COL, S_DESC, S_LIMIT,
 S_EXPR_AT, S_EXPR_COL, S_EXPR_OP, S_EXPR_ABS, S_HAVING_AGG, S_HAVING_COL, S_PROJ2) = range(21)
S_TERMS = 21
(T_KIND, T_COL, T_OP, T_NLIT, T_SCALAR, T_OFFSET, T_AUX) = range(7)
T_LITS = 7
TERM_WIDTH = T_LITS + 2 * MAX_LITERALS
SELECT_WIDTH = S_TERMS + MAX_TERMS * TERM_WIDTH
SELECT_BASE = 3
IR_WIDTH = SELECT_BASE + NUM_SELECTS * SELECT_WIDTH

PROJ_AGGREGATE = -2  # S_PROJ when the SELECT projects an aggregate (S_AGG)
# Column arithmetic ``"a" - "b"`` / ``"a" + "b"`` (S_EXPR_OP, S_EXPR_COL = "b", S_EXPR_ABS:
# inside ABS(...)) stands, per S_EXPR_AT, for the projected column (a = S_PROJ), the
# aggregate's column (a = S_AGG_COL) or the ORDER BY column (a = S_ORDER_COL).
EXPR_NONE, EXPR_PROJ, EXPR_AGG, EXPR_ORDER = 0, 1, 2, 3
NO_COLUMN = -1  # S_PROJ2 (a second projected column) and S_HAVING_COL when unused
NO_GROUP = -9
NO_LIMIT = -1
ORDER_NONE, ORDER_COLUMN, ORDER_COUNT, ORDER_COUNT_COLUMN = 0, 1, 2, 3  # COUNT(S_ORDER_COL)
CONJ_AND, CONJ_OR = 0, 1
# TERM_NULL: T_COL IS NULL (T_OP 0) / IS NOT NULL (T_OP 1); TERM_COLUMN: T_COL T_OP T_AUX
TERM_CMP, TERM_BETWEEN, TERM_IN, TERM_LIKE, TERM_NULL, TERM_COLUMN = 0, 1, 2, 3, 4, 5
L_CELL, L_INT, L_TENTHS, L_PREFIX = 0, 1, 2, 3
ROWID = K.ROWID_COLUMN

# answers
A_CELL, A_INT, A_REAL, A_NULL = 0, 1, 2, 3

# ---------------------------------------------------------------------------- tokens
FIXED = (
    "SELECT ", "DISTINCT ", " FROM w", " WHERE ", " AND ", " OR ", "(", ")", " GROUP BY ",
    " HAVING ", "COUNT(*)", " ORDER BY ", " DESC", " ASC", " LIMIT ",
    " = ", " != ", " < ", " > ", " <= ", " >= ",
    " BETWEEN ", " IN (", ", ", " LIKE ", "COUNT(", "SUM(", "AVG(", "MIN(", "MAX(",
    " + ", " - ", "rowid", "0", "1", "2", "3", "4", "5", "6", "7", "8", "9",
    " IS NULL", " IS NOT NULL", "ABS(", " UNION ", " INTERSECT ", " EXCEPT ",
)
(TK_SELECT, TK_DISTINCT, TK_FROM, TK_WHERE, TK_AND, TK_OR, TK_LPAREN, TK_RPAREN, TK_GROUP,
 TK_HAVING, TK_COUNT_STAR, TK_ORDER, TK_DESC, TK_ASC, TK_LIMIT) = range(15)
TK_OP0 = 15  # + K.OP_EQ .. K.OP_GE
TK_BETWEEN, TK_IN, TK_COMMA, TK_LIKE = 21, 22, 23, 24
TK_AGG0 = 25  # + (AGG_COUNT .. AGG_MAX) - 1
TK_PLUS, TK_MINUS, TK_ROWID, TK_DIGIT0 = 30, 31, 32, 33
TK_IS_NULL, TK_IS_NOT_NULL, TK_ABS, TK_SET0 = 43, 44, 45, 46  # TK_SET0 + SET_UNION .. SET_EXCEPT
COLUMN_BASE = len(FIXED)
MAX_TOKENS = 96  # per query; the longest plans render to about 45 (tests/test_lane.py)
SPEC_PER_QUERY = 12

# spec (special literal) kinds, in spec_kind
SPEC_INT, SPEC_TENTHS, SPEC_PREFIX = 1, 2, 3

# the fixed fragments as the kernels write them, NUL-terminated; FIXED_OFF[t] starts token t
_FIXED_JOINED = "\0".join(FIXED) + "\0"
FIXED_BYTES = np.frombuffer(_FIXED_JOINED.encode("ascii"), dtype=np.uint8)
FIXED_OFF = np.array([0] + [i + 1 for i, c in enumerate(_FIXED_JOINED) if c == "\0"], dtype=np.int64)
NONE_BYTES = np.frombuffer(b"none", dtype=np.uint8)  # symjax.sql.text.answers.NULL_VALUE
TEXTS_OK, TEXTS_NEED_PYTHON = 0, 1
