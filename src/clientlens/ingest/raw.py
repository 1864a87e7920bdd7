"""What a source yields: :class:`RawTable` batches of text columns, and the limits of a read.

A source reads a file as a stream of ``RawTable`` batches (bounded memory: one block of the file
and one batch of rows at a time); every batch carries the file's headers, the 1-based data row and
physical line of each row, and the rows that could not be split into fields as rejections.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import polars as pl
import pyarrow as pa

from clientlens.errors import InputError
from clientlens.ingest.columns import norm
from clientlens.ingest.quarantine import empty_rejections


@dataclass
class RawTable:
    """One batch of a read: string columns under the file's headers, positions, early rejections.

    ``formulas`` lists the spreadsheet cells that hold a formula without a saved value
    (``_row``, ``column``, ``formula``): the cell reads as empty, but it is not.
    """

    source: str
    table: pa.Table
    row: np.ndarray
    line: np.ndarray
    rejections: pl.DataFrame = field(default_factory=empty_rejections)
    encoding: str | None = None
    delimiter: str | None = None
    formulas: pl.DataFrame | None = None

    @property
    def headers(self) -> list[str]:
        return list(self.table.column_names)


@dataclass(frozen=True)
class ReadLimits:
    """How a file is read: block size in bytes, rows per batch, the binary-file threshold."""

    block_bytes: int = 1 << 20
    batch_rows: int = 50_000
    binary_share: float = 0.05


def check_header(names: list[str], source: str) -> None:
    """InputError when two header cells name the same column (compared as headers are matched:
    case, spaces, ``_`` and ``-`` ignored), naming both positions."""
    seen: dict[str, int] = {}
    for i, name in enumerate(names, start=1):
        key = norm(str(name))
        if not key:
            continue
        if key in seen:
            first = names[seen[key] - 1]
            raise InputError(f"{source}: the header names the same column twice: {first!r} (column {seen[key]}) "
                             f"and {name!r} (column {i}); rename or remove one of them")
        seen[key] = i


def unique_names(names: list[str]) -> list[str]:
    """Headers made usable as column names: blanks become ``column_<n>`` (repeats get a suffix)."""
    seen: dict[str, int] = {}
    out = []
    for i, n in enumerate(names):
        n = n.strip() or f"column_{i + 1}"
        if n in seen:
            seen[n] += 1
            n = f"{n}_{seen[n]}"
        else:
            seen[n] = 1
        out.append(n)
    return out
