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
    from clientlens.features.timezone import zone

    t = as_ibis_table(orders, what="orders")
    rows = _run(t.aggregate(last=t.order_date.max()), engine)
    last = rows[0]["last"] if rows else None
    if last is None:
        return None
    if isinstance(last, dt.datetime):
        return last.replace(tzinfo=dt.UTC).astimezone(zone(timezone)).date()
    return last if isinstance(last, dt.date) else None
