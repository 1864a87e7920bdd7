"""Demographics from the customer record as shops write it (a small frame: real logs carry none)."""

from __future__ import annotations

import pandas as pd

from clientlens.segments import SegmentRules, label_customers

RULES = SegmentRules.from_settings()


def _labels(**columns: list) -> pd.Series:  # type: ignore[type-arg]
    n = len(next(iter(columns.values())))
    feats = pd.DataFrame({"customer_id": [f"c{i}" for i in range(n)], "orders": [0] * n,
                          "total_spend": [0.0] * n, **columns})
    out = label_customers(feats, rules=RULES)
    return out


def test_age_band_boundaries() -> None:
    out = _labels(age_years=[17, 24, 25, 64, 65, 90, None])
    got = out[out["taxonomy"] == "age_band"].set_index("customer_id")["label"]
    assert got.tolist() == ["youth", "youth", "adult", "adult", "senior", "senior", "unknown"]


def test_gender_as_written() -> None:
    out = _labels(gender=["F", "male", "Kobieta", "homme", "Nữ", "non-binary", "", None])
    got = out[out["taxonomy"] == "gender"].set_index("customer_id")["label"]
    assert got.tolist() == ["female", "male", "female", "male", "female", "other", "unknown", "unknown"]


def test_income_band_words_and_numbers() -> None:
    out = _labels(income_band=["low", "Medium", "HIGH", "Low income", "45k", "30-60k", "£95,000", "20000",
                               "n/a", None])
    got = out[out["taxonomy"] == "income_band"].set_index("customer_id")
    assert got["label"].tolist() == ["low", "middle", "high", "low", "middle", "middle", "high", "low",
                                     "unknown", "unknown"]
    assert got.loc["c4", "rule_id"] == "income_band.numeric"
    assert got.loc["c4", "text"] == "middle: income 45,000 (rule: low under 30,000, high from 80,000)"


def test_never_purchased_get_only_what_applies() -> None:
    out = _labels(country=["GB"], home_country=["GB"])
    assert set(out["taxonomy"]) == {"customer_type", "age_band", "gender", "income_band", "geography",
                                    "lifecycle"}
    assert out.loc[out["taxonomy"] == "lifecycle", "label"].item() == "potential"
