"""``import_file``: read, validate, key and load a file into the store, batch by batch, in one transaction."""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field, replace
from datetime import datetime
from pathlib import Path
from typing import Any

import polars as pl
from sqlalchemy import Connection, Engine
from sqlalchemy.orm import Session

from clientlens.config import Settings
from clientlens.errors import InputError, StoreError
from clientlens.ingest import dbio
from clientlens.ingest.load import LOADERS, BatchContext, T, customer_ids
from clientlens.ingest.options import Mapping, ParseOptions
from clientlens.ingest.quarantine import QuarantineWriter, Rejection, concat_rejections
from clientlens.ingest.reading import FileReader
from clientlens.ingest.runs import finish_run, import_transaction, record_failure, shop_id, start_run
from clientlens.ingest.vendors.apply import fill_profiles
from clientlens.store.erasure import ErasureGuard, privacy_settings, register_file
from clientlens.store.repository import utcnow

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
    shop_id: int = 0

    erased: int = 0  # rows of erased customers, refused or kept anonymous (store.erasure)
    consent_not_applied: int = 0  # consent grants older than a withdrawal (store.consent)

    @property
    def exit_code(self) -> int:
        """0 when every row was kept, 3 when some were rejected (docs/interfaces.md)."""
        return 3 if self.rejected else 0

    def counts(self) -> dict[str, int]:
        extra = {k: v for k, v in (("erased", self.erased), ("consent_not_applied", self.consent_not_applied)) if v}
        return {"read": self.read, "inserted": self.inserted, "updated": self.updated,
                "unchanged": self.unchanged, "rejected": self.rejected, **extra}


def validated_batches(path: str | Path, entity: str, *, mapping: Mapping | str | Path | dict[str, Any] | None = None,
                      options: ParseOptions | dict[str, Any] | None = None, settings: Settings,
                      now: datetime | None = None) -> Iterator[pl.DataFrame]:
    """The typed, validated, keyed rows of ``path`` in batches of at most ``settings.ingest.batch_size``
    (what ``import_file`` loads; rejected rows are left out), read in bounded memory."""
    reader = FileReader(path, entity, mapping=mapping, options=options, settings=settings, now=now or utcnow())
    size = max(1, settings.ingest.batch_size)
    for batch in reader:
        for start in range(0, batch.kept.height, size):
            yield batch.kept.slice(start, size)


class _CreatedOrders:
    """Orders created from order lines (UCI layout): total = sum of their lines over the whole file,
    though the lines of one order may arrive in several batches."""

    def __init__(self) -> None:
        self.totals: pl.DataFrame | None = None

    def create(self, conn: Connection, ctx: BatchContext, lines: pl.DataFrame) -> None:
        agg = lines.group_by("order_id", maintain_order=True).agg(
            pl.col("customer_id").first(), pl.col("order_date").first(), pl.col("currency").first(),
            ((pl.col("quantity") * pl.col("unit_price")).round(0).cast(pl.Int64)
             - pl.col("discount").fill_null(0)).sum().alias("total"),
            pl.col("discount").fill_null(0).sum().alias("discount_total"))
        agg = agg.filter(pl.col("customer_id").is_not_null() & pl.col("order_date").is_not_null())
        if agg.height == 0:
            return
        mine = set(self.totals.get_column("order_id").to_list()) if self.totals is not None else set()
        have = dbio.lookup(conn, T["orders"], ctx.shop_id, agg.get_column("order_id").to_list())
        known = set(have.get_column("_key").to_list())
        ours = agg.filter(pl.col("order_id").is_in(sorted(mine)))
        new = agg.filter(~pl.col("order_id").is_in(sorted(known | mine)))
        if new.height:
            cust = customer_ids(conn, ctx, new.get_column("customer_id").to_list())
            new = new.join(cust.rename({"_key": "customer_id", "id": "_cust"}), on="customer_id", how="left")
            dbio.insert(conn, T["orders"], new.select(
                shop_id=pl.lit(ctx.shop_id), external_id=pl.col("order_id"), customer_id=pl.col("_cust"),
                ordered_at=pl.col("order_date"), currency=pl.col("currency"), total_minor=pl.col("total"),
                discount_minor=pl.col("discount_total"), status=pl.lit("completed")))
        part = pl.concat([ours, new.drop("_cust") if "_cust" in new.columns else new], how="vertical_relaxed")
        part = part.select("order_id", "total", "discount_total", pl.lit(1).alias("_batches"))
        if self.totals is None:
            self.totals = part
        else:
            both = pl.concat([self.totals, part], how="vertical_relaxed")
            self.totals = both.group_by("order_id", maintain_order=True).agg(
                pl.col("total").sum(), pl.col("discount_total").sum(), pl.col("_batches").sum())

    def settle(self, conn: Connection, ctx: BatchContext) -> None:
        """Orders whose lines spanned batches get the total of all their lines."""
        if self.totals is None:
            return
        spanned = self.totals.filter(pl.col("_batches") > 1)
        if spanned.height == 0:
            return
        ids = dbio.lookup(conn, T["orders"], ctx.shop_id, spanned.get_column("order_id").to_list())
        rows = spanned.join(ids.rename({"_key": "order_id"}), on="order_id").select(
            "id", total_minor=pl.col("total"), discount_minor=pl.col("discount_total"))
        dbio.update_rows(conn, T["orders"], rows)


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

    An unusable file raises InputError before anything is written. The file is read, validated and
    loaded batch by batch (bounded memory) inside one transaction under the shop's import lock: the
    import is stored whole or not at all. A failure of the store (or any other error) rolls the run
    back, records it as failed and raises StoreError; rejected rows go to the quarantine file.
    """
    now = now or utcnow()
    shop_cfg = settings.shop(shop)
    reader = FileReader(path, entity, mapping=mapping, options=options, settings=settings, now=now,
                        shop_currency=shop_cfg.currency, shop_timezone=shop_cfg.timezone)
    report = ImportReport(file=reader.source, entity=entity, shop=shop, layout=reader.layout,
                          encoding=reader.encoding)
    sink = QuarantineWriter(path, reader.headers, source=reader.source, preview=settings.ingest.quarantine_preview,
                            directory=quarantine_dir)
    try:
        with import_transaction(engine, shop, settings.ingest.lock_wait_seconds) as conn:
            sid = shop_id(conn, shop, now)
            report.run_id = start_run(conn, sid, entity, str(path), now)
            _load(conn, reader, report, sink, sid, now, settings, progress)
            finish_run(conn, report.run_id, report.counts())
    except InputError:
        sink.discard()
        raise
    except StoreError as exc:
        sink.discard()
        if "still running" not in str(exc):
            report.run_id = record_failure(engine, shop, entity, str(path), now, str(exc))
        raise
    except Exception as exc:
        sink.discard()
        what = f"{type(exc).__name__}: {str(exc).splitlines()[0] if str(exc) else ''}"
        report.run_id = record_failure(engine, shop, entity, str(path), now, what)
        log.exception("import of %s into %s failed", reader.source, shop)
        raise StoreError(f"{reader.source}: the import into shop {shop!r} failed and was rolled back, nothing "
                         f"was changed (import run {report.run_id} marked failed): {what}") from exc
    report.quarantine = sink.finish()
    if report.quarantine is not None:  # erasure scrubs it wherever it was written (store.erasure)
        with engine.begin() as conn:
            register_file(conn, "quarantine", report.quarantine, now)
    if entity == "customers" or (entity == "orders" and reader.vendor is not None):  # buyers' e-mails and phones
        _resolve_identities(engine, report.shop_id)
    log.info("imported %s as %s into %s: %s", reader.source, entity, shop, report.counts())
    return report


def _load(conn: Connection, reader: FileReader, report: ImportReport, sink: QuarantineWriter, sid: int,
          now: datetime, settings: Settings, progress: Progress | None) -> None:
    """Every batch of ``reader`` into the store on ``conn`` (the caller's transaction)."""
    entity = report.entity
    ctx = BatchContext(shop_id=sid, now=now, source=reader.source, provided=frozenset(reader.columns),
                       default_region=settings.identity.default_region)
    report.shop_id = sid
    size = max(1, settings.ingest.batch_size)
    loader = LOADERS[entity]
    created = _CreatedOrders() if entity == "order-lines" and {"customer_id", "order_date"} <= ctx.provided \
        else None
    done = 0
    if progress:
        progress(0, 0)
    guard = ErasureGuard(conn, sid, entity, privacy_settings(settings.privacy).on_erased_match,
                         settings.identity.default_region)
    for batch in reader:
        kept, erased = guard(batch.kept)  # rows of erased customers refused or kept anonymous
        report.erased += erased
        batch = replace(batch, kept=kept)
        bctx = replace(ctx, raw_fields=batch.raw_fields) if entity in ("order-lines", "feedback") else ctx
        if created is not None:
            created.create(conn, bctx, batch.kept)
        late = [batch.rejections]
        for start in range(0, batch.kept.height, size):
            ins, upd, same, rej = loader(conn, bctx, batch.kept.slice(start, size))
            report.inserted += ins
            report.updated += upd
            report.unchanged += same
            late.append(rej)
            done += min(size, batch.kept.height - start)
            if progress:
                progress(done, 0)
        if reader.vendor is not None and entity == "orders":  # the buyers' profiles (ingest.vendors)
            fill_profiles(conn, bctx, reader.vendor, batch.validated.base, batch.kept)
        rejected, erased = guard.rejections(concat_rejections(late))  # no quarantined rows of erased customers
        report.erased += erased
        sink.add(rejected)
    if created is not None:
        created.settle(conn, ctx)
    report.read = reader.read
    report.consent_not_applied = ctx.tally.get("consent_not_applied", 0)
    report.unchanged += reader.exact_repeats
    report.rejected = sink.rows
    report.rejections = sink.first
    if progress:
        progress(done, done)
