"""Merge review: suggested duplicates (read from the store), accept and undo through the identity layer."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session, aliased

from clientlens.errors import NotFoundError
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


def decide(session: Session, shop: m.Shop, merge_id: int, decision: str, *, actor: str) -> s.MergeRead:
    """Accept or undo a merge with the identity layer's functions (audited)."""
    _merge(session, shop, merge_id)
    from clientlens.store import identity

    (identity.accept if decision == "accept" else identity.undo)(session, merge_id)
    session.flush()
    audit(session, actor, f"merge_{decision}", target=str(merge_id), shop=shop.name)
    page = list_merges(session, shop, status=None, limit=10_000)
    return next(x for x in page.data if x.id == merge_id)
