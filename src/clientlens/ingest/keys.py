"""Natural keys and content hashes, computed for whole columns at once (md5, stable forever).

Rows with an external id use it as the key. Rows without one get a derived key: the md5 of their
content plus the occurrence number of that content within the file, so two identical rows (two real
purchases) stay two records, and importing the same file again finds the same keys.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
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
    """md5 hex of the columns joined by a unit separator (nulls distinct from empty strings).

    The same digests as DuckDB's ``md5(concat_ws(chr(31), ...))`` gave before (stored ``row_hash``
    values stay valid), from hashlib: no database engine in memory for it.
    """
    import hashlib

    if frame.height == 0:
        return pl.Series("h", [], dtype=pl.String)
    joined = frame.select(pl.concat_str([pl.col(c).cast(pl.String).fill_null("\x00") for c in cols],
                                        separator="\x1f")).to_series()
    md5 = hashlib.md5
    return pl.Series("h", [md5(v.encode()).hexdigest() for v in joined.to_list()], dtype=pl.String)


@dataclass
class KeyState:
    """What keying a file batch by batch remembers: occurrence counts of derived keys (and of order
    line keys), and every key kept so far with its content hash (a later batch repeating a key)."""

    counts: pl.DataFrame | None = None
    # Keys kept so far as sorted 64-bit hashes, with the first 64 bits of each one's content hash
    # (NumPy arrays: 16 bytes a key, and one allocation per batch that is given back whole).
    seen_keys: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.uint64))
    seen_content: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.uint64))

    def earlier(self, keys: np.ndarray, content: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(key kept by an earlier batch, with the same content) per row."""
        if not len(self.seen_keys):
            none = np.zeros(len(keys), dtype=bool)
            return none, none
        at = np.minimum(np.searchsorted(self.seen_keys, keys), len(self.seen_keys) - 1)
        found = self.seen_keys[at] == keys
        return found, found & (self.seen_content[at] == content)

    def remember(self, keys: np.ndarray, content: np.ndarray) -> None:
        # The batch's keys sorted and inserted after equal earlier ones: one new array of each kind (a
        # concatenation sorted whole took 2.5x the kept keys' memory on top of them, ~40 MB at 1M keys).
        order = np.argsort(keys, kind="stable")
        at = np.searchsorted(self.seen_keys, keys[order], side="right")
        self.seen_keys = np.insert(self.seen_keys, at, keys[order])
        self.seen_content = np.insert(self.seen_content, at, content[order])

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


def _content64(frame: pl.DataFrame) -> np.ndarray:
    """The first 64 bits of each row's content hash."""
    return frame.select(pl.col("_hash").str.slice(0, 16).str.to_integer(base=16, dtype=pl.UInt64)) \
        .to_series().to_numpy()


def split_duplicates(frame: pl.DataFrame, raw_fields: pl.DataFrame | None, source_columns: dict[str, str],
                     state: KeyState | None = None) -> tuple[pl.DataFrame, pl.DataFrame, int]:
    """Within one file: (kept rows, rejections of later rows whose key repeats with other content,
    number of exact repeats dropped). With ``state``, keys kept by earlier batches count as earlier."""
    first_hash = pl.col("_hash").first().over("_key")
    dup = pl.int_range(pl.len()).over("_key") > 0
    same = dup & (pl.col("_hash") == first_hash)
    clash = dup & (pl.col("_hash") != first_hash)
    if state is not None:
        key_h = frame.get_column("_key").hash(seed=0).to_numpy()
        content_h = _content64(frame)
        found, equal = state.earlier(key_h, content_h)
        earlier, same_before = pl.lit(pl.Series(found)), pl.lit(pl.Series(equal))
        same = (same & ~earlier) | same_before
        clash = (clash & ~earlier) | (earlier & ~same_before)
    marks = frame.select(same.alias("same"), clash.alias("clash"))
    n_same = int(marks.get_column("same").sum())
    clash_mask = marks.get_column("clash")
    keep = ~(marks.get_column("same") | clash_mask)
    kept = frame.filter(keep)
    if state is not None:
        mask = keep.to_numpy()
        state.remember(key_h[mask], content_h[mask])
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
