"""What every taxonomy function receives: the prepared feature frame and the context."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from clientlens.segments.rules import SegmentRules

NUMERIC_FEATURES = (
    "tenure_days", "orders", "purchase_days", "recency_days", "purchases_per_month", "total_spend",
    "avg_order_value", "items_per_order", "quantity_per_order", "max_order_quantity", "ipi_mean_days",
    "ipi_std_days", "ipi_cv", "spend_share_online", "spend_share_in_store", "spend_share_phone",
    "spend_share_marketplace", "spend_share_other", "n_channels", "promo_item_share", "promo_spend_share",
    "new_arrival_share", "category_breadth", "top_category_share", "repeat_product_share", "return_rate",
    "age_years",
)
TEXT_FEATURES = ("kind", "name", "gender", "income_band", "country", "home_country", "dominant_channel")


@dataclass(frozen=True)
class LabelContext:
    """Shared inputs of the taxonomies.

    ``p_alive``: P(alive) per customer (aligned with the feature rows; NaN where unknown) or None
    when no scores exist. ``home_country``: the shop's home country (ISO alpha-2) or None.
    """

    rules: SegmentRules
    home_country: str | None = None
    p_alive: np.ndarray | None = None

    @property
    def digits(self) -> int:
        return self.rules.general.significant_digits


def prepare(features: pd.DataFrame) -> pd.DataFrame:
    """A copy of the feature table with a string ``customer_id``, float numerics and object texts.

    Missing optional columns are added as nulls, so files without demographics still classify.
    """
    df = features.reset_index(drop="customer_id" in features.columns)
    if "customer_id" not in df.columns:
        raise KeyError("the feature table has no customer_id column")
    out = pd.DataFrame({"customer_id": df["customer_id"].astype(str).to_numpy()})
    for col in NUMERIC_FEATURES:
        if col in df.columns:
            out[col] = pd.to_numeric(df[col], errors="coerce").astype("float64").to_numpy()
        else:
            out[col] = np.nan
    for col in TEXT_FEATURES:
        if col in df.columns:
            values = df[col].astype(object).to_numpy()
            out[col] = [None if (v is None or v is pd.NA or (isinstance(v, float) and np.isnan(v)))
                        else str(v) for v in values]
        else:
            out[col] = None
    out["orders"] = out["orders"].fillna(0.0)
    out["total_spend"] = out["total_spend"].fillna(0.0)
    return out


def purchasing(df: pd.DataFrame) -> pd.Series:
    """Customers with at least one completed order."""
    return df["orders"] > 0
