"""Natural keys and content hashes, computed for whole columns at once (DuckDB md5, stable forever).

Rows with an external id use it as the key. Rows without one get a derived key: the md5 of their
content plus the occurrence number of that content within the file, so two identical rows (two real
purchases) stay two records, and importing the same file again finds the same keys.
"""

from __future__ import annotations

from dataclasses import dataclass

import polars as pl

from clientlens.ingest.quarantine import FIELD_PREFIX

# Columns that make a record's content (its row_hash) and, without an id, its derived key.
CONTENT: dict[str, tuple[str, ...]] = {
    "customers": ("name", "email", "phone", "birth_date", "gender", "income_band", "kind", "country",
                  "city", "address", "language", "timezone", "preferred_channel", "consent_email", "consent_sms",
                  "consent_phone", "consent_post", "consent_chat", "consent_social", "created_at"),
    "orders": ("customer_id", "order_date", "channel", "currency", "total", "discount_total", "status"),
    "order-lines": ("quantity", "unit_price", "discount", "is_new_arrival", "currency"),
    "products": ("name", "category", "price", "currency", "launched_at"),
    "interactions": ("customer_id", "channel", "direction", "occurred_at", "thread_id", "subject", "body",
                     "agent"),
    "feedback": ("customer_id", "kind", "score", "comment", "submitted_at", "interaction_id"),
    "rates": ("rate_to_reporting",),
}
ID_COLUMN = {"customers": "customer_id", "orders": "order_id", "products": "product_id",
             "interactions": "interaction_id"}


def md5_of(frame: pl.DataFrame, cols: list[str]) -> pl.Series:
    """md5 hex of the columns joined by a unit separator (nulls distinct from empty strings)."""
    import duckdb

    if frame.height == 0:
        return pl.Series("h", [], dtype=pl.String)
    parts = frame.select(pl.col(c).cast(pl.String).fill_null("\x00").alias(f"c{i}") for i, c in enumerate(cols))
    con = duckdb.connect()
    try:
        con.register("t", parts.to_arrow())
        args = ", ".join(f'"c{i}"' for i in range(len(cols)))
        out = con.sql(f"SELECT md5(concat_ws(chr(31), {args})) AS h FROM t").pl()
    finally:
        con.close()
    return out.get_column("h")


@dataclass
class KeyState:
    """What keying a file batch by batch remembers: occurrence counts of derived keys (and of order
    line keys), and every key kept so far with its content hash (a later batch repeating a key)."""

    counts: pl.DataFrame | None = None
    seen: pl.DataFrame | None = None

    def count(self, frame: pl.DataFrame, by: list[str]) -> None:
        new = frame.group_by(by).agg(pl.len().cast(pl.Int64).alias("_n"))
        both = new if self.counts is None else pl.concat([self.counts, new], how="vertical_relaxed")
        self.counts = both.group_by(by).agg(pl.col("_n").sum())


def _occurrence(frame: pl.DataFrame, by: list[str], state: KeyState | None) -> pl.DataFrame:
    """``frame`` with ``_occ``: the 1-based occurrence of its ``by`` group in the file so far."""
    occ = pl.int_range(1, pl.len() + 1).over(by).cast(pl.Int64)
    if state is None:
        return frame.with_columns(occ.alias("_occ"))
    if state.counts is not None:
        frame = frame.join(state.counts.rename({"_n": "_before"}), on=by, how="left", maintain_order="left")
        frame = frame.with_columns((occ + pl.col("_before").fill_null(0)).alias("_occ")).drop("_before")
    else:
        frame = frame.with_columns(occ.alias("_occ"))
    state.count(frame, by)
    return frame


def assign_keys(frame: pl.DataFrame, entity: str, state: KeyState | None = None) -> pl.DataFrame:
    """Add ``_key`` (natural key) and ``_hash`` (content) to a validated frame.

    With ``state``, occurrence numbers continue from the earlier batches of the same file.
    """
    content = [c for c in CONTENT[entity] if c in frame.columns]
    frame = frame.with_columns(md5_of(frame, content).alias("_hash"))
    idcol = ID_COLUMN.get(entity)
    if entity == "order-lines":
        frame = _occurrence(frame, ["order_id", "product_id"], state)
        key = pl.concat_str([pl.col("order_id"), pl.col("product_id"), pl.col("_occ").cast(pl.String)], separator="|")
        return frame.with_columns(key.alias("_key")).drop("_occ")
    if entity == "rates":
        key = pl.concat_str([pl.col("date").cast(pl.String), pl.col("currency")], separator="|")
        return frame.with_columns(key.alias("_key"))
    if idcol is None:
        derived_rows = frame
    else:
        derived_rows = frame.filter(pl.col(idcol).is_null())
    if derived_rows.height == 0:
        return frame.with_columns(pl.col(idcol).alias("_key")) if idcol else frame.with_columns(
            pl.lit(None, dtype=pl.String).alias("_key"))
    # Only rows without an id get a derived key; occurrences count among those rows.
    frame = frame.with_columns(pl.int_range(pl.len()).alias("_pos"))
    derived = _occurrence(frame.filter(pl.col(idcol).is_null()) if idcol else frame, ["_hash"], state)
    derived = derived.select("_pos", pl.concat_str([pl.lit("~"), pl.col("_hash").str.slice(0, 24), pl.lit(":"),
                                                    pl.col("_occ").cast(pl.String)]).alias("_derived"))
    frame = frame.join(derived, on="_pos", how="left", maintain_order="left").drop("_pos")
    key = pl.coalesce(pl.col(idcol), pl.col("_derived")) if idcol else pl.col("_derived")
    return frame.with_columns(key.alias("_key")).drop("_derived")


def split_duplicates(frame: pl.DataFrame, raw_fields: pl.DataFrame | None, source_columns: dict[str, str],
                     state: KeyState | None = None) -> tuple[pl.DataFrame, pl.DataFrame, int]:
    """Within one file: (kept rows, rejections of later rows whose key repeats with other content,
    number of exact repeats dropped). With ``state``, keys kept by earlier batches count as earlier."""
    first_hash = pl.col("_hash").first().over("_key")
    dup = pl.int_range(pl.len()).over("_key") > 0
    same = dup & (pl.col("_hash") == first_hash)
    clash = dup & (pl.col("_hash") != first_hash)
    if state is not None and state.seen is not None and state.seen.height:
        frame = frame.join(state.seen.rename({"_h": "_seen_h"}), on="_key", how="left", maintain_order="left")
        h = pl.col("_hash").str.slice(0, 16).str.to_integer(base=16, dtype=pl.UInt64)
        earlier = pl.col("_seen_h").is_not_null()
        same = (same & ~earlier) | (earlier & (pl.col("_seen_h") == h))
        clash = (clash & ~earlier) | (earlier & (pl.col("_seen_h") != h))
    marks = frame.select(same.alias("same"), clash.alias("clash"))
    if "_seen_h" in frame.columns:
        frame = frame.drop("_seen_h")
    n_same = int(marks.get_column("same").sum())
    clash_mask = marks.get_column("clash")
    kept = frame.filter(~(marks.get_column("same") | clash_mask))
    if state is not None:
        new = kept.select("_key", pl.col("_hash").str.slice(0, 16).str.to_integer(base=16, dtype=pl.UInt64)
                          .alias("_h"))
        state.seen = new if state.seen is None else pl.concat([state.seen, new])
    rej = frame.filter(clash_mask)
    key_header = next(iter(source_columns.values()), "")
    for canon in ("order_id", "customer_id", "product_id", "interaction_id"):
        if canon in source_columns:
            key_header = source_columns[canon]
            break
    rejections = rej.select(
        pl.col("_row").alias("row"), pl.col("_line").alias("line"), pl.lit(key_header).alias("column"),
        pl.col("_key").alias("value"), pl.lit("duplicate_key").alias("rule"),
        pl.lit("the same key appears earlier in this file with different content").alias("message"),
        pl.col("_row").alias("_join_row"))
    if raw_fields is not None and rejections.height:
        rejections = rejections.join(raw_fields, left_on="_join_row", right_on="_row", how="left")
    rejections = rejections.drop("_join_row")
    return kept, rejections, n_same


def raw_fields_frame(table: pl.DataFrame, headers: list[str]) -> pl.DataFrame:
    """The original fields keyed by ``_row`` (to attach to rejections found after validation)."""
    return table.select(pl.col("_row"), *[pl.col(h).alias(FIELD_PREFIX + h) for h in headers])
