"""Inbound messages through every surface: JSON items or a raw e-mail, stored by ``clientlens.care.inbound``
in one transaction with its audit event (retried once when a concurrent post stored the same message id)."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import Engine
from sqlalchemy.exc import IntegrityError

from clientlens.config import Settings
from clientlens.service import schemas as s
from clientlens.service.auth import audit
from clientlens.service.customers import interaction_read
from clientlens.store.db import session_scope
from clientlens.store.repository import get_shop

Scalar = str | int | float | bool | None


class InteractionIn(BaseModel):
    """One message: the interactions import columns (docs/interfaces.md), the sender's address and the ids
    it answers. The sender: ``customer_id``, else ``email``, else ``phone`` (one of them is required)."""

    model_config = ConfigDict(extra="allow", json_schema_extra={"examples": [{
        "interaction_id": "msg-20261202-0001", "email": "anna.nowak@example.com", "channel": "email",
        "occurred_at": "2026-12-02T09:15:00Z", "subject": "Where is my order 1042?",
        "body": "Hello, my parcel has not arrived yet.", "in_reply_to": None}]})

    interaction_id: Scalar = Field(None, description="the message id: posting it again creates nothing")
    customer_id: Scalar = None
    email: Scalar = None
    phone: Scalar = None
    name: Scalar = Field(None, description="the sender's name, kept on a new profile")
    channel: Scalar = Field(None, description="required: email, chat, sms, social, phone...")
    direction: Scalar = Field(None, description="inbound (default) or outbound")
    occurred_at: Scalar = Field(None, description="required; ISO 8601, without offset in the shop's time zone")
    thread_id: Scalar = None
    in_reply_to: Scalar = Field(None, description="message id(s) this answers (In-Reply-To)")
    references: Scalar = Field(None, description="message ids of the thread (References)")
    subject: Scalar = None
    body: Scalar = None
    agent: Scalar = None


class InboundItemRead(BaseModel):
    index: int = Field(description="0-based position of the item in the request")
    status: Literal["created", "existing", "refused"]
    interaction: s.InteractionRead | None = None
    conversation_id: int | None = None
    matched_by: str | None = None
    threaded_by: str | None = None
    reason: str | None = None


class InboundRead(BaseModel):
    created: int
    existing: int
    refused: int
    rejected: int
    data: list[InboundItemRead]
    conversations: list[int]


class InboundRejected(BaseModel):
    """422: ``error.fields`` names each rejected item (``index``, ``field``, ``rule``, ``message``); the
    valid items were stored all the same and are in ``result``."""

    error: s.ErrorDetail
    result: InboundRead | None = None  # absent when the request as a whole was unusable


def _read(received: Any) -> InboundRead:
    data = [InboundItemRead(index=r.index, status=r.status, conversation_id=r.conversation_id,
                            matched_by=r.matched_by, threaded_by=r.threaded_by, reason=r.reason,
                            interaction=interaction_read(r.interaction, r.customer_external_id or "?")
                            if r.interaction is not None else None) for r in received.results]
    return InboundRead(created=received.count("created"), existing=received.count("existing"),
                       refused=received.count("refused"), rejected=len({e.index for e in received.errors}),
                       data=data, conversations=received.conversations)


def fields_of(received: Any) -> list[dict[str, Any]]:
    return [{"index": e.index, "field": e.field, "rule": e.rule, "message": e.message, "value": e.value}
            for e in received.errors]


def receive(engine: Engine, settings: Settings, shop: str, items: list[Any], *, actor: str,
            source: str = "api") -> tuple[InboundRead, list[dict[str, Any]]]:
    """Store ``items`` in ``shop`` (404 if it does not exist), audited; (result, errors per item)."""
    from clientlens.care.inbound import receive as care_receive

    for attempt in (1, 2):
        try:
            with session_scope(engine) as db:
                get_shop(db, shop)
                received = care_receive(db, shop, items, settings, source=source)
                result = _read(received)
                audit(db, actor, "interactions_received", shop=shop,
                      target=(result.data[0].interaction.interaction_id
                              if result.data and result.data[0].interaction else None),
                      detail={"source": source, "created": result.created, "existing": result.existing,
                              "refused": result.refused, "rejected": result.rejected})
            return result, fields_of(received)
        except IntegrityError:
            if attempt == 2:
                raise
    raise AssertionError("unreachable")  # pragma: no cover
