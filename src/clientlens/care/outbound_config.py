"""Typed settings of the delivery of agent replies: ``[care.outbound]`` (documented in defaults.toml;
part of ``care.config.CareSettings``; used by ``care.outbound``)."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator


class OutboundSettings(BaseModel):
    """How replies are sent, retried and refused."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    #: Send a reply right after it is committed (otherwise only ``clientlens deliveries send`` does).
    send_on_reply: bool = True
    #: Retry backoff: attempt n (1, 2, ...) that failed waits ``min(retry_max_seconds,
    #: retry_base_seconds * retry_factor ** (n - 1))`` before the next one.
    retry_base_seconds: float = Field(default=60.0, ge=0)
    retry_factor: float = Field(default=2.0, ge=1)
    retry_max_seconds: float = Field(default=3600.0, ge=0)
    #: After this many failed attempts a delivery is failed for good (``clientlens deliveries retry
    #: --failed`` queues it again).
    max_attempts: int = Field(default=8, ge=1)
    #: A claim (state ``sending``) older than this is taken to belong to a process that died and may
    #: be claimed again; longer than any send can take (``smtp_timeout_s``).
    claim_timeout_seconds: float = Field(default=300.0, gt=0)
    #: How many due deliveries one run picks up at most.
    batch_size: int = Field(default=500, ge=1)
    #: Timeout of one SMTP conversation of a reply (a reply is sent during the agent's request).
    smtp_timeout_s: float = Field(default=10.0, gt=0)
    #: The channel a conversation's reply is sent on; a conversation channel not listed (phone,
    #: in_store) carries no written reply: its delivery is failed with that reason.
    channels: dict[str, str] = Field(default_factory=lambda: {"email": "email", "sms": "sms",
                                                              "chat": "chat", "social": "social"})
    #: Channels on which a reply to the customer's own request is transactional: sent whatever the
    #: customer's marketing consent. On the others a withdrawn consent (STOP) refuses it.
    transactional_channels: tuple[str, ...] = ("email",)
    #: The sender of social replies (e-mail, SMS and chat use ``[care.senders]``).
    social: Literal["webhook", "outbox", "none"] = "outbox"
    #: Webhook URL per channel overriding ``[care.senders] webhook_url`` (a provider per channel).
    webhook_urls: dict[str, str] = Field(default_factory=dict)
    #: The subject of a reply: this prefix and the conversation's subject (kept when already there).
    subject_prefix: str = "Re: "
    #: Prefixes that already mark a reply (compared case-insensitively).
    reply_prefixes: tuple[str, ...] = ("re:", "aw:", "sv:", "odp:", "tr:")
    #: The subject of a reply in a conversation without one.
    fallback_subject: str = "Your request"
    #: At most this many message ids in References (the first and the latest ones, RFC 5322 3.6.4).
    max_references: int = Field(default=20, ge=2)

    @model_validator(mode="after")
    def _known_channels(self) -> OutboundSettings:
        bad = sorted(set(self.channels.values()) - {"email", "sms", "chat", "social"})
        if bad:
            raise ValueError(f"[care.outbound] channels: unknown send channel(s) {', '.join(bad)}; "
                             "use email, sms, chat or social")
        return self
