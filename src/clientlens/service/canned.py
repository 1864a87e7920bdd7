"""Canned replies, suggested replies and the CSAT report through the care layer (``care.canned``,
``care.suggest``, ``care.feedback.csat_report``): the same from the API, the web app and the CLI."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy.orm import Session

from clientlens.care import canned as care_canned
from clientlens.care.feedback import csat_report
from clientlens.care.suggest import suggest_reply
from clientlens.config import Settings
from clientlens.errors import NotFoundError
from clientlens.service.auth import audit
from clientlens.service.schemas import UtcDateTime
from clientlens.store import models as m

Topic = Literal["order_status", "delivery_problem", "return_refund", "complaint", "invoice_payment",
                "product_question", "account_privacy", "praise", "other"]
Language = str


class CannedReplyRead(BaseModel):
    id: int | None = Field(description="null for a packaged default (the shop has none of its own for the pair)")
    language: str
    topic: str
    name: str
    body: str
    priority: int
    active: bool
    is_default: bool
    updated_at: UtcDateTime | None = None
    updated_by: str | None = None


class CannedReplyCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    language: str = Field(min_length=2, max_length=8, pattern="^[a-z]+$")
    topic: Topic
    name: str = Field(min_length=1, max_length=care_canned.NAME_MAX)
    body: str = Field(min_length=1, max_length=care_canned.BODY_MAX)
    priority: int = Field(0, ge=-1000, le=1000)
    active: bool = True


class CannedReplyUpdate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    language: str | None = Field(None, min_length=2, max_length=8, pattern="^[a-z]+$")
    topic: Topic | None = None
    name: str | None = Field(None, min_length=1, max_length=care_canned.NAME_MAX)
    body: str | None = Field(None, min_length=1, max_length=care_canned.BODY_MAX)
    priority: int | None = Field(None, ge=-1000, le=1000)
    active: bool | None = None


class SuggestedReplyRead(BaseModel):
    conversation_id: int
    reply_id: int | None = Field(description="the canned reply used; null for a packaged default")
    name: str
    language: str
    topic: str
    body: str
    order_id: str | None
    offer_action: str | None
    tier: str | None


class CsatRowRead(BaseModel):
    group: str
    responses: int
    mean: float | None
    satisfied: int
    unhappy: int
    csat: float | None = Field(description="% of answers 4 or 5")


def _read(c: care_canned.Canned) -> CannedReplyRead:
    return CannedReplyRead(id=c.id, language=c.language, topic=c.topic, name=c.name, body=c.body, priority=c.priority,
                           active=c.active, is_default=c.is_default, updated_at=c.updated_at, updated_by=c.updated_by)


def list_replies(session: Session, shop: m.Shop, *, language: str | None = None, topic: str | None = None,
                 include_defaults: bool = True) -> list[CannedReplyRead]:
    return [_read(c) for c in care_canned.list_replies(session, shop.id, language=language, topic=topic,
                                                         include_defaults=include_defaults)]


def get_reply(session: Session, shop: m.Shop, reply_id: int) -> CannedReplyRead:
    row = care_canned.get_reply(session, shop.id, reply_id)
    return _read(care_canned._of(row))


def create_reply(session: Session, shop: m.Shop, body: CannedReplyCreate, *, actor: str) -> CannedReplyRead:
    out = care_canned.create_reply(session, shop.id, **body.model_dump(), actor=actor)
    audit(session, actor, "canned_reply_created", target=str(out.id), shop=shop.name)
    return _read(out)


def update_reply(session: Session, shop: m.Shop, reply_id: int, body: CannedReplyUpdate, *,
                 actor: str) -> CannedReplyRead:
    out = care_canned.update_reply(session, shop.id, reply_id, **body.model_dump(exclude_unset=True), actor=actor)
    audit(session, actor, "canned_reply_updated", target=str(reply_id), shop=shop.name)
    return _read(out)


def delete_reply(session: Session, shop: m.Shop, reply_id: int, *, actor: str) -> None:
    care_canned.delete_reply(session, shop.id, reply_id)
    audit(session, actor, "canned_reply_deleted", target=str(reply_id), shop=shop.name)


def suggested(session: Session, settings: Settings, shop: m.Shop, conversation_id: int, *,
              agent: str) -> SuggestedReplyRead:
    r = suggest_reply(session, settings, shop, conversation_id, agent=agent)
    if r is None:
        raise NotFoundError(f"no canned reply for conversation {conversation_id} in any of its languages")
    return SuggestedReplyRead(conversation_id=r.conversation_id, reply_id=r.reply_id, name=r.name,
                              language=r.language, topic=r.topic, body=r.body, order_id=r.order_id,
                              offer_action=r.offer_action, tier=r.tier)


def csat(session: Session, settings: Settings, shop: m.Shop, *, by: str = "month",
         taxonomy: str | None = None) -> list[CsatRowRead]:
    return [CsatRowRead(group=r.group, responses=r.responses, mean=r.mean, satisfied=r.satisfied, unhappy=r.unhappy,
                        csat=r.csat) for r in csat_report(session, shop.id, settings, by=by, taxonomy=taxonomy)]
