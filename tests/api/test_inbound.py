"""Inbound messages over real HTTP (the app's TestClient) on SQLite and PostgreSQL: JSON batches validated
as imports are (a bad item named by index, field and rule; the good ones kept), idempotent by message id,
raw e-mails threaded by In-Reply-To and by subject, senders matched by e-mail, and the conversation in the
inbox at once with its SLA clock started."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from clientlens.app import create_app
from clientlens.config import load_settings
from clientlens.service.auth import create_token
from clientlens.store import models as m
from clientlens.store.auth_models import AuditEvent
from clientlens.store.db import make_engine, session_scope, upgrade
from clientlens.store.inbound_models import InboundMessage

SHOP = "inbound-shop"
API = f"/api/v1/shops/{SHOP}"


@pytest.fixture
def client(store_url: str, tmp_path: Path) -> Iterator[tuple[TestClient, Any]]:
    engine = make_engine(store_url)
    upgrade(engine)
    now = datetime.utcnow()
    with session_scope(engine) as s:
        shop = m.Shop(name=SHOP, created_at=now)
        s.add(shop)
        s.flush()
        s.add_all([m.Customer(shop_id=shop.id, external_id="C1", name="Anna Nowak", email="Anna.Nowak@Example.com",
                              email_norm="anna.nowak@example.com", imported_at=now),
                   m.Customer(shop_id=shop.id, external_id="C2", name="Minh Tran", phone="+48 601 234 567",
                              phone_e164="+48601234567", imported_at=now)])
        token = create_token(s, "inbound-webhook", "agent", actor="test")
    settings = load_settings(search_cwd=False, overrides={
        "web": {"upload_dir": str(tmp_path / "uploads")},
        "care": {"senders": {"outbox_dir": str(tmp_path / "outbox")}}})
    with TestClient(create_app(settings, engine), headers={"Authorization": f"Bearer {token}"}) as c:
        yield c, engine
    engine.dispose()


def _when(hours_ago: float) -> str:
    return (datetime.utcnow() - timedelta(hours=hours_ago)).strftime("%Y-%m-%dT%H:%M:%SZ")


def _count(engine: Any, what: Any) -> int:
    with session_scope(engine) as s:
        return int(s.scalar(select(func.count()).select_from(what)) or 0)


def test_a_batch_with_one_bad_item_keeps_the_good_ones_and_names_index_and_field(client) -> None:  # type: ignore[no-untyped-def]
    c, engine = client
    batch = [{"interaction_id": "m-1", "customer_id": "C1", "channel": "chat", "occurred_at": _when(2), "body": "Hi"},
             {"interaction_id": "m-2", "customer_id": "C1", "channel": "chat", "occurred_at": "31.02.2026 25:00"},
             {"interaction_id": "m-3", "phone": "+48 601-234-567", "channel": "sms", "occurred_at": _when(1),
              "body": "Where is my parcel?"}]
    r = c.post(f"{API}/interactions", json={"items": batch})
    assert r.status_code == 422, r.text
    doc = r.json()
    assert [(f["index"], f["field"], f["rule"]) for f in doc["error"]["fields"]] == [(1, "occurred_at", "date")]
    assert "item 1 occurred_at (date)" in doc["error"]["message"]
    kept = {d["index"]: d for d in doc["result"]["data"]}
    assert set(kept) == {0, 2} and doc["result"]["created"] == 2 and doc["result"]["rejected"] == 1
    assert kept[2]["matched_by"] == "phone" and kept[2]["interaction"]["customer_id"] == "C2"
    assert _count(engine, m.Interaction) == 2
    with session_scope(engine) as s:
        ev = s.scalars(select(AuditEvent).where(AuditEvent.action == "interactions_received")).one()
        assert ev.actor.endswith("inbound-webhook") and ev.shop == SHOP and '"created": 2' in (ev.detail or "")


def test_posting_twice_is_idempotent(client) -> None:  # type: ignore[no-untyped-def]
    c, engine = client
    item = {"interaction_id": "wa-42", "customer_id": "C1", "channel": "chat", "occurred_at": _when(3),
            "body": "Can I change the size?"}
    first = c.post(f"{API}/interactions", json=item)
    assert first.status_code == 201, first.text
    again = c.post(f"{API}/interactions", json=[item])
    assert again.status_code == 200, again.text
    assert again.json()["existing"] == 1 and again.json()["created"] == 0
    assert again.json()["data"][0]["interaction"] == first.json()["data"][0]["interaction"]
    assert again.json()["data"][0]["conversation_id"] == first.json()["data"][0]["conversation_id"]
    assert _count(engine, m.Interaction) == 1 and _count(engine, InboundMessage) == 1


def _mail(mid: str, subject: str, body: str, *, sender: str = "Anna Nowak <anna.nowak@example.com>",
          reply_to: str | None = None) -> bytes:
    head = [f"From: {sender}", "To: care@shop.example", f"Subject: {subject}", f"Message-ID: <{mid}>",
            "Date: Wed, 02 Dec 2026 08:00:00 +0000", "MIME-Version: 1.0",
            "Content-Type: text/plain; charset=utf-8"]
    if reply_to:
        head += [f"In-Reply-To: <{reply_to}>", f"References: <{reply_to}>"]
    return ("\r\n".join(head) + "\r\n\r\n" + body).encode()


def test_raw_emails_thread_by_in_reply_to_and_by_subject_and_match_the_sender_by_email(client) -> None:  # type: ignore[no-untyped-def]
    c, engine = client
    first = c.post(f"{API}/inbound/email", content=_mail("a1@mail.example", "Order 1042 not delivered",
                                                          "My order 1042 has not arrived."),
                   headers={"Content-Type": "message/rfc822"})
    assert first.status_code == 201, first.text
    d1 = first.json()["data"][0]
    assert d1["matched_by"] == "email" and d1["interaction"]["customer_id"] == "C1"
    assert d1["threaded_by"] == "new"
    # a reply to it (quoted text below), posted as a multipart form field as SendGrid does
    reply = _mail("a2@mail.example", "Re: Order 1042 not delivered",
                  "Any news?\r\n\r\nOn Tue, 1 Dec 2026 at 10:00, Anna <anna.nowak@example.com> wrote:\r\n"
                  "> My order 1042 has not arrived.\r\n", reply_to="a1@mail.example")
    second = c.post(f"{API}/inbound/email", files={"email": ("message.eml", reply, "message/rfc822")})
    assert second.status_code == 201, second.text
    d2 = second.json()["data"][0]
    assert d2["threaded_by"] == "in_reply_to" and d2["conversation_id"] == d1["conversation_id"]
    assert d2["interaction"]["body"] == "Any news?"
    # no headers to follow: the same customer's subject without its "AW:" prefix
    third = c.post(f"{API}/inbound/email", content=_mail("a3@mail.example", "AW: Re: order 1042 NOT delivered",
                                                          "Hello again"), headers={"Content-Type": "text/plain"})
    d3 = third.json()["data"][0]
    assert d3["threaded_by"] == "subject" and d3["conversation_id"] == d1["conversation_id"]
    # the same e-mail again: nothing new
    again = c.post(f"{API}/inbound/email", content=_mail("a3@mail.example", "AW: Re: order 1042 NOT delivered",
                                                          "Hello again"), headers={"Content-Type": "text/plain"})
    assert again.status_code == 200 and again.json()["existing"] == 1
    assert _count(engine, m.Interaction) == 3
    # an unknown sender gets a new profile holding the address, in a conversation of its own
    new = c.post(f"{API}/inbound/email", content=_mail("b1@mail.example", "Order 1042 not delivered", "Hi",
                                                        sender="Louis Martin <louis@example.org>"),
                 headers={"Content-Type": "message/rfc822"}).json()["data"][0]
    assert new["matched_by"] == "new_profile" and new["interaction"]["customer_id"] == "inbound:louis@example.org"
    assert new["conversation_id"] != d1["conversation_id"]


def test_the_conversation_is_in_the_inbox_at_once_with_its_sla_clock(client) -> None:  # type: ignore[no-untyped-def]
    c, _ = client
    r = c.post(f"{API}/interactions", json={"interaction_id": "mail-9", "email": "ANNA.NOWAK@example.com ",
                                            "channel": "email", "occurred_at": _when(0.5),
                                            "subject": "Refund please", "body": "I want my money back."})
    assert r.status_code == 201, r.text
    cid = r.json()["data"][0]["conversation_id"]
    inbox = c.get(f"{API}/conversations").json()["data"]
    conv = next(x for x in inbox if x["id"] == cid)
    assert conv["customer_id"] == "C1" and conv["status"] == "new"
    assert conv["opened_at"] is not None and conv["first_response_due"] is not None
    assert conv["first_response_due"] > conv["opened_at"]
    detail = c.get(f"{API}/conversations/{cid}").json()
    assert [h["interaction_id"] for h in detail["history"]] == ["mail-9"]


def test_bad_bodies_are_422_naming_the_field(client) -> None:  # type: ignore[no-untyped-def]
    c, _ = client
    r = c.post(f"{API}/interactions", json=[{"interaction_id": "x", "channel": "chat", "occurred_at": _when(1)}])
    assert r.status_code == 422
    assert r.json()["error"]["fields"][0]["field"] == "customer_id"
    r = c.post(f"{API}/inbound/email", content=b"no headers at all", headers={"Content-Type": "text/plain"})
    assert r.status_code == 422 and "from" in r.json()["error"]["message"]
    assert c.post(f"{API}/interactions", content=b"{", headers={"Content-Type": "application/json"}).status_code == 422


def test_html_only_mail_and_quoted_replies_in_four_languages() -> None:
    from clientlens.care.config import care_settings
    from clientlens.care.inbound import email_item, normalise_subject, strip_quoted

    settings = load_settings(search_cwd=False)
    cfg = care_settings(settings).inbound
    quoted = {"en": "Thanks!\n\nOn Mon, 1 Dec 2026 at 10:00, Shop <care@shop.example> wrote:\n> Shipped.",
              "fr": "Merci !\n\nLe lun. 1 déc. 2026 à 10:00, Shop <care@shop.example> a écrit :\n> Expédié.",
              "pl": "Dziękuję!\n\nW dniu 1.12.2026 o 10:00 Shop <care@shop.example> napisał:\n> Wysłano.",
              "vi": "Cảm ơn!\n\nVào Th 2, 1 thg 12, 2026 lúc 10:00 Shop <care@shop.example> đã viết:\n> Đã gửi."}
    assert {k: strip_quoted(v, cfg) for k, v in quoted.items()} == {
        "en": "Thanks!", "fr": "Merci !", "pl": "Dziękuję!", "vi": "Cảm ơn!"}
    assert normalise_subject("Odp: TR: Re[2]: Zamówienie  1042", cfg.subject_prefixes) == "zamówienie 1042"
    raw = ("From: a@b.example\r\nSubject: Hi\r\nMessage-ID: <h1@b.example>\r\nMIME-Version: 1.0\r\n"
           "Content-Type: text/html; charset=utf-8\r\n\r\n<html><body><p>Where is <b>my</b> order?</p></body></html>")
    item = email_item(raw.encode(), settings)
    assert item["body"] == "Where is my order?" and item["interaction_id"] == "h1@b.example"


def test_a_stop_reply_withdraws_the_channel(client) -> None:  # type: ignore[no-untyped-def]
    c, engine = client
    r = c.post(f"{API}/interactions", json={"interaction_id": "sms-1", "phone": "+48601234567", "channel": "sms",
                                            "occurred_at": _when(1), "body": "STOP"})
    assert r.status_code == 201, r.text
    with session_scope(engine) as s:
        cust = s.scalars(select(m.Customer).where(m.Customer.external_id == "C2")).one()
        assert cust.consent_sms is False
        ev = s.scalars(select(m.ConsentEvent).where(m.ConsentEvent.customer_id == cust.id)).one()
        assert ev.source == "reply:sms-1" and ev.granted is False
