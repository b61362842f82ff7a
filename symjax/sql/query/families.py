"""Query families and the sampler that draws well-defined queries from them.

Each family is a template of a query plan whose columns and literals are sampled from the
table (literals are mostly real cell values, so predicates select something). Together
they cover what TAPEX/SQUALL SQL covers:

=================  ==========================================================================
family             example (standard style)
=================  ==========================================================================
select_where       ``SELECT "Film" FROM w WHERE "Year" > 2004 AND "Role" != 'Anna'``
select_in          ``SELECT "Nation" FROM w WHERE "Rank" IN (1, 3)``
select_between     ``SELECT "Opponent" FROM w WHERE "Date" BETWEEN '2001-03-05' AND '2001-04-01'``
select_like        ``SELECT "Title" FROM w WHERE "Title" LIKE 'Th%'``
count              ``SELECT COUNT(*) FROM w WHERE "Venue" = 'Home'``
count_distinct     ``SELECT COUNT(DISTINCT "Label") FROM w``
aggregate          ``SELECT AVG("Attendance") FROM w WHERE "Result" = 'W'`` (SUM/AVG/MIN/MAX)
superlative        ``SELECT "City" FROM w ORDER BY "Population" DESC LIMIT 1``
most_frequent      ``SELECT "Nation" FROM w GROUP BY "Nation" ORDER BY COUNT(*) DESC LIMIT 1``
group_having       ``SELECT "Label" FROM w GROUP BY "Label" HAVING COUNT(*) >= 2``
distinct           ``SELECT DISTINCT "Venue" FROM w WHERE "Attendance" > 20000``
arithmetic         ``SELECT (SELECT "Gold" FROM w WHERE "Nation" = 'Kenya') - (SELECT ...)``
compare            ``SELECT (SELECT "Votes" FROM w WHERE ...) > (SELECT "Votes" FROM w WHERE ...)``
nested             ``SELECT "Athlete" FROM w WHERE "Time" = (SELECT MIN("Time") FROM w)``
adjacent           ``SELECT "Film" FROM w WHERE rowid = (SELECT rowid FROM w WHERE ...) + 1``
null_test          ``SELECT COUNT(*) FROM w WHERE "Notes" IS NULL`` (also ``IS NOT NULL``)
column_compare     ``SELECT "Nation" FROM w WHERE "Gold" > "Silver"``
column_arithmetic  ``SELECT "Won" - "Lost" FROM w WHERE ...``, ``SUM("Home" + "Away")``,
                   ``MAX(ABS("Won" - "Lost"))``, ``... ORDER BY "Gold" + "Silver" DESC LIMIT 1``
abs_difference     ``SELECT ABS((SELECT "Votes" FROM w WHERE ...) - (SELECT "Votes" FROM w WHERE ...))``
having_aggregate   ``SELECT "Team" FROM w GROUP BY "Team" HAVING SUM("Goals") > 30`` (also
                   AVG/MIN/MAX and ``COUNT("col")``)
group_count_column ``SELECT "Team" FROM w GROUP BY "Team" ORDER BY COUNT("Score") DESC LIMIT 1``
set_operation      ``SELECT "Name" FROM w WHERE ... INTERSECT SELECT "Name" FROM w WHERE ...``
                   (also ``UNION``, ``EXCEPT``)
multi_column       ``SELECT "Name", "Year" FROM w WHERE ...`` (answers ``Ann | 2001, ...``)
=================  ==========================================================================

:mod:`symjax.sql.lane` draws them in batches (numba): a family by weight, a plan, its
execution, and the plan is kept only if its result is unambiguous (see
:mod:`symjax.sql.query.executor`), non-empty (unless ``allow_empty``), free of NULL values
(unless ``allow_null``) and within the answer-size limit; otherwise it tries again. This
module holds what the sampler is asked for: the families' names, their default weights
and :class:`SamplerConfig`.
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Mapping

from symjax.errors import ConfigError

__all__ = ["FAMILIES", "DEFAULT_FAMILY_WEIGHTS", "DIFFICULTIES", "SamplerConfig"]

DEFAULT_FAMILY_WEIGHTS: dict[str, float] = {
    "select_where": 3.0,
    "select_in": 0.7,
    "select_between": 0.7,
    "select_like": 0.6,
    "count": 1.5,
    "count_distinct": 0.6,
    "aggregate": 1.5,
    "superlative": 2.0,
    "most_frequent": 0.8,
    "group_having": 0.5,
    "distinct": 0.6,
    "arithmetic": 1.0,
    "compare": 0.8,
    "nested": 1.0,
    "adjacent": 0.8,
    # the SQL people write about tables beyond the first fifteen (the README's table of
    # families against TAPEX's SQL categories)
    "null_test": 0.4,
    "column_compare": 0.6,
    "column_arithmetic": 0.8,
    "abs_difference": 0.4,
    "having_aggregate": 0.5,
    "group_count_column": 0.4,
    "set_operation": 0.5,
    "multi_column": 0.7,
}
DIFFICULTIES = {"easy": 1, "medium": 2, "hard": 3}
_LATER = ("null_test", "column_compare", "column_arithmetic", "abs_difference", "having_aggregate",
          "group_count_column", "set_operation", "multi_column")
#: the family names in the kernels' order (a family's id is its index): the first fifteen
#: sorted, then those added later in the order they came
FAMILIES: tuple[str, ...] = tuple(sorted(set(DEFAULT_FAMILY_WEIGHTS) - set(_LATER))) + _LATER


@dataclass(frozen=True)
class SamplerConfig:
    """What the sampler draws.

    ``family_weights``: relative weights by family name (missing families get 0; ``None``
    means :data:`DEFAULT_FAMILY_WEIGHTS`). ``difficulty``: ``easy`` (one condition per
    ``WHERE``), ``medium`` (up to two), ``hard`` (up to three, more OR). ``max_answer_values``:
    the most values an answer may have. ``allow_empty`` / ``allow_null``: keep queries whose
    result is empty / contains NULL. ``max_attempts``: tries per query before giving up.
    """

    family_weights: Mapping[str, float] | None = None
    difficulty: str = "medium"
    max_answer_values: int = 10
    allow_empty: bool = False
    allow_null: bool = False
    max_attempts: int = 50

    def __post_init__(self):
        weights = DEFAULT_FAMILY_WEIGHTS if self.family_weights is None else dict(self.family_weights)
        for name, w in weights.items():
            if name not in FAMILIES:
                raise ConfigError(f"unknown query family {name!r}; valid families: {sorted(FAMILIES)}")
            if not (isinstance(w, (int, float)) and not isinstance(w, bool) and math.isfinite(w) and w >= 0):
                raise ConfigError(f"family weight for {name!r} must be a finite number >= 0, got {w!r}")
        if not any(w > 0 for w in weights.values()):
            raise ConfigError(f"at least one family needs a positive weight; got {weights!r}")
        if self.difficulty not in DIFFICULTIES:
            raise ConfigError(f"unknown difficulty {self.difficulty!r}; use one of {sorted(DIFFICULTIES)}")
        if not (isinstance(self.max_answer_values, int) and self.max_answer_values >= 1):
            raise ConfigError(f"max_answer_values must be an int >= 1, got {self.max_answer_values!r}")
        if not (isinstance(self.max_attempts, int) and self.max_attempts >= 1):
            raise ConfigError(f"max_attempts must be an int >= 1, got {self.max_attempts!r}")

    @property
    def weights(self) -> dict[str, float]:
        w = DEFAULT_FAMILY_WEIGHTS if self.family_weights is None else self.family_weights
        return {k: float(v) for k, v in w.items() if v > 0}
