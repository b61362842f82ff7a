"""symjax.sql: the data core (pure numpy/numba; importing it pulls in no TensorFlow or JAX)."""
from symjax.sql.table import (
    COLUMN_TYPES, DATE, INTEGER, REAL, TEXT, Table, dedupe_header, format_number,
)

__all__ = [
    "COLUMN_TYPES", "DATE", "INTEGER", "REAL", "TEXT", "Table", "dedupe_header", "format_number",
]
