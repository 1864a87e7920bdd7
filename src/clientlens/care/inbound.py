"""Inbound messages: JSON items or a raw e-mail into the inbox, one message at a time.

Every item is validated as an import row is (``clientlens.ingest.validate``, the interactions columns of
docs/interfaces.md), the sender matched to a profile (customer id, else e-mail, else phone, normalised as
ingest does), the message threaded into its conversation (thread id, else In-Reply-To / References
against earlier inbound messages and outbound deliveries, else the reply-prefix-free subject within the
same customer and channel), stored, and only the touched conversations updated (times, status, SLA
clock, through ``care.inbox``), then triaged (``care.triage``). A message id already stored returns
the existing message: nothing is created twice. Every function flushes; the caller commits.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

import numpy as np
import pyarrow as pa
from sqlalchemy import select
from sqlalchemy.orm import Session

from clientlens.care import inbox
from clientlens.care.config import InboundSettings, care_settings
from clientlens.care.facts import latest_facts
from clientlens.config import Settings
from clientlens.ingest.keys import assign_keys, split_duplicates
from clientlens.ingest.options import Mapping, ParseOptions
from clientlens.ingest.raw import RawTable
from clientlens.ingest.validate import validate
from clientlens.store import models as m
from clientlens.store.care_models import Conversation, ConversationMessage
from clientlens.store.erasure import is_erased, normalise_phone  # E.164 as ingest stores phone_e164
from clientlens.store.identity import normalise_email
from clientlens.store.inbound_models import MESSAGE_ID_MAX, InboundMessage
from clientlens.store.repository import get_shop, utcnow

#: The fields of a JSON item: the interactions import columns, the sender's address and the reply headers.
COLUMNS = ("interaction_id", "customer_id", "channel", "direction", "occurred_at", "thread_id", "subject", "body",
           "agent")
EXTRA = ("email", "phone", "name", "in_reply_to", "references")
#: External ids of the profiles made for unknown senders start with this.
NEW_PROFILE_PREFIX = "inbound:"
_IDS = re.compile(r"<([^<>\s]+)>")


@dataclass
class ItemError:
    """Why item ``index`` (0-based) was not kept: the field, the rule and a message."""

    index: int
    field: str
    rule: str
    message: str
    value: str | None = None


@dataclass
class ItemResult:
    index: int
    status: str  # created | existing | refused
    interaction: m.Interaction | None = None
    customer_external_id: str | None = None
    conversation_id: int | None = None
    matched_by: str | None = None
    threaded_by: str | None = None
    reason: str | None = None


@dataclass
class Received:
    results: list[ItemResult] = field(default_factory=list)
    errors: list[ItemError] = field(default_factory=list)
    conversations: list[int] = field(default_factory=list)

    def count(self, status: str) -> int:
        return sum(1 for r in self.results if r.status == status)


def message_ids(value: str | None) -> list[str]:
    """The message ids of an In-Reply-To / References value (``<a@b> <c@d>``, or bare ids), in order."""
    if not value:
        return []
    found = _IDS.findall(value)
    return found or [v for v in re.split(r"[\s,]+", value.strip()) if v]


def normalise_subject(subject: str | None, prefixes: tuple[str, ...]) -> str:
    """The subject without reply / forward prefixes ("Re:", "AW:", "TR:", "Odp:", "Re[2]:"...), case-folded."""
    if not subject:
        return ""
    pat = re.compile(r"^\s*(?:" + "|".join(re.escape(p) for p in prefixes) + r")\s*(?:\[\d+\])?\s*:\s*",
                     re.IGNORECASE) if prefixes else None
    text = subject.strip()
    while pat is not None:
        cut = pat.sub("", text, count=1)
        if cut == text:
            break
        text = cut
    return " ".join(text.split()).casefold()


def _text(value: Any) -> str | None:
    if value is None:
        return None
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (str, int, float)):
        return str(value)
    raise TypeError(type(value).__name__)


def _given(item: Any) -> str | None:
    try:
        return _text(item.get("customer_id")) if isinstance(item, dict) else None
    except TypeError:
        return None


def _raw_table(items: list[dict[str, Any]], errors: list[ItemError]) -> tuple[RawTable, list[dict[str, str | None]]]:
    """The items as the text table a file source yields (one row each), the sender fields beside it."""
    cols: dict[str, list[str | None]] = {c: [] for c in COLUMNS}
    extra: list[dict[str, str | None]] = []
    for i, item in enumerate(items):
        row: dict[str, str | None] = {}
        if not isinstance(item, dict):
            errors.append(ItemError(i, "-", "type", "an item must be a JSON object"))
            item = {}
        for name in (*COLUMNS, *EXTRA):
            try:
                row[name] = _text(item.get(name))
            except TypeError as exc:
                errors.append(ItemError(i, name, "type", f"{name} must be a string, a number or null, not {exc}"))
                row[name] = None
        if row["customer_id"] is None and (row["email"] or row["phone"]):
            row["customer_id"] = "-"  # matched below; present for the required-column check
        for c in COLUMNS:
            cols[c].append(row[c])
        extra.append({k: row[k] for k in (*EXTRA, "customer_id")} | {"customer_id": _given(item)})
    table = pa.table({c: pa.array(v, type=pa.string()) for c, v in cols.items()})
    rows = np.arange(1, len(items) + 1, dtype=np.int64)
    return RawTable(source="request", table=table, row=rows, line=rows), extra


def validate_items(items: list[dict[str, Any]], settings: Settings, shop_name: str, now: datetime,
                   ) -> tuple[list[dict[str, Any]], list[ItemError]]:
    """(valid items as typed dicts with ``_index``, ``_key``, ``_hash``, errors): the import's checks, then
    the sender's (customer_id, e-mail or phone; a well-formed address)."""
    errors: list[ItemError] = []
    raw, extra = _raw_table(items, errors)
    shop = settings.shop(shop_name)
    v = validate(raw, "interactions", mapping=Mapping(), options=ParseOptions(timezone=shop.timezone),
                 settings=settings, now=now)
    for rec in v.rejections.iter_rows(named=True):
        msg = rec["message"]
        if rec["column"] == "customer_id" and rec["rule"] == "missing":
            msg = "customer_id, email or phone is required"
        errors.append(ItemError(int(rec["row"]) - 1, rec["column"], rec["rule"], msg, rec["value"]))
    keyed = assign_keys(v.frame, "interactions")
    kept, dup, _ = split_duplicates(keyed, None, v.columns)
    for rec in dup.iter_rows(named=True):
        errors.append(ItemError(int(rec["row"]) - 1, "interaction_id", "duplicate_key",
                                "the same interaction_id appears earlier in this batch with other content",
                                rec["value"]))
    region = settings.identity.default_region
    bad = {e.index for e in errors}
    out = []
    for rec in kept.iter_rows(named=True):
        i = int(rec["_row"]) - 1
        if i in bad:
            continue
        ex = extra[i]
        email = normalise_email(ex["email"]) if ex["email"] else None
        phone = normalise_phone(str(ex["phone"]), region) if ex["phone"] else None
        problems = []
        if ex["email"] and email is None:
            problems.append(ItemError(i, "email", "email", "not an e-mail address", ex["email"]))
        if ex["phone"] and phone is None:
            problems.append(ItemError(i, "phone", "phone", f"not a phone number (read in {region})", ex["phone"]))
        for name in ("in_reply_to", "references"):
            if ex[name] and any(len(x) > MESSAGE_ID_MAX for x in message_ids(ex[name])):
                problems.append(ItemError(i, name, "too_long", f"a message id longer than {MESSAGE_ID_MAX}"))
        if rec["_key"] and len(rec["_key"]) > 200:
            problems.append(ItemError(i, "interaction_id", "too_long", "interaction_id longer than 200 characters"))
        if problems:
            errors.extend(problems)
            continue
        rec.update(_index=i, _email=email, _phone=phone, _name=ex["name"], _in_reply_to=ex["in_reply_to"],
                   _references=ex["references"])
        if ex["customer_id"] is None:
            rec["customer_id"] = None
        out.append(rec)
    errors.sort(key=lambda e: (e.index, e.field))
    return out, errors


def _customer(session: Session, shop_id: int, rec: dict[str, Any], cfg: InboundSettings, now: datetime,
              region: str) -> tuple[m.Customer | None, str | None]:
    """(profile, how it was matched): by id (an unknown id creates the profile, as an import does), e-mail,
    phone; an unknown address makes a new profile holding it (``[care.inbound] unknown_sender``)."""
    conn = session.connection()

    def survivor(c: m.Customer) -> m.Customer:
        while c.merged_into_id is not None:
            nxt = session.get(m.Customer, c.merged_into_id)
            if nxt is None:
                break
            c = nxt
        return c

    ext, email, phone = rec["customer_id"], rec["_email"], rec["_phone"]
    if ext is not None:
        if is_erased(conn, shop_id, external_id=ext):
            return None, "erased"
        cust = session.scalar(select(m.Customer).where(m.Customer.shop_id == shop_id, m.Customer.external_id == ext))
        if cust is None:
            cust = m.Customer(shop_id=shop_id, external_id=ext, imported_at=now, email=email, email_norm=email,
                              phone=rec["_phone"], phone_e164=phone, name=rec["_name"])
            session.add(cust)
            session.flush()
        return survivor(cust), "customer_id"
    for kind, col, value in (("email", m.Customer.email_norm, email), ("phone", m.Customer.phone_e164, phone)):
        if value is None:
            continue
        found = session.scalar(select(m.Customer).where(m.Customer.shop_id == shop_id, col == value)
                               .order_by(m.Customer.merged_into_id.is_not(None), m.Customer.id).limit(1))
        if found is not None:
            return survivor(found), kind
    if is_erased(conn, shop_id, email=email, phone=phone, region=region):
        return None, "erased"
    if cfg.unknown_sender == "reject":
        return None, "unknown"
    cust = m.Customer(shop_id=shop_id, external_id=f"{NEW_PROFILE_PREFIX}{email or phone}", imported_at=now,
                      email=email, email_norm=email, phone=phone, phone_e164=phone, name=rec["_name"],
                      preferred_channel=rec["channel"])
    session.add(cust)
    session.flush()
    return cust, "new_profile"


def _by_message_ids(session: Session, shop_id: int, ids: list[str]) -> Conversation | None:
    """The conversation of the latest of ``ids`` that is a stored inbound message or an outbound delivery."""
    from clientlens.store.delivery_models import OutboundDelivery

    for mid in reversed(ids):
        conv = session.scalar(
            select(Conversation).join(ConversationMessage, ConversationMessage.conversation_id == Conversation.id)
            .join(InboundMessage, InboundMessage.interaction_id == ConversationMessage.interaction_id)
            .where(InboundMessage.shop_id == shop_id, InboundMessage.message_id == mid).limit(1))
        if conv is None:
            conv = session.scalar(
                select(Conversation).join(OutboundDelivery, OutboundDelivery.conversation_id == Conversation.id)
                .where(OutboundDelivery.shop_id == shop_id,
                       OutboundDelivery.message_id.in_([f"<{mid}>", mid])).limit(1))
        if conv is not None:
            return conv
    return None


def _thread(session: Session, shop_id: int, rec: dict[str, Any], customer: m.Customer, cfg: InboundSettings,
            ) -> tuple[Conversation | None, str]:
    """The conversation a new message joins (None: a new one), and by what."""
    if rec["thread_id"]:
        return session.scalar(select(Conversation).where(Conversation.shop_id == shop_id,
                                                         Conversation.thread_key == rec["thread_id"])), "thread_id"
    parents = message_ids(rec["_in_reply_to"])
    if parents and (conv := _by_message_ids(session, shop_id, parents)) is not None:
        return conv, "in_reply_to"
    refs = message_ids(rec["_references"])
    if refs and (conv := _by_message_ids(session, shop_id, refs)) is not None:
        return conv, "references"
    subject = normalise_subject(rec["subject"], cfg.subject_prefixes)
    if subject:
        since = rec["occurred_at"] - timedelta(days=cfg.subject_thread_days)
        for conv in session.scalars(select(Conversation).where(
                Conversation.shop_id == shop_id, Conversation.customer_id == customer.id,
                Conversation.channel == rec["channel"], Conversation.last_message_at >= since)
                .order_by(Conversation.last_message_at.desc())):
            if normalise_subject(conv.subject, cfg.subject_prefixes) == subject:
                return conv, "subject"
    return None, "new"


def receive(session: Session, shop_name: str, items: list[dict[str, Any]], settings: Settings, *,
            source: str = "api", now: datetime | None = None) -> Received:
    """Validate, match, thread and store ``items``; update the touched conversations and triage them."""
    now = now or utcnow()
    care = care_settings(settings)
    cfg = care.inbound
    shop = get_shop(session, shop_name)
    region = settings.identity.default_region
    valid, errors = validate_items(items, settings, shop_name, now)
    out = Received(errors=errors)
    keys = [r["_key"] for r in valid]
    existing = {i.external_id: i for i in session.scalars(
        select(m.Interaction).where(m.Interaction.shop_id == shop.id, m.Interaction.external_id.in_(keys)))} \
        if keys else {}
    touched: dict[int, Conversation] = {}
    exts: dict[int, str] = {}
    for rec in sorted(valid, key=lambda r: (r["occurred_at"], r["_index"])):
        i = rec["_index"]
        have = existing.get(rec["_key"])
        if have is not None:
            cid = session.scalar(select(ConversationMessage.conversation_id)
                                 .where(ConversationMessage.interaction_id == have.id))
            ext = session.scalar(select(m.Customer.external_id).where(m.Customer.id == have.customer_id))
            out.results.append(ItemResult(i, "existing", have, ext, cid))
            continue
        customer, matched = _customer(session, shop.id, rec, cfg, now, region)
        if customer is None:
            out.results.append(ItemResult(i, "refused", reason="the sender's profile was erased" if matched == "erased"
                                          else "unknown sender ([care.inbound] unknown_sender = reject)"))
            continue
        conv, threaded = _thread(session, shop.id, rec, customer, cfg)
        inter = m.Interaction(shop_id=shop.id, external_id=rec["_key"], customer_id=customer.id,
                              channel=rec["channel"], direction=rec["direction"] or "inbound",
                              occurred_at=rec["occurred_at"], thread_id=conv.thread_key if conv else rec["thread_id"],
                              subject=rec["subject"], body=rec["body"], agent=rec["agent"], row_hash=rec["_hash"])
        session.add(inter)
        session.flush()
        if conv is None:
            conv = Conversation(shop_id=shop.id, customer_id=customer.id, thread_key=inbox.thread_key(inter),
                                channel=inter.channel, subject=inter.subject, status="new",
                                opened_at=inter.occurred_at, last_message_at=inter.occurred_at, updated_at=now,
                                priority=0)
            session.add(conv)
            session.flush()
        session.add(ConversationMessage(conversation_id=conv.id, interaction_id=inter.id,
                                        direction=inter.direction, occurred_at=inter.occurred_at))
        parents = message_ids(rec["_in_reply_to"])
        refs = message_ids(rec["_references"])
        session.add(InboundMessage(shop_id=shop.id, interaction_id=inter.id, message_id=rec["_key"],
                                   in_reply_to=parents[-1] if parents else None,
                                   references=" ".join(refs) or None, source=source,
                                   sender=rec["_email"] or rec["_phone"], matched_by=matched, threaded_by=threaded,
                                   received_at=now))
        session.flush()
        existing[rec["_key"]] = inter
        _unsubscribe_reply(session, customer, inter, care.unsubscribe_keywords)
        touched[conv.id] = conv
        cust_of_conv = customer if conv.customer_id == customer.id else session.get(m.Customer, conv.customer_id)
        exts[conv.id] = cust_of_conv.external_id if cust_of_conv is not None else customer.external_id
        out.results.append(ItemResult(i, "created", inter, customer.external_id, conv.id, matched, threaded))
    if touched:
        refresh_conversations(session, shop_name, settings, list(touched.values()), exts, now)
    out.results.sort(key=lambda r: r.index)
    out.conversations = sorted(touched)
    return out


def _unsubscribe_reply(session: Session, customer: m.Customer, inter: m.Interaction, keywords: tuple[str, ...]) -> None:
    """An inbound reply that is only an unsubscribe keyword (STOP...) withdraws that channel, as
    ``care.consent.process_reply_unsubscribes`` does for imported replies (same source ``reply:<id>``)."""
    from clientlens.care.consent import unsubscribe_channel, withdraw_consent

    channel = unsubscribe_channel(inter, {k.casefold() for k in keywords})
    if channel is not None:
        withdraw_consent(session, customer, channel, f"reply:{inter.external_id}", inter.occurred_at)


def refresh_conversations(session: Session, shop_name: str, settings: Settings, convs: list[Conversation],
                          exts: dict[int, str], now: datetime) -> None:
    """Times, status, SLA clock and priority of just these conversations (``care.inbox``), then their triage."""
    care = care_settings(settings)
    facts = latest_facts(session, convs[0].shop_id, sorted(set(exts.values())))
    for conv in convs:
        inbox._refresh(session, conv, exts[conv.id], facts, settings, shop_name, care, now)
    session.flush()
    triage_touched(session, [c.id for c in convs], settings)


def triage_touched(session: Session, conversation_ids: list[int], settings: Settings) -> None:
    """The one call site of triage for inbound messages: language, topic, sentiment, urgency and priority of
    each touched conversation (``care.triage.triage_conversation``)."""
    from clientlens.care.triage import triage_conversation

    for cid in conversation_ids:
        triage_conversation(session, cid, settings)
    session.flush()


def strip_quoted(text: str, cfg: InboundSettings) -> str:
    """The new part of a reply: mail-parser-reply's cut (its header patterns in ``reply_languages``), then
    the first line matching one of ``quote_headers`` and everything below it, then trailing ``>`` lines."""
    from mailparser_reply import EmailReplyParser

    reply = EmailReplyParser(languages=list(cfg.reply_languages)).parse_reply(text)
    text = reply if reply is not None and reply.strip() else text
    pats = [re.compile(p, re.IGNORECASE) for p in cfg.quote_headers]
    lines = text.splitlines()
    for n, line in enumerate(lines):
        joined = f"{line} {lines[n + 1]}" if n + 1 < len(lines) else line
        if n > 0 and any(p.search(line) or p.search(joined) for p in pats):
            lines = lines[:n]
            break
    while lines and (lines[-1].lstrip().startswith(">") or not lines[-1].strip()):
        lines.pop()
    return "\n".join(lines).strip() or text.strip()


def email_item(raw: bytes, settings: Settings, now: datetime | None = None) -> dict[str, Any]:
    """A raw RFC 5322 message as a JSON item: Message-ID as the interaction id, the From address, the
    text/plain part (else the HTML part as text) without the quoted reply, In-Reply-To and References.
    InputError when it is not a message with a sender."""
    import email
    import hashlib
    from email import policy
    from email.utils import parsedate_to_datetime

    from clientlens.errors import InputError

    now = now or utcnow()
    cfg = care_settings(settings).inbound
    try:
        msg = email.message_from_bytes(raw, policy=policy.default)
        sender = msg["From"]
        addresses = sender.addresses if sender is not None else ()
    except Exception as exc:  # the parser's header errors come in many kinds
        raise InputError(f"not an RFC 5322 message (field: message): {exc}") from exc
    if not addresses or not addresses[0].addr_spec or "@" not in addresses[0].addr_spec:
        raise InputError("the message has no From address (field: from)")
    mids = message_ids(str(msg.get("Message-ID", "") or ""))
    mid = mids[0] if mids else f"{hashlib.sha256(raw).hexdigest()[:32]}@no-message-id"
    body = ""
    try:
        part = msg.get_body(preferencelist=("plain", "html"))
    except Exception as exc:  # a broken MIME structure
        raise InputError(f"the message's MIME structure cannot be read (field: message): {exc}") from exc
    if part is not None:
        try:
            content = part.get_content()  # type: ignore[attr-defined]
        except Exception:  # an unknown charset or a broken transfer encoding: the bytes as UTF-8
            payload = part.get_payload(decode=True)
            content = payload.decode("utf-8", "replace") if isinstance(payload, bytes) else str(payload or "")
        if part.get_content_subtype() == "html":
            from inscriptis import get_text

            content = get_text(str(content))
        body = strip_quoted(str(content), cfg)
    when = now
    if msg.get("Date"):
        try:
            dt = parsedate_to_datetime(str(msg["Date"]))
            from datetime import UTC

            dt = dt.astimezone(UTC).replace(tzinfo=None) if dt.tzinfo else dt
            when = min(dt, now)  # a sender's clock ahead of ours: received now
        except (TypeError, ValueError):
            pass
    return {"interaction_id": mid, "email": addresses[0].addr_spec, "name": addresses[0].display_name or None,
            "channel": cfg.email_channel, "direction": "inbound", "occurred_at": when.strftime("%Y-%m-%d %H:%M:%S+00:00"),
            "subject": str(msg.get("Subject", "") or "") or None, "body": body or None,
            "in_reply_to": str(msg.get("In-Reply-To", "") or "") or None,
            "references": str(msg.get("References", "") or "") or None}
