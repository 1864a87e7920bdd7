"""Purchase regularity: the inputs and statistics of the regularity-aware models.

- :func:`add_litt`: each customer's sum of log inter-purchase times (distinct purchase days up to
  the calibration end, in the summary's time unit), the ``litt`` column with which
  :class:`~clientlens.models.cnbd.ModifiedBetaGeoCNBD` compares its degrees of regularity k
  (BTYDplus's ``elog2cbs`` computes the same column).
- :func:`wheat_morrison`: Wheat & Morrison's (1990) estimate of the regularity from each
  customer's last two inter-purchase times t1, t2 (customers with at least three purchase days):
  M = t1 / (t1 + t2) is Beta(k, k) for Erlang-k gaps, so k = (1 - 4 var M) / (8 var M); k near 1
  means Poisson-like (exponential gaps), larger is more regular (BTYDplus ``estimateRegularity``,
  method "wheat"; here both M and 1 - M enter, the deterministic equivalent of its random pick).

Wheat, R. D. & Morrison, D. G. (1990). Estimating purchase regularity with two interpurchase times.
*Journal of Marketing Research* 27(1), 87-93.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from clientlens.errors import InputError


def _purchase_days(orders: Any, end: Any) -> pd.DataFrame:
    """Distinct (customer, purchase day) pairs up to ``end`` (returned / cancelled left out)."""
    from clientlens.models.validation import purchases_only

    frame = orders if isinstance(orders, pd.DataFrame) else orders.to_pandas()
    for col in ("customer_id", "order_date"):
        if col not in frame.columns:
            raise InputError(f"orders: missing column {col!r}")
    o = purchases_only(frame)
    day = pd.to_datetime(o["order_date"]).dt.normalize()
    pairs = pd.DataFrame({"c": o["customer_id"].astype(str).to_numpy(), "d": day.to_numpy()})
    if end is not None:
        pairs = pairs[pairs["d"] <= pd.Timestamp(end).normalize()]
    return pairs.drop_duplicates().sort_values(["c", "d"], kind="stable")


def _gaps(pairs: pd.DataFrame, days_per_unit: float) -> pd.DataFrame:
    gap = pairs.groupby("c")["d"].diff().dt.days.to_numpy(dtype=float) / days_per_unit
    out = pd.DataFrame({"c": pairs["c"].to_numpy(), "gap": gap})
    return out[np.isfinite(out["gap"])]


def add_litt(summary: pd.DataFrame, orders: Any, *, end: Any, time_unit: str = "W") -> pd.DataFrame:
    """A copy of ``summary`` with ``litt``: the sum of log inter-purchase times up to ``end``
    (the summary's calibration or observation end), 0 for one-time buyers."""
    from clientlens.features.btyd import unit_days

    gaps = _gaps(_purchase_days(orders, end), unit_days(time_unit))
    litt = np.log(gaps["gap"]).groupby(gaps["c"]).sum()
    out = summary.copy()
    out["litt"] = litt.reindex(summary.index.astype(str)).fillna(0.0).to_numpy(dtype=float)
    return out


def wheat_morrison(orders: Any, *, end: Any = None, customers: Any = None) -> tuple[float, int]:
    """(Wheat & Morrison's regularity k, the number of customers it is estimated on); NaN when no
    customer has three purchase days. ``customers`` restricts it to some customer ids."""
    pairs = _purchase_days(orders, end)
    if customers is not None:
        pairs = pairs[pairs["c"].isin({str(c) for c in customers})]
    gaps = _gaps(pairs, 1.0)
    last2 = gaps.groupby("c").tail(2)
    counts = last2.groupby("c")["gap"].transform("size")
    last2 = last2[counts == 2]
    if last2.empty:
        return float("nan"), 0
    g = last2["gap"].to_numpy().reshape(-1, 2)
    m = g[:, 0] / g.sum(axis=1)
    both = np.concatenate([m, 1 - m])
    var = float(np.var(both, ddof=1))
    if var <= 0:
        return float("inf"), len(m)
    return (1 - 4 * var) / (8 * var), len(m)


__all__ = ["add_litt", "wheat_morrison"]
