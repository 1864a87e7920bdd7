"""Sending e-mail to a local SMTP server (aiosmtpd, started by the test): exactly the expected
messages, and a send killed half-way then restarted delivers nothing twice but the message that was
in flight, recognisable by its Message-ID."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import textwrap
from collections import Counter
from datetime import datetime
from email import message_from_bytes, policy
from email.message import EmailMessage
from pathlib import Path

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from clientlens.care import campaigns as cp
from clientlens.care.audience import CampaignSpec
from clientlens.care.senders import OutgoingMessage, Receipt, SmtpSender, stable_message_id
from clientlens.store import models as m
from clientlens.store.care_models import CareMessage
from tests.care.conftest import SHOP

NOON = datetime(2026, 3, 2, 12, 0)
LANG_SUBJECTS = {"en": "Welcome", "vi": "Chào mừng bạn đến với", "pl": "Witamy w", "fr": "Bienvenue chez"}


class Inbox:
    """aiosmtpd handler keeping every message received."""

    def __init__(self) -> None:
        self.messages: list[EmailMessage] = []

    async def handle_DATA(self, server, session, envelope):  # type: ignore[no-untyped-def]
        self.messages.append(message_from_bytes(envelope.content, policy=policy.default))  # type: ignore[arg-type]
        return "250 OK"


@pytest.fixture
def smtp():  # type: ignore[no-untyped-def]
    from aiosmtpd.controller import Controller

    with socket.socket() as probe:  # a free port
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    inbox = Inbox()
    controller = Controller(inbox, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        yield inbox, "127.0.0.1", port
    finally:
        controller.stop()


def _audience(engine, n: int = 8) -> list[tuple[str, str, str]]:  # type: ignore[no-untyped-def]
    """Pick n customers (two per language), give them e-mail consent; (external id, email, language)."""
    out = []
    with Session(engine) as s:
        per_lang: Counter[str] = Counter()
        for c in s.scalars(select(m.Customer).order_by(m.Customer.id)):
            lang = (c.language or "en")[:2]
            if per_lang[lang] >= n // 4 or lang not in LANG_SUBJECTS:
                continue
            per_lang[lang] += 1
            c.consent_email, c.email = True, c.email or f"{c.external_id}@example.org"
            out.append((c.external_id, c.email, lang))
        s.commit()
    return out


def _spec(ids: list[str]) -> CampaignSpec:
    return CampaignSpec.model_validate({"name": "welcome", "template": "nurture", "channels": ["email"],
                                        "discount": 10, "audience": {"customers": ids},
                                        "schedule": {"respect_quiet_hours": False}})


def test_smtp_delivers_exactly_the_expected_messages(sqlite_shop, settings, smtp) -> None:  # type: ignore[no-untyped-def]
    inbox, host, port = smtp
    people = _audience(sqlite_shop)
    assert len({lang for *_, lang in people}) == 4
    sender = SmtpSender(host, port, "care@shop.invalid")
    report = cp.send_campaign(sqlite_shop, SHOP, _spec([p[0] for p in people]), settings, {"email": sender}, now=NOON)
    sender.close()
    assert report.sent == len(people)
    got = {str(msg["To"]): msg for msg in inbox.messages}
    assert len(inbox.messages) == len(people) and set(got) == {p[1] for p in people}
    for ext, email, lang in people:
        msg = got[email]
        assert msg["Message-ID"] == stable_message_id(SHOP, "welcome", ext, "email", "clientlens.invalid")
        assert str(msg["List-Unsubscribe"]).strip().startswith("<http://localhost:8000/unsubscribe/")
        assert msg["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
        assert str(msg["Subject"]).startswith(LANG_SUBJECTS[lang])
        assert msg["Content-Language"] == lang
        body = msg.get_content()
        if lang == "pl":
            assert "Dziękujemy za zainteresowanie" in body
        if lang == "vi":
            assert "Cảm ơn bạn đã quan tâm" in body
        if lang == "fr":
            assert "Merci de l’intérêt" in body
    # running the campaign again sends nothing: everything is recorded as sent
    again = cp.send_campaign(sqlite_shop, SHOP, _spec([p[0] for p in people]), settings,
                             {"email": SmtpSender(host, port, "care@shop.invalid")}, now=NOON)
    assert again.sent == 0 and again.already_sent == len(people) and len(inbox.messages) == len(people)


class Crash(BaseException):
    """The process dies (not an error the send loop may handle)."""


class CrashAfterData:
    """Delivers through SMTP, then dies on the n-th message before the send log records it."""

    name = "smtp"

    def __init__(self, inner: SmtpSender, n: int) -> None:
        self.inner, self.n, self.count = inner, n, 0

    def send(self, message: OutgoingMessage) -> Receipt:
        receipt = self.inner.send(message)
        self.count += 1
        if self.count == self.n:
            raise Crash()
        return receipt


def _check_restart(engine, inbox: Inbox, people, in_flight_id: str, report) -> None:  # type: ignore[no-untyped-def]
    ids = Counter(str(msg["Message-ID"]) for msg in inbox.messages)
    expected = {stable_message_id(SHOP, "welcome", p[0], "email", "clientlens.invalid") for p in people}
    assert set(ids) == expected  # every message delivered ...
    assert {k for k, v in ids.items() if v > 1} == {in_flight_id}  # ... once, but the one in flight
    assert ids[in_flight_id] == 2
    assert report.resent_in_flight == [in_flight_id]
    with Session(engine) as s:
        assert {r.status for r in s.scalars(select(CareMessage))} == {"sent"}


def test_a_crash_after_data_resends_only_the_message_in_flight(sqlite_shop, settings, smtp) -> None:  # type: ignore[no-untyped-def]
    inbox, host, port = smtp
    people = _audience(sqlite_shop)
    with pytest.raises(Crash):
        cp.send_campaign(sqlite_shop, SHOP, _spec([p[0] for p in people]), settings,
                         {"email": CrashAfterData(SmtpSender(host, port, "care@shop.invalid"), 3)}, now=NOON)
    with Session(sqlite_shop) as s:
        states = Counter(r.status for r in s.scalars(select(CareMessage)))
        in_flight = s.scalars(select(CareMessage.message_id).where(CareMessage.status == "in_flight")).one()
    assert states == {"sent": 2, "in_flight": 1, "pending": len(people) - 3}
    assert len(inbox.messages) == 3
    report = cp.send_campaign(sqlite_shop, SHOP, _spec([p[0] for p in people]), settings,
                              {"email": SmtpSender(host, port, "care@shop.invalid")}, now=NOON)
    _check_restart(sqlite_shop, inbox, people, in_flight, report)


KILLER = textwrap.dedent('''
    import os, signal, sys
    from datetime import datetime
    from clientlens.care import campaigns as cp
    from clientlens.care.audience import CampaignSpec
    from clientlens.care.senders import SmtpSender
    from clientlens.config import load_settings
    from clientlens.store.db import make_engine

    url, host, port, n, ids = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4]), sys.argv[5].split(",")

    class KillAfterData(SmtpSender):
        count = 0
        def send(self, message):
            receipt = super().send(message)
            KillAfterData.count += 1
            if KillAfterData.count == n:
                os.kill(os.getpid(), signal.SIGKILL)
            return receipt

    spec = CampaignSpec.model_validate({"name": "welcome", "template": "nurture", "channels": ["email"],
                                        "discount": 10, "audience": {"customers": ids},
                                        "schedule": {"respect_quiet_hours": False}})
    cp.send_campaign(make_engine(url), "sample-shop", spec, load_settings(search_cwd=False),
                     {"email": KillAfterData(host, port, "care@shop.invalid")}, now=datetime(2026, 3, 2, 12))
''')


def test_a_send_killed_half_way_and_restarted(sqlite_shop, settings, smtp, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    inbox, host, port = smtp
    people = _audience(sqlite_shop)
    url = str(sqlite_shop.url)
    sqlite_shop.dispose()
    script = tmp_path / "killer.py"
    script.write_text(KILLER, "utf-8")
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)}
    proc = subprocess.run([sys.executable, str(script), url, host, str(port), "4", ",".join(p[0] for p in people)],
                          capture_output=True, text=True, env=env, cwd=tmp_path, timeout=120)
    assert proc.returncode == -9, proc.stderr  # SIGKILL
    assert len(inbox.messages) == 4
    with Session(sqlite_shop) as s:
        in_flight = s.scalars(select(CareMessage.message_id).where(CareMessage.status == "in_flight")).one()
    report = cp.send_campaign(sqlite_shop, SHOP, _spec([p[0] for p in people]), settings,
                              {"email": SmtpSender(host, port, "care@shop.invalid")}, now=NOON)
    _check_restart(sqlite_shop, inbox, people, in_flight, report)
