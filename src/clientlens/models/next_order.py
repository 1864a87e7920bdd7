"""How well the next order date is predicted: the models against two simple rules, on the holdout.

For every customer of the calibration period who bought again in the holdout, the actual date is
their first purchase day after the calibration end. The predictions:

- each model: calibration end + the median of the conditional time to the next purchase given that
  the customer is alive (``median_time_to_next_purchase(given_alive=True)``), none when that median
  is infinite or beyond ``max_days``;
- ``last_purchase_mean_gap``: the customer's last purchase + their mean gap between purchase days
  (one-time buyers: the mean over repeat buyers); ``..._clipped`` moves dates before the cut-off to
  the day after it;
- ``cutoff_median_gap``: the calibration end + the median gap between consecutive purchase days of
  the calibration period, for everyone.

The table gives, per method, the customers evaluated, the share of them given a date (coverage)
and the median and mean absolute error in days over those given a date.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from clientlens.features.btyd import unit_days

COLUMNS = ["method", "customers", "coverage", "median_abs_error_days", "mean_abs_error_days"]


def _purchase_days(orders: pd.DataFrame) -> pd.DataFrame:
    from clientlens.models.validation import purchases_only

    o = purchases_only(orders)
    return pd.DataFrame({"c": o["customer_id"].astype(str).to_numpy(),
                         "d": pd.to_datetime(o["order_date"]).dt.normalize().to_numpy()}).drop_duplicates()


def _row(method: str, predicted: pd.Series, actual: pd.Series) -> dict[str, Any]:
    given = predicted.notna()
    err = (predicted[given] - actual[given]).dt.days.abs()
    return {"method": method, "customers": int(len(actual)), "coverage": float(given.mean()) if len(actual) else 0.0,
            "median_abs_error_days": float(err.median()) if len(err) else float("nan"),
            "mean_abs_error_days": float(err.mean()) if len(err) else float("nan")}


def next_order_table(orders: pd.DataFrame, summary: pd.DataFrame, models: dict[str, Any], *,
                     calibration_end: pd.Timestamp, holdout_end: pd.Timestamp, time_unit: str,
                     max_days: float) -> pd.DataFrame:
    """One row per model and baseline (``COLUMNS``) over the customers who bought in the holdout."""
    days = _purchase_days(orders)
    cal = pd.Timestamp(calibration_end).normalize()
    end = pd.Timestamp(holdout_end).normalize()
    ids = pd.Index(summary.index.astype(str))
    after = days[(days["d"] > cal) & (days["d"] <= end) & days["c"].isin(ids)]
    actual = after.groupby("c")["d"].min()
    buyers = actual.index
    pos = ids.get_indexer(buyers)
    sub = summary.iloc[pos]
    rows = []
    for name, model in models.items():
        tau = model.median_time_to_next_purchase(sub, given_alive=True) * unit_days(time_unit)
        ok = np.isfinite(tau) & (tau <= max_days)
        pred = pd.Series(pd.NaT, index=buyers, dtype="datetime64[ns]")
        pred[ok] = cal + pd.to_timedelta(np.ceil(tau[ok]), unit="D")
        rows.append(_row(name, pred, actual))
    before = days[(days["d"] <= cal) & days["c"].isin(ids)].sort_values(["c", "d"])
    gaps = before.groupby("c")["d"].diff().dt.days.dropna()
    last = before.groupby("c")["d"].max().reindex(buyers)
    x = sub["frequency"].to_numpy(dtype=float)
    span = sub["recency"].to_numpy(dtype=float) * unit_days(time_unit)
    repeat = summary["frequency"].to_numpy(dtype=float) > 0
    pooled = float(np.mean(summary["recency"].to_numpy(dtype=float)[repeat] * unit_days(time_unit)
                           / summary["frequency"].to_numpy(dtype=float)[repeat])) if repeat.any() else 30.0
    mean_gap = np.where(x > 0, span / np.maximum(x, 1.0), pooled)
    raw = last + pd.to_timedelta(np.round(mean_gap), unit="D")
    rows.append(_row("last_purchase_mean_gap", raw, actual))
    rows.append(_row("last_purchase_mean_gap_clipped", raw.where(raw > cal, cal + pd.Timedelta(days=1)), actual))
    median_gap = float(gaps.median()) if len(gaps) else 30.0
    flat = pd.Series(cal + pd.Timedelta(days=round(median_gap)), index=buyers)
    rows.append(_row("cutoff_median_gap", flat, actual))
    return pd.DataFrame(rows, columns=COLUMNS)


__all__ = ["COLUMNS", "next_order_table"]
