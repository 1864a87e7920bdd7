"""Identity merges: suggested duplicates, accept, undo, reject, separate two profiles (audited)."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Query

from clientlens.http.deps import DbDep, MergeReader, MergeWriter, ShopDep
from clientlens.http.params import Id, Limit, Offset
from clientlens.service import merges
from clientlens.service import schemas as s

router = APIRouter(prefix="/shops/{shop}/merges", tags=["merges"])


@router.get("", response_model=s.Page[s.MergeRead])
def list_merges(db: DbDep, shop: ShopDep, _: MergeReader, limit: Limit = 50, offset: Offset = 0,
                status: Annotated[Literal["suggested", "accepted", "undone", "rejected", "separated", "all"], Query()] = "suggested",
                ) -> s.Page[s.MergeRead]:
    """Merges of the shop (suggested ones by default), best score first."""
    return merges.list_merges(db, shop, status=None if status == "all" else status, limit=limit, offset=offset)


@router.post("/{merge_id}/accept", response_model=s.MergeRead)
def accept(db: DbDep, shop: ShopDep, merge_id: Id, who: MergeWriter) -> s.MergeRead:
    """Accept a suggested merge."""
    return merges.decide(db, shop, merge_id, "accept", actor=who.actor)


@router.post("/{merge_id}/undo", response_model=s.MergeRead)
def undo(db: DbDep, shop: ShopDep, merge_id: Id, who: MergeWriter) -> s.MergeRead:
    """Undo an accepted merge."""
    return merges.decide(db, shop, merge_id, "undo", actor=who.actor)


@router.post("/{merge_id}/reject", response_model=s.MergeRead)
def reject(db: DbDep, shop: ShopDep, merge_id: Id, who: MergeWriter) -> s.MergeRead:
    """Reject a suggestion: the two profiles are different people and are never merged."""
    return merges.decide(db, shop, merge_id, "reject", actor=who.actor)


@router.post("/separate", response_model=s.MergeRead)
def separate(db: DbDep, shop: ShopDep, body: s.SeparateRequest, who: MergeWriter) -> s.MergeRead:
    """Two profiles are two people: undo a merge between them (or reject its suggestion) and never merge
    them again, whatever later imports bring."""
    return merges.separate(db, shop, body.first, body.second, actor=who.actor)
