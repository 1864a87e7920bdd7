"""ORM models of the agent's workspace (migration 0015).

``care_conversation_notes``: internal notes agents write on a conversation; shown in its thread,
never sent to the customer. ``care_replying_markers``: who is writing a reply to a conversation and
when they last said so (a short-lived marker: the inbox shows other agents' markers younger than
``[care] replying_marker_seconds``).
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import DateTime, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from clientlens.store.models import Base


class ConversationNote(Base):
    """An internal note on a conversation."""

    __tablename__ = "care_conversation_notes"
    __table_args__ = (Index("ix_care_conversation_notes_conversation", "conversation_id", "created_at"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    conversation_id: Mapped[int] = mapped_column(ForeignKey("care_conversations.id", ondelete="CASCADE"))
    author: Mapped[str] = mapped_column(String(200))
    body: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(DateTime)


class ReplyingMarker(Base):
    """An agent writing a reply to a conversation, as of ``at``."""

    __tablename__ = "care_replying_markers"
    conversation_id: Mapped[int] = mapped_column(ForeignKey("care_conversations.id", ondelete="CASCADE"),
                                                 primary_key=True)
    agent: Mapped[str] = mapped_column(String(200), primary_key=True)
    at: Mapped[datetime] = mapped_column(DateTime)


def _filter_indexes() -> None:
    """The inbox filters' indexes on ``care_conversations`` (migration 0015)."""
    from clientlens.store.care_models import Conversation

    c = Conversation.__table__.c
    for name, column in (("assignee", c.assignee), ("channel", c.channel), ("topic", c.topic),
                         ("language", c.language)):
        Index(f"ix_care_conversations_shop_{name}", c.shop_id, column, c.status)


_filter_indexes()
