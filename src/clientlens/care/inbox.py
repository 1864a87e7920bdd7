"""The service inbox: interactions grouped by thread into conversations, with replies, assignment
and resolution. Every function takes a Session and flushes; the caller commits.

A conversation's clocks start at its first inbound message (``opened_at``); the first outbound
message after it is the first response. Status: ``new`` (nothing answered yet), ``open`` (the
customer wrote after our last answer), ``waiting_on_customer`` (our message is the last one),
``resolved`` (closed; a new inbound message reopens it).
"""

from __future__ import annotations

import logging
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session

from clientlens.care.config import CareSettings, care_settings
from clientlens.care.facts import ShopFacts, latest_facts
from clientlens.care.outbound import queue_reply
from clientlens.care.priority import apply_priority
from clientlens.care.sla import apply_target, target_for
from clientlens.config import Settings
from clientlens.errors import CareError, NotFoundError
from clientlens.store import models as m
from clientlens.store.care_models import CONVERSATION_STATUSES, Conversation, ConversationMessage, Survey
from clientlens.store.repository import get_shop, utcnow

log = logging.getLogger(__name__)

# The statuses of a conversation (module docstring); all but resolved are waiting for the shop or the customer.
STATUSES = CONVERSATION_STATUSES
OPEN_STATUSES = tuple(s for s in STATUSES if s != "resolved")


@dataclass(frozen=True)
class SyncResult:
    conversations_created: int
    conversations_updated: int
    messages_added: int


def thread_key(interaction: m.Interaction) -> str:
    """The conversation key of an interaction: its thread id, or the interaction itself."""
    return interaction.thread_id or f"interaction:{interaction.external_id}"


def _messages(session: Session, conversation_id: int) -> list[tuple[str, datetime, str | None]]:
    return [tuple(r) for r in session.execute(  # type: ignore[misc]
        select(ConversationMessage.direction, ConversationMessage.occurred_at, m.Interaction.agent)
        .join(m.Interaction, m.Interaction.id == ConversationMessage.interaction_id)
        .where(ConversationMessage.conversation_id == conversation_id)
        .order_by(ConversationMessage.occurred_at, ConversationMessage.id))]


def _refresh(session: Session, conv: Conversation, ext_id: str, facts: ShopFacts, settings: Settings,
             shop_name: str, care: CareSettings, now: datetime,
             msgs: list[tuple[str, datetime, str | None]] | None = None) -> None:
    """Recompute times, status, assignee and SLA of ``conv`` from its messages (direction, time, agent)."""
    if msgs is None:
        msgs = _messages(session, conv.id)
    if not msgs:
        return
    inbound = [t for d, t, _ in msgs if d != "outbound"]
    first_in = inbound[0] if inbound else None
    conv.opened_at = first_in or msgs[0][1]
    conv.last_message_at = msgs[-1][1]
    answers = [(t, a) for d, t, a in msgs if d == "outbound" and first_in is not None and t >= first_in]
    conv.first_response_at = answers[0][0] if answers else None
    if conv.assignee is None:
        conv.assignee = next((a for d, _, a in msgs if d == "outbound" and a), None)
    last_dir = msgs[-1][0]
    if conv.status == "resolved" and conv.resolved_at is not None:
        if inbound and inbound[-1] > conv.resolved_at:
            conv.status, conv.resolved_at = "open", None
    if conv.status != "resolved":
        if last_dir == "outbound":
            conv.status = "waiting_on_customer"
            idle = timedelta(days=care.auto_resolve_idle_days)
            if care.auto_resolve_idle_days > 0 and now - conv.last_message_at >= idle:
                conv.status, conv.resolved_at = "resolved", conv.last_message_at
        else:
            conv.status = "open" if answers else "new"
    target = target_for(conv.channel, facts.get(ext_id), care)
    apply_target(conv, target, first_in, settings.shop(shop_name))
    # triage of the newest inbound message, then priority = segment value + triage + SLA (care.priority)
    apply_priority(session, conv, facts.get(ext_id), care, now, inbound[-1] if inbound else None, settings, shop_name)
    conv.updated_at = now


def sync_conversations(session: Session, shop_name: str, settings: Settings,
                       now: datetime | None = None) -> SyncResult:
    """Group the shop's interactions not yet in a conversation into conversations (idempotent)."""
    now = now or utcnow()
    care = care_settings(settings)
    shop = get_shop(session, shop_name)
    new = session.execute(
        select(m.Interaction, m.Customer.external_id)
        .join(m.Customer, m.Customer.id == m.Interaction.customer_id)
        .outerjoin(ConversationMessage, ConversationMessage.interaction_id == m.Interaction.id)
        .where(m.Interaction.shop_id == shop.id, ConversationMessage.id.is_(None))
        .order_by(m.Interaction.occurred_at, m.Interaction.id)).all()
    if not new:
        return SyncResult(0, 0, 0)
    by_key: dict[str, list[tuple[m.Interaction, str]]] = {}
    for inter, ext in new:
        by_key.setdefault(thread_key(inter), []).append((inter, ext))
    q = select(Conversation).where(Conversation.shop_id == shop.id)
    if len(by_key) <= 1000:  # otherwise read them all rather than bind thousands of parameters
        q = q.where(Conversation.thread_key.in_(list(by_key)))
    existing = {c.thread_key: c for c in session.scalars(q) if c.thread_key in by_key} if by_key else {}
    facts = latest_facts(session, shop.id, sorted({ext for _, ext in new}))  # only the customers who wrote
    created = updated = 0
    fresh: list[tuple[Conversation, list[tuple[m.Interaction, str]]]] = []
    for key, items in by_key.items():
        conv = existing.get(key)
        first, _ = items[0]
        if conv is None:
            conv = Conversation(shop_id=shop.id, customer_id=first.customer_id, thread_key=key,
                                channel=first.channel, subject=first.subject, status="new",
                                opened_at=first.occurred_at, last_message_at=first.occurred_at,
                                updated_at=now, priority=0)
            session.add(conv)
            created += 1
        else:
            updated += 1
        fresh.append((conv, items))
    session.flush()  # ids of the new conversations
    session.add_all([ConversationMessage(conversation_id=conv.id, interaction_id=inter.id,
                                         direction=inter.direction or "inbound", occurred_at=inter.occurred_at)
                     for conv, items in fresh for inter, _ in items])
    session.flush()
    for conv, items in fresh:
        msgs = None
        if conv.thread_key not in existing:  # all its messages are new: no need to read them back
            msgs = sorted(((i.direction or "inbound", i.occurred_at, i.agent) for i, _ in items),
                          key=lambda x: x[1])
        _refresh(session, conv, items[0][1], facts, settings, shop_name, care, now, msgs)
    session.flush()
    log.info("inbox sync %s: %d new conversations, %d updated, %d messages", shop_name, created,
             updated, len(new))
    return SyncResult(created, updated, len(new))


def reprioritise(session: Session, shop_name: str, settings: Settings, now: datetime | None = None) -> int:
    """Re-apply the SLA targets and priorities of the shop's open conversations from its current snapshot
    (run after an analysis: a customer who became a champion is answered sooner). Returns how many."""
    now = now or utcnow()
    care = care_settings(settings)
    shop = get_shop(session, shop_name)
    rows = session.execute(select(Conversation, m.Customer.external_id)
                           .join(m.Customer, m.Customer.id == Conversation.customer_id)
                           .where(Conversation.shop_id == shop.id, Conversation.status.in_(OPEN_STATUSES))).all()
    if not rows:
        return 0
    facts = latest_facts(session, shop.id, sorted({ext for _, ext in rows}))
    for conv, ext in rows:
        _refresh(session, conv, ext, facts, settings, shop_name, care, now)
    session.flush()
    return len(rows)


def get_conversation(session: Session, shop_name: str, conversation_id: int) -> Conversation:
    """A conversation of the shop (NotFoundError otherwise)."""
    shop = get_shop(session, shop_name)
    conv = session.get(Conversation, conversation_id)
    if conv is None or conv.shop_id != shop.id:
        raise NotFoundError(f"conversation {conversation_id} does not exist in shop {shop_name!r}")
    return conv


@dataclass(frozen=True)
class InboxFilter:
    """What a view of the inbox holds: every field narrows it (None: any). ``status`` 'unresolved' means
    every status but resolved, 'all' every status; ``unassigned`` keeps conversations without assignee;
    ``search`` matches subject, message bodies and the customer's name (case-insensitive substring)."""

    status: str = "unresolved"
    channel: str | None = None
    assignee: str | None = None
    unassigned: bool = False
    priority: int | None = None
    topic: str | None = None
    language: str | None = None
    search: str | None = None

    def __post_init__(self) -> None:
        if self.status not in (*STATUSES, "unresolved", "all"):
            raise CareError(f"status: {self.status!r} is not one of {', '.join((*STATUSES, 'unresolved', 'all'))}")


def _queue(shop_id: int, f: InboxFilter) -> Any:
    q = select(Conversation).where(Conversation.shop_id == shop_id)
    if f.status == "unresolved":
        q = q.where(Conversation.status.in_(OPEN_STATUSES))
    elif f.status != "all":
        q = q.where(Conversation.status == f.status)
    if f.unassigned:
        q = q.where(Conversation.assignee.is_(None))
    elif f.assignee:
        q = q.where(Conversation.assignee == f.assignee)
    if f.channel:
        q = q.where(Conversation.channel == f.channel)
    if f.priority is not None:
        q = q.where(Conversation.priority == f.priority)
    if f.topic:
        q = q.where(Conversation.topic == f.topic)
    if f.language:
        q = q.where(Conversation.language == f.language)
    if f.search and f.search.strip():
        pattern = "%" + f.search.strip().lower().replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
        in_body = (select(ConversationMessage.id)
                   .join(m.Interaction, m.Interaction.id == ConversationMessage.interaction_id)
                   .where(ConversationMessage.conversation_id == Conversation.id,
                          func.lower(m.Interaction.body).like(pattern, escape="\\")).exists())
        in_name = (select(m.Customer.id).where(m.Customer.id == Conversation.customer_id,
                                               func.lower(m.Customer.name).like(pattern, escape="\\")).exists())
        q = q.where(or_(func.lower(Conversation.subject).like(pattern, escape="\\"), in_body, in_name))
    return q


def legacy_filter(status: str | None, assignee: str | None, include_resolved: bool) -> InboxFilter:
    """The filter of the older (status, assignee, include_resolved) arguments."""
    return InboxFilter(status=status or ("all" if include_resolved else "unresolved"), assignee=assignee)


def list_conversations(session: Session, shop_name: str, filters: InboxFilter | None = None, *,
                       status: str | None = None, assignee: str | None = None, include_resolved: bool = False,
                       limit: int | None = None, offset: int = 0) -> list[Conversation]:
    """Conversations of a view, highest priority first, then the earliest first-response due time (one page).

    The order is that of the index ``ix_care_conversations_queue`` (migration 0008), status last in it:
    a page reads about a page of index entries, whatever the view and the size of the queue; the
    filters of migration 0015's indexes (assignee, channel, topic, language) keep narrow views fast."""
    shop = get_shop(session, shop_name)
    q = _queue(shop.id, filters or legacy_filter(status, assignee, include_resolved)).order_by(
        Conversation.priority.desc(), Conversation.first_response_due.is_(None),
        Conversation.first_response_due, Conversation.id)
    if limit:
        q = q.limit(limit)
    if offset:
        q = q.offset(offset)
    return list(session.scalars(q))


def count_conversations(session: Session, shop_id: int, filters: InboxFilter | None = None) -> int:
    """How many conversations ``list_conversations`` pages through."""
    q = _queue(shop_id, filters or InboxFilter()).with_only_columns(func.count())
    return int(session.scalar(q) or 0)


def messages_of(session: Session, conversation_id: int) -> list[m.Interaction]:
    """The interactions of a conversation in time order."""
    return list(session.scalars(
        select(m.Interaction).join(ConversationMessage, ConversationMessage.interaction_id == m.Interaction.id)
        .where(ConversationMessage.conversation_id == conversation_id)
        .order_by(m.Interaction.occurred_at, m.Interaction.id)))


def reply(session: Session, shop_name: str, conversation_id: int, body: str, *, agent: str,
          settings: Settings, subject: str | None = None, now: datetime | None = None) -> m.Interaction:
    """Answer a conversation: an outbound interaction on its channel, by ``agent``, and its delivery
    queued in the same transaction (``care.outbound``: sent after the commit)."""
    now = now or utcnow()
    conv = get_conversation(session, shop_name, conversation_id)
    if not body.strip():
        raise CareError("a reply needs a body")
    inter = m.Interaction(shop_id=conv.shop_id, external_id=f"care-reply:{uuid.uuid4().hex}",
                          customer_id=conv.customer_id, channel=conv.channel, direction="outbound",
                          occurred_at=now, thread_id=conv.thread_key, subject=subject or conv.subject,
                          body=body, agent=agent)
    session.add(inter)
    session.flush()
    session.add(ConversationMessage(conversation_id=conv.id, interaction_id=inter.id,
                                    direction="outbound", occurred_at=now))
    session.flush()
    queue_reply(session, conv, inter, settings, now)  # sent after the commit (care.outbound)
    if conv.assignee is None:
        conv.assignee = agent
    ext = session.get(m.Customer, conv.customer_id).external_id  # type: ignore[union-attr]
    care = care_settings(settings).model_copy(update={"auto_resolve_idle_days": 0})
    _refresh(session, conv, ext, latest_facts(session, conv.shop_id, [ext]), settings, shop_name, care, now)
    session.flush()
    return inter


def assign(session: Session, shop_name: str, conversation_id: int, agent: str | None,
           now: datetime | None = None) -> Conversation:
    """Give a conversation to ``agent`` (None: unassign)."""
    conv = get_conversation(session, shop_name, conversation_id)
    conv.assignee = agent
    conv.updated_at = now or utcnow()
    session.flush()
    return conv


def reopen(session: Session, shop_name: str, conversation_id: int, now: datetime | None = None) -> Conversation:
    """Open a resolved conversation again (status from its messages: open when we answered, else new)."""
    now = now or utcnow()
    conv = get_conversation(session, shop_name, conversation_id)
    if conv.status != "resolved":
        raise CareError(f"conversation {conversation_id} is {conv.status}, not resolved: nothing to reopen")
    answered = conv.first_response_at is not None
    conv.status, conv.resolved_at, conv.updated_at = ("open" if answered else "new"), None, now
    session.flush()
    return conv


def resolve(session: Session, shop_name: str, conversation_id: int, *, settings: Settings,
            now: datetime | None = None) -> tuple[Conversation, Survey | None]:
    """Close a conversation and queue a satisfaction survey (at most one per customer per N days)."""
    from clientlens.care.feedback import queue_survey

    now = now or utcnow()
    conv = get_conversation(session, shop_name, conversation_id)
    if conv.status == "resolved":
        return conv, None
    conv.status, conv.resolved_at, conv.updated_at = "resolved", now, now
    session.flush()
    survey = queue_survey(session, conv.shop_id, conv.customer_id, settings, conversation_id=conv.id, now=now)
    return conv, survey
