"""A customer's timeline: orders, conversations and their messages, feedback, label changes between
snapshots, campaign messages sent, surveys and consent changes, in time order."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from clientlens.care.customer_rows import CustomerRows, load_customer_rows
from clientlens.money import format_money, to_float, to_major
from clientlens.store.repository import get_customer, get_shop


@dataclass(frozen=True)
class TimelineEvent:
    at: datetime
    kind: str  # order | conversation | message | resolved | feedback | label_change | campaign_message | survey | consent
    summary: str
    details: dict[str, Any] = field(default_factory=dict)


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


def timeline_events(rows: CustomerRows) -> list[TimelineEvent]:
    """Everything that happened between the shop and one customer, oldest first, from its rows.

    Order amounts are the currency's own (``clientlens.money``: JPY 15,000, KWD 10.500).
    """
    ev: list[TimelineEvent] = []
    for o in rows.orders:
        total = to_major(o.total_minor, o.currency)
        ev.append(TimelineEvent(o.ordered_at, "order",
                                f"order {o.external_id}: {format_money(total, o.currency)} ({o.status})",
                                {"order_id": o.external_id, "total": to_float(total), "currency": o.currency,
                                 "status": o.status, "channel": o.channel}))
    for c in rows.conversations:
        ev.append(TimelineEvent(c.opened_at, "conversation", f"conversation #{c.id} on {c.channel}: {c.subject or ''}".strip(),
                                {"conversation_id": c.id, "status": c.status, "assignee": c.assignee}))
        if c.resolved_at is not None:
            ev.append(TimelineEvent(c.resolved_at, "resolved", f"conversation #{c.id} resolved",
                                    {"conversation_id": c.id}))
    for i in rows.interactions:
        who = f" by {i.agent}" if i.agent else ""
        ev.append(TimelineEvent(i.occurred_at, "message",
                                f"{i.direction} {i.channel}{who}: {i.subject or (i.body or '')[:60]}",
                                {"interaction_id": i.external_id, "conversation_id": i.conversation_id,
                                 "direction": i.direction, "channel": i.channel}))
    for f in rows.feedback:
        ev.append(TimelineEvent(f.submitted_at, "feedback", f"{f.kind.upper()} {f.score}" + (f": {f.comment}" if f.comment else ""),
                                {"kind": f.kind, "score": f.score}))
    for msg in rows.care_messages:
        ev.append(TimelineEvent(msg.sent_at, "campaign_message", f"{msg.campaign} by {msg.channel}: {msg.subject}",
                                {"campaign": msg.campaign, "channel": msg.channel, "message_id": msg.message_id,
                                 "language": msg.language}))
    for sv in rows.surveys:
        ev.append(TimelineEvent(sv.queued_at, "survey", f"{sv.kind.upper()} survey {sv.status}",
                                {"conversation_id": sv.conversation_id, "status": sv.status}))
    for ce in rows.consents:
        state = "given" if ce.granted else "withdrawn"
        ev.append(TimelineEvent(ce.at, "consent", f"consent for {ce.channel} {state} ({ce.source})",
                                {"channel": ce.channel, "granted": ce.granted, "source": ce.source}))
    ev.extend(label_changes(rows.history))
    ev.sort(key=lambda e: (e.at, e.kind))
    return ev


def customer_timeline(session: Session, shop_name: str, customer_external_id: str) -> list[TimelineEvent]:
    """Everything that happened between the shop and one customer, oldest first."""
    shop = get_shop(session, shop_name)
    cust = get_customer(session, shop.id, customer_external_id)
    return timeline_events(load_customer_rows(session, shop.id, cust.id, cust.external_id))
