"""Pages: inbox (reply, assign, resolve), merge review, campaigns (audience, preview per language, send)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, Query, Request
from fastapi.responses import RedirectResponse, Response

from clientlens.api import schemas as s
from clientlens.api.deps import DbDep, ShopDep
from clientlens.api.services import campaigns, conversations, merges, segments
from clientlens.api.services.bridge import NotAvailableError
from clientlens.errors import ClientlensError
from clientlens.web.context import PageUser, allow, check_csrf, render
from clientlens.web.i18n import LANGUAGE_NAMES, I18n

router = APIRouter(include_in_schema=False)


@router.get("/shops/{shop}/inbox")
def inbox(request: Request, db: DbDep, shop: ShopDep, user: PageUser,
          status: Annotated[str, Query(pattern="^(open|resolved|all)$")] = "open",
          thread: Annotated[str | None, Query(max_length=200)] = None) -> Response:
    allow(user, "customers.read")
    cfg = request.app.state.web
    page = conversations.inbox(db, cfg, shop, status=None if status == "all" else status, limit=200)
    current = conversations.detail(db, cfg, shop, thread) if thread else None
    return render(request, "inbox.html", user, shop=shop.name, page=page, status=status, current=current)


@router.get("/shops/{shop}/inbox/{thread_id}")
def conversation(request: Request, db: DbDep, shop: ShopDep, thread_id: str, user: PageUser) -> Response:
    allow(user, "customers.read")
    current = conversations.detail(db, request.app.state.web, shop, thread_id)
    if request.headers.get("hx-request"):
        return render(request, "_conversation.html", user, shop=shop.name, current=current)
    return RedirectResponse(f"/shops/{shop.name}/inbox?thread={thread_id}", status_code=303)


@router.post("/shops/{shop}/inbox/{thread_id}/{action}")
async def conversation_action(request: Request, db: DbDep, shop: ShopDep, thread_id: str, action: str,
                              user: PageUser) -> Response:
    allow(user, "conversations.write")
    await check_csrf(request, user)
    form = await request.form()
    cfg = request.app.state.web
    if action == "reply":
        body = str(form.get("body", "")).strip()
        if not body:
            current = conversations.detail(db, cfg, shop, thread_id)
            return render(request, "_conversation.html", user, shop=shop.name, current=current, error="empty")
        current = conversations.reply(db, cfg, shop, thread_id, body, user.name)
    elif action == "assign":
        current = conversations.assign(db, cfg, shop, thread_id, str(form.get("assignee", "")).strip() or None)
    elif action in ("resolve", "reopen"):
        current = conversations.set_status(db, cfg, shop, thread_id, "resolved" if action == "resolve" else "open")
    else:
        return render(request, "error.html", user, status_code=404, status=404, message=f"unknown action {action}")
    if request.headers.get("hx-request"):
        resp = render(request, "_conversation.html", user, shop=shop.name, current=current)
        resp.headers["HX-Trigger"] = "inbox-changed"
        return resp
    return RedirectResponse(f"/shops/{shop.name}/inbox?thread={thread_id}", status_code=303)


@router.get("/shops/{shop}/merges")
def merges_page(request: Request, db: DbDep, shop: ShopDep, user: PageUser,
                status: Annotated[str, Query(pattern="^(suggested|accepted|undone|rejected|all)$")] = "suggested") -> Response:
    allow(user, "merges.read")
    page = merges.list_merges(db, shop, status=None if status == "all" else status, limit=200)
    return render(request, "merges.html", user, shop=shop.name, page=page, status=status, error=None)


@router.post("/shops/{shop}/merges/{merge_id}/{decision}")
async def merge_decide(request: Request, db: DbDep, shop: ShopDep, merge_id: int, decision: str,
                       user: PageUser) -> Response:
    allow(user, "merges.write")
    await check_csrf(request, user)
    if decision not in ("accept", "undo"):
        return render(request, "error.html", user, status_code=404, status=404, message=f"unknown decision {decision}")
    try:
        merges.decide(db, shop, merge_id, decision, actor=user.actor)
    except NotAvailableError as exc:
        page = merges.list_merges(db, shop, status="suggested", limit=200)
        return render(request, "merges.html", user, status_code=409, shop=shop.name, page=page, status="suggested",
                      error=str(exc))
    return RedirectResponse(f"/shops/{shop.name}/merges", status_code=303)


def _campaign_form(form: dict[str, str]) -> s.CampaignCreate:
    label = form.get("segment", "")
    tax, _, lab = label.partition("=")
    return s.CampaignCreate(name=form.get("name") or "campaign", channel=form.get("channel") or "email",  # type: ignore[arg-type]
                            taxonomy=tax or None, label=lab or None, subject=form.get("subject", ""),
                            body=form.get("body") or " ")


@router.get("/shops/{shop}/campaigns")
def campaigns_page(request: Request, db: DbDep, shop: ShopDep, user: PageUser) -> Response:
    allow(user, "campaigns.read")
    options = [(r.taxonomy, r.label, r.customers) for r in segments.summary(db, shop)]
    return render(request, "campaigns.html", user, shop=shop.name, options=options,
                  campaigns=campaigns.list_campaigns(db, shop))


@router.post("/shops/{shop}/campaigns/preview")
async def campaign_preview(request: Request, db: DbDep, shop: ShopDep, user: PageUser,
                           preview_language: Annotated[str, Form(pattern="^[a-z]{2}$")] = "en") -> Response:
    allow(user, "campaigns.read")
    await check_csrf(request, user)
    form = {k: str(v) for k, v in (await request.form()).items()}
    try:
        body = _campaign_form(form)
        aud = campaigns.audience(db, shop, body.taxonomy, body.label, body.channel)
        pv = campaigns.preview(db, shop, body, preview_language, {})
        error = None
    except (ClientlensError, ValueError) as exc:
        aud, pv, error = None, None, str(exc)
    footer = I18n(preview_language).gettext("You receive this message because you agreed to hear from us. "
                                            "Unsubscribe with the link below.")
    return render(request, "_campaign_preview.html", user, shop=shop.name, preview=pv, audience=aud, error=error,
                  preview_language=preview_language, preview_footer=lambda _lang: footer,
                  preview_language_name=LANGUAGE_NAMES.get(preview_language, preview_language))


@router.post("/shops/{shop}/campaigns/send")
async def campaign_send(request: Request, db: DbDep, shop: ShopDep, user: PageUser) -> Response:
    allow(user, "campaigns.write")
    await check_csrf(request, user)
    form = {k: str(v) for k, v in (await request.form()).items()}
    try:
        result: dict[str, object] | None = campaigns.send(db, shop, _campaign_form(form), user.actor)
        error = None
    except (NotAvailableError, ClientlensError, ValueError) as exc:
        result, error = None, str(exc)
    return render(request, "_campaign_sent.html", user, shop=shop.name, result=result, error=error)
