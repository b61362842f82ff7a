"""The wording of :mod:`symjax.sql.query.questions`: phrase tables and question templates.

Data only, kept apart from the code that walks a plan so that the English can be read
(and extended) in one place. Templates are ``str.format`` strings whose slots
:mod:`~symjax.sql.query.questions` fills with column names, values and clauses:

* ``{s}`` what a question asks for (a column, several columns, a column expression) and
  ``{be}`` its verb; ``{c}``, ``{g}``, ``{k}`` a column (the grouped one, the ordering key);
* ``{p}``, ``{q}`` a condition clause ("rows where {p}"); ``{where}`` an optional filter
  phrase that starts with a space, or is empty; ``{among}`` the same as a leading
  "among the rows where ..., " (the question is capitalized afterwards);
* ``{sup}`` / ``{other}`` a pair of extremes ("highest" / "lowest", "latest" / "earliest").

Each template set holds several paraphrases, one picked by seed. A condition's phrase
table holds each operator's variants and, apart, those without "and" / "or": inside AND /
OR only these are used, so that a condition's own words cannot be read as the join.
"""
from __future__ import annotations

__all__ = [
    "with_safe_variants", "CONDITIONS", "NOT_EQUAL_FILLED", "COLUMN_CONDITIONS", "COLUMNS_DIFFER_FILLED",
    "RELATIONS", "EXTREMES", "FILTER_SUFFIXES", "NULL_VALUE_NOTE", "NULL_ORDER_NOTE",
    "NULL_EXPRESSION_ORDER_NOTE", "NULL_EXPRESSION_SKIP_NOTE", "ROW_LIST", "ALL_ROWS_LIST", "NEXT_ROW",
    "ROW_STEPS", "AT_EXTREME", "AT_FILTERED_EXTREME", "VERSUS_AVERAGE", "DISTINCT_VALUES", "TOP_ONE",
    "TOP_SEVERAL", "SORTED", "COUNT_ROWS", "COUNT_ALL_ROWS", "COUNT_DISTINCT", "COUNT_FILLED",
    "AGGREGATE_OF_COLUMN", "AGGREGATE_OF_EXPRESSION", "EXPRESSION_AGGREGATE_WORDS", "MOST_FREQUENT",
    "GROUP_TOP", "GROUP_TOP_SEVERAL", "GROUP_COUNT", "GROUP_MEASURE", "GROUP_VALUES", "SET_OPERATIONS",
    "DIFFERENCE_OF_TWO", "SAME_COLUMN_DIFFERENCE", "SUM_OF_TWO", "ABSOLUTE_DIFFERENCE_OF_TWO",
    "SAME_COLUMN_ABSOLUTE", "COMPARISON_OF_TWO",
]

Variants = tuple[str, ...]


def with_safe_variants(table: dict[str, Variants]) -> dict[str, tuple[Variants, Variants]]:
    """Each entry as (all variants, the variants without " and " / " or ")."""
    out = {}
    for key, variants in table.items():
        safe = tuple(v for v in variants if " and " not in v and " or " not in v)
        if not safe:
            raise ValueError(f"phrase table entry {key!r} needs a variant without 'and'/'or', got {variants!r}")
        out[key] = (variants, safe)
    return out


# ---------------------------------------------------------------------------- conditions
#: ``column <op> value`` by the column's kind; ``{v}`` is the value's text
CONDITIONS = {
    "number": with_safe_variants({
        "=": ("is {v}", "equals {v}", "is equal to {v}"),
        "!=": ("is not {v}", "is different from {v}", "does not equal {v}"),
        "<": ("is less than {v}", "is below {v}", "is smaller than {v}"),
        ">": ("is greater than {v}", "is above {v}", "is more than {v}"),
        "<=": ("is at most {v}", "is no more than {v}", "is {v} or less", "is less than or equal to {v}"),
        ">=": ("is at least {v}", "is no less than {v}", "is {v} or more", "is greater than or equal to {v}"),
    }),
    "date": with_safe_variants({
        "=": ("is {v}", "is on {v}", "falls on {v}"),
        "!=": ("is not {v}", "is a date other than {v}", "does not fall on {v}"),
        "<": ("is before {v}", "is earlier than {v}"),
        ">": ("is after {v}", "is later than {v}"),
        "<=": ("is on or before {v}", "is no later than {v}"),
        ">=": ("is on or after {v}", "is no earlier than {v}"),
    }),
    # text orders by character code, as SQLite compares text
    "text": with_safe_variants({
        "=": ("is {v}", "equals {v}", "is exactly {v}"),
        "!=": ("is not {v}", "is different from {v}", "is something other than {v}"),
        "<": ("comes alphabetically before {v}", "sorts before {v} alphabetically"),
        ">": ("comes alphabetically after {v}", "sorts after {v} alphabetically"),
        "<=": ("sorts no later than {v} alphabetically", "is {v} or comes alphabetically before it"),
        ">=": ("sorts no earlier than {v} alphabetically", "is {v} or comes alphabetically after it"),
    }),
}
#: ``column != value`` where the column has empty cells (SQL leaves those rows out)
NOT_EQUAL_FILLED = with_safe_variants({
    "!=": ("has a value other than {v}", "is filled in and is not {v}", "is not empty and differs from {v}"),
})["!="]

#: ``column <op> other column`` by kind; ``{o}`` is the other column's name
COLUMN_CONDITIONS = {
    "number": with_safe_variants({
        "=": ("equals {o}", "is equal to {o}", "is the same as {o}"),
        "!=": ("differs from {o}", "is not equal to {o}", "is different from {o}"),
        "<": ("is less than {o}", "is smaller than {o}", "is below {o}"),
        ">": ("is greater than {o}", "is larger than {o}", "exceeds {o}"),
        "<=": ("is at most {o}", "is less than or equal to {o}", "does not exceed {o}"),
        ">=": ("is at least {o}", "is greater than or equal to {o}", "is no less than {o}"),
    }),
    "date": with_safe_variants({
        "=": ("is the same date as {o}", "falls on the same date as {o}"),
        "!=": ("is a different date from {o}", "differs from {o}"),
        "<": ("is before {o}", "is earlier than {o}"),
        ">": ("is after {o}", "is later than {o}"),
        "<=": ("is on or before {o}", "is no later than {o}"),
        ">=": ("is on or after {o}", "is no earlier than {o}"),
    }),
    "text": with_safe_variants({
        "=": ("is the same as {o}", "equals {o}"),
        "!=": ("differs from {o}", "is different from {o}"),
        "<": ("comes alphabetically before {o}", "sorts before {o}"),
        ">": ("comes alphabetically after {o}", "sorts after {o}"),
        "<=": ("sorts no later than {o}", "is {o} or comes alphabetically before it"),
        ">=": ("sorts no earlier than {o}", "is {o} or comes alphabetically after it"),
    }),
}
#: ``a != b`` where either column has empty cells: whole clauses, ``{c}`` the first column
COLUMNS_DIFFER_FILLED = with_safe_variants({
    "!=": ("{c} differs from a filled-in {o}, being filled in itself",
           "{c} and {o} are both filled in and differ"),
})["!="]

#: two values compared by ``SELECT (sub) <op> (sub)``: "is a <relation> b"
RELATIONS = {
    "number": {
        "=": ("equal to", "the same as"),
        "!=": ("different from", "not equal to"),
        "<": ("less than", "smaller than"),
        ">": ("greater than", "larger than"),
        "<=": ("less than or equal to", "at most as large as"),
        ">=": ("greater than or equal to", "at least as large as"),
    },
    "date": {
        "=": ("the same date as", "equal to"),
        "!=": ("a different date from", "different from"),
        "<": ("earlier than", "before"),
        ">": ("later than", "after"),
        "<=": ("the same as or earlier than", "no later than"),
        ">=": ("the same as or later than", "no earlier than"),
    },
    "text": {
        "=": ("the same as", "identical to"),
        "!=": ("different from", "not the same as"),
        "<": ("alphabetically before", "earlier in alphabetical order than"),
        ">": ("alphabetically after", "later in alphabetical order than"),
        "<=": ("the same as or alphabetically before", "not alphabetically after"),
        ">=": ("the same as or alphabetically after", "not alphabetically before"),
    },
}

#: (highest, lowest) word pairs for ordering by a column of each kind
EXTREMES = {
    "number": (("highest", "lowest"), ("largest", "smallest"), ("maximum", "minimum")),
    "date": (("latest", "earliest"), ("most recent", "earliest")),
    "text": (("alphabetically last", "alphabetically first"),),
}

FILTER_SUFFIXES = (" among the rows where {p}", " over the rows where {p}", " for the rows in which {p}",
                   " in the rows where {p}")
NULL_VALUE_NOTE = " An empty {c} counts as a value of its own."
NULL_ORDER_NOTE = " An empty {c} counts as lower than any value."
NULL_EXPRESSION_ORDER_NOTE = " A row with an empty {a} or {b} counts as lower than any value."
NULL_EXPRESSION_SKIP_NOTE = " Rows with an empty {a} or {b} are left out."

# ---------------------------------------------------------------------------- rows
ROW_LIST = (
    "List the {s} for every row where {p}.",
    "Give the {s} of each row in which {p}.",
    "For every row where {p}, what {be} the {s}?",
    "Show the {s} of all rows in which {p}.",
    "What {be} the {s} in the rows where {p}?",
)
ALL_ROWS_LIST = ("List the {s} for every row.", "Give the {s} of each row.", "What {be} the {s} in every row?")
#: ``rowid = (SELECT rowid ... WHERE p) + 1`` (``after``/``below``/``next``, or before/above/previous)
NEXT_ROW = (
    "What {be} the {s} of the row right {after} the row where {p}?",
    "In the row directly {below} the one where {p}, what {be} the {s}?",
    "Find the row where {p}; what {be} the {s} of the {next} row?",
    "Give the {s} of the row that comes just {after} the row where {p}.",
)
ROW_STEPS = (
    "What {be} the {s} of the row {k} rows {after} the row where {p}?",
    "Counting {k} rows {below} the row where {p}, what {be} the {s} there?",
    "Give the {s} of the row that comes {k} rows {after} the row where {p}.",
)
#: ``"c" = (SELECT MAX("c") FROM w)``: every row at the extreme (ties included)
AT_EXTREME = (
    "List the {s} of every row whose {c} is the {sup} {c}{in_table}.",
    "Which rows have the {sup} {c}? Give the {s} of each.",
    "For the row or rows with the {sup} {c}, what {be} the {s}?",
)
#: ``"c" = (SELECT MAX("c") FROM w WHERE p)``: the rows compared are not limited to p
AT_FILTERED_EXTREME = (
    "List the {s} of every row whose {c} equals the {sup} {c} among the rows where {p}.",
    "Find the {sup} {c} among the rows where {p}; give the {s} of every row with that {c}.",
    "Take the {sup} {c} over the rows in which {p}. What {be} the {s} of each row whose {c} is equal to it?",
)
VERSUS_AVERAGE = (
    "List the {s} of every row whose {c} is {side} the average {c}.",
    "Which rows have a {c} {side} the average {c}? Give the {s} of each.",
    "For the rows with a {c} {side} the average {c}, what {be} the {s}?",
)
DISTINCT_VALUES = (
    "What are the different {vals}{where}?",
    "List every distinct {val}{where}, each once.",
    "Which {vals} occur{where}? Give each value once.",
    "Name each different {val}{where} once.",
)

# ---------------------------------------------------------------------------- ORDER BY ... LIMIT
TOP_ONE = (
    "What {be} the {s} of the row with the {sup} {k}{where}?",
    "{among}which row has the {sup} {k}? Give its {s}.",
    "Find the row with the {sup} {k}{where}, and give its {s}.",
    "Give the {s} of the row whose {k} is the {sup}{where}.",
)
TOP_SEVERAL = (
    "List the {s} of the {n} rows with the {sup} {k}{where}, {sup} first.",
    "Take the {n} rows with the {sup} {k}{where}. Give their {s}, from the {sup} {k} to the {other}.",
    "{among}which {n} rows have the {sup} {k}? List their {s} in order, {sup} {k} first.",
)
SORTED = (
    "List the {s} of every row{where}, sorted by {k} from {sup} to {other}.",
    "{among}sort the rows by {k}, {sup} first, and give the {s} of each.",
    "Going from the {sup} {k} to the {other}, what {be} the {s} of the rows{where}?",
)

# ---------------------------------------------------------------------------- aggregates
COUNT_ROWS = (
    "How many rows are there where {p}?",
    "Count the rows in which {p}.",
    "What is the number of rows where {p}?",
    "In how many rows is it true that {p}?",
)
COUNT_ALL_ROWS = ("How many rows does the table have?", "How many rows are there?",
                  "Count the rows of the table.")
#: ``{ne}`` is "non-empty " when the column has empty cells (COUNT(DISTINCT) skips them)
COUNT_DISTINCT = (
    "How many different {ne}{c} values are there{where}?",
    "Count the distinct {ne}values of {c}{where}.",
    "How many distinct {ne}{c} values appear{where}?",
    "What is the number of different {ne}{c} values{where}?",
)
COUNT_FILLED = (
    "How many rows{where} have a non-empty {c}?",
    "Count the non-empty {c} cells{in_rows}.",
    "{among}in how many rows is {c} filled in?",
)
AGGREGATE_OF_COLUMN = {
    "sum": ("What is the total {c}{where}?", "What do the {c} values add up to{where}?",
            "What is the sum of {c}{where}?", "Add up {c}{where}."),
    "avg": ("What is the average {c}{where}?", "What is the mean {c}{where}?",
            "On average, what is the {c}{where}?", "Compute the average of {c}{where}."),
    "extreme": ("What is the {sup} {c}{where}?", "Find the {sup} {c}{where}.",
                "Which {c} value is the {sup}{where}?"),
}
#: ``SUM("a" - "b")``: ``{e}`` is the expression's noun ("difference "a" minus "b"")
AGGREGATE_OF_EXPRESSION = (
    "What is the {agg} of the {e} over {rows}?",
    "Compute the {e} in each row{where}. What is the {agg} of these values?",
    "Taking the {e} for each row{where}, what is the {agg}?",
)
EXPRESSION_AGGREGATE_WORDS = {"sum": ("sum", "total"), "avg": ("average", "mean"),
                              "min": ("smallest value", "minimum"), "max": ("largest value", "maximum")}

# ---------------------------------------------------------------------------- GROUP BY
#: ``GROUP BY "g" ORDER BY COUNT(*) DESC LIMIT 1`` (True) or ``ASC`` (False)
MOST_FREQUENT = {
    True: ("Which {g} value occurs most often{where}?", "What is the most common {g}{where}?",
           "Which {g} appears in the most rows{where}?", "Which {g} value is the most frequent{where}?"),
    False: ("Which {g} value occurs least often{where}?", "What is the least common {g}{where}?",
            "Which {g} appears in the fewest rows{where}?", "Which {g} value is the least frequent{where}?"),
}
#: ``{m}`` is the groups' measure ("number of non-empty "c" cells", "total "c"", ...)
GROUP_TOP = (
    "Which {g} value has the {sup} {m}{where}?",
    "{grouping}, which group has the {sup} {m}? Give its {g}.",
    "For which {g} is the {m} the {sup}{where}?",
)
GROUP_TOP_SEVERAL = (
    "Which {n} {g} values have the {sup} {m}{where}, {sup} first?",
    "{grouping}, list the {g} of the {n} groups with the {sup} {m}, {sup} first.",
    "List the {n} {g} values whose {m} is the {sup}{where}, in order from the {sup}.",
)
#: ``HAVING COUNT(*) >= 2``: ``{times}`` "at least twice", ``{nrows}`` "at least 2 rows"
GROUP_COUNT = (
    "Which {g} values occur {times}{where}?",
    "List the {g} values that appear in {nrows}{where}.",
    "Which {g} values are found in {nrows}{where}?",
)
#: ``HAVING SUM("c") > 30``: ``{a_m}`` the measure with its article, ``{cmp}`` "is greater than 30"
GROUP_MEASURE = (
    "Which {g} values have {a_m} that {cmp}{where}?",
    "{grouping}, which groups have {a_m} that {cmp}? Give their {g} values.",
    "{among}list each {g} value for which the {m} over its rows {cmp}.",
)
GROUP_VALUES = ("What are the different {g} values{where}?", "List each distinct {g}{where} once.",
                "Which {g} values occur{where}?")

# ---------------------------------------------------------------------------- two sub-selects
#: set operations of one column's values over two groups of rows, ``{p}`` and ``{q}``
SET_OPERATIONS = {
    "UNION": (
        "Which {c} values appear in the rows where {p} or in the rows where {q}? List each once.",
        "Let the first group be the rows where {p} and the second group the rows where {q}. "
        "Which different {c} values occur in either group?",
        "Combine the {c} values of the rows where {p} with those of the rows where {q}: "
        "which different values are there?",
    ),
    "INTERSECT": (
        "Which {c} values appear both in some row where {p} and in some row where {q}?",
        "Let the first group be the rows where {p} and the second group the rows where {q}. "
        "Which {c} values occur in both groups? List each once.",
        "Find every {c} value that occurs in a row where {p} and also in a row where {q}.",
    ),
    "EXCEPT": (
        "Which {c} values appear in rows where {p} but in no row where {q}?",
        "Let the first group be the rows where {p} and the second group the rows where {q}. "
        "Which {c} values occur in the first group but not in the second? List each once.",
        "Take the {c} values of the rows where {p} and remove every value that also occurs in a row where {q}. "
        "Which different values remain?",
    ),
}
#: ``(sub) - (sub)``: ``{a}``, ``{b}`` are the sub-selects' nouns ("the "c" of the row where ...")
DIFFERENCE_OF_TWO = (
    "Take {a} and subtract {b}. What is the result?",
    "Let a be {a}, and b be {b}. What is a minus b?",
    "What do you get when you subtract {b} from {a}?",
    "By how much does {a} exceed {b}? Answer with a negative number if it is smaller.",
)
#: both sub-selects look up one column in two rows
SAME_COLUMN_DIFFERENCE = (
    "What is the difference in {c} between the row where {p} and the row where {q}, "
    "the first minus the second?",
)
SUM_OF_TWO = (
    "What is the sum of {a} and {b}?",
    "Let a be {a}, and b be {b}. What is a plus b?",
    "Add {a} to {b}. What is the total?",
    "What do {a} and {b} add up to?",
)
ABSOLUTE_DIFFERENCE_OF_TWO = (
    "What is the absolute difference between {a} and {b}?",
    "Let a be {a}, and b be {b}. How far apart are a and b, as a non-negative number?",
    "By how much do {a} and {b} differ, ignoring the sign?",
)
SAME_COLUMN_ABSOLUTE = (
    "By how much does the {c} differ between the row where {p} and the row where {q}, ignoring the sign?",
)
#: ``(sub) > (sub)``, answered 1 or 0; ``{rel}`` from :data:`RELATIONS`
COMPARISON_OF_TWO = (
    "Let a be {a}, and b be {b}. Is a {rel} b? Answer 1 for yes, 0 for no.",
    "Compare {a} with {b}: is the first {rel} the second? Answer 1 if so, otherwise 0.",
    "Consider {a} and {b}. Answer 1 if the first is {rel} the second, and 0 if not.",
)
