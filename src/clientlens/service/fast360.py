"""The data of one customer 360 read with a handful of SQLAlchemy Core queries.

The care layer's ``customer_timeline``, ``loyalty_statuses`` and ``latest_facts`` answer the same
questions with about twenty ORM queries (they look the shop and customer up again, and read the
latest snapshot, labels and orders twice). Here every table is read once, as plain rows, and the
care layer's pure functions (``label_changes``, ``order_points``, ``tier_for``, ``actions_for``)
turn them into the same events, loyalty status and facts. ``tests/api/test_fast360.py`` checks
that the result equals the care layer's on every customer of the test store.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime, time
from functools import lru_cache
from typing import Any

import numpy as np
from sqlalchemy import and_, bindparam, select
from sqlalchemy.orm import Session

from clientlens.care.facts import CustomerFacts
from clientlens.care.loyalty import LoyaltyStatus, minor_to_major, order_points, tier_for
from clientlens.care.timeline import TimelineEvent, label_changes
from clientlens.store import models as m
from clientlens.store.care_models import CareMessage, Conversation, ConversationMessage, Survey

ORDERS = m.Order.__table__
CONVERSATIONS = Conversation.__table__
INTERACTIONS = m.Interaction.__table__
CONV_MESSAGES = ConversationMessage.__table__
FEEDBACK = m.Feedback.__table__
CARE_MESSAGES = CareMessage.__table__
SURVEYS = Survey.__table__
CONSENTS = m.ConsentEvent.__table__
SNAPSHOTS = m.Snapshot.__table__
LABELS = m.SnapshotLabel.__table__
SCORES = m.SnapshotScore.__table__


@lru_cache(maxsize=1)
def statements() -> dict[str, Any]:
    """Every statement of the 360, built once with bound parameters (``shop``, ``pk``, ``ext``, ``snap``).

    Building a statement costs more than running it on an indexed lookup; built once, SQLAlchemy
    also reuses its compiled form.
    """
    shop: Any = bindparam("shop")
    pk: Any = bindparam("pk")
    ext: Any = bindparam("ext")
    snap: Any = bindparam("snap")
    i = INTERACTIONS.c
    return {
        "snapshot_labels": select(SNAPSHOTS.c.id.label("sid"), SNAPSHOTS.c.as_of, SNAPSHOTS.c.created_at,
                                  LABELS.c.taxonomy, LABELS.c.label, LABELS.c.rule_id, LABELS.c.figures, LABELS.c.text)
        .select_from(SNAPSHOTS.outerjoin(LABELS, and_(LABELS.c.snapshot_id == SNAPSHOTS.c.id,
                                                       LABELS.c.customer_id == ext)))
        .where(SNAPSHOTS.c.shop_id == shop).order_by(SNAPSHOTS.c.as_of.desc()),
        "score": select(SCORES).where(SCORES.c.snapshot_id == snap, SCORES.c.customer_id == ext),
        "orders": select(ORDERS.c.shop_id, ORDERS.c.external_id, ORDERS.c.ordered_at, ORDERS.c.channel,
                         ORDERS.c.currency, ORDERS.c.total_minor, ORDERS.c.status).where(ORDERS.c.customer_id == pk),
        "conversations": select(CONVERSATIONS).where(CONVERSATIONS.c.customer_id == pk),
        "interactions": select(i.external_id, i.occurred_at, i.direction, i.channel, i.agent, i.subject, i.body,
                               CONV_MESSAGES.c.conversation_id)
        .outerjoin(CONV_MESSAGES, CONV_MESSAGES.c.interaction_id == i.id).where(i.customer_id == pk),
        "feedback": select(FEEDBACK.c.submitted_at, FEEDBACK.c.kind, FEEDBACK.c.score, FEEDBACK.c.comment)
        .where(FEEDBACK.c.customer_id == pk),
        "care_messages": select(CARE_MESSAGES.c.sent_at, CARE_MESSAGES.c.campaign, CARE_MESSAGES.c.channel,
                                CARE_MESSAGES.c.subject, CARE_MESSAGES.c.message_id, CARE_MESSAGES.c.language)
        .where(CARE_MESSAGES.c.customer_id == pk, CARE_MESSAGES.c.status == "sent"),
        "surveys": select(SURVEYS.c.queued_at, SURVEYS.c.kind, SURVEYS.c.status, SURVEYS.c.conversation_id)
        .where(SURVEYS.c.customer_id == pk),
        "consents": select(CONSENTS.c.at, CONSENTS.c.channel, CONSENTS.c.granted, CONSENTS.c.source)
        .where(CONSENTS.c.customer_id == pk),
        "clv": select(SCORES.c.clv).where(SCORES.c.snapshot_id == snap, SCORES.c.clv.is_not(None)),
    }


@dataclass(frozen=True)
class SnapshotRef:
    """The latest snapshot of a shop: what the 360 needs of it (not its large ``run`` document)."""

    id: int
    as_of: date
    created_at: datetime


@dataclass
class CustomerData:
    """Every row the 360 shows of one customer, read once."""

    snapshot: SnapshotRef | None
    labels: list[Any]  # rows of the latest snapshot, ordered by taxonomy, label
    score: Any  # the snapshot_scores row or None
    history: list[tuple[datetime, dict[str, set[str]]]]
    orders: list[Any]
    conversations: list[Any]
    events: list[TimelineEvent]  # the care layer's timeline, oldest first


def labels_by_snapshot(session: Session, shop_id: int, external_id: str
                       ) -> tuple[SnapshotRef | None, list[Any], list[tuple[datetime, dict[str, set[str]]]]]:
    """One statement for: the latest snapshot (as ``latest_snapshot`` picks it), the customer's labels in
    it (full rows, by taxonomy and label) and per snapshot date (care's ``label_history``)."""
    rows = session.connection().execute(statements()["snapshot_labels"], {"shop": shop_id, "ext": external_id}).all()
    return labels_of(rows)


def labels_of(rows: Sequence[Any]) -> tuple[SnapshotRef | None, list[Any], list[tuple[datetime, dict[str, set[str]]]]]:
    latest = SnapshotRef(rows[0].sid, rows[0].as_of, rows[0].created_at) if rows else None
    snaps: dict[Any, dict[str, set[str]]] = {r.as_of: {} for r in rows}
    for r in sorted(rows, key=lambda r: r.as_of):
        if r.taxonomy is not None:
            snaps[r.as_of].setdefault(r.taxonomy, set()).add(r.label)
    current = sorted((r for r in rows if latest is not None and r.sid == latest.id and r.taxonomy is not None),
                     key=lambda r: (r.taxonomy, r.label))
    history = [(datetime.combine(d, time(23, 59, 59)), labels) for d, labels in sorted(snaps.items())]
    return latest, current, history


def load(session: Session, shop_id: int, customer_pk: int, external_id: str) -> CustomerData:
    """Read everything of one customer the 360 shows; the timeline built as the care layer builds it."""
    conn = session.connection()
    st = statements()
    latest, labels, history = labels_by_snapshot(session, shop_id, external_id)
    score = None
    if latest is not None:
        score = conn.execute(st["score"], {"snap": latest.id, "ext": external_id}).first()
    by_pk = {"pk": customer_pk}
    rows = {name: conn.execute(st[name], by_pk).all() for name in PER_CUSTOMER}
    return build(latest, labels, history, score, rows)


# The sections read per customer (bound ``pk``), in the order of ``load``.
PER_CUSTOMER = ("orders", "conversations", "interactions", "feedback", "care_messages", "surveys", "consents")


def build(latest: SnapshotRef | None, labels: list[Any], history: list[tuple[datetime, dict[str, set[str]]]],
           score: Any, rows: Mapping[str, Sequence[Any]]) -> CustomerData:
    orders, convs = rows["orders"], rows["conversations"]
    ev: list[TimelineEvent] = []
    for o in orders:
        total = minor_to_major(o.total_minor, o.currency)
        ev.append(TimelineEvent(o.ordered_at, "order", f"order {o.external_id}: {total:,.2f} {o.currency} ({o.status})",
                                {"order_id": o.external_id, "total": total, "currency": o.currency,
                                 "status": o.status, "channel": o.channel}))
    for c in convs:
        ev.append(TimelineEvent(c.opened_at, "conversation", f"conversation #{c.id} on {c.channel}: {c.subject or ''}".strip(),
                                {"conversation_id": c.id, "status": c.status, "assignee": c.assignee}))
        if c.resolved_at is not None:
            ev.append(TimelineEvent(c.resolved_at, "resolved", f"conversation #{c.id} resolved",
                                    {"conversation_id": c.id}))
    for i in rows["interactions"]:
        who = f" by {i.agent}" if i.agent else ""
        ev.append(TimelineEvent(i.occurred_at, "message",
                                f"{i.direction} {i.channel}{who}: {i.subject or (i.body or '')[:60]}",
                                {"interaction_id": i.external_id, "conversation_id": i.conversation_id,
                                 "direction": i.direction, "channel": i.channel}))
    for f in rows["feedback"]:
        ev.append(TimelineEvent(f.submitted_at, "feedback", f"{f.kind.upper()} {f.score}" + (f": {f.comment}" if f.comment else ""),
                                {"kind": f.kind, "score": f.score}))
    for msg in rows["care_messages"]:
        ev.append(TimelineEvent(msg.sent_at, "campaign_message", f"{msg.campaign} by {msg.channel}: {msg.subject}",
                                {"campaign": msg.campaign, "channel": msg.channel, "message_id": msg.message_id,
                                 "language": msg.language}))
    for sv in rows["surveys"]:
        ev.append(TimelineEvent(sv.queued_at, "survey", f"{sv.kind.upper()} survey {sv.status}",
                                {"conversation_id": sv.conversation_id, "status": sv.status}))
    for ce in rows["consents"]:
        state = "given" if ce.granted else "withdrawn"
        ev.append(TimelineEvent(ce.at, "consent", f"consent for {ce.channel} {state} ({ce.source})",
                                {"channel": ce.channel, "granted": ce.granted, "source": ce.source}))
    ev.extend(label_changes(history))
    ev.sort(key=lambda e: (e.at, e.kind))
    return CustomerData(latest, labels, score, history, list(orders), list(convs), ev)


def loyalty(data: CustomerData, shop_id: int, customer_pk: int, care: Any, as_of: date) -> LoyaltyStatus:
    """``care.loyalty.loyalty_statuses`` of one customer, from the orders already read."""
    end = datetime.combine(as_of, datetime.max.time())
    n, spend, first, points = 0, 0.0, None, 0
    for o in data.orders:
        if o.shop_id != shop_id or o.status != "completed" or o.ordered_at > end:
            continue
        total = minor_to_major(o.total_minor, o.currency)
        n += 1
        spend += total
        first = o.ordered_at if first is None else min(first, o.ordered_at)
        points += order_points(total, care)
    tenure = (as_of - first.date()).days if first is not None else 0
    return LoyaltyStatus(customer_pk, n, round(spend, 2), tenure, points, tier_for(spend, tenure, care))


_CLV_CACHE: dict[tuple[str, int, Any], np.ndarray] = {}


def sorted_clv(session: Session, snap: SnapshotRef) -> np.ndarray:
    """Every CLV of a snapshot, sorted (cached per snapshot: ranking one customer stays O(log n))."""
    key = (str(getattr(session.get_bind(), "url", "")), snap.id, snap.created_at)
    if key not in _CLV_CACHE:
        if len(_CLV_CACHE) > 8:
            _CLV_CACHE.clear()
        values = session.connection().execute(statements()["clv"], {"snap": snap.id}).scalars().all()
        arr = np.asarray(values, dtype=float)
        _CLV_CACHE[key] = np.sort(arr[~np.isnan(arr)])
    return _CLV_CACHE[key]


def facts(session: Session, data: CustomerData) -> CustomerFacts:
    """The care layer's facts of the customer (labels, scores, CLV rank share) in the latest snapshot."""
    if data.snapshot is None:
        return CustomerFacts()
    pairs = [(r.taxonomy, r.label) for r in data.labels]
    p_alive, clv = (data.score.p_alive, data.score.clv) if data.score is not None else (None, None)
    share: float | None = None
    if clv is not None and not math.isnan(clv):
        ranked = sorted_clv(session, data.snapshot)
        share = float(len(ranked) - np.searchsorted(ranked, clv, side="right")) / len(ranked)
    return CustomerFacts(frozenset(f"{t}:{lab}" for t, lab in pairs), p_alive, clv, share,
                         {t: lab for t, lab in pairs})
