"""Shop defaults computed from the data: home country and reporting currency, and the as-of date.

Where the configuration leaves them unset, the home country is the most common customer country of
the shop and the reporting currency its most common order currency (ties: alphabetical order).
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import ibis
import ibis.expr.types as ir

from clientlens.features._tables import as_ibis_table


def _run(expr: ir.Table, engine: Any) -> list[dict[str, Any]]:
    table = engine.to_arrow(expr) if engine is not None else expr.to_pyarrow()
    return table.to_pylist()  # type: ignore[no-any-return]


def most_common(table: Any, column: str, *, engine: Any = None) -> str | None:
    """Most frequent non-empty value of ``column`` (upper-cased), ties broken alphabetically."""
    t = as_ibis_table(table, what=column)
    if column not in t.columns:
        return None
    value = t[column].cast("string").strip().upper()
    t = t.select(v=value).filter(value.notnull() & (value != ""))
    counts = t.group_by("v").aggregate(n=t.count()).order_by([ibis.desc("n"), "v"]).limit(1)
    rows = _run(counts, engine)
    return str(rows[0]["v"]) if rows else None


def default_home_country(customers: Any, *, configured: str | None = None, engine: Any = None) -> str | None:
    """``configured`` if set, else the most common customer country (None without countries)."""
    return configured.upper() if configured else most_common(customers, "country", engine=engine)


def default_reporting_currency(orders: Any, *, configured: str | None = None, fallback: str = "USD",
                               engine: Any = None) -> str:
    """``configured`` if set, else the most common order currency, else ``fallback``."""
    if configured:
        return configured.upper()
    return most_common(orders, "currency", engine=engine) or fallback


def default_as_of(orders: Any, *, timezone: str = "UTC", engine: Any = None) -> dt.date | None:
    """The shop-local date of the latest order (None when there are no orders)."""
    return order_date_range(orders, timezone=timezone, engine=engine)[1]


def order_date_range(orders: Any, *, timezone: str = "UTC", engine: Any = None) -> tuple[dt.date | None, dt.date | None]:
    """The shop-local dates of the first and the latest order ((None, None) when there are no orders)."""
    from clientlens.features.timezone import zone

    t = as_ibis_table(orders, what="orders")
    rows = _run(t.aggregate(first=t.order_date.min(), last=t.order_date.max()), engine)

    def local(value: Any) -> dt.date | None:
        if isinstance(value, dt.datetime):
            return value.replace(tzinfo=dt.UTC).astimezone(zone(timezone)).date()
        return value if isinstance(value, dt.date) else None

    return (local(rows[0]["first"]), local(rows[0]["last"])) if rows else (None, None)


def check_as_of(as_of: dt.date, *, first: dt.date | None, today: dt.date, shop: str) -> None:
    """Refuse an as-of date in the future or before the shop's first order (InputError, exit 4): such a
    snapshot would call every customer inactive, or none of them a customer yet."""
    from clientlens.errors import InputError

    allowed = f"from {first.isoformat()} to {today.isoformat()}" if first else f"up to {today.isoformat()}"
    if as_of > today:
        raise InputError(f"shop {shop!r}: --as-of {as_of.isoformat()} is in the future; give a date {allowed}")
    if first is not None and as_of < first:
        raise InputError(f"shop {shop!r}: --as-of {as_of.isoformat()} is before the shop's first order "
                         f"({first.isoformat()}); give a date {allowed}")
