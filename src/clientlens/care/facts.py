"""What the care layer knows about customers from a snapshot: labels and scores, by external id.

The CLV rank has one rule, here: a customer's ``clv_rank_share`` is the share of the snapshot's
customers with a CLV that have a strictly higher CLV (0 for the most valuable; customers with equal
CLV share the better rank; customers without a CLV have none). ``clv_rank_shares`` gives every
customer's, ``clv_rank_share`` one customer's from the snapshot's sorted CLVs; both give the same.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any

import numpy as np
from sqlalchemy import select
from sqlalchemy.orm import Session

from clientlens.care.config import CareSettings
from clientlens.care.customer_rows import CustomerRows
from clientlens.care.signals import ServiceSignal, signals_of
from clientlens.store import models as m
from clientlens.store.repository import CurrentSnapshot, latest_snapshot, reporting_currency


@dataclass(frozen=True)
class CustomerFacts:
    """Labels (``"taxonomy:label"``) and scores of one customer in one snapshot."""

    labels: frozenset[str] = frozenset()
    p_alive: float | None = None
    clv: float | None = None
    clv_rank_share: float | None = None  # 0 = highest CLV of the shop, 1 = lowest
    label_by_taxonomy: dict[str, str] = field(default_factory=dict)
    currency: str | None = None  # the reporting currency CLV is in
    signals: tuple[ServiceSignal, ...] = ()  # service signals (care.signals), when they were read

    def signal_kinds(self) -> frozenset[str]:
        return frozenset(s.kind for s in self.signals)

    def with_signals(self, signals: list[ServiceSignal] | tuple[ServiceSignal, ...]) -> CustomerFacts:
        return replace(self, signals=tuple(signals))

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


def clv_rank_share(sorted_clv: np.ndarray, clv: float | None) -> float | None:
    """The CLV rank share of ``clv`` among ``sorted_clv`` (every CLV of the snapshot, ascending, no NaN)."""
    if clv is None or math.isnan(clv) or sorted_clv.size == 0:
        return None
    return float(sorted_clv.size - np.searchsorted(sorted_clv, clv, side="right")) / sorted_clv.size


def clv_rank_shares(clv_by_customer: dict[str, float | None]) -> dict[str, float]:
    """The CLV rank share of every customer with a CLV (the rule of ``clv_rank_share``, vectorised)."""
    ids = [c for c, v in clv_by_customer.items() if v is not None and not math.isnan(v)]
    values = np.asarray([clv_by_customer[c] for c in ids], dtype=float)
    ranked = np.sort(values)
    higher = ranked.size - np.searchsorted(ranked, values, side="right")
    return {c: float(h) / ranked.size for c, h in zip(ids, higher.tolist(), strict=True)}


_SORTED_CLV: dict[tuple[str, int, Any], np.ndarray] = {}


def sorted_clv(session: Session, snapshot_id: int, created_at: Any) -> np.ndarray:
    """Every CLV of a snapshot, ascending (read once per snapshot and process: one rank is O(log n))."""
    key = (str(getattr(session.get_bind(), "url", "")), snapshot_id, created_at)
    if key not in _SORTED_CLV:
        if len(_SORTED_CLV) > 8:
            _SORTED_CLV.clear()
        values = session.scalars(select(m.SnapshotScore.clv).where(m.SnapshotScore.snapshot_id == snapshot_id,
                                                                   m.SnapshotScore.clv.is_not(None))).all()
        arr = np.asarray(values, dtype=float)
        _SORTED_CLV[key] = np.sort(arr[~np.isnan(arr)])
    return _SORTED_CLV[key]


def _currency(session: Session, shop_id: int) -> str:
    """The currency CLV is in: the one the current snapshot was analysed in (``reporting_currency``)."""
    return reporting_currency(session, shop_id)


def customer_facts(session: Session, rows: CustomerRows, shop_id: int, currency: str | None = None, *,
                   care: CareSettings | None = None, now: datetime | None = None) -> CustomerFacts:
    """The facts of one customer from its rows (``customer_rows``), ranked among its snapshot's CLVs; CLV in
    ``currency`` (default: the shop's reporting currency). With ``care`` and ``now``, the service signals
    of its feedback and conversations as of ``now`` too (``care.signals``)."""
    signals = tuple(signals_of(rows.feedback, rows.conversations, care, now)) \
        if care is not None and now is not None else ()
    if rows.snapshot is None:
        return CustomerFacts(signals=signals)
    pairs = [(r.taxonomy, r.label) for r in rows.labels]
    p_alive, clv = (rows.score.p_alive, rows.score.clv) if rows.score is not None else (None, None)
    share = clv_rank_share(sorted_clv(session, rows.snapshot.id, rows.snapshot.created_at), clv)
    return CustomerFacts(frozenset(f"{t}:{lab}" for t, lab in pairs), p_alive, clv, share,
                         {t: lab for t, lab in pairs}, currency or _currency(session, shop_id), signals)


def facts_of_snapshot(session: Session, snapshot: m.Snapshot | CurrentSnapshot | None,
                      external_ids: list[str] | None = None) -> ShopFacts:
    """Labels and scores of ``snapshot`` (of every customer, or of ``external_ids``), with CLV rank shares."""
    if snapshot is None:
        return ShopFacts(None, {})
    labels: dict[str, set[str]] = {}
    single: dict[str, dict[str, str]] = {}
    lq = (select(m.SnapshotLabel.customer_id, m.SnapshotLabel.taxonomy, m.SnapshotLabel.label)
          .where(m.SnapshotLabel.snapshot_id == snapshot.id))
    sq = (select(m.SnapshotScore.customer_id, m.SnapshotScore.p_alive, m.SnapshotScore.clv)
          .where(m.SnapshotScore.snapshot_id == snapshot.id))
    if external_ids is not None:
        lq = lq.where(m.SnapshotLabel.customer_id.in_(external_ids))
        sq = sq.where(m.SnapshotScore.customer_id.in_(external_ids))
    for cid, tax, lab in session.execute(lq):
        labels.setdefault(cid, set()).add(f"{tax}:{lab}")
        single.setdefault(cid, {})[tax] = lab
    scores = {cid: (pa, clv) for cid, pa, clv in session.execute(sq)}
    if external_ids is None:
        rank_share = clv_rank_shares({c: v for c, (_, v) in scores.items()})
    else:
        ranked = sorted_clv(session, snapshot.id, snapshot.created_at)
        rank_share = {c: s for c, (_, v) in scores.items() if (s := clv_rank_share(ranked, v)) is not None}
    currency = _currency(session, snapshot.shop_id)
    out: dict[str, CustomerFacts] = {}
    for cid in set(labels) | set(scores):
        pa, clv = scores.get(cid, (None, None))
        out[cid] = CustomerFacts(frozenset(labels.get(cid, ())), pa, clv, rank_share.get(cid),
                                 single.get(cid, {}), currency)
    return ShopFacts(snapshot.id, out)


def latest_facts(session: Session, shop_id: int, external_ids: list[str] | None = None) -> ShopFacts:
    """Facts of the shop's current snapshot (of every customer, or of ``external_ids``)."""
    snap = latest_snapshot(session, shop_id)
    facts = facts_of_snapshot(session, snap, external_ids)
    return facts


def two_latest_snapshots(session: Session, shop_id: int) -> tuple[m.Snapshot | None, m.Snapshot | None]:
    """(previous, latest) snapshots of a shop; None where missing."""
    snaps = list(session.scalars(select(m.Snapshot).where(m.Snapshot.shop_id == shop_id)
                                 .order_by(m.Snapshot.as_of.desc()).limit(2)))
    latest = snaps[0] if snaps else None
    previous = snaps[1] if len(snaps) > 1 else None
    return previous, latest
