"""Campaigns: plan (audience, consent, channel, capping, rendering), dry run, resumable sending.

Sending goes through the send log (``care_messages``): each planned message is recorded ``pending``
with its stable Message-ID; before handing it to the sender it becomes ``in_flight`` (committed),
after the sender returns ``sent`` (committed). A rerun skips ``sent`` messages and retries
``pending``, ``failed`` and ``in_flight`` ones: after a crash only the message that was in flight can
reach the receiver twice, with the same Message-ID. Consent is checked again right before sending.
"""

from __future__ import annotations

import logging
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any

from sqlalchemy import Engine, func, select
from sqlalchemy.orm import Session

from clientlens.care.audience import (
    CampaignSpec,
    address_for,
    birthday_in_window,
    choose_channel,
    in_quiet_hours,
    matches_audience,
)
from clientlens.care.business_time import to_local, zone
from clientlens.care.config import CareSettings, care_settings
from clientlens.care.consent import ensure_consent, has_consent, unsubscribe_token
from clientlens.care.facts import latest_facts
from clientlens.care.loyalty import loyalty_statuses, rates_for_shop
from clientlens.care.render import Rendered, TemplateRenderer, primary_language
from clientlens.care.senders import OutgoingMessage, Receipt, Sender, stable_message_id
from clientlens.config import Settings
from clientlens.errors import CareError
from clientlens.money import format_money
from clientlens.store import models as m
from clientlens.store.care_models import CareMessage
from clientlens.store.repository import get_shop, utcnow

log = logging.getLogger(__name__)


@dataclass
class PlannedMessage:
    customer: m.Customer
    channel: str
    recipient: str
    message_id: str
    rendered: Rendered


@dataclass
class CampaignPlan:
    """Who gets what; ``skipped`` counts the reasons customers of the audience get nothing."""

    spec: CampaignSpec
    audience: int = 0
    audience_ids: list[str] = field(default_factory=list)  # external ids selected (before consent)
    messages: list[PlannedMessage] = field(default_factory=list)
    skipped: Counter[str] = field(default_factory=Counter)

    def counts(self) -> dict[str, Any]:
        return {"audience": self.audience, "messages": len(self.messages),
                "by_channel": dict(Counter(p.channel for p in self.messages)),
                "by_language": dict(Counter(p.rendered.language for p in self.messages)),
                "skipped": dict(self.skipped)}


def recent_sent_count(session: Session, customer_id: int, since: datetime,
                      exclude_message_id: str | None = None) -> int:
    """Messages sent to a customer since ``since`` (frequency capping)."""
    q = select(func.count()).select_from(CareMessage).where(
        CareMessage.customer_id == customer_id, CareMessage.status == "sent", CareMessage.sent_at >= since)
    if exclude_message_id:
        q = q.where(CareMessage.message_id != exclude_message_id)
    return int(session.scalar(q) or 0)


# Languages whose names are written family name first: the given name is the last word.
FAMILY_NAME_FIRST = frozenset({"vi", "zh", "ja", "ko", "hu"})


def given_name(name: str | None, language: str | None) -> str:
    """The name to greet a customer by: the first word, or the last one where the family name comes first.

    >>> given_name("Nguyễn Thị Lan", "vi"), given_name("Zoé Martin", "fr")
    ('Lan', 'Zoé')
    """
    words = (name or "").split()
    if not words:
        return ""
    return words[-1] if primary_language(language) in FAMILY_NAME_FIRST else words[0]


def plan_campaign(session: Session, shop_name: str, spec: CampaignSpec, settings: Settings, *,
                  now: datetime | None = None, dry_run: bool = False) -> CampaignPlan:
    """Select the audience and render each message (nothing is written when ``dry_run``)."""
    now = now or utcnow()
    care = care_settings(settings)
    shop = get_shop(session, shop_name)
    shop_settings = settings.shop(shop_name)
    today = to_local(now, zone(shop_settings.timezone)).date()
    facts = latest_facts(session, shop.id)
    renderer = TemplateRenderer(care.language_fallback, spec.templates_dir)
    plan = CampaignPlan(spec)
    cq = select(m.Customer).where(m.Customer.shop_id == shop.id, m.Customer.merged_into_id.is_(None))
    if spec.audience.customers and len(spec.audience.customers) <= 1000:
        cq = cq.where(m.Customer.external_id.in_(list(spec.audience.customers)))
    customers = list(session.scalars(cq.order_by(m.Customer.id)))
    chosen: list[tuple[m.Customer, date | None]] = []
    for cust in customers:
        if not matches_audience(cust, facts.get(cust.external_id), spec.audience):
            continue
        celebration = None
        if spec.kind == "birthday":
            window = spec.birthday.window_days or care.birthday_window_days
            celebration = birthday_in_window(cust.birth_date, today, window)
            if celebration is None:
                continue
        chosen.append((cust, celebration))
    plan.audience = len(chosen)
    plan.audience_ids = [c.external_id for c, _ in chosen]
    ids = [c.id for c, _ in chosen] if len(chosen) <= 1000 else None
    rates = rates_for_shop(session, settings, shop.id, shop_name)
    loyalty = loyalty_statuses(session, shop.id, care, today, rates, ids) if chosen else {}
    cap_since = now - timedelta(days=care.cap_days)
    for cust, celebration in chosen:
        channel, why = choose_channel(cust, spec.channels)
        if channel is None:
            plan.skipped[why] += 1
            continue
        key = spec.name if celebration is None else f"{spec.name}@{celebration.isoformat()}"
        mid = stable_message_id(shop_name, key, cust.external_id, channel, care.message_id_domain)
        if recent_sent_count(session, cust.id, cap_since, mid) >= care.cap_messages:
            plan.skipped["frequency_cap"] += 1
            continue
        token = "preview" if dry_run else unsubscribe_token(session, cust, channel, now)
        valid_days = (spec.birthday.offer_valid_days or care.birthday_offer_valid_days
                      if celebration is not None else spec.offer_valid_days)
        base = celebration or today
        status = loyalty.get(cust.id)
        ctx = {"first_name": given_name(cust.name, cust.language), "name": cust.name or "", "shop": shop_name,
               "discount": spec.discount, "celebration_date": celebration,
               "offer_valid_until": base + timedelta(days=valid_days) if valid_days else None,
               "unsubscribe_url": care.unsubscribe_url.format(token=token),
               "tier": (status.tier if status else None) or "", "points": status.points if status else 0,
               "spend": format_money(status.spend if status else 0, rates.reporting,
                                     primary_language(cust.language) or care.language_fallback[0])}
        rendered = renderer.render(spec.template, cust.language, ctx)
        plan.messages.append(PlannedMessage(cust, channel, address_for(cust, channel) or "", mid, rendered))
    return plan


@dataclass(frozen=True)
class Preview:
    counts: dict[str, Any]
    samples: dict[str, Rendered]  # one rendered message per language


def preview_campaign(session: Session, shop_name: str, spec: CampaignSpec, settings: Settings, *,
                     now: datetime | None = None) -> Preview:
    """Dry run: counts and one rendered sample per language; nothing is written or sent."""
    plan = plan_campaign(session, shop_name, spec, settings, now=now, dry_run=True)
    samples: dict[str, Rendered] = {}
    for p in plan.messages:
        samples.setdefault(p.rendered.language, p.rendered)
    return Preview(plan.counts(), samples)


def record_plan(session: Session, shop_id: int, plan: CampaignPlan, now: datetime) -> int:
    """Write planned messages into the send log (those already there are left alone)."""
    ids = [p.message_id for p in plan.messages]
    known = set(session.scalars(select(CareMessage.message_id).where(CareMessage.message_id.in_(ids)))) if ids else set()
    added = 0
    for p in plan.messages:
        if p.message_id in known:
            continue
        session.add(CareMessage(shop_id=shop_id, customer_id=p.customer.id, campaign=plan.spec.name,
                                channel=p.channel, message_id=p.message_id, language=p.rendered.language,
                                recipient=p.recipient, subject=p.rendered.subject, body=p.rendered.body,
                                status="pending", created_at=now))
        added += 1
    session.flush()
    return added


def dispatch(message: OutgoingMessage, customer: m.Customer, sender: Sender) -> Receipt:
    """The last gate: refuse (ConsentError) a message on a channel without consent, else send it."""
    ensure_consent(customer, message.channel)
    return sender.send(message)


@dataclass
class SendReport:
    planned: int = 0
    sent: int = 0
    resent_in_flight: list[str] = field(default_factory=list)
    already_sent: int = 0
    deferred_quiet_hours: int = 0
    skipped: Counter[str] = field(default_factory=Counter)
    failed: list[str] = field(default_factory=list)


def send_campaign(engine: Engine, shop_name: str, spec: CampaignSpec, settings: Settings,
                  senders: dict[str, Sender], *, now: datetime | None = None,
                  clock: Callable[[], datetime] | None = None,
                  progress: Callable[[int, int], None] | None = None) -> SendReport:
    """Plan, record and send a campaign; safe to run again after a crash (see the module doc)."""
    now = now or utcnow()
    clock = clock or (lambda: now)
    care = care_settings(settings)
    report = SendReport()
    not_before = spec.schedule.not_before
    if not_before is not None and not_before.tzinfo is not None:  # TOML offset datetimes -> naive UTC
        not_before = not_before.astimezone(UTC).replace(tzinfo=None)
    if not_before is not None and now < not_before:
        log.info("campaign %s: not before %s", spec.name, spec.schedule.not_before)
        return report
    with Session(engine, expire_on_commit=False) as session:
        shop = get_shop(session, shop_name)
        plan = plan_campaign(session, shop_name, spec, settings, now=now)
        report.planned = record_plan(session, shop.id, plan, now)
        report.skipped.update(plan.skipped)
        session.commit()
        planned_ids = [p.message_id for p in plan.messages]
        rows = list(session.scalars(select(CareMessage).where(
            CareMessage.shop_id == shop.id, CareMessage.campaign == spec.name).order_by(CareMessage.id)))
        report.already_sent = sum(r.status == "sent" for r in rows)
        todo = [r for r in rows if r.status in ("pending", "in_flight", "failed")]
        shop_tz = settings.shop(shop_name).timezone
        for i, row in enumerate(todo, start=1):
            if progress:
                progress(i, len(todo))
            _send_one(session, row, spec, care, senders, shop_tz, clock(), report)
        log.info("campaign %s: %d sent, %d planned (%d in the plan now)", spec.name, report.sent,
                 report.planned, len(planned_ids))
    return report


def _send_one(session: Session, row: CareMessage, spec: CampaignSpec, care: CareSettings,
              senders: dict[str, Sender], shop_tz: str, now: datetime, report: SendReport) -> None:
    customer = session.get(m.Customer, row.customer_id)
    assert customer is not None
    session.refresh(customer)
    if not has_consent(customer, row.channel):
        row.status, row.error = "skipped", f"no consent for {row.channel} at send time"
        report.skipped["no_consent"] += 1
        session.commit()
        return
    if spec.schedule.respect_quiet_hours and in_quiet_hours(
            now, customer.timezone or shop_tz, care.quiet_hours_start, care.quiet_hours_end):
        report.deferred_quiet_hours += 1
        return
    if recent_sent_count(session, customer.id, now - timedelta(days=care.cap_days),
                         row.message_id) >= care.cap_messages:
        row.status, row.error = "skipped", "frequency cap"
        report.skipped["frequency_cap"] += 1
        session.commit()
        return
    sender = senders.get(row.channel)
    if sender is None:
        raise CareError(f"no sender configured for {row.channel} ([care.senders] {row.channel})")
    msg = OutgoingMessage(row.message_id, row.channel, row.recipient or "", row.subject or "",
                          row.body or "", row.language or "", row.campaign, customer.external_id,
                          care.unsubscribe_url.format(token=unsubscribe_token(session, customer, row.channel, now)),
                          care.unsubscribe_mailto or None)
    was_in_flight = row.status == "in_flight"
    row.status, row.attempted_at = "in_flight", now
    session.commit()
    try:
        receipt = dispatch(msg, customer, sender)
    except CareError as exc:
        row.status, row.error = "failed", str(exc)
        report.failed.append(row.message_id)
        session.commit()
        return
    row.status, row.sent_at, row.receipt, row.error = "sent", now, receipt.to_json(), None
    session.commit()
    report.sent += 1
    if was_in_flight:
        report.resent_in_flight.append(row.message_id)


def sent_messages(session: Session, shop_id: int, customer_ids: Iterable[int] | None = None) -> list[CareMessage]:
    """Messages recorded as sent (the timeline shows them)."""
    q = select(CareMessage).where(CareMessage.shop_id == shop_id, CareMessage.status == "sent")
    if customer_ids is not None:
        q = q.where(CareMessage.customer_id.in_(list(customer_ids)))
    return list(session.scalars(q.order_by(CareMessage.sent_at)))
