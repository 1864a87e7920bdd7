"""Business-time arithmetic against a minute-by-minute count (weekends, time zones, DST)."""

from __future__ import annotations

from datetime import datetime, time, timedelta

import pandas as pd
import pytest

from clientlens.care.business_time import add_business_hours, business_hours_between
from clientlens.config import ShopSettings
from clientlens.errors import ConfigError


def minutes_by_brute_force(a: datetime, b: datetime, shop: ShopSettings) -> int:
    idx = pd.date_range(a, b, freq="min", inclusive="left", tz="UTC").tz_convert(shop.timezone)
    t = idx.hour * 60 + idx.minute
    lo = shop.business_hours_start.hour * 60 + shop.business_hours_start.minute
    hi = shop.business_hours_end.hour * 60 + shop.business_hours_end.minute
    return int(((t >= lo) & (t < hi) & idx.day_of_week.isin(shop.business_days)).sum())


SHOPS = [ShopSettings(timezone="UTC"),
         ShopSettings(timezone="Europe/Warsaw", business_hours_start=time(8, 30), business_hours_end=time(18, 0)),
         ShopSettings(timezone="Asia/Ho_Chi_Minh", business_days=(0, 1, 2, 3, 4, 5)),
         ShopSettings(timezone="America/New_York")]


@pytest.mark.parametrize("shop", SHOPS, ids=lambda s: s.timezone)
@pytest.mark.parametrize("start", [datetime(2026, 3, 27, 15, 7), datetime(2026, 10, 24, 23, 0),
                                   datetime(2026, 12, 31, 6, 59), datetime(2026, 3, 7, 12, 0)])
def test_elapsed_business_hours_equal_a_minute_count(shop: ShopSettings, start: datetime) -> None:
    for hours in (0.5, 1, 7.25, 8, 40, 100):
        due = add_business_hours(start, hours, shop)
        assert minutes_by_brute_force(start, due, shop) == round(hours * 60)
        assert business_hours_between(start, due, shop) == pytest.approx(hours)
        # the due time is the earliest such moment: one minute earlier is not enough
        assert minutes_by_brute_force(start, due - timedelta(minutes=1), shop) < round(hours * 60)
    end = start + timedelta(days=9, hours=5, minutes=13)
    assert business_hours_between(start, end, shop) * 60 == pytest.approx(minutes_by_brute_force(start, end, shop))


def test_no_business_hours_is_a_config_error() -> None:
    with pytest.raises(ConfigError, match="business hours"):
        add_business_hours(datetime(2026, 1, 1), 1, ShopSettings(business_days=()))
