"""Customer list (filter, sort, keyset paging at 1M customers), customer 360, orders, interactions, feedback."""

from __future__ import annotations

import base64
import json
import time
from dataclasses import dataclass, field, replace
from datetime import date, datetime
from functools import lru_cache
from typing import Any

from sqlalchemy import String, and_, bindparam, func, literal_column, or_, select, union
from sqlalchemy.orm import Session

from clientlens.errors import ConfigError
from clientlens.money import to_major
from clientlens.service import schemas as s
from clientlens.store import models as m
from clientlens.store.identity import normalise_phone
from clientlens.store.repository import current_snapshot, current_snapshot_id, get_customer, get_shop
from clientlens.store.search import most_selective_first, name_matches, query_words

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


def _decode(cursor: str, sort: str) -> list[Any]:
    """The cursor's [sort value, customer id], the value back in the sort column's type."""
    try:
        values = json.loads(base64.urlsafe_b64decode(cursor.encode()))
        if not isinstance(values, list) or len(values) != 2 or not isinstance(values[1], str):
            raise ValueError
        if values[0] is not None:
            if sort == "created_at":
                values[0] = datetime.fromisoformat(values[0])
            elif sort in SCORE_SORTS:
                values[0] = float(values[0])
            elif not isinstance(values[0], str):
                raise ValueError
        return values
    except (ValueError, TypeError) as exc:
        raise ConfigError("cursor is not one this API returned (field: cursor)") from exc


@lru_cache(maxsize=1)
def shop_ids_statement() -> Any:
    """``SELECT id, name, <latest snapshot id>`` of the shop named ``:name`` (one Core statement, built once)."""
    shops = m.Shop.__table__
    latest = current_snapshot_id(shops.c.id).correlate(shops).label("snapshot_id")
    return select(shops.c.id, shops.c.name, latest).where(shops.c.name == bindparam("name"))


@lru_cache(maxsize=32)
def _alias(table: str, name: str) -> Any:
    """A named alias of a table, made once (making one copies every column)."""
    return m.Base.metadata.tables[table].alias(name)


@dataclass(frozen=True)
class _Shape:
    """What decides the text of the list's statement; the filter's values are bound parameters.

    ``part`` splits a sort on a value into the rows that have one (``values``, ordered by it) and the
    rows without (``nulls``, listed last in customer id order), so each part can be read in the
    order of an index and stop after one page; ``all`` is the customer id order (and the counts).
    """

    dialect: str
    labels: int = 0
    country: bool = False
    channel: bool = False
    score_min: tuple[str, ...] = ()
    score_max: tuple[str, ...] = ()
    q: int = -1  # -1 no search; else how many words of the name search
    sort: str = "customer_id"
    descending: bool = False
    part: str = "all"  # "all", "values", "nulls"
    after: bool = False  # continues after a cursor


def _shape(dialect: str, f: CustomerFilter, **kw: Any) -> _Shape:
    return _Shape(dialect, len(f.labels), bool(f.country), bool(f.channel), tuple(sorted(f.score_min)),
                  tuple(sorted(f.score_max)), len(query_words(f.q)) if f.q else -1, **kw)


def _params(shop: str, f: CustomerFilter, conn: Any = None) -> dict[str, Any]:
    params: dict[str, Any] = {"shop": shop}
    for i, (tax, label) in enumerate(f.labels):
        params[f"tax_{i}"], params[f"label_{i}"] = tax, label
    if f.country:
        params["country"] = f.country.upper()
    if f.channel:
        params["channel"] = f.channel
    params.update({f"min_{k}": v for k, v in f.score_min.items()})
    params.update({f"max_{k}": v for k, v in f.score_max.items()})
    if f.q:
        needle = f.q.strip()
        params.update(q_id=needle, q_email=needle.lower(),
                      q_phone=normalise_phone(needle, None) or needle)  # "+48 601 234 567" and the like
        words = query_words(needle)
        if conn is not None:
            words = most_selective_first(conn, shop, words)
        params.update({f"q_word_{i}": w for i, w in enumerate(words)})
    return params


# Labels of a row travel as one string: taxonomy US label RS taxonomy US label ... (ASCII unit and
# record separators, which no taxonomy or label id contains).
_US, _RS = "\x1f", "\x1e"


@lru_cache(maxsize=512)
def _statements(shape: _Shape) -> tuple[Any, Any]:
    """The page statement and the count statement of one shape, built once.

    One statement reads the page: the shop and its latest snapshot are scalar subqueries on the
    shop's name (PostgreSQL evaluates each once, before the scan, and uses them as index keys), each
    row carries its labels aggregated into one string, and the shop's and snapshot's ids (for the
    cached count). With a label filter the rows are read in the order of the index
    (snapshot, taxonomy, label, customer), sorted on a score in the order of the score's index
    (snapshot, score), and the scan stops after one page, even at 1M customers.
    """
    c = m.Customer.__table__.c
    shops = m.Shop.__table__
    shop_id = select(shops.c.id).where(shops.c.name == bindparam("shop")).scalar_subquery()
    snap_id = current_snapshot_id(shop_id)
    score = _alias("snapshot_scores", "score")
    lab_all = _alias("snapshot_labels", "row_label")
    if shape.dialect == "postgresql":
        sep_us, sep_rs, agg = literal_column("chr(31)", String), literal_column("chr(30)", String), func.string_agg
    else:
        sep_us, sep_rs, agg = literal_column("char(31)", String), literal_column("char(30)", String), func.group_concat
    row_labels = (select(agg(lab_all.c.taxonomy + sep_us + lab_all.c.label, sep_rs))
                  .where(lab_all.c.snapshot_id == snap_id, lab_all.c.customer_id == c.external_id)
                  .scalar_subquery())
    key: Any = c.external_id
    frm = m.Customer.__table__.outerjoin(score, and_(score.c.snapshot_id == snap_id,
                                                     score.c.customer_id == c.external_id))
    for i in range(shape.labels):
        lab = _alias("snapshot_labels", f"label_{i}")
        frm = frm.join(lab, and_(lab.c.snapshot_id == snap_id, lab.c.taxonomy == bindparam(f"tax_{i}"),
                                 lab.c.label == bindparam(f"label_{i}"), lab.c.customer_id == c.external_id))
        if i == 0:
            key = lab.c.customer_id
    if shape.sort in SCORE_SORTS:
        key = score.c.customer_id if shape.part == "values" and not shape.labels else key
    base = select(c.id).select_from(frm).where(c.shop_id == shop_id, c.merged_into_id.is_(None))
    if shape.country:
        base = base.where(c.country == bindparam("country"))
    if shape.channel:
        base = base.where(c.preferred_channel == bindparam("channel"))
    for name in shape.score_min:
        base = base.where(score.c[name] >= bindparam(f"min_{name}"))
    for name in shape.score_max:
        base = base.where(score.c[name] <= bindparam(f"max_{name}"))
    if shape.q >= 0:
        # The customers found by id, e-mail, phone or name, each through its own index, as one set of ids
        # (an OR of the four conditions would read every customer of the shop).
        who = _alias("customers", "q_customer")
        found: list[Any] = [select(who.c.id).where(who.c.shop_id == shop_id, col == bindparam(name))
                            for col, name in ((who.c.external_id, "q_id"), (who.c.email_norm, "q_email"),
                                              (who.c.phone_e164, "q_phone"))]
        if shape.q > 0:  # every word of the query starts a word of the name, accents aside (store.search)
            found.append(name_matches(shop_id, [bindparam(f"q_word_{i}") for i in range(shape.q)]))
        base = base.where(c.id.in_(union(*found)))
    sort_col: Any = None
    if shape.part != "all":
        sort_col = score.c[shape.sort] if shape.sort in SCORE_SORTS else c[shape.sort]
        base = base.where(sort_col.is_not(None) if shape.part == "values" else sort_col.is_(None))
    counted = base.order_by(None)
    if shape.q >= 0:  # a search counts its matches up to a limit (a common name may match half the shop)
        counted = counted.limit(bindparam("count_limit"))
    count = select(func.count()).select_from(counted.subquery())

    page = base.with_only_columns(
        c.external_id, c.name, c.email, c.country, c.city, c.language, c.preferred_channel, c.kind, c.created_at,
        score.c.clv, score.c.p_alive, score.c.expected_purchases_365d, row_labels.label("labels"),
        c.shop_id, snap_id.label("snapshot_id"), maintain_column_froms=True)
    last_val: Any = bindparam("last_val")
    last_key: Any = bindparam("last_key")
    if shape.part == "values":
        if shape.after:
            beyond = sort_col < last_val if shape.descending else sort_col > last_val
            page = page.where(or_(beyond, and_(sort_col == last_val, key > last_key)))
        page = page.order_by(sort_col.desc() if shape.descending else sort_col.asc(), key.asc())
    elif shape.part == "nulls":  # listed last, in customer id order whatever the direction
        if shape.after:
            page = page.where(key > last_key)
        page = page.order_by(key.asc())
    else:
        if shape.after:
            page = page.where(key < last_key if shape.descending else key > last_key)
        page = page.order_by(key.desc() if shape.descending else key.asc())
    return page.offset(bindparam("offset")).limit(bindparam("limit")), count


_COUNTS: dict[tuple[Any, ...], tuple[float, int]] = {}


def _count(conn: Any, shape: _Shape, ids: tuple[int, int | None], f: CustomerFilter, params: dict[str, Any],
           ttl: float) -> int:
    """How many customers of ``shape`` match (``part``: all, values or nulls); cached for ``ttl`` seconds
    per (store, shop, snapshot, filter)."""
    key = (str(conn.engine.url), ids, f.q, f.labels, f.country, f.channel, tuple(sorted(f.score_min.items())),
           tuple(sorted(f.score_max.items())), shape.part, shape.sort if shape.part != "all" else "")
    now = time.monotonic()
    hit = _COUNTS.get(key)
    if hit is not None and now - hit[0] < ttl:
        return hit[1]
    n = conn.execute(_statements(replace(shape, descending=False, after=False))[1], params).scalar() or 0
    if ttl > 0:
        if len(_COUNTS) > 10_000:
            _COUNTS.clear()
        _COUNTS[key] = (now, n)
    return int(n)


def _labels(packed: str | None) -> dict[str, list[str]]:
    """taxonomy -> sorted labels, from a row's packed label string."""
    out: dict[str, list[str]] = {}
    if packed:
        # US sorts before every character of an id, so sorting the items sorts by (taxonomy, label).
        for item in sorted(packed.split(_RS)):
            tax, _, label = item.partition(_US)
            if tax in out:
                out[tax].append(label)
            else:
                out[tax] = [label]
    return out


def list_customers(session: Session, shop: str, f: CustomerFilter, *, limit: int, offset: int = 0,
                   cursor: str | None = None, with_count: bool = True,
                   count_ttl: float = 0.0, search_count_limit: int = 10_000) -> s.Page[s.CustomerRead]:
    """One page of the customers of the shop named ``shop`` (merged-away profiles left out).

    Sorted on a value, the customers without one come last (in customer id order) in both
    directions. The page is one statement (see ``_statements``), two at the turn from the customers
    with a value to those without; the count is one more, cached for ``count_ttl`` seconds per
    filter. A search (``q``) counts at most ``search_count_limit`` matches. An unknown shop raises
    ``NotFoundError`` naming the shops.
    """
    last = _decode(cursor, f.sort) if cursor else None
    conn = session.connection()
    dialect = conn.dialect.name
    params = {**_params(shop, f, conn), "count_limit": search_count_limit}
    after = {} if last is None else {"last_val": last[0], "last_key": last[1]}
    ids: tuple[int, int | None] | None = None

    def read(shape: _Shape, n: int, skip: int) -> list[Any]:
        return list(conn.execute(_statements(shape)[0], {**params, **after, "limit": n, "offset": skip}).all())

    if f.sort == "customer_id":
        rows = read(_shape(dialect, f, descending=f.descending, after=last is not None), limit + 1,
                    0 if last else offset)
    else:
        rows = []
        skip = 0 if last else offset
        if last is None or last[0] is not None:
            rows = read(_shape(dialect, f, sort=f.sort, descending=f.descending, part="values",
                               after=last is not None), limit + 1, skip)
            if rows:
                ids = (rows[0].shop_id, rows[0].snapshot_id)
            if not rows and skip:  # the offset is beyond the customers with a value
                ids = shop_ids(session, shop)
                skip = max(0, skip - _count(conn, _shape(dialect, f, sort=f.sort, part="values"), ids, f, params,
                                            count_ttl))
            else:
                skip = 0
        if len(rows) <= limit:
            nulls_after = last is not None and last[0] is None
            rows += read(_shape(dialect, f, sort=f.sort, part="nulls", after=nulls_after),
                         limit + 1 - len(rows), skip)
    if ids is None:
        ids = (rows[0].shop_id, rows[0].snapshot_id) if rows else shop_ids(session, shop)
    count = _count(conn, _shape(dialect, f), ids, f, params, count_ttl) if with_count else 0
    more = len(rows) > limit
    rows = rows[:limit]
    # Rows unpacked by position (a named attribute of a Row costs a lookup each).
    data = [{"customer_id": ext, "name": name, "email": email, "country": country, "city": city,
             "language": language, "preferred_channel": channel, "kind": kind, "created_at": created_at,
             "clv": clv, "p_alive": p_alive, "labels": _labels(packed)}
            for (ext, name, email, country, city, language, channel, kind, created_at, clv, p_alive, _, packed, *_)
            in rows]
    nxt = None
    if more and rows:
        tail = rows[-1]
        value = None if f.sort == "customer_id" else getattr(tail, f.sort)
        nxt = _encode([value, tail.external_id])
    # One validation of the whole page in pydantic-core: cheaper than a model_construct per row.
    return s.CustomerPage.model_validate({"data": data, "count": count, "next_cursor": nxt})


def shop_ids(session: Session, shop: str) -> tuple[int, int | None]:
    """The shop's id and its latest snapshot's id, in one Core statement (NotFoundError naming the
    shops if there is no such shop)."""
    found = session.connection().execute(shop_ids_statement(), {"name": shop}).first()
    if found is None:
        get_shop(session, shop)  # raises the NotFoundError naming the shops that exist
        raise AssertionError(shop)  # pragma: no cover - get_shop raised
    return int(found.id), found.snapshot_id


def label_read(r: Any) -> s.LabelRead:
    """A stored label row (ORM object or Core row) with its evidence decoded."""
    try:
        figures = json.loads(r.figures) if r.figures else {}
    except ValueError:
        figures = {}
    return s.LabelRead(taxonomy=r.taxonomy, label=r.label, rule_id=r.rule_id,
                       figures=figures if isinstance(figures, dict) else {}, text=r.text)


def prediction_read(row: Any, customer_id: str, as_of: date) -> s.PredictionRead:
    """A stored score row (ORM object or Core row) of the snapshot of ``as_of``."""
    products = json.loads(row.next_products) if row.next_products else []
    return s.PredictionRead(customer_id=customer_id, model=row.model, p_alive=row.p_alive,
                            expected_purchases_90d=row.expected_purchases_90d,
                            expected_purchases_365d=row.expected_purchases_365d, clv=row.clv,
                            expected_next_order=row.expected_next_order,
                            next_products=products if isinstance(products, list) else [], as_of=as_of,
                            **{k: getattr(row, k, None) for k in ("purchases_365d_low", "purchases_365d_high",
                                                                  "clv_low", "clv_high")})


def order_read(o: m.Order, ext: str) -> s.OrderRead:
    return s.OrderRead(order_id=o.external_id, customer_id=ext, ordered_at=o.ordered_at, channel=o.channel,
                       currency=o.currency, total=float(to_major(o.total_minor or 0, o.currency)),
                       discount_total=float(to_major(o.discount_minor or 0, o.currency)), status=o.status)


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


def _entity_page(session: Session, entity: Any, where: list[Any], order: tuple[Any, ...], offset: int,
                 limit: int) -> tuple[int, list[Any]]:
    """(how many rows of ``entity`` match ``where``, one page of (row, customer external id) in ``order``)."""
    count = session.scalar(select(func.count()).select_from(entity).where(*where)) or 0
    rows = session.execute(select(entity, m.Customer.external_id)
                           .join(m.Customer, m.Customer.id == entity.customer_id).where(*where)
                           .order_by(*order).offset(offset).limit(limit)).all()
    return count, list(rows)


def shop_interactions(session: Session, shop: m.Shop, *, limit: int, offset: int,
                      customer_id: str | None = None) -> s.Page[s.InteractionRead]:
    where: list[Any] = [m.Interaction.shop_id == shop.id]
    if customer_id:
        where.append(m.Interaction.customer_id == get_customer(session, shop.id, customer_id).id)
    count, rows = _entity_page(session, m.Interaction, where,
                               (m.Interaction.occurred_at.desc(), m.Interaction.id.desc()), offset, limit)
    return s.InteractionPage(data=[interaction_read(i, ext) for i, ext in rows], count=count)


def shop_feedback(session: Session, shop: m.Shop, *, limit: int, offset: int, kind: str | None = None,
                  customer_id: str | None = None) -> s.Page[s.FeedbackRead]:
    where: list[Any] = [m.Feedback.shop_id == shop.id]
    if kind:
        where.append(m.Feedback.kind == kind)
    if customer_id:
        where.append(m.Feedback.customer_id == get_customer(session, shop.id, customer_id).id)
    count, rows = _entity_page(session, m.Feedback, where, (m.Feedback.submitted_at.desc(), m.Feedback.id.desc()),
                               offset, limit)
    return s.FeedbackPage(data=[feedback_read(fb, ext) for fb, ext in rows], count=count)


def prediction(session: Session, shop: m.Shop, customer_id: str) -> s.PredictionRead | None:
    snap = current_snapshot(session, shop.id)
    if snap is None:
        return None
    row = session.get(m.SnapshotScore, (snap.id, customer_id))
    return None if row is None else prediction_read(row, customer_id, snap.as_of)


def customer_labels(session: Session, shop: m.Shop, customer_id: str) -> list[s.LabelRead]:
    snap = current_snapshot(session, shop.id)
    if snap is None:
        return []
    rows = session.scalars(select(m.SnapshotLabel).where(m.SnapshotLabel.snapshot_id == snap.id,
                                                         m.SnapshotLabel.customer_id == customer_id)
                           .order_by(m.SnapshotLabel.taxonomy, m.SnapshotLabel.label))
    return [label_read(r) for r in rows]
