"""Loyalty: tiers by spend and tenure (``[care.loyalty]``) and points earned per order.

Spend and points are in the shop's reporting currency: every completed order is converted through
the shop's exchange rates (``clientlens.money.Rates``) before it is added, so a VND order of
1,500,000 earns what its value in the reporting currency earns, not 1,500,000 points. The tier
thresholds of ``[care.loyalty]`` are in the reporting currency too.

>>> from decimal import Decimal
>>> from clientlens.care.config import CareSettings, LoyaltySettings, LoyaltyTier
>>> care = CareSettings(loyalty=LoyaltySettings(points_per_unit=1.0, tiers=(
...     LoyaltyTier(name="gold", min_spend=1000, min_tenure_days=365),
...     LoyaltyTier(name="bronze"))))
>>> tier_for(Decimal("1200"), 400, care), tier_for(Decimal("1200"), 30, care), order_points(Decimal("19.99"), care)
('gold', 'bronze', 19)
"""

from __future__ import annotations

import math
import time
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from clientlens.care.config import CareSettings
from clientlens.config import Settings
from clientlens.money import Rates
from clientlens.store import models as m
from clientlens.store.repository import current_snapshot, reporting_currency, shop_rates

COMPLETED = "completed"


def order_points(total: Decimal, care: CareSettings) -> int:
    """Points earned by one completed order of ``total`` (in the reporting currency), floored."""
    return max(0, math.floor(float(total) * care.loyalty.points_per_unit + 1e-9))


def tier_for(spend: Decimal, tenure_days: int, care: CareSettings) -> str | None:
    """The first configured tier whose spend and tenure minimums are both met."""
    for tier in care.loyalty.tiers:
        if float(spend) >= tier.min_spend and tenure_days >= tier.min_tenure_days:
            return tier.name
    return None


@dataclass(frozen=True)
class LoyaltyStatus:
    customer_id: int
    orders: int
    spend: Decimal  # completed orders up to the as-of date, in ``currency``
    tenure_days: int
    points: int
    tier: str | None
    currency: str = ""


def loyalty_of(customer_pk: int, orders: Iterable[Any], care: CareSettings, as_of: date, rates: Rates,
               shop_id: int | None = None) -> LoyaltyStatus:
    """Tier and points of one customer from its order rows (``ordered_at``, ``total_minor``, ``currency``,
    ``status``; rows of another shop are left out when ``shop_id`` is given), counting completed orders up
    to ``as_of``. Tenure is counted from the first completed order (0 without one)."""
    end = datetime.combine(as_of, datetime.max.time())
    n, spend, first, points = 0, Decimal(0), None, 0
    for o in orders:
        if o.status != COMPLETED or o.ordered_at > end or (shop_id is not None and o.shop_id != shop_id):
            continue
        total = rates.convert_minor(o.total_minor, o.currency, o.ordered_at)
        n += 1
        spend += total
        first = o.ordered_at if first is None else min(first, o.ordered_at)
        points += order_points(total, care)
    tenure = (as_of - first.date()).days if first is not None else 0
    return LoyaltyStatus(customer_pk, n, spend, tenure, points, tier_for(spend, tenure, care), rates.reporting)


def loyalty_statuses(session: Session, shop_id: int, care: CareSettings, as_of: date, rates: Rates,
                     customer_ids: list[int] | None = None) -> dict[int, LoyaltyStatus]:
    """``loyalty_of`` every customer of the shop (or ``customer_ids``), reading their orders in one statement."""
    end = datetime.combine(as_of, datetime.max.time())
    q = (select(m.Order.customer_id, m.Order.ordered_at, m.Order.total_minor, m.Order.currency, m.Order.status)
         .where(m.Order.shop_id == shop_id, m.Order.status == COMPLETED, m.Order.ordered_at <= end))
    if customer_ids is not None:
        q = q.where(m.Order.customer_id.in_(customer_ids))
    by_customer: dict[int, list[Any]] = {}
    for row in session.execute(q):
        by_customer.setdefault(row.customer_id, []).append(row)
    ids = customer_ids if customer_ids is not None else list(by_customer)
    return {cid: loyalty_of(cid, by_customer.get(cid, ()), care, as_of, rates) for cid in ids}


_RATES: dict[tuple[str, int, str, int | None], tuple[float, Rates]] = {}
#: How long a server process reuses a shop's exchange rates before reading them again (rates change only
#: by an import of rates; a new snapshot reads them at once).
RATES_CACHE_SECONDS = 60.0


def rates_for_shop(session: Session, settings: Settings, shop_id: int, shop_name: str) -> Rates:
    """The shop's exchange rates into its reporting currency (``store.repository.reporting_currency``), read
    once per ``RATES_CACHE_SECONDS`` per process and snapshot."""
    reporting = reporting_currency(session, shop_id, configured=settings.shop(shop_name).currency,
                                   fallback=settings.ingest.default_currency)
    snap = current_snapshot(session, shop_id)
    key = (str(getattr(session.get_bind(), "url", "")), shop_id, reporting, snap.id if snap else None)
    now = time.monotonic()
    hit = _RATES.get(key)
    if hit is not None and now - hit[0] < RATES_CACHE_SECONDS:
        return hit[1]
    rates = shop_rates(session, shop_id, reporting)
    if len(_RATES) > 64:
        _RATES.clear()
    _RATES[key] = (now, rates)
    return rates


def forget_rates() -> None:
    """Drop the cached exchange rates of every shop (after an import of rates in this process)."""
    _RATES.clear()
