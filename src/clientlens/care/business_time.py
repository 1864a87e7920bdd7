"""Business-time arithmetic in a shop's time zone: SLA clocks run only in business hours.

Times in and out are naive UTC (as stored); business hours and days come from the shop's settings, and
the public holidays of the shop's ``home_country`` (the ``holidays`` package, offline) are not business days.

>>> from datetime import datetime
>>> from clientlens.config import ShopSettings
>>> shop = ShopSettings(timezone="UTC")  # no home country: no holidays
>>> add_business_hours(datetime(2026, 1, 2, 16, 0), 2, shop)  # Friday 16:00 + 2 h -> Monday 10:00
datetime.datetime(2026, 1, 5, 10, 0)
>>> business_hours_between(datetime(2026, 1, 2, 16, 0), datetime(2026, 1, 5, 10, 0), shop)
2.0
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from functools import lru_cache
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import holidays

from clientlens.config import ShopSettings
from clientlens.errors import ConfigError

_MAX_DAYS = 3660  # a target can never need more than ten years of business days


def zone(name: str | None) -> ZoneInfo:
    """The time zone called ``name`` (ConfigError when unknown)."""
    try:
        return ZoneInfo(name or "UTC")
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise ConfigError(f"unknown time zone {name!r} (use an IANA name such as Europe/Warsaw)") from exc


@lru_cache(maxsize=64)
def _holiday_calendar(country: str) -> holidays.HolidayBase:
    try:
        return holidays.country_holidays(country.upper())
    except NotImplementedError as exc:
        raise ConfigError(f"home_country {country!r}: no public holiday calendar for it "
                          "(use an ISO 3166 alpha-2 code such as PL)") from exc


def is_holiday(day: date, shop: ShopSettings) -> bool:
    """Whether ``day`` (a local date) is a public holiday in the shop's ``home_country`` (none without one)."""
    return bool(shop.home_country) and day in _holiday_calendar(str(shop.home_country))


def to_local(at_utc: datetime, tz: ZoneInfo) -> datetime:
    """A naive UTC time as an aware local time."""
    return at_utc.replace(tzinfo=UTC).astimezone(tz)


def to_utc(local: datetime) -> datetime:
    """An aware time as naive UTC."""
    return local.astimezone(UTC).replace(tzinfo=None)


def _windows_from(day: date, shop: ShopSettings) -> Iterator[tuple[datetime, datetime]]:
    """The business windows (naive UTC start, end) of each local day from ``day`` on."""
    if not shop.business_days or shop.business_hours_end <= shop.business_hours_start:
        raise ConfigError("the shop has no business hours: set business_days and business_hours_start "
                          "< business_hours_end in [shop_defaults] or [shops.NAME]")
    tz = zone(shop.timezone)
    for offset in range(_MAX_DAYS):
        d = day + timedelta(days=offset)
        if d.weekday() in shop.business_days and not is_holiday(d, shop):
            start = to_utc(datetime.combine(d, shop.business_hours_start, tzinfo=tz))
            end = to_utc(datetime.combine(d, shop.business_hours_end, tzinfo=tz))
            yield start, end


def add_business_hours(start: datetime, hours: float, shop: ShopSettings) -> datetime:
    """The UTC time when ``hours`` business hours have elapsed after ``start``."""
    remaining = timedelta(hours=hours)
    if remaining <= timedelta(0):
        return start
    first_day = to_local(start, zone(shop.timezone)).date() - timedelta(days=1)
    for w_start, w_end in _windows_from(first_day, shop):
        if w_end <= start:
            continue
        begin = max(start, w_start)
        available = w_end - begin
        if remaining <= available:
            return begin + remaining
        remaining -= available
    raise ConfigError(f"{hours} business hours do not fit in ten years of business days")


def business_hours_between(start: datetime, end: datetime, shop: ShopSettings) -> float:
    """Business hours elapsed from ``start`` to ``end`` (0 when ``end`` is not after ``start``)."""
    if end <= start:
        return 0.0
    total = timedelta(0)
    first_day = to_local(start, zone(shop.timezone)).date() - timedelta(days=1)
    for w_start, w_end in _windows_from(first_day, shop):
        if w_start >= end:
            break
        lo, hi = max(start, w_start), min(end, w_end)
        if hi > lo:
            total += hi - lo
    return total.total_seconds() / 3600.0
