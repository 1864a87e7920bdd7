"""ORM model of the messages received through the inbound endpoints (migration 0013).

``inbound_messages``: one row per interaction that arrived through ``POST .../interactions`` or
``POST .../inbound/email``, with what threading and idempotency need: the message id (an e-mail's
Message-ID without its angle brackets, or the JSON item's interaction id), the ids it answers
(In-Reply-To, References), the sender's address, how the sender was matched to a profile and how the
message was threaded into its conversation. The text itself stays on the interaction.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import DateTime, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from clientlens.store.models import Base

#: How the sender of an inbound message was matched to a profile.
MATCHED_BY = ("customer_id", "email", "phone", "new_profile")
#: How an inbound message found its conversation.
THREADED_BY = ("thread_id", "in_reply_to", "references", "subject", "new")
#: The longest message id kept as it is (RFC 5322 allows 998 characters a line; real ones are < 250).
MESSAGE_ID_MAX = 500


class InboundMessage(Base):
    """An interaction received through an inbound endpoint, with its message id and threading headers."""

    __tablename__ = "inbound_messages"
    __table_args__ = (UniqueConstraint("shop_id", "message_id", name="uq_inbound_messages_shop_message"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    shop_id: Mapped[int] = mapped_column(ForeignKey("shops.id", ondelete="CASCADE"), index=True)
    interaction_id: Mapped[int] = mapped_column(ForeignKey("interactions.id", ondelete="CASCADE"), unique=True)
    message_id: Mapped[str] = mapped_column(String(MESSAGE_ID_MAX))
    in_reply_to: Mapped[str | None] = mapped_column(String(MESSAGE_ID_MAX))
    references: Mapped[str | None] = mapped_column(Text)  # space-separated message ids, oldest first
    source: Mapped[str] = mapped_column(String(10))  # api | email
    sender: Mapped[str | None] = mapped_column(String(320))  # normalised e-mail or E.164 phone, if given
    matched_by: Mapped[str] = mapped_column(String(20))
    threaded_by: Mapped[str] = mapped_column(String(20))
    received_at: Mapped[datetime] = mapped_column(DateTime)
