"""Per-entity loaders: one validated batch -> the store, inside the caller's transaction.

Each loader returns ``(inserted, updated, unchanged, rejections)``. Records are matched on natural
keys (``external_id`` unique per shop); a known key with other content is updated, an unknown one
inserted. Orders for unknown customers create the customer; order lines for unknown products create
the product.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime

import polars as pl
from sqlalchemy import Connection, Table, select

from clientlens.ingest import dbio
from clientlens.ingest.keys import CONTENT
from clientlens.store import models as m
from clientlens.store.consent import ConsentValue, apply_imported_consent
from clientlens.store.models import CONSENT_CHANNELS
from clientlens.store.search import index_names

T = {name: m.Base.metadata.tables[name] for name in (
    "customers", "orders", "order_lines", "products", "interactions", "feedback", "exchange_rates",
    "consent_events")}


@dataclass
class BatchContext:
    """What every loader needs besides the batch."""

    shop_id: int
    now: datetime
    source: str
    provided: frozenset[str]
    default_region: str
    raw_fields: pl.DataFrame | None = None
    tally: dict[str, int] = field(default_factory=dict)  # shared by the batches: consent_not_applied


Counts = tuple[int, int, int, pl.DataFrame]
EMPTY = pl.DataFrame()


def _ids(conn: Connection, table: Table, shop_id: int, keys: Sequence[str], create: Callable[[list[str]], pl.DataFrame] | None,
         ) -> pl.DataFrame:
    """``_key -> id`` for ``keys``, creating the missing ones with ``create(keys)`` rows if given."""
    found = dbio.lookup(conn, table, shop_id, keys, cols=("id",))
    if create is None:
        return found
    have = set(found.get_column("_key").to_list())
    missing = [k for k in dict.fromkeys(keys) if k is not None and k not in have]
    if missing:
        dbio.insert(conn, table, create(missing))
        found = pl.concat([found, dbio.lookup(conn, table, shop_id, missing, cols=("id",))], how="vertical_relaxed")
    return found


def customer_ids(conn: Connection, ctx: BatchContext, keys: Sequence[str]) -> pl.DataFrame:
    """Customer ids (merged profiles resolve to their survivor), creating unknown customers."""
    def create(missing: list[str]) -> pl.DataFrame:
        return pl.DataFrame({"shop_id": [ctx.shop_id] * len(missing), "external_id": missing,
                             "imported_at": [ctx.now] * len(missing)})

    ids = _ids(conn, T["customers"], ctx.shop_id, keys, create)
    merged = dbio.lookup(conn, T["customers"], ctx.shop_id, ids.get_column("_key").to_list(),
                         cols=("merged_into_id",))
    return ids.join(merged, on="_key", how="left").select(
        "_key", pl.coalesce("merged_into_id", "id").alias("id"))


def _upsert(conn: Connection, table: Table, ctx: BatchContext, batch: pl.DataFrame,
            values: dict[str, pl.Expr], keep: Sequence[str] = (), insert_only: dict[str, pl.Expr] | None = None,
            ) -> tuple[int, int, int, pl.DataFrame]:
    """Insert new keys, update changed ones; returns counts and the frame joined with the store ids."""
    existing = dbio.lookup(conn, table, ctx.shop_id, batch.get_column("_key").to_list(), cols=("id", "row_hash"))
    joined = batch.join(existing, on="_key", how="left")
    is_new = pl.col("id").is_null()
    changed = ~is_new & (pl.col("row_hash").is_null() | (pl.col("row_hash") != pl.col("_hash")))
    new = joined.filter(is_new)
    upd = joined.filter(changed)
    base = {"shop_id": pl.lit(ctx.shop_id), "external_id": pl.col("_key"), "row_hash": pl.col("_hash")}
    dbio.insert(conn, table, new.select(**base, **values, **(insert_only or {})))
    dbio.update_rows(conn, table, upd.select(pl.col("id"), pl.col("_hash").alias("row_hash"), **values), keep=keep)
    return new.height, upd.height, joined.height - new.height - upd.height, joined


def _map(batch: pl.DataFrame, ids: pl.DataFrame, col: str, out: str) -> pl.DataFrame:
    return batch.join(ids.rename({"_key": col, "id": out}), on=col, how="left")


def _phones(frame: pl.DataFrame, region: str) -> pl.Series:
    import phonenumbers

    pairs = frame.select("phone", pl.col("country").fill_null(region)).unique().drop_nulls("phone")
    out: dict[tuple[str, str], str | None] = {}
    for phone, country in pairs.iter_rows():
        try:
            num = phonenumbers.parse(phone, country)
            out[(phone, country)] = (phonenumbers.format_number(num, phonenumbers.PhoneNumberFormat.E164)
                                     if phonenumbers.is_possible_number(num) else None)
        except phonenumbers.NumberParseException:
            out[(phone, country)] = None
    lookup = pl.DataFrame({"phone": [k[0] for k in out], "_c": [k[1] for k in out], "e164": list(out.values())},
                          schema={"phone": pl.String, "_c": pl.String, "e164": pl.String})
    j = frame.select("phone", pl.col("country").fill_null(region).alias("_c")).join(
        lookup, on=["phone", "_c"], how="left", maintain_order="left")
    return j.get_column("e164")


def load_customers(conn: Connection, ctx: BatchContext, batch: pl.DataFrame) -> Counts:
    batch = batch.with_columns(_phones(batch, ctx.default_region).alias("_e164"))
    # consent columns are derived from the consent history (store.consent), never written directly
    cols = [c for c in CONTENT["customers"] if c in ctx.provided and c != "created_at" and not c.startswith("consent_")]
    values = {c: pl.col(c) for c in cols}
    if "email" in ctx.provided:
        values["email_norm"] = pl.col("email").str.strip_chars().str.to_lowercase()
    if "phone" in ctx.provided:
        values["phone_e164"] = pl.col("_e164")
    values["updated_at"] = pl.lit(ctx.now)
    consents = [c for c in CONSENT_CHANNELS if f"consent_{c}" in ctx.provided]
    # created_at is the signup date from the file (none: the profile exists from its first order);
    # the import time is imported_at. A later file's signup date fills it in.
    signup: dict[str, pl.Expr] = {"created_at": pl.lit(None, dtype=pl.Datetime("us"))}
    if "created_at" in ctx.provided:
        values["created_at"], signup = pl.col("created_at"), {}
    ins, upd, same, joined = _upsert(conn, T["customers"], ctx, batch, values,
                                     keep=[*cols, "email_norm", "phone_e164", "created_at"],
                                     insert_only={**signup, "imported_at": pl.lit(ctx.now)})
    if "name" in ctx.provided:  # the accent-free name search (store.search)
        named = batch.join(dbio.lookup(conn, T["customers"], ctx.shop_id, batch.get_column("_key").to_list(),
                                       cols=("id",)), on="_key").filter(pl.col("name").is_not_null()).select("id", "name")
        index_names(conn, ctx.shop_id, named.iter_rows())
    if consents:
        ids = dbio.lookup(conn, T["customers"], ctx.shop_id, batch.get_column("_key").to_list(), cols=("id",))
        j = batch.join(ids, on="_key")
        dated = "consent_date" in j.columns
        given = [ConsentValue(row["id"], c, row[f"consent_{c}"], row["consent_date"] if dated else None)
                 for row in j.iter_rows(named=True) for c in consents if row[f"consent_{c}"] is not None]
        ctx.tally["consent_not_applied"] = ctx.tally.get("consent_not_applied", 0) + apply_imported_consent(
            conn, ctx.shop_id, given, source=f"import:{ctx.source}", now=ctx.now)
    return ins, upd, same, EMPTY


def load_orders(conn: Connection, ctx: BatchContext, batch: pl.DataFrame) -> Counts:
    cust = customer_ids(conn, ctx, batch.get_column("customer_id").to_list())
    batch = _map(batch, cust, "customer_id", "_cust")
    values = {"customer_id": pl.col("_cust"), "ordered_at": pl.col("order_date"), "channel": pl.col("channel"),
              "currency": pl.col("currency"), "total_minor": pl.col("total"),
              "discount_minor": pl.col("discount_total").fill_null(0), "status": pl.col("status")}
    ins, upd, same, _ = _upsert(conn, T["orders"], ctx, batch, values)
    return ins, upd, same, EMPTY


def product_ids(conn: Connection, ctx: BatchContext, batch: pl.DataFrame) -> pl.DataFrame:
    """Product ids for the batch's ``product_id`` values, creating unknown products from the lines."""
    def create(missing: list[str]) -> pl.DataFrame:
        info = batch.group_by("product_id", maintain_order=True).first().filter(pl.col("product_id").is_in(missing))
        return info.select(shop_id=pl.lit(ctx.shop_id), external_id=pl.col("product_id"),
                           name=pl.col("product_name"), category=pl.col("category"))

    return _ids(conn, T["products"], ctx.shop_id, batch.get_column("product_id").to_list(), create)


def unknown_rejections(frame: pl.DataFrame, ctx: BatchContext, column: str, rule: str, message: str) -> pl.DataFrame:
    rej = frame.select(pl.col("_row").alias("row"), pl.col("_line").alias("line"), pl.lit(column).alias("column"),
                       pl.col(column.split(":")[-1]).cast(pl.String).alias("value"), pl.lit(rule).alias("rule"),
                       pl.lit(message).alias("message"))
    if ctx.raw_fields is not None and rej.height:
        rej = rej.join(ctx.raw_fields.rename({"_row": "row"}), on="row", how="left")
    return rej


def load_order_lines(conn: Connection, ctx: BatchContext, batch: pl.DataFrame) -> Counts:
    orders = dbio.lookup(conn, T["orders"], ctx.shop_id, batch.get_column("order_id").to_list(), cols=("id",))
    batch = _map(batch, orders, "order_id", "_order")
    unknown = batch.filter(pl.col("_order").is_null())
    rej = unknown_rejections(unknown, ctx, "order_id", "unknown_order",
                             "no such order in this shop; import the orders first") if unknown.height else EMPTY
    batch = batch.filter(pl.col("_order").is_not_null())
    batch = _map(batch, product_ids(conn, ctx, batch), "product_id", "_product")
    values = {"order_id": pl.col("_order"), "product_id": pl.col("_product"), "quantity": pl.col("quantity"),
              "unit_price_minor": pl.col("unit_price"), "discount_minor": pl.col("discount").fill_null(0),
              "is_new_arrival": pl.col("is_new_arrival").fill_null(False)}
    ins, upd, same, _ = _upsert(conn, T["order_lines"], ctx, batch, values)
    return ins, upd, same, rej


def load_products(conn: Connection, ctx: BatchContext, batch: pl.DataFrame) -> Counts:
    cols = {"name": "name", "category": "category", "price_minor": "price", "currency": "currency",
            "launched_at": "launched_at"}
    values = {k: pl.col(v) for k, v in cols.items() if v in ctx.provided or k == "currency"}
    ins, upd, same, _ = _upsert(conn, T["products"], ctx, batch, values, keep=list(values))
    return ins, upd, same, EMPTY


def load_interactions(conn: Connection, ctx: BatchContext, batch: pl.DataFrame) -> Counts:
    batch = _map(batch, customer_ids(conn, ctx, batch.get_column("customer_id").to_list()), "customer_id", "_cust")
    values = {"customer_id": pl.col("_cust"), **{c: pl.col(c) for c in (
        "channel", "direction", "occurred_at", "thread_id", "subject", "body", "agent")}}
    ins, upd, same, _ = _upsert(conn, T["interactions"], ctx, batch, values)
    return ins, upd, same, EMPTY


def load_feedback(conn: Connection, ctx: BatchContext, batch: pl.DataFrame) -> Counts:
    batch = _map(batch, customer_ids(conn, ctx, batch.get_column("customer_id").to_list()), "customer_id", "_cust")
    inter = dbio.lookup(conn, T["interactions"], ctx.shop_id,
                        batch.get_column("interaction_id").drop_nulls().to_list(), cols=("id",))
    batch = _map(batch, inter, "interaction_id", "_inter")
    ok = (pl.col("kind") == "csat") & pl.col("score").is_between(1, 5) | \
        (pl.col("kind") == "nps") & pl.col("score").is_between(0, 10)
    bad = batch.filter(~ok)
    rej = unknown_rejections(bad, ctx, "score", "score_range", "score out of range (CSAT 1-5, NPS 0-10)") \
        if bad.height else EMPTY
    batch = batch.filter(ok)
    values = {"customer_id": pl.col("_cust"), "kind": pl.col("kind"), "score": pl.col("score"),
              "comment": pl.col("comment"), "submitted_at": pl.col("submitted_at"), "interaction_id": pl.col("_inter")}
    ins, upd, same, _ = _upsert(conn, T["feedback"], ctx, batch, values)
    return ins, upd, same, rej


def load_rates(conn: Connection, ctx: BatchContext, batch: pl.DataFrame) -> Counts:
    t = T["exchange_rates"]
    currencies = batch.get_column("currency").unique().to_list()
    rows = conn.execute(select(t.c.id, t.c.date, t.c.currency, t.c.rate_to_reporting)
                        .where(t.c.shop_id == ctx.shop_id, t.c.currency.in_(currencies))).all()
    have = {(r.date, r.currency): (r.id, float(r.rate_to_reporting)) for r in rows}
    new, changed, same = [], [], 0
    for d, cur, rate in batch.select("date", "currency", "rate_to_reporting").iter_rows():
        hit = have.get((d, cur))
        if hit is None:
            new.append((d, cur, rate))
        elif abs(hit[1] - float(rate)) > 1e-12 * max(1.0, abs(float(rate))):
            changed.append((hit[0], rate))
        else:
            same += 1
    if new:
        dbio.insert(conn, t, pl.DataFrame({"shop_id": [ctx.shop_id] * len(new), "date": [r[0] for r in new],
                                           "currency": [r[1] for r in new],
                                           "rate_to_reporting": [r[2] for r in new]}))
    if changed:
        dbio.update_rows(conn, t, pl.DataFrame({"id": [c[0] for c in changed],
                                                "rate_to_reporting": [c[1] for c in changed]}))
    return len(new), len(changed), same, EMPTY


LOADERS: dict[str, Callable[[Connection, BatchContext, pl.DataFrame], Counts]] = {
    "customers": load_customers, "orders": load_orders, "order-lines": load_order_lines,
    "products": load_products, "interactions": load_interactions, "feedback": load_feedback,
    "rates": load_rates,
}
