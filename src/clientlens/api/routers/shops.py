"""Shops held in the store."""

from __future__ import annotations

from fastapi import APIRouter

from clientlens.http.deps import DbDep, ShopDep, ShopReader
from clientlens.service import schemas as s
from clientlens.service import shops as svc

router = APIRouter(prefix="/shops", tags=["shops"])


@router.get("", response_model=list[s.ShopRead])
def list_shops(db: DbDep, _: ShopReader) -> list[s.ShopRead]:
    """Every shop with its counts."""
    return svc.list_shops(db)


@router.get("/{shop}", response_model=s.ShopRead)
def get_shop(db: DbDep, shop: ShopDep, _: ShopReader) -> s.ShopRead:
    """One shop."""
    return svc.shop_read(db, shop)
