"""CDNOW: lifecycle, frequency, volume and value for every customer against a hand-written pandas
computation of the documented rules (docs/segments.md), and the P(alive) rule on a small frame."""

from __future__ import annotations

import json
from datetime import date

import numpy as np
import pandas as pd
import pytest

from clientlens.analysis import classify
from clientlens.datasets import load_cdnow_master
from clientlens.segments import SegmentRules, label_customers

AS_OF = date(1998, 3, 31)  # inside the log: some customers still active, some lapsed


@pytest.fixture(scope="module")
def cdnow():
    tx = load_cdnow_master()
    snap = classify(tx, as_of=AS_OF, scores=False)
    tx = tx[tx["order_date"] <= pd.Timestamp(AS_OF)]
    days = tx[["customer_id", "order_date"]].drop_duplicates().sort_values(["customer_id", "order_date"])
    gaps = days.groupby("customer_id")["order_date"].diff().dt.days
    g = tx.groupby("customer_id")
    hand = pd.DataFrame({
        "first": g["order_date"].min(), "last": g["order_date"].max(), "orders": g.size(),
        "spend": g["total"].sum(), "units": g["quantity"].sum(),
        "purchase_days": days.groupby("customer_id").size(),
        "ipi": gaps.groupby(days["customer_id"]).mean(),
    })
    hand["recency"] = (pd.Timestamp(AS_OF) - hand["last"]).dt.days
    hand["tenure"] = (pd.Timestamp(AS_OF) - hand["first"]).dt.days
    labels = snap.labels.pivot_table(index="customer_id", columns="taxonomy", values="label", aggfunc="first")
    return hand, labels.loc[hand.index]


def test_lifecycle_follows_each_customers_own_rhythm(cdnow) -> None:
    hand, labels = cdnow
    shop_rhythm = hand.loc[hand["purchase_days"] >= 2, "ipi"].median()
    rhythm = hand["ipi"].where(hand["purchase_days"] >= 2, shop_rhythm)
    limit = np.maximum(90, 3 * rhythm)
    expected = np.select(
        [hand["tenure"] <= 90, hand["recency"] > limit,
         (hand["purchase_days"] >= 4) & (hand["ipi"] <= 90)],
        ["new", "inactive", "loyal"], default="occasional")
    assert (labels["lifecycle"].to_numpy() == expected).all()
    # the same recency is inactive for a frequent buyer and not for a slow one
    inactive = labels["lifecycle"] == "inactive"
    assert (hand.loc[inactive, "recency"].min() < hand.loc[~inactive & (hand["purchase_days"] >= 2), "recency"].max())


def test_frequency_volume_value_for_every_customer(cdnow) -> None:
    hand, labels = cdnow
    ipi = hand["ipi"]
    freq = np.select([hand["purchase_days"] == 1, (ipi <= 10) & (hand["purchase_days"] >= 3), ipi <= 90],
                     ["one_off", "weekly", "monthly"], default="occasional")
    assert (labels["frequency"].to_numpy() == freq).all()
    qpo = hand["units"] / hand["orders"]
    volume = np.select([qpo >= 10, qpo < 1.5], ["bulk", "small"], default="regular")
    assert (labels["volume"].to_numpy() == volume).all()
    multiple = hand["spend"] / hand["spend"].median()
    value = np.select([multiple >= 3, multiple < 0.5], ["high", "low"], default="medium")
    assert (labels["value"].to_numpy() == value).all()


def test_low_p_alive_makes_a_quiet_customer_inactive() -> None:
    """P(alive) from the models overrides a slow rhythm once the floor is passed (small frame: the
    real logs have no scores of their own)."""
    feats = pd.DataFrame({"customer_id": ["a", "b", "c"], "orders": [3, 3, 3], "purchase_days": [3, 3, 3],
                          "tenure_days": [500, 500, 500], "recency_days": [120, 120, 60],
                          "ipi_mean_days": [150.0, 150.0, 150.0], "total_spend": [90.0, 90.0, 90.0]})
    p_alive = pd.Series([0.1, 0.9, 0.05], index=["a", "b", "c"])
    labels = label_customers(feats, rules=SegmentRules.from_settings(), p_alive=p_alive,
                             taxonomies=["lifecycle"]).set_index("customer_id")
    assert labels.loc["a", "label"] == "inactive" and labels.loc["a", "rule_id"] == "lifecycle.inactive.p_alive"
    assert json.loads(labels.loc["a", "figures"])["p_alive"] == 0.1
    assert labels.loc["b", "label"] == "occasional"  # alive, and 120 days is within its 450-day limit
    assert labels.loc["c", "label"] == "occasional"  # 60 days is under the 90-day floor
