"""Inbound messages: ``POST .../interactions`` (JSON, one or a batch) and ``POST .../inbound/email`` (a raw
RFC 5322 message as e-mail providers' inbound webhooks post it). docs/api.md, "Inbound messages"."""

from __future__ import annotations

import json
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse

from clientlens.errors import InputError
from clientlens.http.deps import ConversationWriter, EngineDep, SettingsDep, ShopName
from clientlens.http.errors import error_body
from clientlens.service import inbound
from clientlens.service import schemas as s

router = APIRouter(prefix="/shops/{shop}", tags=["interactions"])

_ITEM = inbound.InteractionIn.model_json_schema()
_ITEM_SCHEMA = {k: v for k, v in _ITEM.items() if k != "examples"}
_BATCH = {"oneOf": [_ITEM_SCHEMA,
                    {"type": "array", "items": _ITEM_SCHEMA},
                    {"type": "object", "properties": {"items": {
                        "type": "array", "items": _ITEM_SCHEMA}},
                     "required": ["items"]}]}
_RESPONSES: dict[int | str, dict[str, Any]] = {
    201: {"model": inbound.InboundRead, "description": "Stored (some created)"},
    422: {"model": inbound.InboundRejected, "description": "Some items rejected (named by index, field and rule); "
          "the valid ones are stored and listed in result"}}


async def _body(request: Request, limit: int) -> bytes:
    data = b""
    async for chunk in request.stream():
        data += chunk
        if len(data) > limit:
            raise InputError(f"request larger than {limit} bytes ([care.inbound] max_bytes)")
    return data


def _answer(result: inbound.InboundRead, errors: list[dict[str, Any]]) -> JSONResponse:
    doc = result.model_dump(mode="json")
    if errors:
        names = ", ".join(f"item {e['index']} {e['field']} ({e['rule']})" for e in errors[:20])
        body = error_body(422, "items_rejected", f"{len({e['index'] for e in errors})} item(s) rejected: {names}",
                          errors)
        return JSONResponse({**body, "result": doc}, status_code=422)
    return JSONResponse(doc, status_code=201 if result.created else 200)


def _limits(settings: Any) -> Any:
    from clientlens.care.config import care_settings

    return care_settings(settings).inbound


@router.post("/interactions", response_model=inbound.InboundRead, status_code=200, responses=_RESPONSES,
             openapi_extra={"requestBody": {"required": True, "content": {"application/json": {
                 "schema": _BATCH, "examples": {
                     "one": {"summary": "one message", "value": _ITEM["examples"][0]},
                     "batch": {"summary": "a batch", "value": [_ITEM["examples"][0], {
                         "interaction_id": "chat-77-3", "customer_id": "C1042", "channel": "chat",
                         "occurred_at": "2026-12-02T09:20:00Z", "thread_id": "chat-77", "body": "Any news?"}]}}}}}})
async def post_interactions(request: Request, engine: EngineDep, settings: SettingsDep, shop: ShopName,
                            who: ConversationWriter) -> JSONResponse:
    """Messages into the inbox: one object, an array, or ``{"items": [...]}``; idempotent by
    ``interaction_id`` (the message id: posting it again creates nothing and returns the stored message).
    Validated as an import row; 200 when everything existed, 201 when something was created, 422 naming each
    bad item's index, field and rule (the valid items are stored all the same)."""
    from fastapi.concurrency import run_in_threadpool

    cfg = _limits(settings)
    raw = await _body(request, cfg.max_bytes)
    try:
        doc = json.loads(raw or b"null")
    except ValueError as exc:
        raise InputError(f"the body is not JSON (field: body): {exc}") from exc
    if isinstance(doc, dict) and isinstance(doc.get("items"), list) and set(doc) == {"items"}:
        doc = doc["items"]
    items = doc if isinstance(doc, list) else [doc]
    if not items or (not isinstance(doc, (list, dict))):
        raise InputError("expected a message object, an array of them or {\"items\": [...]} (field: body)")
    if len(items) > cfg.max_batch:
        raise InputError(f"{len(items)} items: at most {cfg.max_batch} in one request ([care.inbound] max_batch)")
    result, errors = await run_in_threadpool(inbound.receive, engine, settings, shop, items, actor=who.actor)
    return _answer(result, errors)


@router.post("/inbound/email", response_model=inbound.InboundRead, status_code=200, responses=_RESPONSES,
             openapi_extra={"requestBody": {"required": True, "content": {
                 "message/rfc822": {"schema": {"type": "string", "format": "binary"}},
                 "text/plain": {"schema": {"type": "string"}, "example":
                                "From: Anna Nowak <anna.nowak@example.com>\r\nTo: care@shop.example\r\n"
                                "Subject: Re: Your order 1042\r\nMessage-ID: <a1@example.com>\r\n"
                                "In-Reply-To: <reply-1@clientlens.invalid>\r\n\r\nIt has not arrived yet.\r\n"},
                 "multipart/form-data": {"schema": {"type": "object", "properties": {
                     "email": {"type": "string", "description": "the raw MIME message (SendGrid's field; "
                               "Mailgun's body-mime and the others of [care.inbound] mime_form_fields too)"}}}}}}})
async def post_email(request: Request, engine: EngineDep, settings: SettingsDep, shop: ShopName,
                     who: ConversationWriter) -> JSONResponse:
    """A raw RFC 5322 e-mail as the body (``message/rfc822`` or ``text/plain``), or in a multipart form field
    (``email``, ``body-mime``...): the text part without the quoted reply, the From address matched to a
    profile (an unknown one gets a new profile), threaded by In-Reply-To / References, then subject;
    idempotent by Message-ID."""
    from fastapi.concurrency import run_in_threadpool

    from clientlens.care.inbound import email_item

    cfg = _limits(settings)
    ctype = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if ctype in ("multipart/form-data", "application/x-www-form-urlencoded"):
        form = await request.form(max_part_size=cfg.max_bytes)
        raw: bytes | None = None
        for name in cfg.mime_form_fields:
            value = form.get(name)
            if value is None:
                continue
            raw = value.encode("utf-8") if isinstance(value, str) else await value.read()
            break
        if raw is None:
            raise InputError(f"no raw message in the form (fields: {', '.join(cfg.mime_form_fields)})")
    else:
        raw = await _body(request, cfg.max_bytes)
    if len(raw) > cfg.max_bytes:
        raise InputError(f"message larger than {cfg.max_bytes} bytes ([care.inbound] max_bytes)")
    if not raw.strip():
        raise InputError("empty message (field: message)")
    item = email_item(raw, settings)
    result, errors = await run_in_threadpool(inbound.receive, engine, settings, shop, [item], actor=who.actor,
                                             source="email")
    return _answer(result, errors)


__all__ = ["router", "s"]
