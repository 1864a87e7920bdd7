"""The dashboard's figures of one snapshot, computed once by the analysis and stored in its ``run.json``.

Every figure is over the snapshot's features and scores, so money is in the shop's reporting
currency (the features convert every order through the shop's exchange rates) and the figures of
a page view cost a read of the snapshot, not a pass over the shop's orders. The thresholds are
``[segments.dashboard]`` in ``defaults.toml`` (``segments.rules.DashboardRules``).
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from clientlens.config import Settings
from clientlens.segments.rules import SegmentRules


def _num(frame: pd.DataFrame | None, column: str) -> np.ndarray:
    if frame is None or column not in frame.columns:
        return np.zeros(0)
    return pd.to_numeric(frame[column], errors="coerce").to_numpy(dtype="float64")


def _quintile(values: np.ndarray, scores: int) -> np.ndarray:
    """Scores 1..``scores`` by rank (ties in the order given: ``values`` already carries a tie-break)."""
    ranks = values.argsort(kind="stable").argsort(kind="stable") / max(len(values) - 1, 1)
    return np.minimum((ranks * scores).astype(int) + 1, scores)


def rfm_grid(features: pd.DataFrame, scores: int) -> list[dict[str, int]]:
    """Purchasing customers per (recency score, frequency score); ``scores`` = most recent / most frequent."""
    orders = _num(features, "orders")
    buying = orders > 0
    if not buying.any():
        return []
    recency = _num(features, "recency_days")[buying]
    freq = orders[buying]
    r = _quintile(-recency, scores)
    f = _quintile(freq + np.linspace(0, 1e-6, len(freq)), scores)
    grid: dict[tuple[int, int], int] = {}
    for a, b in zip(r.tolist(), f.tolist(), strict=True):
        grid[(a, b)] = grid.get((a, b), 0) + 1
    return [{"recency_score": a, "frequency_score": b, "customers": n} for (a, b), n in sorted(grid.items())]


def clv_histogram(scores: pd.DataFrame | None, bins: int) -> list[dict[str, float]]:
    """Customers per CLV bin. CLV has a heavy tail, so the bins are log-spaced above the smallest positive
    value (a first bin from 0 holds the customers below it, zero CLV included)."""
    values = _num(scores, "clv")
    values = values[np.isfinite(values)]
    if values.size == 0:
        return []
    values = np.clip(values, 0.0, None)
    positive = values[values > 0]
    if positive.size == 0:
        return [{"clv_from": 0.0, "clv_to": 0.0, "customers": int(values.size)}]
    low, high = float(positive.min()), float(positive.max())
    if high <= low:
        edges = np.asarray([0.0, high])
    else:
        edges = np.concatenate([[0.0], np.geomspace(low, high, max(bins, 2))])
    counts, _ = np.histogram(values, bins=edges)
    return [{"clv_from": float(edges[i]), "clv_to": float(edges[i + 1]), "customers": int(c)}
            for i, c in enumerate(counts)]


def dashboard_figures(features: pd.DataFrame, scores: pd.DataFrame | None, *, currency: str,
                      settings: Settings) -> dict[str, Any]:
    """KPIs, the RFM grid and the CLV histogram of a snapshot (money in ``currency``, the reporting one)."""
    cfg = SegmentRules.from_settings(settings).dashboard
    orders = _num(features, "orders")
    recency = _num(features, "recency_days")
    spend = _num(features, "total_spend")
    clv = _num(scores, "clv")
    clv = clv[np.isfinite(clv)]
    buying = orders > 0
    return {
        "currency": currency,
        "customers": int(len(features)),
        "purchasing_customers": int(buying.sum()),
        "active_customers": int((buying & (recency <= cfg.active_days)).sum()),
        "active_days": cfg.active_days,
        "orders": int(np.nansum(orders)),
        "revenue": float(np.round(np.nansum(spend[buying]), 6)),
        "average_clv": float(clv.mean()) if clv.size else None,
        "rfm_grid": rfm_grid(features, cfg.rfm_scores),
        "clv_histogram": clv_histogram(scores, cfg.clv_bins),
    }
