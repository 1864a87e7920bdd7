"""ORM model of the shops' canned replies (migration 0016).

``canned_replies``: a reply text an agent starts from, per shop, language (``en``, ``vi``, ``pl``,
``fr``...) and triage topic (``care.canned.TOPICS``). The body is a Jinja2 template rendered in a
sandbox (``care.suggest``). A shop without any of its own uses the packaged defaults
(``clientlens/care/canned_replies.toml``); the first reply it writes for a language and topic replaces
the default of that pair.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, DateTime, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from clientlens.store.models import Base


class CannedReply(Base):
    """One canned reply of a shop for a language and a topic."""

    __tablename__ = "canned_replies"
    __table_args__ = (
        UniqueConstraint("shop_id", "language", "topic", "name", name="uq_canned_replies_shop_lang_topic_name"),
        Index("ix_canned_replies_shop_lang_topic", "shop_id", "language", "topic"),
    )
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    shop_id: Mapped[int] = mapped_column(ForeignKey("shops.id", ondelete="CASCADE"), index=True)
    language: Mapped[str] = mapped_column(String(8))
    topic: Mapped[str] = mapped_column(String(30))
    name: Mapped[str] = mapped_column(String(200))
    body: Mapped[str] = mapped_column(Text)
    # Of a language and topic's active replies, the highest priority is suggested (then the newest).
    priority: Mapped[int] = mapped_column(Integer, default=0)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(DateTime)
    updated_at: Mapped[datetime] = mapped_column(DateTime)
    updated_by: Mapped[str | None] = mapped_column(String(200))
