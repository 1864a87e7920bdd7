"""The customer feature table (COMMON contract): one Ibis expression, executed by any engine.

Every feature is defined once here, over the canonical frames (:mod:`clientlens.features.frames`);
:func:`customer_features` returns the expression (nothing runs), and an engine executes it.
Documentation of each feature: ``docs/features.md``.

>>> from clientlens.datasets import load_cdnow_sample
>>> from clientlens.config import load_settings
>>> import datetime as dt
>>> expr = customer_features({"orders": load_cdnow_sample()}, as_of=dt.date(1997, 9, 30),
...                          home_country="US", settings=load_settings(search_cwd=False))
>>> len(expr.to_pandas())
2357
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import Any

import ibis
import ibis.expr.types as ir

from clientlens.config import Settings
from clientlens.features.btyd import EXCLUDED_STATUSES
from clientlens.features.frames import register_frames
from clientlens.features.timezone import as_of_cutoff, day_of, local_day_number

#: Channels with their own spend share; any other non-null channel counts as "other".
CHANNELS = ("online", "in_store", "phone", "marketplace", "other")
#: Mean Gregorian month in days (for purchases per month).
MONTH_DAYS = 365.25 / 12.0
#: Earliest instant the time-zone offsets are resolved for (older orders use that era's offset).
TZ_HISTORY_START = dt.date(1990, 1, 1)

#: Money is summed in this exact type (nine decimals: finer than any currency's minor unit).
MONEY_SUM_TYPE = ibis.dtype("decimal(38, 9)")

PROFILE_COLUMNS = ("country", "kind", "name", "gender", "income_band", "birth_date", "language")
#: Aggregates of the optional frames (customers, order lines, interactions, feedback): null when absent.
OPTIONAL_PARTS: dict[str, str] = {
    **{c: "string" for c in PROFILE_COLUMNS}, "birth_date": "date",
    "n_lines": "int64", "line_orders": "int64", "line_qty": "float64", "promo_lines": "int64",
    "new_lines": "int64", "repeat_lines": "int64", "line_spend": "float64", "promo_line_spend": "float64",
    "category_breadth": "int64", "line_max_qty": "float64", "top_cat_spend": "float64", "cat_spend": "float64",
    "n_interactions": "int64", "n_feedback": "int64", "last_csat": "int64", "last_nps": "int64",
}

FEATURE_COLUMNS = (
    "customer_id", "first_purchase", "last_purchase", "tenure_days", "orders", "purchase_days",
    "recency_days", "purchases_per_month", "total_spend", "avg_order_value", "items_per_order",
    "quantity_per_order", "max_order_quantity", "ipi_mean_days", "ipi_std_days", "ipi_cv",
    "spend_share_online", "spend_share_in_store", "spend_share_phone", "spend_share_marketplace",
    "spend_share_other", "dominant_channel", "n_channels", "promo_item_share", "promo_spend_share",
    "new_arrival_share", "category_breadth", "top_category_share", "repeat_product_share",
    "return_rate", "returned_orders", "spend_last_90d", "spend_prev_90d", "spend_trend", "age_years",
    "country", "home_country", "is_domestic", "kind", "name", "gender", "income_band", "birth_date",
    "language", "interactions", "feedback_count", "last_csat", "last_nps",
)


def _channel(col: ir.StringValue) -> ir.StringValue:
    low = col.strip().lower().re_replace(r"[\s-]+", "_")
    known = ibis.literal(list(CHANNELS[:-1]))
    return ibis.ifelse(low.isnull() | (low == ""), ibis.null("string"),
                       ibis.ifelse(known.contains(low), low, "other"))


def _ratio(num: ir.NumericValue, den: ir.NumericValue) -> ir.FloatingValue:
    """num / den as float, null when den is null or 0."""
    den_f = den.cast("float64")
    return ibis.ifelse(den_f.isnull() | (den_f == 0), ibis.null("float64"), num.cast("float64") / den_f)


def _money_sum(value: ir.NumericValue) -> ir.FloatingValue:
    """Sum of money, exact: summed as DECIMAL(38, 9) and returned as a double.

    A sum of doubles depends on the order of the rows, which differs between engines and between
    Spark's partitions, so totals could differ in their last bit, enough to reorder equal spenders
    (revenue ranks, ties at a cut point). A decimal sum is the same everywhere, to the bit.
    """
    return value.cast(MONEY_SUM_TYPE).sum().cast("float64")  # type: ignore[attr-defined, no-any-return]


def _left_join_all(base: ir.Table, parts: list[ir.Table]) -> ir.Table:
    out = base
    for part in parts:
        cols = [c for c in part.columns if c != "customer_id"]
        joined = out.left_join(part, out.customer_id == part.customer_id)
        out = joined.select(*[joined[c] for c in out.columns], *[joined[c] for c in cols])
    return out


def customer_features(
    frames: Mapping[str, Any],
    *,
    as_of: dt.date,
    home_country: str | None,
    settings: Settings,
    shop: str | None = None,
    timezone: str | None = None,
    engine: Any = None,
) -> ir.Table:
    """The feature table of every customer as of the end of ``as_of`` (shop time zone), as Ibis.

    ``frames`` maps frame kinds (``orders`` required; ``customers``, ``order_lines``, ``products``,
    ``interactions``, ``feedback`` optional) to canonical frames: Ibis tables on the engine, or
    pandas / Polars / Arrow frames (registered on ``engine``; DuckDB memtables when ``engine`` is
    None). One row per customer of the customers frame or with an order, sorted by ``customer_id``.
    """
    tz = timezone or (settings.shop(shop).timezone if shop else settings.shop_defaults.timezone)
    window = settings.features.trend_window_days
    t = register_frames(engine, frames)
    cutoff = ibis.literal(as_of_cutoff(as_of, tz), type="timestamp")
    as_of_day = day_of(as_of)
    start = min(TZ_HISTORY_START, as_of - dt.timedelta(days=366))

    def local_day(ts: ir.TimestampValue) -> ir.IntegerValue:
        return local_day_number(ts, tz, start, as_of)

    orders = t["orders"].filter(t["orders"].order_date < cutoff)
    status = orders.status.strip().lower()
    orders = orders.mutate(
        day=local_day(orders.order_date),
        done=status.isnull() | ~status.isin(EXCLUDED_STATUSES),
        unpaid=(status == "pending").fill_null(False),
        ch=_channel(orders.channel),
    )
    done = orders.filter(orders.done)
    order_agg = _order_aggregates(orders, as_of_day=as_of_day, window=window)
    days = done.select("customer_id", "day").distinct()
    gaps = days.mutate(gap=days.day - days.day.lag().over(group_by="customer_id", order_by="day"))
    ipi_agg = gaps.group_by("customer_id").aggregate(ipi_std_days=gaps.gap.cast("float64").std(how="sample"))

    parts = [ipi_agg]
    if "order_lines" in t:
        parts += _line_parts(t, done)
    parts += _contact_parts(t, cutoff)
    if "customers" in t:
        # A profile exists from its signup (created_at); without one, from its first order, and with no
        # order at all at every as-of date (a potential customer). The import time is no signup date.
        cust = t["customers"]
        first_any = t["orders"].group_by("customer_id").aggregate(_first_any=t["orders"].order_date.min())
        cj = cust.left_join(first_any, cust.customer_id == first_any.customer_id)
        cj = cj.filter((cj.created_at < cutoff) | (cj.created_at.isnull()
                                                   & (cj._first_any.isnull() | (cj._first_any < cutoff))))
        customers = cj.select(*[cj[c] for c in cust.columns])
        ids = customers.select("customer_id").union(orders.select("customer_id"), distinct=True)
        wide = _left_join_all(ids, [order_agg, customers.select("customer_id", *PROFILE_COLUMNS), *parts])
    else:  # every customer has an order: the order aggregates are the base
        wide = _left_join_all(order_agg, parts)
    absent = {c: ibis.null(ty).name(c) for c, ty in OPTIONAL_PARTS.items() if c not in wide.columns}
    if absent:
        wide = wide.mutate(**absent)
    return _finish(wide, as_of=as_of, as_of_day=as_of_day, home_country=home_country).order_by("customer_id")


def _order_aggregates(orders: ir.Table, *, as_of_day: int, window: int) -> ir.Table:
    """One pass over the orders: completed-order figures, channel spend, returns."""
    done = orders.done

    def completed(value: ir.Value, otherwise: Any = None) -> ir.Value:
        return ibis.ifelse(done, value, otherwise if otherwise is not None else ibis.null(value.type()))

    age = as_of_day - orders.day
    total = completed(orders.total, 0.0)
    per_channel = {f"s_{c}": _money_sum(ibis.ifelse(orders.ch == c, total, 0.0)) for c in CHANNELS}
    return orders.group_by("customer_id").aggregate(
        first_purchase=completed(orders.order_date).min(), last_purchase=completed(orders.order_date).max(),
        first_day=completed(orders.day).min(), last_day=completed(orders.day).max(),
        purchase_days=completed(orders.day).nunique(),
        n_orders=done.cast("int64").sum(), spend=_money_sum(total),
        spend_last=_money_sum(ibis.ifelse(age < window, total, 0.0)),
        spend_prev=_money_sum(ibis.ifelse((age >= window) & (age < 2 * window), total, 0.0)),
        known_channel_orders=(done & orders.ch.notnull()).cast("int64").sum(),
        n_channels=completed(orders.ch).nunique(),
        order_qty_sum=completed(orders.quantity).sum(), order_qty_max=completed(orders.quantity).max(),
        discount_known=(done & orders.discount_total.notnull()).cast("int64").sum(),
        promo_order_spend=_money_sum(ibis.ifelse(orders.discount_total > 0, total, 0.0)),
        all_orders=orders.count(), returned_orders=(~done & ~orders.unpaid).cast("int64").sum(),
        **per_channel,
    )


def _line_parts(t: dict[str, ir.Table], done: ir.Table) -> list[ir.Table]:
    """Aggregates over the order lines of completed orders (category from the products if absent)."""
    orders = done.select("order_id", "customer_id", "order_date")
    lines = t["order_lines"]
    j = lines.inner_join(orders, lines.order_id == orders.order_id)
    category = lines.category
    if "products" in t:
        products = t["products"].group_by("product_id").aggregate(p_category=t["products"].category.max())
        j = j.left_join(products, lines.product_id == products.product_id)
        category = category.fill_null(j.p_category)
    lines = j.select(
        j.customer_id, order_id=lines.order_id, product_id=lines.product_id, order_date=j.order_date,
        category=category, quantity=lines.quantity,
        promo=(lines.discount.fill_null(0.0) > 0),
        is_new=lines.is_new_arrival.fill_null(False),
        line_spend=lines.quantity * lines.unit_price - lines.discount.fill_null(0.0),
    )
    first_bought = lines.order_date.min().over(group_by=["customer_id", "product_id"])
    lines = lines.mutate(repeat=lines.order_date > first_bought)
    line_agg = lines.group_by("customer_id").aggregate(
        n_lines=lines.count(), line_orders=lines.order_id.nunique(), line_qty=lines.quantity.sum(),
        promo_lines=lines.promo.cast("int64").sum(), new_lines=lines.is_new.cast("int64").sum(),
        repeat_lines=lines.repeat.cast("int64").sum(), line_spend=_money_sum(lines.line_spend),
        promo_line_spend=_money_sum(ibis.ifelse(lines.promo, lines.line_spend, 0.0)),
        category_breadth=lines.category.nunique(),
    )
    per_order = lines.group_by(["customer_id", "order_id"]).aggregate(q=lines.quantity.sum())
    max_qty = per_order.group_by("customer_id").aggregate(line_max_qty=per_order.q.max())
    cats = lines.filter(lines.category.notnull())
    per_cat = cats.group_by(["customer_id", "category"]).aggregate(cs=_money_sum(cats.line_spend))
    top_cat = per_cat.group_by("customer_id").aggregate(top_cat_spend=per_cat.cs.max(),
                                                        cat_spend=_money_sum(per_cat.cs))
    return [line_agg, max_qty, top_cat]


def _contact_parts(t: dict[str, ir.Table], cutoff: ir.Value) -> list[ir.Table]:
    """Interaction and feedback counts, and the latest CSAT / NPS scores, before the cut-off."""
    parts: list[ir.Table] = []
    if "interactions" in t:
        inter = t["interactions"].filter(t["interactions"].occurred_at < cutoff)
        parts.append(inter.group_by("customer_id").aggregate(n_interactions=inter.count()))
    if "feedback" not in t:
        return parts
    fb = t["feedback"].filter(t["feedback"].submitted_at < cutoff)
    fb = fb.mutate(kind=fb.kind.strip().lower())
    parts.append(fb.group_by("customer_id").aggregate(n_feedback=fb.count()))
    for kind in ("csat", "nps"):
        k = fb.filter(fb.kind == kind)
        latest = k.group_by("customer_id").aggregate(at=k.submitted_at.max())
        j = k.inner_join(latest, (k.customer_id == latest.customer_id) & (k.submitted_at == latest.at))
        last = j.group_by(j.customer_id).aggregate(**{f"last_{kind}": j.score.max()})
        parts.append(last)
    return parts


def _finish(w: ir.Table, *, as_of: dt.date, as_of_day: int, home_country: str | None) -> ir.Table:
    """The contract's columns, names and types from the joined aggregates."""
    orders = w.n_orders.fill_null(0)
    tenure = as_of_day - w.first_day
    ipi_mean = ibis.ifelse(w.purchase_days >= 2,
                           (w.last_day - w.first_day).cast("float64") / (w.purchase_days - 1).cast("float64"),
                           ibis.null("float64"))
    spend = w.spend.fill_null(0.0)
    has_channel = w.known_channel_orders.fill_null(0) > 0
    shares = {f"spend_share_{c}": ibis.ifelse(has_channel, _ratio(w[f"s_{c}"], w.spend), ibis.null("float64"))
              for c in CHANNELS}
    best = ibis.greatest(*[w[f"s_{c}"] for c in CHANNELS])
    dominant = ibis.cases(*[(w[f"s_{c}"] == best, c) for c in CHANNELS], else_=ibis.null("string"))
    bd = w.birth_date
    before_birthday = (bd.month() > as_of.month) | ((bd.month() == as_of.month) & (bd.day() > as_of.day))
    age = (as_of.year - bd.year() - before_birthday.cast("int64")).cast("int64")
    home = ibis.literal(home_country.upper() if home_country else None, type="string")
    country = w.country.strip().upper()
    qty_per_order = ibis.coalesce(_ratio(w.line_qty, orders), _ratio(w.order_qty_sum, orders))
    promo_spend = ibis.coalesce(_ratio(w.promo_line_spend, w.line_spend),
                                ibis.ifelse(w.discount_known > 0, _ratio(w.promo_order_spend, w.spend),
                                            ibis.null("float64")))
    return w.select(
        customer_id=w.customer_id,
        first_purchase=w.first_purchase,
        last_purchase=w.last_purchase,
        tenure_days=tenure.cast("int64"),
        orders=orders.cast("int64"),
        purchase_days=w.purchase_days.fill_null(0).cast("int64"),
        recency_days=(as_of_day - w.last_day).cast("int64"),
        purchases_per_month=ibis.ifelse(orders > 0, orders.cast("float64") / ibis.greatest(
            tenure.cast("float64") / MONTH_DAYS, 1.0), 0.0),
        total_spend=spend.cast("float64"),
        avg_order_value=_ratio(w.spend, orders),
        items_per_order=_ratio(w.n_lines, orders),
        quantity_per_order=qty_per_order,
        max_order_quantity=ibis.coalesce(w.line_max_qty, w.order_qty_max).cast("float64"),
        ipi_mean_days=ipi_mean,
        ipi_std_days=w.ipi_std_days,
        ipi_cv=_ratio(w.ipi_std_days, ipi_mean),
        **shares,
        dominant_channel=ibis.ifelse(has_channel & (w.spend > 0), dominant, ibis.null("string")),
        n_channels=w.n_channels.fill_null(0).cast("int64"),
        promo_item_share=_ratio(w.promo_lines, w.n_lines),
        promo_spend_share=promo_spend,
        new_arrival_share=_ratio(w.new_lines, w.n_lines),
        category_breadth=w.category_breadth.cast("int64"),
        top_category_share=_ratio(w.top_cat_spend, w.cat_spend),
        repeat_product_share=_ratio(w.repeat_lines, w.n_lines),
        return_rate=_ratio(w.returned_orders, w.all_orders),
        returned_orders=w.returned_orders.fill_null(0).cast("int64"),
        spend_last_90d=w.spend_last.fill_null(0.0).cast("float64"),
        spend_prev_90d=w.spend_prev.fill_null(0.0).cast("float64"),
        spend_trend=_ratio(w.spend_last.fill_null(0.0) - w.spend_prev, w.spend_prev),
        age_years=age,
        country=country,
        home_country=home,
        is_domestic=ibis.ifelse(country.isnull() | home.isnull(), ibis.null("boolean"), country == home),
        kind=w.kind, name=w.name, gender=w.gender, income_band=w.income_band, birth_date=w.birth_date,
        language=w.language,
        interactions=w.n_interactions.fill_null(0).cast("int64"),
        feedback_count=w.n_feedback.fill_null(0).cast("int64"),
        last_csat=w.last_csat.cast("int64"),
        last_nps=w.last_nps.cast("int64"),
    )


def features_to_pandas(table: Any) -> Any:
    """An executed feature table (Arrow) as pandas with nullable integer / boolean columns."""
    import pandas as pd
    import pyarrow as pa

    mapping = {pa.int64(): pd.Int64Dtype(), pa.bool_(): pd.BooleanDtype()}
    return table.to_pandas(types_mapper=mapping.get)
