"""Sources: CSV (any delimiter, whitespace-separated, gzip), Parquet and Excel behind one interface.

``read_source(path, options)`` returns a :class:`RawTable`: every column as strings under the file's
own headers, the 1-based data row and physical line of each row, and the rows that could not even be
split into fields (wrong field count, a file cut off inside its last row) as rejections.
Files that cannot be used at all (empty, binary, undecodable, not a table) raise InputError.
"""

from __future__ import annotations

import csv
import gzip
import io
import logging
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol

import numpy as np
import polars as pl
import pyarrow as pa
import pyarrow.compute as pc

from clientlens.errors import InputError
from clientlens.ingest.options import ParseOptions
from clientlens.ingest.quarantine import FIELD_PREFIX, concat_rejections, empty_rejections

log = logging.getLogger(__name__)

DETECT_ENCODINGS = ("cp1250", "cp1258", "latin_1")
SNIFF_DELIMITERS = (",", ";", "\t", "|")
_WS_RUN = re.compile(r"[ \t]+")
_WS_EDGE = re.compile(r"(?m)^[ \t]+|[ \t]+(?=\r?$)")


@dataclass
class RawTable:
    """What a source read: string columns under the file's headers, positions, early rejections."""

    source: str
    table: pa.Table
    row: np.ndarray
    line: np.ndarray
    rejections: pl.DataFrame = field(default_factory=empty_rejections)
    encoding: str | None = None
    delimiter: str | None = None

    @property
    def headers(self) -> list[str]:
        return list(self.table.column_names)


class Source(Protocol):
    """One way in: read a file into a :class:`RawTable`."""

    def read(self, path: Path, options: ParseOptions) -> RawTable: ...


def _unique(names: list[str]) -> list[str]:
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


def _check_binary(data: bytes, source: str) -> None:
    head = data[:65536]
    if head.startswith((b"\xff\xfe", b"\xfe\xff")):
        return  # UTF-16 with BOM: decodable
    if b"\x00" in head:
        raise InputError(f"{source}: binary file (NUL bytes at byte {head.index(0)}); "
                         "expected CSV text, Parquet or .xlsx")
    ctrl = sum(head.count(bytes([c])) for c in (*range(1, 9), 11, 12, *range(14, 32)))
    if head and ctrl / len(head) > 0.05:
        raise InputError(f"{source}: binary file ({ctrl} control bytes in the first {len(head)}); "
                         "expected CSV text, Parquet or .xlsx")


def decode(data: bytes, encoding: str | None, source: str) -> tuple[str, str]:
    """The text of ``data`` and the encoding used: given, or detected (BOM, UTF-8, charset-normalizer)."""
    if encoding:
        try:
            return data.decode(encoding), encoding
        except LookupError as exc:
            raise InputError(f"{source}: unknown encoding {encoding!r}") from exc
        except UnicodeDecodeError as exc:
            line = data.count(b"\n", 0, exc.start) + 1
            raise InputError(f"{source}: not valid {encoding} at line {line}, byte {exc.start} "
                             f"({data[exc.start:exc.start + 4]!r}); give the right --encoding") from exc
    if data.startswith(b"\xef\xbb\xbf"):
        return data[3:].decode("utf-8", errors="strict"), "utf-8-sig"
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        return data.decode("utf-16"), "utf-16"
    try:
        return data.decode("utf-8"), "utf-8"
    except UnicodeDecodeError:
        pass
    from charset_normalizer import from_bytes

    results = list(from_bytes(data[:1_000_000], cp_isolation=list(DETECT_ENCODINGS)))
    if not results:
        raise InputError(f"{source}: cannot tell the text encoding (tried UTF-8, {', '.join(DETECT_ENCODINGS)});"
                         " give it with --encoding")
    # Best (least chaos, most coherence); ties go to the most common encoding (latin-1 first).
    top = min((r.chaos, -r.coherence) for r in results)
    tied = {cs for r in results if (r.chaos, -r.coherence) == top for cs in r.could_be_from_charset}
    enc = next(e for e in (*DETECT_ENCODINGS[::-1], *sorted(tied)) if e in tied)
    try:
        return data.decode(enc), enc
    except UnicodeDecodeError as exc:
        line = data.count(b"\n", 0, exc.start) + 1
        raise InputError(f"{source}: undecodable bytes at line {line} (detected {enc}); give --encoding") from exc


def sniff_delimiter(text: str) -> str:
    """The delimiter of the first lines: one of ``, ; TAB |``, or ``" "`` for whitespace-separated."""
    lines = [ln for ln in text[:65536].splitlines()[:20] if ln.strip()]
    if not lines:
        return ","
    best, best_score = None, 0
    for d in SNIFF_DELIMITERS:
        counts = [ln.count(d) for ln in lines]
        if counts[0] == 0:
            continue
        consistent = sum(1 for c in counts if c == counts[0])
        score = consistent * 1000 + counts[0]
        if score > best_score:
            best, best_score = d, score
    if best is not None:
        return best
    return " " if len(lines[0].split()) > 1 else ","


def _truncated_cut(buf: bytes) -> int | None:
    """Byte offset where a last row with an unterminated quote starts, or None if quotes balance."""
    arr = np.frombuffer(buf, dtype=np.uint8)
    if np.count_nonzero(arr == 34) % 2 == 0:
        return None
    quotes = np.flatnonzero(arr == 34)
    starts = np.concatenate(([0], np.flatnonzero(arr == 10) + 1))
    starts = starts[starts < len(arr)]
    before = np.searchsorted(quotes, starts)
    even = starts[before % 2 == 0]
    return int(even[-1]) if len(even) else 0


class CsvSource:
    """Delimited text: any delimiter, whitespace-separated (CDNOW), quoted fields, gzip."""

    def read(self, path: Path, options: ParseOptions) -> RawTable:
        import pyarrow.csv as pacsv

        source = path.name
        data = path.read_bytes()
        if data[:2] == b"\x1f\x8b":
            try:
                data = gzip.decompress(data)
            except (OSError, EOFError) as exc:
                raise InputError(f"{source}: damaged gzip file: {exc}") from exc
        if not data.strip():
            raise InputError(f"{source}: empty file (no header, no rows)")
        _check_binary(data, source)
        text, encoding = decode(data, options.encoding, source)
        if text.startswith("\ufeff"):  # a BOM left by an explicit --encoding utf-8
            text, encoding = text[1:], f"{encoding} (BOM)"
        if not text.strip():
            raise InputError(f"{source}: empty file (no header, no rows)")
        delim = options.delimiter or sniff_delimiter(text)
        quoting = True
        if delim == " ":
            text = _WS_EDGE.sub("", _WS_RUN.sub("\t", text))
            delim, quoting = "\t", False
        # Already UTF-8 and untouched: hand the bytes over without a copy.
        buf = data if encoding == "utf-8" and quoting else text.encode("utf-8")
        header = next(csv.reader(io.StringIO(text[:1_000_000]), delimiter=delim,
                                 quoting=csv.QUOTE_MINIMAL if quoting else csv.QUOTE_NONE), [])
        if not header or all(not h.strip() for h in header):
            raise InputError(f"{source}: no header row found")
        names = _unique(header)
        header_end = buf.find(b"\n") + 1 if b"\n" in buf else len(buf)
        rejected: list[dict[str, object]] = []
        cut = _truncated_cut(buf) if quoting else None
        if cut is not None and cut < header_end:
            raise InputError(f"{source}: the header row has an unterminated quote; not a readable table")
        tail = b""
        if cut is not None:
            buf, tail = buf[:cut], buf[cut:]
        invalid: list[tuple[int, str, int]] = []
        blank: list[int] = []

        def handler(row: pacsv.InvalidRow) -> str:
            if not row.text.strip():  # an empty line: not a data row, but it counts as a line
                blank.append(int(row.number or 0))
            else:
                invalid.append((int(row.number or 0), row.text, int(row.actual_columns)))
            return "skip"

        try:
            table = pacsv.read_csv(
                io.BytesIO(buf),
                read_options=pacsv.ReadOptions(use_threads=False, column_names=names, skip_rows=1,
                                               block_size=max(1 << 22, min(len(buf) + 1024, (1 << 31) - 1))),
                parse_options=pacsv.ParseOptions(delimiter=delim, quote_char='"' if quoting else False,
                                                 newlines_in_values=quoting, invalid_row_handler=handler,
                                                 ignore_empty_lines=len(names) == 1),
                convert_options=pacsv.ConvertOptions(column_types={n: pa.string() for n in names},
                                                     null_values=[""], strings_can_be_null=True,
                                                     quoted_strings_can_be_null=True),
            )
        except pa.ArrowInvalid as exc:
            raise InputError(f"{source}: not a readable table: {exc}") from exc
        n_records = table.num_rows + len(invalid) + len(blank)
        # Record numbers (1 = header). Rows read are the records not reported invalid; empty lines
        # (every field null) are not data rows: data row numbers skip them, line numbers do not.
        all_numbers = np.arange(2, n_records + 2, dtype=np.int64)
        read_numbers = np.setdiff1d(all_numbers, np.array(blank + [i[0] for i in invalid], dtype=np.int64),
                                    assume_unique=True)
        # Extra physical lines inside records (quoted newlines) shift the line numbers after them.
        extra = np.zeros(n_records + 3, dtype=np.int64)
        if quoting and table.num_rows:
            nl = np.zeros(table.num_rows, dtype=np.int64)
            for col in table.columns:
                counts = pc.count_substring(col, "\n").fill_null(0)
                nl += counts.to_numpy(zero_copy_only=False).astype(np.int64)
            extra[read_numbers] = nl
        empty = np.ones(table.num_rows, dtype=bool)
        for col in table.columns:
            empty &= pc.is_null(col).to_numpy(zero_copy_only=False)
        if empty.any():
            blank.extend(read_numbers[empty].tolist())
            table = table.filter(pa.array(~empty))
            read_numbers = read_numbers[~empty]
        data_numbers = np.setdiff1d(all_numbers, np.array(blank, dtype=np.int64), assume_unique=True)
        valid_numbers = read_numbers

        def row_of(numbers: np.ndarray) -> np.ndarray:
            return np.searchsorted(data_numbers, numbers) + 1

        for num, txt, _ in invalid:
            extra[num] = txt.count("\n")
        shift = np.cumsum(extra)  # newlines inside records up to and including record k
        line_of = np.arange(n_records + 3, dtype=np.int64) + np.concatenate(([0], shift[:-1]))
        for num, txt, ncols in invalid:
            fields = txt.split(delim)
            rec: dict[str, object] = {"row": int(row_of(np.array([num]))[0]), "line": int(line_of[num]), "column": "",
                                      "value": txt[:200], "rule": "field_count",
                                      "message": f"{ncols} fields where the header has {len(names)}"}
            rec.update({FIELD_PREFIX + n: (fields[i] if i < len(fields) else None) for i, n in enumerate(names)})
            rejected.append(rec)
        if tail.strip():
            last_line = int(line_of[n_records + 2])
            snippet = tail.decode("utf-8", errors="replace")
            rec = {"row": len(data_numbers) + 1, "line": last_line, "column": "", "value": snippet[:200],
                   "rule": "truncated", "message": "the file ends inside this row (unterminated quote)"}
            fields = snippet.split(delim)
            rec.update({FIELD_PREFIX + n: (fields[i] if i < len(fields) else None) for i, n in enumerate(names)})
            rejected.append(rec)
        rej = concat_rejections([pl.DataFrame(rejected, infer_schema_length=None)]) if rejected else empty_rejections()
        return RawTable(source=source, table=table, row=row_of(valid_numbers), line=line_of[valid_numbers],
                        rejections=rej, encoding=encoding, delimiter=delim)


def _table_from_strings(source: str, table: pa.Table, header_lines: int) -> RawTable:
    names = _unique([str(n) for n in table.column_names])
    cols = []
    for col in table.columns:
        if pa.types.is_timestamp(col.type) or pa.types.is_date(col.type):
            col = pc.strftime(col, format="%Y-%m-%d %H:%M:%S") if pa.types.is_timestamp(col.type) \
                else pc.strftime(col, format="%Y-%m-%d")
        cols.append(pc.utf8_trim_whitespace(col.cast(pa.string())))
    out = pa.table(cols, names=names)
    rows = np.arange(1, out.num_rows + 1, dtype=np.int64)
    return RawTable(source=source, table=out, row=rows, line=rows + header_lines)


class ParquetSource:
    """Parquet files: columns cast to strings, then validated like CSV."""

    def read(self, path: Path, options: ParseOptions) -> RawTable:
        import pyarrow.parquet as pq

        try:
            table = pq.read_table(path)
        except (pa.ArrowInvalid, OSError) as exc:
            raise InputError(f"{path.name}: not a readable Parquet file: {exc}") from exc
        return _table_from_strings(path.name, table, 0)


class ExcelSource:
    """Excel .xlsx (first sheet; the first non-empty row is the header)."""

    def read(self, path: Path, options: ParseOptions) -> RawTable:
        import datetime as dt

        from openpyxl import load_workbook

        try:
            wb = load_workbook(path, read_only=True, data_only=True)
        except Exception as exc:  # openpyxl raises many kinds
            raise InputError(f"{path.name}: not a readable .xlsx workbook: {exc}") from exc
        ws = wb.worksheets[0]
        rows = ws.iter_rows(values_only=True)
        header: list[str] | None = None
        skipped = 0
        for values in rows:
            skipped += 1
            if any(v not in (None, "") for v in values):
                header = ["" if v is None else str(v) for v in values]
                break
        if header is None:
            raise InputError(f"{path.name}: empty workbook (no header, no rows)")
        cols: list[list[str | None]] = [[] for _ in header]

        def cell(v: object) -> str | None:
            if v is None or v == "":
                return None
            if isinstance(v, dt.datetime):
                return v.isoformat(sep=" ")
            if isinstance(v, dt.date):
                return v.isoformat()
            if isinstance(v, float) and v.is_integer():
                return str(int(v))
            return str(v)

        for values in rows:
            for i in range(len(header)):
                cols[i].append(cell(values[i]) if i < len(values) else None)
        wb.close()
        table = pa.table([pa.array(c, type=pa.string()) for c in cols], names=_unique(header))
        return _table_from_strings(path.name, table, skipped)


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


def read_source(path: str | Path, options: ParseOptions | None = None) -> RawTable:
    """Read ``path`` with the right source; InputError if it does not exist or is unusable."""
    p = Path(path)
    if not p.is_file():
        raise InputError(f"{p}: no such file")
    raw = source_for(p).read(p, options or ParseOptions())
    if raw.table.num_rows == 0 and raw.rejections.height == 0:
        raise InputError(f"{raw.source}: no data rows below the header")
    return raw
