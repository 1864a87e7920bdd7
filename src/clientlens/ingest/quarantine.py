"""Rejected rows: how they are described, and the quarantine file ``<input name>.rejected.csv``.

Rejections are kept as a Polars frame (vectorised, never one Python object per row) with the columns
``row`` (1-based data row), ``line`` (physical line), ``column``, ``value``, ``rule``, ``message``,
followed by the original fields of the row.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from pathlib import Path

import polars as pl

REJECTION_COLUMNS = ("row", "line", "column", "value", "rule", "message")
REJECTION_SCHEMA = {"row": pl.Int64, "line": pl.Int64, "column": pl.String, "value": pl.String,
                    "rule": pl.String, "message": pl.String}
# Original fields longer than this are cut in the quarantine file (a 10 MB field stays out of it).
QUARANTINE_FIELD_CHARS = 1000
# Original fields are carried in rejection frames under this prefix (they may share a name with
# ``row`` or ``value``); the file's header shows them without it.
FIELD_PREFIX = "field:"


@dataclass(frozen=True)
class Rejection:
    """One rejected value, for summaries and error messages."""

    file: str
    row: int
    line: int
    column: str
    value: str
    rule: str
    message: str

    def describe(self) -> str:
        value = self.value if len(self.value) <= 60 else self.value[:57] + "..."
        return (f"{self.file}: row {self.row} (line {self.line}), column {self.column or '-'}: "
                f"{self.message} [{self.rule}] value {value!r}")


def empty_rejections() -> pl.DataFrame:
    return pl.DataFrame(schema=REJECTION_SCHEMA)


def concat_rejections(frames: list[pl.DataFrame]) -> pl.DataFrame:
    frames = [f for f in frames if f.height]
    if not frames:
        return empty_rejections()
    out = pl.concat(frames, how="diagonal_relaxed")
    return out.sort(["row", "line"], maintain_order=True)


def first_rejections(frame: pl.DataFrame, file: str, n: int) -> list[Rejection]:
    """The first ``n`` rejections as objects (for the summary)."""
    out = []
    for rec in frame.head(n).select(REJECTION_COLUMNS).iter_rows(named=True):
        out.append(Rejection(file=file, row=int(rec["row"] or 0), line=int(rec["line"] or 0),
                             column=rec["column"] or "", value=rec["value"] or "", rule=rec["rule"] or "",
                             message=rec["message"] or ""))
    return out


def quarantine_path(input_path: str | Path, directory: str | Path | None = None) -> Path:
    """``<input name>.rejected.csv`` in ``directory`` (default: the current directory)."""
    name = Path(input_path).name
    return Path(directory or ".") / f"{name}.rejected.csv"


def write_quarantine(rejections: pl.DataFrame, input_path: str | Path, *,
                     directory: str | Path | None = None) -> Path | None:
    """Write (replacing) the quarantine file; remove a stale one when nothing was rejected.

    Returns the path written, or None when there were no rejections.
    """
    path = quarantine_path(input_path, directory)
    if rejections.height == 0:
        path.unlink(missing_ok=True)
        return None
    extra = [c for c in rejections.columns if c.startswith(FIELD_PREFIX)]
    cut = [pl.when(pl.col(c).str.len_chars() > QUARANTINE_FIELD_CHARS)
           .then(pl.col(c).str.slice(0, QUARANTINE_FIELD_CHARS) + pl.lit("...[cut]"))
           .otherwise(pl.col(c)).alias(c) for c in ("value", *extra)]
    out = rejections.with_columns(pl.col(c).cast(pl.String) for c in extra).with_columns(cut)
    out = out.select(*REJECTION_COLUMNS, *extra)
    tmp = path.with_name(path.name + ".tmp")
    header = [*REJECTION_COLUMNS, *(c[len(FIELD_PREFIX):] for c in extra)]
    head = io.StringIO()
    csv.writer(head, lineterminator="\n").writerow(header)
    body = io.BytesIO()
    out.write_csv(body, include_header=False)
    with tmp.open("wb") as fh:
        fh.write(head.getvalue().encode("utf-8"))
        fh.write(body.getvalue())
    tmp.replace(path)
    return path
