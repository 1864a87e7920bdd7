"""Sending agent replies: a durable delivery per reply, sent after the commit, retried, never twice.

:func:`queue_reply` writes the delivery (``store.delivery_models.OutboundDelivery``) in the reply's own
transaction, with a Message-ID fixed for the reply's whole life and the threading headers
(In-Reply-To: the customer's latest message of the thread with a known message id; References: the
thread's ids, oldest first). :func:`deliver_pending` runs after the commit (right after a reply, and
``clientlens deliveries send|retry``): it claims each due delivery with a conditional UPDATE of its
state (only one process can win a row: on PostgreSQL the second UPDATE waits and then matches
nothing; SQLite serialises writers), sends it through the senders seam on the conversation's channel,
and records ``sent`` or, with the reason, ``retrying`` (backoff from ``[care.outbound]``) or
``failed``.

Exactly once: a delivery is sent only while one process holds its claim and is recorded ``sent``
before anyone may claim it again. A process that dies after the provider accepted the message and
before the record leaves a ``sending`` claim; after ``claim_timeout_seconds`` it is sent again with
the same Message-ID (SMTP receivers, the webhook's Idempotency-Key and the outbox file name drop it).

Consent (docs/care.md, "Sending replies"): a reply answers the customer's own request, so it is a
transactional message, not marketing: on ``transactional_channels`` (e-mail) it needs no marketing
consent; on the others a withdrawn consent (STOP) refuses it. A message in a conversation the
customer never wrote in needs consent (``care.consent.ensure_consent``). An erased customer, or an
address of an erased customer (erasure tombstone), gets nothing. A refused reply is recorded as
``failed`` with its reason, never dropped.
"""

from __future__ import annotations

import logging
import smtplib
import uuid
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import and_, or_, select, update
from sqlalchemy.orm import Session

from clientlens.care.config import CareSettings, care_settings
from clientlens.care.consent import ensure_consent
from clientlens.care.senders import OutgoingMessage, Sender, hashed_message_id, sender_of
from clientlens.config import Settings
from clientlens.errors import CareError, ConsentError
from clientlens.store import models as m
from clientlens.store.care_models import Conversation, ConversationMessage
from clientlens.store.delivery_models import DUE_STATES, OutboundDelivery
from clientlens.store.erasure import is_erased
from clientlens.store.inbound_models import InboundMessage
from clientlens.store.repository import utcnow

log = logging.getLogger(__name__)

ERASED_PREFIX = "erased-"  # the pseudonym of an erased profile (service.privacy)


class PermanentFailure(CareError):
    """A send that no retry can make succeed (refused recipient, no address, no consent)."""


@dataclass
class DeliveryReport:
    """What one :func:`deliver_pending` run did (message ids per outcome)."""

    sent: list[str] = field(default_factory=list)
    retrying: list[str] = field(default_factory=list)
    failed: list[str] = field(default_factory=list)
    skipped: int = 0  # claimed by another process first


def reply_message_id(shop_name: str, interaction_external_id: str, domain: str) -> str:
    """The Message-ID of a reply: the same reply, the same id, whatever the attempt."""
    return hashed_message_id(domain, "reply", shop_name, interaction_external_id)


def _bracket(mid: str) -> str:
    mid = mid.strip()
    return mid if mid.startswith("<") else f"<{mid}>"


def thread_headers(session: Session, conversation_id: int, care: CareSettings,
                   before: datetime | None = None) -> tuple[str | None, list[str]]:
    """(In-Reply-To, References) of a new reply in the conversation: the customer's latest message
    with a message id, and every id of the thread in time order (the first and the latest ones when
    there are more than ``max_references``)."""
    rows = session.execute(
        select(ConversationMessage.occurred_at, InboundMessage.message_id, InboundMessage.references)
        .join(InboundMessage, InboundMessage.interaction_id == ConversationMessage.interaction_id)
        .where(ConversationMessage.conversation_id == conversation_id)
        .order_by(ConversationMessage.occurred_at, ConversationMessage.id)).all()
    ours = session.execute(
        select(ConversationMessage.occurred_at, OutboundDelivery.message_id)
        .join(OutboundDelivery, OutboundDelivery.interaction_id == ConversationMessage.interaction_id)
        .where(ConversationMessage.conversation_id == conversation_id)).all()
    timed: list[tuple[datetime, int, str]] = []
    in_reply_to = None
    for at, mid, refs in rows:
        if before is not None and at > before:
            continue
        for ref in (refs or "").split():
            timed.append((at, 0, _bracket(ref)))  # what it answers comes before it
        timed.append((at, 1, _bracket(mid)))
        in_reply_to = _bracket(mid)
    timed.extend((at, 1, mid) for at, mid in ours if before is None or at <= before)
    refs_out: list[str] = []
    for _, _, mid in sorted(timed, key=lambda x: (x[0], x[1])):
        if mid not in refs_out:
            refs_out.append(mid)
    limit = care.outbound.max_references
    if len(refs_out) > limit:
        refs_out = refs_out[:1] + refs_out[-(limit - 1):]
    return in_reply_to, refs_out


def reply_subject(subject: str | None, care: CareSettings) -> str:
    """``Re: <subject>`` (a subject already marked as a reply kept as it is)."""
    out = care.outbound
    text = (subject or "").strip() or out.fallback_subject
    if text.casefold().startswith(tuple(p.casefold() for p in out.reply_prefixes)):
        return text
    return f"{out.subject_prefix}{text}"


def _customer_wrote(session: Session, conversation_id: int) -> bool:
    return session.scalar(select(ConversationMessage.id).where(
        ConversationMessage.conversation_id == conversation_id,
        ConversationMessage.direction != "outbound").limit(1)) is not None


def recipient_of(customer: m.Customer, channel: str) -> str | None:
    """The address a reply on ``channel`` goes to: e-mail, phone (SMS), the customer's id (chat, social:
    the provider knows the customer by the shop's id and the thread)."""
    if channel == "email":
        return customer.email
    if channel == "sms":
        return customer.phone_e164 or customer.phone
    return customer.external_id


def refusal(session: Session, conv: Conversation, customer: m.Customer, care: CareSettings) -> str | None:
    """Why a reply in ``conv`` may not be sent to ``customer`` (None: it may)."""
    channel = care.outbound.channels.get(conv.channel)
    if channel is None:
        return f"the {conv.channel} channel carries no written reply; nothing was sent"
    if customer.external_id.startswith(ERASED_PREFIX):
        return "the customer's data was erased; nothing is sent to an erased customer"
    address = recipient_of(customer, channel)
    if not address:
        what = {"email": "an e-mail address", "sms": "a phone number"}.get(channel, "an address")
        return f"customer {customer.external_id!r} has no {what} for a {channel} reply"
    if channel in ("email", "sms") and is_erased(
            session.connection(), customer.shop_id, email=address if channel == "email" else None,
            phone=address if channel == "sms" else None, region=customer.country or "US"):
        return f"the {channel} address is blocked: it belonged to an erased customer"
    if not _customer_wrote(session, conv.id):
        try:  # not an answer to the customer's own request: an ordinary message, consent needed
            ensure_consent(customer, channel)
        except ConsentError as exc:
            return str(exc)
        return None
    if channel not in care.outbound.transactional_channels and getattr(customer, f"consent_{channel}", None) is False:
        return (f"customer {customer.external_id!r} withdrew consent to {channel!r} messages; a reply on "
                f"{channel} is not sent (answer by e-mail)")
    return None


def queue_reply(session: Session, conv: Conversation, inter: m.Interaction, settings: Settings,
                now: datetime | None = None) -> OutboundDelivery:
    """The delivery of reply ``inter`` in ``conv``, written in the caller's transaction (``failed``
    with its reason at once when the reply may not be sent)."""
    now = now or utcnow()
    care = care_settings(settings)
    shop = session.get(m.Shop, conv.shop_id)
    customer = session.get(m.Customer, conv.customer_id)
    assert shop is not None and customer is not None
    in_reply_to, refs = thread_headers(session, conv.id, care, before=now)
    delivery = OutboundDelivery(
        shop_id=conv.shop_id, conversation_id=conv.id, interaction_id=inter.id, customer_id=conv.customer_id,
        channel=care.outbound.channels.get(conv.channel, conv.channel),
        message_id=reply_message_id(shop.name, inter.external_id, care.message_id_domain),
        in_reply_to=in_reply_to, references=" ".join(refs) or None, state="queued", attempts=0,
        created_at=now, next_attempt_at=now)
    why = refusal(session, conv, customer, care)
    if why:
        delivery.state, delivery.reason, delivery.next_attempt_at = "failed", why, None
    session.add(delivery)
    session.flush()
    return delivery


def reply_senders(settings: Settings) -> dict[str, Sender]:
    """The sender of each send channel: ``[care.senders]`` for e-mail, SMS and chat (SMTP with
    ``[care.outbound] smtp_timeout_s``), ``[care.outbound] social`` for social; the outbox by default."""
    care = care_settings(settings)
    cfg, out = care.senders, care.outbound
    kinds = {"email": cfg.email, "sms": cfg.sms, "chat": cfg.chat, "social": out.social}
    built = {channel: sender_of(kind, cfg, webhook_url=out.webhook_urls.get(channel), smtp_timeout=out.smtp_timeout_s)
             for channel, kind in kinds.items()}
    return {channel: sender for channel, sender in built.items() if sender is not None}


def close_senders(senders: dict[str, Sender]) -> None:
    for sender in {id(s): s for s in senders.values()}.values():
        close = getattr(sender, "close", None)
        if close is not None:
            close()


def backoff(attempts: int, care: CareSettings) -> timedelta:
    """The wait after the ``attempts``-th failed attempt."""
    out = care.outbound
    return timedelta(seconds=min(out.retry_max_seconds, out.retry_base_seconds * out.retry_factor ** (attempts - 1)))


def _due(now: datetime, care: CareSettings) -> object:
    stale = now - timedelta(seconds=care.outbound.claim_timeout_seconds)
    return or_(and_(OutboundDelivery.state.in_(DUE_STATES),
                    or_(OutboundDelivery.next_attempt_at.is_(None), OutboundDelivery.next_attempt_at <= now)),
               and_(OutboundDelivery.state == "sending", OutboundDelivery.claimed_at <= stale))


def claim(session: Session, delivery_id: int, now: datetime, care: CareSettings) -> str | None:
    """Take a due delivery for this process (its claim token), or None when another process has it or it
    is not due. Commits: the claim is visible to every other process before anything is sent."""
    token = uuid.uuid4().hex
    res = session.execute(
        update(OutboundDelivery).where(OutboundDelivery.id == delivery_id, _due(now, care))  # type: ignore[arg-type]
        .values(state="sending", claim_token=token, claimed_at=now, attempts=OutboundDelivery.attempts + 1)
        .execution_options(synchronize_session=False))
    session.commit()
    return token if res.rowcount == 1 else None  # type: ignore[attr-defined]


def _record(session: Session, delivery_id: int, token: str, **values: object) -> bool:
    """Write the outcome of an attempt, if this process still holds the claim; commits."""
    res = session.execute(update(OutboundDelivery)
                          .where(OutboundDelivery.id == delivery_id, OutboundDelivery.claim_token == token)
                          .values(claim_token=None, **values).execution_options(synchronize_session=False))
    session.commit()
    return res.rowcount == 1  # type: ignore[attr-defined,no-any-return]


def _permanent(exc: BaseException) -> bool:
    """A provider's answer no retry changes: SMTP 5xx (recipient or message refused)."""
    cause = exc.__cause__
    if isinstance(cause, smtplib.SMTPRecipientsRefused):
        return bool(cause.recipients) and all(code >= 500 for code, _ in cause.recipients.values())
    if isinstance(cause, smtplib.SMTPResponseException):
        return cause.smtp_code >= 500
    return isinstance(exc, PermanentFailure)


def _message(session: Session, d: OutboundDelivery, customer: m.Customer, care: CareSettings) -> OutgoingMessage:
    inter = session.get(m.Interaction, d.interaction_id)
    conv = session.get(Conversation, d.conversation_id)
    assert inter is not None and conv is not None
    headers: dict[str, str] = {}
    if d.in_reply_to:
        headers["In-Reply-To"] = d.in_reply_to
    if d.references:
        headers["References"] = d.references
    return OutgoingMessage(
        message_id=d.message_id, channel=d.channel, recipient=recipient_of(customer, d.channel) or "",
        subject=reply_subject(inter.subject or conv.subject, care), body=inter.body or "",
        language=(customer.language or (care.language_fallback or ("en",))[0])[:2],
        campaign=f"reply:{conv.thread_key}", customer_id=customer.external_id, headers=headers)


def _attempt(session: Session, d: OutboundDelivery, senders: dict[str, Sender], care: CareSettings) -> tuple[str, str]:
    """Send one claimed delivery: ("sent", receipt) or raise (CareError: the reason)."""
    conv = session.get(Conversation, d.conversation_id)
    customer = session.get(m.Customer, d.customer_id)
    assert conv is not None and customer is not None
    why = refusal(session, conv, customer, care)
    if why:
        raise PermanentFailure(why)
    sender = senders.get(d.channel)
    if sender is None:
        raise PermanentFailure(f"no sender is configured for {d.channel} replies ([care.senders] / [care.outbound])")
    receipt = sender.send(_message(session, d, customer, care))
    if not receipt.accepted:
        raise CareError(f"{sender.name} did not accept {d.message_id}: {receipt.detail}")
    return sender.name, receipt.to_json()


def deliver_pending(session: Session, settings: Settings, senders: dict[str, Sender],
                    now: datetime | None = None, *, ids: Iterable[int] | None = None,
                    shop_id: int | None = None) -> DeliveryReport:
    """Claim the due deliveries (all of them, or ``ids``; at most ``batch_size``), send each through
    ``senders`` on its channel and record the outcome. Commits after every claim and every outcome:
    run it outside the caller's transaction (after the reply's commit)."""
    now = now or utcnow()
    care = care_settings(settings)
    session.commit()  # nothing of the caller's pending: each step below is its own transaction
    q = select(OutboundDelivery.id).where(_due(now, care))  # type: ignore[arg-type]
    if ids is not None:
        q = q.where(OutboundDelivery.id.in_(list(ids)))
    if shop_id is not None:
        q = q.where(OutboundDelivery.shop_id == shop_id)
    due = list(session.scalars(q.order_by(OutboundDelivery.next_attempt_at, OutboundDelivery.id)
                               .limit(care.outbound.batch_size)))
    session.commit()
    report = DeliveryReport()
    for delivery_id in due:
        token = claim(session, delivery_id, now, care)
        if token is None:
            report.skipped += 1
            continue
        d = session.get(OutboundDelivery, delivery_id, populate_existing=True)
        assert d is not None
        try:
            name, receipt = _attempt(session, d, senders, care)
        except Exception as exc:  # noqa: BLE001 - any failure is recorded (and retried), never left claimed
            session.rollback()
            reason = (str(exc) if isinstance(exc, CareError) else f"{type(exc).__name__}: {exc}")[:2000]
            final = _permanent(exc) or d.attempts >= care.outbound.max_attempts
            if final:
                _record(session, delivery_id, token, state="failed", reason=reason, next_attempt_at=None)
                report.failed.append(d.message_id)
            else:
                _record(session, delivery_id, token, state="retrying", reason=reason,
                        next_attempt_at=now + backoff(d.attempts, care))
                report.retrying.append(d.message_id)
            log.warning("reply %s not sent (attempt %d): %s", d.message_id, d.attempts, reason)
            continue
        _record(session, delivery_id, token, state="sent", sent_at=now, reason=None, next_attempt_at=None,
                sender=name, receipt=receipt)
        report.sent.append(d.message_id)
    return report


def requeue_failed(session: Session, now: datetime | None = None, *, shop_id: int | None = None) -> int:
    """Queue the deliveries failed for good again (after the cause was fixed); returns how many.
    Refusals are checked again when they are sent."""
    q = update(OutboundDelivery).where(OutboundDelivery.state == "failed")
    if shop_id is not None:
        q = q.where(OutboundDelivery.shop_id == shop_id)
    res = session.execute(q.values(state="retrying", next_attempt_at=now or utcnow())
                          .execution_options(synchronize_session=False))
    session.flush()
    return int(res.rowcount or 0)  # type: ignore[attr-defined]


def delivery_of(session: Session, interaction_id: int) -> OutboundDelivery:
    """The delivery of a reply (the interaction's id)."""
    return session.scalars(select(OutboundDelivery).where(OutboundDelivery.interaction_id == interaction_id)).one()


def deliveries_of(session: Session, conversation_id: int) -> list[tuple[OutboundDelivery, str]]:
    """The deliveries of a conversation with their reply's interaction external id, oldest first."""
    return [(d, ext) for d, ext in session.execute(
        select(OutboundDelivery, m.Interaction.external_id)
        .join(m.Interaction, m.Interaction.id == OutboundDelivery.interaction_id)
        .where(OutboundDelivery.conversation_id == conversation_id)
        .order_by(OutboundDelivery.created_at, OutboundDelivery.id))]


def send_now(session: Session, settings: Settings, delivery_ids: list[int],
             now: datetime | None = None) -> DeliveryReport:
    """Send freshly committed deliveries with the configured senders (after a reply)."""
    senders = reply_senders(settings)
    try:
        return deliver_pending(session, settings, senders, now, ids=delivery_ids)
    finally:
        close_senders(senders)

