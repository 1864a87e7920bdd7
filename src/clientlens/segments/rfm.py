"""rfm_segment: R, F, M scores 1-5 over the purchasing customers and the segment grid.

R ranks ``recency_days`` (fewer days is better), F ranks ``orders`` (completed orders), M ranks
``total_spend``. Score = 1 + floor(5 x the share of purchasing customers with a strictly worse
value), capped at 5 (pandas ``rank(method="min")``): equal values always get equal scores, the worst
value always scores 1, and a score band holds about a fifth of the customers where values differ. FM is the mean of F and M; the first row of ``[segments.rfm] segments`` whose R and FM
ranges hold the customer gives the segment.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from clientlens.segments.base import LabelContext, purchasing
from clientlens.segments.evidence import make_labels
from clientlens.segments.rules import RfmRules

TAXONOMY = "rfm_segment"


def quantile_scores(values: pd.Series, scores: int = 5, *, higher_is_better: bool = True) -> pd.Series:
    """Scores 1..``scores``: ``1 + floor(scores x (customers with a strictly worse value) / n)``."""
    n = len(values)
    if n == 0:
        return pd.Series([], dtype="int64", index=values.index)
    goodness = values.astype("float64") if higher_is_better else -values.astype("float64")
    worse = goodness.fillna(-np.inf).rank(method="min") - 1  # an unknown value counts as the worst
    return (1 + np.floor(scores * worse / n)).clip(1, scores).astype("int64")


def rfm_scores(df: pd.DataFrame, rules: RfmRules) -> pd.DataFrame:
    """R, F, M and FM of the purchasing customers (index aligned with ``df``)."""
    buyers = df[purchasing(df)]
    out = pd.DataFrame(index=buyers.index)
    out["r"] = quantile_scores(buyers["recency_days"], rules.scores, higher_is_better=False)
    out["f"] = quantile_scores(buyers["orders"], rules.scores)
    out["m"] = quantile_scores(buyers["total_spend"], rules.scores)
    out["fm"] = (out["f"] + out["m"]) / 2
    return out


def segment_of(r: pd.Series, fm: pd.Series, rules: RfmRules) -> pd.DataFrame:
    """The segment and the index of the grid row that gave it (first match wins)."""
    seg = pd.Series(None, index=r.index, dtype=object)
    row = pd.Series(-1, index=r.index, dtype="int64")
    for i, cell in enumerate(rules.segments):
        hit = seg.isna() & r.between(cell.r_min, cell.r_max) & fm.between(cell.fm_min, cell.fm_max)
        seg[hit] = cell.label
        row[hit] = i
    return pd.DataFrame({"segment": seg, "row": row})


def label(df: pd.DataFrame, ctx: LabelContext) -> list[pd.DataFrame]:
    rules = ctx.rules.rfm
    scores = rfm_scores(df, rules)
    if scores.empty:
        return []
    seg = segment_of(scores["r"], scores["fm"], rules)
    cells = rules.segments
    buyers = df.loc[scores.index]
    return [make_labels(buyers["customer_id"], TAXONOMY, seg["segment"], "rfm_segment.grid", {
        "r": scores["r"], "f": scores["f"], "m": scores["m"], "fm": scores["fm"],
        "recency_days": buyers["recency_days"], "orders": buyers["orders"], "total_spend": buyers["total_spend"],
        "r_min": seg["row"].map(lambda i: cells[i].r_min), "r_max": seg["row"].map(lambda i: cells[i].r_max),
        "fm_min": seg["row"].map(lambda i: cells[i].fm_min), "fm_max": seg["row"].map(lambda i: cells[i].fm_max),
    }, digits=ctx.digits)]
