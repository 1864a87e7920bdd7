"""Relationship audit: customers whose relationship worsened since the previous snapshot.

Signals (thresholds in ``[care]``): a lower RFM segment (``rfm_order``), P(alive) fell by at least
``audit_p_alive_drop``, a detractor score (NPS <= ``nps_detractor_max`` or CSAT <= ``csat_low_max``)
and an SLA breach, the last two since the previous snapshot. Run it on a schedule (docs/care.md).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from clientlens.care.config import care_settings
from clientlens.care.facts import facts_of_snapshot, two_latest_snapshots
from clientlens.care.feedback import is_detractor
from clientlens.config import Settings
from clientlens.store import models as m
from clientlens.store.care_models import Conversation
from clientlens.store.repository import get_shop, utcnow


@dataclass(frozen=True)
class AuditChange:
    kind: str  # segment_down | p_alive_drop | detractor | sla_breach
    text: str
    before: Any = None
    after: Any = None


@dataclass
class AuditFinding:
    customer_id: str
    name: str | None
    changes: list[AuditChange] = field(default_factory=list)


@dataclass
class AuditResult:
    previous_as_of: date | None
    latest_as_of: date | None
    since: datetime | None
    findings: list[AuditFinding]


def relationship_audit(session: Session, shop_name: str, settings: Settings, *,
                       now: datetime | None = None, since: datetime | None = None) -> AuditResult:
    """Customers whose relationship worsened, each with what changed (most changes first)."""
    now = now or utcnow()
    care = care_settings(settings)
    shop = get_shop(session, shop_name)
    prev_snap, last_snap = two_latest_snapshots(session, shop.id)
    if since is None and prev_snap is not None:
        since = datetime.combine(prev_snap.as_of + timedelta(days=1), time())
    prev, last = facts_of_snapshot(session, prev_snap), facts_of_snapshot(session, last_snap)
    rank = {seg: i for i, seg in enumerate(care.rfm_order)}
    found: dict[str, list[AuditChange]] = {}
    if prev_snap is not None and last_snap is not None:
        for cid, now_facts in last.by_customer.items():
            before = prev.by_customer.get(cid)
            if before is None:
                continue
            a, b = before.label_by_taxonomy.get("rfm_segment"), now_facts.label_by_taxonomy.get("rfm_segment")
            if a in rank and b in rank and rank[b] > rank[a]:
                found.setdefault(cid, []).append(AuditChange("segment_down", f"RFM segment {a} -> {b}", a, b))
            pa, pb = before.p_alive, now_facts.p_alive
            if pa is not None and pb is not None and pa - pb >= care.audit_p_alive_drop:
                found.setdefault(cid, []).append(AuditChange(
                    "p_alive_drop", f"P(alive) fell from {pa:.2f} to {pb:.2f} (threshold {care.audit_p_alive_drop:g})",
                    round(pa, 6), round(pb, 6)))
    fq = (select(m.Feedback, m.Customer.external_id).join(m.Customer, m.Customer.id == m.Feedback.customer_id)
          .where(m.Feedback.shop_id == shop.id).order_by(m.Feedback.submitted_at))
    if since is not None:
        fq = fq.where(m.Feedback.submitted_at >= since)
    for fb, ext in session.execute(fq):
        if is_detractor(fb.kind, fb.score, care):
            found.setdefault(ext, []).append(AuditChange(
                "detractor", f"{fb.kind.upper()} {fb.score} on {fb.submitted_at:%Y-%m-%d}", None, fb.score))
    cq = (select(Conversation, m.Customer.external_id).join(m.Customer, m.Customer.id == Conversation.customer_id)
          .where(Conversation.shop_id == shop.id).order_by(Conversation.opened_at))
    if since is not None:
        cq = cq.where(Conversation.opened_at >= since)
    for conv, ext in session.execute(cq):
        for what, due, done in (("first response", conv.first_response_due, conv.first_response_at),
                                ("resolution", conv.resolution_due, conv.resolved_at)):
            if due is not None and (done or now) > due:
                found.setdefault(ext, []).append(AuditChange(
                    "sla_breach", f"{what} SLA breached on conversation #{conv.id} ({conv.channel}), "
                    f"due {due:%Y-%m-%d %H:%M} UTC", due, done))
    names = dict(session.execute(select(m.Customer.external_id, m.Customer.name).where(
        m.Customer.shop_id == shop.id, m.Customer.external_id.in_(list(found)))).all()) if found else {}
    findings = [AuditFinding(cid, names.get(cid), ch) for cid, ch in found.items()]
    findings.sort(key=lambda f: (-len(f.changes), f.customer_id))
    return AuditResult(prev_snap.as_of if prev_snap else None, last_snap.as_of if last_snap else None,
                       since, findings)
