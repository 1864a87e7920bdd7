"""ORM model of the delivery of outbound replies (migration 0012).

``outbound_deliveries``: one row per agent reply (an outbound interaction), queued in the same
transaction as the reply and sent after the commit (``clientlens.care.outbound``). Its Message-ID is
fixed when the row is written, so every attempt carries the same one (a retry is never a second
message). States:

- ``queued``: written with the reply, not tried yet;
- ``sending``: claimed by one process (``claim_token``, ``claimed_at``); a claim older than
  ``[care.outbound] claim_timeout_seconds`` may be taken over (the process died);
- ``sent``: the provider accepted it (``sent_at``, the sender's receipt);
- ``retrying``: the last attempt failed (``reason``); tried again from ``next_attempt_at``;
- ``failed``: refused for good (no consent, erased, no address, no written channel) or out of
  attempts; ``reason`` says why.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import DateTime, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from clientlens.store.models import Base

DELIVERY_STATES = ("queued", "sending", "sent", "retrying", "failed")
#: States a delivery run picks up (when due).
DUE_STATES = ("queued", "retrying")


class OutboundDelivery(Base):
    """The delivery of one outbound reply on its conversation's channel."""

    __tablename__ = "outbound_deliveries"
    __table_args__ = (Index("ix_outbound_deliveries_due", "state", "next_attempt_at"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    shop_id: Mapped[int] = mapped_column(ForeignKey("shops.id", ondelete="CASCADE"), index=True)
    conversation_id: Mapped[int] = mapped_column(ForeignKey("care_conversations.id", ondelete="CASCADE"),
                                                 index=True)
    interaction_id: Mapped[int] = mapped_column(ForeignKey("interactions.id", ondelete="CASCADE"), unique=True)
    customer_id: Mapped[int] = mapped_column(ForeignKey("customers.id", ondelete="CASCADE"), index=True)
    channel: Mapped[str] = mapped_column(String(20))  # the channel it is sent on
    # Stable for the reply's whole life: every attempt sends this id (receivers drop duplicates by it).
    message_id: Mapped[str] = mapped_column(String(300), unique=True)
    in_reply_to: Mapped[str | None] = mapped_column(String(500))  # the customer's message answered
    references: Mapped[str | None] = mapped_column(Text)  # message ids of the thread, oldest first
    state: Mapped[str] = mapped_column(String(20), default="queued")
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    reason: Mapped[str | None] = mapped_column(Text)  # why the last attempt failed
    created_at: Mapped[datetime] = mapped_column(DateTime)
    next_attempt_at: Mapped[datetime | None] = mapped_column(DateTime)
    claimed_at: Mapped[datetime | None] = mapped_column(DateTime)
    claim_token: Mapped[str | None] = mapped_column(String(32))
    sent_at: Mapped[datetime | None] = mapped_column(DateTime)
    sender: Mapped[str | None] = mapped_column(String(20))
    receipt: Mapped[str | None] = mapped_column(Text)
