"""Consent: the guard every message passes, and unsubscribes (link, reply, import) that withdraw it.

A withdrawal sets ``customers.consent_<channel>`` to false at once and records a ConsentEvent, the
latest of the channel: the columns always equal the latest event per channel (store.consent), and
a later import cannot undo a withdrawal with older or undated data.
"""

from __future__ import annotations

import csv
import secrets
from datetime import datetime
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session

from clientlens.care.config import CareSettings
from clientlens.errors import CareError, ConsentError, InputError, NotFoundError
from clientlens.store import models as m
from clientlens.store.care_models import UnsubscribeToken
from clientlens.store.consent import latest_events
from clientlens.store.repository import get_customer, utcnow

CONSENT_CHANNELS = m.CONSENT_CHANNELS
# Interaction channels whose replies withdraw a consent channel.
REPLY_CHANNEL = {"email": "email", "sms": "sms", "chat": "chat", "social": "social", "phone": "phone"}


def has_consent(customer: m.Customer, channel: str) -> bool:
    """True only when consent for ``channel`` was given (None = never asked = no)."""
    if channel not in CONSENT_CHANNELS:
        return False
    return getattr(customer, f"consent_{channel}") is True


def ensure_consent(customer: m.Customer, channel: str) -> None:
    """Raise ConsentError unless the customer consented to ``channel``."""
    if not has_consent(customer, channel):
        raise ConsentError(f"customer {customer.external_id!r} has not consented to {channel!r} "
                           "messages; nothing was sent")


def withdraw_consent(session: Session, customer: m.Customer, channel: str, source: str,
                     now: datetime | None = None) -> m.ConsentEvent:
    """Withdraw consent for ``channel`` now, with a ConsentEvent naming ``source``."""
    if channel not in CONSENT_CHANNELS:
        raise CareError(f"unknown consent channel {channel!r}; use one of {', '.join(CONSENT_CHANNELS)}")
    now = now or utcnow()
    session.flush()
    latest = latest_events(session.connection(), [customer.id]).get((customer.id, channel))
    at = max(now, latest[1]) if latest is not None else now  # the unsubscribe is the latest word
    setattr(customer, f"consent_{channel}", False)
    customer.updated_at = now
    event = m.ConsentEvent(shop_id=customer.shop_id, customer_id=customer.id, channel=channel,
                           granted=False, at=at, source=source)
    session.add(event)
    session.flush()
    return event


def unsubscribe(session: Session, shop_id: int, customer_external_id: str, channel: str, *,
                source: str = "cli", now: datetime | None = None) -> m.ConsentEvent:
    """Withdraw a customer's consent for ``channel`` (``clientlens unsubscribe``)."""
    return withdraw_consent(session, get_customer(session, shop_id, customer_external_id), channel,
                            source, now)


def unsubscribe_token(session: Session, customer: m.Customer, channel: str,
                      now: datetime | None = None) -> str:
    """The token of the customer's unsubscribe link for ``channel`` (one per customer and channel)."""
    existing = session.scalar(select(UnsubscribeToken.token).where(
        UnsubscribeToken.customer_id == customer.id, UnsubscribeToken.channel == channel,
        UnsubscribeToken.used_at.is_(None)).limit(1))
    if existing:
        return existing
    token = secrets.token_urlsafe(24)
    session.add(UnsubscribeToken(token=token, shop_id=customer.shop_id, customer_id=customer.id,
                                 channel=channel, created_at=now or utcnow()))
    session.flush()
    return token


def unsubscribe_by_token(session: Session, token: str, now: datetime | None = None) -> m.ConsentEvent:
    """Follow an unsubscribe link: withdraw the consent it names (NotFoundError for a bad token)."""
    row = session.get(UnsubscribeToken, token)
    if row is None:
        raise NotFoundError("this unsubscribe link is not known (it may have been mistyped)")
    now = now or utcnow()
    customer = session.get(m.Customer, row.customer_id)
    assert customer is not None
    row.used_at = row.used_at or now
    return withdraw_consent(session, customer, row.channel, "unsubscribe-link", now)


def unsubscribe_channel(inter: m.Interaction, keywords: set[str]) -> str | None:
    """The consent channel an inbound reply withdraws: one that is only an unsubscribe keyword (STOP, ...;
    ``keywords`` case-folded) on a channel customers can reply on; None otherwise."""
    words = (inter.body or "").strip().strip(".!").casefold()
    if inter.direction == "inbound" and inter.channel in REPLY_CHANNEL and words in keywords:
        return REPLY_CHANNEL[inter.channel]
    return None


def process_reply_unsubscribes(session: Session, shop_id: int, care: CareSettings,
                               now: datetime | None = None) -> list[m.ConsentEvent]:
    """Inbound replies consisting of an unsubscribe keyword (STOP, ...) withdraw that channel."""
    keywords = {k.casefold() for k in care.unsubscribe_keywords}
    done = set(session.scalars(select(m.ConsentEvent.source).where(
        m.ConsentEvent.shop_id == shop_id, m.ConsentEvent.source.like("reply:%"))))
    events = []
    rows = session.execute(select(m.Interaction, m.Customer).join(
        m.Customer, m.Customer.id == m.Interaction.customer_id).where(
        m.Interaction.shop_id == shop_id, m.Interaction.direction == "inbound",
        m.Interaction.channel.in_(list(REPLY_CHANNEL))))
    for inter, cust in rows:
        source = f"reply:{inter.external_id}"
        channel = unsubscribe_channel(inter, keywords)
        if channel is not None and source not in done:
            events.append(withdraw_consent(session, cust, channel, source, now or inter.occurred_at))
    return events


def import_unsubscribes(session: Session, shop_id: int, path: str | Path,
                        now: datetime | None = None) -> list[m.ConsentEvent]:
    """A CSV with ``customer_id`` and ``channel`` columns: withdraw each row's consent."""
    path = Path(path)
    try:
        with path.open(newline="", encoding="utf-8-sig") as fh:
            rows = list(csv.DictReader(fh))
    except (OSError, UnicodeDecodeError) as exc:
        raise InputError(f"{path}: cannot read the unsubscribe file: {exc}") from exc
    if rows and not {"customer_id", "channel"} <= set(rows[0]):
        raise InputError(f"{path}: needs the columns customer_id and channel")
    events = []
    for i, row in enumerate(rows, start=1):
        try:
            events.append(unsubscribe(session, shop_id, row["customer_id"].strip(),
                                      row["channel"].strip().lower(), source=f"import:{path.name}", now=now))
        except (CareError, NotFoundError) as exc:
            raise InputError(f"{path}: row {i}: {exc}") from exc
    return events
