"""Orders of a shop."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Literal

from fastapi import APIRouter, Query

from clientlens.http.deps import DbDep, Reader, ShopDep
from clientlens.http.params import Limit, Offset
from clientlens.service import customers
from clientlens.service import schemas as s

router = APIRouter(prefix="/shops/{shop}/orders", tags=["orders"])


@router.get("", response_model=s.Page[s.OrderRead])
def list_orders(db: DbDep, shop: ShopDep, _: Reader, limit: Limit = 50, offset: Offset = 0,
                since: date | None = None, until: date | None = None,
                status: Annotated[Literal["completed", "pending", "returned", "cancelled"] | None, Query()] = None,
                ) -> s.Page[s.OrderRead]:
    """Orders, newest first, optionally within [since, until) and of one status."""
    return customers.shop_orders(db, shop, limit=limit, offset=offset, since=since, until=until, status=status)
