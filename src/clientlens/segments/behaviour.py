"""Behaviour: volume, frequency, value and channel (purchasing customers only)."""

from __future__ import annotations

import numpy as np
import pandas as pd

from clientlens.segments.base import LabelContext, purchasing
from clientlens.segments.evidence import make_labels

CHANNELS = ("online", "in_store", "phone", "marketplace", "other")


def volume(df: pd.DataFrame, ctx: LabelContext) -> list[pd.DataFrame]:
    """bulk / regular / small by mean units per completed order; none for never-purchased."""
    rules = ctx.rules.volume
    qpo = df["quantity_per_order"]
    buyer = purchasing(df) & qpo.notna()
    bulk = buyer & (qpo >= rules.bulk_from)
    small = buyer & (qpo < rules.small_below)
    regular = buyer & ~bulk & ~small
    ids = df["customer_id"]
    figs = {"bulk_from": rules.bulk_from, "small_below": rules.small_below}
    return [
        make_labels(ids[m], "volume", name, f"volume.{name}", {"quantity_per_order": qpo[m], **figs},
                    digits=ctx.digits)
        for name, m in (("bulk", bulk), ("regular", regular), ("small", small))
    ]


def frequency(df: pd.DataFrame, ctx: LabelContext) -> list[pd.DataFrame]:
    """one_off (one purchase day), else weekly / monthly / occasional by the mean interval."""
    rules = ctx.rules.frequency
    buyer = purchasing(df)
    days = df["purchase_days"].fillna(df["orders"].clip(upper=1))
    ipi = df["ipi_mean_days"]
    one_off = buyer & (days <= 1)
    repeat = buyer & ~one_off
    weekly = repeat & (ipi <= rules.weekly_max_days) & (days >= rules.weekly_min_purchase_days)
    monthly = repeat & ~weekly & (ipi <= rules.monthly_max_days)
    occasional = repeat & ~weekly & ~monthly
    ids = df["customer_id"]
    d = ctx.digits

    def figs(m: pd.Series) -> dict[str, object]:
        return {"ipi_mean_days": ipi[m], "purchase_days": days[m], "weekly_max_days": rules.weekly_max_days,
                "weekly_min_purchase_days": rules.weekly_min_purchase_days,
                "monthly_max_days": rules.monthly_max_days}

    return [
        make_labels(ids[one_off], "frequency", "one_off", "frequency.one_off", {"purchase_days": days[one_off]},
                    digits=d),
        make_labels(ids[weekly], "frequency", "weekly", "frequency.weekly", figs(weekly), digits=d),
        make_labels(ids[monthly], "frequency", "monthly", "frequency.monthly", figs(monthly), digits=d),
        make_labels(ids[occasional], "frequency", "occasional", "frequency.occasional", figs(occasional),
                    digits=d),
    ]


def value(df: pd.DataFrame, ctx: LabelContext) -> list[pd.DataFrame]:
    """high / medium / low: total spend against the median spend of the purchasing customers."""
    rules = ctx.rules.value
    buyer = purchasing(df)
    spend = df["total_spend"]
    median = float(spend[buyer].median()) if buyer.any() else 0.0
    multiple = spend / median if median > 0 else pd.Series(np.where(spend > 0, np.inf, 1.0), index=df.index)
    high = buyer & (multiple >= rules.high_from_median_multiple)
    low = buyer & ~high & (multiple < rules.low_below_median_multiple)
    medium = buyer & ~high & ~low
    ids = df["customer_id"]
    return [
        make_labels(ids[m], "value", name, f"value.{name}",
                    {"total_spend": spend[m], "median_spend": median, "median_multiple": multiple[m],
                     "high_from_median_multiple": rules.high_from_median_multiple,
                     "low_below_median_multiple": rules.low_below_median_multiple}, digits=ctx.digits)
        for name, m in (("high", high), ("medium", medium), ("low", low))
    ]


def channel(df: pd.DataFrame, ctx: LabelContext) -> list[pd.DataFrame]:
    """The dominant channel when it holds enough of the spend; omnichannel when spread.

    Customers whose dominant channel is unknown or ``other`` get no channel label.
    """
    rules = ctx.rules.channel
    buyer = purchasing(df)
    shares = np.column_stack([df[f"spend_share_{c}"].fillna(0.0).to_numpy() for c in CHANNELS])
    top_idx = shares.argmax(axis=1)
    top_share = pd.Series(shares.max(axis=1), index=df.index)
    top_name = pd.Series(np.asarray(CHANNELS, dtype=object)[top_idx], index=df.index)
    n_channels = df["n_channels"].fillna(pd.Series((shares > 0).sum(axis=1), index=df.index))
    known = buyer & (top_share > 0)
    dominant = known & (top_share >= rules.dominant_min_share) & top_name.isin(CHANNELS[:-1])
    omni = known & ~(top_share >= rules.dominant_min_share) & (n_channels >= rules.omnichannel_min_channels)
    ids = df["customer_id"]
    return [
        make_labels(ids[dominant], "channel", top_name[dominant], "channel.dominant",
                    {"channel": top_name[dominant], "channel_share": top_share[dominant],
                     "dominant_min_share": rules.dominant_min_share}, digits=ctx.digits),
        make_labels(ids[omni], "channel", "omnichannel", "channel.omnichannel",
                    {"n_channels": n_channels[omni], "channel_share": top_share[omni],
                     "dominant_min_share": rules.dominant_min_share,
                     "min_channels": rules.omnichannel_min_channels}, digits=ctx.digits),
    ]


def label(df: pd.DataFrame, ctx: LabelContext) -> list[pd.DataFrame]:
    return volume(df, ctx) + frequency(df, ctx) + value(df, ctx) + channel(df, ctx)
