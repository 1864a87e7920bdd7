"""Canned replies of a shop (per language and triage topic), the suggested reply of a conversation and
the CSAT report."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Query, Response

from clientlens.http.deps import Analyst, ConversationWriter, DbDep, Reader, SettingsDep, ShopDep
from clientlens.http.params import Id
from clientlens.service import canned

router = APIRouter(prefix="/shops/{shop}", tags=["canned replies"])


@router.get("/canned-replies", response_model=list[canned.CannedReplyRead])
def list_replies(db: DbDep, shop: ShopDep, _: Reader,
                 language: Annotated[str | None, Query(max_length=8, pattern="^[a-z]+$")] = None,
                 topic: Annotated[canned.Topic | None, Query()] = None,
                 include_defaults: bool = True) -> list[canned.CannedReplyRead]:
    """The shop's canned replies and, for the language/topic pairs it has none of, the packaged defaults."""
    return canned.list_replies(db, shop, language=language, topic=topic, include_defaults=include_defaults)


@router.post("/canned-replies", response_model=canned.CannedReplyRead, status_code=201)
def create_reply(db: DbDep, shop: ShopDep, body: canned.CannedReplyCreate,
                 who: ConversationWriter) -> canned.CannedReplyRead:
    """Add a canned reply (its body a Jinja2 template, checked in the sandbox)."""
    return canned.create_reply(db, shop, body, actor=who.actor)


@router.get("/canned-replies/{reply_id}", response_model=canned.CannedReplyRead)
def get_reply(db: DbDep, shop: ShopDep, reply_id: Id, _: Reader) -> canned.CannedReplyRead:
    return canned.get_reply(db, shop, reply_id)


@router.patch("/canned-replies/{reply_id}", response_model=canned.CannedReplyRead)
def update_reply(db: DbDep, shop: ShopDep, reply_id: Id, body: canned.CannedReplyUpdate,
                 who: ConversationWriter) -> canned.CannedReplyRead:
    """Change some fields of a canned reply."""
    return canned.update_reply(db, shop, reply_id, body, actor=who.actor)


@router.delete("/canned-replies/{reply_id}", status_code=204)
def delete_reply(db: DbDep, shop: ShopDep, reply_id: Id, who: ConversationWriter) -> Response:
    canned.delete_reply(db, shop, reply_id, actor=who.actor)
    return Response(status_code=204)


@router.get("/conversations/{conversation_id}/suggested-reply", response_model=canned.SuggestedReplyRead)
def suggested_reply(db: DbDep, settings: SettingsDep, shop: ShopDep, conversation_id: Id,
                    who: Reader) -> canned.SuggestedReplyRead:
    """The best canned reply for the conversation's topic and language, personalised for its customer."""
    return canned.suggested(db, settings, shop, conversation_id, agent=who.name)


@router.get("/feedback/csat-report", response_model=list[canned.CsatRowRead])
def csat_report(db: DbDep, settings: SettingsDep, shop: ShopDep, _: Analyst,
                by: Annotated[Literal["agent", "channel", "topic", "segment", "month"], Query()] = "month",
                taxonomy: Annotated[str | None, Query(max_length=50)] = None) -> list[canned.CsatRowRead]:
    """CSAT (responses, mean, % satisfied 4-5, unhappy) by agent, channel, topic, segment or month."""
    return canned.csat(db, settings, shop, by=by, taxonomy=taxonomy)
