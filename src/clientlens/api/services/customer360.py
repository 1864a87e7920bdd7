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
from clientlens.api.services.customers import customer_labels, prediction
from clientlens.config import Settings
from clientlens.store import models as m
from clientlens.store.models import CONSENT_CHANNELS
from clientlens.store.repository import get_customer

log = logging.getLogger(__name__)

PROFILE_FIELDS = ("external_id", "kind", "name", "email", "phone", "birth_date", "gender", "income_band", "address",
                  "city", "country", "language", "timezone", "preferred_channel", "created_at")


def timeline(session: Session, shop: m.Shop, cust: m.Customer, limit: int) -> list[s.TimelineEvent]:
    """The care layer's timeline of the customer (orders, messages, labels, campaigns...), newest first."""
    from clientlens.care.timeline import customer_timeline

    events = customer_timeline(session, shop.name, cust.external_id)
    out = [s.TimelineEvent(at=e.at, kind=e.kind, summary=e.summary,
                           data={k: v for k, v in e.details.items() if isinstance(v, str | int | float | bool | None)})
           for e in events]
    out.sort(key=lambda e: e.at, reverse=True)
    return out[:limit]


def _action(a: Any) -> s.ActionRead:
    return s.ActionRead(customer_id=a.customer_id, action=a.action, rule_id=a.rule_id, priority=a.priority,
                        reason=a.reason, template=a.template, language=a.language)


def next_best_action(session: Session, settings: Settings, shop: m.Shop, customer_id: str) -> s.ActionRead | None:
    """The care layer's next best action for this customer (playbooks), or None."""
    from clientlens.care.playbooks import next_best_actions

    acts = next_best_actions(session, shop.name, settings, customer_ids=[customer_id]).get(customer_id, [])
    return _action(acts[0]) if acts else None


def customer_360(session: Session, settings: Settings, cfg: WebSettings, shop: m.Shop,
                 customer_id: str) -> s.Customer360:
    cust = get_customer(session, shop.id, customer_id)
    conversations.sync(session, settings, shop)
    profile = {f: getattr(cust, f) for f in PROFILE_FIELDS}
    profile["customer_id"] = profile.pop("external_id")
    merged_from = list(session.scalars(select(m.Customer.external_id).where(m.Customer.merged_into_id == cust.id)))
    return s.Customer360(
        profile=profile,
        consents={ch: getattr(cust, f"consent_{ch}") for ch in CONSENT_CHANNELS},
        labels=customer_labels(session, shop, cust.external_id),
        prediction=prediction(session, shop, cust.external_id),
        timeline=timeline(session, shop, cust, cfg.timeline_limit),
        next_best_action=next_best_action(session, settings, shop, cust.external_id),
        conversations=conversations.of_customer(session, shop, cust.id),
        merged_from=merged_from,
    )


def actions(session: Session, settings: Settings, shop: m.Shop, limit: int, offset: int) -> s.Page[s.ActionRead]:
    """Next best actions of every customer (the care layer's playbooks), highest priority first."""
    from clientlens.care.playbooks import next_best_actions

    acts = [a for per in next_best_actions(session, shop.name, settings).values() for a in per[:1]]
    acts.sort(key=lambda a: (-a.priority, a.customer_id))
    return s.Page[s.ActionRead](data=[_action(a) for a in acts[offset:offset + limit]], count=len(acts))
