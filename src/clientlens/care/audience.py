"""Campaign definitions (TOML) and their audience: labels, scores, consent, birthdays, channel.

A campaign file::

    name = "winback-spring"
    template = "winback"            # templates/<lang>/winback.txt.j2
    channels = ["email", "sms"]     # channels this campaign may use
    discount = 15
    offer_valid_days = 30
    [audience]
    labels_any = ["rfm_segment:at_risk", "rfm_segment:cant_lose_them", "lifecycle:inactive"]
    [schedule]
    respect_quiet_hours = true

A birthday campaign adds ``kind = "birthday"`` and ``[birthday] window_days / offer_valid_days``.
"""

from __future__ import annotations

import calendar
import tomllib
from datetime import date, datetime, time, timedelta
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from clientlens.care.business_time import to_local, zone
from clientlens.care.consent import has_consent
from clientlens.care.facts import CustomerFacts
from clientlens.care.render import primary_language
from clientlens.errors import ConfigError, InputError
from clientlens.store import models as m

SENDABLE_CHANNELS = ("email", "sms", "chat")


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class AudienceSpec(_Frozen):
    """Who may receive the campaign (all conditions must hold)."""

    labels_any: tuple[str, ...] = ()   # "taxonomy:label"; at least one of them
    labels_all: tuple[str, ...] = ()   # every one of them
    labels_none: tuple[str, ...] = ()  # none of them
    min_clv: float | None = None
    clv_top_share: float | None = None
    min_p_alive: float | None = None
    max_p_alive: float | None = None
    languages: tuple[str, ...] = ()
    countries: tuple[str, ...] = ()
    customers: tuple[str, ...] = ()    # explicit external ids


class BirthdaySpec(_Frozen):
    window_days: int | None = None       # default [care] birthday_window_days
    offer_valid_days: int | None = None  # default [care] birthday_offer_valid_days


class ScheduleSpec(_Frozen):
    not_before: datetime | None = None  # UTC; nothing is sent earlier
    respect_quiet_hours: bool = True


class CampaignSpec(_Frozen):
    name: str = Field(min_length=1, max_length=150)
    template: str
    kind: Literal["standard", "birthday"] = "standard"
    channels: tuple[Literal["email", "sms", "chat"], ...] = ("email",)
    discount: int = 0
    offer_valid_days: int | None = None
    templates_dir: str | None = None
    audience: AudienceSpec = AudienceSpec()
    birthday: BirthdaySpec = BirthdaySpec()
    schedule: ScheduleSpec = ScheduleSpec()


def load_campaign(path: str | Path) -> CampaignSpec:
    """Read a campaign TOML file (InputError / ConfigError name the file and the key)."""
    path = Path(path)
    try:
        data = tomllib.loads(path.read_text("utf-8"))
    except OSError as exc:
        raise InputError(f"{path}: cannot read the campaign file: {exc}") from exc
    except tomllib.TOMLDecodeError as exc:
        raise InputError(f"{path}: not valid TOML: {exc}") from exc
    if data.get("templates_dir"):
        data["templates_dir"] = str((path.parent / data["templates_dir"]).resolve())
    try:
        return CampaignSpec.model_validate(data)
    except Exception as exc:
        raise ConfigError(f"{path}: invalid campaign: {exc}") from exc


def celebration_date(birth: date, year: int) -> date:
    """The day a birthday is celebrated in ``year``: 29 February becomes 28 February in other years."""
    if birth.month == 2 and birth.day == 29 and not calendar.isleap(year):
        return date(year, 2, 28)
    return birth.replace(year=year)


def birthday_in_window(birth: date | None, today: date, window_days: int) -> date | None:
    """The celebration date when it falls in ``[today, today + window_days]`` (across a year end)."""
    if birth is None:
        return None
    for year in (today.year, today.year + 1):
        day = celebration_date(birth, year)
        if today <= day <= today + timedelta(days=window_days):
            return day
    return None


def matches_audience(customer: m.Customer, facts: CustomerFacts, spec: AudienceSpec) -> bool:
    """Whether ``customer`` (with its snapshot facts) is in the audience."""
    if spec.customers and customer.external_id not in spec.customers:
        return False
    if not facts.meets(labels_any=spec.labels_any, labels_all=spec.labels_all, labels_none=spec.labels_none,
                       clv_top_share=spec.clv_top_share, min_p_alive=spec.min_p_alive,
                       max_p_alive=spec.max_p_alive):
        return False
    if spec.min_clv is not None and (facts.clv is None or facts.clv < spec.min_clv):
        return False
    if spec.languages and primary_language(customer.language) not in spec.languages:
        return False
    return not (spec.countries and (customer.country or "").upper() not in spec.countries)


def address_for(customer: m.Customer, channel: str) -> str | None:
    """Where a message on ``channel`` goes (None when the customer has no such address)."""
    if channel == "email":
        return customer.email or None
    if channel == "sms":
        return customer.phone_e164 or customer.phone or None
    if channel == "chat":
        return customer.external_id
    return None


def choose_channel(customer: m.Customer, allowed: tuple[str, ...]) -> tuple[str | None, str]:
    """The customer's preferred channel if consented and allowed, else the first allowed consented one.

    Returns (channel, reason); channel None with the reason ``no_consent`` or ``no_address``.
    """
    consented = [c for c in allowed if has_consent(customer, c)]
    if not consented:
        return None, "no_consent"
    reachable = [c for c in consented if address_for(customer, c)]
    if not reachable:
        return None, "no_address"
    preferred = (customer.preferred_channel or "").lower()
    if preferred in reachable:
        return preferred, "preferred"
    return reachable[0], "first_consented"


def in_quiet_hours(now_utc: datetime, tz_name: str | None, start: time, end: time) -> bool:
    """Whether ``now_utc`` is inside the quiet hours [start, end) of the local clock (may wrap midnight)."""
    local = to_local(now_utc, zone(tz_name)).time()
    if start == end:
        return False
    if start < end:
        return start <= local < end
    return local >= start or local < end
