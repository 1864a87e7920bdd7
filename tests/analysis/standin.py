"""A pandas stand-in of the feature table (COMMON contract), used by the tests only while
``clientlens.features`` has no feature-table function; the real one replaces it automatically."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import Any

import numpy as np
import pandas as pd

CHANNELS = ("online", "in_store", "phone", "marketplace", "other")


def standin_feature_table(tables: dict[str, Any], *, as_of: date, home_country: str | None = None,
                          engine: Any = None, **_: Any) -> pd.DataFrame:
    orders = engine.to_pandas(tables["orders"])
    lines = engine.to_pandas(tables["order_lines"])
    customers = engine.to_pandas(tables["customers"])
    end = datetime.combine(as_of + timedelta(days=1), datetime.min.time())
    orders = orders[pd.to_datetime(orders["order_date"]) < end].copy()
    orders["order_date"] = pd.to_datetime(orders["order_date"])
    status = orders["status"].fillna("completed").str.lower()
    done = orders[status == "completed"].copy()
    done["day"] = done["order_date"].dt.normalize()
    ids = pd.Index(sorted(set(customers["customer_id"].astype(str)) | set(orders["customer_id"].astype(str))),
                   name="customer_id")
    g = done.groupby("customer_id")
    f = pd.DataFrame(index=ids)
    f["first_purchase"] = g["order_date"].min()
    f["last_purchase"] = g["order_date"].max()
    asof_ts = pd.Timestamp(as_of)
    f["tenure_days"] = (asof_ts - f["first_purchase"].dt.normalize()).dt.days.astype("float64")
    f["orders"] = g.size().reindex(ids).fillna(0).astype("int64")
    f["purchase_days"] = g["day"].nunique().reindex(ids).fillna(0).astype("int64")
    f["recency_days"] = (asof_ts - f["last_purchase"].dt.normalize()).dt.days.astype("float64")
    f["total_spend"] = g["total"].sum().reindex(ids).fillna(0.0)
    f["avg_order_value"] = f["total_spend"] / f["orders"].replace(0, np.nan)
    days = done[["customer_id", "day"]].drop_duplicates().sort_values(["customer_id", "day"])
    gaps = days.groupby("customer_id")["day"].diff().dt.days
    gstat = gaps.groupby(days["customer_id"]).agg(["mean", "std"])
    f["ipi_mean_days"] = gstat["mean"]
    f["ipi_std_days"] = gstat["std"]
    f["ipi_cv"] = f["ipi_std_days"] / f["ipi_mean_days"]
    months = f["tenure_days"] / (365.25 / 12)
    f["purchases_per_month"] = f["orders"] / months.where(months > 0, 1.0)
    if len(lines):
        ln = lines.merge(done[["order_id", "customer_id", "order_date"]], on="order_id")
        ln["spend"] = ln["quantity"] * ln["unit_price"] - ln["discount"].fillna(0)
        ln["promo"] = ln["discount"].fillna(0) > 0
        ln = ln.sort_values(["customer_id", "order_date"])
        ln["repeat"] = ln.duplicated(["customer_id", "product_id"])
        lg = ln.groupby("customer_id")
        f["items_per_order"] = lg.size() / f["orders"].replace(0, np.nan)
        f["quantity_per_order"] = lg["quantity"].sum() / f["orders"].replace(0, np.nan)
        per_order = ln.groupby(["customer_id", "order_id"])["quantity"].sum()
        f["max_order_quantity"] = per_order.groupby("customer_id").max()
        f["promo_item_share"] = lg["promo"].mean()
        f["new_arrival_share"] = lg["is_new_arrival"].mean()
        f["repeat_product_share"] = lg["repeat"].mean()
        cat = ln.groupby(["customer_id", "category"])["spend"].sum()
        f["category_breadth"] = cat.groupby("customer_id").size()
        f["top_category_share"] = cat.groupby("customer_id").max() / cat.groupby("customer_id").sum()
    else:
        q = done.get("quantity")
        f["items_per_order"] = np.where(f["orders"] > 0, 1.0, np.nan)
        f["quantity_per_order"] = (q.groupby(done["customer_id"]).sum() / f["orders"].replace(0, np.nan)
                                   if q is not None else np.nan)
        for c in ("max_order_quantity", "promo_item_share", "new_arrival_share", "repeat_product_share",
                  "category_breadth", "top_category_share"):
            f[c] = np.nan
    ch = done.assign(channel=done["channel"].fillna("other"))
    by_ch = ch.groupby(["customer_id", "channel"])["total"].sum().unstack(fill_value=0.0)
    tot = by_ch.sum(axis=1)
    for c in CHANNELS:
        f[f"spend_share_{c}"] = (by_ch[c] / tot.replace(0, np.nan)) if c in by_ch.columns else 0.0
    f["n_channels"] = (by_ch > 0).sum(axis=1)
    f["dominant_channel"] = by_ch.idxmax(axis=1)
    cust = customers.assign(customer_id=customers["customer_id"].astype(str)).drop_duplicates("customer_id")
    cust = cust.set_index("customer_id")
    for c in ("kind", "name", "gender", "income_band", "country"):
        f[c] = cust[c] if c in cust.columns else None
    birth = pd.to_datetime(cust["birth_date"]) if "birth_date" in cust.columns else None
    f["age_years"] = ((asof_ts - birth).dt.days / 365.25).reindex(ids) if birth is not None else np.nan
    f["home_country"] = home_country
    f["orders"] = f["orders"].astype("int64")
    return f.reset_index()
