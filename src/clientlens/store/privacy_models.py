"""ORM models of erasure that sticks (migration 0009): the store's secrets (the tombstone salt),
tombstones of erased customers, and the registry of files the project wrote with customer data."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import DateTime, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from clientlens.store.models import Base


class StoreSecret(Base):
    """A secret of this store, e.g. ``erasure_salt`` (created by migration 0009, random per store)."""

    __tablename__ = "store_secrets"
    name: Mapped[str] = mapped_column(String(50), primary_key=True)
    value: Mapped[str] = mapped_column(String(200))


class ErasureTombstone(Base):
    """An erased customer's identifier, kept only as a salted SHA-256 of its normalised form
    (``kind``: email, phone (E.164) or external_id), so a later import or call can recognise it."""

    __tablename__ = "erasure_tombstones"
    __table_args__ = (UniqueConstraint("shop_id", "kind", "digest", name="uq_erasure_tombstones_key"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    shop_id: Mapped[int] = mapped_column(ForeignKey("shops.id", ondelete="CASCADE"), index=True)
    kind: Mapped[str] = mapped_column(String(20))
    digest: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(DateTime)


class WrittenFile(Base):
    """A file the project wrote holding customer data (quarantine files), wherever it was written,
    so that erasure can scrub it."""

    __tablename__ = "written_files"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    kind: Mapped[str] = mapped_column(String(30))  # quarantine
    path: Mapped[str] = mapped_column(Text)  # absolute
    created_at: Mapped[datetime] = mapped_column(DateTime)
