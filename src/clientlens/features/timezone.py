"""Shop-local days of UTC timestamps, portable to every Ibis backend, and the as-of cut-off.

Times are stored as naive UTC. "The same day" is the shop's calendar day, so a UTC timestamp is
shifted by the shop's UTC offset at that instant before its date is taken. The offset is a piecewise
constant function of time (it changes at DST transitions), built here from ``zoneinfo`` as a CASE
expression over the transitions of the analysed period, newest first, so no backend needs time zone
support of its own.

>>> import datetime as dt
>>> as_of_cutoff(dt.date(2024, 7, 1), "Europe/Warsaw")
datetime.datetime(2024, 7, 1, 22, 0)
"""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import ibis
import ibis.expr.types as ir

from clientlens.errors import ConfigError

_EPOCH = dt.date(1970, 1, 1)


def zone(name: str) -> ZoneInfo:
    """The ``ZoneInfo`` named ``name``, or a :class:`ConfigError` naming the setting."""
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise ConfigError(f"shop timezone {name!r} is not a known IANA time zone") from exc


def as_of_cutoff(as_of: dt.date, timezone: str) -> dt.datetime:
    """The first UTC instant (naive) after the end of ``as_of`` in ``timezone``."""
    local_midnight = dt.datetime.combine(as_of + dt.timedelta(days=1), dt.time(0), tzinfo=zone(timezone))
    return local_midnight.astimezone(dt.UTC).replace(tzinfo=None)


def offset_segments(timezone: str, start: dt.date, end: dt.date) -> list[tuple[dt.datetime | None, int]]:
    """``(from_utc, offset_seconds)`` pieces covering [start, end]; the first piece has ``from_utc=None``."""
    tz = zone(timezone)
    pieces: list[tuple[dt.datetime | None, int]] = []
    t = dt.datetime.combine(start, dt.time(0))
    stop = dt.datetime.combine(end + dt.timedelta(days=1), dt.time(0))

    def offset(at: dt.datetime) -> int:
        delta = at.replace(tzinfo=dt.UTC).astimezone(tz).utcoffset()
        return int(delta.total_seconds()) if delta is not None else 0

    current = offset(t)
    pieces.append((None, current))
    step = dt.timedelta(days=1)
    probe = t
    while probe < stop:  # daily probe: offsets change at most a few times a year
        nxt = probe + step
        if offset(nxt) != current:
            lo, hi = probe, nxt
            while hi - lo > dt.timedelta(minutes=1):  # bisect to the minute
                mid = lo + (hi - lo) / 2
                if offset(mid) == current:
                    lo = mid
                else:
                    hi = mid
            current = offset(nxt)
            pieces.append((hi.replace(second=0, microsecond=0), current))
        probe = nxt
    return pieces


def local_timestamp(ts: ir.TimestampValue, timezone: str, start: dt.date, end: dt.date) -> ir.TimestampValue:
    """``ts`` (naive UTC) shifted to shop-local wall time, exact for instants in [start, end]."""
    pieces = offset_segments(timezone, start, end)
    if len(pieces) == 1:
        seconds = pieces[0][1]
        return ts if seconds == 0 else ts + ibis.interval(seconds=seconds)
    branches = [(ts >= ibis.literal(at, type="timestamp"), secs) for at, secs in reversed(pieces[1:])]
    case = ibis.cases(*branches, else_=pieces[0][1])
    return ts + case.as_interval("s")  # type: ignore[attr-defined, no-any-return]


def local_day_number(ts: ir.TimestampValue, timezone: str, start: dt.date, end: dt.date) -> ir.IntegerValue:
    """Shop-local calendar day of naive-UTC ``ts`` as days since 1970-01-01."""
    return local_timestamp(ts, timezone, start, end).date().epoch_days()  # type: ignore[no-any-return]


def day_of(d: dt.date) -> int:
    """Days since 1970-01-01 of a date."""
    return (d - _EPOCH).days


def local_today(timezone: str) -> dt.date:
    """Today's date in ``timezone`` (the shop's)."""
    return dt.datetime.now(zone(timezone)).date()
