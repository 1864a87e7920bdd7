"""Evidence of a label: ``rule_id`` + ``figures`` (JSON object) + English ``text`` rendered from them.

Figures hold the numbers a rule used and its thresholds, rounded to 6 significant digits; the text
is rendered from the rounded figures only, so any language can re-render it from the same data.

>>> render_text("psychology.price_conscious", {"promo_item_share": 0.64, "min_promo_share": 0.4})
'price-conscious: 64% of items bought on promotion (rule: at least 40%)'
"""

from __future__ import annotations

import json
import math
import string
from collections.abc import Mapping
from typing import Any

import numpy as np
import pandas as pd

LABEL_COLUMNS = ["customer_id", "taxonomy", "label", "rule_id", "figures", "text"]

#: English sentence of each rule, rendered with :func:`render_text` from the rule's figures.
TEMPLATES: dict[str, str] = {
    # customer_type
    "customer_type.given": "{label}: the customer record says {given!r}",
    "customer_type.legal_form": "professional: the name contains the legal form {match!r}",
    "customer_type.public_body": "institutional: the name contains the public-body word {match!r}",
    "customer_type.tax_id": "professional: the name contains a tax id ({match!r})",
    "customer_type.trade_name": "professional: the name contains the trade word {match!r}",
    "customer_type.wholesale": ("professional: {quantity_per_order:g} units per order over {orders:g} orders "
                                "and no personal data (rule: at least {min_quantity_per_order:g} units over "
                                "{min_orders:g} orders)"),
    "customer_type.default": "individual: no company, public-body or wholesale evidence (default)",
    # demographics
    "age_band.youth": "youth: {age_years:g} years old (rule: under {youth_below:g})",
    "age_band.adult": "adult: {age_years:g} years old (rule: {youth_below:g} to {senior_below:g})",
    "age_band.senior": "senior: {age_years:g} years old (rule: {senior_from:g} or older)",
    "age_band.unknown": "unknown: no birth date",
    "gender.given": "{label}: the customer record says {given!r}",
    "gender.unknown": "unknown: no gender given",
    "income_band.given": "{label}: the customer record says {given!r}",
    "income_band.numeric": ("{label}: income {income:,g} (rule: low under {low_below:,g}, "
                            "high from {high_from:,g})"),
    "income_band.unknown": "unknown: no income band given",
    # psychology
    "psychology.price_conscious": ("price-conscious: {promo_item_share:.0%} of items bought on promotion "
                                   "(rule: at least {min_promo_share:.0%})"),
    "psychology.price_conscious.orders": ("price-conscious: {promo_spend_share:.0%} of spend on discounted orders "
                                          "over {orders:g} orders (rule: at least {min_promo_share:.0%} over "
                                          "{min_orders:g} orders)"),
    "psychology.brand_loyal.category": ("brand-loyal: {top_category_share:.0%} of spend in one category over "
                                        "{orders:g} orders (rule: at least {min_top_category_share:.0%} "
                                        "over {min_orders:g} orders)"),
    "psychology.brand_loyal.repeat": ("brand-loyal: {repeat_product_share:.0%} of items are re-purchases "
                                      "over {orders:g} orders (rule: at least {min_repeat_product_share:.0%} "
                                      "over {min_orders:g} orders)"),
    "psychology.trend_seeker": ("trend seeker: {new_arrival_share:.0%} of items were new arrivals "
                                "(rule: at least {min_new_arrival_share:.0%})"),
    # behaviour
    "volume.bulk": "bulk: {quantity_per_order:g} units per order (rule: at least {bulk_from:g})",
    "volume.regular": ("regular: {quantity_per_order:g} units per order (rule: {small_below:g} to "
                       "{bulk_from:g})"),
    "volume.small": "small: {quantity_per_order:g} units per order (rule: under {small_below:g})",
    "frequency.one_off": "one-off: bought on a single day",
    "frequency.weekly": ("weekly: a purchase every {ipi_mean_days:g} days on average over {purchase_days:g} "
                         "purchase days (rule: at most {weekly_max_days:g} days, at least "
                         "{weekly_min_purchase_days:g} purchase days)"),
    "frequency.monthly": ("monthly: a purchase every {ipi_mean_days:g} days on average (rule: at most "
                          "{monthly_max_days:g} days)"),
    "frequency.occasional": ("occasional: a purchase every {ipi_mean_days:g} days on average (rule: more "
                             "than {monthly_max_days:g} days)"),
    "value.high": ("high: spent {total_spend:,g}, {median_multiple:.3g}x the median customer "
                   "(rule: at least {high_from_median_multiple:g}x of {median_spend:,g})"),
    "value.medium": ("medium: spent {total_spend:,g}, {median_multiple:.3g}x the median customer "
                     "(rule: {low_below_median_multiple:g}x to {high_from_median_multiple:g}x of "
                     "{median_spend:,g})"),
    "value.low": ("low: spent {total_spend:,g}, {median_multiple:.3g}x the median customer "
                  "(rule: under {low_below_median_multiple:g}x of {median_spend:,g})"),
    "channel.dominant": ("{label}: {channel_share:.0%} of spend through {channel} "
                         "(rule: at least {dominant_min_share:.0%})"),
    "channel.omnichannel": ("omnichannel: {n_channels:g} channels, the largest holding {channel_share:.0%} "
                            "of spend (rule: under {dominant_min_share:.0%}, at least {min_channels:g} channels)"),
    # lifecycle
    "lifecycle.potential": "potential: no completed purchase yet",
    "lifecycle.inactive.rhythm": ("inactive: {recency_days:g} days since the last purchase, more than "
                                  "{rhythm_multiple:g}x the usual {rhythm_days:g}-day interval "
                                  "(rule: over {limit_days:g} days, at least {floor_days:g})"),
    "lifecycle.inactive.p_alive": ("inactive: P(alive) {p_alive:.0%} with {recency_days:g} days since the "
                                   "last purchase (rule: P(alive) under {p_alive_below:.0%} after "
                                   "{floor_days:g} days)"),
    "lifecycle.new": ("new: first purchase {tenure_days:g} days ago (rule: at most {new_days:g} days)"),
    "lifecycle.loyal": ("loyal: {purchase_days:g} purchase days, one every {ipi_mean_days:g} days, and still "
                        "active (rule: at least {loyal_min_purchase_days:g} purchase days, at most "
                        "{loyal_max_interval_days:g} days apart)"),
    "lifecycle.occasional": ("occasional: {purchase_days:g} purchase days, {ipi_mean_days:g} days apart on "
                             "average, still active (rule: loyal needs at least {loyal_min_purchase_days:g} "
                             "purchase days at most {loyal_max_interval_days:g} days apart)"),
    # geography
    "geography.domestic": "domestic: country {country} is the home country {home_country}",
    "geography.international": "international: country {country} is not the home country {home_country}",
    # rfm
    "rfm_segment.grid": ("{label}: R={r:g} F={f:g} M={m:g} (FM {fm:g}); recency {recency_days:g} days, "
                         "{orders:g} orders, spend {total_spend:,g} (rule: R {r_min:g}-{r_max:g}, "
                         "FM {fm_min:g}-{fm_max:g})"),
    # revenue tier
    "revenue_tier.top_20": ("top 20%: rank {rank:g} of {n:g} purchasing customers by spend {total_spend:,g} "
                            "(rule: the first {top_n:g})"),
    "revenue_tier.rest": ("rest: rank {rank:g} of {n:g} purchasing customers by spend {total_spend:,g} "
                          "(rule: after the first {top_n:g})"),
}


class _Formatter(string.Formatter):
    """``str.format`` that renders missing or null figures as "n/a" instead of failing."""

    def get_value(self, key: int | str, args: Any, kwargs: Mapping[str, Any]) -> Any:
        if isinstance(key, str):
            return kwargs.get(key)
        return super().get_value(key, args, kwargs)

    def format_field(self, value: Any, format_spec: str) -> str:
        if value is None:
            return "n/a"
        return super().format_field(value, format_spec)


_FORMATTER = _Formatter()


def render_text(rule_id: str, figures: Mapping[str, Any], *, label: str | None = None) -> str:
    """The English sentence of ``rule_id`` rendered from ``figures``."""
    template = TEMPLATES.get(rule_id)
    if template is None:
        return f"{label or rule_id}: " + ", ".join(f"{k} {v}" for k, v in figures.items())
    try:
        return template.format(label=label, **figures)
    except (KeyError, TypeError, ValueError):  # a null or missing figure: render it as "n/a"
        return _FORMATTER.format(template, label=label, **figures)


def round_sig(value: Any, digits: int = 6) -> Any:
    """``value`` rounded to ``digits`` significant digits; ints and strings unchanged, NaN -> None."""
    if value is None or isinstance(value, (bool, np.bool_, str)):
        return bool(value) if isinstance(value, np.bool_) else value
    if isinstance(value, (int, np.integer)):
        return int(value)
    x = float(value)
    if math.isnan(x) or math.isinf(x):
        return None
    if x == 0:
        return 0.0
    rounded = float(f"{x:.{digits}g}")
    return int(rounded) if rounded.is_integer() and abs(rounded) < 1e15 else rounded


def _numeric(values: np.ndarray, digits: int) -> tuple[list[str], list[Any]]:
    """JSON texts and Python values of a numeric column rounded to ``digits`` significant digits."""
    x = values.astype("float64")
    finite = np.isfinite(x)
    safe = np.where(finite, x, 0.0)
    texts = np.char.mod(f"%.{digits}g", safe)
    rounded = texts.astype("float64")
    out_texts: list[str] = texts.tolist()
    out_values: list[Any] = rounded.tolist()
    for i in np.flatnonzero(~finite | (np.char.find(texts, "e+") >= 0)):
        v = round_sig(x[i], digits)
        out_texts[i] = json.dumps(v)
        out_values[i] = v
    return out_texts, out_values


def _column(value: Any, n: int, digits: int) -> tuple[list[str], list[Any]]:
    """(JSON texts, rounded Python values) of one figure over ``n`` rows."""
    if isinstance(value, (pd.Series, np.ndarray, list)):
        arr = value.to_numpy() if isinstance(value, pd.Series) else np.asarray(value, dtype=object)
        if arr.dtype.kind in "iuf":
            return _numeric(arr, digits)
        values = [round_sig(None if (v is None or v is pd.NA or (isinstance(v, float) and math.isnan(v))) else v,
                            digits) for v in arr.tolist()]
        return [json.dumps(v, ensure_ascii=False) for v in values], values
    v = round_sig(value, digits)
    return [json.dumps(v, ensure_ascii=False)] * n, [v] * n


def make_labels(customer_ids: pd.Series, taxonomy: str, label: str | pd.Series, rule_id: str,
                figures: Mapping[str, Any], *, digits: int = 6) -> pd.DataFrame:
    """Label rows (``LABEL_COLUMNS``) for ``customer_ids``, with evidence.

    ``figures`` maps a figure name to a Series / array aligned with ``customer_ids`` or to a scalar
    (a threshold). Figures are rounded to ``digits`` significant digits, then the text is rendered
    from the rounded values (vectorised: one string format per row).
    """
    n = len(customer_ids)
    if n == 0:
        return empty_labels()
    labels = label.tolist() if isinstance(label, pd.Series) else [label] * n
    names = list(figures)
    columns = [_column(figures[k], n, digits) for k in names]
    if names:
        prefixes = [json.dumps(k, ensure_ascii=False) + ": " for k in names]
        keyed = [[prefix + t for t in texts] for prefix, (texts, _) in zip(prefixes, columns, strict=True)]
        figure_json = ["{" + ", ".join(parts) + "}" for parts in zip(*keyed, strict=True)]
    else:
        figure_json = ["{}"] * n
    value_cols = [values for _, values in columns]
    texts = [render_text(rule_id, dict(zip(names, row_values, strict=True)), label=labels[i])
             for i, row_values in enumerate(zip(*value_cols, strict=True) if names else ([()] * n))]
    return pd.DataFrame({
        "customer_id": customer_ids.astype(str).to_numpy(),
        "taxonomy": taxonomy,
        "label": labels,
        "rule_id": rule_id,
        "figures": figure_json,
        "text": texts,
    })


def empty_labels() -> pd.DataFrame:
    return pd.DataFrame({c: pd.Series([], dtype=object) for c in LABEL_COLUMNS})
