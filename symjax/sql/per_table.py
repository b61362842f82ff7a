"""A cache that one module keeps for each table it has seen (STYLE: each module owns its
cache; nothing else reads it).

:class:`Table` compares by content, so it cannot key a ``weakref.WeakKeyDictionary``;
:class:`PerTable` keys by identity instead and drops a table's entry when the table dies
(the weak reference's callback runs before the table's id can be reused).
"""
from __future__ import annotations

import weakref
from typing import Any, Callable, Generic, TypeVar

V = TypeVar("V")

__all__ = ["PerTable"]


class PerTable(Generic[V]):
    """Values keyed by a table's identity, dropped with the table."""

    __slots__ = ("_values", "__weakref__")

    def __init__(self):
        self._values: dict[int, tuple[weakref.ref, V]] = {}

    def get(self, table: Any, default: Any = None) -> V | Any:
        entry = self._values.get(id(table))
        return default if entry is None else entry[1]

    def __contains__(self, table: Any) -> bool:
        return id(table) in self._values

    def __setitem__(self, table: Any, value: V) -> None:
        key = id(table)
        values = self._values
        this = weakref.ref(self)

        def drop(_, key=key):
            owner = this()
            if owner is not None:
                owner._values.pop(key, None)

        values[key] = (weakref.ref(table, drop), value)

    def setdefault(self, table: Any, make: Callable[[], V]) -> V:
        """The table's value, made by ``make()`` and kept on first use."""
        entry = self._values.get(id(table))
        if entry is not None:
            return entry[1]
        value = make()
        self[table] = value
        return value

    def __len__(self) -> int:
        return len(self._values)
