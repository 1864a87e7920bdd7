"""ORM model of the triage of each inbound message (migration 0014).

``care_message_triage``: one row per triaged inbound interaction (care.triage): detected language,
topic with the classifier's confidence, sentiment with its score (P(positive) - P(negative)) and
urgency. The conversation carries the triage of its newest inbound message (``care_conversations``).
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import DateTime, Float, ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column

from clientlens.store.models import Base


class MessageTriage(Base):
    """The triage of one inbound interaction."""

    __tablename__ = "care_message_triage"
    interaction_id: Mapped[int] = mapped_column(ForeignKey("interactions.id", ondelete="CASCADE"),
                                                primary_key=True)
    language: Mapped[str] = mapped_column(String(8))
    topic: Mapped[str] = mapped_column(String(30))
    topic_confidence: Mapped[float] = mapped_column(Float)
    sentiment: Mapped[str] = mapped_column(String(10))
    sentiment_score: Mapped[float] = mapped_column(Float)
    urgency: Mapped[str] = mapped_column(String(10))
    triaged_at: Mapped[datetime] = mapped_column(DateTime)
