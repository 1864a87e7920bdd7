"""Customer 360: profile and consents, labels with evidence, predictions, timeline, next best action,
conversations."""

from __future__ import annotations

import logging
import math
from functools import lru_cache
from typing import Any

import numpy as np
from sqlalchemy import select, text
from sqlalchemy.orm import Session

from clientlens.care.facts import CustomerFacts
from clientlens.config import Settings
from clientlens.service import conversations, customers, fast360, fast360_pg
from clientlens.service import schemas as s
from clientlens.service.config import WebSettings
from clientlens.service.snapshots import current_snapshot
from clientlens.store import models as m
from clientlens.store.models import CONSENT_CHANNELS
from clientlens.store.repository import get_customer, utcnow

log = logging.getLogger(__name__)

PROFILE_FIELDS = ("external_id", "kind", "name", "email", "phone", "birth_date", "gender", "income_band", "address",
                  "city", "country", "language", "timezone", "preferred_channel", "created_at")


def timeline(session: Session, shop: m.Shop, cust: m.Customer, limit: int) -> list[s.TimelineEvent]:
    """The care layer's timeline of the customer (orders, messages, labels, campaigns...), newest first."""
    from clientlens.care.timeline import customer_timeline

    events = customer_timeline(session, shop.name, cust.external_id)
    out = [s.TimelineEvent(at=e.at, kind=e.kind, summary=e.summary,
                           data={k: v for k, v in e.details.items() if isinstance(v, str | int | float | bool | None)})
           for e in events]
    out.sort(key=lambda e: e.at, reverse=True)
    return out[:limit]


def _action(a: Any) -> s.ActionRead:
    return s.ActionRead(customer_id=a.customer_id, action=a.action, rule_id=a.rule_id, priority=a.priority,
                        reason=a.reason, template=a.template, language=a.language)


_CLV_CACHE: dict[tuple[str, int, Any], np.ndarray] = {}


def _sorted_clv(session: Session, snap: m.Snapshot) -> np.ndarray:
    """Every CLV of a snapshot, sorted (cached per snapshot: ranking one customer stays O(log n))."""
    key = (str(getattr(session.get_bind(), "url", "")), snap.id, snap.created_at)
    if key not in _CLV_CACHE:
        if len(_CLV_CACHE) > 8:
            _CLV_CACHE.clear()
        values = session.scalars(select(m.SnapshotScore.clv).where(m.SnapshotScore.snapshot_id == snap.id,
                                                                   m.SnapshotScore.clv.is_not(None))).all()
        arr = np.asarray(values, dtype=float)
        _CLV_CACHE[key] = np.sort(arr[~np.isnan(arr)])
    return _CLV_CACHE[key]


def customer_facts(session: Session, shop: m.Shop, external_id: str) -> CustomerFacts:
    """The care layer's facts of ONE customer (labels, scores, CLV rank share) without loading the shop's."""
    snap = current_snapshot(session, shop.id)
    if snap is None:
        return CustomerFacts()
    rows = session.execute(select(m.SnapshotLabel.taxonomy, m.SnapshotLabel.label)
                           .where(m.SnapshotLabel.snapshot_id == snap.id,
                                  m.SnapshotLabel.customer_id == external_id)).all()
    score = session.get(m.SnapshotScore, (snap.id, external_id))
    p_alive, clv, share = (score.p_alive, score.clv, None) if score else (None, None, None)
    if clv is not None and not math.isnan(clv):
        ranked = _sorted_clv(session, snap)
        share = float(len(ranked) - np.searchsorted(ranked, clv, side="right")) / len(ranked)
    return CustomerFacts(frozenset(f"{t}:{lab}" for t, lab in rows), p_alive, clv, share,
                         {t: lab for t, lab in rows})


@lru_cache(maxsize=4)
def _playbook(path: str) -> Any:
    """The care playbook (read once per process; restart the server after editing it)."""
    from clientlens.care.playbooks import load_playbook

    return load_playbook(path or None)


def next_best_action(session: Session, settings: Settings, shop: m.Shop, cust: m.Customer) -> s.ActionRead | None:
    """The care layer's next best action for this customer (its playbook and loyalty rules), or None."""
    from clientlens.care.config import care_settings
    from clientlens.care.loyalty import loyalty_statuses
    from clientlens.care.playbooks import actions_for

    care = care_settings(settings)
    loyalty = loyalty_statuses(session, shop.id, care, utcnow().date(), [cust.id]).get(cust.id)
    acts = actions_for(cust, customer_facts(session, shop, cust.external_id), _playbook(care.playbook), loyalty)
    return _action(acts[0]) if acts else None


def _sync_if_new(session: Session, settings: Settings, shop: m.Shop, cust: m.Customer) -> None:
    """Group this customer's new interactions into conversations (the care inbox sync) when there are any."""
    from clientlens.store.care_models import ConversationMessage

    new = session.scalar(select(m.Interaction.id).outerjoin(
        ConversationMessage, ConversationMessage.interaction_id == m.Interaction.id)
        .where(m.Interaction.customer_id == cust.id, ConversationMessage.id.is_(None)).limit(1))
    if new is not None:
        _sync(session, settings, shop)


def _sync(session: Session, settings: Settings, shop: m.Shop) -> None:
    """The care inbox sync of the shop, in the request's transaction or, in autocommit, in its own."""
    write_engine = session.info.get("clientlens_write_engine")
    if write_engine is None:
        conversations.sync(session, settings, shop)
        session.flush()  # the 360's Core reads see the new conversations
        return
    # The session runs in autocommit (api.deps.get_db): the sync gets a transaction of its own,
    # committed before the 360 reads the conversations.
    with Session(write_engine, expire_on_commit=False) as writer:
        conversations.sync(writer, settings, shop)
        writer.commit()


def merged_into(customer_pk: int) -> Any:
    """External ids of the profiles merged into ``customer_pk``.

    SQLite's statistics see a column that is NULL for nearly every row as useless to index and
    scan the table (300 ms at 1M customers); the hint keeps the index.
    """
    return select(m.Customer.external_id).where(m.Customer.merged_into_id == customer_pk)


def merged_from_ids(session: Session, customer_pk: int) -> list[str]:
    if session.get_bind().dialect.name == "sqlite":
        return list(session.scalars(text("SELECT external_id FROM customers INDEXED BY ix_customers_merged_into_id "
                                         "WHERE merged_into_id = :pk"), {"pk": customer_pk}))
    return list(session.scalars(merged_into(customer_pk)))


_CARE: dict[int, tuple[Settings, Any]] = {}


def _care(settings: Settings) -> Any:
    """``care_settings(settings)``, validated once per settings object."""
    from clientlens.care.config import care_settings

    hit = _CARE.get(id(settings))
    if hit is None or hit[0] is not settings:
        if len(_CARE) > 16:
            _CARE.clear()
        hit = _CARE[id(settings)] = (settings, care_settings(settings))
    return hit[1]


def customer_360(session: Session, settings: Settings, cfg: WebSettings, shop: m.Shop,
                 customer_id: str) -> s.Customer360:
    """The whole 360 of one customer: each table read once with Core (see ``fast360``), no ORM hydration
    beyond the customer itself; the same answer as the care layer's timeline, loyalty and playbooks."""
    from clientlens.care.playbooks import actions_for

    cust = get_customer(session, shop.id, customer_id)
    if session.get_bind().dialect.name == "postgresql":
        # One round trip for every section (api/services/fast360_pg.py).
        loaded = fast360_pg.load(session, shop.id, cust.id, cust.external_id)
        if loaded.unsynced:
            _sync(session, settings, shop)
            loaded = fast360_pg.load(session, shop.id, cust.id, cust.external_id)
        data, merged = loaded.data, loaded.merged_from
    else:
        _sync_if_new(session, settings, shop, cust)
        data = fast360.load(session, shop.id, cust.id, cust.external_id)
        merged = merged_from_ids(session, cust.id)
    profile = {f: getattr(cust, f) for f in PROFILE_FIELDS}
    profile["customer_id"] = profile.pop("external_id")
    events = [s.TimelineEvent(at=e.at, kind=e.kind, summary=e.summary,
                              data={k: v for k, v in e.details.items() if isinstance(v, str | int | float | bool | None)})
              for e in data.events]
    events.sort(key=lambda e: e.at, reverse=True)
    care = _care(settings)
    status = fast360.loyalty(data, shop.id, cust.id, care, utcnow().date())
    acts = actions_for(cust, fast360.facts(session, data), _playbook(care.playbook), status)
    convs = sorted((c for c in data.conversations if c.shop_id == shop.id), key=lambda c: c.last_message_at,
                   reverse=True)
    return s.Customer360(
        profile=profile,
        consents={ch: getattr(cust, f"consent_{ch}") for ch in CONSENT_CHANNELS},
        labels=[customers.label_read(r) for r in data.labels],
        prediction=(customers.prediction_read(data.score, cust.external_id, data.snapshot.as_of)
                    if data.score is not None and data.snapshot is not None else None),
        timeline=events[:cfg.timeline_limit],
        next_best_action=_action(acts[0]) if acts else None,
        conversations=[conversations.read(c, cust.external_id, cust.name) for c in convs],
        merged_from=merged,
    )


def actions(session: Session, settings: Settings, shop: m.Shop, limit: int, offset: int) -> s.Page[s.ActionRead]:
    """Next best actions of every customer (the care layer's playbooks), highest priority first."""
    from clientlens.care.playbooks import next_best_actions

    acts = [a for per in next_best_actions(session, shop.name, settings).values() for a in per[:1]]
    acts.sort(key=lambda a: (-a.priority, a.customer_id))
    return s.ActionPage(data=[_action(a) for a in acts[offset:offset + limit]], count=len(acts))
