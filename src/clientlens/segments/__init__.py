"""The thirteen taxonomies: every customer's labels, each with its evidence.

>>> import pandas as pd
>>> from clientlens.segments import label_customers
>>> features = pd.DataFrame({"customer_id": ["a"], "orders": [0], "total_spend": [0.0]})
>>> label_customers(features)[["taxonomy", "label"]].values.tolist()[:2]
[['age_band', 'unknown'], ['customer_type', 'individual']]
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np
import pandas as pd

from clientlens.segments import (
    behaviour,
    customer_type,
    demographics,
    geography,
    lifecycle,
    psychology,
    revenue_tier,
    rfm,
)
from clientlens.segments.base import LabelContext, prepare
from clientlens.segments.evidence import LABEL_COLUMNS, TEMPLATES, empty_labels, render_text, round_sig
from clientlens.segments.rules import MULTI_LABEL, TAXONOMIES, SegmentRules

__all__ = [
    "LABEL_COLUMNS", "MULTI_LABEL", "TAXONOMIES", "TEMPLATES", "LabelContext", "SegmentRules",
    "label_customers", "render_text", "round_sig",
]

log = logging.getLogger(__name__)

#: One labelling function per module (family); each returns label frames.
LABELLERS: dict[str, Callable[[pd.DataFrame, LabelContext], list[pd.DataFrame]]] = {
    "customer_type": customer_type.label,
    "demographics": demographics.label,
    "psychology": psychology.label,
    "behaviour": behaviour.label,
    "lifecycle": lifecycle.label,
    "geography": geography.label,
    "rfm_segment": rfm.label,
    "revenue_tier": revenue_tier.label,
}


def label_customers(features: pd.DataFrame, *, rules: SegmentRules | None = None,
                    home_country: str | None = None, p_alive: pd.Series | None = None,
                    taxonomies: Sequence[str] | None = None) -> pd.DataFrame:
    """Labels of every customer of ``features`` (one row per customer, the feature-table contract).

    ``p_alive``: a Series indexed by customer_id (from the model scores), or None.
    Returns ``customer_id, taxonomy, label, rule_id, figures, text`` sorted by customer_id (string),
    taxonomy and label. ``taxonomies`` restricts the output to those taxonomies.
    """
    rules = rules or SegmentRules.from_settings()
    df = prepare(features)
    alive: np.ndarray | None = None
    if p_alive is not None:
        p = pd.Series(p_alive)
        p.index = p.index.astype(str)
        alive = p.reindex(df["customer_id"]).to_numpy(dtype="float64")
    ctx = LabelContext(rules=rules, home_country=home_country, p_alive=alive)
    parts: list[pd.DataFrame] = []
    for name, fn in LABELLERS.items():
        frames = [f for f in fn(df, ctx) if len(f)]
        log.debug("taxonomy family %s: %d label rows", name, sum(len(f) for f in frames))
        parts.extend(frames)
    labels = pd.concat(parts, ignore_index=True) if parts else empty_labels()
    if taxonomies is not None:
        labels = labels[labels["taxonomy"].isin(list(taxonomies))]
    return sort_labels(labels)


def sort_labels(labels: pd.DataFrame) -> pd.DataFrame:
    """Rows sorted by customer_id (as a string), taxonomy and label; columns in contract order."""
    out = labels[LABEL_COLUMNS].astype({"customer_id": str, "taxonomy": str, "label": str})
    return out.sort_values(["customer_id", "taxonomy", "label"], kind="mergesort").reset_index(drop=True)


def labels_of(labels: pd.DataFrame, customer_id: Any) -> pd.DataFrame:
    """The label rows of one customer."""
    return labels[labels["customer_id"] == str(customer_id)]
