"""Snapshots in the operational store: write (re-running an as-of date replaces it), read, flows.

Tables (store/models.py): ``snapshots`` (run JSON: config, versions, timings, Pareto, retention),
``snapshot_features`` (one JSON object per customer), ``snapshot_labels``, ``snapshot_scores``,
``snapshot_summary``.
"""

from __future__ import annotations

import json
import logging
from datetime import date, datetime
from typing import Any

import pandas as pd
from sqlalchemy import Engine, delete, func, insert, select
from sqlalchemy.orm import Session

from clientlens.analysis.flows import label_flows
from clientlens.analysis.snapshot import SCORE_COLUMNS, Snapshot, json_safe, scores_for_output
from clientlens.analysis.summary import SUMMARY_COLUMNS, as_records
from clientlens.errors import NotFoundError
from clientlens.segments.evidence import LABEL_COLUMNS
from clientlens.store import models as m
from clientlens.store.db import session_scope
from clientlens.store.repository import current_snapshot_id, get_or_create_shop, get_shop, utcnow

log = logging.getLogger(__name__)
CHUNK = 20_000


def _chunks(rows: list[dict[str, Any]]) -> list[list[dict[str, Any]]]:
    return [rows[i:i + CHUNK] for i in range(0, len(rows), CHUNK)]


def _records(df: pd.DataFrame) -> list[dict[str, Any]]:
    return [json_safe(r) for r in df.to_dict(orient="records")]


def save_snapshot(engine: Engine, snap: Snapshot) -> int:
    """Write ``snap`` for its shop and as-of date, replacing an earlier run of that date; returns its id."""
    run = dict(snap.run)
    run["pareto"] = {**snap.pareto_stats, "points": as_records(snap.pareto)}
    run["retention"] = as_records(snap.retention)
    with session_scope(engine) as session:
        shop = get_or_create_shop(session, snap.shop)
        old = session.scalar(select(m.Snapshot).where(m.Snapshot.shop_id == shop.id,
                                                      m.Snapshot.as_of == snap.as_of))
        if old is not None:
            delete_snapshot_rows(session, old)
        row = m.Snapshot(shop_id=shop.id, as_of=snap.as_of, created_at=utcnow(), engine=snap.engine,
                         run=json.dumps(json_safe(run), ensure_ascii=False))
        session.add(row)
        session.flush()
        sid = row.id
        feats = snap.features
        feat_rows = [{"snapshot_id": sid, "customer_id": str(r["customer_id"]),
                      "data": json.dumps(json_safe({k: v for k, v in r.items() if k != "customer_id"}),
                                         ensure_ascii=False)}
                     for r in feats.to_dict(orient="records")]
        for part in _chunks(feat_rows):
            session.execute(insert(m.SnapshotFeatures), part)
        labels = snap.labels[LABEL_COLUMNS].assign(snapshot_id=sid)
        for part in _chunks(labels.to_dict(orient="records")):
            session.execute(insert(m.SnapshotLabel), part)
        summary = snap.summary[SUMMARY_COLUMNS].assign(snapshot_id=sid)
        session.execute(insert(m.SnapshotSummary), _records(summary))
        if snap.scores is not None and len(snap.scores):
            scores = scores_for_output(snap.scores).assign(snapshot_id=sid)
            scores["expected_next_order"] = pd.to_datetime(scores["expected_next_order"]).dt.date
            rows = [{k: (None if v is pd.NaT or (isinstance(v, float) and v != v) else v) for k, v in r.items()}
                    for r in scores.to_dict(orient="records")]
            for part in _chunks(rows):
                session.execute(insert(m.SnapshotScore), part)
    log.info("snapshot %s of shop %s as of %s stored", sid, snap.shop, snap.as_of)
    return sid


def _snapshot_row(session: Session, shop: str, as_of: date | None) -> m.Snapshot:
    shop_row = get_shop(session, shop)
    query = select(m.Snapshot).where(m.Snapshot.shop_id == shop_row.id)
    if as_of is not None:
        query = query.where(m.Snapshot.as_of == as_of)
    else:
        query = query.where(m.Snapshot.id == current_snapshot_id(shop_row.id))
    row = session.scalar(query)
    if row is None:
        when = f"as of {as_of.isoformat()}" if as_of else "at all"
        known = ", ".join(d.isoformat() for d in session.scalars(
            select(m.Snapshot.as_of).where(m.Snapshot.shop_id == shop_row.id).order_by(m.Snapshot.as_of)))
        raise NotFoundError(f"shop {shop!r} has no snapshot {when} (snapshots: {known or 'none'}); "
                            f"run clientlens analyze --shop {shop}")
    return row


SNAPSHOT_TABLES = (m.SnapshotFeatures, m.SnapshotLabel, m.SnapshotScore, m.SnapshotSummary)


def delete_snapshot_rows(session: Any, snapshot: m.Snapshot) -> None:
    """Delete one snapshot and its rows, in the caller's session."""
    for table in SNAPSHOT_TABLES:
        session.execute(delete(table).where(table.snapshot_id == snapshot.id))
    session.delete(snapshot)
    session.flush()


def delete_snapshot(engine: Engine, shop: str, as_of: date) -> dict[str, Any]:
    """Remove the snapshot of ``as_of`` (its features, labels, scores and summary); the current snapshot is then
    the newest one left (NotFoundError naming the snapshots there are when there is none of that date)."""
    with session_scope(engine) as session:
        row = _snapshot_row(session, shop, as_of)
        snapshot = session.get(m.Snapshot, row.id)
        assert snapshot is not None
        labels = session.scalar(select(func.count()).select_from(m.SnapshotLabel)
                                .where(m.SnapshotLabel.snapshot_id == row.id)) or 0
        delete_snapshot_rows(session, snapshot)
    return {"shop": shop, "as_of": as_of, "labels": int(labels)}


def list_snapshots(engine: Engine, shop: str) -> list[dict[str, Any]]:
    """As-of dates, engines and creation times of a shop's snapshots."""
    with session_scope(engine) as session:
        shop_row = get_shop(session, shop)
        rows = session.execute(select(m.Snapshot.id, m.Snapshot.as_of, m.Snapshot.engine, m.Snapshot.created_at)
                               .where(m.Snapshot.shop_id == shop_row.id).order_by(m.Snapshot.as_of)).all()
    return [{"id": r.id, "as_of": r.as_of, "engine": r.engine, "created_at": r.created_at} for r in rows]


def load_labels(engine: Engine, shop: str, as_of: date | None = None, *, taxonomy: str | None = None,
                customer_id: str | None = None) -> tuple[date, pd.DataFrame]:
    """The labels of a snapshot (the latest when ``as_of`` is None), sorted by key."""
    with session_scope(engine) as session:
        row = _snapshot_row(session, shop, as_of)
        query = select(*(getattr(m.SnapshotLabel, c) for c in LABEL_COLUMNS)).where(
            m.SnapshotLabel.snapshot_id == row.id)
        if taxonomy is not None:
            query = query.where(m.SnapshotLabel.taxonomy == taxonomy)
        if customer_id is not None:
            query = query.where(m.SnapshotLabel.customer_id == str(customer_id))
        df = pd.DataFrame(session.execute(query).all(), columns=LABEL_COLUMNS)
        found = row.as_of
    return found, df.sort_values(["customer_id", "taxonomy", "label"], kind="mergesort").reset_index(drop=True)


def load_snapshot(engine: Engine, shop: str, as_of: date | None = None) -> Snapshot:
    """A whole snapshot back from the store."""
    with session_scope(engine) as session:
        row = _snapshot_row(session, shop, as_of)
        sid, found, eng_name = row.id, row.as_of, row.engine
        run = json.loads(row.run or "{}")
        feats = session.execute(select(m.SnapshotFeatures.customer_id, m.SnapshotFeatures.data)
                                .where(m.SnapshotFeatures.snapshot_id == sid)).all()
        summary = pd.DataFrame(session.execute(
            select(*(getattr(m.SnapshotSummary, c) for c in SUMMARY_COLUMNS))
            .where(m.SnapshotSummary.snapshot_id == sid)).all(), columns=SUMMARY_COLUMNS)
        scores = pd.DataFrame(session.execute(
            select(*(getattr(m.SnapshotScore, c) for c in SCORE_COLUMNS))
            .where(m.SnapshotScore.snapshot_id == sid)).all(), columns=SCORE_COLUMNS)
    _, labels = load_labels(engine, shop, found)
    features = pd.DataFrame([{"customer_id": cid, **json.loads(data)} for cid, data in feats])
    if len(features):
        features = features.sort_values("customer_id", kind="mergesort").reset_index(drop=True)
    summary["revenue"] = summary["revenue"].astype("float64")
    summary = summary.sort_values(["taxonomy", "label"]).reset_index(drop=True)
    pareto = run.get("pareto", {})
    points = pd.DataFrame(pareto.get("points", []), columns=["customers_share", "revenue_share"])
    stats = {k: pareto.get(k) for k in ("top20_revenue_share", "gini")}
    retention = pd.DataFrame(run.get("retention", []))
    return Snapshot(shop=shop, as_of=found, engine=eng_name, features=features, labels=labels, summary=summary,
                    pareto=points, pareto_stats=stats, retention=retention,  # type: ignore[arg-type]
                    scores=scores if len(scores) else None, run=run)


def load_summary(engine: Engine, shop: str, as_of: date | None = None) -> tuple[date, pd.DataFrame]:
    with session_scope(engine) as session:
        row = _snapshot_row(session, shop, as_of)
        df = pd.DataFrame(session.execute(
            select(*(getattr(m.SnapshotSummary, c) for c in SUMMARY_COLUMNS))
            .where(m.SnapshotSummary.snapshot_id == row.id)).all(), columns=SUMMARY_COLUMNS)
        found = row.as_of
    df["revenue"] = df["revenue"].astype("float64")
    return found, df.sort_values(["taxonomy", "label"]).reset_index(drop=True)


def snapshot_flows(engine: Engine, shop: str, from_date: date, to_date: date, *,
                   taxonomy: str | None = None) -> pd.DataFrame:
    """Customers per (taxonomy, from_label, to_label) between two stored snapshots."""
    _, before = load_labels(engine, shop, from_date, taxonomy=taxonomy)
    _, after = load_labels(engine, shop, to_date, taxonomy=taxonomy)
    return label_flows(before, after, taxonomy=taxonomy)


def parse_date(value: str | date | datetime | None) -> date | None:
    if value is None or isinstance(value, date) and not isinstance(value, datetime):
        return value  # type: ignore[return-value]
    if isinstance(value, datetime):
        return value.date()
    return date.fromisoformat(value)
