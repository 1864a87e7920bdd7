"""The inbox through the care layer (``clientlens.care.inbox``): conversations ordered by SLA urgency
(priority, then the earliest first-response due time); reply, assign, resolve, reopen.

Conversations are kept up to date where they change (an import of interactions, a reply, an
assignment, a resolution, an analysis), never on a page view. A new inbound message reopens a
resolved conversation (care's rule).
"""

from __future__ import annotations

import logging
import time
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from clientlens.care import inbox as care_inbox
from clientlens.care import outbound
from clientlens.care.config import care_settings
from clientlens.config import Settings
from clientlens.errors import NotFoundError
from clientlens.service import schemas as s
from clientlens.service.customers import interaction_read
from clientlens.store import models as m
from clientlens.store.care_models import Conversation
from clientlens.store.delivery_models import OutboundDelivery
from clientlens.store.repository import utcnow

STATUSES = care_inbox.STATUSES
log = logging.getLogger(__name__)


def read(conv: Any, ext: str, name: str | None, now: datetime | None = None) -> s.ConversationRead:
    """A conversation (ORM object or a row with the same column names) as the API shows it, its SLA
    state as of ``now`` (default: the current time)."""
    now = now or utcnow()
    breached = bool(conv.first_response_due and conv.first_response_at is None and conv.status != "resolved"
                    and conv.first_response_due < now)
    return s.ConversationRead(id=conv.id, thread_id=conv.thread_key, customer_id=ext, customer_name=name,
                              channel=conv.channel, subject=conv.subject, status=conv.status, assignee=conv.assignee,
                              priority=conv.priority, priority_reason=conv.priority_reason, opened_at=conv.opened_at,
                              last_message_at=conv.last_message_at, first_response_at=conv.first_response_at,
                              first_response_due=conv.first_response_due, resolution_due=conv.resolution_due,
                              resolved_at=conv.resolved_at, sla_breached=breached)


def _people(session: Session, ids: list[int]) -> dict[int, tuple[str, str | None]]:
    if not ids:
        return {}
    rows = session.execute(select(m.Customer.id, m.Customer.external_id, m.Customer.name)
                           .where(m.Customer.id.in_(ids)))
    return {cid: (ext, name) for cid, ext, name in rows}


def sync(session: Session, settings: Settings, shop: m.Shop) -> None:
    care_inbox.sync_conversations(session, shop.name, settings)


_COUNTS: dict[tuple[Any, ...], tuple[float, int]] = {}


def _count(session: Session, shop: m.Shop, status: str | None, assignee: str | None, include_resolved: bool,
           ttl: float) -> int:
    """How many conversations the queue holds; cached ``ttl`` seconds per (store, shop, filter) as the
    customer list's counts are (``[web] count_cache_seconds``): a count of the whole queue costs a pass
    over it."""
    key = (str(session.get_bind().engine.url), shop.id, status, assignee, include_resolved)
    now = time.monotonic()
    hit = _COUNTS.get(key)
    if hit is not None and now - hit[0] < ttl:
        return hit[1]
    n = care_inbox.count_conversations(session, shop.id, status=status, assignee=assignee,
                                       include_resolved=include_resolved)
    if ttl > 0:
        if len(_COUNTS) > 10_000:
            _COUNTS.clear()
        _COUNTS[key] = (now, n)
    return n


def inbox(session: Session, settings: Settings, shop: m.Shop, *, status: str | None = None,
          include_resolved: bool = False, assignee: str | None = None, limit: int = 50,
          offset: int = 0, count_ttl: float = 0.0) -> s.Page[s.ConversationRead]:
    """Conversations of a shop, most urgent first (resolved ones only when asked), one page of them; the
    count is cached for ``count_ttl`` seconds per filter (0: counted every time)."""
    page = care_inbox.list_conversations(session, shop.name, status=status, assignee=assignee,
                                         include_resolved=include_resolved, limit=limit, offset=offset)
    count = _count(session, shop, status, assignee, include_resolved, count_ttl)
    people = _people(session, [c.customer_id for c in page])
    now = utcnow()
    data = [read(c, *people.get(c.customer_id, ("?", None)), now) for c in page]
    return s.ConversationPage(data=data, count=count)


def of_customer(session: Session, shop: m.Shop, customer_pk: int) -> list[s.ConversationRead]:
    convs = list(session.scalars(select(Conversation).where(Conversation.shop_id == shop.id,
                                                            Conversation.customer_id == customer_pk)
                                 .order_by(Conversation.last_message_at.desc())))
    people = _people(session, [customer_pk])
    return [read(c, *people.get(c.customer_id, ("?", None))) for c in convs]


def detail(session: Session, shop: m.Shop, conversation_id: int) -> s.ConversationDetail:
    conv = care_inbox.get_conversation(session, shop.name, conversation_id)
    people = _people(session, [conv.customer_id])
    ext, name = people.get(conv.customer_id, ("?", None))
    history = [interaction_read(i, ext) for i in care_inbox.messages_of(session, conv.id)]
    deliveries = [s.DeliveryRead(interaction_id=ext_id, message_id=d.message_id, channel=d.channel, state=d.state,
                                 attempts=d.attempts, reason=d.reason, next_attempt_at=d.next_attempt_at,
                                 sent_at=d.sent_at) for d, ext_id in outbound.deliveries_of(session, conv.id)]
    return s.ConversationDetail(**read(conv, ext, name).model_dump(), history=history, deliveries=deliveries)


def by_thread(session: Session, shop: m.Shop, thread_id: str) -> int:
    """The conversation id of a thread key (NotFoundError otherwise)."""
    cid = session.scalar(select(Conversation.id).where(Conversation.shop_id == shop.id,
                                                       Conversation.thread_key == thread_id))
    if cid is None:
        raise NotFoundError(f"no conversation with thread {thread_id!r} in shop {shop.name!r}")
    return cid


def reply(session: Session, settings: Settings, shop: m.Shop, conversation_id: int, body: str, agent: str,
          subject: str | None = None) -> s.ConversationDetail:
    """Reply, commit, then send the reply (best effort: a failed send is recorded and retried by
    ``clientlens deliveries retry``; the reply stays stored whatever happens)."""
    inter = care_inbox.reply(session, shop.name, conversation_id, body, agent=agent, settings=settings,
                             subject=subject)
    delivery_id = session.scalar(select(OutboundDelivery.id).where(OutboundDelivery.interaction_id == inter.id))
    session.commit()
    if delivery_id is not None and care_settings(settings).outbound.send_on_reply:
        try:
            outbound.send_now(session, settings, [delivery_id])
        except Exception:  # noqa: BLE001 - the reply is committed; its delivery stays due for the retry run
            session.rollback()
            log.exception("reply %s of conversation %d: sending failed; left for the retry run",
                          inter.external_id, conversation_id)
    return detail(session, shop, conversation_id)


def assign(session: Session, shop: m.Shop, conversation_id: int, assignee: str | None) -> s.ConversationDetail:
    care_inbox.assign(session, shop.name, conversation_id, assignee)
    return detail(session, shop, conversation_id)


def resolve(session: Session, settings: Settings, shop: m.Shop, conversation_id: int) -> s.ConversationDetail:
    care_inbox.resolve(session, shop.name, conversation_id, settings=settings)
    return detail(session, shop, conversation_id)


