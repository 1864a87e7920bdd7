"""What the care layer knows about customers from a snapshot: labels and scores, by external id."""

from __future__ import annotations

import math
from dataclasses import dataclass, field

from sqlalchemy import select
from sqlalchemy.orm import Session

from clientlens.store import models as m
from clientlens.store.repository import latest_snapshot


@dataclass(frozen=True)
class CustomerFacts:
    """Labels (``"taxonomy:label"``) and scores of one customer in one snapshot."""

    labels: frozenset[str] = frozenset()
    p_alive: float | None = None
    clv: float | None = None
    clv_rank_share: float | None = None  # 0 = highest CLV of the shop, 1 = lowest
    label_by_taxonomy: dict[str, str] = field(default_factory=dict)

    def has(self, taxonomy: str, label: str) -> bool:
        return f"{taxonomy}:{label}" in self.labels

    def meets(self, *, labels_any: tuple[str, ...] | list[str] = (), labels_all: tuple[str, ...] | list[str] = (),
              labels_none: tuple[str, ...] | list[str] = (), clv_top_share: float | None = None,
              min_p_alive: float | None = None, max_p_alive: float | None = None) -> bool:
        """The label and score conditions shared by campaign audiences and playbook rules.

        An unknown score never meets a condition on it.
        """
        if labels_any and not any(lab in self.labels for lab in labels_any):
            return False
        if any(lab not in self.labels for lab in labels_all) or any(lab in self.labels for lab in labels_none):
            return False
        if clv_top_share is not None and (self.clv_rank_share is None or self.clv_rank_share >= clv_top_share):
            return False
        if min_p_alive is not None and (self.p_alive is None or self.p_alive < min_p_alive):
            return False
        return not (max_p_alive is not None and (self.p_alive is None or self.p_alive > max_p_alive))


@dataclass(frozen=True)
class ShopFacts:
    """Facts of every customer of a shop in one snapshot (empty when there is none)."""

    snapshot_id: int | None
    by_customer: dict[str, CustomerFacts]

    def get(self, external_id: str) -> CustomerFacts:
        return self.by_customer.get(external_id, CustomerFacts())


def facts_of_snapshot(session: Session, snapshot: m.Snapshot | None) -> ShopFacts:
    """Labels and scores of ``snapshot``; CLV rank shares computed over customers with a CLV."""
    if snapshot is None:
        return ShopFacts(None, {})
    labels: dict[str, set[str]] = {}
    single: dict[str, dict[str, str]] = {}
    for cid, tax, lab in session.execute(
            select(m.SnapshotLabel.customer_id, m.SnapshotLabel.taxonomy, m.SnapshotLabel.label)
            .where(m.SnapshotLabel.snapshot_id == snapshot.id)):
        labels.setdefault(cid, set()).add(f"{tax}:{lab}")
        single.setdefault(cid, {})[tax] = lab
    scores = {cid: (pa, clv) for cid, pa, clv in session.execute(
        select(m.SnapshotScore.customer_id, m.SnapshotScore.p_alive, m.SnapshotScore.clv)
        .where(m.SnapshotScore.snapshot_id == snapshot.id))}
    ranked = sorted((c for c, (_, v) in scores.items() if v is not None and not math.isnan(v)),
                    key=lambda c: (-float(scores[c][1]), c))  # type: ignore[arg-type]
    n = len(ranked)
    rank_share = {c: i / n for i, c in enumerate(ranked)}
    out: dict[str, CustomerFacts] = {}
    for cid in set(labels) | set(scores):
        pa, clv = scores.get(cid, (None, None))
        out[cid] = CustomerFacts(frozenset(labels.get(cid, ())), pa, clv, rank_share.get(cid),
                                 single.get(cid, {}))
    return ShopFacts(snapshot.id, out)


def latest_facts(session: Session, shop_id: int) -> ShopFacts:
    """Facts of the shop's latest snapshot."""
    return facts_of_snapshot(session, latest_snapshot(session, shop_id))


def two_latest_snapshots(session: Session, shop_id: int) -> tuple[m.Snapshot | None, m.Snapshot | None]:
    """(previous, latest) snapshots of a shop; None where missing."""
    snaps = list(session.scalars(select(m.Snapshot).where(m.Snapshot.shop_id == shop_id)
                                 .order_by(m.Snapshot.as_of.desc()).limit(2)))
    latest = snaps[0] if snaps else None
    previous = snaps[1] if len(snaps) > 1 else None
    return previous, latest
