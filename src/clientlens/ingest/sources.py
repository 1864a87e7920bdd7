"""Sources: CSV (any delimiter, whitespace-separated, gzip), Parquet and Excel behind one interface.

``open_source(path, options, limits)`` yields the file as :class:`RawTable` batches in bounded memory
(CSV by blocks, Parquet by record batches, Excel through openpyxl's read-only mode): every column as
strings under the file's own headers, the 1-based data row and physical line of each row, and the
rows that could not even be split into fields (wrong field count, a file cut off inside its last
row) as rejections. Files that cannot be used at all (empty, binary, undecodable, not a table, a
header naming one column twice) raise InputError before the first batch.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from pathlib import Path
from typing import Any, Protocol

import numpy as np
import polars as pl
import pyarrow as pa
import pyarrow.compute as pc

from clientlens.errors import InputError
from clientlens.ingest.csv_source import CsvSource, sniff_delimiter
from clientlens.ingest.options import ParseOptions
from clientlens.ingest.quarantine import concat_rejections
from clientlens.ingest.raw import RawTable, ReadLimits, check_header, unique_names

__all__ = ["CsvSource", "ExcelSource", "ParquetSource", "RawTable", "ReadLimits", "Source", "open_source",
           "read_source", "sniff_delimiter", "source_for"]


class Source(Protocol):
    """One way in: read a file as a stream of :class:`RawTable` batches."""

    def batches(self, path: Path, options: ParseOptions, limits: ReadLimits) -> Iterator[RawTable]: ...


def _strings(table: pa.Table | pa.RecordBatch, names: list[str]) -> pa.Table:
    cols = []
    for col in table.columns:
        if pa.types.is_timestamp(col.type):
            col = pc.strftime(col, format="%Y-%m-%d %H:%M:%S")
        elif pa.types.is_date(col.type):
            col = pc.strftime(col, format="%Y-%m-%d")
        cols.append(pc.utf8_trim_whitespace(col.cast(pa.string())))
    return pa.table(cols, names=names)


def _numbered(source: str, table: pa.Table, first_row: int, header_lines: int) -> RawTable:
    rows = np.arange(first_row, first_row + table.num_rows, dtype=np.int64)
    return RawTable(source=source, table=table, row=rows, line=rows + header_lines)


class ParquetSource:
    """Parquet files, record batch by record batch: columns cast to strings, then validated like CSV."""

    def batches(self, path: Path, options: ParseOptions, limits: ReadLimits) -> Iterator[RawTable]:
        import pyarrow.parquet as pq

        try:
            pf = pq.ParquetFile(path)
        except (pa.ArrowInvalid, OSError) as exc:
            raise InputError(f"{path.name}: not a readable Parquet file: {exc}") from exc
        header = [str(n) for n in pf.schema_arrow.names]
        check_header(header, path.name)
        names = unique_names(header)
        done = 0
        try:
            for batch in pf.iter_batches(batch_size=max(1, limits.batch_rows)):
                table = _strings(batch, names)
                yield _numbered(path.name, table, done + 1, 0)
                done += table.num_rows
        except (pa.ArrowInvalid, OSError) as exc:
            raise InputError(f"{path.name}: not a readable Parquet file: {exc}") from exc
        if done == 0:
            yield _numbered(path.name, pa.table({n: pa.array([], pa.string()) for n in names}), 1, 0)


def _cell(v: object) -> str | None:
    if v is None or v == "":
        return None
    if isinstance(v, dt.datetime):
        return v.isoformat(sep=" ")
    if isinstance(v, dt.date):
        return v.isoformat()
    if isinstance(v, float) and v.is_integer():
        return str(int(v))
    return str(v)


class ExcelSource:
    """Excel .xlsx (first sheet; the first non-empty row is the header), read row by row.

    The workbook is read twice side by side (saved values and formulas), so a formula cell whose
    value was never saved (a workbook written by a program, never opened in Excel) is reported
    instead of read as empty.
    """

    def batches(self, path: Path, options: ParseOptions, limits: ReadLimits) -> Iterator[RawTable]:
        from openpyxl import load_workbook

        try:
            values_wb = load_workbook(path, read_only=True, data_only=True)
            formula_wb = load_workbook(path, read_only=True, data_only=False)
        except Exception as exc:  # openpyxl raises many kinds
            raise InputError(f"{path.name}: not a readable .xlsx workbook: {exc}") from exc
        try:
            yield from self._rows(path.name, values_wb.worksheets[0].iter_rows(values_only=True),
                                  formula_wb.worksheets[0].iter_rows(values_only=True), limits)
        finally:
            values_wb.close()
            formula_wb.close()

    @staticmethod
    def _rows(source: str, values: Iterator[tuple[Any, ...]], formulas: Iterator[tuple[Any, ...]],
              limits: ReadLimits) -> Iterator[RawTable]:
        header: list[str] | None = None
        skipped = 0
        for vals in values:
            next(formulas, None)
            skipped += 1
            if any(v not in (None, "") for v in vals):
                header = ["" if v is None else str(v) for v in vals]
                break
        if header is None:
            raise InputError(f"{source}: empty workbook (no header, no rows)")
        check_header(header, source)
        names = unique_names(header)
        width = len(header)
        cols: list[list[str | None]] = [[] for _ in header]
        missing: list[tuple[int, str, str]] = []
        done = 0

        def flush() -> RawTable:
            table = pa.table([pa.array(c, type=pa.string()) for c in cols], names=names)
            out = _numbered(source, _strings(table, names), done + 1, skipped)
            if missing:
                out.formulas = pl.DataFrame(missing, schema={"_row": pl.Int64, "column": pl.String,
                                                             "formula": pl.String}, orient="row")
            return out

        for vals in values:
            forms = next(formulas, None) or ()
            n = len(cols[0])
            for i in range(width):
                v = vals[i] if i < len(vals) else None
                if v is None and i < len(forms) and isinstance(forms[i], str) and forms[i].startswith("="):
                    missing.append((done + n + 1, names[i], forms[i]))
                cols[i].append(_cell(v))
            if len(cols[0]) >= limits.batch_rows:
                yield flush()
                done += len(cols[0])
                cols = [[] for _ in header]
                missing = []
        if cols[0] or done == 0:
            yield flush()


def source_for(path: Path) -> Source:
    """The source that reads ``path`` (by its first bytes, then its extension)."""
    with path.open("rb") as fh:
        magic = fh.read(4)
    name = path.name.lower()
    if magic == b"PAR1" or name.endswith(".parquet"):
        return ParquetSource()
    if magic == b"PK\x03\x04" or name.endswith((".xlsx", ".xlsm")):
        return ExcelSource()
    return CsvSource()


def open_source(path: str | Path, options: ParseOptions | None = None,
                limits: ReadLimits | None = None) -> Iterator[RawTable]:
    """The batches of ``path`` read by the right source; InputError if it does not exist or is
    unusable (raised by the first ``next``)."""
    p = Path(path)
    if not p.is_file():
        raise InputError(f"{p}: no such file")
    return source_for(p).batches(p, options or ParseOptions(), limits or ReadLimits())


def read_source(path: str | Path, options: ParseOptions | None = None,
                limits: ReadLimits | None = None) -> RawTable:
    """The whole of ``path`` as one :class:`RawTable` (small files and tests; imports stream)."""
    parts = list(open_source(path, options, limits))
    first = parts[0]
    table = pa.concat_tables([p.table for p in parts])
    formulas = [p.formulas for p in parts if p.formulas is not None]
    raw = RawTable(source=first.source, table=table, row=np.concatenate([p.row for p in parts]),
                   line=np.concatenate([p.line for p in parts]),
                   rejections=concat_rejections([p.rejections for p in parts]), encoding=first.encoding,
                   delimiter=first.delimiter, formulas=pl.concat(formulas) if formulas else None)
    if raw.table.num_rows == 0 and raw.rejections.height == 0:
        raise InputError(f"{raw.source}: no data rows below the header")
    return raw
