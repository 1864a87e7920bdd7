"""Shops with their counts."""

from __future__ import annotations

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from clientlens.service import schemas as s
from clientlens.store import models as m


def shop_read(session: Session, shop: m.Shop) -> s.ShopRead:
    customers = session.scalar(select(func.count()).select_from(m.Customer).where(m.Customer.shop_id == shop.id)) or 0
    orders = session.scalar(select(func.count()).select_from(m.Order).where(m.Order.shop_id == shop.id)) or 0
    last = session.scalar(select(func.max(m.Order.ordered_at)).where(m.Order.shop_id == shop.id))
    snap = session.scalar(select(func.max(m.Snapshot.as_of)).where(m.Snapshot.shop_id == shop.id))
    return s.ShopRead(name=shop.name, customers=customers, orders=orders, last_order=last.date() if last else None,
                      last_analysis=snap)


def list_shops(session: Session) -> list[s.ShopRead]:
    return [shop_read(session, shop) for shop in session.scalars(select(m.Shop).order_by(m.Shop.name))]
