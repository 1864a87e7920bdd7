"""Small shared queries of the store: shops, customers by external id, latest snapshot."""

from __future__ import annotations

from datetime import UTC, date, datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from clientlens.errors import NotFoundError
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


def latest_snapshot(session: Session, shop_id: int, *, as_of: date | None = None) -> m.Snapshot | None:
    """The snapshot of ``as_of`` (or the latest one) of a shop."""
    query = select(m.Snapshot).where(m.Snapshot.shop_id == shop_id)
    if as_of is not None:
        query = query.where(m.Snapshot.as_of == as_of)
    return session.scalar(query.order_by(m.Snapshot.as_of.desc()).limit(1))
