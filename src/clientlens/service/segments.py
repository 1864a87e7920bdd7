"""Segments of a snapshot (sizes and revenue per taxonomy), flows between two snapshots, export."""

from __future__ import annotations

import csv
import io
from collections import Counter
from datetime import date

from sqlalchemy import select
from sqlalchemy.orm import Session

from clientlens.analysis.export import safe_row
from clientlens.errors import NotFoundError
from clientlens.money import quantize
from clientlens.service import schemas as s
from clientlens.service.auth import audit
from clientlens.store import models as m
from clientlens.store.repository import latest_snapshot, reporting_currency


def snapshots(session: Session, shop: m.Shop) -> list[s.SnapshotRead]:
    rows = session.scalars(select(m.Snapshot).where(m.Snapshot.shop_id == shop.id).order_by(m.Snapshot.as_of.desc()))
    return [s.SnapshotRead(as_of=r.as_of, created_at=r.created_at, engine=r.engine) for r in rows]


def delete_snapshot(session: Session, shop: m.Shop, as_of: date, *, actor: str) -> s.Message:
    """Remove the snapshot of ``as_of`` (audited); the current snapshot is then the newest one left."""
    from clientlens.analysis.store_io import delete_snapshot_rows

    snap = snapshot(session, shop, as_of)
    assert snap is not None  # snapshot() raised NotFoundError otherwise
    delete_snapshot_rows(session, snap)
    audit(session, actor, "snapshot_deleted", target=as_of.isoformat(), shop=shop.name)
    return s.Message(message=f"deleted the snapshot of {shop.name} as of {as_of.isoformat()}")


def snapshot(session: Session, shop: m.Shop, as_of: date | None) -> m.Snapshot | None:
    snap = latest_snapshot(session, shop.id, as_of=as_of)
    if snap is None and as_of is not None:
        raise NotFoundError(f"shop {shop.name!r} has no snapshot as of {as_of} (field: as_of); run clientlens analyze")
    return snap


def summary(session: Session, shop: m.Shop, *, as_of: date | None = None,
            taxonomy: str | None = None) -> list[s.SegmentRead]:
    snap = snapshot(session, shop, as_of)
    if snap is None:
        return []
    query = select(m.SnapshotSummary).where(m.SnapshotSummary.snapshot_id == snap.id)
    if taxonomy:
        query = query.where(m.SnapshotSummary.taxonomy == taxonomy)
    rows = session.scalars(query.order_by(m.SnapshotSummary.taxonomy, m.SnapshotSummary.customers.desc()))
    return [s.SegmentRead(taxonomy=r.taxonomy, label=r.label, customers=r.customers,
                          customers_share=r.customers_share, revenue=float(r.revenue), revenue_share=r.revenue_share)
            for r in rows]


def flows(session: Session, shop: m.Shop, taxonomy: str, from_as_of: date, to_as_of: date) -> list[s.FlowRead]:
    """How many customers moved from each label to each label between two snapshots (None: no label)."""
    a = snapshot(session, shop, from_as_of)
    b = snapshot(session, shop, to_as_of)
    assert a is not None and b is not None

    def labels(snap_id: int) -> dict[str, set[str]]:
        out: dict[str, set[str]] = {}
        for cid, label in session.execute(select(m.SnapshotLabel.customer_id, m.SnapshotLabel.label)
                                          .where(m.SnapshotLabel.snapshot_id == snap_id,
                                                 m.SnapshotLabel.taxonomy == taxonomy)):
            out.setdefault(cid, set()).add(label)
        return out

    before, after = labels(a.id), labels(b.id)
    counts: Counter[tuple[str | None, str | None]] = Counter()
    for cid in before.keys() | after.keys():
        old: set[str | None] = set(before.get(cid, set())) or {None}
        new: set[str | None] = set(after.get(cid, set())) or {None}
        for x in old:
            for y in new:
                counts[(x, y)] += 1
    return [s.FlowRead(taxonomy=taxonomy, from_label=x, to_label=y, customers=n)
            for (x, y), n in sorted(counts.items(), key=lambda kv: (-kv[1], str(kv[0])))]


def export_csv(session: Session, shop: m.Shop, taxonomy: str, label: str, as_of: date | None = None) -> tuple[str, int]:
    """CSV of the customers holding ``label`` in ``taxonomy`` (id, name, email, country, CLV, P(alive), evidence)."""
    snap = snapshot(session, shop, as_of)
    buf = io.StringIO()
    writer = csv.writer(buf)
    writer.writerow(["customer_id", "name", "email", "country", "clv", "currency", "p_alive", "rule_id", "evidence"])
    n = 0
    if snap is not None:
        currency = reporting_currency(session, shop.id)
        query = (select(m.SnapshotLabel, m.Customer, m.SnapshotScore)
                 .join(m.Customer, (m.Customer.shop_id == shop.id)
                       & (m.Customer.external_id == m.SnapshotLabel.customer_id))
                 .outerjoin(m.SnapshotScore, (m.SnapshotScore.snapshot_id == snap.id)
                            & (m.SnapshotScore.customer_id == m.SnapshotLabel.customer_id))
                 .where(m.SnapshotLabel.snapshot_id == snap.id, m.SnapshotLabel.taxonomy == taxonomy,
                        m.SnapshotLabel.label == label)
                 .order_by(m.SnapshotLabel.customer_id))
        for lab, cust, score in session.execute(query):
            clv = score.clv if score is not None and score.clv is not None and score.clv == score.clv else None
            writer.writerow(safe_row([cust.external_id, cust.name or "", cust.email or "", cust.country or "",
                                      "" if clv is None else str(quantize(clv, currency)),
                                      currency if clv is not None else "", score.p_alive if score else "",
                                      lab.rule_id, lab.text]))
            n += 1
    return buf.getvalue(), n
