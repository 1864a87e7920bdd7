"""``import_file``: read, validate, key and load a file into the store, one atomic batch at a time."""

from __future__ import annotations

import json
import logging
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field, replace
from datetime import datetime
from pathlib import Path
from typing import Any

import polars as pl
from sqlalchemy import Engine, update
from sqlalchemy.orm import Session

from clientlens.config import Settings
from clientlens.ingest import dbio
from clientlens.ingest.keys import assign_keys, raw_fields_frame, split_duplicates
from clientlens.ingest.load import LOADERS, BatchContext, T, customer_ids
from clientlens.ingest.options import Mapping, ParseOptions, load_mapping, resolve_options
from clientlens.ingest.quarantine import Rejection, concat_rejections, first_rejections, write_quarantine
from clientlens.ingest.sources import read_source
from clientlens.ingest.validate import Validated, validate
from clientlens.store import models as m
from clientlens.store.repository import get_or_create_shop, utcnow

log = logging.getLogger(__name__)

Progress = Callable[[int, int], None]


@dataclass
class ImportReport:
    """What one import did."""

    file: str
    entity: str
    shop: str
    read: int = 0
    inserted: int = 0
    updated: int = 0
    unchanged: int = 0
    rejected: int = 0
    rejections: list[Rejection] = field(default_factory=list)
    quarantine: Path | None = None
    run_id: int | None = None
    layout: str | None = None
    encoding: str | None = None

    @property
    def exit_code(self) -> int:
        """0 when every row was kept, 3 when some were rejected (docs/interfaces.md)."""
        return 3 if self.rejected else 0

    def counts(self) -> dict[str, int]:
        return {"read": self.read, "inserted": self.inserted, "updated": self.updated,
                "unchanged": self.unchanged, "rejected": self.rejected}


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


def prepare(path: str | Path, entity: str, *, mapping: Mapping | str | Path | dict[str, Any] | None,
            options: ParseOptions | dict[str, Any] | None, settings: Settings, now: datetime | None,
            shop_currency: str | None = None, shop_timezone: str | None = None,
            ) -> tuple[Validated, pl.DataFrame, pl.DataFrame, int]:
    """Read and validate: (validated, keyed rows to load, all rejections, exact repeats dropped).

    Amounts without a currency column are in ``--currency``, else the shop's configured currency
    (``shop_currency``), else ``[ingest] default_currency``. Times without an offset are in the
    file's ``timezone`` option, else the shop's time zone (``shop_timezone``), else UTC.
    """
    mp, opts = resolve_options(as_mapping(mapping), as_options(options))
    if opts.currency is None and shop_currency:
        opts = replace(opts, currency=shop_currency)
    if opts.timezone is None and shop_timezone:
        opts = replace(opts, timezone=shop_timezone)
    raw = read_source(path, opts)
    v = validate(raw, entity, mapping=mp, options=opts, settings=settings, now=now or utcnow())
    keyed = assign_keys(v.frame, entity)
    fields = raw_fields_frame(v.base, raw.headers)
    kept, dup_rej, n_same = split_duplicates(keyed, fields, v.columns)
    return v, kept, concat_rejections([v.rejections, dup_rej]), n_same


def validated_batches(path: str | Path, entity: str, *, mapping: Mapping | str | Path | dict[str, Any] | None = None,
                      options: ParseOptions | dict[str, Any] | None = None, settings: Settings,
                      now: datetime | None = None) -> Iterator[pl.DataFrame]:
    """The typed, validated, keyed rows of ``path`` in batches of ``settings.ingest.batch_size``
    (what ``import_file`` loads; rejected rows are left out)."""
    _, kept, _, _ = prepare(path, entity, mapping=mapping, options=options, settings=settings, now=now)
    size = max(1, settings.ingest.batch_size)
    for start in range(0, kept.height, size):
        yield kept.slice(start, size)


def _create_missing_orders(engine: Engine, ctx: BatchContext, lines: pl.DataFrame, batch_size: int) -> None:
    """Order lines that carry customer and date (UCI layout) create their orders first (total = lines)."""
    agg = lines.group_by("order_id", maintain_order=True).agg(
        pl.col("customer_id").first(), pl.col("order_date").first(), pl.col("currency").first(),
        ((pl.col("quantity") * pl.col("unit_price")).round(0).cast(pl.Int64)
         - pl.col("discount").fill_null(0)).sum().alias("total"),
        pl.col("discount").fill_null(0).sum().alias("discount_total"))
    agg = agg.filter(pl.col("customer_id").is_not_null() & pl.col("order_date").is_not_null())
    for start in range(0, agg.height, batch_size):
        chunk = agg.slice(start, batch_size)
        with engine.begin() as conn:
            have = dbio.lookup(conn, T["orders"], ctx.shop_id, chunk.get_column("order_id").to_list())
            chunk = chunk.filter(~pl.col("order_id").is_in(have.get_column("_key").to_list()))
            if chunk.height == 0:
                continue
            cust = customer_ids(conn, ctx, chunk.get_column("customer_id").to_list())
            chunk = chunk.join(cust.rename({"_key": "customer_id", "id": "_cust"}), on="customer_id", how="left")
            dbio.insert(conn, T["orders"], chunk.select(
                shop_id=pl.lit(ctx.shop_id), external_id=pl.col("order_id"), customer_id=pl.col("_cust"),
                ordered_at=pl.col("order_date"), currency=pl.col("currency"), total_minor=pl.col("total"),
                discount_minor=pl.col("discount_total"), status=pl.lit("completed")))


def _resolve_identities(engine: Engine, shop_id: int) -> None:
    """Merge the profiles that share a normalised e-mail or phone (store.identity)."""
    from clientlens.store.identity import resolve_exact

    with Session(engine) as session:
        resolve_exact(session, shop_id)
        session.commit()


def import_file(engine: Engine, shop: str, entity: str, path: str | Path, *,
                mapping: Mapping | str | Path | dict[str, Any] | None = None,
                options: ParseOptions | dict[str, Any] | None = None, settings: Settings,
                now: datetime | None = None, progress: Progress | None = None,
                quarantine_dir: str | Path | None = None) -> ImportReport:
    """Import ``path`` as ``entity`` into ``shop``; returns the counts and the first rejections.

    An unusable file raises InputError before anything is written. Valid rows are loaded in batches
    of ``settings.ingest.batch_size``, each one transaction; rejected rows go to the quarantine file.
    """
    now = now or utcnow()
    shop_cfg = settings.shop(shop)
    v, kept, rejections, n_same = prepare(path, entity, mapping=mapping, options=options,
                                          settings=settings, now=now, shop_currency=shop_cfg.currency,
                                          shop_timezone=shop_cfg.timezone)
    report = ImportReport(file=v.source, entity=entity, shop=shop, read=v.read, layout=v.layout)
    with Session(engine) as session:
        shop_row = get_or_create_shop(session, shop, now=now)
        run = m.ImportRun(shop_id=shop_row.id, entity=entity, source=str(path), started_at=now)
        session.add(run)
        session.commit()
        shop_id, report.run_id = shop_row.id, run.id
    ctx = BatchContext(shop_id=shop_id, now=now, source=v.source, provided=frozenset(v.columns),
                       default_region=settings.identity.default_region,
                       raw_fields=raw_fields_frame(v.base, list(v.base.columns[:-2]))
                       if entity in ("order-lines", "feedback") else None)
    size = max(1, settings.ingest.batch_size)
    if entity == "order-lines" and {"customer_id", "order_date"} <= ctx.provided:
        _create_missing_orders(engine, ctx, kept, size)
    loader = LOADERS[entity]
    late: list[pl.DataFrame] = []
    total = kept.height
    if progress:
        progress(0, total)
    for start in range(0, total, size):
        batch = kept.slice(start, size)
        with engine.begin() as conn:
            ins, upd, same, rej = loader(conn, ctx, batch)
        report.inserted += ins
        report.updated += upd
        report.unchanged += same
        if rej.height:
            late.append(rej)
        if progress:
            progress(min(start + size, total), total)
    report.unchanged += n_same
    all_rej = concat_rejections([rejections, *late])
    report.rejected = int(all_rej.get_column("row").n_unique()) if all_rej.height else 0
    report.rejections = first_rejections(all_rej, v.source, settings.ingest.quarantine_preview)
    report.quarantine = write_quarantine(all_rej, path, directory=quarantine_dir)
    with engine.begin() as conn:
        conn.execute(update(m.ImportRun).where(m.ImportRun.id == report.run_id).values(
            finished_at=utcnow(), counts=json.dumps(report.counts())))
    if entity == "customers":
        _resolve_identities(engine, shop_id)
    log.info("imported %s as %s into %s: %s", v.source, entity, shop, report.counts())
    return report
