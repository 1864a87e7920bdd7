"""Pages: dashboard, customers list and 360 (with privacy export / erasure), segments and flows, admin."""

from __future__ import annotations

import json
from datetime import date
from typing import Annotated

from fastapi import APIRouter, Form, Path, Query, Request
from fastapi.responses import RedirectResponse, Response

from clientlens.errors import ClientlensError
from clientlens.http.deps import DbDep, ShopDep
from clientlens.service import analytics, auth, customer360, customers, privacy, segments
from clientlens.service import unsubscribe as unsub
from clientlens.web.charts import dashboard_charts
from clientlens.web.context import PageUser, allow, check_csrf, render
from clientlens.web.i18n import I18n

router = APIRouter(include_in_schema=False)


@router.get("/shops/{shop}/dashboard")
def dashboard(request: Request, db: DbDep, shop: ShopDep, user: PageUser,
              taxonomy: Annotated[str, Query(max_length=50)] = "rfm_segment") -> Response:
    allow(user, "analytics.read")
    doc = analytics.dashboard(db, request.app.state.settings, request.app.state.web, shop, taxonomy)
    from clientlens.web.context import language

    charts = dashboard_charts(I18n(language(request, user)), doc["charts"], taxonomy)
    taxonomies = analytics.taxonomies(db, shop)
    return render(request, "dashboard.html", user, shop=shop.name, kpis=doc["kpis"], charts=charts,
                  charts_json={c["id"]: json.dumps(c["spec"]).replace("</", "<\\/") for c in charts if c["spec"]},
                  taxonomy=taxonomy, taxonomies=taxonomies or ["rfm_segment"])


@router.get("/shops/{shop}/customers")
def customer_list(request: Request, db: DbDep, shop: ShopDep, user: PageUser,
                  q: Annotated[str | None, Query(max_length=200)] = None,
                  label: Annotated[str | None, Query(max_length=120)] = None,
                  country: Annotated[str | None, Query(max_length=2)] = None,
                  channel: Annotated[str | None, Query(max_length=30)] = None,
                  clv_min: Annotated[str | None, Query(max_length=30)] = None,
                  sort: Annotated[str, Query(max_length=40)] = "customer_id",
                  cursor: Annotated[str | None, Query(max_length=2000)] = None) -> Response:
    allow(user, "customers.read")
    error = None
    try:
        key, desc = customers.parse_sort(sort)
        low = {"clv": float(clv_min)} if clv_min else {}
        f = customers.CustomerFilter(q=q or None, labels=customers.parse_labels([label] if label else None),
                                     country=country or None, channel=channel or None, score_min=low,
                                     sort=key, descending=desc)
        page = customers.list_customers(db, shop.name, f, limit=request.app.state.web.page_size, cursor=cursor,
                                        count_ttl=request.app.state.web.count_cache_seconds,
                                        search_count_limit=request.app.state.web.search_count_limit)
    except (ClientlensError, ValueError) as exc:
        error, page = str(exc), None
    label_options = [(r.taxonomy, r.label) for r in segments.summary(db, shop)]
    params = {"q": q or "", "label": label or "", "country": country or "", "channel": channel or "",
              "clv_min": clv_min or "", "sort": sort}
    template = "_customer_rows.html" if request.headers.get("hx-request") else "customers.html"
    return render(request, template, user, shop=shop.name, page=page, error=error, params=params,
                  label_options=label_options)


@router.get("/shops/{shop}/customers/{customer_id}")
def customer_page(request: Request, db: DbDep, shop: ShopDep, customer_id: str, user: PageUser) -> Response:
    allow(user, "customers.read")
    view = customer360.customer_360(db, request.app.state.settings, request.app.state.web, shop, customer_id)
    return render(request, "customer.html", user, shop=shop.name, c=view, currency=view.currency)


@router.post("/shops/{shop}/customers/{customer_id}/erase")
async def customer_erase(request: Request, db: DbDep, shop: ShopDep, customer_id: str, user: PageUser) -> Response:
    allow(user, "privacy")
    await check_csrf(request, user)
    report = privacy.erase_customer(db, shop, customer_id, actor=user.actor,
                                    file_dirs=privacy.file_dirs(request.app.state.settings, request.app.state.web.upload_dir))
    db.commit()
    privacy.checkpoint(db)
    return RedirectResponse(f"/shops/{shop.name}/customers/{report['customer_id']}", status_code=303)


@router.get("/shops/{shop}/segments")
def segments_page(request: Request, db: DbDep, shop: ShopDep, user: PageUser,
                  taxonomy: Annotated[str | None, Query(max_length=50)] = None,
                  from_as_of: date | None = None, to_as_of: date | None = None) -> Response:
    allow(user, "analytics.read")
    rows = segments.summary(db, shop)
    by_tax: dict[str, list[object]] = {}
    for r in rows:
        by_tax.setdefault(r.taxonomy, []).append(r)
    snaps = segments.snapshots(db, shop)
    flows = None
    if taxonomy and from_as_of and to_as_of:
        flows = segments.flows(db, shop, taxonomy, from_as_of, to_as_of)
    return render(request, "segments.html", user, shop=shop.name, by_tax=by_tax, snapshots=snaps, flows=flows,
                  taxonomy=taxonomy or (next(iter(by_tax)) if by_tax else ""), from_as_of=from_as_of,
                  to_as_of=to_as_of)


@router.post("/shops/{shop}/snapshots/{as_of}/delete")
async def snapshot_delete(request: Request, db: DbDep, shop: ShopDep, as_of: date, user: PageUser) -> Response:
    allow(user, "snapshots.delete")
    await check_csrf(request, user)
    segments.delete_snapshot(db, shop, as_of, actor=user.actor)
    return RedirectResponse(f"/shops/{shop.name}/segments", status_code=303)


@router.get("/admin")
def admin_page(request: Request, db: DbDep, user: PageUser) -> Response:
    allow(user, "users.admin")
    return _admin(request, db, user, created_token=None)


def _admin(request: Request, db: DbDep, user: PageUser, *, created_token: str | None) -> Response:
    total, events = auth.audit_events(db, limit=200)
    return render(request, "admin.html", user, users=auth.list_users(db), tokens=auth.list_tokens(db),
                  events=events, total=total, created_token=created_token)


@router.post("/admin/users")
async def admin_add_user(request: Request, db: DbDep, user: PageUser, name: Annotated[str, Form(max_length=100)],
                         role: Annotated[str, Form(max_length=20)],
                         password: Annotated[str, Form(max_length=500)]) -> Response:
    allow(user, "users.admin")
    await check_csrf(request, user)
    auth.add_user(db, name, role, password, actor=user.actor)
    return RedirectResponse("/admin", status_code=303)


@router.post("/admin/users/{name}/role")
async def admin_set_role(request: Request, db: DbDep, user: PageUser, name: str,
                         role: Annotated[str, Form(max_length=20)]) -> Response:
    allow(user, "users.admin")
    await check_csrf(request, user)
    auth.set_role(db, name, role, actor=user.actor)
    return RedirectResponse("/admin", status_code=303)


@router.post("/admin/tokens")
async def admin_add_token(request: Request, db: DbDep, user: PageUser, name: Annotated[str, Form(max_length=100)],
                          role: Annotated[str, Form(max_length=20)]) -> Response:
    allow(user, "users.admin")
    await check_csrf(request, user)
    token = auth.create_token(db, name, role, actor=user.actor)
    db.flush()
    return _admin(request, db, user, created_token=token)


@router.get("/unsubscribe/{token}")
def unsubscribe_page(request: Request, token: Annotated[str, Path(max_length=64)]) -> Response:
    """The link of a message: a confirmation page (mail scanners that prefetch links change nothing)."""
    return render(request, "unsubscribe.html", None, done=False, token=token, channel=None)


@router.post("/unsubscribe/{token}")
def unsubscribe_confirm(request: Request, db: DbDep, token: Annotated[str, Path(max_length=64)]) -> Response:
    # No session here: the random token is the authorisation (and the CSRF defence: it cannot be guessed).
    channel = unsub.unsubscribe(db, token)
    return render(request, "unsubscribe.html", None, done=True, token=token, channel=channel)
