"""Conversations: interactions grouped by thread, ordered by SLA urgency; reply, assign, resolve.

The state of a conversation (assignee, open / resolved) is kept in ``web_conversation_states``
until the care layer keeps its own; the first-response SLA comes from ``[web]
fallback_first_response_hours`` (the care layer's SLA rules replace it once wired in).
"""

from __future__ import annotations

import uuid
from collections import defaultdict
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from clientlens.api import schemas as s
from clientlens.api.config import WebSettings
from clientlens.api.services.customers import interaction_read
from clientlens.errors import NotFoundError
from clientlens.store import auth_models as am
from clientlens.store import models as m
from clientlens.store.repository import utcnow


def _thread_key(i: m.Interaction) -> str:
    return i.thread_id or i.external_id


def _due(cfg: WebSettings, shop: m.Shop, channel: str, since: datetime) -> datetime:
    return since + timedelta(hours=cfg.fallback_first_response_hours)


def _summaries(session: Session, cfg: WebSettings, shop: m.Shop, where: list[Any]) -> list[s.ConversationRead]:
    rows = session.execute(select(m.Interaction, m.Customer.external_id, m.Customer.name)
                           .join(m.Customer, m.Customer.id == m.Interaction.customer_id)
                           .where(m.Interaction.shop_id == shop.id, *where)
                           .order_by(m.Interaction.occurred_at, m.Interaction.id)).all()
    threads: dict[str, list[tuple[m.Interaction, str, str | None]]] = defaultdict(list)
    for i, ext, name in rows:
        threads[_thread_key(i)].append((i, ext, name))
    states = {st.thread_id: st for st in session.scalars(
        select(am.ConversationState).where(am.ConversationState.shop_id == shop.id,
                                           am.ConversationState.thread_id.in_(list(threads))))} if threads else {}
    now = utcnow()
    out = []
    for key, items in threads.items():
        first, ext, name = items[0]
        waiting: datetime | None = None
        for i, _, _ in items:
            if i.direction == "outbound":
                waiting = None
            elif waiting is None:
                waiting = i.occurred_at
        st = states.get(key)
        status = st.status if st else "open"
        due = _due(cfg, shop, first.channel, waiting) if waiting is not None and status == "open" else None
        out.append(s.ConversationRead(
            thread_id=key, customer_id=ext, customer_name=name, channel=first.channel,
            subject=next((i.subject for i, _, _ in items if i.subject), None), status=status,
            assignee=st.assignee if st else None, opened_at=first.occurred_at, last_message_at=items[-1][0].occurred_at,
            messages=len(items), waiting_since=waiting, sla_due_at=due, sla_breached=bool(due and due < now)))
    return out


def urgency_key(c: s.ConversationRead) -> tuple[int, datetime]:
    """Open conversations awaiting a reply first (earliest SLA deadline first), then the rest, newest first."""
    if c.status == "open" and c.sla_due_at is not None:
        return (0, c.sla_due_at)
    if c.status == "open":
        return (1, datetime.max - (c.last_message_at - datetime.min))
    return (2, datetime.max - (c.last_message_at - datetime.min))


def inbox(session: Session, cfg: WebSettings, shop: m.Shop, *, status: str | None = "open",
          assignee: str | None = None, limit: int = 50, offset: int = 0) -> s.Page[s.ConversationRead]:
    """Conversations of a shop ordered by SLA urgency."""
    items = _summaries(session, cfg, shop, [])
    if status:
        items = [c for c in items if c.status == status]
    if assignee:
        items = [c for c in items if c.assignee == assignee]
    items.sort(key=urgency_key)
    return s.Page[s.ConversationRead](data=items[offset:offset + limit], count=len(items))


def of_customer(session: Session, cfg: WebSettings, shop: m.Shop, customer_pk: int) -> list[s.ConversationRead]:
    items = _summaries(session, cfg, shop, [m.Interaction.customer_id == customer_pk])
    return sorted(items, key=urgency_key)


def _thread_where(thread_id: str) -> Any:
    return (m.Interaction.thread_id == thread_id) | ((m.Interaction.thread_id.is_(None))
                                                    & (m.Interaction.external_id == thread_id))


def detail(session: Session, cfg: WebSettings, shop: m.Shop, thread_id: str) -> s.ConversationDetail:
    found = _summaries(session, cfg, shop, [_thread_where(thread_id)])
    if not found:
        raise NotFoundError(f"conversation {thread_id!r} does not exist in shop {shop.name!r}")
    rows = session.execute(select(m.Interaction, m.Customer.external_id)
                           .join(m.Customer, m.Customer.id == m.Interaction.customer_id)
                           .where(m.Interaction.shop_id == shop.id, _thread_where(thread_id))
                           .order_by(m.Interaction.occurred_at, m.Interaction.id)).all()
    return s.ConversationDetail(**found[0].model_dump(), history=[interaction_read(i, ext) for i, ext in rows])


def _state(session: Session, shop: m.Shop, thread_id: str) -> am.ConversationState:
    st = session.scalar(select(am.ConversationState).where(am.ConversationState.shop_id == shop.id,
                                                           am.ConversationState.thread_id == thread_id))
    if st is None:
        st = am.ConversationState(shop_id=shop.id, thread_id=thread_id, status="open", updated_at=utcnow())
        session.add(st)
    return st


def _last(session: Session, shop: m.Shop, thread_id: str) -> m.Interaction:
    last = session.scalar(select(m.Interaction).where(m.Interaction.shop_id == shop.id, _thread_where(thread_id))
                          .order_by(m.Interaction.occurred_at.desc(), m.Interaction.id.desc()).limit(1))
    if last is None:
        raise NotFoundError(f"conversation {thread_id!r} does not exist in shop {shop.name!r}")
    return last


def reply(session: Session, cfg: WebSettings, shop: m.Shop, thread_id: str, body: str, agent: str,
          subject: str | None = None) -> s.ConversationDetail:
    """Record an outbound reply in the thread (sent through care's sender when care provides one)."""
    last = _last(session, shop, thread_id)
    session.add(m.Interaction(shop_id=shop.id, external_id=f"web-{uuid.uuid4().hex}", customer_id=last.customer_id,
                              channel=last.channel, direction="outbound", occurred_at=utcnow(),
                              thread_id=last.thread_id or last.external_id,
                              subject=subject or (f"Re: {last.subject}" if last.subject else None), body=body,
                              agent=agent))
    st = _state(session, shop, thread_id)
    if st.assignee is None:
        st.assignee = agent
    st.updated_at = utcnow()
    session.flush()
    return detail(session, cfg, shop, thread_id)


def assign(session: Session, cfg: WebSettings, shop: m.Shop, thread_id: str, assignee: str | None) -> s.ConversationDetail:
    _last(session, shop, thread_id)
    st = _state(session, shop, thread_id)
    st.assignee = assignee
    st.updated_at = utcnow()
    session.flush()
    return detail(session, cfg, shop, thread_id)


def set_status(session: Session, cfg: WebSettings, shop: m.Shop, thread_id: str, status: str) -> s.ConversationDetail:
    _last(session, shop, thread_id)
    st = _state(session, shop, thread_id)
    st.status = status
    st.updated_at = utcnow()
    session.flush()
    return detail(session, cfg, shop, thread_id)
