"""score_customers (the analysis pipeline's entry point), CLV and next order date."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from clientlens.config import load_settings
from clientlens.datasets import load_cdnow_sample
from clientlens.models import BetaGeo, GammaGamma, average_days_between_orders, clv, expected_next_order
from clientlens.models.scoring import EXTRA_COLUMNS, INTERVAL_COLUMNS, SCORE_COLUMNS, score_customers


@pytest.fixture(scope="module")
def settings():  # type: ignore[no-untyped-def]
    return load_settings(search_cwd=False)


def test_scores_every_purchasing_customer(settings) -> None:  # type: ignore[no-untyped-def]
    orders = load_cdnow_sample()
    scores = score_customers(orders, None, as_of="1997-09-30", settings=settings, model="bg_nbd")
    assert list(scores.columns) == SCORE_COLUMNS + EXTRA_COLUMNS + INTERVAL_COLUMNS
    lo, hi = scores["purchases_365d_low"], scores["purchases_365d_high"]
    assert (lo <= hi).all() and (scores["clv_low"] <= scores["clv_high"]).all()
    assert (hi > lo).any()
    assert set(scores["model_status"]) == {"ok"} and scores.attrs["models"]["status"] == "ok"
    assert len(scores) == 2357 and scores["customer_id"].is_unique
    assert set(scores["model"]) == {"bg_nbd"}
    one_time = scores.set_index("customer_id").loc["10"]  # bought once, on 1997-01-01
    assert one_time["p_alive"] == 1.0 and one_time["clv"] > 0
    assert (scores["expected_purchases_365d"] >= scores["expected_purchases_90d"]).all()
    assert scores[["p_alive", "expected_purchases_90d", "clv"]].notna().all().all()
    # the median time to the next purchase given alive; NaT where it is beyond next_order_max_days
    nxt = scores["expected_next_order"].dropna()
    assert (nxt > pd.Timestamp("1997-09-30")).all()
    assert (nxt <= pd.Timestamp("1997-09-30") + pd.Timedelta(days=730)).all()
    assert 0.2 < len(nxt) / len(scores) < 1.0
    assert scores.loc[scores["p_alive"] < 0.5, "expected_next_order"].notna().any()
    assert scores["next_products"].map(json.loads).map(len).eq(0).all()


def test_best_model_is_the_validation_choice(settings) -> None:  # type: ignore[no-untyped-def]
    """Without a saved choice, "best" validates on the automatic split (the calibration sample's 39
    weeks: calibration to 1997-07-01, holdout to 1997-09-30) and takes the highest holdout
    log-likelihood, as `validate` does on the same split."""
    from clientlens.models.config import model_settings
    from clientlens.models.validation import auto_split, validate_models

    orders = load_cdnow_sample()
    scores = score_customers(orders, None, as_of="1997-09-30", settings=settings)
    info = scores.attrs["models"]
    split = auto_split(orders, "1997-09-30", model_settings(settings))
    assert split == ("1997-07-01", "1997-09-30")
    assert info["choice"]["calibration_end"] == split[0] and info["choice"]["source"].startswith("validation")
    result = validate_models(orders[orders["order_date"] <= "1997-09-30"], calibration_end=split[0],
                             holdout_end=split[1], settings=model_settings(settings))
    assert set(scores["model"]) == {result.best} == {info["model"]}


def test_too_few_customers_gives_empty_scores(settings) -> None:  # type: ignore[no-untyped-def]
    orders = load_cdnow_sample().head(12)
    scores = score_customers(orders, None, as_of="1997-09-30", settings=settings)
    assert set(scores["model"]) == {"none"} and scores["p_alive"].isna().all()
    assert set(scores["model_status"]) == {"empty"}
    assert "min_customers" in " ".join(scores.attrs["models"]["notes"])


def test_clv_matches_lifetimes_definition() -> None:
    lifetimes = pytest.importorskip("lifetimes")
    from clientlens.features import rfm_summary

    s = rfm_summary(load_cdnow_sample(), observation_end="1997-09-30")
    bg = BetaGeo().fit(s)
    gg = GammaGamma().fit(s[s["frequency"] > 0])
    ours = clv(bg, gg, s, horizon_months=12, monthly_discount_rate=0.01)
    lt_bg = lifetimes.BetaGeoFitter()
    lt_bg.params_ = pd.Series(bg.params_)
    lt_bg.predict = lt_bg.conditional_expected_number_of_purchases_up_to_time
    lt_gg = lifetimes.GammaGammaFitter()
    lt_gg.params_ = pd.Series(gg.params_)
    theirs = lt_gg.customer_lifetime_value(lt_bg, s["frequency"], s["recency"], s["T"], s["monetary_value"],
                                           time=12, discount_rate=0.01, freq="W").to_numpy()
    # lifetimes takes a month as 4.345 weeks, we take 365.25 / 12 days = 4.348 weeks
    np.testing.assert_allclose(ours, theirs, rtol=2e-3)


def test_next_order_and_days_between_orders() -> None:
    s = pd.DataFrame({"frequency": [4.0, 0.0, 3.0], "recency": [20.0, 0.0, 1.0], "T": [21.0, 30.0, 40.0]})
    bg = BetaGeo()
    bg.params_ = {"r": 0.243, "alpha": 4.414, "a": 0.793, "b": 2.426}
    nxt = expected_next_order(bg, s, "2024-01-01")
    assert nxt.iloc[0] > pd.Timestamp("2024-01-01") and nxt.iloc[0] < pd.Timestamp("2024-04-01")
    assert pd.isna(expected_next_order(bg, s, "2024-01-01", given_alive=False).iloc[2])  # P(alive) < 1/2
    assert nxt.iloc[2] > nxt.iloc[0]  # given alive, its rate (three purchases in 40 weeks) is lower
    tau = bg.median_time_to_next_purchase(s.iloc[[0]])[0]
    assert bg.prob_purchases(0, tau, s.iloc[[0]])[0] == pytest.approx(0.5, abs=1e-5)
    # given alive, BG/NBD's next purchase time is exponential with a gamma rate: closed-form median
    alive_tau = bg.median_time_to_next_purchase(s, given_alive=True)
    r, alpha = 0.243 + s["frequency"], 4.414 + s["T"]
    np.testing.assert_allclose(alive_tau, alpha * (2 ** (1 / r) - 1), rtol=1e-5)
    np.testing.assert_allclose(average_days_between_orders(s), [35.0, np.nan, 7 / 3], equal_nan=True)
