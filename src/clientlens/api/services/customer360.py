"""Customer 360: profile and consents, labels with evidence, predictions, timeline, next best action,
conversations."""

from __future__ import annotations

import logging
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from clientlens.api import schemas as s
from clientlens.api.config import WebSettings
from clientlens.api.services import conversations
from clientlens.api.services.bridge import optional_function
from clientlens.api.services.customers import customer_labels, minor_to_float, prediction
from clientlens.store import models as m
from clientlens.store.models import CONSENT_CHANNELS
from clientlens.store.repository import get_customer

log = logging.getLogger(__name__)

PROFILE_FIELDS = ("external_id", "kind", "name", "email", "phone", "birth_date", "gender", "income_band", "address",
                  "city", "country", "language", "timezone", "preferred_channel", "created_at")


def timeline(session: Session, cust: m.Customer, limit: int) -> list[s.TimelineEvent]:
    events: list[s.TimelineEvent] = []
    for o in session.scalars(select(m.Order).where(m.Order.customer_id == cust.id)
                             .order_by(m.Order.ordered_at.desc()).limit(limit)):
        events.append(s.TimelineEvent(at=o.ordered_at, kind="order", summary=o.external_id,
                                      data={"total": minor_to_float(o.total_minor), "currency": o.currency,
                                            "status": o.status, "channel": o.channel}))
    for i in session.scalars(select(m.Interaction).where(m.Interaction.customer_id == cust.id)
                             .order_by(m.Interaction.occurred_at.desc()).limit(limit)):
        events.append(s.TimelineEvent(at=i.occurred_at, kind="interaction", summary=i.subject or i.channel,
                                      data={"channel": i.channel, "direction": i.direction, "thread_id": i.thread_id,
                                            "agent": i.agent}))
    for fb in session.scalars(select(m.Feedback).where(m.Feedback.customer_id == cust.id)
                              .order_by(m.Feedback.submitted_at.desc()).limit(limit)):
        events.append(s.TimelineEvent(at=fb.submitted_at, kind="feedback", summary=fb.kind,
                                      data={"kind": fb.kind, "score": fb.score, "comment": fb.comment}))
    for ce in session.scalars(select(m.ConsentEvent).where(m.ConsentEvent.customer_id == cust.id)
                              .order_by(m.ConsentEvent.at.desc()).limit(limit)):
        events.append(s.TimelineEvent(at=ce.at, kind="consent", summary=ce.channel,
                                      data={"channel": ce.channel, "granted": ce.granted, "source": ce.source}))
    events.sort(key=lambda e: e.at, reverse=True)
    return events[:limit]


def next_best_action(session: Session, shop: m.Shop, customer_id: str) -> s.ActionRead | None:
    """The care layer's next best action for this customer, when the care layer provides one."""
    fn = optional_function("clientlens.care.actions", "next_best_action")
    if fn is None:
        return None
    try:
        res: Any = fn(session, shop.name, customer_id)
    except Exception:  # the 360 must render even when a playbook fails
        log.exception("next_best_action failed for %s", shop.name)
        return None
    if res is None:
        return None
    d = res if isinstance(res, dict) else getattr(res, "__dict__", {})
    return s.ActionRead(customer_id=customer_id, action=str(d.get("action", d.get("name", ""))),
                        reason=d.get("reason"), channel=d.get("channel"),
                        data={k: v for k, v in d.items() if isinstance(v, str | int | float | bool | None)})


def customer_360(session: Session, cfg: WebSettings, shop: m.Shop, customer_id: str) -> s.Customer360:
    cust = get_customer(session, shop.id, customer_id)
    profile = {f: getattr(cust, f) for f in PROFILE_FIELDS}
    profile["customer_id"] = profile.pop("external_id")
    merged_from = list(session.scalars(select(m.Customer.external_id).where(m.Customer.merged_into_id == cust.id)))
    return s.Customer360(
        profile=profile,
        consents={ch: getattr(cust, f"consent_{ch}") for ch in CONSENT_CHANNELS},
        labels=customer_labels(session, shop, cust.external_id),
        prediction=prediction(session, shop, cust.external_id),
        timeline=timeline(session, cust, cfg.timeline_limit),
        next_best_action=next_best_action(session, shop, cust.external_id),
        conversations=conversations.of_customer(session, cfg, shop, cust.id),
        merged_from=merged_from,
    )


def actions(session: Session, shop: m.Shop, limit: int, offset: int) -> s.Page[s.ActionRead]:
    """Pending actions of the shop from the care layer's playbooks (empty until care provides them)."""
    fn = optional_function("clientlens.care.actions", "list_actions")
    if fn is None:
        return s.Page[s.ActionRead](data=[], count=0)
    try:
        items = list(fn(session, shop.name))
    except Exception:
        log.exception("list_actions failed for %s", shop.name)
        items = []
    data = []
    for res in items:
        d = res if isinstance(res, dict) else getattr(res, "__dict__", {})
        data.append(s.ActionRead(customer_id=str(d.get("customer_id", "")), action=str(d.get("action", "")),
                                 reason=d.get("reason"), channel=d.get("channel"),
                                 data={k: v for k, v in d.items() if isinstance(v, str | int | float | bool | None)}))
    return s.Page[s.ActionRead](data=data[offset:offset + limit], count=len(data))
