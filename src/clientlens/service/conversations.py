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
from clientlens.care import outbound, workspace
from clientlens.care.config import care_settings
from clientlens.config import Settings, ShopSettings
from clientlens.errors import NotFoundError, ValidationError
from clientlens.service import auth
from clientlens.service import schemas as s
from clientlens.service.customers import interaction_read
from clientlens.store import models as m
from clientlens.store.care_models import Conversation
from clientlens.store.delivery_models import OutboundDelivery
from clientlens.store.repository import utcnow

STATUSES = care_inbox.STATUSES
InboxFilter = care_inbox.InboxFilter
log = logging.getLogger(__name__)


def read(conv: Any, ext: str, name: str | None, now: datetime | None = None,
         shop_settings: ShopSettings | None = None) -> s.ConversationRead:
    """A conversation (ORM object or a row with the same column names) as the API shows it, its SLA
    state as of ``now`` (default: the current time); with ``shop_settings`` its countdown to the
    first-response due time in the shop's business hours (holidays skipped)."""
    now = now or utcnow()
    running = conv.first_response_at is None and conv.status != "resolved"
    breached = bool(conv.first_response_due and running and conv.first_response_due < now)
    left = workspace.countdown(conv.first_response_due, now, shop_settings) if running and shop_settings else None
    return s.ConversationRead(id=conv.id, thread_id=conv.thread_key, customer_id=ext, customer_name=name,
                              channel=conv.channel, subject=conv.subject, status=conv.status, assignee=conv.assignee,
                              priority=conv.priority, priority_reason=conv.priority_reason, opened_at=conv.opened_at,
                              last_message_at=conv.last_message_at, first_response_at=conv.first_response_at,
                              first_response_due=conv.first_response_due, resolution_due=conv.resolution_due,
                              resolved_at=conv.resolved_at, sla_breached=breached,
                              topic=conv.topic, language=conv.language,
                              sla_countdown=None if left is None else round(left[0], 1),
                              sla_countdown_unit=None if left is None else left[1])


def _people(session: Session, ids: list[int]) -> dict[int, tuple[str, str | None]]:
    if not ids:
        return {}
    rows = session.execute(select(m.Customer.id, m.Customer.external_id, m.Customer.name)
                           .where(m.Customer.id.in_(ids)))
    return {cid: (ext, name) for cid, ext, name in rows}


def sync(session: Session, settings: Settings, shop: m.Shop) -> None:
    care_inbox.sync_conversations(session, shop.name, settings)


_COUNTS: dict[tuple[Any, ...], tuple[float, int]] = {}


def _count(session: Session, shop: m.Shop, filters: care_inbox.InboxFilter, ttl: float) -> int:
    """How many conversations the view holds; cached ``ttl`` seconds per (store, shop, filter) as the
    customer list's counts are (``[web] count_cache_seconds``): a count of the whole queue costs a pass
    over it."""
    key = (str(session.get_bind().engine.url), shop.id, filters)
    now = time.monotonic()
    hit = _COUNTS.get(key)
    if hit is not None and now - hit[0] < ttl:
        return hit[1]
    n = care_inbox.count_conversations(session, shop.id, filters)
    if ttl > 0:
        if len(_COUNTS) > 10_000:
            _COUNTS.clear()
        _COUNTS[key] = (now, n)
    return n


def forget_counts() -> None:
    """Drop the cached counts (after an action changed what the views hold)."""
    _COUNTS.clear()


def inbox(session: Session, settings: Settings, shop: m.Shop, *, status: str | None = None,
          include_resolved: bool = False, assignee: str | None = None, limit: int = 50,
          offset: int = 0, count_ttl: float = 0.0,
          filters: care_inbox.InboxFilter | None = None) -> s.Page[s.ConversationRead]:
    """Conversations of a shop's view (``filters``; else status/assignee/include_resolved), most urgent
    first, one page of them (paged in SQL); the count is cached ``count_ttl`` seconds per filter."""
    f = filters or care_inbox.legacy_filter(status, assignee, include_resolved)
    page = care_inbox.list_conversations(session, shop.name, f, limit=limit, offset=offset)
    count = _count(session, shop, f, count_ttl)
    people = _people(session, [c.customer_id for c in page])
    now = utcnow()
    shop_settings = settings.shop(shop.name)
    data = [read(c, *people.get(c.customer_id, ("?", None)), now, shop_settings) for c in page]
    return s.ConversationPage(data=data, count=count)


def agents(session: Session) -> list[str]:
    """The names an inbox conversation can be assigned to: the active users (service.auth)."""
    return [u.name for u in auth.list_users(session) if u.active]


def check_assignee(session: Session, assignee: str | None) -> str | None:
    """``assignee`` when it names an active user (None: unassigned); ValidationError otherwise."""
    if assignee is None or not assignee.strip():
        return None
    name = assignee.strip()
    known = agents(session)
    if name not in known:
        raise ValidationError(f"assignee: {name!r} is not a user of the shop (one of: {', '.join(known) or 'none'})")
    return name


def of_customer(session: Session, shop: m.Shop, customer_pk: int) -> list[s.ConversationRead]:
    convs = list(session.scalars(select(Conversation).where(Conversation.shop_id == shop.id,
                                                            Conversation.customer_id == customer_pk)
                                 .order_by(Conversation.last_message_at.desc())))
    people = _people(session, [customer_pk])
    return [read(c, *people.get(c.customer_id, ("?", None))) for c in convs]


def detail(session: Session, shop: m.Shop, conversation_id: int, *, settings: Settings | None = None,
           viewer: str | None = None) -> s.ConversationDetail:
    """A conversation with its messages, deliveries and internal notes; with ``viewer`` the other
    agents replying to it now (markers younger than ``[care] replying_marker_seconds``)."""
    conv = care_inbox.get_conversation(session, shop.name, conversation_id)
    people = _people(session, [conv.customer_id])
    ext, name = people.get(conv.customer_id, ("?", None))
    notes = [s.NoteRead(id=n.id, author=n.author, body=n.body, created_at=n.created_at)
             for n in workspace.notes_of(session, conv.id)]
    replying: list[str] = []
    if viewer is not None and settings is not None:
        replying = workspace.others_replying(session, conv.id, viewer,
                                             care_settings(settings).replying_marker_seconds)
    history = [interaction_read(i, ext) for i in care_inbox.messages_of(session, conv.id)]
    deliveries = [s.DeliveryRead(interaction_id=ext_id, message_id=d.message_id, channel=d.channel, state=d.state,
                                 attempts=d.attempts, reason=d.reason, next_attempt_at=d.next_attempt_at,
                                 sent_at=d.sent_at) for d, ext_id in outbound.deliveries_of(session, conv.id)]
    base = read(conv, ext, name, None, settings.shop(shop.name) if settings is not None else None)
    return s.ConversationDetail(**base.model_dump(), history=history, deliveries=deliveries, notes=notes,
                                others_replying=replying)


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
    workspace.clear_replying(session, conversation_id, agent)
    delivery_id = session.scalar(select(OutboundDelivery.id).where(OutboundDelivery.interaction_id == inter.id))
    session.commit()
    if delivery_id is not None and care_settings(settings).outbound.send_on_reply:
        try:
            outbound.send_now(session, settings, [delivery_id])
        except Exception:  # noqa: BLE001 - the reply is committed; its delivery stays due for the retry run
            session.rollback()
            log.exception("reply %s of conversation %d: sending failed; left for the retry run",
                          inter.external_id, conversation_id)
    forget_counts()
    return detail(session, shop, conversation_id, settings=settings, viewer=agent)


def assign(session: Session, shop: m.Shop, conversation_id: int, assignee: str | None, *,
           settings: Settings | None = None, actor: str | None = None) -> s.ConversationDetail:
    """Give the conversation to a user of the shop (None: unassign); any other name is a ValidationError."""
    name = check_assignee(session, assignee)
    care_inbox.assign(session, shop.name, conversation_id, name)
    if actor is not None:
        auth.audit(session, actor, "conversation_assigned", target=str(conversation_id), shop=shop.name,
                   detail={"assignee": name})
    session.commit()
    forget_counts()
    return detail(session, shop, conversation_id, settings=settings, viewer=actor)


def resolve(session: Session, settings: Settings, shop: m.Shop, conversation_id: int, *,
            actor: str | None = None) -> s.ConversationDetail:
    care_inbox.resolve(session, shop.name, conversation_id, settings=settings)
    session.commit()
    forget_counts()
    return detail(session, shop, conversation_id, settings=settings, viewer=actor)


def reopen(session: Session, settings: Settings, shop: m.Shop, conversation_id: int, *,
           actor: str | None = None) -> s.ConversationDetail:
    """Open a resolved conversation again (CareError when it is not resolved)."""
    care_inbox.reopen(session, shop.name, conversation_id)
    if actor is not None:
        auth.audit(session, actor, "conversation_reopened", target=str(conversation_id), shop=shop.name)
    session.commit()
    forget_counts()
    return detail(session, shop, conversation_id, settings=settings, viewer=actor)


def bulk(session: Session, settings: Settings, shop: m.Shop, body: s.BulkAction, *, actor: str) -> s.BulkResult:
    """Assign or resolve several conversations of the shop in one transaction (all or none: an unknown id
    or assignee fails the whole request)."""
    ids = list(dict.fromkeys(body.ids))
    for cid in ids:
        care_inbox.get_conversation(session, shop.name, cid)
    if body.action == "assign":
        name = check_assignee(session, body.assignee)
        for cid in ids:
            care_inbox.assign(session, shop.name, cid, name)
    else:
        for cid in ids:
            care_inbox.resolve(session, shop.name, cid, settings=settings)
    auth.audit(session, actor, f"conversations_bulk_{body.action}", shop=shop.name,
               detail={"ids": ids, "assignee": body.assignee})
    session.commit()
    forget_counts()
    return s.BulkResult(action=body.action, done=ids)


def add_note(session: Session, settings: Settings, shop: m.Shop, conversation_id: int, body: str, *,
             actor: str) -> s.ConversationDetail:
    """An internal note on the conversation (never sent), audited."""
    conv = care_inbox.get_conversation(session, shop.name, conversation_id)
    note = workspace.add_note(session, conv.id, actor, body)
    auth.audit(session, actor, "conversation_note", target=str(conv.id), shop=shop.name, detail={"note": note.id})
    session.commit()
    return detail(session, shop, conversation_id, settings=settings, viewer=actor)


def replying(session: Session, settings: Settings, shop: m.Shop, conversation_id: int, agent: str) -> list[str]:
    """Renew ``agent``'s replying marker on the conversation; the other agents replying to it now."""
    conv = care_inbox.get_conversation(session, shop.name, conversation_id)
    workspace.mark_replying(session, conv.id, agent)
    session.commit()
    return workspace.others_replying(session, conv.id, agent, care_settings(settings).replying_marker_seconds)


