"""ORM models of the operational store (SQLAlchemy 2).

Every row belongs to a shop. Money is exact: integer minor units (``*_minor``) with the ISO 4217
currency beside it. Times are stored in UTC (naive ``DateTime`` holding UTC).
Schema changes go through Alembic migrations in ``store/migrations``.
"""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import (
    BigInteger,
    Boolean,
    Date,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    Numeric,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.dialects import postgresql
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

CONSENT_CHANNELS = ("email", "sms", "phone", "post", "chat", "social")


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)


class Shop(Base):
    __tablename__ = "shops"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(100), unique=True)
    created_at: Mapped[datetime] = mapped_column(DateTime)


class Customer(Base):
    __tablename__ = "customers"
    __table_args__ = (
        UniqueConstraint("shop_id", "external_id", name="uq_customers_shop_external"),
        Index("ix_customers_shop_email", "shop_id", "email_norm"),
        Index("ix_customers_shop_phone", "shop_id", "phone_e164"),
    )
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    shop_id: Mapped[int] = mapped_column(ForeignKey("shops.id", ondelete="CASCADE"), index=True)
    external_id: Mapped[str] = mapped_column(String(200))
    kind: Mapped[str | None] = mapped_column(String(20))
    name: Mapped[str | None] = mapped_column(Text)
    email: Mapped[str | None] = mapped_column(Text)
    email_norm: Mapped[str | None] = mapped_column(String(320))
    phone: Mapped[str | None] = mapped_column(String(100))
    phone_e164: Mapped[str | None] = mapped_column(String(32))
    birth_date: Mapped[date | None] = mapped_column(Date)
    gender: Mapped[str | None] = mapped_column(String(20))
    income_band: Mapped[str | None] = mapped_column(String(20))
    address: Mapped[str | None] = mapped_column(Text)
    city: Mapped[str | None] = mapped_column(Text)
    country: Mapped[str | None] = mapped_column(String(2))
    language: Mapped[str | None] = mapped_column(String(20))
    timezone: Mapped[str | None] = mapped_column(String(64))
    preferred_channel: Mapped[str | None] = mapped_column(String(20))
    # Current consent per channel: True given, False withdrawn, None never asked.
    consent_email: Mapped[bool | None] = mapped_column(Boolean)
    consent_sms: Mapped[bool | None] = mapped_column(Boolean)
    consent_phone: Mapped[bool | None] = mapped_column(Boolean)
    consent_post: Mapped[bool | None] = mapped_column(Boolean)
    consent_chat: Mapped[bool | None] = mapped_column(Boolean)
    consent_social: Mapped[bool | None] = mapped_column(Boolean)
    # Set when this profile was merged into another one (identity resolution); rows stay for undo.
    merged_into_id: Mapped[int | None] = mapped_column(ForeignKey("customers.id"), index=True)
    row_hash: Mapped[str | None] = mapped_column(String(32))
    # The signup date from the imported file (None: the profile exists from its first order).
    created_at: Mapped[datetime | None] = mapped_column(DateTime)
    updated_at: Mapped[datetime | None] = mapped_column(DateTime)
    imported_at: Mapped[datetime | None] = mapped_column(DateTime)  # first imported (migration 0011)


class ConsentEvent(Base):
    """History of consent: when and how it was given or withdrawn, per channel."""

    __tablename__ = "consent_events"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    shop_id: Mapped[int] = mapped_column(ForeignKey("shops.id", ondelete="CASCADE"), index=True)
    customer_id: Mapped[int] = mapped_column(ForeignKey("customers.id", ondelete="CASCADE"), index=True)
    channel: Mapped[str] = mapped_column(String(20))
    granted: Mapped[bool] = mapped_column(Boolean)
    at: Mapped[datetime] = mapped_column(DateTime)
    source: Mapped[str] = mapped_column(String(200))  # import:<file>, unsubscribe-link, reply, api, ...


class Product(Base):
    __tablename__ = "products"
    __table_args__ = (UniqueConstraint("shop_id", "external_id", name="uq_products_shop_external"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    shop_id: Mapped[int] = mapped_column(ForeignKey("shops.id", ondelete="CASCADE"), index=True)
    external_id: Mapped[str] = mapped_column(String(200))
    name: Mapped[str | None] = mapped_column(Text)
    category: Mapped[str | None] = mapped_column(String(200))
    price_minor: Mapped[int | None] = mapped_column(BigInteger)
    currency: Mapped[str | None] = mapped_column(String(3))
    launched_at: Mapped[date | None] = mapped_column(Date)
    row_hash: Mapped[str | None] = mapped_column(String(32))


class CustomerSearchTerm(Base):
    """One folded word of a customer's name (``store.search``): the index behind the accent-free name search."""

    __tablename__ = "customer_search_terms"
    shop_id: Mapped[int] = mapped_column(ForeignKey("shops.id", ondelete="CASCADE"), primary_key=True)
    # Compared bytewise (prefix ranges): SQLite's default collation, "C" on PostgreSQL.
    term: Mapped[str] = mapped_column(String(40).with_variant(postgresql.VARCHAR(40, collation="C"), "postgresql"),
                                      primary_key=True)
    customer_id: Mapped[int] = mapped_column(ForeignKey("customers.id", ondelete="CASCADE"), primary_key=True,
                                             index=True)


class Order(Base):
    __tablename__ = "orders"
    __table_args__ = (
        UniqueConstraint("shop_id", "external_id", name="uq_orders_shop_external"),
        Index("ix_orders_shop_customer_time", "shop_id", "customer_id", "ordered_at"),
    )
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    shop_id: Mapped[int] = mapped_column(ForeignKey("shops.id", ondelete="CASCADE"), index=True)
    # The given order id, or a stable key derived from the row's content and its occurrence number.
    external_id: Mapped[str] = mapped_column(String(200))
    customer_id: Mapped[int] = mapped_column(ForeignKey("customers.id", ondelete="CASCADE"), index=True)
    ordered_at: Mapped[datetime] = mapped_column(DateTime)
    channel: Mapped[str | None] = mapped_column(String(30))
    currency: Mapped[str] = mapped_column(String(3))
    total_minor: Mapped[int] = mapped_column(BigInteger)
    discount_minor: Mapped[int] = mapped_column(BigInteger, default=0)
    status: Mapped[str] = mapped_column(String(20), default="completed")
    row_hash: Mapped[str | None] = mapped_column(String(32))


class OrderLine(Base):
    __tablename__ = "order_lines"
    __table_args__ = (UniqueConstraint("shop_id", "external_id", name="uq_order_lines_shop_external"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    shop_id: Mapped[int] = mapped_column(ForeignKey("shops.id", ondelete="CASCADE"), index=True)
    external_id: Mapped[str] = mapped_column(String(200))  # derived: order id + content + occurrence
    order_id: Mapped[int] = mapped_column(ForeignKey("orders.id", ondelete="CASCADE"), index=True)
    product_id: Mapped[int] = mapped_column(ForeignKey("products.id"), index=True)
    quantity: Mapped[float] = mapped_column(Numeric(18, 3))
    unit_price_minor: Mapped[int] = mapped_column(BigInteger)
    discount_minor: Mapped[int] = mapped_column(BigInteger, default=0)
    is_new_arrival: Mapped[bool] = mapped_column(Boolean, default=False)
    row_hash: Mapped[str | None] = mapped_column(String(32))


class Interaction(Base):
    """One message or contact; the care layer groups them by thread into conversations."""

    __tablename__ = "interactions"
    __table_args__ = (
        UniqueConstraint("shop_id", "external_id", name="uq_interactions_shop_external"),
        Index("ix_interactions_shop_thread", "shop_id", "thread_id"),
    )
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    shop_id: Mapped[int] = mapped_column(ForeignKey("shops.id", ondelete="CASCADE"), index=True)
    external_id: Mapped[str] = mapped_column(String(200))
    customer_id: Mapped[int] = mapped_column(ForeignKey("customers.id", ondelete="CASCADE"), index=True)
    channel: Mapped[str] = mapped_column(String(20))
    direction: Mapped[str] = mapped_column(String(10), default="inbound")  # inbound | outbound
    occurred_at: Mapped[datetime] = mapped_column(DateTime)
    thread_id: Mapped[str | None] = mapped_column(String(200))
    subject: Mapped[str | None] = mapped_column(Text)
    body: Mapped[str | None] = mapped_column(Text)
    agent: Mapped[str | None] = mapped_column(String(200))
    row_hash: Mapped[str | None] = mapped_column(String(32))


class Feedback(Base):
    __tablename__ = "feedback"
    __table_args__ = (UniqueConstraint("shop_id", "external_id", name="uq_feedback_shop_external"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    shop_id: Mapped[int] = mapped_column(ForeignKey("shops.id", ondelete="CASCADE"), index=True)
    external_id: Mapped[str] = mapped_column(String(200))
    customer_id: Mapped[int] = mapped_column(ForeignKey("customers.id", ondelete="CASCADE"), index=True)
    kind: Mapped[str] = mapped_column(String(10))  # csat (1-5) | nps (0-10)
    score: Mapped[int] = mapped_column(Integer)
    comment: Mapped[str | None] = mapped_column(Text)
    submitted_at: Mapped[datetime] = mapped_column(DateTime)
    interaction_id: Mapped[int | None] = mapped_column(ForeignKey("interactions.id", ondelete="SET NULL"))
    row_hash: Mapped[str | None] = mapped_column(String(32))


class ExchangeRate(Base):
    __tablename__ = "exchange_rates"
    __table_args__ = (UniqueConstraint("shop_id", "date", "currency", name="uq_exchange_rates_key"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    shop_id: Mapped[int] = mapped_column(ForeignKey("shops.id", ondelete="CASCADE"), index=True)
    date: Mapped[date] = mapped_column(Date)
    currency: Mapped[str] = mapped_column(String(3))
    rate_to_reporting: Mapped[float] = mapped_column(Numeric(20, 10))


class ImportRun(Base):
    """One import of one file: what was read, inserted, updated, unchanged and rejected."""

    __tablename__ = "import_runs"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    shop_id: Mapped[int] = mapped_column(ForeignKey("shops.id", ondelete="CASCADE"), index=True)
    entity: Mapped[str] = mapped_column(String(30))
    source: Mapped[str] = mapped_column(Text)
    started_at: Mapped[datetime] = mapped_column(DateTime)
    finished_at: Mapped[datetime | None] = mapped_column(DateTime)
    counts: Mapped[str | None] = mapped_column(Text)  # JSON
    # finished (committed with its rows) or failed (rolled back whole; ``error`` says why).
    status: Mapped[str] = mapped_column(String(20), default="finished", server_default="finished")
    error: Mapped[str | None] = mapped_column(Text)


class Merge(Base):
    """Identity resolution: a merge done (or suggested), with what it changed, so it can be undone."""

    __tablename__ = "merges"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    shop_id: Mapped[int] = mapped_column(ForeignKey("shops.id", ondelete="CASCADE"), index=True)
    survivor_id: Mapped[int] = mapped_column(ForeignKey("customers.id", ondelete="CASCADE"), index=True)
    merged_id: Mapped[int] = mapped_column(ForeignKey("customers.id", ondelete="CASCADE"), index=True)
    status: Mapped[str] = mapped_column(String(20))  # suggested | accepted | undone | rejected | separated
    rule: Mapped[str] = mapped_column(String(50))  # email | phone | external_id | fuzzy_name_address
    score: Mapped[float | None] = mapped_column(Float)
    changes: Mapped[str | None] = mapped_column(Text)  # JSON: what the merge changed
    created_at: Mapped[datetime] = mapped_column(DateTime)
    decided_at: Mapped[datetime | None] = mapped_column(DateTime)


class Snapshot(Base):
    """One analysis run of a shop as of a date; re-running a date replaces it."""

    __tablename__ = "snapshots"
    __table_args__ = (UniqueConstraint("shop_id", "as_of", name="uq_snapshots_shop_as_of"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    shop_id: Mapped[int] = mapped_column(ForeignKey("shops.id", ondelete="CASCADE"), index=True)
    as_of: Mapped[date] = mapped_column(Date)
    created_at: Mapped[datetime] = mapped_column(DateTime)
    engine: Mapped[str] = mapped_column(String(20))
    run: Mapped[str | None] = mapped_column(Text)  # JSON run.json (config, versions, timings, pareto)


class SnapshotFeatures(Base):
    """Wide feature row per customer, kept as JSON so new features need no migration."""

    __tablename__ = "snapshot_features"
    snapshot_id: Mapped[int] = mapped_column(ForeignKey("snapshots.id", ondelete="CASCADE"), primary_key=True)
    customer_id: Mapped[str] = mapped_column(String(200), primary_key=True)  # external id
    data: Mapped[str] = mapped_column(Text)


class SnapshotLabel(Base):
    __tablename__ = "snapshot_labels"
    __table_args__ = (Index("ix_snapshot_labels_tax_label", "snapshot_id", "taxonomy", "label"),)
    snapshot_id: Mapped[int] = mapped_column(ForeignKey("snapshots.id", ondelete="CASCADE"), primary_key=True)
    customer_id: Mapped[str] = mapped_column(String(200), primary_key=True)
    taxonomy: Mapped[str] = mapped_column(String(50), primary_key=True)
    label: Mapped[str] = mapped_column(String(50), primary_key=True)
    rule_id: Mapped[str] = mapped_column(String(100))
    figures: Mapped[str] = mapped_column(Text)  # JSON object
    text: Mapped[str] = mapped_column(Text)


class SnapshotScore(Base):
    __tablename__ = "snapshot_scores"
    snapshot_id: Mapped[int] = mapped_column(ForeignKey("snapshots.id", ondelete="CASCADE"), primary_key=True)
    customer_id: Mapped[str] = mapped_column(String(200), primary_key=True)
    model: Mapped[str] = mapped_column(String(50))
    p_alive: Mapped[float | None] = mapped_column(Float)
    expected_purchases_90d: Mapped[float | None] = mapped_column(Float)
    expected_purchases_365d: Mapped[float | None] = mapped_column(Float)
    clv: Mapped[float | None] = mapped_column(Float)  # a prediction, not booked money
    expected_next_order: Mapped[date | None] = mapped_column(Date)
    next_products: Mapped[str | None] = mapped_column(Text)  # JSON list
    model_status: Mapped[str | None] = mapped_column(String(20))  # ok/regularised/fallback/empty (0006)
    # 80% intervals (clientlens.models.intervals; 0017)
    purchases_365d_low: Mapped[float | None] = mapped_column(Float)
    purchases_365d_high: Mapped[float | None] = mapped_column(Float)
    clv_low: Mapped[float | None] = mapped_column(Float)
    clv_high: Mapped[float | None] = mapped_column(Float)


class SnapshotSummary(Base):
    __tablename__ = "snapshot_summary"
    snapshot_id: Mapped[int] = mapped_column(ForeignKey("snapshots.id", ondelete="CASCADE"), primary_key=True)
    taxonomy: Mapped[str] = mapped_column(String(50), primary_key=True)
    label: Mapped[str] = mapped_column(String(50), primary_key=True)
    customers: Mapped[int] = mapped_column(Integer)
    customers_share: Mapped[float] = mapped_column(Float)
    revenue: Mapped[float] = mapped_column(Numeric(20, 4))
    revenue_share: Mapped[float] = mapped_column(Float)
