"""ORM models of the care layer (conversations, surveys, campaigns, send log); migration 0002.

- ``care_conversations``: interactions grouped by thread, with status, assignee, priority and SLA due
  times (UTC, naive like every time in the store).
- ``care_conversation_messages``: which interactions belong to which conversation.
- ``care_surveys``: CSAT / NPS surveys queued when a conversation is resolved.
- ``care_messages``: the send log of campaigns; one row per (campaign, customer, channel) keyed by a
  stable Message-ID, so that sending is resumable and a message recorded as sent never goes again.
- ``care_unsubscribe_tokens``: the random token of each unsubscribe link.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, DateTime, Float, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from clientlens.store.models import Base

CONVERSATION_STATUSES = ("new", "open", "waiting_on_customer", "resolved")
MESSAGE_STATUSES = ("pending", "in_flight", "sent", "skipped", "failed")


class Conversation(Base):
    """A thread of interactions with one customer on one channel."""

    __tablename__ = "care_conversations"
    __table_args__ = (
        UniqueConstraint("shop_id", "thread_key", name="uq_care_conversations_shop_thread"),
        Index("ix_care_conversations_shop_status", "shop_id", "status"),
    )
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    shop_id: Mapped[int] = mapped_column(ForeignKey("shops.id", ondelete="CASCADE"), index=True)
    customer_id: Mapped[int] = mapped_column(ForeignKey("customers.id", ondelete="CASCADE"), index=True)
    # The interactions' thread_id, or "interaction:<external id>" for a message without a thread.
    thread_key: Mapped[str] = mapped_column(String(200))
    channel: Mapped[str] = mapped_column(String(20))
    subject: Mapped[str | None] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(30), default="new")
    assignee: Mapped[str | None] = mapped_column(String(200))
    priority: Mapped[int] = mapped_column(Integer, default=0)  # higher = answered first
    priority_reason: Mapped[str | None] = mapped_column(Text)
    opened_at: Mapped[datetime] = mapped_column(DateTime)
    last_message_at: Mapped[datetime] = mapped_column(DateTime)
    first_response_at: Mapped[datetime | None] = mapped_column(DateTime)
    resolved_at: Mapped[datetime | None] = mapped_column(DateTime)
    first_response_due: Mapped[datetime | None] = mapped_column(DateTime)
    resolution_due: Mapped[datetime | None] = mapped_column(DateTime)
    updated_at: Mapped[datetime] = mapped_column(DateTime)
    # The triage of the newest inbound message (care.triage) and the priority's reason as data
    # ({"priority": n, "parts": [{"key": ..., "params": {...}}]}, rendered by care.priority); migration 0014.
    language: Mapped[str | None] = mapped_column(String(8))
    topic: Mapped[str | None] = mapped_column(String(30))
    topic_confidence: Mapped[float | None] = mapped_column(Float)
    sentiment: Mapped[str | None] = mapped_column(String(10))
    sentiment_score: Mapped[float | None] = mapped_column(Float)
    urgency: Mapped[str | None] = mapped_column(String(10))
    triaged_message_at: Mapped[datetime | None] = mapped_column(DateTime)
    priority_reason_data: Mapped[dict[str, Any] | None] = mapped_column(JSON)


# The inbox queue in its listing order (care.inbox.list_conversations: priority, due times first, due
# time, id), the status last so that each view's filter is tested in the index; migration 0008.
Index("ix_care_conversations_queue", Conversation.shop_id, Conversation.priority.desc(),
      Conversation.first_response_due.is_(None), Conversation.first_response_due, Conversation.id,
      Conversation.status)


class ConversationMessage(Base):
    """One interaction of a conversation (the interaction holds the text)."""

    __tablename__ = "care_conversation_messages"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    conversation_id: Mapped[int] = mapped_column(ForeignKey("care_conversations.id", ondelete="CASCADE"),
                                                 index=True)
    interaction_id: Mapped[int] = mapped_column(ForeignKey("interactions.id", ondelete="CASCADE"),
                                                unique=True)
    direction: Mapped[str] = mapped_column(String(10))
    occurred_at: Mapped[datetime] = mapped_column(DateTime)


class Survey(Base):
    """A CSAT or NPS survey queued for a customer (after a resolved conversation)."""

    __tablename__ = "care_surveys"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    shop_id: Mapped[int] = mapped_column(ForeignKey("shops.id", ondelete="CASCADE"), index=True)
    customer_id: Mapped[int] = mapped_column(ForeignKey("customers.id", ondelete="CASCADE"), index=True)
    conversation_id: Mapped[int | None] = mapped_column(
        ForeignKey("care_conversations.id", ondelete="SET NULL"), index=True)
    kind: Mapped[str] = mapped_column(String(10))  # csat | nps
    status: Mapped[str] = mapped_column(String(20), default="queued")  # queued | sent | answered
    queued_at: Mapped[datetime] = mapped_column(DateTime)
    sent_at: Mapped[datetime | None] = mapped_column(DateTime)
    feedback_id: Mapped[int | None] = mapped_column(ForeignKey("feedback.id", ondelete="SET NULL"))


class CareMessage(Base):
    """The send log: one outgoing campaign message, from planned to sent."""

    __tablename__ = "care_messages"
    __table_args__ = (
        Index("ix_care_messages_shop_campaign", "shop_id", "campaign"),
        Index("ix_care_messages_customer_time", "customer_id", "sent_at"),
    )
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    shop_id: Mapped[int] = mapped_column(ForeignKey("shops.id", ondelete="CASCADE"), index=True)
    customer_id: Mapped[int] = mapped_column(ForeignKey("customers.id", ondelete="CASCADE"))
    campaign: Mapped[str] = mapped_column(String(200))
    channel: Mapped[str] = mapped_column(String(20))
    # Stable: derived from shop + campaign + customer + channel; the receiver drops duplicates by it.
    message_id: Mapped[str] = mapped_column(String(300), unique=True)
    language: Mapped[str | None] = mapped_column(String(20))
    recipient: Mapped[str | None] = mapped_column(Text)
    subject: Mapped[str | None] = mapped_column(Text)
    body: Mapped[str | None] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(20), default="pending")
    created_at: Mapped[datetime] = mapped_column(DateTime)
    attempted_at: Mapped[datetime | None] = mapped_column(DateTime)
    sent_at: Mapped[datetime | None] = mapped_column(DateTime)
    receipt: Mapped[str | None] = mapped_column(Text)  # JSON from the sender
    error: Mapped[str | None] = mapped_column(Text)


class UnsubscribeToken(Base):
    """The token of an unsubscribe link: following it withdraws consent for one channel."""

    __tablename__ = "care_unsubscribe_tokens"
    token: Mapped[str] = mapped_column(String(64), primary_key=True)
    shop_id: Mapped[int] = mapped_column(ForeignKey("shops.id", ondelete="CASCADE"), index=True)
    customer_id: Mapped[int] = mapped_column(ForeignKey("customers.id", ondelete="CASCADE"), index=True)
    channel: Mapped[str] = mapped_column(String(20))
    created_at: Mapped[datetime] = mapped_column(DateTime)
    used_at: Mapped[datetime | None] = mapped_column(DateTime)

# The inbound messages' table lives beside these (registered with the same metadata).
from clientlens.store import (  # noqa: E402, F401
    canned_models,
    delivery_models,
    inbound_models,
    triage_models,
    workspace_models,
)
