"""Consent is a history: every grant and withdrawal is a ``consent_events`` row with its time and source,
and a customer's ``consent_<channel>`` column is the latest event of that channel.

The rule for data that arrives later (imports, API uploads): a withdrawal always applies; a grant
applies only when it is dated after the channel's last withdrawal. A grant without a date (an import
without ``consent_date``) counts as older than any withdrawal, so an unsubscribe is never undone by a
file holding ``consent_email=yes``. Works on a Core ``Connection`` (the importer) or an ORM session's
connection (``session.connection()``).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Connection, and_, func, select, update

from clientlens.store import models as m
from clientlens.store.models import Base

EVENTS = Base.metadata.tables["consent_events"]
CUSTOMERS = Base.metadata.tables["customers"]
_CHUNK = 5000  # ids per IN list (SQLite allows 32766 variables)


@dataclass(frozen=True)
class ConsentValue:
    """One imported consent value: customer (store id), channel, given or withdrawn, and when (None: undated)."""

    customer_id: int
    channel: str
    granted: bool
    at: datetime | None = None


def latest_events(conn: Connection, customer_ids: Sequence[int]) -> dict[tuple[int, str], tuple[bool, datetime]]:
    """``(customer id, channel) -> (granted, at)`` of the latest event (ties: the later row wins)."""
    out: dict[tuple[int, str], tuple[bool, datetime]] = {}
    ids = sorted(set(customer_ids))
    for start in range(0, len(ids), _CHUNK):
        part = ids[start:start + _CHUNK]
        rows = conn.execute(select(EVENTS.c.customer_id, EVENTS.c.channel, EVENTS.c.granted, EVENTS.c.at,
                                   EVENTS.c.id).where(EVENTS.c.customer_id.in_(part))
                            .order_by(EVENTS.c.at, EVENTS.c.id))
        for cid, channel, granted, at, _ in rows:
            out[(cid, channel)] = (bool(granted), at)
    return out


def last_withdrawals(conn: Connection, customer_ids: Sequence[int]) -> dict[tuple[int, str], datetime]:
    """``(customer id, channel) -> time of the latest withdrawal``."""
    out: dict[tuple[int, str], datetime] = {}
    ids = sorted(set(customer_ids))
    for start in range(0, len(ids), _CHUNK):
        part = ids[start:start + _CHUNK]
        rows = conn.execute(select(EVENTS.c.customer_id, EVENTS.c.channel, func.max(EVENTS.c.at))
                            .where(EVENTS.c.customer_id.in_(part), EVENTS.c.granted.is_(False))
                            .group_by(EVENTS.c.customer_id, EVENTS.c.channel))
        for cid, channel, at in rows:
            out[(cid, channel)] = at
    return out


def apply_imported_consent(conn: Connection, shop_id: int, values: Iterable[ConsentValue], *, source: str,
                           now: datetime) -> int:
    """Record imported consent values as events and derive the customers' consent columns from them.

    A withdrawal is recorded at ``now`` (when it became known) unless the channel's latest event is
    already one. A grant is recorded (at its own date, or ``now`` when undated and never withdrawn)
    only when the channel was never withdrawn or the grant is dated after the last withdrawal; a
    grant equal to the latest event adds nothing. Returns how many grants were not applied because
    a withdrawal is newer (the import report says so).
    """
    values = [v for v in values if v.channel in m.CONSENT_CHANNELS]
    if not values:
        return 0
    ids = [v.customer_id for v in values]
    latest = latest_events(conn, ids)
    withdrawn = last_withdrawals(conn, ids)
    events: list[dict[str, object]] = []
    refused = 0
    for v in values:
        key = (v.customer_id, v.channel)
        current = latest.get(key)
        if not v.granted:
            if current is None or current[0]:
                at = now if current is None else max(now, current[1])
                events.append(_event(shop_id, v, at, source))
                latest[key] = (False, at)
            continue
        last_no = withdrawn.get(key)
        if last_no is not None and (v.at is None or v.at <= last_no):
            refused += 1
            continue
        if current is not None and current[0]:
            continue  # already given: nothing new
        at = v.at or now
        if current is not None and at < current[1]:
            continue  # older than the latest event (which is then not a withdrawal): changes nothing
        events.append(_event(shop_id, v, at, source))
        latest[key] = (True, at)
    if events:
        conn.execute(EVENTS.insert(), events)
    derive_consent_columns(conn, ids, latest)
    return refused


def _event(shop_id: int, v: ConsentValue, at: datetime, source: str) -> dict[str, object]:
    return {"shop_id": shop_id, "customer_id": v.customer_id, "channel": v.channel, "granted": v.granted,
            "at": at, "source": source[:200]}


def derive_consent_columns(conn: Connection, customer_ids: Sequence[int],
                           latest: dict[tuple[int, str], tuple[bool, datetime]] | None = None) -> None:
    """Set each customer's ``consent_<channel>`` to its latest event (channels without events unchanged);
    ``latest`` is :func:`latest_events` of these customers when the caller has it already."""
    if latest is None:
        latest = latest_events(conn, customer_ids)
    per_customer: dict[int, dict[str, bool]] = {}
    for (cid, channel), (granted, _) in latest.items():
        per_customer.setdefault(cid, {})[f"consent_{channel}"] = granted
    groups: dict[tuple[tuple[str, bool], ...], list[int]] = {}
    for cid, cols in per_customer.items():
        groups.setdefault(tuple(sorted(cols.items())), []).append(cid)
    for cols_key, cids in groups.items():
        cols = dict(cols_key)
        for start in range(0, len(cids), _CHUNK):
            conn.execute(update(CUSTOMERS).where(CUSTOMERS.c.id.in_(cids[start:start + _CHUNK])).values(cols))


def latest_is_withdrawal(conn: Connection, customer_id: int, channel: str) -> bool:
    """Whether the customer's latest consent event for ``channel`` is a withdrawal."""
    row = conn.execute(select(EVENTS.c.granted).where(and_(EVENTS.c.customer_id == customer_id,
                                                           EVENTS.c.channel == channel))
                       .order_by(EVENTS.c.at.desc(), EVENTS.c.id.desc()).limit(1)).first()
    return row is not None and not row[0]
