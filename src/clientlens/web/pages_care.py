"""Pages: inbox (reply, assign, resolve), merge review, campaigns (audience, preview per language, send)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, Query, Request
from fastapi.responses import RedirectResponse, Response
from pydantic import ValidationError as PydanticError

from clientlens.errors import ClientlensError
from clientlens.http.deps import DbDep, ShopDep
from clientlens.http.params import Id
from clientlens.service import campaigns, conversations, merges, segments
from clientlens.service import schemas as s
from clientlens.web.context import PageUser, allow, check_csrf, render
from clientlens.web.i18n import LANGUAGE_NAMES

router = APIRouter(include_in_schema=False)

INBOX_VIEWS = {"unresolved": (None, False), "resolved": ("resolved", False), "all": (None, True)}


@router.get("/shops/{shop}/inbox")
def inbox(request: Request, db: DbDep, shop: ShopDep, user: PageUser,
          view: Annotated[str, Query(pattern="^(unresolved|resolved|all)$")] = "unresolved",
          conversation: Annotated[int | None, Query(ge=1, le=2_147_483_647)] = None,
          offset: Annotated[int, Query(ge=0, le=10_000_000)] = 0) -> Response:
    allow(user, "customers.read")
    status, everything = INBOX_VIEWS[view]
    # The most urgent [web] page_size conversations of the view (the queue is ordered by urgency); rendering
    # 200 rows cost about 3x the CPU of 50 and kept one core from serving 50 pages/s at 100k conversations.
    web = request.app.state.web
    page = conversations.inbox(db, request.app.state.settings, shop, status=status, include_resolved=everything,
                               limit=web.page_size, offset=offset, count_ttl=web.count_cache_seconds)
    current = conversations.detail(db, shop, conversation) if conversation else None
    return render(request, "inbox.html", user, shop=shop.name, page=page, view=view, current=current,
                  offset=offset, page_size=web.page_size)


@router.get("/shops/{shop}/inbox/{conversation_id}")
def conversation(request: Request, db: DbDep, shop: ShopDep, conversation_id: Id, user: PageUser) -> Response:
    allow(user, "customers.read")
    current = conversations.detail(db, shop, conversation_id)
    if request.headers.get("hx-request"):
        return render(request, "_conversation.html", user, shop=shop.name, current=current)
    return RedirectResponse(f"/shops/{shop.name}/inbox?conversation={conversation_id}", status_code=303)


@router.post("/shops/{shop}/inbox/{conversation_id}/{action}")
async def conversation_action(request: Request, db: DbDep, shop: ShopDep, conversation_id: Id, action: str,
                              user: PageUser) -> Response:
    allow(user, "conversations.write")
    await check_csrf(request, user)
    form = await request.form()
    settings = request.app.state.settings
    if action == "reply":
        body = str(form.get("body", "")).strip()
        if not body:
            current = conversations.detail(db, shop, conversation_id)
            return render(request, "_conversation.html", user, shop=shop.name, current=current, error="empty")
        current = conversations.reply(db, settings, shop, conversation_id, body, user.name)
    elif action == "assign":
        current = conversations.assign(db, shop, conversation_id, str(form.get("assignee", "")).strip() or None)
    elif action == "resolve":
        current = conversations.resolve(db, settings, shop, conversation_id)
    else:
        return render(request, "error.html", user, status_code=404, status=404, message=f"unknown action {action}")
    if request.headers.get("hx-request"):
        return render(request, "_conversation.html", user, shop=shop.name, current=current)
    return RedirectResponse(f"/shops/{shop.name}/inbox?conversation={conversation_id}", status_code=303)


@router.get("/shops/{shop}/merges")
def merges_page(request: Request, db: DbDep, shop: ShopDep, user: PageUser,
                status: Annotated[str, Query(pattern="^(suggested|accepted|undone|rejected|separated|all)$")] = "suggested") -> Response:
    allow(user, "merges.read")
    page = merges.list_merges(db, shop, status=None if status == "all" else status, limit=200)
    return render(request, "merges.html", user, shop=shop.name, page=page, status=status, error=None)


MERGE_DONE = {"accept": "accepted", "undo": "undone", "reject": "rejected"}


@router.post("/shops/{shop}/merges/separate")
async def merge_separate(request: Request, db: DbDep, shop: ShopDep, user: PageUser,
                         first: Annotated[str, Form(min_length=1, max_length=200)],
                         second: Annotated[str, Form(min_length=1, max_length=200)]) -> Response:
    allow(user, "merges.write")
    await check_csrf(request, user)
    merges.separate(db, shop, first.strip(), second.strip(), actor=user.actor)
    return RedirectResponse(f"/shops/{shop.name}/merges?status=all", status_code=303)


@router.post("/shops/{shop}/merges/{merge_id}/{decision}")
async def merge_decide(request: Request, db: DbDep, shop: ShopDep, merge_id: Id, decision: str,
                       user: PageUser) -> Response:
    allow(user, "merges.write")
    await check_csrf(request, user)
    if decision not in MERGE_DONE:
        return render(request, "error.html", user, status_code=404, status=404, message=f"unknown decision {decision}")
    form = await request.form()
    if decision == "accept" and form.get("confirmed") != "1":  # accepting goes through the comparison
        return RedirectResponse(f"/shops/{shop.name}/merges/{merge_id}", status_code=303)
    choices = {k[len("keep_"):]: str(v) for k, v in form.multi_items() if k.startswith("keep_")}
    merges.decide(db, shop, merge_id, decision, actor=user.actor, choices=choices if decision == "accept" else None)
    return RedirectResponse(f"/shops/{shop.name}/merges?status={MERGE_DONE[decision]}", status_code=303)


def _campaign_form(form: dict[str, list[str]]) -> s.CampaignCreate:
    def one(key: str, default: str = "") -> str:
        return (form.get(key) or [default])[0]

    segment = one("segment")
    return s.CampaignCreate(name=one("name") or "campaign", template=one("template", "promotion"),
                            channels=form.get("channels") or ["email"],  # type: ignore[arg-type]
                            labels=[segment] if segment else [], discount=int(one("discount", "0") or 0))


async def _form(request: Request) -> dict[str, list[str]]:
    out: dict[str, list[str]] = {}
    for key, value in (await request.form()).multi_items():
        out.setdefault(key, []).append(str(value))
    return out


@router.get("/shops/{shop}/campaigns")
def campaigns_page(request: Request, db: DbDep, shop: ShopDep, user: PageUser) -> Response:
    allow(user, "campaigns.read")
    options = [(r.taxonomy, r.label, r.customers) for r in segments.summary(db, shop)]
    return render(request, "campaigns.html", user, shop=shop.name, options=options, templates=campaigns.templates(),
                  campaigns=campaigns.list_campaigns(db, shop))


@router.post("/shops/{shop}/campaigns/preview")
async def campaign_preview(request: Request, db: DbDep, shop: ShopDep, user: PageUser,
                           preview_language: Annotated[str, Form(pattern="^(en|vi|pl|fr)$")] = "en") -> Response:
    allow(user, "campaigns.read")
    await check_csrf(request, user)
    try:
        pv, error = campaigns.preview(db, request.app.state.settings, shop, _campaign_form(await _form(request)),
                                      preview_language), None
    except (ClientlensError, PydanticError, ValueError) as exc:
        pv, error = None, str(exc)
    return render(request, "_campaign_preview.html", user, shop=shop.name, preview=pv, error=error,
                  preview_language=preview_language,
                  preview_language_name=LANGUAGE_NAMES.get(preview_language, preview_language))


@router.post("/shops/{shop}/campaigns/send")
async def campaign_send(request: Request, db: DbDep, shop: ShopDep, user: PageUser) -> Response:
    allow(user, "campaigns.write")
    await check_csrf(request, user)
    try:
        body = _campaign_form(await _form(request))
        result: dict[str, object] | None = campaigns.send(request.app.state.engine, request.app.state.settings,
                                                          shop, body)
        from clientlens.service.auth import audit

        audit(db, user.actor, "campaign_sent", target=body.name, shop=shop.name, detail=result)
        error = None
    except (ClientlensError, PydanticError, ValueError) as exc:
        result, error = None, str(exc)
    return render(request, "_campaign_sent.html", user, shop=shop.name, result=result, error=error)
