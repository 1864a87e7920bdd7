"""Delimited text in bounded memory: any delimiter, whitespace-separated (CDNOW), quoted fields, gzip.

Two passes over the file, each holding one block: a scan (encoding checked over the whole file,
quote balance, the longest record) and the read proper (pyarrow's streaming CSV reader, one
:class:`RawTable` per block), so a file cut off inside its last row is known before the first batch.
"""

from __future__ import annotations

import csv
import ctypes
import ctypes.util
import io
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import polars as pl
import pyarrow as pa
import pyarrow.compute as pc

from clientlens.errors import InputError
from clientlens.ingest.options import ParseOptions
from clientlens.ingest.quarantine import FIELD_PREFIX, concat_rejections, empty_rejections
from clientlens.ingest.raw import RawTable, ReadLimits, check_header, unique_names
from clientlens.ingest.textio import BlockStream, check_binary, choose_encoding, raw_blocks, utf8_blocks

SNIFF_DELIMITERS = (",", ";", "\t", "|")
HEAD_BYTES = 1_000_000
TAIL_BYTES = 1_000_000
MAX_BLOCK = (1 << 31) - 1


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


def _glibc(name: str) -> Callable[..., int] | None:
    """A glibc function (None elsewhere: musl, macOS, Windows)."""
    try:
        fn: Callable[..., int] = getattr(ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6"), name)
        return fn
    except (OSError, AttributeError):
        return None


_TRIM = _glibc("malloc_trim")
_MALLOPT = _glibc("mallopt")
M_MMAP_THRESHOLD = -3  # glibc's mallopt parameter
MMAP_THRESHOLD = 128 * 1024  # glibc's default, kept fixed


def give_back_memory() -> None:
    """Return the heap pages freed by the last batch to the system (glibc keeps them otherwise: the
    batch's Python objects, NumPy arrays, Arrow's system pool and the database driver's buffers left
    the RSS growing by a few MB a batch; MALLOC_TRIM_THRESHOLD_=0 had the same effect).

    glibc's mmap threshold is also fixed at its default: it otherwise rises to the largest block
    freed (up to 32 MB), so the batches' column buffers move into the heap and fragment it (200k
    orders: peak 247 -> 235 MB; MALLOC_MMAP_THRESHOLD_ does the same from the environment)."""
    if _MALLOPT is not None:
        _MALLOPT(M_MMAP_THRESHOLD, MMAP_THRESHOLD)
    if _TRIM is not None:
        _TRIM(0)


@dataclass
class Scan:
    """What the first pass learned: the head of the text, where a cut-off last row starts (None when
    quotes balance) and the longest record in bytes (the read's block must hold one)."""

    head: bytes
    cut: int | None
    longest: int
    size: int


def scan(blocks: Iterator[bytes], quoting: bool) -> Scan:
    """One pass over UTF-8 blocks: record boundaries are line starts with an even number of quotes
    before them (every line start without quoting)."""
    head = bytearray()
    offset, parity, last, longest = 0, 0, 0, 0
    at_start = True
    for data in blocks:
        if len(head) < HEAD_BYTES:
            head += data[:HEAD_BYTES - len(head)]
        arr = np.frombuffer(data, dtype=np.uint8)
        starts = np.flatnonzero(arr == 10) + 1
        starts = starts[starts < len(arr)]
        if at_start:
            starts = np.concatenate(([0], starts))
        if quoting:
            quotes = np.flatnonzero(arr == 34)
            starts = starts[(parity + np.searchsorted(quotes, starts)) % 2 == 0]
            parity = (parity + len(quotes)) % 2
        if len(starts):
            absolute = starts.astype(np.int64) + offset
            longest = max(longest, int(np.diff(absolute, prepend=last).max()))
            last = int(absolute[-1])
        at_start = data.endswith(b"\n")
        offset += len(data)
    longest = max(longest, offset - last)
    return Scan(head=bytes(head), cut=last if quoting and parity else None, longest=longest, size=offset)


@dataclass
class _Positions:
    """Record bookkeeping across batches: record numbers (1 = header), blank records, newlines."""

    next_record: int = 2
    blanks: int = 0
    shift: int = 0  # newlines inside the records before next_record


class CsvSource:
    """Delimited text: any delimiter, whitespace-separated (CDNOW), quoted fields, gzip."""

    def batches(self, path: Path, options: ParseOptions, limits: ReadLimits) -> Iterator[RawTable]:
        import pyarrow.csv as pacsv

        source = path.name
        give_back_memory()
        first = next(raw_blocks(path, limits.block_bytes), b"")
        if not first.strip():
            raise InputError(f"{source}: empty file (no header, no rows)")
        check_binary(first, source, limits.binary_share)
        encoding = choose_encoding(path, first, options.encoding, source, limits.block_bytes)
        label = encoding
        if options.encoding and first.startswith(b"\xef\xbb\xbf") and encoding.lower() in ("utf-8", "utf8"):
            label = f"{encoding} (BOM)"
        text = next(utf8_blocks(path, encoding, min(limits.block_bytes, HEAD_BYTES)), b"").decode(
            "utf-8", errors="replace")
        if not text.strip():
            raise InputError(f"{source}: empty file (no header, no rows)")
        delim = options.delimiter or sniff_delimiter(text)
        whitespace = delim == " "
        quoting = not whitespace
        if whitespace:
            delim = "\t"
        found = scan(utf8_blocks(path, encoding, limits.block_bytes, whitespace=whitespace), quoting)
        head_text = found.head.decode("utf-8", errors="ignore")
        header = next(csv.reader(io.StringIO(head_text), delimiter=delim,
                                 quoting=csv.QUOTE_MINIMAL if quoting else csv.QUOTE_NONE), [])
        if not header or all(not h.strip() for h in header):
            raise InputError(f"{source}: no header row found")
        check_header(header, source)
        names = unique_names(header)
        header_end = found.head.find(b"\n") + 1 if b"\n" in found.head else len(found.head)
        if found.cut is not None and found.cut < header_end:
            raise InputError(f"{source}: the header row has an unterminated quote; not a readable table")
        stream = BlockStream(utf8_blocks(path, encoding, limits.block_bytes, whitespace=whitespace), found.cut)
        invalid: list[tuple[int, str, int]] = []

        def handler(row: pacsv.InvalidRow) -> str:
            invalid.append((int(row.number or 0), row.text, int(row.actual_columns)))
            return "skip"

        block = min(MAX_BLOCK, max(limits.block_bytes, 2 * found.longest + 4096))
        try:
            reader = pacsv.open_csv(
                stream,
                read_options=pacsv.ReadOptions(use_threads=False, column_names=names, skip_rows=1, block_size=block),
                parse_options=pacsv.ParseOptions(delimiter=delim, quote_char='"' if quoting else False,
                                                 newlines_in_values=quoting, invalid_row_handler=handler,
                                                 ignore_empty_lines=len(names) == 1),
                convert_options=pacsv.ConvertOptions(column_types={n: pa.string() for n in names},
                                                     null_values=[""], strings_can_be_null=True,
                                                     quoted_strings_can_be_null=True),
                # The system allocator gives each block back; Arrow's default pool keeps ~50 MB more.
                memory_pool=pa.system_memory_pool(),
            )
        except pa.ArrowInvalid as exc:
            if "Empty CSV file" in str(exc):
                reader = None
            else:
                raise InputError(f"{source}: not a readable table: {exc}") from exc
        pos = _Positions()
        schema = pa.schema([(n, pa.string()) for n in names])
        sent = False
        while reader is not None:
            try:
                batch = reader.read_next_batch()
            except StopIteration:
                break
            except pa.ArrowInvalid as exc:
                raise InputError(f"{source}: not a readable table: {exc}") from exc
            table = pa.Table.from_batches([batch], schema=schema)
            if table.num_rows == 0:
                continue
            pending, invalid[:] = list(invalid), []
            out, keep = self._positions(source, table, pending, names, delim, quoting, pos, final=False)
            invalid[:0] = keep
            out.encoding, out.delimiter = label, delim
            sent = True
            yield out
            del out, table, batch  # the consumer is done with this batch: nothing of it lives on
            give_back_memory()
        empty = pa.Table.from_batches([], schema=schema)  # (schema.empty_table() imports pandas)
        out, _ = self._positions(source, empty, list(invalid), names, delim, quoting, pos, final=True)
        tail = stream.rest(TAIL_BYTES) if found.cut is not None else b""
        if tail.strip():
            snippet = tail.decode("utf-8", errors="replace")
            rec: dict[str, object] = {
                "row": pos.next_record - 1 - pos.blanks, "line": pos.next_record + pos.shift, "column": "",
                "value": snippet[:200], "rule": "truncated",
                "message": "the file ends inside this row (unterminated quote)"}
            fields = snippet.split(delim)
            rec.update({FIELD_PREFIX + n: (fields[i] if i < len(fields) else None) for i, n in enumerate(names)})
            out.rejections = concat_rejections([out.rejections, pl.DataFrame([rec], infer_schema_length=None)])
        out.encoding, out.delimiter = label, delim
        if out.rejections.height or not sent:
            yield out

    @staticmethod
    def _positions(source: str, table: pa.Table, events: list[tuple[int, str, int]], names: list[str],
                   delim: str, quoting: bool, pos: _Positions, *, final: bool,
                   ) -> tuple[RawTable, list[tuple[int, str, int]]]:
        """Number a batch's rows (data row, physical line) and turn its invalid records into rejections.

        ``events`` are the records the reader skipped (empty lines, wrong field counts) since the
        last batch; those after this batch's last row are handed back for the next one.
        """
        n = table.num_rows
        events = sorted(events)
        skipped = np.array([e[0] for e in events], dtype=np.int64)
        numbers = np.arange(pos.next_record, pos.next_record + n + len(events), dtype=np.int64)
        numbers = numbers[~np.isin(numbers, skipped)][:n]
        last = int(numbers[-1]) if n else (int(skipped.max()) if final and len(skipped) else pos.next_record - 1)
        mine = [e for e in events if e[0] <= last]
        later = [e for e in events if e[0] > last]
        # Arrow to NumPy through Polars: pyarrow's own conversions (to_numpy of a chunked array, pa.array
        # of NumPy or Python values, fill_null of a Python scalar) import pandas, ~30 MB for nothing.
        nl = np.zeros(n, dtype=np.int64)
        empty = np.ones(n, dtype=bool)
        for col in table.columns:
            if quoting:
                nl += pl.from_arrow(pc.count_substring(col, "\n")).fill_null(0).to_numpy().astype(np.int64)
            empty &= pl.from_arrow(pc.is_null(col)).to_numpy()
        # Every record from next_record to last: kind 0 data row, 1 skipped (invalid), 2 blank.
        rec_num = np.concatenate((numbers, np.array([e[0] for e in mine], dtype=np.int64)))
        rec_nl = np.concatenate((nl, np.array([e[1].count("\n") for e in mine], dtype=np.int64)))
        rec_blank = np.concatenate((empty, np.array([not e[1].strip() for e in mine], dtype=bool)))
        order = np.argsort(rec_num, kind="stable")
        rec_num, rec_nl, rec_blank = rec_num[order], rec_nl[order], rec_blank[order]
        line_at = rec_num + pos.shift + np.concatenate(([0], np.cumsum(rec_nl)[:-1])).astype(np.int64)
        row_at = rec_num - 1 - pos.blanks - np.concatenate(([0], np.cumsum(rec_blank)[:-1])).astype(np.int64)
        rejected: list[dict[str, object]] = []
        for num, txt, ncols in mine:
            if not txt.strip():
                continue
            i = int(np.searchsorted(rec_num, num))
            fields = txt.split(delim)
            rec: dict[str, object] = {"row": int(row_at[i]), "line": int(line_at[i]), "column": "",
                                      "value": txt[:200], "rule": "field_count",
                                      "message": f"{ncols} fields where the header has {len(names)}"}
            rec.update({FIELD_PREFIX + h: (fields[j] if j < len(fields) else None) for j, h in enumerate(names)})
            rejected.append(rec)
        if len(rec_num):
            pos.next_record = int(rec_num[-1]) + 1
            pos.shift += int(rec_nl.sum())
            pos.blanks += int(rec_blank.sum())
        idx = np.searchsorted(rec_num, numbers)
        keep = ~empty
        if not keep.all():
            table = table.filter(pl.Series(keep).to_arrow())
        rej = concat_rejections([pl.DataFrame(rejected, infer_schema_length=None)]) if rejected \
            else empty_rejections()
        out = RawTable(source=source, table=table, row=row_at[idx][keep], line=line_at[idx][keep], rejections=rej)
        return out, later
