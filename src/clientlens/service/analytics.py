"""Dashboard figures of a shop: KPIs and the data behind each chart (read from the store and snapshots).

Each chart's data is an empty list when there is nothing to show yet; the page then shows an empty state.
"""

from __future__ import annotations

import json
from datetime import date, datetime, timedelta
from typing import Any

import numpy as np
from sqlalchemy import extract, func, select
from sqlalchemy.orm import Session

from clientlens.config import Settings
from clientlens.service.config import WebSettings
from clientlens.service.snapshots import current_snapshot
from clientlens.store import models as m
from clientlens.store.repository import utcnow

COMPLETED = "completed"


def _run(snap: m.Snapshot | None) -> dict[str, Any]:
    if snap is None or not snap.run:
        return {}
    try:
        doc = json.loads(snap.run)
    except ValueError:
        return {}
    return doc if isinstance(doc, dict) else {}


def as_of(session: Session, shop: m.Shop, snap: m.Snapshot | None) -> date | None:
    if snap is not None:
        return snap.as_of
    last = session.scalar(select(func.max(m.Order.ordered_at)).where(m.Order.shop_id == shop.id))
    return last.date() if last else None


def customer_revenue(session: Session, shop: m.Shop) -> np.ndarray:
    """Completed-order revenue per purchasing customer (in order currency units), unsorted."""
    rows = session.execute(select(func.sum(m.Order.total_minor)).where(m.Order.shop_id == shop.id,
                                                                      m.Order.status == COMPLETED)
                           .group_by(m.Order.customer_id)).scalars().all()
    return np.asarray([r or 0 for r in rows], dtype=float) / 100.0


def lorenz(revenue: np.ndarray, points: int = 101) -> tuple[list[dict[str, float]], float | None]:
    """Lorenz curve (customers ranked by revenue, largest first) and the top-20% revenue share."""
    if revenue.size == 0 or revenue.sum() <= 0:
        return [], None
    ranked = np.sort(revenue)[::-1]
    cum = np.concatenate([[0.0], np.cumsum(ranked) / ranked.sum()])
    n = ranked.size
    idx = np.unique(np.linspace(0, n, min(points, n + 1)).round().astype(int))
    curve = [{"customers_share": float(i / n), "revenue_share": float(cum[i])} for i in idx]
    top = int(round(0.2 * n))
    return curve, float(cum[top])


def kpis(session: Session, cfg: WebSettings, shop: m.Shop) -> dict[str, Any]:
    snap = current_snapshot(session, shop.id)
    asof = as_of(session, shop, snap)
    customers = session.scalar(select(func.count()).select_from(m.Customer)
                               .where(m.Customer.shop_id == shop.id, m.Customer.merged_into_id.is_(None))) or 0
    active = 0
    if asof is not None:
        since = datetime.combine(asof - timedelta(days=cfg.active_days), datetime.min.time())
        until = datetime.combine(asof + timedelta(days=1), datetime.min.time())
        active = session.scalar(select(func.count(func.distinct(m.Order.customer_id)))
                                .where(m.Order.shop_id == shop.id, m.Order.status == COMPLETED,
                                       m.Order.ordered_at >= since, m.Order.ordered_at < until)) or 0
    revenue = (session.scalar(select(func.sum(m.Order.total_minor))
                              .where(m.Order.shop_id == shop.id, m.Order.status == COMPLETED)) or 0) / 100.0
    currency = session.scalar(select(m.Order.currency).where(m.Order.shop_id == shop.id)
                              .group_by(m.Order.currency).order_by(func.count().desc()).limit(1))
    run = _run(snap)
    stats = run.get("pareto") if isinstance(run.get("pareto"), dict) else {}
    top20 = stats.get("top20_revenue_share") if stats else None
    if top20 is None:
        _, top20 = lorenz(customer_revenue(session, shop))
    avg_clv = None
    if snap is not None:
        avg_clv = session.scalar(select(func.avg(m.SnapshotScore.clv)).where(m.SnapshotScore.snapshot_id == snap.id))
    return {"as_of": asof, "customers": customers, "active_customers": active, "revenue": revenue,
            "currency": currency or "USD", "top20_revenue_share": top20,
            "average_clv": float(avg_clv) if avg_clv is not None else None,
            "snapshot": snap.as_of if snap else None}


def segment_chart(session: Session, shop: m.Shop, taxonomy: str) -> list[dict[str, Any]]:
    snap = current_snapshot(session, shop.id)
    if snap is None:
        return []
    rows = session.scalars(select(m.SnapshotSummary).where(m.SnapshotSummary.snapshot_id == snap.id,
                                                           m.SnapshotSummary.taxonomy == taxonomy)
                           .order_by(m.SnapshotSummary.customers.desc()))
    return [{"label": r.label, "customers": r.customers, "revenue": float(r.revenue),
             "customers_share": r.customers_share, "revenue_share": r.revenue_share} for r in rows]


def _quintile(values: np.ndarray, higher_is_better: bool) -> np.ndarray:
    ranks = values.argsort(kind="stable").argsort(kind="stable") / max(len(values) - 1, 1)
    score = np.minimum((ranks * 5).astype(int) + 1, 5)
    return score if higher_is_better else 6 - score


def rfm_grid(session: Session, shop: m.Shop, asof: date | None) -> list[dict[str, Any]]:
    """Customers per (recency score, frequency score), scores 1..5 by quintile (5 = most recent / most frequent)."""
    if asof is None:
        return []
    rows = session.execute(select(func.max(m.Order.ordered_at), func.count())
                           .where(m.Order.shop_id == shop.id, m.Order.status == COMPLETED)
                           .group_by(m.Order.customer_id)).all()
    if not rows:
        return []
    end = datetime.combine(asof, datetime.min.time())
    recency = np.asarray([(end - last).days for last, _ in rows], dtype=float)
    freq = np.asarray([n for _, n in rows], dtype=float)
    r = _quintile(-recency, True)
    f = _quintile(freq + np.linspace(0, 1e-6, len(freq)), True)
    grid: dict[tuple[int, int], int] = {}
    for a, b in zip(r.tolist(), f.tolist(), strict=True):
        grid[(a, b)] = grid.get((a, b), 0) + 1
    return [{"recency_score": a, "frequency_score": b, "customers": n} for (a, b), n in sorted(grid.items())]


def cohorts(session: Session, shop: m.Shop, run: dict[str, Any], max_months: int = 24) -> list[dict[str, Any]]:
    """Monthly cohort retention: the snapshot's (analysis layer), else computed from the orders."""
    stored = run.get("retention")
    if isinstance(stored, list) and stored:
        return [{"cohort": str(r.get("cohort"))[:7], "month": int(r.get("months_since", 0)),
                 "customers": int(r.get("active_customers", 0)), "retention": float(r.get("retention") or 0.0)}
                for r in stored if isinstance(r, dict)]
    rows = session.execute(select(m.Order.customer_id, extract("year", m.Order.ordered_at),
                                  extract("month", m.Order.ordered_at))
                           .where(m.Order.shop_id == shop.id, m.Order.status == COMPLETED).distinct()).all()
    if not rows:
        return []
    first: dict[int, int] = {}
    months: dict[int, set[int]] = {}
    for cid, y, mo in rows:
        idx = int(y) * 12 + int(mo) - 1
        first[cid] = min(first.get(cid, idx), idx)
        months.setdefault(cid, set()).add(idx)
    sizes: dict[int, int] = {}
    active: dict[tuple[int, int], int] = {}
    for cid, start in first.items():
        sizes[start] = sizes.get(start, 0) + 1
        for idx in months[cid]:
            k = idx - start
            if 0 <= k <= max_months:
                active[(start, k)] = active.get((start, k), 0) + 1
    out = []
    for (start, k), n in sorted(active.items()):
        out.append({"cohort": f"{start // 12:04d}-{start % 12 + 1:02d}", "month": k, "customers": n,
                    "retention": n / sizes[start]})
    return out


def clv_histogram(session: Session, shop: m.Shop, bins: int) -> list[dict[str, Any]]:
    snap = current_snapshot(session, shop.id)
    if snap is None:
        return []
    values = np.asarray([v for v in session.scalars(select(m.SnapshotScore.clv).where(
        m.SnapshotScore.snapshot_id == snap.id, m.SnapshotScore.clv.is_not(None)))], dtype=float)
    if values.size == 0:
        return []
    high = float(np.quantile(values, 0.99)) or float(values.max()) or 1.0
    counts, edges = np.histogram(np.clip(values, 0, high), bins=bins, range=(0, high))
    return [{"clv_from": float(edges[i]), "clv_to": float(edges[i + 1]), "customers": int(c)}
            for i, c in enumerate(counts)]


def nps_trend(session: Session, settings: Settings, shop: m.Shop) -> list[dict[str, Any]]:
    """NPS per month (the care layer's report)."""
    from clientlens.care.feedback import nps_report

    return [{"month": r.group, "nps": r.nps, "responses": r.responses}
            for r in nps_report(session, shop.id, settings, by="month") if r.nps is not None]


def sla_by_channel(session: Session, settings: Settings, shop: m.Shop) -> list[dict[str, Any]]:
    """First-response SLA attainment per channel (the care layer's business-hours metrics)."""
    from clientlens.care.config import care_settings
    from clientlens.care.inbox import sync_conversations
    from clientlens.care.sla import sla_metrics

    sync_conversations(session, shop.name, settings)
    rows = sla_metrics(session, shop.id, settings.shop(shop.name), care_settings(settings), utcnow(), by="channel")
    return [{"channel": r.group, "attainment": r.first_response_attainment, "conversations": r.conversations}
            for r in rows if r.first_response_attainment is not None]


def dashboard(session: Session, settings: Settings, cfg: WebSettings, shop: m.Shop,
              taxonomy: str = "rfm_segment") -> dict[str, Any]:
    """KPIs and every chart's data for one shop."""
    head = kpis(session, cfg, shop)
    snap = current_snapshot(session, shop.id)
    run = _run(snap)
    pareto = run.get("pareto") if isinstance(run.get("pareto"), dict) else {}
    curve = pareto.get("points") if pareto else None
    if not curve:
        curve, _ = lorenz(customer_revenue(session, shop))
    return {"kpis": head, "charts": {
        "segments": segment_chart(session, shop, taxonomy),
        "rfm_grid": rfm_grid(session, shop, head["as_of"]),
        "pareto": curve,
        "cohorts": cohorts(session, shop, run),
        "clv": clv_histogram(session, shop, cfg.clv_bins),
        "nps": nps_trend(session, settings, shop),
        "sla": sla_by_channel(session, settings, shop),
    }, "taxonomy": taxonomy}


