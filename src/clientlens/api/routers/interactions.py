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
def list_conversations(db: DbDep, settings: SettingsDep, shop: ShopDep, who: Reader, limit: Limit = 50,
                       offset: Offset = 0,
                       status: Annotated[Literal["new", "open", "waiting_on_customer", "resolved", "unresolved", "all"],
                                         Query()] = "unresolved",
                       assignee: Annotated[str | None, Query(max_length=100)] = None,
                       view: Annotated[Literal["mine", "unassigned"] | None, Query()] = None,
                       channel: Annotated[str | None, Query(max_length=20)] = None,
                       priority: Annotated[int | None, Query(ge=-1000, le=1000)] = None,
                       topic: Annotated[str | None, Query(max_length=30)] = None,
                       language: Annotated[str | None, Query(max_length=8)] = None,
                       q: Annotated[str | None, Query(max_length=200)] = None) -> s.Page[s.ConversationRead]:
    """The inbox: conversations by SLA urgency (priority, then earliest first-response due time), filtered
    by status, channel, assignee, priority, topic, language, a search over subject, bodies and customer
    name (``q``) and the views ``mine`` (the caller's) and ``unassigned``; paged in SQL."""
    f = conversations.InboxFilter(status=status, channel=channel, priority=priority, topic=topic, language=language, search=q,
                    assignee=who.name if view == "mine" else assignee, unassigned=view == "unassigned")
    return conversations.inbox(db, settings, shop, filters=f, limit=limit, offset=offset)


@router.get("/conversations/{conversation_id}", response_model=s.ConversationDetail)
def get_conversation(db: DbDep, settings: SettingsDep, shop: ShopDep, conversation_id: ConversationId,
                     who: Reader) -> s.ConversationDetail:
    """One conversation with its messages, internal notes and the other agents replying to it now."""
    return conversations.detail(db, shop, conversation_id, settings=settings, viewer=who.name)


@router.post("/conversations/{conversation_id}/reply", response_model=s.ConversationDetail)
def reply(db: DbDep, settings: SettingsDep, shop: ShopDep, conversation_id: ConversationId, body: s.ReplyCreate,
          who: ConversationWriter) -> s.ConversationDetail:
    """Reply in the conversation (an outbound interaction by the current user)."""
    return conversations.reply(db, settings, shop, conversation_id, body.body, who.name, subject=body.subject)


@router.post("/conversations/{conversation_id}/assign", response_model=s.ConversationDetail)
def assign(db: DbDep, settings: SettingsDep, shop: ShopDep, conversation_id: ConversationId, body: s.AssignUpdate,
           who: ConversationWriter) -> s.ConversationDetail:
    """Assign the conversation to a user (null: unassign); a name that is no user is a 422."""
    return conversations.assign(db, shop, conversation_id, body.assignee, settings=settings, actor=who.name)


@router.post("/conversations/{conversation_id}/resolve", response_model=s.ConversationDetail)
def resolve(db: DbDep, settings: SettingsDep, shop: ShopDep, conversation_id: ConversationId,
            who: ConversationWriter) -> s.ConversationDetail:
    """Mark the conversation resolved (care queues a satisfaction survey)."""
    return conversations.resolve(db, settings, shop, conversation_id, actor=who.name)


@router.post("/conversations/{conversation_id}/reopen", response_model=s.ConversationDetail)
def reopen(db: DbDep, settings: SettingsDep, shop: ShopDep, conversation_id: ConversationId,
           who: ConversationWriter) -> s.ConversationDetail:
    """Open a resolved conversation again (409 when it is not resolved)."""
    return conversations.reopen(db, settings, shop, conversation_id, actor=who.name)


@router.post("/conversations/{conversation_id}/notes", response_model=s.ConversationDetail, status_code=201)
def add_note(db: DbDep, settings: SettingsDep, shop: ShopDep, conversation_id: ConversationId, body: s.NoteCreate,
             who: ConversationWriter) -> s.ConversationDetail:
    """An internal note on the conversation: shown in its thread, never sent to the customer; audited."""
    return conversations.add_note(db, settings, shop, conversation_id, body.body, actor=who.name)


@router.post("/conversations/bulk", response_model=s.BulkResult)
def bulk(db: DbDep, settings: SettingsDep, shop: ShopDep, body: s.BulkAction, who: ConversationWriter) -> s.BulkResult:
    """Assign or resolve several conversations in one transaction (an unknown id or assignee fails them all)."""
    return conversations.bulk(db, settings, shop, body, actor=who.name)
