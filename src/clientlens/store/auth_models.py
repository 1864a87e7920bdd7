"""ORM models of the web layer (users, tokens, sessions, login attempts, audit log); migration 0003.

Also declares the few extra indexes the web app needs on store tables so the customer list stays
fast at a million customers (filtering by label, country or channel; sorting by CLV / P(alive)).
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, DateTime, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from clientlens.store.models import Base, Customer, SnapshotLabel, SnapshotScore

ROLES = ("admin", "analyst", "agent")


class User(Base):
    """A person who logs in to the web app; the password is an argon2 hash."""

    __tablename__ = "users"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(100), unique=True)
    role: Mapped[str] = mapped_column(String(20))  # admin | analyst | agent
    password_hash: Mapped[str] = mapped_column(String(200))
    language: Mapped[str | None] = mapped_column(String(10))
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(DateTime)
    last_login_at: Mapped[datetime | None] = mapped_column(DateTime)


class ApiToken(Base):
    """A bearer token for integrations; only its SHA-256 is kept."""

    __tablename__ = "api_tokens"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(100))
    role: Mapped[str] = mapped_column(String(20))
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    prefix: Mapped[str] = mapped_column(String(12))
    created_at: Mapped[datetime] = mapped_column(DateTime)
    last_used_at: Mapped[datetime | None] = mapped_column(DateTime)
    revoked_at: Mapped[datetime | None] = mapped_column(DateTime)


class WebSession(Base):
    """A logged-in browser session; the cookie holds a random token whose SHA-256 is the key."""

    __tablename__ = "web_sessions"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    csrf_token: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(DateTime)
    expires_at: Mapped[datetime] = mapped_column(DateTime)


class LoginAttempt(Base):
    """Every login attempt, for throttling (failures per user name and per address)."""

    __tablename__ = "login_attempts"
    __table_args__ = (Index("ix_login_attempts_name_at", "username", "at"), Index("ix_login_attempts_ip_at", "ip", "at"))
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    username: Mapped[str] = mapped_column(String(100))
    ip: Mapped[str] = mapped_column(String(64))
    at: Mapped[datetime] = mapped_column(DateTime)
    success: Mapped[bool] = mapped_column(Boolean)


class AuditEvent(Base):
    """Who did what: logins, exports, erasures, merges, role changes."""

    __tablename__ = "audit_log"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    at: Mapped[datetime] = mapped_column(DateTime, index=True)
    actor: Mapped[str] = mapped_column(String(120))
    action: Mapped[str] = mapped_column(String(50))
    target: Mapped[str | None] = mapped_column(String(300))
    shop: Mapped[str | None] = mapped_column(String(100))
    detail: Mapped[str | None] = mapped_column(Text)  # JSON


# Indexes on store tables for the customer list at 1M customers (created by migrations 0003 to 0005).
Index("ix_customers_shop_country", Customer.shop_id, Customer.country, Customer.id)
Index("ix_customers_shop_channel", Customer.shop_id, Customer.preferred_channel, Customer.id)
Index("ix_customers_shop_name", Customer.shop_id, Customer.name)  # migration 0005: sort by name
Index("ix_customers_shop_created_at", Customer.shop_id, Customer.created_at)  # 0005: sort by creation date
Index("ix_snapshot_scores_clv", SnapshotScore.snapshot_id, SnapshotScore.clv)
Index("ix_snapshot_scores_p_alive", SnapshotScore.snapshot_id, SnapshotScore.p_alive)
Index("ix_snapshot_scores_expected_purchases_365d", SnapshotScore.snapshot_id,  # migration 0004
      SnapshotScore.expected_purchases_365d)
Index("ix_snapshot_labels_tax_label_customer", SnapshotLabel.snapshot_id, SnapshotLabel.taxonomy,
      SnapshotLabel.label, SnapshotLabel.customer_id)

# The privacy tables live beside these (registered with the same metadata wherever auth models are).
from clientlens.store import privacy_models  # noqa: E402, F401
