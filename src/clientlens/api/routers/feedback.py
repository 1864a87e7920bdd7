"""Feedback (CSAT, NPS) of a shop."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Query

from clientlens.http.deps import DbDep, Reader, ShopDep
from clientlens.http.params import Limit, Offset
from clientlens.service import customers
from clientlens.service import schemas as s

router = APIRouter(prefix="/shops/{shop}/feedback", tags=["feedback"])


@router.get("", response_model=s.Page[s.FeedbackRead])
def list_feedback(db: DbDep, shop: ShopDep, _: Reader, limit: Limit = 50, offset: Offset = 0,
                  kind: Annotated[Literal["csat", "nps"] | None, Query()] = None,
                  customer_id: Annotated[str | None, Query(max_length=200)] = None) -> s.Page[s.FeedbackRead]:
    """Survey answers, newest first."""
    return customers.shop_feedback(db, shop, limit=limit, offset=offset, kind=kind, customer_id=customer_id)
