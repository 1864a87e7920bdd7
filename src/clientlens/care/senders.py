"""Message senders behind one seam: ``send(message) -> Receipt``.

- :class:`SmtpSender` e-mail over SMTP (smtplib), with ``List-Unsubscribe`` and a stable ``Message-ID``;
- :class:`WebhookSender` SMS and chat through an HTTP webhook (httpx, JSON body);
- :class:`OutboxSender` one file per message in a folder (named by the Message-ID: idempotent);
- :class:`MemorySender` keeps messages in a list, for tests.

The send log (``care.campaigns``) decides what to send; a sender only delivers.
"""

from __future__ import annotations

import hashlib
import json
import logging
import smtplib
from dataclasses import asdict, dataclass, field
from email.message import EmailMessage
from email.utils import formatdate
from pathlib import Path
from typing import Any, Protocol

from clientlens.care.config import CareSettings, SenderSettings
from clientlens.errors import CareError

log = logging.getLogger(__name__)


def hashed_message_id(domain: str, *parts: str) -> str:
    """``<hash@domain>`` of ``parts``: the same message, the same id, whatever the attempt."""
    digest = hashlib.sha256("\x1f".join(parts).encode()).hexdigest()[:32]
    return f"<{digest}@{domain}>"


def stable_message_id(shop: str, campaign: str, customer: str, channel: str, domain: str) -> str:
    """The Message-ID of a campaign message: from shop + campaign + customer + channel."""
    return hashed_message_id(domain, shop, campaign, customer, channel)


@dataclass(frozen=True)
class OutgoingMessage:
    """What a sender delivers: recipient address, text, and the headers that identify it."""

    message_id: str
    channel: str
    recipient: str
    subject: str
    body: str
    language: str
    campaign: str
    customer_id: str
    unsubscribe_url: str | None = None
    unsubscribe_mailto: str | None = None
    headers: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class Receipt:
    message_id: str
    sender: str
    accepted: bool = True
    detail: str = ""

    def to_json(self) -> str:
        return json.dumps(asdict(self), ensure_ascii=False)


class Sender(Protocol):
    """The seam: deliver one message, or raise CareError."""

    name: str

    def send(self, message: OutgoingMessage) -> Receipt: ...


class MemorySender:
    """Keeps every message sent (tests, dry runs)."""

    name = "memory"

    def __init__(self) -> None:
        self.sent: list[OutgoingMessage] = []

    def send(self, message: OutgoingMessage) -> Receipt:
        self.sent.append(message)
        return Receipt(message.message_id, self.name)


def email_message(message: OutgoingMessage, from_addr: str) -> EmailMessage:
    """The RFC 5322 message of an e-mail, with its stable Message-ID and List-Unsubscribe."""
    em = EmailMessage()
    em["From"] = from_addr
    em["To"] = message.recipient
    em["Subject"] = message.subject
    em["Message-ID"] = message.message_id
    em["Date"] = formatdate(usegmt=True)
    targets = [f"<{u}>" for u in (message.unsubscribe_url, message.unsubscribe_mailto) if u]
    if targets:
        em["List-Unsubscribe"] = ", ".join(targets)
        if message.unsubscribe_url:
            em["List-Unsubscribe-Post"] = "List-Unsubscribe=One-Click"
    for key, value in message.headers.items():
        em[key] = value
    em.set_content(message.body)
    em["Content-Language"] = message.language  # after set_content, which resets Content-* headers
    return em


class SmtpSender:
    """E-mail over SMTP; one connection kept open until :meth:`close`."""

    name = "smtp"

    def __init__(self, host: str, port: int, from_addr: str, *, starttls: bool = False,
                 username: str | None = None, password: str | None = None, timeout: float = 30.0):
        self.host, self.port, self.from_addr = host, port, from_addr
        self.starttls, self.username, self.password, self.timeout = starttls, username, password, timeout
        self._conn: smtplib.SMTP | None = None

    def _connection(self) -> smtplib.SMTP:
        if self._conn is None:
            try:
                conn = smtplib.SMTP(self.host, self.port, timeout=self.timeout)
                if self.starttls:
                    conn.starttls()
                if self.username:
                    conn.login(self.username, self.password or "")
            except (OSError, smtplib.SMTPException) as exc:
                raise CareError(f"cannot reach the SMTP server {self.host}:{self.port}: {exc}") from exc
            self._conn = conn
        return self._conn

    def send(self, message: OutgoingMessage) -> Receipt:
        if message.channel != "email":
            raise CareError(f"the SMTP sender sends e-mail, not {message.channel}")
        em = email_message(message, self.from_addr)
        try:
            refused = self._connection().send_message(em)
        except (OSError, smtplib.SMTPException) as exc:
            self.close()
            raise CareError(f"SMTP {self.host}:{self.port} refused {message.message_id}: {exc}") from exc
        return Receipt(message.message_id, self.name, not refused, json.dumps(refused) if refused else "")

    def close(self) -> None:
        if self._conn is not None:
            try:
                self._conn.quit()
            except (OSError, smtplib.SMTPException):
                pass
            self._conn = None


class WebhookSender:
    """SMS / chat through an HTTP webhook: POST JSON, any 2xx is accepted."""

    name = "webhook"

    def __init__(self, url: str, *, timeout: float = 10.0, client: Any = None):
        if not url:
            raise CareError("the webhook sender needs [care.senders] webhook_url")
        self.url, self.timeout = url, timeout
        self._client = client

    def send(self, message: OutgoingMessage) -> Receipt:
        import httpx

        payload = {"message_id": message.message_id, "channel": message.channel, "to": message.recipient,
                   "subject": message.subject, "text": message.body, "language": message.language,
                   "campaign": message.campaign, "unsubscribe_url": message.unsubscribe_url,
                   "headers": dict(message.headers)}  # a reply's In-Reply-To / References (care.outbound)
        client = self._client or httpx.Client(timeout=self.timeout)
        try:
            resp = client.post(self.url, json=payload, headers={"Idempotency-Key": message.message_id})
        except httpx.HTTPError as exc:
            raise CareError(f"webhook {self.url} failed for {message.message_id}: {exc}") from exc
        finally:
            if self._client is None:
                client.close()
        if resp.status_code // 100 != 2:
            raise CareError(f"webhook {self.url} answered {resp.status_code} for {message.message_id}")
        return Receipt(message.message_id, self.name, True, resp.text[:500])


class OutboxSender:
    """Writes each message to ``folder`` (``.eml`` for e-mail, ``.json`` otherwise)."""

    name = "outbox"

    def __init__(self, folder: str | Path, from_addr: str = "care@clientlens.invalid"):
        self.folder = Path(folder)
        self.from_addr = from_addr

    def send(self, message: OutgoingMessage) -> Receipt:
        self.folder.mkdir(parents=True, exist_ok=True)
        stem = hashlib.sha256(message.message_id.encode()).hexdigest()[:24]
        if message.channel == "email":
            path = self.folder / f"{stem}.eml"
            path.write_bytes(bytes(email_message(message, self.from_addr)))
        else:
            path = self.folder / f"{stem}.json"
            path.write_text(json.dumps(asdict(message), ensure_ascii=False, indent=1), "utf-8")
        return Receipt(message.message_id, self.name, True, str(path))


def sender_of(kind: str, cfg: SenderSettings, *, outbox_dir: str | Path | None = None,
              webhook_url: str | None = None, smtp_timeout: float = 30.0) -> Sender | None:
    """The sender ``kind`` ("smtp", "webhook", "outbox"; None for "none") built from ``[care.senders]``."""
    if kind == "smtp":
        return SmtpSender(cfg.smtp_host, cfg.smtp_port, cfg.smtp_from, starttls=cfg.smtp_starttls,
                          timeout=smtp_timeout)
    if kind == "webhook":
        return WebhookSender(webhook_url or cfg.webhook_url, timeout=cfg.webhook_timeout_s)
    if kind == "outbox":
        return OutboxSender(outbox_dir or cfg.outbox_dir, cfg.smtp_from)
    return None


def build_senders(care: CareSettings, *, outbox_dir: str | Path | None = None) -> dict[str, Sender]:
    """The sender of each channel as configured in ``[care.senders]``."""
    cfg = care.senders
    built = {channel: sender_of(getattr(cfg, channel), cfg, outbox_dir=outbox_dir) for channel in ("email", "sms", "chat")}
    return {channel: sender for channel, sender in built.items() if sender is not None}
