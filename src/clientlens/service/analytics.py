"""Dashboard figures of a shop: KPIs and the data behind each chart (read from the store and snapshots).

Each chart's data is an empty list when there is nothing to show yet; the page then shows an empty state.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from clientlens.config import Settings
from clientlens.money import quantize, to_float
from clientlens.service.config import WebSettings
from clientlens.store import models as m
from clientlens.store.repository import CurrentSnapshot, current_snapshot, utcnow

COMPLETED = "completed"


def as_of(session: Session, shop: m.Shop, snap: CurrentSnapshot | None) -> date | None:
    if snap is not None:
        return snap.as_of
    last = session.scalar(select(func.max(m.Order.ordered_at)).where(m.Order.shop_id == shop.id))
    return last.date() if last else None


def kpis(session: Session, shop: m.Shop) -> dict[str, Any]:
    """The headline figures of the current snapshot (computed by the analysis, ``analysis.dashboard``):
    money in the shop's reporting currency. Before the first analysis only the counts are known."""
    snap = current_snapshot(session, shop.id)
    figures = snap.run.get("dashboard") if snap is not None else None
    if not isinstance(figures, dict):
        customers = session.scalar(select(func.count()).select_from(m.Customer)
                                   .where(m.Customer.shop_id == shop.id, m.Customer.merged_into_id.is_(None))) or 0
        return {"as_of": as_of(session, shop, snap), "customers": customers, "active_customers": None,
                "revenue": None, "currency": None, "top20_revenue_share": None, "average_clv": None,
                "snapshot": snap.as_of if snap else None}
    pareto = snap.run.get("pareto") if snap is not None and isinstance(snap.run.get("pareto"), dict) else {}
    currency = figures.get("currency")
    revenue = figures.get("revenue")
    return {"as_of": snap.as_of if snap else None, "customers": figures.get("customers"),
            "active_customers": figures.get("active_customers"),
            "revenue": None if revenue is None or not currency else to_float(quantize(revenue, str(currency))),
            "currency": currency, "top20_revenue_share": (pareto or {}).get("top20_revenue_share"),
            "average_clv": figures.get("average_clv"), "snapshot": snap.as_of if snap else None}


def segment_chart(session: Session, shop: m.Shop, taxonomy: str) -> list[dict[str, Any]]:
    snap = current_snapshot(session, shop.id)
    if snap is None:
        return []
    rows = session.scalars(select(m.SnapshotSummary).where(m.SnapshotSummary.snapshot_id == snap.id,
                                                           m.SnapshotSummary.taxonomy == taxonomy)
                           .order_by(m.SnapshotSummary.customers.desc()))
    return [{"label": r.label, "customers": r.customers, "revenue": float(r.revenue),
             "customers_share": r.customers_share, "revenue_share": r.revenue_share} for r in rows]


def taxonomies(session: Session, shop: m.Shop) -> list[str]:
    """The taxonomies of the current snapshot's summary (the dashboard's segment chart choices)."""
    snap = current_snapshot(session, shop.id)
    if snap is None:
        return []
    return list(session.scalars(select(m.SnapshotSummary.taxonomy).where(m.SnapshotSummary.snapshot_id == snap.id)
                                .distinct().order_by(m.SnapshotSummary.taxonomy)))


def _figures(snap: CurrentSnapshot | None, key: str) -> list[dict[str, Any]]:
    figures = snap.run.get("dashboard") if snap is not None else None
    value = figures.get(key) if isinstance(figures, dict) else None
    return value if isinstance(value, list) else []


def cohorts(run: dict[str, Any]) -> list[dict[str, Any]]:
    """Monthly cohort retention, as the analysis computed it."""
    stored = run.get("retention")
    if not isinstance(stored, list):
        return []
    return [{"cohort": str(r.get("cohort"))[:7], "month": int(r.get("months_since", 0)),
             "customers": int(r.get("active_customers", 0)), "retention": float(r.get("retention") or 0.0)}
            for r in stored if isinstance(r, dict)]


def nps_trend(session: Session, settings: Settings, shop: m.Shop) -> list[dict[str, Any]]:
    """NPS per month (the care layer's report)."""
    from clientlens.care.feedback import nps_report

    return [{"month": r.group, "nps": r.nps, "responses": r.responses}
            for r in nps_report(session, shop.id, settings, by="month") if r.nps is not None]


def sla_by_channel(session: Session, settings: Settings, shop: m.Shop) -> list[dict[str, Any]]:
    """First-response SLA attainment per channel (the care layer's business-hours metrics)."""
    from clientlens.care.config import care_settings
    from clientlens.care.sla import sla_metrics

    rows = sla_metrics(session, shop.id, settings.shop(shop.name), care_settings(settings), utcnow(), by="channel")
    return [{"channel": r.group, "attainment": r.first_response_attainment, "conversations": r.conversations}
            for r in rows if r.first_response_attainment is not None]


_CARE_FIGURES: dict[tuple[str, int, int, Any], dict[str, Any]] = {}


def care_figures(session: Session, settings: Settings, shop: m.Shop, snap: CurrentSnapshot) -> dict[str, Any]:
    """NPS per month and first-response SLA attainment per channel as of the snapshot: computed once per
    snapshot and process (the inbox shows each conversation's live SLA state)."""
    key = (str(getattr(session.get_bind(), "url", "")), shop.id, snap.id, snap.created_at)
    hit = _CARE_FIGURES.get(key)
    if hit is None:
        if len(_CARE_FIGURES) > 32:
            _CARE_FIGURES.clear()
        hit = _CARE_FIGURES[key] = {"nps": nps_trend(session, settings, shop),
                                    "sla": sla_by_channel(session, settings, shop)}
    return hit


def dashboard(session: Session, settings: Settings, cfg: WebSettings, shop: m.Shop,
              taxonomy: str = "rfm_segment") -> dict[str, Any]:
    """KPIs and every chart's data for one shop, read from its current snapshot (empty before the first
    analysis: the page then invites one)."""
    head = kpis(session, shop)
    snap = current_snapshot(session, shop.id)
    if snap is None:
        return {"kpis": head, "charts": {name: [] for name in CHARTS}, "taxonomy": taxonomy}
    pareto = snap.run.get("pareto") if isinstance(snap.run.get("pareto"), dict) else {}
    care = care_figures(session, settings, shop, snap)
    return {"kpis": head, "charts": {
        "segments": segment_chart(session, shop, taxonomy),
        "rfm_grid": _figures(snap, "rfm_grid"),
        "pareto": (pareto or {}).get("points") or [],
        "cohorts": cohorts(snap.run),
        "clv": _figures(snap, "clv_histogram"),
        "nps": care["nps"],
        "sla": care["sla"],
    }, "taxonomy": taxonomy}


CHARTS = ("segments", "rfm_grid", "pareto", "cohorts", "clv", "nps", "sla")
