"""One exception hierarchy for symjax.

Every error says what was wrong, shows the offending value and, where there is one, the fix.
Catch :class:`SymjaxError` to catch everything symjax raises on purpose.
"""
from __future__ import annotations

__all__ = [
    "SymjaxError",
    "ConfigError",
    "TableError",
    "TableFormatError",
    "CellTypeError",
    "SqlError",
    "UnsupportedSqlError",
    "SqlOverflowError",
    "SamplingError",
    "DataError",
    "MissingDataError",
    "VocabularyError",
    "ModelError",
    "ShardingError",
    "CheckpointError",
    "TrainingError",
    "OutputError",
]


class SymjaxError(Exception):
    """Base class of every error symjax raises deliberately."""


class ConfigError(SymjaxError, ValueError):
    """A configuration value is invalid (unknown name, out of range, inconsistent)."""


class TableError(SymjaxError, ValueError):
    """A table cannot be built: ragged rows, no columns, bad header, bad types."""


class TableFormatError(TableError):
    """A table file cannot be read: the message names the file and line."""


class CellTypeError(TableError):
    """A cell contradicts the type declared for its column (names row, column, value)."""


class SqlError(SymjaxError, ValueError):
    """SQL text is malformed or refers to something the table lacks."""


class UnsupportedSqlError(SqlError):
    """Valid SQL that uses a construct outside the subset symjax executes."""


class SqlOverflowError(SqlError, OverflowError):
    """Executing SQL overflowed a 64-bit integer where SQLite raises "integer overflow"
    (``SUM`` of integers, ``ABS`` of the smallest integer)."""


class SamplingError(SymjaxError, RuntimeError):
    """The query sampler could not produce a query under the given constraints."""


class DataError(SymjaxError, ValueError):
    """A data file or record is malformed (names the file and line)."""


class MissingDataError(DataError, FileNotFoundError):
    """An expected data file or directory is absent (names it and where to get it)."""


class VocabularyError(SymjaxError, ValueError):
    """Vocabularies disagree, or a token id is out of range."""


class ModelError(SymjaxError, ValueError):
    """A model configuration or input is inconsistent (shows both values)."""


class ShardingError(SymjaxError, ValueError):
    """An array axis does not divide the mesh axis it is sharded over."""


class CheckpointError(SymjaxError, ValueError):
    """A checkpoint is missing, corrupt, or does not match the model."""


class TrainingError(SymjaxError, RuntimeError):
    """Training cannot go on (non-finite loss, inconsistent run directory, ...)."""


class OutputError(SymjaxError, OSError):
    """An output cannot be written where asked (exists, is a directory, read-only, full
    disk, ...): names the path, the reason and what to do."""
