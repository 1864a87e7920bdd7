"""Merge review: suggested duplicates (read from the store); accept, undo, reject and separate through the
identity layer, audited, the same from the API, the web app and the CLI."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session, aliased

from clientlens.errors import ConfigError, NotFoundError
from clientlens.money import to_major
from clientlens.service import schemas as s
from clientlens.service.auth import audit
from clientlens.store import models as m


def list_merges(session: Session, shop: m.Shop, *, status: str | None = "suggested", limit: int = 50,
                offset: int = 0) -> s.Page[s.MergeRead]:
    surv, gone = aliased(m.Customer), aliased(m.Customer)
    query = (select(m.Merge, surv, gone).join(surv, surv.id == m.Merge.survivor_id)
             .join(gone, gone.id == m.Merge.merged_id).where(m.Merge.shop_id == shop.id))
    if status:
        query = query.where(m.Merge.status == status)
    rows = session.execute(query.order_by(m.Merge.score.desc(), m.Merge.id)).all()
    data = [s.MergeRead(id=mg.id, survivor_id=a.external_id, merged_id=b.external_id, survivor_name=a.name,
                        merged_name=b.name, status=mg.status, rule=mg.rule, score=mg.score, created_at=mg.created_at,
                        decided_at=mg.decided_at) for mg, a, b in rows]
    return s.MergePage(data=data[offset:offset + limit], count=len(data))


def _merge(session: Session, shop: m.Shop, merge_id: int) -> m.Merge:
    mg = session.get(m.Merge, merge_id)
    if mg is None or mg.shop_id != shop.id:
        raise NotFoundError(f"merge {merge_id} does not exist in shop {shop.name!r}")
    return mg


DECISIONS = ("accept", "undo", "reject")


def _read(session: Session, shop: m.Shop, merge_id: int) -> s.MergeRead:
    surv, gone = aliased(m.Customer), aliased(m.Customer)
    mg, a, b = session.execute(select(m.Merge, surv, gone).join(surv, surv.id == m.Merge.survivor_id)
                               .join(gone, gone.id == m.Merge.merged_id).where(m.Merge.id == merge_id)).one()
    return s.MergeRead(id=mg.id, survivor_id=a.external_id, merged_id=b.external_id, survivor_name=a.name,
                       merged_name=b.name, status=mg.status, rule=mg.rule, score=mg.score, created_at=mg.created_at,
                       decided_at=mg.decided_at)


#: The fields an agent chooses between when accepting a merge, and the columns each carries along.
CHOICE_FIELDS: dict[str, tuple[str, ...]] = {
    "name": ("name",),
    "email": ("email", "email_norm"),
    "phone": ("phone", "phone_e164"),
    "address": ("address", "city", "country"),
    "language": ("language",),
    "preferred_channel": ("preferred_channel",),
}
SIDES = ("survivor", "merged")


def _check_choices(choices: dict[str, str] | None) -> dict[str, str]:
    out = {}
    for key, side in (choices or {}).items():
        if key not in CHOICE_FIELDS:
            raise ConfigError(f"merge choice {key!r}: one of {', '.join(CHOICE_FIELDS)}")
        if side not in SIDES:
            raise ConfigError(f"merge choice {key}={side!r}: survivor or merged")
        out[key] = side
    return out


def _apply_choices(session: Session, mg: m.Merge, choices: dict[str, str]) -> None:
    """After an accept: the merged profile's value of each field chosen from it replaces the survivor's
    (what was replaced is kept in the merge's changes under ``chosen``, so an undo restores it)."""
    survivor, merged = session.get(m.Customer, mg.survivor_id), session.get(m.Customer, mg.merged_id)
    assert survivor is not None and merged is not None
    changes = json.loads(mg.changes or "{}")
    chosen: dict[str, Any] = {}
    for key, side in choices.items():
        if side != "merged":
            continue
        for col in CHOICE_FIELDS[key]:
            old, new = getattr(survivor, col), getattr(merged, col)
            if new not in (None, "") and new != old and col not in changes.get("filled", {}):
                chosen[col] = {"old": old, "new": new}
                setattr(survivor, col, new)
    changes["chosen"] = chosen
    changes["choices"] = choices
    mg.changes = json.dumps(changes, default=str)
    session.flush()


def _restore_choices(session: Session, mg: m.Merge) -> None:
    survivor = session.get(m.Customer, mg.survivor_id)
    assert survivor is not None
    for col, pair in json.loads(mg.changes or "{}").get("chosen", {}).items():
        setattr(survivor, col, pair["old"])
    session.flush()


def decide(session: Session, shop: m.Shop, merge_id: int, decision: str, *, actor: str,
           choices: dict[str, str] | None = None) -> s.MergeRead:
    """Accept a suggestion, undo an accepted merge or reject a suggestion (audited). An undone or
    rejected pair is never merged again (``store.identity.DISTINCT``). ``choices`` (accept only): per field
    of ``CHOICE_FIELDS``, which profile's value survives (``survivor`` by default; stored with the merge)."""
    from clientlens.store import identity

    if decision not in DECISIONS:
        raise ConfigError(f"merge decision {decision!r}: one of {', '.join(DECISIONS)}")
    picked = _check_choices(choices)
    mg = _merge(session, shop, merge_id)
    if decision == "undo" and mg.status == "accepted":
        _restore_choices(session, mg)
    {"accept": identity.accept, "undo": identity.undo, "reject": identity.reject}[decision](session, merge_id)
    session.flush()
    if decision == "accept":
        _apply_choices(session, mg, picked)
    audit(session, actor, f"merge_{decision}", target=str(merge_id), shop=shop.name,
          detail={"choices": picked} if picked else None)
    return _read(session, shop, merge_id)


@dataclass
class ProfileSide:
    """One profile of a merge as the comparison shows it."""

    external_id: str
    values: dict[str, str | None]  # per CHOICE_FIELDS key, the shown value
    orders: int
    last_orders: list[dict[str, Any]] = field(default_factory=list)  # id, date, total, currency, status
    clv: float | None = None
    currency: str | None = None


@dataclass
class MergeComparison:
    merge: s.MergeRead
    survivor: ProfileSide
    merged: ProfileSide
    choices: dict[str, str]  # the stored choices (accepted merges), else the default per field

    def differs(self, key: str) -> bool:
        return (self.survivor.values.get(key) or "") != (self.merged.values.get(key) or "")


def _shown(cust: m.Customer) -> dict[str, str | None]:
    address = ", ".join(x for x in (cust.address, cust.city, cust.country) if x)
    return {"name": cust.name, "email": cust.email, "phone": cust.phone, "address": address or None,
            "language": cust.language, "preferred_channel": cust.preferred_channel}


def compare(session: Session, shop: m.Shop, merge_id: int, *, last_orders: int = 5) -> MergeComparison:
    """The two profiles of a merge side by side: contact fields, orders (count and the latest), CLV of the
    current snapshot. After an accepted merge the orders are the survivor's (moved): the comparison
    shows each profile's own orders from the merge's record of what moved."""
    from clientlens.care.facts import latest_facts

    mg = _merge(session, shop, merge_id)
    survivor, merged = session.get(m.Customer, mg.survivor_id), session.get(m.Customer, mg.merged_id)
    assert survivor is not None and merged is not None
    moved = set(json.loads(mg.changes or "{}").get("moved", {}).get("orders", [])) if mg.status == "accepted" else set()
    facts = latest_facts(session, shop.id, [survivor.external_id, merged.external_id])

    def side(cust: m.Customer, own: bool) -> ProfileSide:
        q = select(m.Order).where(m.Order.customer_id == survivor.id if mg.status == "accepted" else
                                  m.Order.customer_id == cust.id)
        if mg.status == "accepted":
            q = q.where(m.Order.id.not_in(moved) if own else m.Order.id.in_(moved))
        count = session.scalar(select(func.count()).select_from(q.subquery())) or 0
        rows = session.scalars(q.order_by(m.Order.ordered_at.desc()).limit(last_orders)).all()
        f = facts.get(cust.external_id)
        return ProfileSide(cust.external_id, _shown(cust), int(count),
                           [{"id": o.external_id, "date": o.ordered_at, "total": to_major(o.total_minor, o.currency),
                             "currency": o.currency, "status": o.status} for o in rows], f.clv, f.currency)

    stored = json.loads(mg.changes or "{}").get("choices") or {}
    choices = {k: stored.get(k, "survivor") for k in CHOICE_FIELDS}
    return MergeComparison(_read(session, shop, merge_id), side(survivor, True), side(merged, False), choices)


def separate(session: Session, shop: m.Shop, first: str, second: str, *, actor: str) -> s.MergeRead:
    """Record that the profiles ``first`` and ``second`` (external ids) are two people (audited)."""
    from clientlens.store import identity

    a, b = (_profile(session, shop, ext) for ext in (first, second))
    rec = identity.separate(session, shop.id, a, b)
    audit(session, actor, "merge_separate", target=f"{first},{second}", shop=shop.name)
    return _read(session, shop, rec.id)


def _profile(session: Session, shop: m.Shop, external_id: str) -> m.Customer:
    cust = session.scalar(select(m.Customer).where(m.Customer.shop_id == shop.id,
                                                   m.Customer.external_id == str(external_id)))
    if cust is None:
        raise NotFoundError(f"customer {external_id!r} does not exist in shop {shop.name!r}")
    return cust
