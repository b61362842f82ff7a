"""Word lists behind the synthetic tables of :mod:`symjax.sql.tables`.

Two kinds of lists, both looked up by name through :func:`words`:

* files under ``symjax/sql/vocab/*.txt`` (package data): one entry per line, UTF-8, an
  optional second field after a tab (``cities.txt`` pairs each city with its country);
  read lazily on first use and cached;
* short closed lists written here (result codes, positions, league ladders, ...), too small
  or too structured to deserve a file.

Entries within a list are distinct, so distinct indices give distinct strings, except in
the few built-in lists that repeat an entry on purpose to weight it (``award_result`` has
``Nominated`` twice: nominations outnumber wins).
"""
from __future__ import annotations

import functools
from importlib import resources

from symjax.errors import ConfigError, MissingDataError

__all__ = ["BUILTIN_LISTS", "LEAGUE_TIERS", "file_lists", "list_names", "words"]

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
    "athletics_note": ("Q", "Q", "q", "PB", "SB", "NR", "Q, PB", "SB", "WR", "AR", "DQ"),
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
    folder = resources.files("symjax.sql").joinpath("vocab")
    return tuple(sorted(p.name[:-4] for p in folder.iterdir() if p.name.endswith(".txt")))


def list_names() -> tuple[str, ...]:
    """Every name :func:`words` accepts."""
    return tuple(sorted(set(file_lists()) | set(BUILTIN_LISTS)))


@functools.lru_cache(maxsize=None)
def _read_file(name: str) -> tuple[tuple[str, ...], ...]:
    path = resources.files("symjax.sql").joinpath("vocab", f"{name}.txt")
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
