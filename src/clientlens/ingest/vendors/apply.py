"""What a vendor layout adds to loading: the buyers' profiles from an orders export."""

from __future__ import annotations

import polars as pl
from sqlalchemy import Connection, select

from clientlens.ingest import dbio
from clientlens.ingest.load import BatchContext, T, _phones
from clientlens.ingest.parsing import country_codes
from clientlens.ingest.vendors.base import VendorLayout
from clientlens.store.consent import ConsentValue, apply_imported_consent
from clientlens.store.search import index_names

FILLED = ("name", "email", "phone", "country", "city", "address")
CHUNK = 5000  # ids per query (SQLite's bound-parameter limit)


def _without_erased(conn: Connection, ctx: BatchContext, prof: pl.DataFrame) -> pl.DataFrame:
    """The profiles whose e-mail or phone is not an erased person's (store.erasure): never refilled."""
    from clientlens.store.erasure import erased_values, has_tombstones
    from clientlens.store.identity import normalise_email, normalise_phone

    if prof.height == 0 or not has_tombstones(conn, ctx.shop_id):
        return prof
    emails = [normalise_email(e) for e in prof.get_column("email").to_list()] if "email" in prof.columns \
        else [None] * prof.height
    countries = prof.get_column("country").to_list() if "country" in prof.columns else [None] * prof.height
    phones = [normalise_phone(p, c or ctx.default_region) for p, c in zip(
        prof.get_column("phone").to_list() if "phone" in prof.columns else [None] * prof.height, countries,
        strict=True)]
    bad_e = erased_values(conn, ctx.shop_id, "email", emails)
    bad_p = erased_values(conn, ctx.shop_id, "phone", phones)
    keep = [e not in bad_e and p not in bad_p for e, p in zip(emails, phones, strict=True)]
    return prof.filter(pl.Series(keep, dtype=pl.Boolean))


def fill_profiles(conn: Connection, ctx: BatchContext, layout: VendorLayout, base: pl.DataFrame,
                  kept: pl.DataFrame) -> None:
    """Fill the orders' customers' empty profile fields (name, e-mail, phone, country, city, address)
    from the export's buyer fields, and record the e-mail consent it grants; existing values are
    never overwritten, and a "no" (null here) records nothing."""
    prof = layout.profiles(base, kept.select("_row", "customer_id"))
    if prof.height == 0:
        return
    prof = _without_erased(conn, ctx, prof)
    customers = T["customers"]
    fields = [f for f in FILLED if f in prof.columns]
    ids = dbio.lookup(conn, customers, ctx.shop_id, prof.get_column("customer_id").to_list(),
                      cols=("id", "merged_into_id"))
    if ids.height == 0:
        return
    ids = ids.select("_key", pl.coalesce("merged_into_id", "id").alias("id"))
    olds = (*fields, "consent_email", "consent_sms")
    wanted = sorted(set(ids.get_column("id").to_list()))
    rows = [r for start in range(0, len(wanted), CHUNK) for r in conn.execute(
        select(customers.c.id, *[customers.c[f] for f in olds])
        .where(customers.c.id.in_(wanted[start:start + CHUNK]))).all()]
    cur = pl.DataFrame([tuple(r) for r in rows], schema={"id": pl.Int64, **{f"_old_{f}": (
        pl.Boolean if f.startswith("consent_") else pl.String) for f in olds}}, orient="row")
    j = prof.join(ids, left_on="customer_id", right_on="_key").join(cur, on="id")
    if "country" in fields:
        j = j.with_columns(pl.when(pl.col("country").is_in(sorted(country_codes()))).then(pl.col("country"))
                           .otherwise(None).alias("country"))
    if "phone" in fields:
        j = j.with_columns(_phones(j.select("phone", pl.coalesce("country", "_old_country").alias("country"))
                                   if "country" in fields else j.select("phone", pl.lit(None, pl.String).alias("country")),
                                   ctx.default_region).alias("_e164"))
    upd = j.select("id", *[pl.coalesce(f"_old_{f}", f).alias(f) for f in fields],
                   *([pl.coalesce("_old_email", "email").str.strip_chars().str.to_lowercase().alias("email_norm")]
                     if "email" in fields else []),
                   *([pl.when(pl.col("_old_phone").is_null()).then(pl.col("_e164")).otherwise(None)
                      .alias("_e164_new")] if "phone" in fields else []))
    changed = j.select(pl.any_horizontal([pl.col(f"_old_{f}").is_null() & pl.col(f).is_not_null()
                                          for f in fields]).alias("c")).get_column("c")
    upd = upd.filter(changed).unique("id", keep="first")
    if upd.height:
        filled = upd.drop("_e164_new") if "_e164_new" in upd.columns else upd
        dbio.update_rows(conn, customers, filled)
        if "_e164_new" in upd.columns:
            phones = upd.filter(pl.col("_e164_new").is_not_null()).select("id", pl.col("_e164_new").alias("phone_e164"))
            dbio.update_rows(conn, customers, phones)
        if "name" in fields:
            index_names(conn, ctx.shop_id, upd.filter(pl.col("name").is_not_null()).select("id", "name").iter_rows())
    given = []
    for c in ("email", "sms"):
        if f"consent_{c}" not in j.columns:
            continue
        part = j.filter(pl.col(f"consent_{c}") & pl.col(f"_old_consent_{c}").is_null())
        given += [ConsentValue(int(i), c, True) for i in part.get_column("id").unique().to_list()]
    if given:
        ctx.tally["consent_not_applied"] = ctx.tally.get("consent_not_applied", 0) + apply_imported_consent(
            conn, ctx.shop_id, given, source=f"import:{ctx.source}", now=ctx.now)
