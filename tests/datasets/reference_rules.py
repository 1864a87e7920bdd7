"""An independent pandas computation of the features the archetype rules use, and the documented
reference rules of ``docs/generator.md`` (used to check that the archetypes mean what they say)."""

from __future__ import annotations

import pandas as pd
import phonenumbers

from clientlens.datasets.archetypes import ARCHETYPES


def _phone_country(phone: object) -> str | None:
    if not isinstance(phone, str) or not phone.startswith("+"):
        return None
    return phonenumbers.region_code_for_number(phonenumbers.parse(phone, None))


def customer_features(shop) -> pd.DataFrame:
    """Per customer: the figures the reference rules read (completed orders only)."""
    orders = shop.orders[shop.orders["status"] == "completed"].copy()
    orders["day"] = pd.to_datetime(orders["order_date"]).dt.normalize()
    lines = shop.order_lines.merge(orders[["order_id", "customer_id"]], on="order_id")
    lines["spend"] = lines["quantity"] * lines["unit_price"] - lines["discount"]
    lines["promo"] = lines["discount"] > 0
    g = lines.groupby("customer_id")
    feats = pd.DataFrame({
        "promo_item_share": g["promo"].mean(),
        "promo_qty_share": g.apply(lambda d: d.loc[d.promo, "quantity"].sum() / d["quantity"].sum(), include_groups=False),
        "new_arrival_share": g["is_new_arrival"].mean(),
        "quantity": g["quantity"].sum(),
    })
    cat = lines.groupby(["customer_id", "category"])["spend"].sum()
    feats["top_category_share"] = cat.groupby(level=0).max() / cat.groupby(level=0).sum()
    o = orders.groupby("customer_id")
    feats["orders"] = o.size()
    feats["quantity_per_order"] = feats["quantity"] / feats["orders"]
    days = orders.drop_duplicates(["customer_id", "day"]).sort_values(["customer_id", "day"])
    days["gap"] = days.groupby("customer_id")["day"].diff().dt.days
    d = days.groupby("customer_id")
    feats["purchase_days"] = d.size()
    feats["ipi_mean_days"] = d["gap"].mean()
    as_of = pd.Timestamp(shop.as_of)
    feats["recency_days"] = (as_of - d["day"].max()).dt.days
    out = shop.customers[["customer_id", "country", "phone"]].set_index("customer_id").join(feats)
    out["phone_country"] = out["phone"].map(_phone_country)
    out["any_order"] = out.index.isin(shop.orders["customer_id"])
    out["orders"] = out["orders"].fillna(0)
    return out


def reference_labels(f: pd.DataFrame, home: str = "GB") -> pd.DataFrame:
    """The documented rules (docs/generator.md) applied to :func:`customer_features`."""
    a = ARCHETYPES
    return pd.DataFrame({
        "price_conscious": f["promo_item_share"] >= a["price_conscious"].threshold,
        "brand_loyal": (f["orders"] >= 3) & (f["top_category_share"] >= a["brand_loyal"].threshold),
        "trend_seeker": f["new_arrival_share"] >= a["trend_seeker"].threshold,
        "bulk_buyer": f["quantity_per_order"] >= a["bulk_buyer"].threshold,
        "occasional": (f["purchase_days"] >= 2) & (f["ipi_mean_days"] >= a["occasional"].threshold),
        "lapsing": (f["recency_days"] >= a["lapsing"].threshold * f["ipi_mean_days"]) & (f["recency_days"] >= 90),
        "prospect": ~f["any_order"],
        "international": f["country"].fillna(f["phone_country"]).fillna(home) != home,
    }, index=f.index).fillna(False).astype(bool)


def scores(truth: pd.DataFrame, predicted: pd.DataFrame) -> pd.DataFrame:
    """Precision and recall per archetype."""
    t = truth.set_index("customer_id").loc[predicted.index]
    rows = {}
    for col in predicted.columns:
        tp = int((t[col] & predicted[col]).sum())
        fp = int((~t[col] & predicted[col]).sum())
        fn = int((t[col] & ~predicted[col]).sum())
        rows[col] = {"members": int(t[col].sum()), "precision": tp / max(tp + fp, 1), "recall": tp / max(tp + fn, 1),
                     "rate": float(t[col].mean())}
    return pd.DataFrame(rows).T
