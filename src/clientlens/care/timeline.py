"""A customer's timeline: orders, conversations and their messages, feedback, label changes between
snapshots, campaign messages sent, surveys and consent changes, in time order."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, time
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from clientlens.care.loyalty import minor_to_major
from clientlens.store import models as m
from clientlens.store.care_models import CareMessage, Conversation, ConversationMessage, Survey
from clientlens.store.repository import get_customer, get_shop


@dataclass(frozen=True)
class TimelineEvent:
    at: datetime
    kind: str  # order | conversation | message | resolved | feedback | label_change | campaign_message | survey | consent
    summary: str
    details: dict[str, Any] = field(default_factory=dict)


def label_history(session: Session, shop_id: int, customer_external_id: str) -> list[tuple[datetime, dict[str, set[str]]]]:
    """Per snapshot (oldest first): the customer's labels by taxonomy."""
    rows = session.execute(
        select(m.Snapshot.as_of, m.SnapshotLabel.taxonomy, m.SnapshotLabel.label)
        .join(m.SnapshotLabel, m.SnapshotLabel.snapshot_id == m.Snapshot.id)
        .where(m.Snapshot.shop_id == shop_id, m.SnapshotLabel.customer_id == customer_external_id)
        .order_by(m.Snapshot.as_of))
    snaps: dict[Any, dict[str, set[str]]] = {}
    for as_of in session.scalars(select(m.Snapshot.as_of).where(m.Snapshot.shop_id == shop_id)
                                 .order_by(m.Snapshot.as_of)):
        snaps[as_of] = {}
    for as_of, tax, lab in rows:
        snaps.setdefault(as_of, {}).setdefault(tax, set()).add(lab)
    return [(datetime.combine(d, time(23, 59, 59)), labels) for d, labels in sorted(snaps.items())]


def label_changes(history: list[tuple[datetime, dict[str, set[str]]]]) -> list[TimelineEvent]:
    """A label_change event per taxonomy whose labels differ between consecutive snapshots."""
    out = []
    for (_, before), (at, after) in zip(history, history[1:], strict=False):
        for tax in sorted(set(before) | set(after)):
            old, new = before.get(tax, set()), after.get(tax, set())
            if old != new:
                text = f"{tax}: {', '.join(sorted(old)) or '-'} -> {', '.join(sorted(new)) or '-'}"
                out.append(TimelineEvent(at, "label_change", text,
                                         {"taxonomy": tax, "before": sorted(old), "after": sorted(new)}))
    return out


def customer_timeline(session: Session, shop_name: str, customer_external_id: str) -> list[TimelineEvent]:
    """Everything that happened between the shop and one customer, oldest first."""
    shop = get_shop(session, shop_name)
    cust = get_customer(session, shop.id, customer_external_id)
    ev: list[TimelineEvent] = []
    for o in session.scalars(select(m.Order).where(m.Order.customer_id == cust.id)):
        total = minor_to_major(o.total_minor, o.currency)
        ev.append(TimelineEvent(o.ordered_at, "order", f"order {o.external_id}: {total:,.2f} {o.currency} ({o.status})",
                                {"order_id": o.external_id, "total": total, "currency": o.currency,
                                 "status": o.status, "channel": o.channel}))
    for c in session.scalars(select(Conversation).where(Conversation.customer_id == cust.id)):
        ev.append(TimelineEvent(c.opened_at, "conversation", f"conversation #{c.id} on {c.channel}: {c.subject or ''}".strip(),
                                {"conversation_id": c.id, "status": c.status, "assignee": c.assignee}))
        if c.resolved_at is not None:
            ev.append(TimelineEvent(c.resolved_at, "resolved", f"conversation #{c.id} resolved",
                                    {"conversation_id": c.id}))
    for inter, conv_id in session.execute(
            select(m.Interaction, ConversationMessage.conversation_id)
            .outerjoin(ConversationMessage, ConversationMessage.interaction_id == m.Interaction.id)
            .where(m.Interaction.customer_id == cust.id)):
        who = f" by {inter.agent}" if inter.agent else ""
        ev.append(TimelineEvent(inter.occurred_at, "message",
                                f"{inter.direction} {inter.channel}{who}: {inter.subject or (inter.body or '')[:60]}",
                                {"interaction_id": inter.external_id, "conversation_id": conv_id,
                                 "direction": inter.direction, "channel": inter.channel}))
    for f in session.scalars(select(m.Feedback).where(m.Feedback.customer_id == cust.id)):
        ev.append(TimelineEvent(f.submitted_at, "feedback", f"{f.kind.upper()} {f.score}" + (f": {f.comment}" if f.comment else ""),
                                {"kind": f.kind, "score": f.score}))
    for msg in session.scalars(select(CareMessage).where(CareMessage.customer_id == cust.id,
                                                         CareMessage.status == "sent")):
        assert msg.sent_at is not None
        ev.append(TimelineEvent(msg.sent_at, "campaign_message", f"{msg.campaign} by {msg.channel}: {msg.subject}",
                                {"campaign": msg.campaign, "channel": msg.channel, "message_id": msg.message_id,
                                 "language": msg.language}))
    for s in session.scalars(select(Survey).where(Survey.customer_id == cust.id)):
        ev.append(TimelineEvent(s.queued_at, "survey", f"{s.kind.upper()} survey {s.status}",
                                {"conversation_id": s.conversation_id, "status": s.status}))
    for ce in session.scalars(select(m.ConsentEvent).where(m.ConsentEvent.customer_id == cust.id)):
        state = "given" if ce.granted else "withdrawn"
        ev.append(TimelineEvent(ce.at, "consent", f"consent for {ce.channel} {state} ({ce.source})",
                                {"channel": ce.channel, "granted": ce.granted, "source": ce.source}))
    ev.extend(label_changes(label_history(session, shop.id, cust.external_id)))
    ev.sort(key=lambda e: (e.at, e.kind))
    return ev
