"""Word lists and text templates behind the synthetic tables of :mod:`symjax.sql.synth.tables`.

Two kinds of lists, both looked up by name through :func:`words`:

* files under ``symjax/sql/vocab/*.txt`` (package data): one entry per line, UTF-8, an
  optional second field after a tab (``cities.txt`` pairs each city with its country);
  read lazily on first use and cached;
* short closed lists written here (result codes, positions, league ladders, ...), too small
  or too structured to deserve a file.

Entries within a list are distinct, so distinct indices give distinct strings, except in
the few built-in lists that repeat an entry on purpose to weight it (``award_result`` has
``Nominated`` twice: nominations outnumber wins).

:data:`TEXT_SPACES` composes lists into text (``"The {0} {1}"`` over adjectives and nouns);
:func:`template_parts` and :data:`SPECIAL_FORMATS` turn the kernels' packed items into
strings.
"""
from __future__ import annotations

import functools
from importlib import resources
from typing import Callable

from symjax.errors import ConfigError, MissingDataError

__all__ = [
    "BUILTIN_LISTS", "LEAGUE_TIERS", "SPECIAL_FORMATS", "TEXT_SPACES", "file_lists", "list_names",
    "template_parts", "word_list", "words",
]

#: Closed lists defined in code. Repeated entries weight the choice (see module docstring).
BUILTIN_LISTS: dict[str, tuple[str, ...]] = {
    "film_note": (
        "Cameo", "Voice role", "Uncredited", "Television film", "Short film", "Also producer",
        "Also writer", "Direct-to-video", "Guest appearance", "Segment", "Post-production",
        "Limited release", "Also director", "Documentary",
    ),
    "language": (
        "English", "French", "Spanish", "Hindi", "Tamil", "German", "Italian", "Japanese",
        "Mandarin", "Korean", "Portuguese", "Telugu",
    ),
    "athletics_note": (
        "Q", "Q", "Q", "Q", "q", "q", "PB", "PB", "PB", "SB", "SB", "SB", "NR", "Q, PB", "Q, SB",
        "AR", "WR", "DQ",
    ),
    "position_short": ("GK", "DF", "DF", "DF", "MF", "MF", "MF", "FW", "FW"),
    "position_long": (
        "Goalkeeper", "Defender", "Defender", "Defender", "Midfielder", "Midfielder",
        "Midfielder", "Forward", "Forward",
    ),
    "home_away_long": ("Home", "Away"),
    "home_away_short": ("H", "A"),
    "award_result": ("Won", "Nominated", "Nominated"),
    "certification": (
        "Gold", "Gold", "Platinum", "Platinum", "2× Platinum", "3× Platinum", "Silver",
        "Diamond", "Multi-Platinum",
    ),
    "surface": ("Hard", "Hard", "Hard", "Clay", "Clay", "Grass", "Carpet"),
    # Index 0 is the player's win, 1 the loss, in every outcome list (the score reads it).
    "outcome_long": ("Winner", "Runner-up"),
    "outcome_short": ("Win", "Loss"),
    "competition": (
        "League", "FA Cup", "League Cup", "Champions League", "Europa League", "Super Cup",
        "Cup Winners' Cup", "Community Shield", "Friendly",
    ),
    # League ladders: three consecutive tiers per country (a club moves within one ladder).
    "league": (
        "Premier League", "Championship", "League One",
        "First Division", "Second Division", "Third Division",
        "Serie A", "Serie B", "Serie C",
        "Bundesliga", "2. Bundesliga", "3. Liga",
        "La Liga", "Segunda División", "Primera Federación",
        "Ligue 1", "Ligue 2", "Championnat National",
        "Eredivisie", "Eerste Divisie", "Tweede Divisie",
        "Primeira Liga", "Liga Portugal 2", "Liga 3",
        "Scottish Premiership", "Scottish Championship", "Scottish League One",
        "Süper Lig", "TFF First League", "TFF Second League",
    ),
    "cup_round": (
        "Third round", "Third round", "Fourth round", "Fourth round", "Fifth round",
        "Quarter-finals", "Semi-finals", "Runners-up", "Winners",
    ),
}

#: Tiers per ladder in ``BUILTIN_LISTS["league"]``.
LEAGUE_TIERS = 3


@functools.lru_cache(maxsize=None)
def file_lists() -> tuple[str, ...]:
    """Names of the word-list files shipped in ``symjax/sql/vocab/`` (without ``.txt``)."""
    folder = resources.files("symjax.sql.synth").joinpath("vocab")
    return tuple(sorted(p.name[:-4] for p in folder.iterdir() if p.name.endswith(".txt")))


def list_names() -> tuple[str, ...]:
    """Every name :func:`words` accepts."""
    return tuple(sorted(set(file_lists()) | set(BUILTIN_LISTS)))


@functools.lru_cache(maxsize=None)
def _read_file(name: str) -> tuple[tuple[str, ...], ...]:
    path = resources.files("symjax.sql.synth").joinpath("vocab", f"{name}.txt")
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError as e:
        raise MissingDataError(
            f"word list file vocab/{name}.txt is missing from the symjax.sql package data; "
            "reinstall symjax (the lists ship with it)"
        ) from e
    rows = tuple(tuple(line.split("\t")) for line in text.splitlines() if line.strip())
    if not rows:
        raise MissingDataError(f"word list file vocab/{name}.txt is empty")
    return rows


@functools.lru_cache(maxsize=None)
def words(name: str, field: int = 0) -> tuple[str, ...]:
    """The entries of list ``name`` (field ``field`` of each line for tab-separated files).

    ``words("cities")`` gives city names, ``words("cities", 1)`` their countries, in the
    same order. Unknown names raise :class:`ConfigError` listing the valid ones.
    """
    if name in BUILTIN_LISTS:
        if field != 0:
            raise ConfigError(f"built-in word list {name!r} has one field; asked for field {field}")
        return BUILTIN_LISTS[name]
    if name not in file_lists():
        raise ConfigError(f"unknown word list {name!r}; valid lists: {', '.join(list_names())}")
    rows = _read_file(name)
    if any(len(r) <= field for r in rows):
        raise ConfigError(
            f"word list {name!r} has lines with fewer than {field + 1} tab-separated fields"
        )
    return tuple(r[field] for r in rows)


# ------------------------------------------------------------------------ text spaces
_ADJ, _NOUN, _FIRST, _LAST = "title_adjectives", "title_nouns", "first_names", "last_names"
#: What a text column draws from: a space is a weighted set of templates, each filling
#: "{0}" (then "{1}") from word lists ("cities:1" is field 1 of cities.txt, the country).
#: The kernels draw (template, word indices) items; :func:`template_parts` renders them.
TEXT_SPACES: dict[str, tuple[tuple[float, str, tuple[str, ...]], ...]] = {
    "country": ((1, "{0}", ("countries",)),),
    "city": ((1, "{0}", ("cities",)),),
    "club": ((1, "{0}", ("clubs",)),),
    "party": ((1, "{0}", ("parties",)),),
    "label": ((1, "{0}", ("record_labels",)),),
    "venue": ((1, "{0}", ("venues",)),),
    "award": ((1, "{0}", ("awards",)),),
    "award_category": ((1, "{0}", ("award_categories",)),),
    "range": ((1, "{0}", ("mountain_ranges",)),),
    # Read through a COPY of a city / range column: the country on the same line.
    "city_country": ((1, "{0}", ("cities:1",)),),
    "range_country": ((1, "{0}", ("mountain_ranges:1",)),),
    "person": ((1, "{0} {1}", (_FIRST, _LAST)),),
    "film_title": (
        (3, "The {0} {1}", (_ADJ, _NOUN)), (3, "{0} {1}", (_ADJ, _NOUN)), (1.5, "The {0}", (_NOUN,)),
        (1, "{0} of the {1}", (_NOUN, _NOUN)), (1, "{0}", (_NOUN,)), (0.5, "{0} in {1}", (_NOUN, "cities")),
        (0.5, "The {0} and the {1}", (_NOUN, _NOUN)), (0.3, "{0} {1} II", (_ADJ, _NOUN)),
    ),
    "album_title": (
        (3, "{0} {1}", (_ADJ, _NOUN)), (2, "{0}", (_NOUN,)), (1, "{0}", (_ADJ,)),
        (1, "The {0} {1}", (_ADJ, _NOUN)), (0.5, "Songs from the {0}", (_NOUN,)),
        (0.5, "Live in {0}", ("cities",)), (0.4, "{0} & {1}", (_NOUN, _NOUN)),
    ),
    "episode_title": (
        (3, "The {0}", (_NOUN,)), (2, "{0} {1}", (_ADJ, _NOUN)), (1, "{0} and {1}", (_NOUN, _NOUN)),
        (1, "The {0} {1}", (_ADJ, _NOUN)), (1, "{0}", (_NOUN,)), (0.5, "A {0} in {1}", (_NOUN, "cities")),
        (0.3, "{0}'s {1}", (_FIRST, _NOUN)),
    ),
    "role": (
        (3, "{0}", (_FIRST,)), (3, "{0} {1}", (_FIRST, _LAST)), (1, "Dr. {0}", (_LAST,)),
        (1, "Detective {0}", (_LAST,)), (0.5, "Captain {0}", (_LAST,)), (0.5, "Agent {0}", (_LAST,)),
        (0.3, "Young {0}", (_FIRST,)), (0.3, "Himself", ()), (0.3, "Herself", ()), (0.3, "Narrator", ()),
    ),
    "building": (
        (2, "{0} Tower", (_LAST,)), (1, "{0} Tower", ("cities",)), (1, "{0} Centre", (_LAST,)),
        (0.5, "One {0} Plaza", ("cities",)), (1, "{0} Building", (_LAST,)),
        (0.7, "{0} Financial Centre", ("cities",)), (0.5, "{0} Trade Center", ("cities",)),
        (0.7, "{0} Place", (_LAST,)), (0.5, "{0} {1} Tower", (_ADJ, _NOUN)), (0.4, "The {0}", (_NOUN,)),
    ),
    "mountain": (
        (3, "Mount {0}", (_LAST,)), (2, "{0} Peak", (_LAST,)), (1, "{0} Peak", (_NOUN,)),
        (1, "{0} Mountain", (_ADJ,)), (0.5, "{0} Dome", (_ADJ,)), (0.5, "{0} Spire", (_NOUN,)),
    ),
    "tournament": (
        (3, "{0} Open", ("cities",)), (1, "{0} Championships", ("cities",)), (1, "{0} Masters", ("cities",)),
        (0.7, "{0} International", ("cities",)), (0.5, "{0} Classic", ("cities",)),
        (0.5, "{0} Indoors", ("cities",)),
    ),
    "language": ((1, "{0}", ("language",)),),
    "film_note": ((1, "{0}", ("film_note",)),),
    "athletics_note": ((1, "{0}", ("athletics_note",)),),
    "position": ((1, "{0}", ("position_short",)), (1, "{0}", ("position_long",))),
    "home_away": ((1, "{0}", ("home_away_long",)), (1, "{0}", ("home_away_short",))),
    "award_result": ((1, "{0}", ("award_result",)),),
    "certification": ((1, "{0}", ("certification",)),),
    "surface": ((1, "{0}", ("surface",)),),
    "outcome": ((2, "{0}", ("outcome_long",)), (1, "{0}", ("outcome_short",))),
    "competition": ((1, "{0}", ("competition",)),),
    "league": ((1, "{0}", ("league",)),),
    "cup_round": ((1, "{0}", ("cup_round",)),),
}


def word_list(ref: str) -> tuple[str, ...]:
    """``words`` by reference: ``"cities"`` is field 0 of cities.txt, ``"cities:1"`` field 1."""
    name, _, field = ref.partition(":")
    return words(name, int(field or 0))


_SLOT = 0xFFFF


@functools.lru_cache(maxsize=1 << 16)  # few distinct values; formatting is slow
def _season_text(w0: int, w1: int, w2: int) -> str:
    year = (w0 << 32) | (w1 << 16) | w2
    nxt = year + 1
    return f"{year}–{nxt}" if nxt % 100 == 0 else f"{year}–{nxt % 100:02d}"


@functools.lru_cache(maxsize=1 << 16)
def _score_text(w0: int, w1: int, w2: int) -> str:
    return f"{w2 >> 8}–{w2 & 255}"


@functools.lru_cache(maxsize=1 << 16)
def _result_score_text(w0: int, w1: int, w2: int) -> str:
    a, b = w2 >> 8, w2 & 255
    return f"{'W' if a > b else ('L' if a < b else 'D')} {a}–{b}"


@functools.lru_cache(maxsize=1 << 12)  # many distinct scores: keep the cache small
def _tennis_text(w0: int, w1: int, w2: int) -> str:
    item = (w0 << 32) | (w1 << 16) | w2
    return ", ".join(f"{(item >> (7 + 8 * s)) & 15}–{(item >> (3 + 8 * s)) & 15}" for s in range(item & 7))


#: Text columns that are not plain space items: formatter name -> text of an item given
#: as its three 16-bit words (bits 32..47, 16..31, 0..15; see ``symjax.sql._random_kernels``).
SPECIAL_FORMATS: dict[str, Callable[[int, int, int], str]] = {
    "season": _season_text,
    "score": _score_text,
    "result_score": _result_score_text,
    "tennis_score": _tennis_text,
}


def template_parts(pattern: str, lists: tuple[tuple[str, ...], ...]) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """Render a template as two word tables whose concatenation is the text.

    An item with word indices (a, b) reads ``first[a] + second[b]``: the literal pieces of
    the pattern are folded into the words once, so rendering costs two lookups and one
    concatenation. Templates hold "{0}" then optionally "{1}"; unused slots read index 0.
    """
    if not lists:
        return (pattern,), ("",)
    a, rest = pattern.split("{0}")
    if len(lists) == 1:
        first = lists[0] if not a and not rest else tuple(a + w + rest for w in lists[0])
        return first, ("",)
    mid, b = rest.split("{1}")
    first = lists[0] if not a else tuple(a + w for w in lists[0])
    second = lists[1] if not mid and not b else tuple(mid + w + b for w in lists[1])
    return first, second
