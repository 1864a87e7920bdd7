"""Sending agent replies (care.outbound) to a real local SMTP server (aiosmtpd): the server stopped in
the middle of 100 replies, restarted, the retry run: every reply delivered exactly once (counted by
Message-ID at the sink), with its threading headers; refused replies recorded with their reason; the
claim safe when two workers run at once (SQLite and PostgreSQL)."""

from __future__ import annotations

import socket
import threading
import time
from collections import Counter
from datetime import datetime, timedelta
from email import message_from_bytes, policy
from email.message import EmailMessage
from typing import Any

import pytest
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from clientlens.care import inbox as care_inbox
from clientlens.care import outbound
from clientlens.care.config import care_settings
from clientlens.care.senders import OutgoingMessage, Receipt, SmtpSender
from clientlens.config import Settings, load_settings
from clientlens.service import conversations as svc
from clientlens.store import models as m
from clientlens.store.care_models import Conversation
from clientlens.store.delivery_models import OutboundDelivery
from clientlens.store.inbound_models import InboundMessage
from clientlens.store.repository import get_shop
from tests.care.conftest import NOW, SHOP

FROM = "care@shop.invalid"


class Sink:
    """aiosmtpd handler keeping every message received."""

    def __init__(self) -> None:
        self.messages: list[EmailMessage] = []

    async def handle_DATA(self, server, session, envelope):  # type: ignore[no-untyped-def]
        self.messages.append(message_from_bytes(envelope.content, policy=policy.default))  # type: ignore[arg-type]
        return "250 OK"

    def ids(self) -> Counter[str]:
        return Counter(str(msg["Message-ID"]) for msg in self.messages)


class SmtpServer:
    """A local SMTP server that can be stopped and started again on the same port."""

    def __init__(self) -> None:
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            self.port = probe.getsockname()[1]
        self.sink = Sink()
        self.controller: Any = None

    def start(self) -> None:
        from aiosmtpd.controller import Controller

        self.controller = Controller(self.sink, hostname="127.0.0.1", port=self.port)
        self.controller.start()

    def stop(self) -> None:
        if self.controller is not None:
            self.controller.stop()
            self.controller = None


@pytest.fixture
def smtp():  # type: ignore[no-untyped-def]
    server = SmtpServer()
    server.start()
    try:
        yield server
    finally:
        server.stop()


def _settings(port: int = 1, **outbound: Any) -> Settings:
    return load_settings(search_cwd=False, overrides={"care": {
        "senders": {"email": "smtp", "smtp_host": "127.0.0.1", "smtp_port": port, "smtp_from": FROM},
        "outbound": {"retry_base_seconds": 60.0, "retry_factor": 2.0, "retry_max_seconds": 600.0, **outbound}}})


def _customers(s: Session, n: int, **values: Any) -> list[m.Customer]:
    custs = list(s.scalars(select(m.Customer).order_by(m.Customer.id).limit(n)))
    for c in custs:
        c.email = c.email or f"{c.external_id.lower()}@example.org"
        for k, v in values.items():
            setattr(c, k, v)
    return custs


def _inbound(s: Session, shop_id: int, cust: m.Customer, thread: str, at: datetime, *, channel: str = "email",
             message_id: str | None = None, refs: list[str] | None = None, subject: str = "Where is my order?",
             direction: str = "inbound") -> m.Interaction:
    """A customer's message (with its message id, as the inbound endpoints store it)."""
    inter = m.Interaction(shop_id=shop_id, external_id=f"in-{thread}-{at:%H%M%S}", customer_id=cust.id,
                          channel=channel, direction=direction, occurred_at=at, thread_id=thread, subject=subject,
                          body="Hello, my parcel has not arrived.")
    s.add(inter)
    s.flush()
    if message_id:
        s.add(InboundMessage(shop_id=shop_id, interaction_id=inter.id, message_id=message_id,
                             in_reply_to=refs[-1] if refs else None, references=" ".join(refs) if refs else None,
                             source="email", sender=cust.email, matched_by="email", threaded_by="new",
                             received_at=at))
    return inter


def _conversation(s: Session, shop_id: int, thread: str) -> Conversation:
    return s.scalars(select(Conversation).where(Conversation.shop_id == shop_id,
                                                Conversation.thread_key == thread)).one()


def _hundred(engine: Engine, settings: Settings) -> dict[str, tuple[str, str, int]]:
    """100 e-mail conversations, each with the customer's message (with a message id) and the agent's
    reply queued; {reply Message-ID: (customer e-mail, customer message id, conversation id)}."""
    with Session(engine) as s:
        shop = get_shop(s, SHOP)
        custs = _customers(s, 100)
        for i, c in enumerate(custs):
            c.consent_email = (None, False, True)[i % 3]  # a reply is transactional: consent does not matter
            _inbound(s, shop.id, c, f"OUT-{i:03d}", NOW - timedelta(hours=2), message_id=f"cust-{i:03d}@mail.example")
        care_inbox.sync_conversations(s, SHOP, settings, now=NOW)
        out = {}
        for i, c in enumerate(custs):
            conv = _conversation(s, shop.id, f"OUT-{i:03d}")
            care_inbox.reply(s, SHOP, conv.id, f"Dear customer {i}, your parcel left today.", agent="ana",
                             settings=settings, now=NOW)
            d = s.scalars(select(OutboundDelivery).where(OutboundDelivery.conversation_id == conv.id)).one()
            assert d.state == "queued"
            out[d.message_id] = (c.email, f"<cust-{i:03d}@mail.example>", conv.id)
        s.commit()
    return out


class StopsTheServer:
    """SMTP through the real sender; after the n-th message the server goes down."""

    name = "smtp"

    def __init__(self, inner: SmtpSender, server: SmtpServer, n: int) -> None:
        self.inner, self.server, self.n, self.count = inner, server, n, 0

    def send(self, message: OutgoingMessage) -> Receipt:
        receipt = self.inner.send(message)
        self.count += 1
        if self.count == self.n:
            self.server.stop()
        return receipt

    def close(self) -> None:
        self.inner.close()


def test_server_stopped_in_the_middle_of_100_replies_every_reply_delivered_once(sqlite_shop, smtp) -> None:  # type: ignore[no-untyped-def]
    settings = _settings(smtp.port)
    replies = _hundred(sqlite_shop, settings)
    assert len(replies) == 100
    sender = StopsTheServer(SmtpSender("127.0.0.1", smtp.port, FROM, timeout=5), smtp, 37)
    with Session(sqlite_shop) as s:
        first = outbound.deliver_pending(s, settings, {"email": sender}, NOW)
    sender.close()
    assert len(first.sent) == 37 and len(first.retrying) == 63 and not first.failed
    assert len(smtp.sink.messages) == 37
    with Session(sqlite_shop) as s:
        retrying = list(s.scalars(select(OutboundDelivery).where(OutboundDelivery.state == "retrying")))
        assert len(retrying) == 63
        assert all(d.attempts == 1 and d.next_attempt_at == NOW + timedelta(seconds=60) for d in retrying)
        assert all("127.0.0.1" in (d.reason or "") for d in retrying)  # the reason names the server
        # the detail of a conversation shows the state
        conv_id = replies[retrying[0].message_id][2]
        shown = svc.detail(s, get_shop(s, SHOP), conv_id).deliveries
        assert [(x.state, x.attempts) for x in shown] == [("retrying", 1)] and shown[0].reason
    # not yet due: nothing happens
    with Session(sqlite_shop) as s:
        early = outbound.deliver_pending(s, settings, outbound.reply_senders(settings), NOW + timedelta(seconds=30))
    assert not early.sent and not early.retrying
    # still down when due: the second attempt fails too, with a longer wait
    later = NOW + timedelta(seconds=61)
    with Session(sqlite_shop) as s:
        second = outbound.deliver_pending(s, settings, outbound.reply_senders(settings), later)
        assert len(second.retrying) == 63
        d = s.get(OutboundDelivery, retrying[0].id)
        assert d is not None and d.attempts == 2 and d.next_attempt_at == later + timedelta(seconds=120)
    smtp.start()  # the server is back; the retry run (as `clientlens deliveries retry` does)
    senders = outbound.reply_senders(settings)
    with Session(sqlite_shop) as s:
        third = outbound.deliver_pending(s, settings, senders, later + timedelta(seconds=121))
    outbound.close_senders(senders)
    assert len(third.sent) == 63 and not third.retrying and not third.failed
    ids = smtp.sink.ids()
    assert set(ids) == set(replies) and set(ids.values()) == {1}  # every reply, exactly once
    assert len(smtp.sink.messages) == 100
    for msg in smtp.sink.messages:
        email, customer_mid, _ = replies[str(msg["Message-ID"])]
        assert str(msg["To"]) == email and str(msg["From"]) == FROM
        assert str(msg["In-Reply-To"]) == customer_mid and str(msg["References"]) == customer_mid
        assert str(msg["Subject"]) == "Re: Where is my order?"
    with Session(sqlite_shop) as s:
        states = Counter(s.scalars(select(OutboundDelivery.state)))
        assert states == {"sent": 100}
        # a run after everything was sent sends nothing
        again = outbound.deliver_pending(s, settings, outbound.reply_senders(settings), later + timedelta(days=1))
    assert not again.sent and len(smtp.sink.messages) == 100


def test_threading_headers_follow_the_whole_thread_and_a_reply_is_sent_after_its_commit(sqlite_shop, smtp) -> None:  # type: ignore[no-untyped-def]
    settings = _settings(smtp.port)
    with Session(sqlite_shop, expire_on_commit=False) as s:
        shop = get_shop(s, SHOP)
        (cust,) = _customers(s, 1, consent_email=False)
        _inbound(s, shop.id, cust, "THREAD-1", NOW - timedelta(hours=3), message_id="first@mail.example",
                 subject="Re: Zamówienie 1234")
        care_inbox.sync_conversations(s, SHOP, settings, now=NOW - timedelta(hours=3))
        conv_id = _conversation(s, shop.id, "THREAD-1").id
        s.commit()
        # the service replies, commits and sends at once
        first = svc.reply(s, settings, shop, conv_id, "Dzień dobry, paczka jest w drodze.", "ana")
        assert [d.state for d in first.deliveries] == ["sent"]
        ours = first.deliveries[0].message_id
        # the customer answers our reply, we answer again
        _inbound(s, shop.id, cust, "THREAD-1", NOW + timedelta(minutes=5), message_id="second@mail.example",
                 refs=["first@mail.example", ours.strip("<>")], subject="Re: Zamówienie 1234")
        care_inbox.sync_conversations(s, SHOP, settings, now=NOW + timedelta(minutes=5))
        s.commit()
        second = svc.reply(s, settings, shop, conv_id, "Paczka dotrze jutro.", "ana")
    assert [d.state for d in second.deliveries] == ["sent", "sent"]
    got = {str(msg["Message-ID"]): msg for msg in smtp.sink.messages}
    assert len(got) == 2 and ours in got
    assert got[ours]["In-Reply-To"] == "<first@mail.example>" and got[ours]["References"] == "<first@mail.example>"
    assert got[ours]["Subject"] == "Re: Zamówienie 1234"  # already a reply: no "Re: Re:"
    last = got[second.deliveries[1].message_id]
    assert last["In-Reply-To"] == "<second@mail.example>"
    assert str(last["References"]).split() == ["<first@mail.example>", ours, "<second@mail.example>"]
    assert last.get_content().strip() == "Paczka dotrze jutro."


def test_refused_replies_are_recorded_failed_with_their_reason(sqlite_shop, tmp_path) -> None:  # type: ignore[no-untyped-def]
    from clientlens.service.privacy import erase_customer

    settings = load_settings(search_cwd=False, overrides={"care": {"senders": {"outbox_dir": str(tmp_path / "box")}}})
    with Session(sqlite_shop, expire_on_commit=False) as s:
        shop = get_shop(s, SHOP)
        a, b, c, d, e = _customers(s, 5)
        b.consent_sms, c.consent_email, d.consent_email, e.consent_sms = False, None, True, None
        _inbound(s, shop.id, a, "R-ERASED", NOW - timedelta(hours=1))
        _inbound(s, shop.id, b, "R-STOP", NOW - timedelta(hours=1), channel="sms")
        _inbound(s, shop.id, c, "R-NOTASKED", NOW - timedelta(hours=1), direction="outbound")  # we wrote first
        _inbound(s, shop.id, d, "R-PHONE", NOW - timedelta(hours=1), channel="phone")
        _inbound(s, shop.id, e, "R-OK", NOW - timedelta(hours=1), channel="sms")
        care_inbox.sync_conversations(s, SHOP, settings, now=NOW)
        convs = {t: _conversation(s, shop.id, t).id for t in ("R-ERASED", "R-STOP", "R-NOTASKED", "R-PHONE", "R-OK")}
        s.commit()
        a_ext = a.external_id
        erase_customer(s, shop, a_ext, actor="test", file_dirs=[])
        s.commit()
        states, details = {}, {}
        for thread, cid in convs.items():
            details[thread] = detail = svc.reply(s, settings, shop, cid, "We are on it.", "ana")
            states[thread] = (detail.deliveries[0].state, detail.deliveries[0].reason or "")
    assert states["R-OK"] == ("sent", "")
    assert states["R-ERASED"][0] == "failed" and "erased" in states["R-ERASED"][1]
    assert states["R-STOP"][0] == "failed" and "withdrew consent to 'sms'" in states["R-STOP"][1]
    assert states["R-NOTASKED"][0] == "failed" and "has not consented to 'email'" in states["R-NOTASKED"][1]
    assert states["R-PHONE"][0] == "failed" and "phone channel carries no written reply" in states["R-PHONE"][1]
    assert len(list((tmp_path / "box").iterdir())) == 1  # only the allowed reply went (to the outbox)
    # the conversation shows each reply's delivery state, in the agent's language
    html = _render(details["R-STOP"], "pl")
    assert 'data-delivery-state="failed"' in html and "Wysyłka" in html and "niepowodzenie" in html
    assert "withdrew consent to &#39;sms&#39;" in html
    html = _render(details["R-OK"], "fr")
    assert 'data-delivery-state="sent"' in html and "envoyé" in html and html.count("data-delivery-state") == 1
    # consent withdrawn after queueing: checked again when sent
    with Session(sqlite_shop) as s:
        shop = get_shop(s, SHOP)
        conv = s.get(Conversation, convs["R-OK"])
        assert conv is not None
        care_inbox.reply(s, SHOP, conv.id, "One more thing.", agent="ana", settings=settings, now=NOW)
        customer = s.get(m.Customer, conv.customer_id)
        assert customer is not None
        customer.consent_sms = False
        s.commit()
        report = outbound.deliver_pending(s, settings, outbound.reply_senders(settings), NOW)
        assert len(report.failed) == 1 and not report.sent
        row = s.scalars(select(OutboundDelivery).where(OutboundDelivery.message_id == report.failed[0])).one()
        assert row.state == "failed" and "withdrew consent" in (row.reason or "") and row.next_attempt_at is None
        # queued again after the cause was fixed (`deliveries retry --failed`), and sent
        customer.consent_sms = True
        assert outbound.requeue_failed(s, NOW, shop_id=shop.id) == 5
        s.commit()
        again = outbound.deliver_pending(s, settings, outbound.reply_senders(settings), NOW)
        assert report.failed[0] in again.sent and len(again.failed) == 4


class _Viewer:
    name, csrf_token = "ana", ""

    def can(self, permission: str) -> bool:
        return False


def _render(detail: Any, lang: str) -> str:
    """The conversation partial of the inbox page as the web layer renders it."""
    from urllib.parse import quote

    from clientlens.web.context import templates
    from clientlens.web.i18n import I18n

    i18n = I18n(lang)
    return templates().env.get_template("_conversation.html").render(
        current=detail, i18n=i18n, _=i18n.gettext, user=_Viewer(), shop=SHOP, quote=quote, csrf="")


class SlowSink:
    """A sender shared by two workers: records every message, slowly (so the workers interleave)."""

    name = "memory"

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.ids: list[str] = []

    def send(self, message: OutgoingMessage) -> Receipt:
        time.sleep(0.002)
        with self.lock:
            self.ids.append(message.message_id)
        return Receipt(message.message_id, self.name)


def test_two_workers_claim_each_delivery_once(shop_engine) -> None:  # type: ignore[no-untyped-def]
    """SQLite and PostgreSQL: two workers run the delivery at once; every reply goes exactly once."""
    settings = _settings()
    with Session(shop_engine) as s:
        shop = get_shop(s, SHOP)
        custs = _customers(s, 60)
        for i, c in enumerate(custs):
            _inbound(s, shop.id, c, f"CL-{i:03d}", NOW - timedelta(hours=1))
        care_inbox.sync_conversations(s, SHOP, settings, now=NOW)
        for i in range(60):
            care_inbox.reply(s, SHOP, _conversation(s, shop.id, f"CL-{i:03d}").id, "Thanks!", agent="ana",
                             settings=settings, now=NOW)
        s.commit()
        # the claim itself: a second claim of the same row gets nothing
        first = s.scalars(select(OutboundDelivery.id).order_by(OutboundDelivery.id)).first()
        assert first is not None
        care = care_settings(settings)
        token = outbound.claim(s, first, NOW, care)
        assert token and outbound.claim(s, first, NOW, care) is None
    sink = SlowSink()
    reports: list[outbound.DeliveryReport] = []
    errors: list[BaseException] = []

    start = threading.Barrier(2)

    def worker() -> None:
        try:
            with Session(shop_engine) as ws:
                start.wait(30)
                reports.append(outbound.deliver_pending(ws, settings, {"email": sink}, NOW))
        except BaseException as exc:  # noqa: BLE001 - reported below
            errors.append(exc)

    threads = [threading.Thread(target=worker) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(120)
    assert not errors, errors
    counts = Counter(sink.ids)
    assert len(counts) == 59 and set(counts.values()) == {1}  # the claimed one is held by its "dead" owner
    assert sum(len(r.sent) for r in reports) == 59
    assert all(r.sent for r in reports)  # both workers did part of the work
    # the dead owner's claim is taken over once it is stale, and sent with the same Message-ID
    with Session(shop_engine) as s:
        early = outbound.deliver_pending(s, settings, {"email": sink}, NOW + timedelta(seconds=10))
        assert not early.sent
        late = outbound.deliver_pending(s, settings, {"email": sink}, NOW + timedelta(seconds=301))
        assert len(late.sent) == 1
        row = s.get(OutboundDelivery, first)
        assert row is not None and row.state == "sent" and row.attempts == 2
        assert Counter(s.scalars(select(OutboundDelivery.state))) == {"sent": 60}
    assert set(Counter(sink.ids).values()) == {1} and len(sink.ids) == 60


def test_cli_retry_sends_what_is_due_and_lists_the_states(sqlite_shop, tmp_path) -> None:  # type: ignore[no-untyped-def]
    import json

    from typer.testing import CliRunner

    from clientlens.cli.main import build_app

    settings = _settings(send_on_reply=False)
    with Session(sqlite_shop) as s:
        shop = get_shop(s, SHOP)
        (cust,) = _customers(s, 1)
        _inbound(s, shop.id, cust, "CLI-1", NOW - timedelta(hours=1), message_id="cli@mail.example")
        care_inbox.sync_conversations(s, SHOP, settings, now=NOW)
        svc.reply(s, settings, shop, _conversation(s, shop.id, "CLI-1").id, "Sent by the CLI run.", "ana")
        s.commit()
    db = str(sqlite_shop.url)

    def run(*args: str) -> str:
        res = CliRunner().invoke(build_app(), ["--db", db, *args], catch_exceptions=False)
        assert res.exit_code == 0, res.output
        return res.output

    listed = json.loads(run("deliveries", "list", "--shop", SHOP, "--format", "json"))
    assert [d["state"] for d in listed] == ["queued"]
    out = run("deliveries", "retry", "--shop", SHOP, "--outbox", str(tmp_path / "box"))
    assert "1 replies sent" in out
    (eml,) = list((tmp_path / "box").iterdir())
    parsed = message_from_bytes(eml.read_bytes(), policy=policy.default)
    assert parsed["In-Reply-To"] == "<cli@mail.example>" and parsed["Message-ID"] == listed[0]["message_id"]
    assert [d["state"] for d in json.loads(run("deliveries", "list", "--shop", SHOP, "--format", "json"))] == ["sent"]
    assert "0 replies sent" in run("deliveries", "retry", "--shop", SHOP, "--outbox", str(tmp_path / "box"))
    res = CliRunner().invoke(build_app(), ["--db", db, "deliveries", "list", "--shop", SHOP, "--state", "lost"])
    assert res.exit_code != 0 and "--state" in (res.output + str(res.exception))


def test_chat_replies_go_through_the_webhook_adapter_and_a_retry_keeps_the_idempotency_key(sqlite_shop) -> None:  # type: ignore[no-untyped-def]
    import json

    import httpx

    from clientlens.care.senders import WebhookSender

    answers = [500, 202]
    seen: list[httpx.Request] = []

    def provider(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(answers.pop(0), text="queued")

    settings = _settings(send_on_reply=False)
    with Session(sqlite_shop) as s:
        shop = get_shop(s, SHOP)
        (cust,) = _customers(s, 1, consent_chat=None)
        ext = cust.external_id
        _inbound(s, shop.id, cust, "CHAT-1", NOW - timedelta(minutes=10), channel="chat", message_id="chat-77")
        care_inbox.sync_conversations(s, SHOP, settings, now=NOW)
        care_inbox.reply(s, SHOP, _conversation(s, shop.id, "CHAT-1").id, "Chào bạn, đơn hàng đang được giao.",
                         agent="binh", settings=settings, now=NOW)
        s.commit()
        hook = WebhookSender("http://provider.invalid/send", client=httpx.Client(transport=httpx.MockTransport(provider)))
        first = outbound.deliver_pending(s, settings, {"chat": hook}, NOW)
        assert len(first.retrying) == 1
        row = s.scalars(select(OutboundDelivery)).one()
        assert row.state == "retrying" and "answered 500" in (row.reason or "")
        second = outbound.deliver_pending(s, settings, {"chat": hook}, NOW + timedelta(seconds=60))
        assert second.sent == first.retrying
    assert len(seen) == 2 and {r.headers["Idempotency-Key"] for r in seen} == {first.retrying[0]}
    body = json.loads(seen[1].content)
    assert body["channel"] == "chat" and body["to"] == ext and body["campaign"] == "reply:CHAT-1"
    assert body["text"] == "Chào bạn, đơn hàng đang được giao." and body["headers"]["In-Reply-To"] == "<chat-77>"


def test_cli_inbox_reply_sends_at_once(sqlite_shop, tmp_path) -> None:  # type: ignore[no-untyped-def]
    from typer.testing import CliRunner

    from clientlens.cli.main import build_app

    settings = _settings()
    with Session(sqlite_shop) as s:
        shop = get_shop(s, SHOP)
        a, b = _customers(s, 2)
        b.consent_sms = False
        _inbound(s, shop.id, a, "CLI-R1", NOW - timedelta(hours=1))
        _inbound(s, shop.id, b, "CLI-R2", NOW - timedelta(hours=1), channel="sms")
        care_inbox.sync_conversations(s, SHOP, settings, now=NOW)
        ok, refused = (_conversation(s, shop.id, t).id for t in ("CLI-R1", "CLI-R2"))
        s.commit()
    config = tmp_path / "clientlens.toml"
    config.write_text(f'[care.senders]\noutbox_dir = "{tmp_path / "box"}"\n', "utf-8")
    base = ["--db", str(sqlite_shop.url), "--config", str(config), "inbox", "reply"]
    res = CliRunner().invoke(build_app(), [*base, str(ok), "On its way.", "--agent", "ana", "--shop", SHOP],
                             catch_exceptions=False)
    assert res.exit_code == 0 and "delivery sent" in res.output, res.output
    assert len(list((tmp_path / "box").iterdir())) == 1
    res = CliRunner().invoke(build_app(), [*base, str(refused), "On its way.", "--agent", "ana", "--shop", SHOP],
                             catch_exceptions=False)
    assert res.exit_code == 0 and "delivery failed" in res.output and "withdrew consent" in res.output
    assert len(list((tmp_path / "box").iterdir())) == 1


class Broken:
    name = "broken"

    def send(self, message: OutgoingMessage) -> Receipt:
        raise RuntimeError("provider library bug")


def test_an_unexpected_sender_error_is_recorded_and_retried_until_final(sqlite_shop) -> None:  # type: ignore[no-untyped-def]
    settings = _settings(send_on_reply=False, max_attempts=2)
    with Session(sqlite_shop) as s:
        shop = get_shop(s, SHOP)
        (cust,) = _customers(s, 1)
        _inbound(s, shop.id, cust, "BUG-1", NOW - timedelta(minutes=10))
        care_inbox.sync_conversations(s, SHOP, settings, now=NOW)
        care_inbox.reply(s, SHOP, _conversation(s, shop.id, "BUG-1").id, "Hello", agent="ana", settings=settings,
                         now=NOW)
        s.commit()
        first = outbound.deliver_pending(s, settings, {"email": Broken()}, NOW)
        row = s.scalars(select(OutboundDelivery)).one()
        assert first.retrying and row.state == "retrying" and row.reason == "RuntimeError: provider library bug"
        second = outbound.deliver_pending(s, settings, {"email": Broken()}, NOW + timedelta(minutes=5))
        s.refresh(row)
        assert second.failed and row.state == "failed" and row.attempts == 2 and row.next_attempt_at is None
