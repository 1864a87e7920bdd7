"""Typed settings of the care layer: the ``[care]`` section of the configuration.

>>> from clientlens.config import load_settings
>>> care_settings(load_settings(search_cwd=False)).sla.first_response_hours["email"]
8.0
"""

from __future__ import annotations

from datetime import time
from typing import TYPE_CHECKING, Literal

from pydantic import BaseModel, ConfigDict, Field

from clientlens.care.outbound_config import OutboundSettings
from clientlens.care.signal_config import ServiceSignalSettings, SuggestSettings
from clientlens.care.triage_config import TriageSettings
from clientlens.errors import ConfigError

if TYPE_CHECKING:
    from clientlens.config import Settings

SLA_CHANNELS = ("email", "phone", "social", "chat", "in_store")


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class TightenRule(_Frozen):
    """Targets multiplied by ``factor`` for customers with a label or in the top CLV share."""

    taxonomy: str | None = None
    label: str | None = None
    clv_top_share: float | None = None
    factor: float = 1.0
    priority: int = 0


class SlaSettings(_Frozen):
    first_response_hours: dict[str, float] = Field(default_factory=dict)
    resolution_hours: dict[str, float] = Field(default_factory=dict)
    tighten: tuple[TightenRule, ...] = ()


class LoyaltyTier(_Frozen):
    name: str
    min_spend: float = 0.0
    min_tenure_days: int = 0


class LoyaltySettings(_Frozen):
    points_per_unit: float = 1.0
    tiers: tuple[LoyaltyTier, ...] = ()


class SenderSettings(_Frozen):
    email: Literal["smtp", "webhook", "outbox", "none"] = "outbox"
    sms: Literal["smtp", "webhook", "outbox", "none"] = "outbox"
    chat: Literal["smtp", "webhook", "outbox", "none"] = "outbox"
    outbox_dir: str = "outbox"
    smtp_host: str = "127.0.0.1"
    smtp_port: int = 25
    smtp_from: str = "care@clientlens.invalid"
    smtp_starttls: bool = False
    webhook_url: str = ""
    webhook_timeout_s: float = 10.0


class InboundSettings(_Frozen):
    """``[care.inbound]``: messages received through the inbound endpoints (care.inbound)."""

    max_batch: int = Field(default=500, ge=1)
    max_bytes: int = Field(default=10_485_760, ge=1024)
    subject_thread_days: int = Field(default=30, ge=0)
    subject_prefixes: tuple[str, ...] = ()
    unknown_sender: Literal["new_profile", "reject"] = "new_profile"
    reply_languages: tuple[str, ...] = ("en",)
    quote_headers: tuple[str, ...] = ()
    mime_form_fields: tuple[str, ...] = ("email",)
    email_channel: str = "email"


class CareSettings(_Frozen):
    """Everything the care layer reads from configuration (documented in defaults.toml)."""

    near_breach_share: float = 0.8
    auto_resolve_idle_days: int = 14
    replying_marker_seconds: float = Field(default=20.0, gt=0)
    workspace_last_orders: int = Field(default=5, ge=0)
    metrics_taxonomy: str = "rfm_segment"
    survey_kind: Literal["csat", "nps"] = "csat"
    survey_interval_days: int = 30
    nps_promoter_min: int = 9
    nps_detractor_max: int = 6
    csat_low_max: int = 2
    audit_p_alive_drop: float = 0.2
    rfm_order: tuple[str, ...] = ()
    playbook: str = ""
    language_fallback: tuple[str, ...] = ("en",)
    cap_messages: int = 2
    cap_days: int = 7
    quiet_hours_start: time = time(21, 0)
    quiet_hours_end: time = time(8, 0)
    birthday_window_days: int = 14
    birthday_offer_valid_days: int = 30
    message_id_domain: str = "clientlens.invalid"
    unsubscribe_url: str = "http://localhost:8000/unsubscribe/{token}"
    unsubscribe_mailto: str = ""
    unsubscribe_keywords: tuple[str, ...] = ()
    sla: SlaSettings = SlaSettings()
    loyalty: LoyaltySettings = LoyaltySettings()
    senders: SenderSettings = SenderSettings()
    service_signals: ServiceSignalSettings = ServiceSignalSettings()
    suggest: SuggestSettings = SuggestSettings()
    inbound: InboundSettings = InboundSettings()
    outbound: OutboundSettings = OutboundSettings()
    triage: TriageSettings = TriageSettings()


_VALIDATED: dict[int, tuple[Settings, CareSettings]] = {}


def care_settings(settings: Settings) -> CareSettings:
    """Validate ``settings.care`` into :class:`CareSettings` (ConfigError names the bad key).

    Settings are immutable, so each settings object is validated once (a server asks on every request).
    """
    hit = _VALIDATED.get(id(settings))
    if hit is not None and hit[0] is settings:
        return hit[1]
    try:
        care = CareSettings.model_validate(settings.care)
    except Exception as exc:
        raise ConfigError(f"invalid [care] configuration: {exc}") from exc
    if len(_VALIDATED) > 16:
        _VALIDATED.clear()
    _VALIDATED[id(settings)] = (settings, care)
    return care
