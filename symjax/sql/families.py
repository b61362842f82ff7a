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
=================  ==========================================================================

:func:`sample_query` draws a family by weight, samples a plan, executes it and keeps it
only if the result is unambiguous (see :mod:`symjax.sql.executor`), non-empty (unless
``allow_empty``), free of NULL values (unless ``allow_null``) and within the answer-size
limit; otherwise it tries again. The stream draws the same families in batches with
:mod:`symjax.sql.lane` (numba); this per-query Python path is the lane's reference.
"""
from __future__ import annotations

import math
import random
from collections import Counter
from dataclasses import dataclass
from typing import Callable, Mapping

from symjax.errors import ConfigError, SamplingError
from symjax.sql.executor import Result, run_plan
from symjax.sql.plan import (
    ROWID,
    Aggregate,
    And,
    Arithmetic,
    Between,
    Column,
    Compare,
    Comparison,
    Having,
    InList,
    Like,
    Literal,
    OrderBy,
    Or,
    Query,
    Scalar,
    Select,
)
from symjax.sql.table import DATE, INTEGER, REAL, TEXT, Table

__all__ = ["FAMILIES", "DEFAULT_FAMILY_WEIGHTS", "DIFFICULTIES", "SamplerConfig", "sample_query"]

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
}
DIFFICULTIES = {"easy": 1, "medium": 2, "hard": 3}


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
        object.__setattr__(self, "_chooser", _Chooser.build(self.weights))

    @property
    def weights(self) -> dict[str, float]:
        w = DEFAULT_FAMILY_WEIGHTS if self.family_weights is None else self.family_weights
        return {k: float(v) for k, v in w.items() if v > 0}


# ---------------------------------------------------------------------------- table view
class _View:
    """What the samplers need to know about a table, computed once per table."""

    __slots__ = ("table", "by_type", "numeric", "orderable", "values", "uniques", "repeated", "non_empty")

    def __init__(self, table: Table):
        self.table = table
        self.values = [[v for v in table.column(j) if v is not None] for j in range(table.num_columns)]
        # only columns with at least one non-NULL value can be sampled from
        self.non_empty = [j for j in range(table.num_columns) if self.values[j]]
        self.by_type = {
            t: [j for j in self.non_empty if table.types[j] == t] for t in (TEXT, INTEGER, REAL, DATE)
        }
        self.numeric = self.by_type[INTEGER] + self.by_type[REAL]
        self.orderable = self.numeric + self.by_type[DATE]
        self.uniques: list[list] = []
        self.repeated: list[int] = []
        for j, vals in enumerate(self.values):
            counts = Counter(vals)
            self.uniques.append([v for v, c in counts.items() if c == 1])
            if len(counts) < len(vals) and len(counts) >= 2:
                self.repeated.append(j)


def _view(table: Table) -> _View:
    v = table._cache.get("sampler_view")
    if v is None:
        v = table._cache["sampler_view"] = _View(table)
    return v


# ---------------------------------------------------------------------------- literals
def _literal(value) -> Literal:
    return Literal(value)


def _threshold(rng: random.Random, view: _View, col: int):
    """A comparison threshold: usually a cell value, sometimes a round number in range."""
    vals = view.values[col]
    v = vals[int(rng.random() * len(vals))]
    t = view.table.types[col]
    if t in (INTEGER, REAL) and rng.random() < 0.3 and len(vals) > 1:
        lo, hi = min(vals), max(vals)
        x = lo + (hi - lo) * rng.random()
        if t == INTEGER or abs(x) >= 100:
            return int(round(x))
        return round(x, 1)
    return v


def _condition(rng: random.Random, view: _View, col: int, kind: str | None = None):
    t = view.table.types[col]
    vals = view.values[col]
    if kind is None:
        r = rng.random()
        if t == TEXT:
            # ordering comparisons on text are rare in real SQL
            kind = "eq" if r < 0.72 else ("ne" if r < 0.87 else ("in" if r < 0.95 else "text_cmp"))
        else:
            kind = "cmp" if r < 0.85 else ("between" if r < 0.95 else "eq")
    if kind == "eq":
        return Compare(col, "=", _literal(vals[int(rng.random() * len(vals))]))
    if kind == "ne":
        return Compare(col, "!=", _literal(vals[int(rng.random() * len(vals))]))
    if kind == "cmp":
        op = ("<", ">", "<=", ">=", "!=", "=")[min(5, int(rng.random() * 4.4))]
        return Compare(col, op, _literal(_threshold(rng, view, col)))
    if kind == "between":
        a, b = _threshold(rng, view, col), _threshold(rng, view, col)
        if b < a:
            a, b = b, a
        return Between(col, _literal(a), _literal(b))
    if kind == "in":
        k = 2 + int(rng.random() * 2)
        picks = []
        for _ in range(k):
            v = vals[int(rng.random() * len(vals))]
            if v not in picks:
                picks.append(v)
        return InList(col, tuple(_literal(v) for v in picks))
    if kind == "like":
        v = vals[int(rng.random() * len(vals))]
        n = 1 + int(rng.random() * 3)
        prefix = v[:n]
        if not prefix or "%" in prefix or "_" in prefix:
            return None
        return Like(col, prefix)
    if kind == "text_cmp":
        op = ("<", ">", "<=", ">=")[int(rng.random() * 4)]
        return Compare(col, op, _literal(vals[int(rng.random() * len(vals))]))
    raise AssertionError(kind)


def _where(rng: random.Random, view: _View, cfg: SamplerConfig, exclude: int | None = None):
    cols = view.non_empty if exclude is None else [j for j in view.non_empty if j != exclude]
    if not cols:
        return None
    max_terms = DIFFICULTIES[cfg.difficulty]
    n = 1 if max_terms == 1 else 1 + int(rng.random() ** 1.5 * max_terms)
    n = min(n, max_terms)
    terms = []
    for _ in range(n):
        c = _condition(rng, view, cols[int(rng.random() * len(cols))])
        if c is not None:
            terms.append(c)
    if not terms:
        return None
    if len(terms) == 1:
        return terms[0]
    or_share = 0.35 if cfg.difficulty == "hard" else 0.2
    return Or(tuple(terms)) if rng.random() < or_share else And(tuple(terms))


def _pick(rng: random.Random, items: list):
    return items[int(rng.random() * len(items))] if items else None


def _maybe_where(rng, view, cfg, p: float, exclude=None):
    return _where(rng, view, cfg, exclude) if rng.random() < p else None


# ---------------------------------------------------------------------------- families
def _select_where(rng, view, cfg):
    proj = _pick(rng, view.non_empty)
    if proj is None:
        return None
    where = _where(rng, view, cfg, exclude=proj if rng.random() < 0.8 else None)
    if where is None:
        return None
    return Select(Column(proj), where=where)


def _select_kind(kind: str, types: tuple[str, ...]):
    def sample(rng, view, cfg):
        cols = [j for t in types for j in view.by_type[t]]
        col = _pick(rng, cols)
        if col is None:
            return None
        cond = _condition(rng, view, col, kind)
        if cond is None:
            return None
        proj = _pick(rng, [j for j in view.non_empty if j != col] or [col])
        if rng.random() < 0.25 and DIFFICULTIES[cfg.difficulty] > 1:
            other = _where(rng, view, cfg, exclude=col)
            if other is not None and not isinstance(other, (And, Or)):
                cond = And((cond, other))
        return Select(Column(proj), where=cond)

    return sample


def _count(rng, view, cfg):
    where = _where(rng, view, cfg)
    if where is None:
        return None
    return Select(Aggregate("count", None), where=where)


def _count_distinct(rng, view, cfg):
    col = _pick(rng, view.repeated or view.non_empty)
    if col is None:
        return None
    return Select(Aggregate("count", col, distinct=True), where=_maybe_where(rng, view, cfg, 0.4, exclude=col))


def _aggregate(rng, view, cfg):
    r = rng.random()
    if r < 0.5:
        col = _pick(rng, view.numeric)
        func = "sum" if rng.random() < 0.5 else "avg"
    else:
        col = _pick(rng, view.orderable)
        func = "min" if rng.random() < 0.5 else "max"
    if col is None:
        return None
    return Select(Aggregate(func, col), where=_maybe_where(rng, view, cfg, 0.5, exclude=col))


def _orderable_and_projection(rng, view):
    """An orderable column and another column to project (None, None if there are none)."""
    ocol = _pick(rng, view.orderable)
    if ocol is None:
        return None, None
    return ocol, _pick(rng, [j for j in view.non_empty if j != ocol])


def _superlative(rng, view, cfg):
    ocol, proj = _orderable_and_projection(rng, view)
    if proj is None:
        return None
    k = 1 if rng.random() < 0.75 else 2 + int(rng.random() * 2)
    return Select(
        Column(proj),
        where=_maybe_where(rng, view, cfg, 0.3, exclude=ocol),
        order_by=OrderBy(Column(ocol), descending=rng.random() < 0.5),
        limit=k,
    )


def _most_frequent(rng, view, cfg):
    col = _pick(rng, view.repeated)
    if col is None:
        return None
    return Select(
        Column(col),
        where=_maybe_where(rng, view, cfg, 0.2, exclude=col),
        group_by=col,
        order_by=OrderBy(Aggregate("count", None), descending=rng.random() < 0.8),
        limit=1,
    )


def _group_having(rng, view, cfg):
    col = _pick(rng, view.repeated)
    if col is None:
        return None
    op, n = (">=", 2 + int(rng.random() * 2)) if rng.random() < 0.7 else (("=", 1) if rng.random() < 0.5 else (">", 1))
    return Select(Column(col), group_by=col, having=Having(Aggregate("count", None), op, Literal(n)))


def _distinct(rng, view, cfg):
    col = _pick(rng, view.repeated)
    if col is None:
        return None
    return Select(Column(col), distinct=True, where=_maybe_where(rng, view, cfg, 0.6, exclude=col))


def _key_scalar(rng, view, project) -> Scalar | None:
    """``(SELECT project FROM w WHERE key = v)`` where v occurs exactly once in key."""
    keys = [j for j in range(view.table.num_columns) if view.uniques[j] and j != getattr(project, "index", None)]
    key = _pick(rng, keys)
    if key is None:
        return None
    v = _pick(rng, view.uniques[key])
    return Scalar(Select(project, where=Compare(key, "=", Literal(v))))


def _two_scalars(rng, view):
    if rng.random() < 0.7:
        col = _pick(rng, view.numeric)
        if col is None:
            return None
        left, right = _key_scalar(rng, view, Column(col)), _key_scalar(rng, view, Column(col))
    else:
        col = _pick(rng, view.repeated)
        if col is None:
            return None
        a, b = _pick(rng, view.values[col]), _pick(rng, view.values[col])
        left = Scalar(Select(Aggregate("count", None), where=Compare(col, "=", Literal(a))))
        right = Scalar(Select(Aggregate("count", None), where=Compare(col, "=", Literal(b))))
    if left is None or right is None or left == right:
        return None
    return left, right


def _arithmetic(rng, view, cfg):
    pair = _two_scalars(rng, view)
    if pair is None:
        return None
    return Arithmetic("-" if rng.random() < 0.8 else "+", *pair)


def _compare(rng, view, cfg):
    pair = _two_scalars(rng, view)
    if pair is None:
        if rng.random() < 0.5:
            return None
        col = _pick(rng, view.by_type[DATE] + view.by_type[TEXT])
        if col is None:
            return None
        left, right = _key_scalar(rng, view, Column(col)), _key_scalar(rng, view, Column(col))
        if left is None or right is None or left == right:
            return None
        pair = (left, right)
    op = ("<", ">", "=", "!=", "<=", ">=")[min(5, int(rng.random() ** 1.3 * 6))]
    return Comparison(op, *pair)


def _nested(rng, view, cfg):
    ocol, proj = _orderable_and_projection(rng, view)
    if proj is None:
        return None
    if rng.random() < 0.7 or ocol not in view.numeric:
        func = "max" if rng.random() < 0.5 else "min"
        inner = Select(Aggregate(func, ocol), where=_maybe_where(rng, view, cfg, 0.3, exclude=ocol))
        pred = Compare(ocol, "=", Scalar(inner))
    else:
        inner = Select(Aggregate("avg", ocol))
        pred = Compare(ocol, ">" if rng.random() < 0.5 else "<", Scalar(inner))
    return Select(Column(proj), where=pred)


def _adjacent(rng, view, cfg):
    keys = [j for j in range(view.table.num_columns) if view.uniques[j]]
    key = _pick(rng, keys)
    if key is None:
        return None
    proj = _pick(rng, [j for j in view.non_empty if j != key] or [key])
    v = _pick(rng, view.uniques[key])
    inner = Select(Column(ROWID), where=Compare(key, "=", Literal(v)))
    offset = 1 if rng.random() < 0.6 else -1
    return Select(Column(proj), where=Compare(ROWID, "=", Scalar(inner, offset)))


FAMILIES: dict[str, Callable] = {
    "select_where": _select_where,
    "select_in": _select_kind("in", (TEXT, INTEGER, DATE)),
    "select_between": _select_kind("between", (INTEGER, REAL, DATE)),
    "select_like": _select_kind("like", (TEXT,)),
    "count": _count,
    "count_distinct": _count_distinct,
    "aggregate": _aggregate,
    "superlative": _superlative,
    "most_frequent": _most_frequent,
    "group_having": _group_having,
    "distinct": _distinct,
    "arithmetic": _arithmetic,
    "compare": _compare,
    "nested": _nested,
    "adjacent": _adjacent,
}


def _acceptable(result: Result, cfg: SamplerConfig) -> bool:
    if result.ambiguity is not None:
        return False
    n = len(result.values)
    if n == 0:
        return cfg.allow_empty
    if n > cfg.max_answer_values:
        return False
    if not cfg.allow_null and any(v is None for v in result.values):
        return False
    return True


@dataclass
class _Chooser:
    names: list[str]
    cumulative: list[float]
    total: float

    @classmethod
    def build(cls, weights: Mapping[str, float]) -> "_Chooser":
        names, cum, acc = [], [], 0.0
        for name in sorted(weights):
            acc += weights[name]
            names.append(name)
            cum.append(acc)
        return cls(names, cum, acc)

    def choose(self, rng: random.Random) -> str:
        x = rng.random() * self.total
        for name, c in zip(self.names, self.cumulative):
            if x < c:
                return name
        return self.names[-1]



def sample_query(
    table: Table, rng: random.Random, config: SamplerConfig | None = None, *, family: str | None = None
) -> tuple[str, Query, Result]:
    """Draw ``(family, plan, result)`` of one well-defined query on ``table``.

    ``family`` forces a family. Raises :class:`SamplingError` when no acceptable query was
    found in ``config.max_attempts`` tries (e.g. a one-row table and ``most_frequent``).
    """
    cfg = config or _DEFAULT_CONFIG
    if family is not None and family not in FAMILIES:
        raise ConfigError(f"unknown query family {family!r}; valid families: {sorted(FAMILIES)}")
    chooser = cfg._chooser
    view = _view(table)
    for _ in range(cfg.max_attempts):
        name = family or chooser.choose(rng)
        plan = FAMILIES[name](rng, view, cfg)
        if plan is None:
            continue
        result = run_plan(plan, table)
        if _acceptable(result, cfg):
            return name, plan, result
    raise SamplingError(
        f"no acceptable {family or 'query'} found in {cfg.max_attempts} attempts on {table!r}; "
        "raise max_attempts, allow_empty, or change the family weights"
    )


_DEFAULT_CONFIG = SamplerConfig()
