"""The loader seam of the customer read model: every row the care layer needs of one customer.

``load_customer_rows`` reads them; the read model's calculations (``timeline.timeline_events``,
``loyalty.loyalty_of``, ``facts.customer_facts``) are plain functions over these rows, so every
surface (API, web, CLI, playbooks, campaigns) computes each figure the same way.

Two loaders return the same rows (``tests/care/test_read_model.py`` checks it):

- ``load_per_table``: one indexed Core statement per table (every backend);
- ``load_single_statement``: every section as a ``json_agg`` scalar subquery of one statement
  (PostgreSQL), decoded back into rows with the driver's Python types. On PostgreSQL each statement
  costs a round trip plus about 0.2 ms of client CPU, so one statement instead of ten is most of a
  360's cost.
"""

from __future__ import annotations

from collections import namedtuple
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, time
from functools import lru_cache
from typing import Any

from sqlalchemy import Boolean, Date, DateTime, Float, and_, bindparam, func, select, text
from sqlalchemy.orm import Session

from clientlens.store import models as m
from clientlens.store.care_models import CareMessage, Conversation, ConversationMessage, Survey
from clientlens.store.repository import current_snapshot_id

ORDERS = m.Order.__table__
CONVERSATIONS = Conversation.__table__
INTERACTIONS = m.Interaction.__table__
CONV_MESSAGES = ConversationMessage.__table__
FEEDBACK = m.Feedback.__table__
CARE_MESSAGES = CareMessage.__table__
SURVEYS = Survey.__table__
CONSENTS = m.ConsentEvent.__table__
SNAPSHOTS = m.Snapshot.__table__
LABELS = m.SnapshotLabel.__table__
SCORES = m.SnapshotScore.__table__
CUSTOMERS = m.Customer.__table__

# The sections read per customer (bound ``pk``).
PER_CUSTOMER = ("orders", "conversations", "interactions", "feedback", "care_messages", "surveys", "consents")


@dataclass(frozen=True)
class SnapshotRef:
    """A shop's current snapshot: what the read model needs of it (not its large ``run`` document)."""

    id: int
    as_of: date
    created_at: datetime


LabelHistory = list[tuple[datetime, dict[str, set[str]]]]


@dataclass
class CustomerRows:
    """Every row of one customer the read model uses, read once."""

    snapshot: SnapshotRef | None
    labels: list[Any]  # rows of the current snapshot, ordered by taxonomy, label
    score: Any  # the snapshot_scores row or None
    history: LabelHistory  # per snapshot (oldest first): labels by taxonomy
    orders: list[Any] = field(default_factory=list)
    conversations: list[Any] = field(default_factory=list)
    interactions: list[Any] = field(default_factory=list)
    feedback: list[Any] = field(default_factory=list)
    care_messages: list[Any] = field(default_factory=list)
    surveys: list[Any] = field(default_factory=list)
    consents: list[Any] = field(default_factory=list)
    merged_from: list[str] = field(default_factory=list)

    def comparable(self) -> tuple[Any, ...]:
        """Every section as sorted plain tuples (the two loaders' rows compare equal through this)."""
        def rows(items: Sequence[Any]) -> list[tuple[Any, ...]]:
            return sorted((tuple(r) for r in items), key=repr)

        score = tuple(self.score) if self.score is not None else None
        return (self.snapshot, rows(self.labels), score, self.history,
                *(rows(getattr(self, name)) for name in PER_CUSTOMER), sorted(self.merged_from))


@lru_cache(maxsize=1)
def statements() -> dict[str, Any]:
    """Every statement, built once with bound parameters (``shop``, ``pk``, ``ext``, ``snap``).

    Building a statement costs more than running it on an indexed lookup; built once, SQLAlchemy
    also reuses its compiled form.
    """
    shop: Any = bindparam("shop")
    pk: Any = bindparam("pk")
    ext: Any = bindparam("ext")
    snap: Any = bindparam("snap")
    i = INTERACTIONS.c
    return {
        "snapshot_labels": select(SNAPSHOTS.c.id.label("sid"), SNAPSHOTS.c.as_of, SNAPSHOTS.c.created_at,
                                  LABELS.c.taxonomy, LABELS.c.label, LABELS.c.rule_id, LABELS.c.figures, LABELS.c.text,
                                  current_snapshot_id(shop).label("current_id"))
        .select_from(SNAPSHOTS.outerjoin(LABELS, and_(LABELS.c.snapshot_id == SNAPSHOTS.c.id,
                                                       LABELS.c.customer_id == ext)))
        .where(SNAPSHOTS.c.shop_id == shop).order_by(SNAPSHOTS.c.as_of.desc()),
        "score": select(SCORES).where(SCORES.c.snapshot_id == snap, SCORES.c.customer_id == ext),
        "orders": select(ORDERS.c.shop_id, ORDERS.c.external_id, ORDERS.c.ordered_at, ORDERS.c.channel,
                         ORDERS.c.currency, ORDERS.c.total_minor, ORDERS.c.status).where(ORDERS.c.customer_id == pk),
        "conversations": select(CONVERSATIONS).where(CONVERSATIONS.c.customer_id == pk),
        "interactions": select(i.external_id, i.occurred_at, i.direction, i.channel, i.agent, i.subject, i.body,
                               CONV_MESSAGES.c.conversation_id)
        .outerjoin(CONV_MESSAGES, CONV_MESSAGES.c.interaction_id == i.id).where(i.customer_id == pk),
        "feedback": select(FEEDBACK.c.submitted_at, FEEDBACK.c.kind, FEEDBACK.c.score, FEEDBACK.c.comment)
        .where(FEEDBACK.c.customer_id == pk),
        "care_messages": select(CARE_MESSAGES.c.sent_at, CARE_MESSAGES.c.campaign, CARE_MESSAGES.c.channel,
                                CARE_MESSAGES.c.subject, CARE_MESSAGES.c.message_id, CARE_MESSAGES.c.language)
        .where(CARE_MESSAGES.c.customer_id == pk, CARE_MESSAGES.c.status == "sent"),
        "surveys": select(SURVEYS.c.queued_at, SURVEYS.c.kind, SURVEYS.c.status, SURVEYS.c.conversation_id)
        .where(SURVEYS.c.customer_id == pk),
        "consents": select(CONSENTS.c.at, CONSENTS.c.channel, CONSENTS.c.granted, CONSENTS.c.source)
        .where(CONSENTS.c.customer_id == pk),
        "merged_from": select(CUSTOMERS.c.external_id).where(CUSTOMERS.c.merged_into_id == pk),
    }


def labels_of(rows: Sequence[Any], current_id: int | None) -> tuple[SnapshotRef | None, list[Any], LabelHistory]:
    """(current snapshot, its label rows by taxonomy and label, labels per snapshot date) from the rows of
    ``snapshot_labels`` (every snapshot of the shop, outer-joined with the customer's labels)."""
    refs = {r.sid: SnapshotRef(r.sid, r.as_of, r.created_at) for r in rows}
    latest = refs.get(current_id) if current_id is not None else None
    snaps: dict[Any, dict[str, set[str]]] = {r.as_of: {} for r in rows}
    for r in sorted(rows, key=lambda r: r.as_of):
        if r.taxonomy is not None:
            snaps[r.as_of].setdefault(r.taxonomy, set()).add(r.label)
    current = sorted((r for r in rows if latest is not None and r.sid == latest.id and r.taxonomy is not None),
                     key=lambda r: (r.taxonomy, r.label))
    history = [(datetime.combine(d, time(23, 59, 59)), labels) for d, labels in sorted(snaps.items())]
    return latest, current, history


def _merged_from(session: Session, customer_pk: int) -> list[str]:
    """External ids of the profiles merged into ``customer_pk``.

    SQLite's statistics see a column that is NULL for nearly every row as useless to index and
    scan the table (300 ms at 1M customers); the hint keeps the index.
    """
    if session.get_bind().dialect.name == "sqlite":
        return list(session.scalars(text("SELECT external_id FROM customers INDEXED BY ix_customers_merged_into_id "
                                         "WHERE merged_into_id = :pk"), {"pk": customer_pk}))
    return list(session.connection().execute(statements()["merged_from"], {"pk": customer_pk}).scalars())


def load_per_table(session: Session, shop_id: int, customer_pk: int, external_id: str) -> CustomerRows:
    """Every section with its own indexed statement."""
    conn = session.connection()
    st = statements()
    rows = conn.execute(st["snapshot_labels"], {"shop": shop_id, "ext": external_id}).all()
    latest, labels, history = labels_of(rows, rows[0].current_id if rows else None)
    score = None
    if latest is not None:
        score = conn.execute(st["score"], {"snap": latest.id, "ext": external_id}).first()
    sections = {name: list(conn.execute(st[name], {"pk": customer_pk}).all()) for name in PER_CUSTOMER}
    return CustomerRows(latest, labels, score, history, **sections, merged_from=_merged_from(session, customer_pk))


@dataclass(frozen=True)
class _Section:
    """How to turn one section's JSON rows back into rows: the row type and a converter per column."""

    row: Any
    columns: tuple[tuple[str, Callable[[Any], Any] | None], ...]

    def decode(self, items: list[dict[str, Any]] | None) -> list[Any]:
        return [self.row(*(item[k] if conv is None or item[k] is None else conv(item[k]) for k, conv in self.columns))
                for item in items or ()]


def _converter(type_: Any) -> Callable[[Any], Any] | None:
    """JSON value -> the driver's Python value (timestamps and dates come as ISO text, NaN as a string)."""
    if isinstance(type_, DateTime):
        return datetime.fromisoformat
    if isinstance(type_, Date):
        return date.fromisoformat
    if isinstance(type_, Float):
        return float
    if isinstance(type_, Boolean):
        return bool
    return None


_JSON_SECTIONS = ("snapshot_labels", "score", *PER_CUSTOMER)


@lru_cache(maxsize=1)
def _combined() -> tuple[Any, dict[str, _Section]]:
    """The one statement (bound ``shop``, ``pk``, ``ext``) and the decoder of each section, built once."""
    st = statements()
    current = current_snapshot_id(bindparam("shop"))
    stmts = {name: st[name] for name in _JSON_SECTIONS if name != "score"}
    stmts["score"] = select(SCORES).where(SCORES.c.snapshot_id == current, SCORES.c.customer_id == bindparam("ext"))
    columns: list[Any] = [current.label("current_id")]
    sections = {}
    for name in _JSON_SECTIONS:
        sub = stmts[name].subquery(f"s_{name}")
        columns.append(select(func.json_agg(sub.table_valued())).select_from(sub).scalar_subquery().label(name))
        cols = tuple((c.key, _converter(c.type)) for c in sub.c)
        sections[name] = _Section(namedtuple(f"{name.title().replace('_', '')}Row", [k for k, _ in cols]),  # type: ignore[misc]
                                  cols)
    columns.append(select(func.json_agg(CUSTOMERS.c.external_id))
                   .where(CUSTOMERS.c.merged_into_id == bindparam("pk")).scalar_subquery().label("merged_from"))
    return select(*columns), sections


def load_single_statement(session: Session, shop_id: int, customer_pk: int, external_id: str) -> CustomerRows:
    """Every section in one round trip (PostgreSQL's ``json_agg``)."""
    stmt, sections = _combined()
    row = session.connection().execute(stmt, {"shop": shop_id, "pk": customer_pk, "ext": external_id}).one()
    decoded: Mapping[str, list[Any]] = {name: sections[name].decode(getattr(row, name)) for name in _JSON_SECTIONS}
    latest, labels, history = labels_of(decoded["snapshot_labels"], row.current_id)
    score = decoded["score"][0] if decoded["score"] else None
    return CustomerRows(latest, labels, score, history, **{name: decoded[name] for name in PER_CUSTOMER},
                        merged_from=list(row.merged_from or []))


def load_customer_rows(session: Session, shop_id: int, customer_pk: int, external_id: str) -> CustomerRows:
    """The rows of one customer, by the fastest loader of the session's database."""
    if session.get_bind().dialect.name == "postgresql":
        return load_single_statement(session, shop_id, customer_pk, external_id)
    return load_per_table(session, shop_id, customer_pk, external_id)
