"""Merge review: suggested duplicates (read from the store); accept, undo, reject and separate through the
identity layer, audited, the same from the API, the web app and the CLI."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session, aliased

from clientlens.errors import ConfigError, NotFoundError
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


def decide(session: Session, shop: m.Shop, merge_id: int, decision: str, *, actor: str) -> s.MergeRead:
    """Accept a suggestion, undo an accepted merge or reject a suggestion (audited). An undone or
    rejected pair is never merged again (``store.identity.DISTINCT``)."""
    from clientlens.store import identity

    if decision not in DECISIONS:
        raise ConfigError(f"merge decision {decision!r}: one of {', '.join(DECISIONS)}")
    _merge(session, shop, merge_id)
    {"accept": identity.accept, "undo": identity.undo, "reject": identity.reject}[decision](session, merge_id)
    session.flush()
    audit(session, actor, f"merge_{decision}", target=str(merge_id), shop=shop.name)
    return _read(session, shop, merge_id)


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
