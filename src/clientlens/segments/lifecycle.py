"""lifecycle: potential, new, inactive, loyal, occasional (first matching rule wins, in that order).

A customer whose first purchase is recent is ``new`` whatever came after it: acquisition comes first.

``inactive`` is judged against the customer's own rhythm: recency above
max(floor_days, rhythm_multiple x mean interval between the customer's purchase days). A one-time
buyer has no rhythm of its own and is judged against the shop's median interval of its repeat
buyers. When model scores exist, P(alive) under ``p_alive_below`` also makes a customer inactive
once recency is above ``floor_days``.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from clientlens.segments.base import LabelContext, purchasing
from clientlens.segments.evidence import make_labels

TAXONOMY = "lifecycle"


def shop_rhythm_days(df: pd.DataFrame, fallback: float) -> float:
    """The shop's typical interval: median of the repeat buyers' mean intervals (or ``fallback``)."""
    ipi = df.loc[purchasing(df) & (df["purchase_days"] >= 2), "ipi_mean_days"].dropna()
    return float(ipi.median()) if len(ipi) else fallback


def label(df: pd.DataFrame, ctx: LabelContext) -> list[pd.DataFrame]:
    rules = ctx.rules.lifecycle
    d = ctx.digits
    ids = df["customer_id"]
    buyer = purchasing(df)
    recency = df["recency_days"]
    own = df["ipi_mean_days"].where(df["purchase_days"] >= 2)
    rhythm = own.fillna(shop_rhythm_days(df, rules.one_off_rhythm_days))
    limit = np.maximum(rules.floor_days, rules.rhythm_multiple * rhythm)

    left = buyer.copy()

    def take(mask: pd.Series) -> pd.Series:
        nonlocal left
        chosen = mask & left
        left = left & ~chosen
        return chosen

    new = take(df["tenure_days"] <= rules.new_days)
    by_rhythm = take(recency > limit)
    by_p_alive = pd.Series(False, index=df.index)
    p_alive = pd.Series(np.nan, index=df.index)
    if ctx.p_alive is not None:
        p_alive = pd.Series(np.asarray(ctx.p_alive, dtype="float64"), index=df.index)
        by_p_alive = take((p_alive < rules.p_alive_below) & (recency > rules.floor_days))
    loyal = take((df["purchase_days"] >= rules.loyal_min_purchase_days)
                 & (df["ipi_mean_days"] <= rules.loyal_max_interval_days))
    occasional = take(left)
    potential = ~buyer
    return [
        make_labels(ids[potential], TAXONOMY, "potential", "lifecycle.potential", {"orders": 0}, digits=d),
        make_labels(ids[by_rhythm], TAXONOMY, "inactive", "lifecycle.inactive.rhythm",
                    {"recency_days": recency[by_rhythm], "rhythm_days": rhythm[by_rhythm],
                     "own_rhythm": own[by_rhythm].notna(), "limit_days": limit[by_rhythm],
                     "rhythm_multiple": rules.rhythm_multiple, "floor_days": rules.floor_days}, digits=d),
        make_labels(ids[by_p_alive], TAXONOMY, "inactive", "lifecycle.inactive.p_alive",
                    {"p_alive": p_alive[by_p_alive], "recency_days": recency[by_p_alive],
                     "p_alive_below": rules.p_alive_below, "floor_days": rules.floor_days}, digits=d),
        make_labels(ids[new], TAXONOMY, "new", "lifecycle.new",
                    {"tenure_days": df.loc[new, "tenure_days"], "new_days": rules.new_days}, digits=d),
        make_labels(ids[loyal], TAXONOMY, "loyal", "lifecycle.loyal",
                    {"purchase_days": df.loc[loyal, "purchase_days"], "ipi_mean_days": df.loc[loyal, "ipi_mean_days"],
                     "loyal_min_purchase_days": rules.loyal_min_purchase_days,
                     "loyal_max_interval_days": rules.loyal_max_interval_days}, digits=d),
        make_labels(ids[occasional], TAXONOMY, "occasional", "lifecycle.occasional",
                    {"purchase_days": df.loc[occasional, "purchase_days"],
                     "ipi_mean_days": df.loc[occasional, "ipi_mean_days"],
                     "loyal_min_purchase_days": rules.loyal_min_purchase_days,
                     "loyal_max_interval_days": rules.loyal_max_interval_days}, digits=d),
    ]
