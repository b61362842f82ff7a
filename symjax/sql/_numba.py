"""The one place numba flags come from (STYLE habit 2).

``SYMJAX_NUMBA_CACHE=0`` turns the on-disk cache off (useful on read-only installs).
Kernels are always compiled with ``nogil`` so that a caller may run shards in threads.
"""
from __future__ import annotations

import os

import numba

CACHE = os.environ.get("SYMJAX_NUMBA_CACHE", "1") != "0"
FASTMATH = False  # exact IEEE semantics: answers must equal SQLite's bit for bit.


def njit(*args, **kwargs):
    """``numba.njit`` with symjax's flags; use as ``@njit`` or ``@njit(...)``."""
    options = {"cache": CACHE, "fastmath": FASTMATH, "nogil": True}
    options.update(kwargs)
    if args and callable(args[0]):
        return numba.njit(**options)(args[0])
    return numba.njit(*args, **options)
