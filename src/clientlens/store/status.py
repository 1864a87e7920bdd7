"""What the store holds: counts per shop, last order, last analysis (``clientlens status``)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Engine, func, select

from clientlens.store import models as m
from clientlens.store.db import mask_url, schema_version

_COUNTED = {
    "customers": m.Customer,
    "orders": m.Order,
    "order_lines": m.OrderLine,
    "products": m.Product,
    "interactions": m.Interaction,
    "feedback": m.Feedback,
}


def store_status(engine: Engine) -> dict[str, Any]:
    """The ``status --format json`` document of docs/interfaces.md."""
    version = schema_version(engine)
    out: dict[str, Any] = {"store": mask_url(engine.url.render_as_string(hide_password=False)),
                           "schema_version": version, "counts": {"shops": 0, **{k: 0 for k in _COUNTED}},
                           "shops": {}}
    if version is None:
        return out
    with engine.connect() as conn:
        shops = conn.execute(select(m.Shop.id, m.Shop.name).order_by(m.Shop.name)).all()
        out["counts"]["shops"] = len(shops)
        per_shop: dict[int, dict[str, Any]] = {sid: {k: 0 for k in _COUNTED} for sid, _ in shops}
        for key, model in _COUNTED.items():
            shop_col = model.__table__.c.shop_id
            query = select(shop_col, func.count()).group_by(shop_col)
            if model is m.Customer:
                query = query.where(m.Customer.merged_into_id.is_(None))
            for sid, n in conn.execute(query):
                per_shop[sid][key] = n
                out["counts"][key] += n
        last_orders = dict(conn.execute(select(m.Order.shop_id, func.max(m.Order.ordered_at)).group_by(m.Order.shop_id)).all())
        snaps: dict[int, Any] = {}
        for sid, as_of, at in conn.execute(
            select(m.Snapshot.shop_id, m.Snapshot.as_of, m.Snapshot.created_at).order_by(m.Snapshot.created_at)
        ):
            snaps[sid] = {"as_of": as_of.isoformat(), "at": at.isoformat(timespec="seconds") + "Z"}
    for sid, name in shops:
        last = last_orders.get(sid)
        out["shops"][name] = {**per_shop[sid], "last_order": last.date().isoformat() if last else None,
                              "last_analysis": snaps.get(sid)}
    return out
