"""revenue_tier (Pareto): top_20 = the first round(top_share x n) of the n purchasing customers
ranked by total spend, ties broken by ``customer_id`` (ascending, as strings); rest = the other
purchasing customers. Never-purchased customers get no tier.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from clientlens.segments.base import LabelContext, purchasing
from clientlens.segments.evidence import make_labels

TAXONOMY = "revenue_tier"


def revenue_ranks(df: pd.DataFrame) -> pd.Series:
    """Rank 1..n of the purchasing customers by spend (descending), ties by customer_id."""
    buyers = df.loc[purchasing(df), ["customer_id", "total_spend"]]
    order = buyers.sort_values(["total_spend", "customer_id"], ascending=[False, True], kind="mergesort")
    return pd.Series(np.arange(1, len(order) + 1), index=order.index).reindex(buyers.index)


def top_count(n: int, share: float) -> int:
    """round(share x n), halves rounded up."""
    return int(np.floor(share * n + 0.5 + 1e-9))


def label(df: pd.DataFrame, ctx: LabelContext) -> list[pd.DataFrame]:
    rules = ctx.rules.revenue_tier
    ranks = revenue_ranks(df)
    n = len(ranks)
    top_n = top_count(n, rules.top_share)
    top = ranks <= top_n
    out = []
    for name, m in (("top_20", top), ("rest", ~top)):
        idx = ranks.index[m.to_numpy()]
        out.append(make_labels(df.loc[idx, "customer_id"], TAXONOMY, name, f"revenue_tier.{name}",
                               {"rank": ranks[idx], "n": n, "top_n": top_n,
                                "total_spend": df.loc[idx, "total_spend"]}, digits=ctx.digits))
    return out
