"""Customer 360: profile and consents, labels with evidence, predictions, timeline, loyalty, next best
action, conversations. Every figure comes from the care layer's read model (``care.read_model``)."""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from clientlens.care.playbooks import Action, cached_playbook
from clientlens.care.read_model import CustomerView, view_of
from clientlens.config import Settings
from clientlens.money import to_float
from clientlens.service import conversations, customers
from clientlens.service import schemas as s
from clientlens.service.config import WebSettings
from clientlens.store import models as m
from clientlens.store.identity import find_customer
from clientlens.store.models import CONSENT_CHANNELS

PROFILE_FIELDS = ("external_id", "kind", "name", "email", "phone", "birth_date", "gender", "income_band", "address",
                  "city", "country", "language", "timezone", "preferred_channel", "created_at")


def action_read(a: Action) -> s.ActionRead:
    return s.ActionRead(customer_id=a.customer_id, action=a.action, rule_id=a.rule_id, priority=a.priority,
                        reason=a.reason, template=a.template, language=a.language)


def timeline_read(view: CustomerView, limit: int) -> list[s.TimelineEvent]:
    """The read model's timeline, newest first, at most ``limit`` events."""
    events = [s.TimelineEvent(at=e.at, kind=e.kind, summary=e.summary,
                              data={k: v for k, v in e.details.items() if isinstance(v, str | int | float | bool | None)})
              for e in view.timeline]
    events.sort(key=lambda e: e.at, reverse=True)
    return events[:limit]


def loyalty_read(view: CustomerView) -> s.LoyaltyRead:
    status = view.loyalty
    return s.LoyaltyRead(tier=status.tier, points=status.points, orders=status.orders,
                         spend=to_float(status.spend) or 0.0, currency=status.currency, tenure_days=status.tenure_days)


def customer_view(session: Session, settings: Settings, shop: Any, customer_id: str) -> CustomerView:
    """The care read model of one customer of ``shop`` (an ORM shop or a ``ShopRef``), found by its id, its
    e-mail address or its phone number."""
    region = settings.shop(shop.name).home_country or settings.identity.default_region
    return view_of(session, settings, shop.id, shop.name, find_customer(session, shop.id, customer_id, region=region))


def customer_360(session: Session, settings: Settings, cfg: WebSettings, shop: Any,
                 customer_id: str) -> s.Customer360:
    """The whole 360 of one customer, from the care read model (its rows read once)."""
    view = customer_view(session, settings, shop, customer_id)
    cust, rows = view.customer, view.rows
    profile = {f: getattr(cust, f) for f in PROFILE_FIELDS}
    profile["customer_id"] = profile.pop("external_id")
    convs = sorted(rows.conversations, key=lambda c: c.last_message_at, reverse=True)
    return s.Customer360(
        profile=profile,
        consents={ch: getattr(cust, f"consent_{ch}") for ch in CONSENT_CHANNELS},
        labels=[customers.label_read(r) for r in rows.labels],
        prediction=(customers.prediction_read(rows.score, cust.external_id, rows.snapshot.as_of)
                    if rows.score is not None and rows.snapshot is not None else None),
        timeline=timeline_read(view, cfg.timeline_limit),
        next_best_action=action_read(view.actions[0]) if view.actions else None,
        conversations=[conversations.read(c, cust.external_id, cust.name) for c in convs],
        merged_from=rows.merged_from,
        loyalty=loyalty_read(view),
        clv_rank_share=view.facts.clv_rank_share,
        currency=view.loyalty.currency,
    )


def next_best_action(session: Session, settings: Settings, shop: m.Shop, cust: m.Customer) -> s.ActionRead | None:
    """The care read model's next best action for this customer, or None."""
    view = view_of(session, settings, shop.id, shop.name, cust)
    return action_read(view.actions[0]) if view.actions else None


def actions(session: Session, settings: Settings, shop: m.Shop, limit: int, offset: int) -> s.Page[s.ActionRead]:
    """Next best actions of every customer (the care layer's playbooks), highest priority first."""
    from clientlens.care.config import care_settings
    from clientlens.care.playbooks import next_best_actions

    playbook = cached_playbook(care_settings(settings).playbook or "")
    acts = [a for per in next_best_actions(session, shop.name, settings, playbook=playbook).values() for a in per[:1]]
    acts.sort(key=lambda a: (-a.priority, a.customer_id))
    return s.ActionPage(data=[action_read(a) for a in acts[offset:offset + limit]], count=len(acts))
