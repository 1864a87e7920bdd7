"""Customer lifetime value, expected next order date and average days between orders.

CLV follows Fader, Hardie & Lee (2005b, "RFM and CLV") as lifetimes computes it: the expected
purchases of each future month (from the transaction model, conditional on the history) times the
expected spend per purchase (Gamma-Gamma), discounted monthly.
"""

from __future__ import annotations

from typing import Any, Protocol

import numpy as np
import pandas as pd

from clientlens.errors import ModelError
from clientlens.features.btyd import UNIT_DAYS, unit_days
from clientlens.models._data import frt_arrays

#: Days in one month (the summary's "M" unit).
DAYS_PER_MONTH = UNIT_DAYS["M"]


class _Transactions(Protocol):
    def expected_purchases(self, t: Any, summary: Any) -> np.ndarray: ...
    def median_time_to_next_purchase(self, summary: Any, *, given_alive: bool = False) -> np.ndarray: ...


class _Spend(Protocol):
    def expected_spend(self, summary: Any) -> np.ndarray: ...


def clv(transaction_model: _Transactions, spend_model: _Spend, summary: Any, *, horizon_months: int = 12,
        monthly_discount_rate: float = 0.01, time_unit: str = "W") -> np.ndarray:
    """Discounted expected value of each customer over ``horizon_months`` (aligned with the rows).

    CLV = sum_{i=1..H} (E[Y(i months)] - E[Y((i-1) months)]) * E[M] / (1 + d)^i.
    """
    if horizon_months < 0 or int(horizon_months) != horizon_months:
        raise ModelError(f"horizon_months must be a whole number >= 0, got {horizon_months!r}")
    if monthly_discount_rate <= -1:
        raise ModelError("monthly_discount_rate must be > -1")
    from clientlens.models._data import compress_rows

    month = DAYS_PER_MONTH / unit_days(time_unit)
    spend = spend_model.expected_spend(summary)
    x, tx, T = frt_arrays(summary)
    xu, txu, Tu, inverse = compress_rows(x, tx, T)  # one computation per distinct history
    unique = pd.DataFrame({"frequency": xu, "recency": txu, "T": Tu})
    total = np.zeros(len(xu))
    prev = np.zeros(len(xu))
    for i in range(1, int(horizon_months) + 1):
        cur = transaction_model.expected_purchases(i * month, unique)
        total += (cur - prev) / (1 + monthly_discount_rate) ** i
        prev = cur
    return total[inverse] * spend


def expected_next_order(transaction_model: _Transactions, summary: Any, as_of: Any, *,
                        time_unit: str = "W", given_alive: bool = True,
                        max_days: float | None = None) -> pd.Series:
    """Expected next order date per customer: ``as_of`` plus the median of the conditional time to
    the next purchase (whole days), by default given that the customer is alive (to be read with
    P(alive)); NaT where that median is infinite or more than ``max_days`` away."""
    tau = transaction_model.median_time_to_next_purchase(summary, given_alive=given_alive)
    days = tau * unit_days(time_unit)
    base = pd.Timestamp(as_of).normalize()
    finite = np.isfinite(days) & (days < (max_days if max_days is not None else 365.25 * 200))
    out = pd.Series(pd.NaT, index=range(len(days)), dtype="datetime64[ns]")
    if finite.any():
        out[finite] = base + pd.to_timedelta(np.ceil(days[finite]), unit="D")
    return out


def average_days_between_orders(summary: Any, *, time_unit: str = "W") -> np.ndarray:
    """Mean days between purchase days: recency / frequency (NaN without a repeat purchase)."""
    x, tx, _ = frt_arrays(summary)
    with np.errstate(all="ignore"):
        return np.where(x > 0, tx * unit_days(time_unit) / np.where(x > 0, x, 1), np.nan)
