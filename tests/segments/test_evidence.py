"""Evidence: figures rounded to 6 significant digits, JSON objects, text rendered from them."""

from __future__ import annotations

import json

import pandas as pd
import pytest

from clientlens.segments import SegmentRules, label_customers, render_text, round_sig
from clientlens.segments.evidence import make_labels


@pytest.fixture(scope="module")
def rules() -> SegmentRules:
    return SegmentRules.from_settings()


def test_round_sig() -> None:
    assert round_sig(0.641234567) == 0.641235
    assert round_sig(1234567.89) == 1234570
    assert round_sig(2.0) == 2
    assert round_sig(float("nan")) is None
    assert round_sig("PL") == "PL"
    assert round_sig(0.0) == 0


def test_price_conscious_sentence(rules: SegmentRules) -> None:
    feats = pd.DataFrame({"customer_id": [7], "orders": [5], "purchase_days": [5], "items_per_order": [2.0],
                          "promo_item_share": [0.6400004], "total_spend": [100.0]})
    labels = label_customers(feats, rules=rules)
    row = labels[labels["label"] == "price_conscious"].iloc[0]
    assert row["customer_id"] == "7"
    assert row["rule_id"] == "psychology.price_conscious"
    figures = json.loads(row["figures"])
    assert figures["promo_item_share"] == 0.64
    assert figures["min_promo_share"] == rules.psychology.price_conscious_min_promo_share
    assert row["text"] == "price-conscious: 64% of items bought on promotion (rule: at least 40%)"


def test_text_is_rendered_from_the_rounded_figures() -> None:
    out = make_labels(pd.Series(["a"]), "value", "high", "value.high",
                      {"total_spend": 1234.56789123, "median_spend": 100.0, "median_multiple": 12.3456789123,
                       "high_from_median_multiple": 3.0, "low_below_median_multiple": 0.5})
    figures = json.loads(out.loc[0, "figures"])
    assert figures["total_spend"] == 1234.57
    assert figures["median_multiple"] == 12.3457
    assert out.loc[0, "text"] == render_text("value.high", figures, label="high")
    assert "1,234.57" in out.loc[0, "text"]


def test_null_figures_render_as_na() -> None:
    text = render_text("frequency.monthly", {"ipi_mean_days": None, "monthly_max_days": 45})
    assert "n/a" in text


def test_every_label_row_has_parseable_evidence(rules: SegmentRules) -> None:
    from clientlens.analysis import classify
    from clientlens.datasets import load_cdnow_sample

    snap = classify(load_cdnow_sample(), scores=False)
    assert snap.labels["rule_id"].str.len().min() > 0
    for fig, text in zip(snap.labels["figures"].head(5000), snap.labels["text"].head(5000), strict=True):
        assert isinstance(json.loads(fig), dict)
        assert text and "{" not in text
