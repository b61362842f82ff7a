"""Synthetic tables that look like Wikipedia tables.

``generate_table(seed, config)`` draws one :class:`~symjax.sql.table.Table` from one of the
:data:`ARCHETYPES` ("Year | Film | Role | Notes", "Rank | Nation | Gold | Silver | Bronze |
Total", "Date | Opponent | Venue | Result | Attendance", ...): realistic names, places, clubs,
numbers and dates; categorical columns repeat, identifier columns are unique, rows are
sorted where the archetype is (ranks, years, dates); optional columns, header variants and
the odd swapped neighbour vary the schema; a few cells are NULL (never in the first column).
Sizes follow WikiTableQuestions: rows median 15 and 90th percentile 42 by default (a
truncated log-normal, see :class:`TableConfig`), columns median 6 (3 to 10).

The table is a pure function of ``(seed, config)``: byte-identical in every process. All
sampling happens in one numba kernel call per table (:mod:`symjax.sql.synth._table_kernels`);
Python only formats the table's distinct text items and wraps the arrays: about 20-40
microseconds per table on one core after JIT warm-up (about 5 of them in the kernel).

Example::

    from symjax.sql.synth.tables import TableConfig, generate_table
    table = generate_table(7)                      # default config
    table = generate_table(7, TableConfig(archetypes=("medal_table",)))
"""
from __future__ import annotations

import dataclasses
import functools
import itertools
import math
from statistics import NormalDist
from typing import Any, Callable, Iterator

import numpy as np

from symjax.errors import ConfigError
from symjax.sql.synth import _column_kernels as K
from symjax.sql.synth import vocab
from symjax.sql.synth._table_kernels import SPECIAL_CODES, draw_table, pack_spec
from symjax.sql.table import (
    DATE,
    INTEGER,
    REAL,
    TEXT,
    Table,
    nul_terminated,
    type_codes,
)
from symjax.sql.text._text_kernels import string_offsets

__all__ = ["ARCHETYPES", "MAX_COLUMNS", "TableConfig", "generate_table", "synthetic_tables", "table_seed"]

#: Widest table drawn; optional columns are dropped from the right beyond it.
MAX_COLUMNS = 10
_MAX_ROWS_LIMIT = 10_000
_MASK64 = (1 << 64) - 1
_CTYPE_CODE = {TEXT: K.TEXT, INTEGER: K.INTEGER, REAL: K.REAL, DATE: K.DATE}


# ============================================================================ archetypes
@dataclasses.dataclass(frozen=True)
class _Column:
    key: str
    headers: tuple[str, ...]
    ctype: str
    kind: int
    space: str | None = None
    fmt: str | None = None
    refs: tuple[str, ...] = ()
    p: tuple[int, ...] = ()
    r: tuple[float, ...] = ()
    dec: int = 0
    include: float = 1.0
    nulls: float = 1.0  # multiplies TableConfig.null_probability; 0 = never NULL
    swap: float = 0.0  # probability to swap with the next column in output order
    tmode: int = 0  # 1: one template per table (all "H"/"A" or all "Home"/"Away")
    order: float | None = None  # output position key; default: declaration index
    hgroup: int = -1  # columns of one group share the header variant


def _c(key: str, headers: str, ctype: str, kind: int, **kw: Any) -> _Column:
    return _Column(key, tuple(h for h in headers.split("|") if h), ctype, kind, **kw)


def _hidden_sort(*refs: str, desc: bool = True) -> _Column:
    return _c("sort", "", INTEGER, K.SORT_ROWS, refs=refs, p=(1 if desc else 0,), include=0.0, nulls=0)


_ARCHETYPE_SPECS: dict[str, tuple[_Column, ...]] = {
    "filmography": (
        _c("year", "Year", INTEGER, K.YEARS, p=(1935, 2024, 0, 2), nulls=0, swap=0.12),
        _c("title", "Title|Film", TEXT, K.UNIQUE, space="film_title", nulls=0),
        _c("role", "Role|Character|Role(s)", TEXT, K.UNIQUE, space="role"),
        _c("director", "Director|Directed by", TEXT, K.CATEGORICAL, space="person", p=(2, 9), r=(1.0, 0.0), include=0.35),
        _c("language", "Language", TEXT, K.CATEGORICAL, space="language", p=(1, 3), r=(0.5, 0.3), include=0.15),
        _c("notes", "Notes|Note(s)|Remarks", TEXT, K.CHOICE, space="film_note", include=0.75, nulls=25),
    ),
    "medal_table": (
        _c("nation", "Nation|Country|NOC|Team", TEXT, K.UNIQUE, space="country", nulls=0),
        _c("gold", "Gold", INTEGER, K.MEDALS, nulls=0),
        _c("silver", "Silver", INTEGER, K.FILLED, nulls=0),
        _c("bronze", "Bronze", INTEGER, K.FILLED, nulls=0),
        _hidden_sort("gold", "silver", "bronze"),
        _c("rank", "Rank|Pos.", INTEGER, K.RANK, refs=("gold", "silver", "bronze"), include=0.95, order=-1, nulls=0),
        _c("total", "Total", INTEGER, K.SUM, refs=("gold", "silver", "bronze"), include=0.95, nulls=0),
    ),
    "season_results": (
        _c("date", "Date|Match date", DATE, K.DATES, p=(1988, 2024, 3, 10, 1), nulls=0),
        _c("competition", "Competition|Comp.", TEXT, K.CATEGORICAL, space="competition", p=(1, 3), r=(0.4, 0.0), include=0.35),
        _c("opponent", "Opponent|Opponents|Opposition", TEXT, K.CATEGORICAL, space="club", p=(8, 20), r=(3.0, 0.0)),
        _c("venue", "Venue|H / A|Home/Away", TEXT, K.CHOICE, space="home_away", tmode=1, include=0.9),
        _c("result", "Result|Score|Res.", TEXT, K.SCORE, fmt="result_score", p=(0,)),
        _c("attendance", "Attendance|Att.|Crowd", INTEGER, K.POWER, r=(3000.0, 80000.0), p=(2, 1), include=0.8),
        _c("position", "League position|Position|Pos.", INTEGER, K.WALK, r=(1.0, 20.0, 3.0, 1.0, 20.0), include=0.2),
        _c("referee", "Referee", TEXT, K.CATEGORICAL, space="person", p=(5, 15), r=(2.0, 0.0), include=0.2),
    ),
    "election_results": (
        _c("party", "Party|Political party", TEXT, K.UNIQUE, space="party", nulls=0),
        _c("candidate", "Candidate|Leader|Party leader", TEXT, K.UNIQUE, space="person", include=0.8),
        _c("votes", "Votes|Popular vote|Votes won", INTEGER, K.POWER, r=(300.0, 4_000_000.0), p=(4, 1), nulls=0),
        _hidden_sort("votes"),
        _c("pct", "%|Vote share|Share (%)", REAL, K.PERCENT, refs=("votes",), dec=2),
        _c("swing", "±%|Swing|Change (%)", REAL, K.UNIFORM, r=(-9.0, 9.0), dec=2, include=0.35),
        _c("seats", "Seats|Seats won", INTEGER, K.SCALE, refs=("pct",), r=(0.5, 6.0, 0.03, 0.0, 0.99), p=(0,), include=0.75),
        _c("seat_change", "+/–|Seat change|±", INTEGER, K.UNIFORM, p=(-25, 25, 1), include=0.3),
    ),
    "discography": (
        _c("year", "Year|Released", INTEGER, K.YEARS, p=(1960, 2024, 0, 3), nulls=0, swap=0.1),
        _c("title", "Title|Album|Album details|Single", TEXT, K.UNIQUE, space="album_title", nulls=0),
        _c("label", "Label|Record label", TEXT, K.CATEGORICAL, space="label", p=(1, 4), r=(1.0, 0.75), include=0.8),
        _c("us", "US|Peak position|US Billboard 200|Peak chart position", INTEGER, K.POWER, r=(1.0, 100.0), p=(2, 1), nulls=6),
        _c("uk", "UK|UK Albums", INTEGER, K.POWER, r=(1.0, 100.0), p=(2, 1), include=0.6, nulls=8),
        _c("aus", "AUS", INTEGER, K.POWER, r=(1.0, 100.0), p=(2, 1), include=0.4, nulls=10),
        _c("can", "CAN", INTEGER, K.POWER, r=(1.0, 100.0), p=(2, 1), include=0.35, nulls=10),
        _c("ger", "GER", INTEGER, K.POWER, r=(1.0, 100.0), p=(2, 1), include=0.3, nulls=12),
        _c("cert", "Certification|Certifications|Sales certification", TEXT, K.CHOICE, space="certification", include=0.55, nulls=15),
        _c("sales", "Sales|Worldwide sales", INTEGER, K.POWER, r=(20_000.0, 12_000_000.0), p=(3, 1000), include=0.2, nulls=5),
    ),
    "athletics_results": (
        _c("time", "Time|Result|Mark", REAL, K.SORTED_REAL, r=(9.8, 19.7, 44.0, 13.0, 0.06), p=(4,), dec=2, nulls=0, order=4.5),
        _c("rank", "Rank|Pos.|Place", INTEGER, K.RANK, refs=("time",), nulls=0, order=-1),
        _c("lane", "Lane", INTEGER, K.UNIFORM, p=(1, 9, 1), include=0.3),
        _c("athlete", "Athlete|Name", TEXT, K.UNIQUE, space="person", nulls=0),
        _c("nation", "Nation|Country|Nationality", TEXT, K.CATEGORICAL, space="country", p=(3, 12), r=(1.5, 0.0)),
        _c("reaction", "Reaction|React", REAL, K.UNIFORM, r=(0.12, 0.19), dec=2, include=0.25),
        _c("heat", "Heat", INTEGER, K.UNIFORM, p=(1, 5, 1), include=0.2),
        _c("notes", "Notes|Note|Qual.", TEXT, K.CHOICE, space="athletics_note", include=0.7, nulls=20),
    ),
    "cities": (
        _c("city", "City|Name|City name", TEXT, K.UNIQUE, space="city", nulls=0),
        _c("country", "Country|Nation", TEXT, K.COPY, refs=("city",), space="city_country", include=0.9),
        _c("population", "Population|Pop.|Population (2020)|Population (2011 census)", INTEGER, K.POWER, r=(40_000.0, 25_000_000.0), p=(4, 1), nulls=0),
        _hidden_sort("population"),
        _c("rank", "Rank", INTEGER, K.RANK, refs=("population",), include=0.5, order=-1, nulls=0),
        _c("area", "Area (km²)|Area|Land area (km²)", REAL, K.SCALE, refs=("population",), r=(0.0001, 0.0008, 0.6, 0.0, 0.0), p=(1,), dec=1),
        _c("density", "Density (/km²)|Population density", REAL, K.RATIO, refs=("population", "area"), r=(1.0,), dec=1, include=0.45),
        _c("founded", "Founded|Established|Year founded", INTEGER, K.UNIFORM, p=(700, 1950, 1), include=0.5, nulls=3),
        _c("elevation", "Elevation (m)|Elevation", INTEGER, K.POWER, r=(0.0, 2800.0), p=(2, 1), include=0.3),
        _c("mayor", "Mayor", TEXT, K.UNIQUE, space="person", include=0.2),
    ),
    "tall_buildings": (
        _c("name", "Name|Building", TEXT, K.UNIQUE, space="building", nulls=0),
        _c("city", "City|Location", TEXT, K.CATEGORICAL, space="city", p=(2, 8), r=(1.0, 0.0)),
        _c("country", "Country", TEXT, K.COPY, refs=("city",), space="city_country", include=0.45),
        _c("height", "Height (m)|Height|Height (metres)", REAL, K.POWER, r=(150.0, 830.0), p=(3,), dec=1, nulls=0),
        _hidden_sort("height"),
        _c("rank", "Rank|#", INTEGER, K.RANK, refs=("height",), include=0.7, order=-1, nulls=0),
        _c("height_ft", "Height (ft)|Feet", INTEGER, K.SCALE, refs=("height",), r=(3.28084, 3.28084, 0.0, 0.5, 0.5), include=0.35),
        _c("floors", "Floors|Storeys|Floor count", INTEGER, K.SCALE, refs=("height",), r=(0.2, 0.26, 0.05, 0.0, 1.0), p=(1,), include=0.9),
        _c("year", "Year|Completed|Year completed", INTEGER, K.UNIFORM, p=(1930, 2024, 1), include=0.9),
        _c("architect", "Architect|Architect(s)", TEXT, K.CATEGORICAL, space="person", p=(3, 10), r=(1.0, 0.0), include=0.15),
    ),
    "club_seasons": (
        _c("season", "Season", TEXT, K.YEARS, fmt="season", p=(1950, 2024, 1, 1), nulls=0),
        _c("league", "League|Division|Div.", TEXT, K.LEAGUE, space="league", p=(len(vocab.BUILTIN_LISTS["league"]) // vocab.LEAGUE_TIERS, vocab.LEAGUE_TIERS), nulls=0),
        _c("pos", "Position|Pos.|Finish", INTEGER, K.FILLED, nulls=0),
        _c("played", "Played|P|Pld", INTEGER, K.FILLED, include=0.7, hgroup=0),
        _c("won", "Won|W|W", INTEGER, K.FILLED, hgroup=0),
        _c("drawn", "Drawn|D|D", INTEGER, K.FILLED, hgroup=0),
        _c("lost", "Lost|L|L", INTEGER, K.FILLED, hgroup=0),
        _c("gf", "Goals for|GF|F", INTEGER, K.FILLED, include=0.35, hgroup=0),
        _c("ga", "Goals against|GA|A", INTEGER, K.FILLED, include=0.35, hgroup=0),
        _c("points", "Points|Pts|Pts", INTEGER, K.FILLED, hgroup=0),
        _c("cup", "FA Cup|Cup|National cup", TEXT, K.CHOICE, space="cup_round", include=0.2),
        _c("top_scorer", "Top scorer|Top goalscorer", TEXT, K.CATEGORICAL, space="person", p=(4, 12), r=(2.0, 0.5), include=0.15),
    ),
    "tv_episodes": (
        _c("no", "No.|No. overall|#", INTEGER, K.SERIAL, p=(1, 119, 1, 1), nulls=0),
        _c("no_season", "No. in season|No. in series|Ep.", INTEGER, K.SERIAL, p=(1, 0, 1, 1), include=0.5, nulls=0),
        _c("title", "Title|Episode title", TEXT, K.UNIQUE, space="episode_title", nulls=0),
        _c("directed", "Directed by|Director", TEXT, K.CATEGORICAL, space="person", p=(2, 7), r=(1.0, 0.0)),
        _c("written", "Written by|Writer(s)|Teleplay by", TEXT, K.CATEGORICAL, space="person", p=(2, 7), r=(1.0, 0.0), include=0.85),
        _c("air_date", "Original air date|Air date|Original airdate|Original release date", DATE, K.DATES, p=(1985, 2024, 1, 2, 7), nulls=0),
        _c("prod", "Prod. code|Production code", INTEGER, K.SERIAL, p=(101, 7, 1, 100), include=0.35),
        _c("viewers", "Viewers (millions)|U.S. viewers (millions)|UK viewers (millions)", REAL, K.WALK, r=(2.0, 18.0, 1.2, 0.3, 40.0), dec=2, include=0.6),
    ),
    "football_squad": (
        _c("no", "No.|Number|Squad no.", INTEGER, K.UNIQUE_INTS, p=(1, 99, 1), include=0.55, nulls=0),
        _c("pos", "Pos.|Position", TEXT, K.CHOICE, space="position", tmode=1, swap=0.15),
        _c("player", "Player|Name", TEXT, K.UNIQUE, space="person", nulls=0),
        _c("born", "Date of birth|Born|Date of birth (age)", DATE, K.DATE_RANDOM, p=(1978, 2006), include=0.7),
        _c("caps", "Caps|Apps|Appearances", INTEGER, K.POWER, r=(0.0, 150.0), p=(2, 1)),
        _c("goals", "Goals", INTEGER, K.SCALE, refs=("caps",), r=(0.03, 0.45, 1.0, 0.0, 0.99), p=(0,), include=0.75),
        _c("club", "Club|Current club", TEXT, K.CATEGORICAL, space="club", p=(5, 18), r=(2.0, 0.0), include=0.8),
    ),
    "awards": (
        _c("year", "Year|Ceremony", INTEGER, K.YEARS, p=(1970, 2024, 0, 2), nulls=0),
        _c("award", "Award|Association|Organization", TEXT, K.CATEGORICAL, space="award", p=(2, 6), r=(1.0, 0.3), include=0.9),
        _c("category", "Category", TEXT, K.CATEGORICAL, space="award_category", p=(2, 8), r=(1.5, 0.0)),
        _c("work", "Nominated work|Work|Recipient|Nominee", TEXT, K.CATEGORICAL, space="film_title", p=(3, 10), r=(1.0, 0.4), include=0.85),
        _c("result", "Result|Outcome", TEXT, K.CHOICE, space="award_result"),
    ),
    "tennis_finals": (
        _c("outcome", "Outcome|Result|W/L", TEXT, K.CHOICE, space="outcome", tmode=1, nulls=0),
        _c("no", "No.", INTEGER, K.SERIAL, p=(1, 0, 1, 1), include=0.5, nulls=0),
        _c("date", "Date", DATE, K.DATES, p=(1995, 2024, 20, 200, 1), nulls=0),
        _c("tournament", "Tournament|Championship|Event", TEXT, K.CATEGORICAL, space="tournament", p=(4, 14), r=(2.0, 0.0)),
        _c("surface", "Surface", TEXT, K.CHOICE, space="surface", include=0.9),
        _c("opponent", "Opponent|Opponent in the final|Opponents", TEXT, K.CATEGORICAL, space="person", p=(4, 15), r=(2.0, 0.0)),
        _c("score", "Score|Score in the final", TEXT, K.TENNIS, refs=("outcome",), r=(0.25,), fmt="tennis_score"),
    ),
    "cup_finals": (
        _c("year", "Year|Season|Edition", INTEGER, K.YEARS, p=(1950, 2024, 1, 1), nulls=0),
        _c("winners", "Winners|Winner|Champions", TEXT, K.CATEGORICAL, space="club", p=(4, 14), r=(1.0, 0.0)),
        _c("score", "Score|Result", TEXT, K.SCORE, fmt="score", p=(1,)),
        _c("runners_up", "Runners-up|Runner-up|Finalist", TEXT, K.CATEGORICAL, space="club", p=(5, 16), r=(1.5, 0.0), refs=("winners",)),
        _c("venue", "Venue|Stadium|Location", TEXT, K.CATEGORICAL, space="venue", p=(1, 5), r=(0.5, 0.6), include=0.85),
        _c("attendance", "Attendance|Att.", INTEGER, K.POWER, r=(15_000.0, 100_000.0), p=(1, 1), include=0.6),
        _c("referee", "Referee", TEXT, K.CATEGORICAL, space="person", p=(8, 20), r=(3.0, 0.0), include=0.15),
    ),
    "office_holders": (
        _c("no", "No.|#", INTEGER, K.SERIAL, p=(1, 39, 1, 1), include=0.8, nulls=0),
        _c("name", "Name|Officeholder|Member", TEXT, K.UNIQUE, space="person", nulls=0),
        _c("took", "Took office|Term start|From", DATE, K.DATES, p=(1789, 2024, 180, 2600, 1), nulls=0, hgroup=0),
        _c("left", "Left office|Term end|To", DATE, K.NEXT_DATE, refs=("took",), p=(200, 2000), hgroup=0),
        _c("days", "Days in office|Time in office (days)|Term length (days)", INTEGER, K.DAYS_BETWEEN, refs=("took", "left"), include=0.3),
        _c("party", "Party|Political party", TEXT, K.CATEGORICAL, space="party", p=(2, 5), r=(1.0, 0.3), include=0.85),
    ),
    "mountains": (
        _c("name", "Mountain|Name|Peak", TEXT, K.UNIQUE, space="mountain", nulls=0),
        _c("height", "Height (m)|Elevation (m)|Height", INTEGER, K.POWER, r=(1500.0, 8849.0), p=(2, 1), nulls=0),
        _hidden_sort("height"),
        _c("rank", "Rank|No.", INTEGER, K.RANK, refs=("height",), include=0.5, order=-1, nulls=0),
        _c("prominence", "Prominence (m)|Prominence", INTEGER, K.SCALE, refs=("height",), r=(0.15, 0.6, 0.6, 0.0, 1.0), p=(0,), include=0.7),
        _c("range", "Range|Mountain range|Location", TEXT, K.CATEGORICAL, space="range", p=(1, 5), r=(1.0, 0.3), include=0.8),
        _c("country", "Country|Countries", TEXT, K.COPY, refs=("range",), space="range_country"),
        _c("first_ascent", "First ascent|First ascended", INTEGER, K.UNIFORM, p=(1786, 2010, 1), include=0.6, nulls=4),
    ),
}

#: Names of the table archetypes, in the order weights are given.
ARCHETYPES: tuple[str, ...] = tuple(_ARCHETYPE_SPECS)


# ============================================================================ config
@dataclasses.dataclass(frozen=True)
class TableConfig:
    """How synthetic tables are drawn.

    Rows follow a log-normal truncated to ``[min_rows, max_rows]`` whose median and 90th
    percentile are ``row_median`` and ``row_p90`` (defaults from WikiTableQuestions).
    ``null_probability`` is the chance that a cell outside the first column is NULL (some
    columns, like Notes, scale it up; key and sorted columns are never NULL).
    ``archetypes``: ``None`` for all of :data:`ARCHETYPES` with equal weight, a tuple of
    names (equal weights), or a tuple of ``(name, weight)`` pairs (a dict is accepted too).
    """

    min_rows: int = 5
    max_rows: int = 100
    row_median: float = 15
    row_p90: float = 42
    null_probability: float = 0.02
    archetypes: Any = None

    def __post_init__(self) -> None:
        for name in ("min_rows", "max_rows"):
            v = getattr(self, name)
            if not isinstance(v, (int, np.integer)) or isinstance(v, bool) or not 1 <= v <= _MAX_ROWS_LIMIT:
                raise ConfigError(f"TableConfig.{name} must be an integer in [1, {_MAX_ROWS_LIMIT}]; got {v!r}")
        if self.max_rows < self.min_rows:
            raise ConfigError(
                f"TableConfig.max_rows must be in [min_rows, {_MAX_ROWS_LIMIT}] = "
                f"[{self.min_rows}, {_MAX_ROWS_LIMIT}]; got {self.max_rows!r}"
            )
        for name in ("row_median", "row_p90", "null_probability"):
            v = getattr(self, name)
            if not isinstance(v, (int, float, np.integer, np.floating)) or isinstance(v, bool) or not math.isfinite(v):
                raise ConfigError(f"TableConfig.{name} must be a finite number; got {v!r}")
        if self.min_rows < self.max_rows:
            if not self.min_rows <= self.row_median < self.max_rows:
                raise ConfigError(
                    f"TableConfig.row_median must be in [min_rows, max_rows) = "
                    f"[{self.min_rows}, {self.max_rows}); got {self.row_median!r}"
                )
            if not self.row_median < self.row_p90 <= self.max_rows:
                raise ConfigError(
                    f"TableConfig.row_p90 must be in (row_median, max_rows] = "
                    f"({self.row_median}, {self.max_rows}]; got {self.row_p90!r}"
                )
        if not 0.0 <= self.null_probability <= 0.5:
            raise ConfigError(f"TableConfig.null_probability must be in [0, 0.5]; got {self.null_probability!r}")
        object.__setattr__(self, "archetypes", _normalize_archetypes(self.archetypes))
        _row_count_probabilities(int(self.min_rows), int(self.max_rows), self.row_median, self.row_p90)

    def archetype_weights(self) -> tuple[float, ...]:
        """Weight of each of :data:`ARCHETYPES` (0 for those not selected)."""
        if self.archetypes is None:
            return (1.0,) * len(ARCHETYPES)
        given = dict((a, 1.0) if isinstance(a, str) else a for a in self.archetypes)
        return tuple(float(given.get(name, 0.0)) for name in ARCHETYPES)


def _normalize_archetypes(value: Any) -> Any:
    """Validate ``TableConfig.archetypes``; lists become tuples, dicts tuples of pairs."""
    if value is None:
        return None
    if isinstance(value, dict):
        value = tuple(value.items())
    if isinstance(value, str) or not isinstance(value, (tuple, list)):
        raise ConfigError(
            "TableConfig.archetypes must be None, a tuple of names or a tuple of (name, weight) "
            f"pairs; got {value!r}"
        )
    items = []
    for item in value:
        if isinstance(item, str):
            name, weight = item, 1.0
        elif isinstance(item, (tuple, list)) and len(item) == 2 and isinstance(item[0], str):
            name, weight = item
            if not isinstance(weight, (int, float, np.integer, np.floating)) or isinstance(weight, bool) \
                    or not math.isfinite(weight) or weight < 0:
                raise ConfigError(
                    f"TableConfig.archetypes: weight of {name!r} must be a finite number >= 0; got {weight!r}"
                )
            item = (name, float(weight))
        else:
            raise ConfigError(f"TableConfig.archetypes entries are names or (name, weight) pairs; got {item!r}")
        if name not in _ARCHETYPE_SPECS:
            raise ConfigError(
                f"TableConfig.archetypes: unknown archetype {name!r}; valid archetypes: {', '.join(ARCHETYPES)}"
            )
        items.append((name, weight))
    names = [n for n, _ in items]
    if len(set(names)) != len(names):
        raise ConfigError(f"TableConfig.archetypes names an archetype twice: {names!r}")
    if not items or sum(w for _, w in items) <= 0:
        raise ConfigError(f"TableConfig.archetypes selects no archetype with positive weight; got {value!r}")
    return tuple(n if isinstance(v, str) else (n, w) for (n, w), v in zip(items, value))


# ============================================================================ compiled specs
@dataclasses.dataclass(frozen=True)
class _Static:
    """Archetype and text-space specs as the kernel's arrays, plus the Python-side
    metadata that turns its output into a Table."""

    arch_cols: np.ndarray
    col_int: np.ndarray
    col_real: np.ndarray
    space_info: np.ndarray
    tmpl_slots: np.ndarray
    tmpl_cdf: np.ndarray
    canon: np.ndarray
    headers: tuple[tuple[tuple[str, ...], ...], ...]  # [archetype][column] -> variants
    ctypes: tuple[tuple[str, ...], ...]  # [archetype][column]
    # Text of a pool key (fid << 56 | item), h = key >> 48 (formatter id, template): first[h]
    # [word 0] + second[h][word 1] for h < space_limit, else special[h](the item's 3 words).
    first: tuple[tuple[str, ...] | None, ...]
    second: tuple[tuple[str, ...] | None, ...]
    special: dict[int, Callable[[int, int, int], str]]
    space_limit: int
    # the same for the pool_text kernel: every word of first/second as UTF-8 (word w at
    # words[word_off[w]:word_off[w + 1]]), where each h's words start, and the kernel's
    # code of each formatter id
    pool_args: tuple = ()
    # every header variant for the kernels: (NUL-terminated UTF-8, where each starts then the
    # end, index of the first variant of each spec column, numbered as col_int's rows)
    head_args: tuple = ()


@functools.lru_cache(maxsize=1)
def _static() -> _Static:
    space_names = tuple(vocab.TEXT_SPACES)
    space_index = {s: i for i, s in enumerate(space_names)}
    space_info, tmpl_slots, tmpl_cdf, canon = [], [], [], []
    canon_offset: dict[str, int] = {}  # list ref -> its run in canon
    first: list[tuple[str, ...] | None] = [None] * (256 * len(space_names))
    second: list[tuple[str, ...] | None] = [None] * (256 * len(space_names))
    for s in space_names:
        templates = vocab.TEXT_SPACES[s]
        total = float(sum(w for w, _, _ in templates))
        start, capacity, acc = len(tmpl_slots), 0, 0.0
        for t, (w, pattern, refs) in enumerate(templates):
            lists = tuple(vocab.word_list(r) for r in refs)
            if len(lists) > 2 or pattern.count("{") != len(lists):
                raise AssertionError(f"space {s!r}: template {pattern!r} must use {{0}} then {{1}} once each")
            for ref, lst in zip(refs, lists):
                if ref not in canon_offset:
                    canon_offset[ref] = len(canon)
                    seen: dict[str, int] = {}
                    canon.extend(seen.setdefault(word, i) for i, word in enumerate(lst))
            sizes = [len(lst) for lst in lists] + [0] * (3 - len(lists))
            offsets = [canon_offset[r] for r in refs] + [0] * (3 - len(refs))
            tmpl_slots.append(sizes + offsets)
            acc += w / total
            tmpl_cdf.append(acc)
            capacity += math.prod(len(set(lst)) for lst in lists)
            first[256 * space_index[s] + t], second[256 * space_index[s] + t] = vocab.template_parts(pattern, lists)
        tmpl_cdf[-1] = 1.0
        simple = int(len(templates) == 1 and len(templates[0][2]) == 1)
        space_info.append([start, len(templates), capacity, simple])
    fid_of = {("space", s): i for i, s in enumerate(space_names)}
    special = {}
    for name, fn in vocab.SPECIAL_FORMATS.items():
        fid_of[("fmt", name)] = len(fid_of)
        special[256 * fid_of[("fmt", name)]] = fn
    # Pool keys are fid << 56 | template << 48 | word << 32 | word << 16 | word in an int64.
    if len(fid_of) >= 128 or max(c for _, c, _, _ in space_info) >= 256 or max(
            max(row[:3]) for row in tmpl_slots) >= 1 << 16:
        raise AssertionError("text spaces overflow the packed key: < 128 formatters, < 256 "
                             "templates per space, < 65536 words per list")

    arch_cols, col_int, col_real, headers, ctypes = [], [], [], [], []
    for arch, columns in _ARCHETYPE_SPECS.items():
        local = {c.key: j for j, c in enumerate(columns)}
        orders = [j if c.order is None else c.order for j, c in enumerate(columns)]
        order_rank = {j: r for r, j in enumerate(sorted(range(len(columns)), key=lambda j: (orders[j], j)))}
        arch_cols.append([len(col_int), len(columns)])
        for j, c in enumerate(columns):
            ci = [0] * K.NUM_INT_PARAMS
            ci[K.CI_KIND], ci[K.CI_CTYPE] = c.kind, _CTYPE_CODE[c.ctype]
            ci[K.CI_SPACE] = space_index[c.space] if c.space else -1
            ci[K.CI_FID] = fid_of[("fmt", c.fmt)] if c.fmt else (fid_of[("space", c.space)] if c.space else -1)
            refs = [local[r] for r in c.refs] + [-1] * (3 - len(c.refs))
            ci[K.CI_REF0], ci[K.CI_REF1], ci[K.CI_REF2] = refs
            params = list(c.p) + [1] * (5 - len(c.p))
            if c.kind == K.COPY:  # map through the canon run of the target space's list
                params[0] = tmpl_slots[space_info[space_index[c.space]][0]][3] if c.space else -1
            ci[K.CI_P0:K.CI_P4 + 1] = params
            ci[K.CI_NHEAD], ci[K.CI_ORDER], ci[K.CI_TMODE] = len(c.headers), order_rank[j], c.tmode
            ci[K.CI_DEC], ci[K.CI_HGROUP] = c.dec, c.hgroup
            cr = [0.0] * K.NUM_REAL_PARAMS
            cr[K.CR_INCLUDE], cr[K.CR_NULLF], cr[K.CR_SWAP] = c.include, c.nulls, c.swap
            cr[K.CR_R0:K.CR_R0 + len(c.r)] = c.r
            col_int.append(ci)
            col_real.append(cr)
        headers.append(tuple(c.headers for c in columns))
        ctypes.append(tuple(c.ctype for c in columns))

    def as_array(a: Any, dtype: Any) -> np.ndarray:
        # Writable on purpose: numba types read-only arguments on a slow path (microseconds).
        return np.ascontiguousarray(np.array(a, dtype=dtype))

    words: list[str] = []
    first_base = np.full(256 * len(space_names), -1, dtype=np.int64)
    second_base = np.full(256 * len(space_names), -1, dtype=np.int64)
    for h, (fw, sw) in enumerate(zip(first, second)):
        if fw is not None:
            first_base[h] = len(words)
            words.extend(fw)
            second_base[h] = len(words)
            words.extend(sw)
    encoded = [w.encode("utf-8") for w in words]
    word_off = np.cumsum([0] + [len(b) for b in encoded]).astype(np.int64)
    special_kind = np.zeros(len(fid_of), dtype=np.int64)
    for name in vocab.SPECIAL_FORMATS:
        special_kind[fid_of[("fmt", name)]] = SPECIAL_CODES[name]
    pool_args = (as_array(np.frombuffer(b"".join(encoded), dtype=np.uint8), np.uint8), word_off, first_base,
                 second_base, special_kind, 256 * len(space_names))
    variants = tuple(name for arch_headers in headers for column in arch_headers for name in column)
    head_first = np.cumsum([0] + [len(column) for arch_headers in headers for column in arch_headers])[:-1]
    head_bytes = as_array(nul_terminated(variants), np.uint8)
    head_args = (head_bytes, string_offsets(head_bytes, len(variants)), as_array(head_first, np.int64))
    return _Static(
        pool_args=pool_args, head_args=head_args,
        arch_cols=as_array(arch_cols, np.int64), col_int=as_array(col_int, np.int64),
        col_real=as_array(col_real, np.float64), space_info=as_array(space_info, np.int64),
        tmpl_slots=as_array(tmpl_slots, np.int64), tmpl_cdf=as_array(tmpl_cdf, np.float64),
        canon=as_array(canon, np.int64),
        headers=tuple(headers), ctypes=tuple(ctypes), first=tuple(first), second=tuple(second),
        special=special, space_limit=256 * len(space_names),
    )


@functools.lru_cache(maxsize=64)
def _row_count_probabilities(min_rows: int, max_rows: int, median: float, p90: float) -> np.ndarray:
    """P(n) for n in [min_rows, max_rows]: a log-normal rounded to integers and truncated to
    the range, with (mu, sigma) solved so the truncated distribution's median and 90th
    percentile are ``median`` and ``p90``."""
    if min_rows == max_rows:
        return np.ones(1)
    normal = NormalDist()
    lo, hi = math.log(min_rows - 0.5) if min_rows > 0.5 else -math.inf, math.log(max_rows + 0.5)
    l50, l90 = math.log(median), math.log(p90)
    mu, sigma = l50, (l90 - l50) / normal.inv_cdf(0.9)
    for _ in range(500):  # fixed point: untruncated quantiles that the truncation maps on target
        fa, fb = normal.cdf((lo - mu) / sigma), normal.cdf((hi - mu) / sigma)
        z50 = normal.inv_cdf(min(max(fa + 0.5 * (fb - fa), 1e-12), 1 - 1e-12))
        z90 = normal.inv_cdf(min(max(fa + 0.9 * (fb - fa), 1e-12), 1 - 1e-12))
        new_sigma = (l90 - l50) / (z90 - z50)
        new_mu = l50 - new_sigma * z50
        done = abs(new_mu - mu) < 1e-12 and abs(new_sigma - sigma) < 1e-12
        mu, sigma = new_mu, new_sigma
        if done or not (math.isfinite(mu) and 0 < sigma < 1e6):
            break
    edges = [math.log(n - 0.5) if n > 0.5 else -math.inf for n in range(min_rows, max_rows + 1)] + [hi]
    if not (math.isfinite(mu) and 0 < sigma < 1e6):
        raise ConfigError(
            f"TableConfig: no truncated log-normal on [{min_rows}, {max_rows}] has median {median} "
            f"and 90th percentile {p90}; move row_median / row_p90 further from the bounds"
        )
    cdf = np.array([normal.cdf((e - mu) / sigma) for e in edges])
    probs = np.diff(cdf)
    probs = probs / probs.sum()
    reached = np.searchsorted(np.cumsum(probs), [0.5, 0.9]) + min_rows
    if abs(reached[0] - median) > 1 or abs(reached[1] - p90) > 1:
        raise ConfigError(
            f"TableConfig: the closest truncated log-normal on [{min_rows}, {max_rows}] has median "
            f"{reached[0]} and 90th percentile {reached[1]}, not {median} and {p90}; move "
            "row_median / row_p90 further from the bounds"
        )
    probs.setflags(write=False)
    return probs


def _cdf(weights: Any) -> np.ndarray:
    w = np.asarray(weights, dtype=np.float64)
    cdf = np.cumsum(w / w.sum())
    cdf[int(np.flatnonzero(w > 0)[-1]):] = 1.0  # exactly 1 from the last positive weight on
    return cdf


@dataclasses.dataclass(frozen=True)
class _Plan:
    static: _Static
    arrays: tuple  # the sampler's inputs, see _table_kernels.pack_spec
    args: tuple  # the same packed into (iblob, fblob), what sample_table takes after the seed


@functools.lru_cache(maxsize=64)
def _plan(config: TableConfig) -> _Plan:
    st = _static()
    probs = _row_count_probabilities(int(config.min_rows), int(config.max_rows), config.row_median, config.row_p90)
    arrays = (
        _cdf(config.archetype_weights()), st.arch_cols, st.col_int, st.col_real, st.space_info,
        st.tmpl_slots, st.tmpl_cdf, st.canon, _cdf(probs), int(config.min_rows),
        float(config.null_probability), int(MAX_COLUMNS),
    )
    return _Plan(st, arrays, pack_spec(*arrays))


# ============================================================================ public API
_DEFAULT_CONFIG = TableConfig()
_LAST_PLAN: tuple[Any, Any] = (None, None)  # (config, its plan) of the previous call


def _texts(words: list[int], st: _Static) -> list[str]:
    """The strings of a table's pool keys, given as four runs (see ``sample_table``): the
    Python twin of the ``pool_text`` kernel."""
    u = len(words) // 4
    first, second, special, limit = st.first, st.second, st.special, st.space_limit
    return [
        first[h][a] + second[h][b] if h < limit else special[h](a, b, c)
        for h, a, b, c in zip(words[:u], words[u:2 * u], words[2 * u:3 * u], words[3 * u:])
    ]


def generate_table(seed: int, config: TableConfig = _DEFAULT_CONFIG) -> Table:
    """One synthetic table, a pure function of ``(seed, config)``; ``name`` is its archetype.

    ``seed`` is any Python integer (taken modulo 2**64).
    """
    if not isinstance(seed, (int, np.integer)) or isinstance(seed, bool):
        raise ConfigError(f"generate_table: seed must be an integer; got {type(seed).__name__} {seed!r}")
    if not isinstance(config, TableConfig):
        raise ConfigError(f"generate_table: config must be a TableConfig; got {type(config).__name__}")
    plan = table_plan(config)
    st = plan.static
    # text: the pool's strings, each followed by a NUL
    meta, ivals, rvals, nulls, codes, text = draw_table(np.uint64(int(seed) & _MASK64), *plan.args,
                                                        *st.pool_args)
    texts = str(text, "utf-8").split("\0")
    texts.pop()
    return build_table(st, meta[:3 + 2 * int(meta[1])].tolist(), codes, ivals, rvals, nulls, text, texts)


def table_plan(config: TableConfig) -> _Plan:
    """``_plan(config)``, remembering the last config's plan by identity."""
    global _LAST_PLAN
    last = _LAST_PLAN
    if last[0] is config:  # an identity check is cheaper than hashing the config
        return last[1]
    plan = _plan(config)
    _LAST_PLAN = (config, plan)
    return plan


def build_table(st: _Static, m: list[int], codes: np.ndarray, ivals: np.ndarray, rvals: np.ndarray,
                 nulls: np.ndarray, text: np.ndarray, texts: list[str], *, distinct: bool = False) -> Table:
    """The :class:`Table` of a draw of ``sample_table`` (``m``: its ``meta`` up to the text
    keys) whose pool's strings are ``texts`` (``text``: the same as the kernels'
    NUL-terminated bytes; ``distinct``: the caller knows the strings differ)."""
    k = m[1]
    arch = m[0]
    if distinct or len(set(texts)) == len(texts):
        pool = tuple(texts)
    else:  # two keys gave one string ("Singapore" the city and the country)
        index: dict[str, int] = {}
        remap = [index.setdefault(t, len(index)) for t in texts]
        codes = np.append(np.array(remap, dtype=np.int32), np.int32(-1))[codes]
        pool = tuple(index)
    headers, ctypes = st.headers[arch], st.ctypes[arch]
    out, hvar = m[3:3 + k], m[3 + k:3 + 2 * k]
    types = tuple([ctypes[j] for j in out])
    # the kernels' view of the columns (Table.arrays) is the sampler's matrices as they are
    pool_bytes = None
    if texts and len(pool) == len(texts):  # the kernel's pool is the table's, as Table.pool_bytes writes it
        text.setflags(write=False)
        pool_bytes = text
    return Table.from_arrays(tuple([headers[j][h] for j, h in zip(out, hvar)]), types, pool,
                             (type_codes(types), codes, ivals, rvals, nulls), name=ARCHETYPES[arch],
                             pool_bytes=pool_bytes)


def table_seed(seed: int, index: int) -> int:
    """Seed of table ``index`` of the stream :func:`synthetic_tables` ``(seed, ...)``."""
    z = ((int(seed) & _MASK64) * 0x9E3779B97F4A7C15 + (int(index) & _MASK64) + 1) & _MASK64
    z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & _MASK64
    z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & _MASK64
    return z ^ (z >> 31)


def synthetic_tables(seed: int, config: TableConfig = _DEFAULT_CONFIG, start: int = 0) -> Iterator[Table]:
    """Endless deterministic stream of tables: table i is
    ``generate_table(table_seed(seed, i), config)`` for i = start, start + 1, ..."""
    for index in itertools.count(start):
        yield generate_table(table_seed(seed, index), config)
