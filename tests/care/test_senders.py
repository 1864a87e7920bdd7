"""The webhook and outbox senders (the SMTP one is tested against aiosmtpd in test_smtp.py)."""

from __future__ import annotations

import json
from email import message_from_bytes, policy

import httpx
import pytest

from clientlens.care.config import CareSettings, SenderSettings
from clientlens.care.senders import (
    OutboxSender,
    OutgoingMessage,
    SmtpSender,
    WebhookSender,
    build_senders,
    stable_message_id,
)
from clientlens.errors import CareError

MSG = OutgoingMessage(stable_message_id("s", "c", "C1", "sms", "d.invalid"), "sms", "+48600100200",
                      "Wszystkiego najlepszego", "Żółć i gęślą jaźń", "pl", "c", "C1", "http://u/t")


def test_webhook_posts_json_with_an_idempotency_key() -> None:
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(202, text="queued")

    sender = WebhookSender("http://hook.invalid/send", client=httpx.Client(transport=httpx.MockTransport(handler)))
    receipt = sender.send(MSG)
    assert receipt.accepted and receipt.detail == "queued" and receipt.message_id == MSG.message_id
    body = json.loads(seen[0].content)
    assert body["to"] == "+48600100200" and body["text"] == "Żółć i gęślą jaźń" and body["channel"] == "sms"
    assert seen[0].headers["Idempotency-Key"] == MSG.message_id

    failing = WebhookSender("http://hook.invalid/send", client=httpx.Client(
        transport=httpx.MockTransport(lambda r: httpx.Response(500))))
    with pytest.raises(CareError, match="answered 500"):
        failing.send(MSG)


def test_outbox_writes_one_file_per_message_idempotently(tmp_path) -> None:  # type: ignore[no-untyped-def]
    sender = OutboxSender(tmp_path)
    sender.send(MSG)
    sender.send(MSG)
    files = list(tmp_path.iterdir())
    assert len(files) == 1 and json.loads(files[0].read_text("utf-8"))["body"] == "Żółć i gęślą jaźń"
    email = OutgoingMessage(MSG.message_id.replace("<", "<e"), "email", "a@b.invalid", "Joyeux anniversaire !",
                            "Toute l’équipe", "fr", "c", "C1", "http://u/t", "mailto:unsub@shop.invalid")
    path = sender.send(email).detail
    parsed = message_from_bytes(open(path, "rb").read(), policy=policy.default)
    assert parsed["Message-ID"] == email.message_id and parsed.get_content().strip() == "Toute l’équipe"
    assert "mailto:unsub@shop.invalid" in str(parsed["List-Unsubscribe"])


def test_stable_message_ids_and_sender_config() -> None:
    a = stable_message_id("shop", "camp", "C1", "email", "x.invalid")
    assert a == stable_message_id("shop", "camp", "C1", "email", "x.invalid")
    assert a != stable_message_id("shop", "camp", "C1", "sms", "x.invalid")
    assert a.startswith("<") and a.endswith("@x.invalid>")
    senders = build_senders(CareSettings(senders=SenderSettings(email="smtp", sms="outbox", chat="none")))
    assert isinstance(senders["email"], SmtpSender) and isinstance(senders["sms"], OutboxSender)
    assert "chat" not in senders
    with pytest.raises(CareError, match="webhook_url"):
        build_senders(CareSettings(senders=SenderSettings(sms="webhook")))
    with pytest.raises(CareError, match="e-mail"):
        SmtpSender("127.0.0.1", 1, "x@y").send(MSG)
