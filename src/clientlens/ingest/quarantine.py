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


def _body(rejections: pl.DataFrame, extra: list[str]) -> bytes:
    """The CSV rows of ``rejections`` (rejection columns, then the fields ``extra``; long fields cut,
    NUL bytes written as ``\\x00`` so the quarantine file stays text)."""
    missing = [c for c in extra if c not in rejections.columns]
    out = rejections.with_columns(pl.lit(None, dtype=pl.String).alias(c) for c in missing)
    out = out.with_columns(pl.col(c).cast(pl.String) for c in extra)
    cut = [pl.when(pl.col(c).str.len_chars() > QUARANTINE_FIELD_CHARS)
           .then(pl.col(c).str.slice(0, QUARANTINE_FIELD_CHARS) + pl.lit("...[cut]"))
           .otherwise(pl.col(c)).str.replace_all("\x00", "\\x00", literal=True).alias(c) for c in ("value", *extra)]
    out = out.with_columns(cut).select(*REJECTION_COLUMNS, *extra)
    body = io.BytesIO()
    out.write_csv(body, include_header=False)
    return body.getvalue()


def _header(extra: list[str]) -> bytes:
    head = io.StringIO()
    csv.writer(head, lineterminator="\n").writerow([*REJECTION_COLUMNS, *(c[len(FIELD_PREFIX):] for c in extra)])
    return head.getvalue().encode("utf-8")


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
    tmp = path.with_name(path.name + ".tmp")
    with tmp.open("wb") as fh:
        fh.write(_header(extra))
        fh.write(_body(rejections, extra))
    tmp.replace(path)
    return path


class QuarantineWriter:
    """The quarantine file written batch by batch (bounded memory): rows go to a temporary file
    that replaces ``<input name>.rejected.csv`` on :meth:`finish`; the first ``preview`` rejections
    and the number of rejected rows are kept for the summary."""

    def __init__(self, input_path: str | Path, headers: list[str], *, source: str, preview: int,
                 directory: str | Path | None = None) -> None:
        self.path = quarantine_path(input_path, directory)
        self._tmp = self.path.with_name(self.path.name + ".tmp")
        self._extra = [FIELD_PREFIX + h for h in headers]
        self._fh: io.BufferedWriter | None = None
        self._source = source
        self._preview = preview
        self.rows = 0
        self.first: list[Rejection] = []

    def add(self, rejections: pl.DataFrame) -> None:
        """Append one batch's rejections (rows of one batch never recur in another)."""
        if rejections.height == 0:
            return
        rejections = concat_rejections([rejections])
        self.rows += int(rejections.get_column("row").n_unique())
        if len(self.first) < self._preview:
            self.first += first_rejections(rejections, self._source, self._preview - len(self.first))
        if self._fh is None:
            self._fh = self._tmp.open("wb")
            self._fh.write(_header(self._extra))
        self._fh.write(_body(rejections, self._extra))

    def finish(self) -> Path | None:
        """Put the file in place (or remove a stale one when nothing was rejected)."""
        if self._fh is None:
            self.path.unlink(missing_ok=True)
            return None
        self._fh.close()
        self._fh = None
        self._tmp.replace(self.path)
        return self.path

    def discard(self) -> None:
        """Drop what was written (the import was rolled back; the previous file stays)."""
        if self._fh is not None:
            self._fh.close()
            self._fh = None
        self._tmp.unlink(missing_ok=True)
