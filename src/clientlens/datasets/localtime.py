"""Vectorised time-zone helpers of the generator: local wall-clock times to UTC and back, and the
shop's business hours."""

from __future__ import annotations

import numpy as np
import pandas as pd


def local_to_utc(local: np.ndarray, tz: np.ndarray) -> np.ndarray:
    """Naive local ``datetime64[ns]`` times in per-row time zones -> naive UTC ``datetime64[ns]``.

    A wall time that does not exist (spring change) moves forward; an ambiguous one (autumn change)
    is read as standard time.
    """
    local = np.asarray(local, dtype="datetime64[ns]")
    out = np.empty(len(local), dtype="datetime64[ns]")
    tz = np.asarray(tz, dtype=object)
    for zone in pd.unique(tz):
        mask = tz == zone
        idx = pd.DatetimeIndex(local[mask]).tz_localize(
            str(zone), ambiguous=np.zeros(int(mask.sum()), dtype=bool), nonexistent="shift_forward")
        out[mask] = idx.tz_convert("UTC").tz_localize(None).to_numpy(dtype="datetime64[ns]")
    return out


def utc_to_local(utc: np.ndarray, zone: str) -> pd.DatetimeIndex:
    """Naive UTC times -> naive wall-clock times of one zone."""
    return pd.DatetimeIndex(np.asarray(utc, dtype="datetime64[ns]")).tz_localize("UTC").tz_convert(zone).tz_localize(None)


def next_business_time(utc: np.ndarray, zone: str, start_hour: int, end_hour: int,
                       business_days: tuple[int, ...]) -> tuple[np.ndarray, np.ndarray]:
    """For each UTC time: (is it inside business hours, the UTC time business is next open).

    Inside business hours the second value is the time itself.
    """
    utc = np.asarray(utc, dtype="datetime64[ns]")
    local = utc_to_local(utc, zone)
    weekday = local.day_of_week.to_numpy()
    minutes = local.hour.to_numpy() * 60 + local.minute.to_numpy()
    is_bday = np.isin(weekday, business_days)
    inside = is_bday & (minutes >= start_hour * 60) & (minutes < end_hour * 60)
    before_open = is_bday & (minutes < start_hour * 60)
    ahead = np.isin((weekday[:, None] + np.arange(1, 8)[None, :]) % 7, business_days)
    add = np.where(before_open, 0, ahead.argmax(axis=1) + 1)
    opening_local = local.normalize() + pd.to_timedelta(add, unit="D") + pd.Timedelta(hours=start_hour)
    opening_utc = local_to_utc(opening_local.to_numpy(), np.full(len(utc), zone, dtype=object))
    return inside, np.where(inside, utc, opening_utc)
