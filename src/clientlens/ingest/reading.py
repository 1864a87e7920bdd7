"""A file read, validated and keyed batch by batch (what import and files mode share).

:class:`FileReader` opens the file and reads its first batch on construction, so an unusable file
(missing, empty, binary, undecodable, a required column absent, a header naming a column twice)
raises InputError before anything is written; iterating it then yields one validated, keyed batch
at a time, never the whole file.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, replace
from datetime import datetime
from itertools import chain
from pathlib import Path
from typing import Any

import polars as pl

from clientlens.config import Settings
from clientlens.errors import InputError
from clientlens.ingest.columns import spec
from clientlens.ingest.keys import KeyState, assign_keys, raw_fields_frame, split_duplicates
from clientlens.ingest.options import Mapping, ParseOptions, load_mapping, resolve_options
from clientlens.ingest.quarantine import concat_rejections
from clientlens.ingest.raw import RawTable, ReadLimits
from clientlens.ingest.sources import open_source
from clientlens.ingest.validate import Validated, plan_for, validate
from clientlens.ingest.vendors import VendorLayout, VendorState, detect


def as_mapping(mapping: Mapping | str | Path | dict[str, Any] | None) -> Mapping:
    """A Mapping from a Mapping, a TOML file path or a ``{"columns":..., "parse":...}`` dict."""
    if mapping is None or isinstance(mapping, Mapping):
        return mapping or Mapping()
    if isinstance(mapping, dict):
        return Mapping(columns=dict(mapping.get("columns", {})), parse=ParseOptions(**mapping.get("parse", {})))
    return load_mapping(mapping)


def as_options(options: ParseOptions | dict[str, Any] | None) -> ParseOptions | None:
    if options is None or isinstance(options, ParseOptions):
        return options
    return ParseOptions(**{k: v for k, v in options.items() if v is not None})


def read_limits(settings: Settings) -> ReadLimits:
    ing = settings.ingest
    return ReadLimits(block_bytes=max(1024, ing.read_block_bytes), batch_rows=max(1, ing.batch_size),
                      binary_share=ing.binary_control_share)


def _unusable_as_input(batches: Iterator[RawTable], path: Path) -> Iterator[RawTable]:
    """The source's batches; any failure to read the file (a damaged workbook or row group, a reader
    error) is an InputError naming the file, never a traceback."""
    try:
        yield from batches
    except InputError:
        raise
    except Exception as exc:  # every reader has its own errors
        raise InputError(f"{path.name}: cannot be read as a table ({type(exc).__name__}: {exc})") from exc


def vendor_batch(layout: VendorLayout, raw: RawTable, state: VendorState) -> tuple[RawTable, dict[str, str]]:
    """``raw`` in a vendor layout: derived canonical columns added, rows repeating an order dropped."""
    frame = pl.from_arrow(raw.table)
    assert isinstance(frame, pl.DataFrame)
    out, cols = layout.transform(frame.with_columns(pl.int_range(pl.len(), dtype=pl.Int64).alias("_vi")), state)
    idx = out.get_column("_vi").to_numpy()
    return replace(raw, table=out.drop("_vi").to_arrow(), row=raw.row[idx], line=raw.line[idx]), cols


@dataclass
class Batch:
    """One batch: the validation (typed rows, base text), the keyed rows to load, its rejections."""

    validated: Validated
    kept: pl.DataFrame
    rejections: pl.DataFrame
    raw_fields: pl.DataFrame


class FileReader:
    """``path`` as ``entity``, one validated and keyed batch at a time.

    Amounts without a currency column are in ``--currency``, else the shop's configured currency
    (``shop_currency``), else ``[ingest] default_currency``. Times without an offset are in the
    file's ``timezone`` option, else the shop's time zone (``shop_timezone``), else UTC.
    """

    def __init__(self, path: str | Path, entity: str, *, mapping: Mapping | str | Path | dict[str, Any] | None,
                 options: ParseOptions | dict[str, Any] | None, settings: Settings, now: datetime,
                 shop_currency: str | None = None, shop_timezone: str | None = None) -> None:
        mp, opts = resolve_options(as_mapping(mapping), as_options(options))
        if opts.currency is None and shop_currency:
            opts = replace(opts, currency=shop_currency)
        if opts.timezone is None and shop_timezone:
            opts = replace(opts, timezone=shop_timezone)
        self.entity, self.settings, self.now = entity, settings, now
        self.mapping, self.options = mp, opts
        self._path = Path(path)
        self._batches = _unusable_as_input(open_source(path, opts, read_limits(settings)), self._path)
        first = next(self._batches, None)
        if first is None or (first.table.num_rows == 0 and first.rejections.height == 0):
            name = first.source if first is not None else Path(path).name
            raise InputError(f"{name}: no data rows below the header")
        # A shop system's export (Shopify, WooCommerce) is read through its vendor layout; a mapping wins.
        self.vendor = detect(first.headers, entity)
        self._vendor_state = VendorState()
        if self.vendor is not None:
            first, derived = vendor_batch(self.vendor, first, self._vendor_state)
            names = {c.name for c in spec(entity)}
            mp = replace(mp, columns={**{k: v for k, v in derived.items() if k in names}, **mp.columns})
            self.mapping = mp
        self._first: RawTable | None = first
        self.plan = plan_for(first, entity, mp)
        if self.vendor is not None:
            self.plan.layout = self.vendor.name
        self.source = first.source
        self.headers = first.headers
        self.encoding = first.encoding
        self.keys = KeyState()
        self.read = 0
        self.exact_repeats = 0

    @property
    def columns(self) -> dict[str, str]:
        return self.plan.columns

    @property
    def layout(self) -> str | None:
        return self.plan.layout

    def __iter__(self) -> Iterator[Batch]:
        first, self._first = self._first, None
        for raw in chain([first] if first is not None else [], self._batches):
            if self.vendor is not None and raw is not first:
                raw = vendor_batch(self.vendor, raw, self._vendor_state)[0]
            v = validate(raw, self.entity, mapping=self.mapping, options=self.options, settings=self.settings,
                         now=self.now, plan=self.plan)
            keyed = assign_keys(v.frame, self.entity, self.keys)
            fields = raw_fields_frame(v.base, raw.headers)
            kept, dup_rej, n_same = split_duplicates(keyed, fields, v.columns, self.keys)
            self.read += v.read
            self.exact_repeats += n_same
            yield Batch(validated=v, kept=kept, rejections=concat_rejections([v.rejections, dup_rej]),
                        raw_fields=fields)
