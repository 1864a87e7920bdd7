"""The numbers a dashboard shows: customers and revenue per label, the Lorenz curve and Gini
(monthly cohort retention is an engine expression in :mod:`clientlens.analysis.pipeline`).

Shares are fractions in [0, 1]: ``customers_share`` over all customers of the shop (never-purchased
included), ``revenue_share`` over all revenue. The top 20% are the first round(0.2 n) of the n
purchasing customers ranked by revenue (ties by customer_id); the Gini is over those n.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from clientlens.segments.revenue_tier import top_count
from clientlens.segments.rules import TAXONOMIES

SUMMARY_COLUMNS = ["taxonomy", "label", "customers", "customers_share", "revenue", "revenue_share"]


def _spend(features: pd.DataFrame) -> pd.DataFrame:
    df = pd.DataFrame({
        "customer_id": features["customer_id"].astype(str).to_numpy(),
        "total_spend": pd.to_numeric(features["total_spend"], errors="coerce").fillna(0.0).to_numpy(),
        "orders": pd.to_numeric(features["orders"], errors="coerce").fillna(0.0).to_numpy(),
    })
    return df


def label_summary(features: pd.DataFrame, labels: pd.DataFrame) -> pd.DataFrame:
    """Per taxonomy and label (every known label, zeros included): customers, revenue and shares."""
    spend = _spend(features)
    n_all = len(spend)
    total = float(spend["total_spend"].sum())
    joined = labels[["customer_id", "taxonomy", "label"]].merge(spend[["customer_id", "total_spend"]],
                                                               on="customer_id", how="left")
    got = joined.groupby(["taxonomy", "label"], sort=False).agg(
        customers=("customer_id", "nunique"), revenue=("total_spend", "sum")).reset_index()
    known = pd.DataFrame([(t, lab) for t, labs in TAXONOMIES.items() for lab in labs],
                         columns=["taxonomy", "label"])
    out = known.merge(got, on=["taxonomy", "label"], how="outer")
    out["customers"] = out["customers"].fillna(0).astype("int64")
    out["revenue"] = out["revenue"].fillna(0.0).astype("float64")
    out["customers_share"] = out["customers"] / n_all if n_all else 0.0
    out["revenue_share"] = out["revenue"] / total if total > 0 else 0.0
    out = out.sort_values(["taxonomy", "label"], kind="mergesort").reset_index(drop=True)
    return out[SUMMARY_COLUMNS]


def purchasing_spend(features: pd.DataFrame) -> np.ndarray:
    """Total spend of the purchasing customers, ascending."""
    spend = _spend(features)
    return np.sort(spend.loc[spend["orders"] > 0, "total_spend"].to_numpy(dtype="float64"))


def lorenz_points(features: pd.DataFrame, points: int) -> pd.DataFrame:
    """Lorenz curve: cumulative share of revenue held by the poorest share of purchasing customers.

    ``points`` evenly spaced customer shares from 0 to 1 (each at a whole number of customers).
    """
    x = purchasing_spend(features)
    n = len(x)
    total = float(x.sum())
    if n == 0 or total <= 0:
        return pd.DataFrame({"customers_share": [0.0, 1.0], "revenue_share": [0.0, 1.0]})
    cum = np.concatenate([[0.0], np.cumsum(x)])
    k = np.unique(np.rint(np.linspace(0, n, min(points, n + 1))).astype("int64"))
    return pd.DataFrame({"customers_share": k / n, "revenue_share": np.clip(cum[k] / cum[-1], 0.0, 1.0)})


def pareto_stats(features: pd.DataFrame, top_share: float) -> dict[str, float]:
    """``top20_revenue_share`` and ``gini`` over the n purchasing customers."""
    x = purchasing_spend(features)
    n = len(x)
    total = float(x.sum())
    if n == 0 or total <= 0:
        return {"top20_revenue_share": 0.0, "gini": 0.0}
    top = float(x[::-1][: top_count(n, top_share)].sum())
    i = np.arange(1, n + 1, dtype="float64")
    gini = float((2.0 * np.sum(i * x)) / (n * total) - (n + 1.0) / n)
    return {"top20_revenue_share": top / total, "gini": max(0.0, gini)}


def as_records(df: pd.DataFrame) -> list[dict[str, Any]]:
    """JSON-friendly rows (numpy scalars made Python)."""
    return [{k: (v.item() if hasattr(v, "item") else v) for k, v in row.items()}
            for row in df.to_dict(orient="records")]
