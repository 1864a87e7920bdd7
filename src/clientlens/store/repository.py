"""Small shared queries of the store: shops, customers by external id, latest snapshot."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, date, datetime
from functools import lru_cache
from typing import Any

from sqlalchemy import bindparam, func, select
from sqlalchemy.orm import Session

from clientlens.errors import NotFoundError
from clientlens.money import Rates
from clientlens.store import models as m


def utcnow() -> datetime:
    """Now in UTC as a naive datetime (the store keeps UTC)."""
    return datetime.now(UTC).replace(tzinfo=None)


def get_or_create_shop(session: Session, name: str, *, now: datetime | None = None) -> m.Shop:
    """The shop called ``name``, created if it does not exist yet."""
    shop = session.scalar(select(m.Shop).where(m.Shop.name == name))
    if shop is None:
        shop = m.Shop(name=name, created_at=now or utcnow())
        session.add(shop)
        session.flush()
    return shop


def get_shop(session: Session, name: str) -> m.Shop:
    """The shop called ``name``; NotFoundError naming the shops that exist otherwise."""
    shop = session.scalar(select(m.Shop).where(m.Shop.name == name))
    if shop is None:
        known = ", ".join(session.scalars(select(m.Shop.name).order_by(m.Shop.name))) or "none"
        raise NotFoundError(f"shop {name!r} does not exist (shops in the store: {known}); import data with --shop {name}")
    return shop


def get_customer(session: Session, shop_id: int, external_id: str) -> m.Customer:
    """A customer by its external id; a merged profile resolves to the profile it was merged into."""
    cust = session.scalar(select(m.Customer).where(m.Customer.shop_id == shop_id,
                                                   m.Customer.external_id == str(external_id)))
    if cust is None:
        raise NotFoundError(f"customer {external_id!r} does not exist in this shop")
    seen = {cust.id}
    while cust.merged_into_id is not None and cust.merged_into_id not in seen:
        nxt = session.get(m.Customer, cust.merged_into_id)
        if nxt is None:
            break
        seen.add(nxt.id)
        cust = nxt
    return cust


def current_snapshot_id(shop_id: Any) -> Any:
    """The one definition of a shop's current snapshot, as a scalar subquery on ``shop_id`` (a value,
    a bound parameter or a correlated column): the one with the latest as-of date (unique per shop) that
    is not in the future.

    Every reader (the 360, the customer list, the dashboard, care's facts) asks this.
    """
    snaps = m.Snapshot.__table__
    return (select(snaps.c.id).where(snaps.c.shop_id == shop_id, snaps.c.as_of <= func.current_date())
            .order_by(snaps.c.as_of.desc()).limit(1).scalar_subquery())


def latest_snapshot(session: Session, shop_id: int, *, as_of: date | None = None) -> m.Snapshot | None:
    """The snapshot of ``as_of``, or the shop's current one (``current_snapshot_id``)."""
    if as_of is not None:
        return session.scalar(select(m.Snapshot).where(m.Snapshot.shop_id == shop_id, m.Snapshot.as_of == as_of))
    return session.scalar(select(m.Snapshot).where(m.Snapshot.id == current_snapshot_id(shop_id)))

@dataclass(frozen=True)
class CurrentSnapshot:
    """A shop's current snapshot: its key and its parsed ``run.json`` document."""

    id: int
    shop_id: int
    as_of: date
    created_at: datetime
    run: dict[str, Any]


_RUN_CACHE: dict[tuple[str, int, datetime], dict[str, Any]] = {}


@lru_cache(maxsize=1)
def _current_snapshot_statement() -> Any:
    """The current snapshot's key columns (bound ``shop_id``), built once: building costs more than running."""
    snaps = m.Snapshot.__table__
    return select(snaps.c.id, snaps.c.as_of, snaps.c.created_at).where(
        snaps.c.id == current_snapshot_id(bindparam("shop_id")))


def current_snapshot(session: Session, shop_id: int) -> CurrentSnapshot | None:
    """The current snapshot (``current_snapshot_id``) with its run document, parsed once per snapshot and process.

    Memoised in ``session.info`` for the life of the session (a request asks for it many times).
    """
    memo: dict[int, CurrentSnapshot | None] = session.info.setdefault("clientlens_current_snapshot", {})
    if shop_id in memo:
        return memo[shop_id]
    row = session.execute(_current_snapshot_statement(), {"shop_id": shop_id}).first()
    found = None
    if row is not None:
        key = (str(getattr(session.get_bind(), "url", "")), int(row.id), row.created_at)
        run = _RUN_CACHE.get(key)
        if run is None:
            snaps = m.Snapshot.__table__
            text_ = session.scalar(select(snaps.c.run).where(snaps.c.id == row.id))
            try:
                doc = json.loads(text_) if text_ else {}
            except ValueError:
                doc = {}
            run = doc if isinstance(doc, dict) else {}
            if len(_RUN_CACHE) > 64:
                _RUN_CACHE.clear()
            _RUN_CACHE[key] = run
        found = CurrentSnapshot(int(row.id), shop_id, row.as_of, row.created_at, run)
    memo[shop_id] = found
    return found


def reporting_currency(session: Session, shop_id: int, *, configured: str | None = None,
                       fallback: str = "USD") -> str:
    """The shop's reporting currency (docs/interfaces.md, "Shop settings"): the configured one, else the one
    its current snapshot was analysed in, else its most common order currency, else ``fallback``."""
    if configured:
        return configured.upper()
    snap = current_snapshot(session, shop_id)
    if snap is not None:
        value = (snap.run.get("reporting_currency") or {})
        if isinstance(value, dict) and value.get("value"):
            return str(value["value"]).upper()
    common = session.scalar(select(m.Order.currency).where(m.Order.shop_id == shop_id)
                            .group_by(m.Order.currency).order_by(func.count().desc(), m.Order.currency).limit(1))
    return str(common or fallback).upper()


def shop_rates(session: Session, shop_id: int, reporting: str) -> Rates:
    """The shop's exchange rates into ``reporting`` (``clientlens.money.Rates``)."""
    rows = session.execute(select(m.ExchangeRate.date, m.ExchangeRate.currency, m.ExchangeRate.rate_to_reporting)
                           .where(m.ExchangeRate.shop_id == shop_id))
    return Rates(reporting, [(d, c, r) for d, c, r in rows])
