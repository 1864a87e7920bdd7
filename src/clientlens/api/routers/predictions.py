"""Predictions (latest snapshot's scores) and next best actions."""

from __future__ import annotations

import json

from fastapi import APIRouter
from sqlalchemy import func, select

from clientlens.http.deps import DbDep, Reader, SettingsDep, ShopDep
from clientlens.http.params import Limit, Offset
from clientlens.service import customer360
from clientlens.service import schemas as s
from clientlens.store import models as m
from clientlens.store.repository import latest_snapshot

router = APIRouter(prefix="/shops/{shop}", tags=["predictions"])


@router.get("/predictions", response_model=s.Page[s.PredictionRead])
def list_predictions(db: DbDep, shop: ShopDep, _: Reader, limit: Limit = 50, offset: Offset = 0) -> s.Page[s.PredictionRead]:
    """Scores of the latest snapshot, highest CLV first (empty before any model ran)."""
    snap = latest_snapshot(db, shop.id)
    if snap is None:
        return s.PredictionPage(data=[], count=0)
    where = m.SnapshotScore.snapshot_id == snap.id
    count = db.scalar(select(func.count()).select_from(m.SnapshotScore).where(where)) or 0
    rows = db.scalars(select(m.SnapshotScore).where(where).order_by(m.SnapshotScore.clv.desc(),
                                                                    m.SnapshotScore.customer_id)
                      .offset(offset).limit(limit))
    data = []
    for r in rows:
        products = json.loads(r.next_products) if r.next_products else []
        data.append(s.PredictionRead(customer_id=r.customer_id, model=r.model, p_alive=r.p_alive,
                                     expected_purchases_90d=r.expected_purchases_90d,
                                     expected_purchases_365d=r.expected_purchases_365d, clv=r.clv,
                                     expected_next_order=r.expected_next_order,
                                     next_products=products if isinstance(products, list) else [], as_of=snap.as_of,
                                     purchases_365d_low=r.purchases_365d_low, purchases_365d_high=r.purchases_365d_high,
                                     clv_low=r.clv_low, clv_high=r.clv_high))
    return s.PredictionPage(data=data, count=count)


@router.get("/actions", response_model=s.Page[s.ActionRead], tags=["actions"])
def list_actions(db: DbDep, settings: SettingsDep, shop: ShopDep, _: Reader, limit: Limit = 50, offset: Offset = 0) -> s.Page[s.ActionRead]:
    """Next best actions from the care layer's playbooks, highest priority first."""
    return customer360.actions(db, settings, shop, limit, offset)
