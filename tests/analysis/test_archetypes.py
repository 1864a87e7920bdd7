"""Precision and recall of each archetype label against the sample-shop generator's ground truth."""

from __future__ import annotations

import pandas as pd
import pytest

from clientlens.analysis.evaluate import ARCHETYPE_LABELS, archetype_scores, classify_sample_shop

MIN_SCORE = 0.9


def _check(scores: pd.DataFrame) -> None:
    assert set(ARCHETYPE_LABELS) <= set(scores["archetype"])
    low = scores[(scores["precision"] < MIN_SCORE) | (scores["recall"] < MIN_SCORE)]
    assert low.empty, "\n" + low.to_string()
    assert (scores["members"] > 0).all()


@pytest.fixture(scope="module")
def default_shop():
    return classify_sample_shop(5000, seed=42, scores=False)


def test_every_archetype_label_reaches_090_on_the_default_shop(default_shop) -> None:
    snap, truth = default_shop
    scores = archetype_scores(snap.labels, truth)
    _check(scores)


def test_archetypes_with_model_scores(tmp_path) -> None:  # type: ignore[no-untyped-def]
    """With P(alive) from the models, inactive (and everything else) must still hold; the scores
    are written as scores.parquet."""
    from clientlens.analysis import adapters

    assert adapters.scoring_available(), "clientlens.models.scoring.score_customers is missing"
    snap, truth = classify_sample_shop(3000, seed=5, scores=True)
    assert snap.scores is not None and snap.scores["p_alive"].notna().any()
    _check(archetype_scores(snap.labels, truth))
    snap.write_parquet(tmp_path)
    scores = pd.read_parquet(tmp_path / "scores.parquet")
    assert scores.columns.tolist() == ["customer_id", "model", "p_alive", "expected_purchases_90d",
                                       "expected_purchases_365d", "clv", "expected_next_order", "next_products",
                                       "model_status", "purchases_365d_low", "purchases_365d_high", "clv_low",
                                       "clv_high"]  # the 80% intervals after the contract's columns
    assert scores["customer_id"].tolist() == sorted(scores["customer_id"])


def test_evaluate_command_prints_precision_and_recall() -> None:
    import json

    from typer.testing import CliRunner

    from clientlens.cli.main import build_app

    result = CliRunner().invoke(build_app(), ["evaluate", "--customers", "600", "--seed", "3", "--format", "json"],
                                catch_exceptions=False)
    assert result.exit_code == 0
    rows = json.loads(result.stdout)
    assert {r["archetype"] for r in rows} >= set(ARCHETYPE_LABELS)
    assert all(0 <= r["precision"] <= 1 and 0 <= r["recall"] <= 1 for r in rows if r["labelled"] and r["members"])


@pytest.mark.slow
def test_every_archetype_label_reaches_090_on_a_ten_times_larger_shop() -> None:
    snap, truth = classify_sample_shop(50_000, seed=7, scores=False)
    assert len(snap.features) == 50_000
    _check(archetype_scores(snap.labels, truth))


def test_summary_shares_over_all_customers(default_shop) -> None:
    snap, truth = default_shop
    s = snap.summary
    assert s["customers_share"].between(0, 1).all() and s["revenue_share"].between(0, 1).all()
    single = s[s["taxonomy"] != "psychology"]
    # single-label taxonomies labelling everybody add up to all customers
    for taxonomy in ("customer_type", "age_band", "gender", "income_band", "lifecycle"):
        part = single[single["taxonomy"] == taxonomy]
        assert part["customers"].sum() == len(truth), taxonomy
        assert part["revenue_share"].sum() == pytest.approx(1.0)
    potential = s[(s["taxonomy"] == "lifecycle") & (s["label"] == "potential")].iloc[0]
    assert potential["customers"] == truth["prospect"].sum()
    assert potential["revenue"] == 0
    tiers = s[s["taxonomy"] == "revenue_tier"].set_index("label")["customers"]
    buyers = int((snap.features["orders"] > 0).sum())
    assert tiers["top_20"] == round(0.2 * buyers) and tiers.sum() == buyers
