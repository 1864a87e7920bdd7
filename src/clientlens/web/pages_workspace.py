"""Pages of the agent's workspace: the merge comparison (side by side, field choices, confirmation),
the canned replies of a shop, the suggested reply partial of a conversation and the CSAT report."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, Query, Request
from fastapi.responses import RedirectResponse, Response
from pydantic import ValidationError as PydanticError

from clientlens.errors import ClientlensError
from clientlens.http.deps import DbDep, ShopDep
from clientlens.http.params import Id
from clientlens.service import canned, merges
from clientlens.web.context import PageUser, allow, check_csrf, render

router = APIRouter(include_in_schema=False)

CHOICE_LABELS = {"name": "Name", "email": "E-mail", "phone": "Phone", "address": "Address",
                 "language": "Language", "preferred_channel": "Preferred channel"}


@router.get("/shops/{shop}/merges/{merge_id}")
def merge_compare(request: Request, db: DbDep, shop: ShopDep, merge_id: Id, user: PageUser,
                  step: Annotated[str, Query(pattern="^(compare|confirm)$")] = "compare") -> Response:
    """The two profiles side by side with a choice per field; ``step=confirm`` shows what the merge will
    do with the chosen values, and the final Accept."""
    allow(user, "merges.read")
    cmp = merges.compare(db, shop, merge_id)
    choices = dict(cmp.choices)
    if step == "confirm":
        for key in merges.CHOICE_FIELDS:
            side = request.query_params.get(f"keep_{key}")
            if side in merges.SIDES:
                choices[key] = side
    return render(request, "merges.html", user, shop=shop.name, compare=cmp, choices=choices, step=step,
                  fields=[(k, CHOICE_LABELS[k]) for k in merges.CHOICE_FIELDS], page=None, status=None, error=None)


@router.get("/shops/{shop}/canned-replies")
def canned_page(request: Request, db: DbDep, shop: ShopDep, user: PageUser,
                language: Annotated[str | None, Query(max_length=8, pattern="^[a-z]*$")] = None,
                topic: Annotated[str | None, Query(max_length=30)] = None,
                error: str | None = None) -> Response:
    allow(user, "customers.read")
    rows = canned.list_replies(db, shop, language=language or None, topic=topic or None)
    return render(request, "canned_replies.html", user, shop=shop.name, rows=rows, language=language or "",
                  topic=topic or "", topics=list(canned.Topic.__args__),  # type: ignore[attr-defined]
                  languages=request.app.state.web.languages, error=error)


@router.post("/shops/{shop}/canned-replies")
async def canned_save(request: Request, db: DbDep, shop: ShopDep, user: PageUser,
                      language: Annotated[str, Form(max_length=8)], topic: Annotated[str, Form(max_length=30)],
                      name: Annotated[str, Form(max_length=200)], body: Annotated[str, Form(max_length=20_000)],
                      priority: Annotated[int, Form(ge=-1000, le=1000)] = 0,
                      reply_id: Annotated[int | None, Form(ge=1, le=2_147_483_647)] = None,
                      active: Annotated[str | None, Form(max_length=5)] = None) -> Response:
    allow(user, "conversations.write")
    await check_csrf(request, user)
    try:
        if reply_id:
            canned.update_reply(db, shop, reply_id, canned.CannedReplyUpdate(
                language=language, topic=topic, name=name, body=body, priority=priority,  # type: ignore[arg-type]
                active=active is not None), actor=user.actor)
        else:
            canned.create_reply(db, shop, canned.CannedReplyCreate(
                language=language, topic=topic, name=name, body=body, priority=priority,  # type: ignore[arg-type]
                active=True), actor=user.actor)
    except (ClientlensError, PydanticError) as exc:
        rows = canned.list_replies(db, shop, language=language)
        return render(request, "canned_replies.html", user, status_code=422, shop=shop.name, rows=rows,
                      language=language, topic="", topics=list(canned.Topic.__args__),  # type: ignore[attr-defined]
                      languages=request.app.state.web.languages, error=str(exc))
    return RedirectResponse(f"/shops/{shop.name}/canned-replies?language={language}", status_code=303)


@router.post("/shops/{shop}/canned-replies/{reply_id}/delete")
async def canned_delete(request: Request, db: DbDep, shop: ShopDep, reply_id: Id, user: PageUser) -> Response:
    allow(user, "conversations.write")
    await check_csrf(request, user)
    canned.delete_reply(db, shop, reply_id, actor=user.actor)
    return RedirectResponse(f"/shops/{shop.name}/canned-replies", status_code=303)


@router.get("/shops/{shop}/conversations/{conversation_id}/suggested-reply")
def suggested_reply(request: Request, db: DbDep, shop: ShopDep, conversation_id: Id, user: PageUser) -> Response:
    """The partial ``_suggested_reply.html`` (the inbox loads it beside the reply form)."""
    allow(user, "customers.read")
    try:
        suggestion, error = canned.suggested(db, request.app.state.settings, shop, conversation_id,
                                             agent=user.name), None
    except ClientlensError as exc:
        suggestion, error = None, str(exc)
    return render(request, "_suggested_reply.html", user, shop=shop.name, suggestion=suggestion, error=error,
                  conversation_id=conversation_id)


@router.get("/shops/{shop}/csat")
def csat_partial(request: Request, db: DbDep, shop: ShopDep, user: PageUser,
                 by: Annotated[str, Query(pattern="^(agent|channel|topic|segment|month)$")] = "month",
                 taxonomy: Annotated[str | None, Query(max_length=50)] = None) -> Response:
    """The CSAT report table (the dashboard shows it beside NPS)."""
    allow(user, "analytics.read")
    rows = canned.csat(db, request.app.state.settings, shop, by=by, taxonomy=taxonomy)
    return render(request, "_csat_report.html", user, shop=shop.name, rows=rows, by=by)
