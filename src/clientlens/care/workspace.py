"""The agent's workspace around a conversation: internal notes (never sent), "who is replying"
markers, and the SLA countdown in business hours. Every function takes a Session and flushes."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from clientlens.care.business_time import business_hours_between
from clientlens.config import ShopSettings
from clientlens.errors import CareError
from clientlens.store.repository import utcnow
from clientlens.store.workspace_models import ConversationNote, ReplyingMarker

NOTE_MAX = 10_000
# Beyond this calendar distance from the due time the countdown is in calendar days (counting business
# hours over months of windows per row would cost the page its speed and says nothing more).
COUNTDOWN_HORIZON = timedelta(days=14)


def add_note(session: Session, conversation_id: int, author: str, body: str,
             now: datetime | None = None) -> ConversationNote:
    """An internal note on a conversation (the caller checked the conversation belongs to the shop)."""
    text = body.strip()
    if not text:
        raise CareError("note: the body is empty")
    if len(text) > NOTE_MAX:
        raise CareError(f"note: the body has {len(text)} characters, at most {NOTE_MAX}")
    note = ConversationNote(conversation_id=conversation_id, author=author, body=text, created_at=now or utcnow())
    session.add(note)
    session.flush()
    return note


def notes_of(session: Session, conversation_id: int) -> list[ConversationNote]:
    """The notes of a conversation, oldest first."""
    return list(session.scalars(select(ConversationNote).where(ConversationNote.conversation_id == conversation_id)
                                .order_by(ConversationNote.created_at, ConversationNote.id)))


def mark_replying(session: Session, conversation_id: int, agent: str, now: datetime | None = None) -> None:
    """Record that ``agent`` is writing a reply now (renewed by each call)."""
    now = now or utcnow()
    marker = session.get(ReplyingMarker, (conversation_id, agent))
    if marker is None:
        session.add(ReplyingMarker(conversation_id=conversation_id, agent=agent, at=now))
    else:
        marker.at = now
    session.flush()


def clear_replying(session: Session, conversation_id: int, agent: str) -> None:
    """``agent`` stopped replying (sent the reply)."""
    session.execute(delete(ReplyingMarker).where(ReplyingMarker.conversation_id == conversation_id,
                                                 ReplyingMarker.agent == agent))
    session.flush()


def others_replying(session: Session, conversation_id: int, agent: str, max_age_seconds: float,
                    now: datetime | None = None) -> list[str]:
    """The other agents whose marker on the conversation is younger than ``max_age_seconds``."""
    since = (now or utcnow()) - timedelta(seconds=max_age_seconds)
    return list(session.scalars(select(ReplyingMarker.agent).where(
        ReplyingMarker.conversation_id == conversation_id, ReplyingMarker.agent != agent,
        ReplyingMarker.at >= since).order_by(ReplyingMarker.agent)))


def countdown(due: datetime | None, now: datetime, shop: ShopSettings) -> tuple[float, str] | None:
    """(amount, unit) to the due time: positive while due, negative once breached; unit ``h`` (business
    hours) near the due time, ``d`` (calendar days) beyond ``COUNTDOWN_HORIZON``. None without a due time."""
    if due is None:
        return None
    if abs(due - now) > COUNTDOWN_HORIZON:
        return (due - now).total_seconds() / 86400.0, "d"
    if due >= now:
        return business_hours_between(now, due, shop), "h"
    return -business_hours_between(due, now, shop), "h"
