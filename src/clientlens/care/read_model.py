"""The customer read model: what every surface shows of one customer, computed in one place.

``customer_view`` reads the customer's rows once (``customer_rows.load_customer_rows``) and derives,
with the care layer's plain functions, the timeline (``timeline.timeline_events``), the loyalty
tier and points (``loyalty.loyalty_of``, in the reporting currency), the facts with the CLV rank
(``facts.customer_facts``) and the next best actions (``playbooks.actions_for``). The API's 360, the
web page, the CLI's ``customer`` and the campaign and playbook code all read these, so they agree.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time

from sqlalchemy.orm import Session

from clientlens.care.config import care_settings
from clientlens.care.customer_rows import CustomerRows, load_customer_rows
from clientlens.care.facts import CustomerFacts, customer_facts
from clientlens.care.loyalty import LoyaltyStatus, loyalty_of, rates_for_shop
from clientlens.care.playbooks import Action, actions_for, cached_playbook
from clientlens.care.timeline import TimelineEvent, timeline_events
from clientlens.config import Settings
from clientlens.store import models as m
from clientlens.store.repository import get_customer, get_shop, utcnow


@dataclass(frozen=True)
class CustomerView:
    """One customer as the care layer knows it."""

    customer: m.Customer
    rows: CustomerRows
    timeline: list[TimelineEvent]  # oldest first
    loyalty: LoyaltyStatus
    facts: CustomerFacts
    actions: list[Action]  # highest priority first

    @property
    def next_best_action(self) -> Action | None:
        return self.actions[0] if self.actions else None


def view_of(session: Session, settings: Settings, shop_id: int, shop_name: str, customer: m.Customer, *,
            today: date | None = None) -> CustomerView:
    """The read model of ``customer`` (a resolved profile of the shop); loyalty counted up to ``today`` and
    the service signals as of its end (default: now)."""
    care = care_settings(settings)
    rows = load_customer_rows(session, shop_id, customer.id, customer.external_id)
    rates = rates_for_shop(session, settings, shop_id, shop_name)
    now = datetime.combine(today, time(23, 59, 59)) if today is not None else utcnow()
    loyalty = loyalty_of(customer.id, rows.orders, care, now.date(), rates, shop_id)
    facts = customer_facts(session, rows, shop_id, rates.reporting, care=care, now=now)
    actions = actions_for(customer, facts, cached_playbook(care.playbook or ""), loyalty)
    return CustomerView(customer, rows, timeline_events(rows), loyalty, facts, actions)


def customer_view(session: Session, settings: Settings, shop_name: str, external_id: str, *,
                  today: date | None = None) -> CustomerView:
    """The read model of the customer ``external_id`` of ``shop_name`` (a merged id resolves to its survivor)."""
    shop = get_shop(session, shop_name)
    return view_of(session, settings, shop.id, shop.name, get_customer(session, shop.id, external_id), today=today)
