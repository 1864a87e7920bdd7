"""Score the classifiers against the sample-shop generator's ground truth (``clientlens evaluate``).

Each generator archetype maps to the label that expresses the same meaning (docs/segments.md):

=================  ===============================
archetype          label
=================  ===============================
price_conscious    psychology = price_conscious
brand_loyal        psychology = brand_loyal
trend_seeker       psychology = trend_seeker
bulk_buyer         volume = bulk
occasional         frequency = occasional
lapsing            lifecycle = inactive
prospect           lifecycle = potential
international      geography = international
=================  ===============================

The generator's true customer type is scored as well (customer_type = individual / professional /
institutional).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pandas as pd

from clientlens.analysis.snapshot import Snapshot
from clientlens.config import Settings

ARCHETYPE_LABELS: dict[str, tuple[str, str]] = {
    "price_conscious": ("psychology", "price_conscious"),
    "brand_loyal": ("psychology", "brand_loyal"),
    "trend_seeker": ("psychology", "trend_seeker"),
    "bulk_buyer": ("volume", "bulk"),
    "occasional": ("frequency", "occasional"),
    "lapsing": ("lifecycle", "inactive"),
    "prospect": ("lifecycle", "potential"),
    "international": ("geography", "international"),
}
CUSTOMER_TYPES = ("individual", "professional", "institutional")
RESULT_COLUMNS = ["archetype", "taxonomy", "label", "members", "labelled", "true_positives", "precision",
                  "recall"]


def _row(name: str, taxonomy: str, label: str, truth: pd.Series, got: pd.Series) -> dict[str, Any]:
    tp = int((truth & got).sum())
    members, labelled = int(truth.sum()), int(got.sum())
    return {"archetype": name, "taxonomy": taxonomy, "label": label, "members": members, "labelled": labelled,
            "true_positives": tp, "precision": tp / labelled if labelled else float("nan"),
            "recall": tp / members if members else float("nan")}


def archetype_scores(labels: pd.DataFrame, truth: pd.DataFrame) -> pd.DataFrame:
    """Precision and recall of each archetype's label (and of the customer types) over all customers."""
    ids = truth["customer_id"].astype(str)
    index = pd.Index(ids)
    rows = []
    for archetype, (taxonomy, label) in ARCHETYPE_LABELS.items():
        if archetype not in truth.columns:
            continue
        sel = labels[(labels["taxonomy"] == taxonomy) & (labels["label"] == label)]["customer_id"]
        got = pd.Series(index.isin(set(sel)), index=index)
        want = pd.Series(truth[archetype].fillna(False).astype(bool).to_numpy(), index=index)
        rows.append(_row(archetype, taxonomy, label, want, got))
    if "customer_type" in truth.columns:
        typed = labels[labels["taxonomy"] == "customer_type"].set_index("customer_id")["label"]
        got_type = typed.reindex(index)
        for kind in CUSTOMER_TYPES:
            want = pd.Series((truth["customer_type"].astype(str) == kind).to_numpy(), index=index)
            rows.append(_row(f"customer_type:{kind}", "customer_type", kind, want,
                             (got_type == kind).fillna(False)))
    return pd.DataFrame(rows, columns=RESULT_COLUMNS)


def classify_sample_shop(customers: int = 5000, *, seed: int = 42, settings: Settings | None = None,
                         engine: str | Any = "duckdb", scores: bool = True,
                         generated: Callable[[int], None] | None = None,
                         step: Callable[[str], None] | None = None) -> tuple[Snapshot, pd.DataFrame]:
    """Generate the sample shop, classify it, and return the snapshot and the ground truth.

    ``generated`` is told how many customers each generated block added; ``step`` the analysis step.
    """
    from clientlens.analysis.pipeline import run_analysis
    from clientlens.datasets.generator import generate_shop

    shop = generate_shop(customers, seed=seed, progress=generated)
    frames = {"customers": shop.customers, "orders": shop.orders, "order_lines": shop.order_lines,
              "products": shop.products, "interactions": shop.interactions, "feedback": shop.feedback}
    snap = run_analysis(frames, shop="sample-shop", as_of=shop.as_of, settings=settings, engine=engine,
                        scores=scores, progress=step)
    return snap, shop.truth


def evaluate_sample_shop(customers: int = 5000, *, seed: int = 42, settings: Settings | None = None,
                         engine: str | Any = "duckdb", scores: bool = True,
                         generated: Callable[[int], None] | None = None,
                         step: Callable[[str], None] | None = None) -> pd.DataFrame:
    """Precision and recall of every archetype label on a freshly generated sample shop."""
    snap, truth = classify_sample_shop(customers, seed=seed, settings=settings, engine=engine, scores=scores,
                                       generated=generated, step=step)
    return archetype_scores(snap.labels, truth)
