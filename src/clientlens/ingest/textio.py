"""Text files in bounded memory: the binary check, encoding detection and a UTF-8 byte stream.

A text file is read as a stream of blocks (``ReadLimits.block_bytes``). The first block is checked
for binary content before anything else is read; the encoding is the one given, a BOM's, UTF-8 when
the whole file decodes as UTF-8, else charset-normalizer's pick among :data:`DETECT_ENCODINGS`
on the first megabyte. :func:`utf8_blocks` yields the file as UTF-8 bytes (decoded, BOM dropped,
whitespace-separated text turned into tab-separated) without holding more than a block.
"""

from __future__ import annotations

import codecs
import gzip
import io
import re
from collections.abc import Iterator
from pathlib import Path
from typing import IO, cast

from clientlens.errors import InputError

DETECT_ENCODINGS = ("cp1250", "cp1258", "latin_1")
_WS_RUN = re.compile(r"[ \t]+")
_WS_EDGE = re.compile(r"(?m)^[ \t]+|[ \t]+(?=\r?$)")
_CONTROL = bytes([0, *range(1, 9), 11, 12, *range(14, 32)])
DETECT_BYTES = 1_000_000


def open_bytes(path: Path) -> IO[bytes]:
    """The file's bytes (gzip-decompressed when it starts with the gzip magic)."""
    with path.open("rb") as fh:
        magic = fh.read(2)
    if magic == b"\x1f\x8b":
        return cast(IO[bytes], gzip.open(path, "rb"))
    return path.open("rb")


def raw_blocks(path: Path, block: int) -> Iterator[bytes]:
    """The file's bytes in blocks of ``block`` bytes; InputError for a damaged gzip file."""
    fh = open_bytes(path)
    try:
        while True:
            try:
                data = fh.read(block)
            except (OSError, EOFError, gzip.BadGzipFile) as exc:
                raise InputError(f"{path.name}: damaged gzip file: {exc}") from exc
            if not data:
                return
            yield data
    finally:
        fh.close()


def check_binary(head: bytes, source: str, share: float) -> None:
    """InputError when the first block looks binary (more than ``share`` control bytes, NUL included).

    A few NUL bytes inside a text file are a bad value, not a binary file: validation rejects
    those rows (rule ``nul_byte``).
    """
    head = head[:65536]
    if head.startswith((b"\xff\xfe", b"\xfe\xff")):
        return  # UTF-16 with BOM: decodable
    ctrl = len(head) - len(head.translate(None, _CONTROL))
    if head and ctrl / len(head) > share:
        where = f"; NUL bytes from byte {head.index(0)}" if b"\x00" in head else ""
        raise InputError(f"{source}: binary file ({ctrl} control bytes in the first {len(head)}{where}); "
                         "expected CSV text, Parquet or .xlsx")


def _bom_encoding(head: bytes) -> str | None:
    if head.startswith(b"\xef\xbb\xbf"):
        return "utf-8-sig"
    if head.startswith((b"\xff\xfe", b"\xfe\xff")):
        return "utf-16"
    return None


def _first_error(path: Path, encoding: str, block: int) -> tuple[int, int, bytes] | None:
    """(byte offset, line, bytes) of the first byte sequence not valid in ``encoding``, or None."""
    dec = codecs.getincrementaldecoder(encoding)()
    offset, lines = 0, 0
    for data in raw_blocks(path, block):
        try:
            dec.decode(data)
        except UnicodeDecodeError as exc:
            start = max(0, exc.start)
            return offset + start, lines + data.count(b"\n", 0, start) + 1, data[start:start + 4]
        offset += len(data)
        lines += data.count(b"\n")
    try:
        dec.decode(b"", final=True)
    except UnicodeDecodeError:
        return offset, lines + 1, b""
    return None


def choose_encoding(path: Path, head: bytes, encoding: str | None, source: str, block: int) -> str:
    """The encoding to read ``path`` with: given (checked over the whole file), BOM, UTF-8, detected."""
    if encoding:
        try:
            codecs.lookup(encoding)
        except LookupError as exc:
            raise InputError(f"{source}: unknown encoding {encoding!r}") from exc
        bad = _first_error(path, encoding, block)
        if bad:
            raise InputError(f"{source}: not valid {encoding} at line {bad[1]}, byte {bad[0]} ({bad[2]!r}); "
                             "give the right --encoding")
        return encoding
    bom = _bom_encoding(head)
    if bom:
        return bom
    if _first_error(path, "utf-8", block) is None:
        return "utf-8"
    from charset_normalizer import from_bytes

    sample = head[:DETECT_BYTES]
    results = list(from_bytes(sample, cp_isolation=list(DETECT_ENCODINGS)))
    if not results:
        raise InputError(f"{source}: cannot tell the text encoding (tried UTF-8, {', '.join(DETECT_ENCODINGS)});"
                         " give it with --encoding")
    # Best (least chaos, most coherence); ties go to the most common encoding (latin-1 first).
    top = min((r.chaos, -r.coherence) for r in results)
    tied = {cs for r in results if (r.chaos, -r.coherence) == top for cs in r.could_be_from_charset}
    enc = next(e for e in (*DETECT_ENCODINGS[::-1], *sorted(tied)) if e in tied)
    bad = _first_error(path, enc, block)
    if bad:
        raise InputError(f"{source}: undecodable bytes at line {bad[1]} (detected {enc}); give --encoding")
    return enc


def utf8_blocks(path: Path, encoding: str, block: int, *, whitespace: bool = False) -> Iterator[bytes]:
    """The file as UTF-8 bytes, block by block: decoded, BOM dropped, and with ``whitespace`` every
    run of spaces/tabs turned into one tab (edges trimmed), for whitespace-separated text."""
    passthrough = encoding in ("utf-8", "utf8", "utf-8-sig") and not whitespace
    first = True
    if passthrough:
        for data in raw_blocks(path, block):
            if first and data.startswith(b"\xef\xbb\xbf"):
                data = data[3:]
            first = False
            yield data
        return
    dec = codecs.getincrementaldecoder(encoding)(errors="strict")
    carry = ""
    for data in raw_blocks(path, block):
        text = dec.decode(data)
        if first and text.startswith("\ufeff"):
            text = text[1:]
        first = False
        if whitespace:
            text = carry + text
            cut = text.rfind("\n") + 1
            text, carry = text[:cut], text[cut:]
            text = _WS_EDGE.sub("", _WS_RUN.sub("\t", text))
        if text:
            yield text.encode("utf-8")
    text = carry + dec.decode(b"", final=True)
    if whitespace:
        text = _WS_EDGE.sub("", _WS_RUN.sub("\t", text))
    if text:
        yield text.encode("utf-8")


class BlockStream(io.RawIOBase):
    """A read-only file over an iterator of byte blocks, ending after ``limit`` bytes (if given);
    :meth:`rest` then returns up to ``n`` of the bytes past the limit."""

    def __init__(self, blocks: Iterator[bytes], limit: int | None = None) -> None:
        self._blocks = blocks
        self._buf = memoryview(b"")
        self._pos = 0
        self._limit = limit

    def readable(self) -> bool:
        return True

    def _fill(self) -> bool:
        for data in self._blocks:
            if data:
                self._buf = memoryview(data)
                return True
        return False

    def readinto(self, target: bytearray | memoryview) -> int:  # type: ignore[override]
        want = len(target)
        if self._limit is not None:
            want = min(want, self._limit - self._pos)
        if want <= 0:
            return 0
        got = 0  # fill the whole request: a reader takes a short read for the end of a block
        while got < want:
            if not len(self._buf) and not self._fill():
                break
            n = min(want - got, len(self._buf))
            target[got:got + n] = self._buf[:n]
            self._buf = self._buf[n:]
            got += n
        self._pos += got
        return got

    def rest(self, n: int) -> bytes:
        out = bytearray(self._buf[:n])
        self._buf = memoryview(b"")
        while len(out) < n and self._fill():
            out += self._buf[:n - len(out)]
            self._buf = memoryview(b"")
        return bytes(out)
