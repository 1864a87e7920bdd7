"""Loyalty: tiers by spend and tenure (``[care.loyalty]``) and points earned per order.

>>> from clientlens.care.config import CareSettings, LoyaltySettings, LoyaltyTier
>>> care = CareSettings(loyalty=LoyaltySettings(points_per_unit=1.0, tiers=(
...     LoyaltyTier(name="gold", min_spend=1000, min_tenure_days=365),
...     LoyaltyTier(name="bronze"))))
>>> tier_for(1200.0, 400, care), tier_for(1200.0, 30, care), order_points(19.99, care)
('gold', 'bronze', 19)
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from clientlens.care.config import CareSettings
from clientlens.store import models as m

# ISO 4217 currencies without minor units (amounts are stored in minor units).
ZERO_DECIMAL = frozenset({"BIF", "CLP", "DJF", "GNF", "ISK", "JPY", "KMF", "KRW", "PYG", "RWF", "UGX",
                          "UYI", "VND", "VUV", "XAF", "XOF", "XPF"})


def minor_to_major(amount_minor: int, currency: str | None) -> float:
    """Minor units to the currency's major unit."""
    return float(amount_minor) if (currency or "").upper() in ZERO_DECIMAL else amount_minor / 100.0


def order_points(total: float, care: CareSettings) -> int:
    """Points earned by one completed order of ``total`` (major units), floored."""
    return max(0, math.floor(total * care.loyalty.points_per_unit + 1e-9))


def tier_for(spend: float, tenure_days: int, care: CareSettings) -> str | None:
    """The first configured tier whose spend and tenure minimums are both met."""
    for tier in care.loyalty.tiers:
        if spend >= tier.min_spend and tenure_days >= tier.min_tenure_days:
            return tier.name
    return None


@dataclass(frozen=True)
class LoyaltyStatus:
    customer_id: int
    orders: int
    spend: float
    tenure_days: int
    points: int
    tier: str | None


def loyalty_statuses(session: Session, shop_id: int, care: CareSettings, as_of: date,
                     customer_ids: list[int] | None = None) -> dict[int, LoyaltyStatus]:
    """Tier and points of every customer (or ``customer_ids``) from completed orders up to ``as_of``.

    Tenure is counted from the first completed order (customers without one have tenure 0).
    """
    end = datetime.combine(as_of, datetime.max.time())
    q = (select(m.Order.customer_id, m.Order.ordered_at, m.Order.total_minor, m.Order.currency)
         .where(m.Order.shop_id == shop_id, m.Order.status == "completed", m.Order.ordered_at <= end))
    if customer_ids is not None:
        q = q.where(m.Order.customer_id.in_(customer_ids))
    acc: dict[int, list] = {}
    for cid, at, total_minor, cur in session.execute(q):
        total = minor_to_major(total_minor, cur)
        row = acc.setdefault(cid, [0, 0.0, at, 0])
        row[0] += 1
        row[1] += total
        row[2] = min(row[2], at)
        row[3] += order_points(total, care)
    out = {}
    ids = customer_ids if customer_ids is not None else list(acc)
    for cid in ids:
        n, spend, first, points = acc.get(cid, [0, 0.0, None, 0])
        tenure = (as_of - first.date()).days if first is not None else 0
        out[cid] = LoyaltyStatus(cid, n, round(spend, 2), tenure, points, tier_for(spend, tenure, care))
    return out
