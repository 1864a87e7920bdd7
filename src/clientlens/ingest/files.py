"""Files mode (``analyze --source``): read and validate a file into the canonical analysis frame.

Same reading, mapping and validation as import; nothing touches the store. Money comes out as
float64 in the file's currency (the analysis converts to the reporting currency).

>>> from clientlens.config import load_settings
>>> from clientlens.datasets.cdnow import data_path
>>> res = read_table(data_path("CDNOW_master.txt.gz"), "orders", settings=load_settings(search_cwd=False))
>>> res.table.num_rows, res.rejected
(69659, 0)
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

import polars as pl
import pyarrow as pa

from clientlens.config import Settings
from clientlens.ingest.options import Mapping, ParseOptions
from clientlens.ingest.parsing import currency_exponents
from clientlens.ingest.quarantine import Rejection, concat_rejections, first_rejections
from clientlens.ingest.quarantine import write_quarantine as _write_quarantine
from clientlens.ingest.reading import FileReader
from clientlens.store.repository import utcnow

FRAME_COLUMNS: dict[str, tuple[str, ...]] = {
    "orders": ("customer_id", "order_id", "order_date", "channel", "currency", "total", "discount_total",
               "status"),
    "order-lines": ("order_id", "product_id", "category", "quantity", "unit_price", "discount",
                    "is_new_arrival"),
    "customers": ("customer_id", "kind", "name", "email", "phone", "birth_date", "gender", "income_band",
                  "country", "city", "language", "preferred_channel", "created_at", "consent_email",
                  "consent_sms", "consent_phone", "consent_post", "consent_chat", "consent_social"),
    "interactions": ("customer_id", "interaction_id", "channel", "direction", "occurred_at", "thread_id",
                     "agent"),
    "feedback": ("customer_id", "kind", "score", "submitted_at", "interaction_id"),
    "products": ("product_id", "name", "category", "price", "launched_at"),
    "rates": ("date", "currency", "rate_to_reporting"),
}
MONEY = {"orders": ("total", "discount_total"), "order-lines": ("unit_price", "discount"),
         "products": ("price",)}
ID_DEFAULTS = {"orders": "order_id", "interactions": "interaction_id"}


@dataclass
class ReadResult:
    """A validated canonical frame and what was rejected on the way."""

    source: str
    entity: str
    table: pa.Table
    rejections: pl.DataFrame
    read: int
    rejected: int

    def first(self, n: int = 5) -> list[Rejection]:
        return first_rejections(self.rejections, self.source, n)


def canonical_entity(entity: str) -> str:
    """``order_lines`` and ``order-lines`` are the same entity."""
    return entity.replace("_", "-")


def read_table(path: str | Path, entity: str, *, mapping: Mapping | str | Path | dict[str, Any] | None = None,
               options: ParseOptions | dict[str, Any] | None = None, settings: Settings,
               now: datetime | None = None, shop: str | None = None) -> ReadResult:
    """Read ``path`` as ``entity`` into the canonical analysis frame (COMMON.md), validated.

    With ``shop``, its configured currency and time zone are the defaults (as on import).
    """
    entity = canonical_entity(entity)
    shop_cfg = settings.shop(shop) if shop else None
    reader = FileReader(path, entity, mapping=mapping, options=options, settings=settings, now=now or utcnow(),
                        shop_currency=shop_cfg.currency if shop_cfg else None,
                        shop_timezone=shop_cfg.timezone if shop_cfg else None)
    kept, rejected_parts = [], []
    for batch in reader:  # the analysis frame is whole; the text of the file is not held
        kept.append(_frame(batch.kept, entity))
        rejected_parts.append(batch.rejections)
    rejections = concat_rejections(rejected_parts)
    out = pa.concat_tables(kept) if kept else pa.table({})
    rejected = int(rejections.get_column("row").n_unique()) if rejections.height else 0
    return ReadResult(source=reader.source, entity=entity, table=out, rejections=rejections, read=reader.read,
                      rejected=rejected)


def _frame(kept: pl.DataFrame, entity: str) -> pa.Table:
    """Keyed rows of one batch in the canonical analysis frame."""
    frame = kept
    if entity in ID_DEFAULTS:  # rows without an id keep their derived key as id
        frame = frame.with_columns(pl.col("_key").alias(ID_DEFAULTS[entity]))
    if entity in MONEY:
        frame = frame.join(currency_exponents().rename({"_cur": "currency"}), on="currency", how="left")
        scale = pl.lit(10.0).pow(pl.col("_exp").fill_null(2))
        frame = frame.with_columns((pl.col(c).cast(pl.Float64) / scale).alias(c) for c in MONEY[entity])
        if entity == "orders":
            frame = frame.with_columns(pl.col("discount_total").fill_null(0.0))
        if entity == "order-lines":
            frame = frame.with_columns(pl.col("discount").fill_null(0.0),
                                       pl.col("is_new_arrival").fill_null(False))
    if entity == "rates":
        frame = frame.with_columns(pl.col("rate_to_reporting").cast(pl.Float64))
    if entity == "order-lines":
        frame = frame.with_columns(pl.col("quantity").cast(pl.Float64))
    return frame.select(FRAME_COLUMNS[entity]).to_arrow()


def write_quarantine(result: ReadResult | pl.DataFrame, input_path: str | Path, *,
                     directory: str | Path | None = None) -> Path | None:
    """Write ``<input name>.rejected.csv`` (in the current directory by default) for a read."""
    frame = result.rejections if isinstance(result, ReadResult) else result
    return _write_quarantine(frame, input_path, directory=directory)
