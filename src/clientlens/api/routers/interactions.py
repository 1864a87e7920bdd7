"""Interactions (messages, calls) and conversations (threads): list, read, reply, assign, resolve."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Query

from clientlens.http.deps import ConversationWriter, DbDep, Reader, SettingsDep, ShopDep
from clientlens.http.params import Id, Limit, Offset
from clientlens.service import conversations, customers
from clientlens.service import schemas as s

router = APIRouter(prefix="/shops/{shop}", tags=["interactions"])

ConversationId = Id


@router.get("/interactions", response_model=s.Page[s.InteractionRead])
def list_interactions(db: DbDep, shop: ShopDep, _: Reader, limit: Limit = 50, offset: Offset = 0,
                      customer_id: Annotated[str | None, Query(max_length=200)] = None) -> s.Page[s.InteractionRead]:
    """Interactions, newest first."""
    return customers.shop_interactions(db, shop, limit=limit, offset=offset, customer_id=customer_id)


@router.get("/conversations", response_model=s.Page[s.ConversationRead])
def list_conversations(db: DbDep, settings: SettingsDep, shop: ShopDep, _: Reader, limit: Limit = 50,
                       offset: Offset = 0,
                       status: Annotated[Literal["new", "open", "waiting_on_customer", "resolved", "unresolved", "all"],
                                         Query()] = "unresolved",
                       assignee: Annotated[str | None, Query(max_length=100)] = None) -> s.Page[s.ConversationRead]:
    """The inbox: conversations by SLA urgency (priority, then earliest first-response due time)."""
    specific = status not in ("unresolved", "all")
    return conversations.inbox(db, settings, shop, status=status if specific else None,
                               include_resolved=status == "all", assignee=assignee, limit=limit, offset=offset)


@router.get("/conversations/{conversation_id}", response_model=s.ConversationDetail)
def get_conversation(db: DbDep, shop: ShopDep, conversation_id: ConversationId, _: Reader) -> s.ConversationDetail:
    """One conversation with its messages."""
    return conversations.detail(db, shop, conversation_id)


@router.post("/conversations/{conversation_id}/reply", response_model=s.ConversationDetail)
def reply(db: DbDep, settings: SettingsDep, shop: ShopDep, conversation_id: ConversationId, body: s.ReplyCreate,
          who: ConversationWriter) -> s.ConversationDetail:
    """Reply in the conversation (an outbound interaction by the current user)."""
    return conversations.reply(db, settings, shop, conversation_id, body.body, who.name, subject=body.subject)


@router.post("/conversations/{conversation_id}/assign", response_model=s.ConversationDetail)
def assign(db: DbDep, shop: ShopDep, conversation_id: ConversationId, body: s.AssignUpdate,
           _: ConversationWriter) -> s.ConversationDetail:
    """Assign the conversation to an agent (null: unassign)."""
    return conversations.assign(db, shop, conversation_id, body.assignee)


@router.post("/conversations/{conversation_id}/resolve", response_model=s.ConversationDetail)
def resolve(db: DbDep, settings: SettingsDep, shop: ShopDep, conversation_id: ConversationId,
            _: ConversationWriter) -> s.ConversationDetail:
    """Mark the conversation resolved (care queues a satisfaction survey)."""
    return conversations.resolve(db, settings, shop, conversation_id)
