"""Typed settings of the service signals and the suggested replies: ``[care.service_signals]`` and
``[care.suggest]`` (documented in defaults.toml; part of ``care.config.CareSettings``)."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field


class ServiceSignalSettings(BaseModel):
    """When a customer's service experience calls for a recovery action (``care.signals``)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    #: Low CSAT: the mean of the customer's last ``csat_recent`` CSAT answers given within
    #: ``window_days`` is at most ``csat_mean_max``.
    csat_recent: int = Field(default=3, ge=1)
    csat_mean_max: float = Field(default=2.0, ge=1, le=5)
    #: NPS detractor: the latest NPS answer within ``window_days`` is at most ``[care] nps_detractor_max``.
    nps_detractor: bool = True
    #: Answers older than this many days (before "now") are not recent; 0 = no age limit.
    window_days: int = Field(default=180, ge=0)
    #: An open complaint: an unresolved conversation whose triage topic is one of these.
    complaint_topics: tuple[str, ...] = ("complaint",)
    #: Repeated contacts: at least ``repeat_contacts`` conversations opened within ``repeat_days`` days.
    repeat_contacts: int = Field(default=3, ge=2)
    repeat_days: int = Field(default=14, ge=1)


class SuggestSettings(BaseModel):
    """How suggested replies are chosen and personalised (``care.suggest``)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    #: Discount (percent) of the offers a suggested reply may mention (win-back, recovery).
    offer_discount: int = Field(default=10, ge=0, le=100)
    #: Actions of the playbook whose offer a reply mentions (the first that applies, by priority).
    offer_actions: tuple[str, ...] = ("service_recovery", "win_back_offer", "loyalty_invitation", "promotion",
                                      "nurture")
    #: The longest rendered reply (characters): a template producing more is an error.
    max_length: int = Field(default=5000, ge=100)
