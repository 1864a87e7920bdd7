"""Customer list (filter, sort, keyset paging at 1M customers), customer 360, orders, interactions, feedback."""

from __future__ import annotations

import base64
import json
import time
from dataclasses import dataclass, field
from datetime import date, datetime
from functools import lru_cache
from typing import Any

from sqlalchemy import and_, func, or_, select, text
from sqlalchemy.orm import Session

from clientlens.api import schemas as s
from clientlens.api.services.snapshots import current_snapshot
from clientlens.errors import ConfigError
from clientlens.store import models as m
from clientlens.store.repository import get_customer

SORTS = ("customer_id", "name", "country", "created_at", "clv", "p_alive", "expected_purchases_365d")
SCORE_SORTS = ("clv", "p_alive", "expected_purchases_365d")


@dataclass(frozen=True)
class CustomerFilter:
    """What the customer list is filtered and sorted on."""

    q: str | None = None
    labels: tuple[tuple[str, str], ...] = ()
    country: str | None = None
    channel: str | None = None
    score_min: dict[str, float] = field(default_factory=dict)
    score_max: dict[str, float] = field(default_factory=dict)
    sort: str = "customer_id"
    descending: bool = False


def parse_labels(values: list[str] | None) -> tuple[tuple[str, str], ...]:
    """``["rfm_segment=champions", "value:high"]`` -> ``(("rfm_segment", "champions"), ("value", "high"))``."""
    out = []
    for raw in values or []:
        sep = "=" if "=" in raw else ":"
        tax, _, label = raw.partition(sep)
        if not tax or not label:
            raise ConfigError(f"label filter {raw!r} must look like taxonomy=label (field: label)")
        out.append((tax.strip(), label.strip()))
    return tuple(out)


def parse_sort(sort: str) -> tuple[str, bool]:
    desc = sort.startswith("-")
    key = sort.lstrip("-")
    if key not in SORTS:
        raise ConfigError(f"cannot sort on {key!r} (field: sort); use one of {', '.join(SORTS)}, '-' for descending")
    return key, desc


def _encode(values: list[Any]) -> str:
    return base64.urlsafe_b64encode(json.dumps(values, default=str).encode()).decode()


def _decode(cursor: str) -> list[Any]:
    try:
        values = json.loads(base64.urlsafe_b64decode(cursor.encode()))
        if not isinstance(values, list) or len(values) != 2:
            raise ValueError
        return values
    except ValueError as exc:
        raise ConfigError("cursor is not one this API returned (field: cursor)") from exc


def snapshot_id(session: Session, shop_id: int) -> int | None:
    """The id of the shop's latest snapshot (as ``latest_snapshot`` picks it), without loading the row."""
    ids: dict[int, int | None] = session.info.get("clientlens_latest_snapshot_id", {})
    if shop_id in ids:  # read with the shop (api.deps.shop_ref)
        return ids[shop_id]
    memo: dict[int, m.Snapshot | None] = session.info.get("clientlens_latest_snapshot", {})
    if shop_id in memo:
        snap = memo[shop_id]
        return snap.id if snap else None
    t = m.Snapshot.__table__
    return session.connection().execute(select(t.c.id).where(t.c.shop_id == shop_id)  # type: ignore[no-any-return]
                                        .order_by(t.c.as_of.desc()).limit(1)).scalar()


@lru_cache(maxsize=32)
def _alias(table: str, name: str) -> Any:
    """A named alias of a table, made once (making one copies every column)."""
    return m.Base.metadata.tables[table].alias(name)


def _filtered(session: Session, shop: m.Shop, f: CustomerFilter, snap: int | None) -> tuple[Any, Any, Any, Any]:
    """The filtered query, the scores alias, the sort column and the id column to page on.

    With a label filter the id column is the label row's customer id, so the page is read in index
    order (snapshot, taxonomy, label, customer) and stops after one page, even at 1M customers.
    """
    # Core tables and aliases, not ORM entities: building the statement (every request) and reading
    # a page of 50 rows stay cheap.
    c = m.Customer.__table__.c
    score = _alias("snapshot_scores", "score")
    key: Any = c.external_id
    snap_id = snap if snap is not None else -1
    query = select(c.external_id, c.name, c.email, c.country, c.city, c.language, c.preferred_channel, c.kind,
                   c.created_at, score.c.clv, score.c.p_alive, score.c.expected_purchases_365d,
                   ).where(c.shop_id == shop.id, c.merged_into_id.is_(None))
    query = query.outerjoin(score, and_(score.c.snapshot_id == snap_id, score.c.customer_id == c.external_id))
    for i, (tax, label) in enumerate(f.labels):
        lab = _alias("snapshot_labels", f"label_{i}")
        query = query.join(lab, and_(lab.c.snapshot_id == snap_id, lab.c.taxonomy == tax, lab.c.label == label,
                                     lab.c.customer_id == c.external_id))
        if i == 0:
            key = lab.c.customer_id
    if f.country:
        query = query.where(c.country == f.country.upper())
    if f.channel:
        query = query.where(c.preferred_channel == f.channel)
    for name, low in f.score_min.items():
        query = query.where(score.c[name] >= low)
    for name, high in f.score_max.items():
        query = query.where(score.c[name] <= high)
    if f.q:
        needle = f.q.strip()
        query = query.where(or_(c.external_id == needle, c.email_norm == needle.lower(),
                                c.name.ilike(f"%{needle}%")))
    sort_col = score.c[f.sort] if f.sort in SCORE_SORTS else (key if f.sort == "customer_id" else c[f.sort])
    return query, score, sort_col, key


_COUNTS: dict[tuple[Any, ...], tuple[float, int]] = {}


def _count(session: Session, shop: m.Shop, f: CustomerFilter, snap: int | None, query: Any, ttl: float) -> int:
    """How many customers match; cached for ``ttl`` seconds per (store, shop, snapshot, filter)."""
    key = (str(getattr(session.get_bind(), "url", "")), shop.id, snap, f.q, f.labels, f.country, f.channel,
           tuple(sorted(f.score_min.items())), tuple(sorted(f.score_max.items())))
    now = time.monotonic()
    hit = _COUNTS.get(key)
    if hit is not None and now - hit[0] < ttl:
        return hit[1]
    stmt = select(func.count()).select_from(query.with_only_columns(m.Customer.__table__.c.id).order_by(None).subquery())
    n = session.scalar(stmt) or 0
    if ttl > 0:
        if len(_COUNTS) > 10_000:
            _COUNTS.clear()
        _COUNTS[key] = (now, n)
    return n


def list_customers(session: Session, shop: m.Shop, f: CustomerFilter, *, limit: int, offset: int = 0,
                   cursor: str | None = None, with_count: bool = True,
                   count_ttl: float = 0.0) -> s.Page[s.CustomerRead]:
    """One page of a shop's customers (merged-away profiles left out)."""
    snap = snapshot_id(session, shop.id)
    query, score, sort_col, key = _filtered(session, shop, f, snap)
    count = 0
    if with_count:
        count = _count(session, shop, f, snap, query, count_ttl)
    if f.sort != "customer_id":
        # NULLs last in both directions: keyset over (value is null, value, external id).
        nulls = sort_col.is_(None)
        if cursor:
            last_val, last_key = _decode(cursor)
            if last_val is None:
                query = query.where(nulls, key > last_key)
            elif f.descending:
                query = query.where(or_(nulls, sort_col < last_val, and_(sort_col == last_val, key > last_key)))
            else:
                query = query.where(or_(nulls, sort_col > last_val, and_(sort_col == last_val, key > last_key)))
        query = query.order_by(nulls, sort_col.desc() if f.descending else sort_col.asc(), key.asc())
    else:
        if cursor:
            _, last_key = _decode(cursor)
            query = query.where(key < last_key if f.descending else key > last_key)
        query = query.order_by(key.desc() if f.descending else key.asc())
    rows = session.connection().execute(query.offset(0 if cursor else offset).limit(limit + 1)).all()
    more = len(rows) > limit
    rows = rows[:limit]
    labels = page_labels(session, snap, [r.external_id for r in rows])
    data = [{"customer_id": r.external_id, "name": r.name, "email": r.email, "country": r.country, "city": r.city,
             "language": r.language, "preferred_channel": r.preferred_channel, "kind": r.kind,
             "created_at": r.created_at, "clv": r.clv, "p_alive": r.p_alive,
             "labels": labels.get(r.external_id, {})} for r in rows]
    nxt = None
    if more and rows:
        last = rows[-1]
        value = None if f.sort == "customer_id" else getattr(last, f.sort, None)
        nxt = _encode([value, last.external_id])
    # One validation of the whole page in pydantic-core: cheaper than a model_construct per row.
    return s.CustomerPage.model_validate({"data": data, "count": count, "next_cursor": nxt})


def page_labels(session: Session, snap: int | None, ids: list[str]) -> dict[str, dict[str, list[str]]]:
    """taxonomy -> labels for each customer of a page."""
    out: dict[str, dict[str, list[str]]] = {}
    if snap is None or not ids:
        return out
    conn = session.connection()
    # One bound parameter holding the ids (a JSON array on SQLite, an array on PostgreSQL) instead of
    # an expanding IN of 50 parameters: SQLAlchemy re-renders those on every call.
    if conn.dialect.name == "sqlite":
        stmt = text("SELECT customer_id, taxonomy, label FROM snapshot_labels WHERE snapshot_id = :snap "
                    "AND customer_id IN (SELECT value FROM json_each(:ids)) ORDER BY customer_id, taxonomy, label")
        params: dict[str, Any] = {"snap": snap, "ids": json.dumps(ids)}
    elif conn.dialect.name == "postgresql":
        stmt = text("SELECT customer_id, taxonomy, label FROM snapshot_labels WHERE snapshot_id = :snap "
                    "AND customer_id = ANY(:ids) ORDER BY customer_id, taxonomy, label")
        params = {"snap": snap, "ids": ids}
    else:
        lab = m.SnapshotLabel.__table__
        stmt = select(lab.c.customer_id, lab.c.taxonomy, lab.c.label).where(  # type: ignore[assignment]
            lab.c.snapshot_id == snap, lab.c.customer_id.in_(ids)).order_by(lab.c.customer_id, lab.c.taxonomy,
                                                                           lab.c.label)
        params = {}
    for cid, tax, label in conn.execute(stmt, params):
        out.setdefault(cid, {}).setdefault(tax, []).append(label)
    return out


def minor_to_float(value: int | None) -> float:
    return (value or 0) / 100.0


def order_read(o: m.Order, ext: str) -> s.OrderRead:
    return s.OrderRead(order_id=o.external_id, customer_id=ext, ordered_at=o.ordered_at, channel=o.channel,
                       currency=o.currency, total=minor_to_float(o.total_minor),
                       discount_total=minor_to_float(o.discount_minor), status=o.status)


def interaction_read(i: m.Interaction, ext: str) -> s.InteractionRead:
    return s.InteractionRead(interaction_id=i.external_id, customer_id=ext, channel=i.channel, direction=i.direction,
                             occurred_at=i.occurred_at, thread_id=i.thread_id, subject=i.subject, body=i.body,
                             agent=i.agent)


def feedback_read(fb: m.Feedback, ext: str) -> s.FeedbackRead:
    return s.FeedbackRead(feedback_id=fb.external_id, customer_id=ext, kind=fb.kind, score=fb.score,
                          comment=fb.comment, submitted_at=fb.submitted_at)


def customer_orders(session: Session, shop: m.Shop, customer_id: str, *, limit: int, offset: int) -> s.Page[s.OrderRead]:
    cust = get_customer(session, shop.id, customer_id)
    where = (m.Order.shop_id == shop.id, m.Order.customer_id == cust.id)
    count = session.scalar(select(func.count()).select_from(m.Order).where(*where)) or 0
    rows = session.scalars(select(m.Order).where(*where).order_by(m.Order.ordered_at.desc(), m.Order.id.desc())
                           .offset(offset).limit(limit))
    return s.OrderPage(data=[order_read(o, cust.external_id) for o in rows], count=count)


def shop_orders(session: Session, shop: m.Shop, *, limit: int, offset: int, since: date | None = None,
                until: date | None = None, status: str | None = None) -> s.Page[s.OrderRead]:
    where: list[Any] = [m.Order.shop_id == shop.id]
    if since:
        where.append(m.Order.ordered_at >= datetime.combine(since, datetime.min.time()))
    if until:
        where.append(m.Order.ordered_at < datetime.combine(until, datetime.min.time()))
    if status:
        where.append(m.Order.status == status)
    count = session.scalar(select(func.count()).select_from(m.Order).where(*where)) or 0
    rows = session.execute(select(m.Order, m.Customer.external_id).join(m.Customer, m.Customer.id == m.Order.customer_id)
                           .where(*where).order_by(m.Order.ordered_at.desc(), m.Order.id.desc())
                           .offset(offset).limit(limit)).all()
    return s.OrderPage(data=[order_read(o, ext) for o, ext in rows], count=count)


def shop_interactions(session: Session, shop: m.Shop, *, limit: int, offset: int,
                      customer_id: str | None = None) -> s.Page[s.InteractionRead]:
    where: list[Any] = [m.Interaction.shop_id == shop.id]
    if customer_id:
        where.append(m.Interaction.customer_id == get_customer(session, shop.id, customer_id).id)
    count = session.scalar(select(func.count()).select_from(m.Interaction).where(*where)) or 0
    rows = session.execute(select(m.Interaction, m.Customer.external_id)
                           .join(m.Customer, m.Customer.id == m.Interaction.customer_id).where(*where)
                           .order_by(m.Interaction.occurred_at.desc(), m.Interaction.id.desc())
                           .offset(offset).limit(limit)).all()
    return s.InteractionPage(data=[interaction_read(i, ext) for i, ext in rows], count=count)


def shop_feedback(session: Session, shop: m.Shop, *, limit: int, offset: int, kind: str | None = None,
                  customer_id: str | None = None) -> s.Page[s.FeedbackRead]:
    where: list[Any] = [m.Feedback.shop_id == shop.id]
    if kind:
        where.append(m.Feedback.kind == kind)
    if customer_id:
        where.append(m.Feedback.customer_id == get_customer(session, shop.id, customer_id).id)
    count = session.scalar(select(func.count()).select_from(m.Feedback).where(*where)) or 0
    rows = session.execute(select(m.Feedback, m.Customer.external_id)
                           .join(m.Customer, m.Customer.id == m.Feedback.customer_id).where(*where)
                           .order_by(m.Feedback.submitted_at.desc(), m.Feedback.id.desc())
                           .offset(offset).limit(limit)).all()
    return s.FeedbackPage(data=[feedback_read(fb, ext) for fb, ext in rows], count=count)


def prediction(session: Session, shop: m.Shop, customer_id: str) -> s.PredictionRead | None:
    snap = current_snapshot(session, shop.id)
    if snap is None:
        return None
    row = session.get(m.SnapshotScore, (snap.id, customer_id))
    if row is None:
        return None
    products = json.loads(row.next_products) if row.next_products else []
    return s.PredictionRead(customer_id=customer_id, model=row.model, p_alive=row.p_alive,
                            expected_purchases_90d=row.expected_purchases_90d,
                            expected_purchases_365d=row.expected_purchases_365d, clv=row.clv,
                            expected_next_order=row.expected_next_order,
                            next_products=products if isinstance(products, list) else [], as_of=snap.as_of)


def customer_labels(session: Session, shop: m.Shop, customer_id: str) -> list[s.LabelRead]:
    snap = current_snapshot(session, shop.id)
    if snap is None:
        return []
    rows = session.scalars(select(m.SnapshotLabel).where(m.SnapshotLabel.snapshot_id == snap.id,
                                                         m.SnapshotLabel.customer_id == customer_id)
                           .order_by(m.SnapshotLabel.taxonomy, m.SnapshotLabel.label))
    out = []
    for r in rows:
        try:
            figures = json.loads(r.figures) if r.figures else {}
        except ValueError:
            figures = {}
        out.append(s.LabelRead(taxonomy=r.taxonomy, label=r.label, rule_id=r.rule_id,
                               figures=figures if isinstance(figures, dict) else {}, text=r.text))
    return out
