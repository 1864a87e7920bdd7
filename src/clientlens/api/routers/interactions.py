"""Interactions (messages, calls) and conversations (threads): list, read, reply, assign, resolve."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Query

from clientlens.api import schemas as s
from clientlens.api.deps import ConversationWriter, DbDep, Reader, ShopDep, WebSettingsDep
from clientlens.api.routers.common import Limit, Offset
from clientlens.api.services import conversations, customers

router = APIRouter(prefix="/shops/{shop}", tags=["interactions"])

Thread = Annotated[str, "thread id"]


@router.get("/interactions", response_model=s.Page[s.InteractionRead])
def list_interactions(db: DbDep, shop: ShopDep, _: Reader, limit: Limit = 50, offset: Offset = 0,
                      customer_id: Annotated[str | None, Query(max_length=200)] = None) -> s.Page[s.InteractionRead]:
    """Interactions, newest first."""
    return customers.shop_interactions(db, shop, limit=limit, offset=offset, customer_id=customer_id)


@router.get("/conversations", response_model=s.Page[s.ConversationRead])
def list_conversations(db: DbDep, cfg: WebSettingsDep, shop: ShopDep, _: Reader, limit: Limit = 50,
                       offset: Offset = 0,
                       status: Annotated[Literal["open", "resolved", "all"], Query()] = "open",
                       assignee: Annotated[str | None, Query(max_length=100)] = None) -> s.Page[s.ConversationRead]:
    """The inbox: conversations ordered by SLA urgency (earliest deadline first)."""
    return conversations.inbox(db, cfg, shop, status=None if status == "all" else status, assignee=assignee,
                               limit=limit, offset=offset)


@router.get("/conversations/{thread_id}", response_model=s.ConversationDetail)
def get_conversation(db: DbDep, cfg: WebSettingsDep, shop: ShopDep, thread_id: Thread, _: Reader) -> s.ConversationDetail:
    """One conversation with its messages."""
    return conversations.detail(db, cfg, shop, thread_id)


@router.post("/conversations/{thread_id}/reply", response_model=s.ConversationDetail)
def reply(db: DbDep, cfg: WebSettingsDep, shop: ShopDep, thread_id: Thread, body: s.ReplyCreate,
          who: ConversationWriter) -> s.ConversationDetail:
    """Reply in the conversation (recorded as an outbound interaction by the current user)."""
    return conversations.reply(db, cfg, shop, thread_id, body.body, who.name, subject=body.subject)


@router.post("/conversations/{thread_id}/assign", response_model=s.ConversationDetail)
def assign(db: DbDep, cfg: WebSettingsDep, shop: ShopDep, thread_id: Thread, body: s.AssignUpdate,
           _: ConversationWriter) -> s.ConversationDetail:
    """Assign the conversation to an agent (null: unassign)."""
    return conversations.assign(db, cfg, shop, thread_id, body.assignee)


@router.post("/conversations/{thread_id}/resolve", response_model=s.ConversationDetail)
def resolve(db: DbDep, cfg: WebSettingsDep, shop: ShopDep, thread_id: Thread, _: ConversationWriter) -> s.ConversationDetail:
    """Mark the conversation resolved."""
    return conversations.set_status(db, cfg, shop, thread_id, "resolved")


@router.post("/conversations/{thread_id}/reopen", response_model=s.ConversationDetail)
def reopen(db: DbDep, cfg: WebSettingsDep, shop: ShopDep, thread_id: Thread, _: ConversationWriter) -> s.ConversationDetail:
    """Open a resolved conversation again."""
    return conversations.set_status(db, cfg, shop, thread_id, "open")
