"""Customers: filtered list, 360, labels, predictions, actions, orders; privacy export and erasure."""

from __future__ import annotations

from typing import Annotated, Any, cast

from fastapi import APIRouter, Query
from fastapi.responses import Response
from pydantic import BaseModel
from sqlalchemy.orm import Session

from clientlens.config import Settings
from clientlens.http.deps import (
    DbDep,
    PrivacyOfficer,
    Reader,
    SettingsDep,
    ShopDep,
    ShopName,
    WebSettingsDep,
    read_only,
    run_read,
    shop_ref,
)
from clientlens.http.params import Limit, Offset
from clientlens.service import customer360, customers, privacy
from clientlens.service import schemas as s
from clientlens.service.auth import audit
from clientlens.service.config import WebSettings
from clientlens.store import models as m


def json_response(model: BaseModel) -> Response:
    """The model serialised by pydantic once (the route's ``response_model`` still documents it).

    Returning a ``Response`` skips FastAPI's second validation and stdlib JSON encoding of the
    response model, about a third of the time of a hot route.
    """
    return Response(model.model_dump_json(), media_type="application/json")


router = APIRouter(prefix="/shops/{shop}/customers", tags=["customers"])


@router.get("", response_model=s.Page[s.CustomerRead])
@read_only
async def list_customers(
    db: DbDep, cfg: WebSettingsDep, shop: ShopName, _: Reader, limit: Limit = 50, offset: Offset = 0,
    q: Annotated[str | None, Query(max_length=200, description="id, e-mail or part of the name")] = None,
    label: Annotated[list[str] | None, Query(description="taxonomy=label, repeatable (all must hold)")] = None,
    country: Annotated[str | None, Query(min_length=2, max_length=2)] = None,
    channel: Annotated[str | None, Query(max_length=30, description="preferred channel")] = None,
    clv_min: float | None = None, clv_max: float | None = None,
    p_alive_min: Annotated[float | None, Query(ge=0, le=1)] = None,
    p_alive_max: Annotated[float | None, Query(ge=0, le=1)] = None,
    expected_purchases_365d_min: float | None = None, expected_purchases_365d_max: float | None = None,
    sort: Annotated[str, Query(max_length=40, description="customer_id, name, country, created_at, clv, p_alive, "
                                                           "expected_purchases_365d; prefix - for descending")] = "customer_id",
    cursor: Annotated[str | None, Query(max_length=2000, description="next_cursor of the previous page")] = None,
    count: bool = True,
) -> Response:
    """Customers of a shop, filtered on labels, scores, country and channel; keyset paging via ``cursor``.

    ``count`` is cached for ``[web] count_cache_seconds`` per filter (it may lag new imports by that much).
    """
    key, desc = customers.parse_sort(sort)
    lows = {k: v for k, v in (("clv", clv_min), ("p_alive", p_alive_min),
                              ("expected_purchases_365d", expected_purchases_365d_min)) if v is not None}
    highs = {k: v for k, v in (("clv", clv_max), ("p_alive", p_alive_max),
                               ("expected_purchases_365d", expected_purchases_365d_max)) if v is not None}
    f = customers.CustomerFilter(q=q, labels=customers.parse_labels(label), country=country, channel=channel,
                                 score_min=lows, score_max=highs, sort=key, descending=desc)
    # One statement finds the shop, its latest snapshot and the page (404 naming the shops if unknown).
    return await run_read(db, _page, db, shop, f, limit, offset, cursor, count, cfg)  # type: ignore[no-any-return]


def _page(db: Session, shop: str, f: customers.CustomerFilter, limit: int, offset: int, cursor: str | None,
          count: bool, cfg: WebSettings) -> Response:
    return json_response(customers.list_customers(db, shop, f, limit=limit, offset=offset, cursor=cursor,
                                                  with_count=count, count_ttl=cfg.count_cache_seconds,
                                                  search_count_limit=cfg.search_count_limit))


@router.get("/{customer_id}", response_model=s.Customer360)
@read_only
async def get_customer_360(db: DbDep, settings: SettingsDep, cfg: WebSettingsDep, shop: ShopName, customer_id: str,
                           _: Reader) -> Response:
    """Customer 360: profile, consents, labels with evidence, predictions, timeline, next best action, conversations."""
    return await run_read(db, _view, db, settings, cfg, shop, customer_id)  # type: ignore[no-any-return]


def _view(db: Session, settings: Settings, cfg: WebSettings, shop: str, customer_id: str) -> Response:
    # The services read only the shop's id and name (ShopRef has both; no ORM object needed).
    return json_response(customer360.customer_360(db, settings, cfg, cast(m.Shop, shop_ref(db, shop)), customer_id))


@router.get("/{customer_id}/labels", response_model=list[s.LabelRead])
def get_labels(db: DbDep, shop: ShopDep, customer_id: str, _: Reader) -> list[s.LabelRead]:
    """Labels of the latest snapshot with their evidence (rule id and figures)."""
    cust = customers.get_customer(db, shop.id, customer_id)
    return customers.customer_labels(db, shop, cust.external_id)


@router.get("/{customer_id}/predictions", response_model=s.PredictionRead | None)
def get_prediction(db: DbDep, shop: ShopDep, customer_id: str, _: Reader) -> s.PredictionRead | None:
    """P(alive), expected purchases, CLV, next order date and next products (null before any model ran)."""
    cust = customers.get_customer(db, shop.id, customer_id)
    return customers.prediction(db, shop, cust.external_id)


@router.get("/{customer_id}/orders", response_model=s.Page[s.OrderRead])
def get_orders(db: DbDep, shop: ShopDep, customer_id: str, _: Reader, limit: Limit = 50,
               offset: Offset = 0) -> s.Page[s.OrderRead]:
    """The customer's orders, newest first."""
    return customers.customer_orders(db, shop, customer_id, limit=limit, offset=offset)


@router.get("/{customer_id}/export")
def export_customer(db: DbDep, shop: ShopDep, customer_id: str, who: PrivacyOfficer) -> dict[str, Any]:
    """Everything held on one customer, as JSON (audited)."""
    doc = privacy.export_customer(db, shop, customer_id)
    audit(db, who.actor, "customer_exported", target=doc["customer_id"], shop=shop.name)
    return doc


@router.post("/{customer_id}/erase", response_model=s.ErasureReport)
def erase_customer(db: DbDep, settings: SettingsDep, cfg: WebSettingsDep, shop: ShopDep, customer_id: str,
                   who: PrivacyOfficer) -> s.ErasureReport:
    """Anonymise the customer everywhere (tables, snapshots, merge history, files); totals stay correct."""
    report = privacy.erase_customer(db, shop, customer_id, actor=who.actor,
                                    file_dirs=privacy.file_dirs(settings, cfg.upload_dir))
    db.commit()
    privacy.checkpoint(db)
    return s.ErasureReport(**report)
