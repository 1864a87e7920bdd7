"""Published parameters on the CDNOW sample and equality with lifetimes 0.11.3's predictions."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from clientlens.models import BetaGeo, GammaGamma, ModifiedBetaGeo, ParetoNBD, ShiftedBetaGeometric


def sig3(x: float) -> float:
    return float(f"{x:.3g}")


@pytest.mark.parametrize(("model", "expected", "ll"), [
    (BetaGeo, {"r": 0.243, "alpha": 4.414, "a": 0.793, "b": 2.426}, -9582.4),
    (ParetoNBD, {"r": 0.553, "alpha": 10.578, "s": 0.606, "beta": 11.669}, -9595.0),
    (ModifiedBetaGeo, {"r": 0.525, "alpha": 6.183, "a": 0.891, "b": 1.614}, None),
])
def test_published_parameters(cdnow_summary: pd.DataFrame, model: type, expected: dict[str, float],
                              ll: float | None) -> None:
    assert len(cdnow_summary) == 2357
    m = model().fit(cdnow_summary)
    for key, value in expected.items():
        assert sig3(m.params_[key]) == sig3(value), key
    if ll is not None:
        assert m.log_likelihood_ == pytest.approx(ll, abs=0.1)
    assert all(np.isfinite(v) and v > 0 for v in m.standard_errors_.values())


def test_gamma_gamma_published(cdnow_summary: pd.DataFrame) -> None:
    repeat = cdnow_summary[cdnow_summary["frequency"] > 0]
    assert len(repeat) == 946
    gg = GammaGamma().fit(repeat)
    assert (round(gg.params_["p"], 2), round(gg.params_["q"], 2), round(gg.params_["v"], 2)) == (6.25, 3.74, 15.44)
    assert gg.log_likelihood_ == pytest.approx(-4055.92, abs=0.01)


@pytest.mark.parametrize(("counts", "alpha", "beta"), [
    ([1000, 631, 468, 382, 326, 289, 262, 241], 0.704, 1.182),
    ([1000, 869, 743, 653, 593, 551, 517, 491], 0.668, 3.806),
])
def test_sbg_fader_hardie_2007(counts: list[int], alpha: float, beta: float) -> None:
    m = ShiftedBetaGeometric().fit(counts)
    assert round(m.params_["alpha"], 3) == alpha
    assert round(m.params_["beta"], 3) == beta
    # the fitted curve follows the data it was fitted on
    assert np.allclose(m.survival(np.arange(1, 8)) * 1000, counts[1:], rtol=0.1)


def test_sbg_tenure_input_equals_counts() -> None:
    counts = np.array([1000, 631, 468, 382, 326, 289, 262, 241])
    lost = -np.diff(counts)
    tenure = np.concatenate([np.repeat(np.arange(1, 8), lost), np.full(241, 7)])
    churned = np.concatenate([np.ones(lost.sum(), bool), np.zeros(241, bool)])
    a = ShiftedBetaGeometric().fit(pd.DataFrame({"tenure": tenure, "churned": churned}))
    b = ShiftedBetaGeometric().fit(counts)
    assert a.params_ == pytest.approx(b.params_, rel=1e-9)
    assert a.retention_rate(1)[0] == pytest.approx(b.survival(1)[0])
    assert b.derl(0.1, 0)[0] > 0 and b.derl(0.1, 5)[0] > b.derl(0.1, 0)[0]  # survivors are better risks


def _lifetimes_twin(model, cls_name: str):  # type: ignore[no-untyped-def]
    import lifetimes

    twin = getattr(lifetimes, cls_name)()
    twin.params_ = pd.Series(model.params_)
    return twin


@pytest.mark.parametrize(("model", "twin", "rtol"), [
    (BetaGeo, "BetaGeoFitter", 1e-4),
    (ModifiedBetaGeo, "ModifiedBetaGeoFitter", 1e-4),
    (ParetoNBD, "ParetoNBDFitter", 1e-3),
])
def test_predictions_equal_lifetimes(cdnow_summary: pd.DataFrame, model: type, twin: str, rtol: float) -> None:
    pytest.importorskip("lifetimes")
    s = cdnow_summary
    m = model().fit(s)
    lt = _lifetimes_twin(m, twin)
    f, r, T = s["frequency"].to_numpy(), s["recency"].to_numpy(), s["T"].to_numpy()
    for t in (1.0, 39.0, 52.0):
        np.testing.assert_allclose(m.expected_purchases(t, s),
                                   lt.conditional_expected_number_of_purchases_up_to_time(t, f, r, T), rtol=rtol)
    np.testing.assert_allclose(m.p_alive(s), lt.conditional_probability_alive(f, r, T), rtol=rtol)
    np.testing.assert_allclose(m.expected_purchases_new(np.array([1.0, 39.0])),
                               lt.expected_number_of_purchases_up_to_time(np.array([1.0, 39.0])), rtol=rtol)
    if twin == "ParetoNBDFitter":
        for n in (0, 1, 3):
            np.testing.assert_allclose(m.prob_purchases(n, 39.0, s),
                                       lt.conditional_probability_of_n_purchases_up_to_time(n, 39.0, f, r, T),
                                       rtol=rtol, atol=1e-12)


def test_lifetimes_fitter_agrees_on_bg_nbd(cdnow_summary: pd.DataFrame) -> None:
    """lifetimes' own BG/NBD fitter (it works on pandas 3) lands on the same optimum."""
    lifetimes = pytest.importorskip("lifetimes")
    s = cdnow_summary
    lt = lifetimes.BetaGeoFitter().fit(s["frequency"], s["recency"], s["T"])
    ours = BetaGeo().fit(s)
    for key in ("r", "alpha", "a", "b"):
        assert ours.params_[key] == pytest.approx(float(lt.params_[key]), rel=1e-3)


def test_gamma_gamma_equals_lifetimes(cdnow_summary: pd.DataFrame) -> None:
    pytest.importorskip("lifetimes")
    s = cdnow_summary
    gg = GammaGamma().fit(s[s["frequency"] > 0])
    lt = _lifetimes_twin(gg, "GammaGammaFitter")
    np.testing.assert_allclose(gg.expected_spend(s),
                               lt.conditional_expected_average_profit(s["frequency"], s["monetary_value"]).to_numpy(),
                               rtol=1e-4)


@pytest.mark.parametrize("model", [BetaGeo, ModifiedBetaGeo, ParetoNBD])
def test_conditional_pmf_sums_to_one_and_matches_mean(cdnow_summary: pd.DataFrame, model: type) -> None:
    s = cdnow_summary.iloc[:200]
    m = model().fit(cdnow_summary)
    probs = np.array([m.prob_purchases(n, 39.0, s) for n in range(80)])
    np.testing.assert_allclose(probs.sum(axis=0), 1.0, atol=1e-6)
    np.testing.assert_allclose((probs * np.arange(80)[:, None]).sum(axis=0), m.expected_purchases(39.0, s),
                               rtol=1e-4, atol=1e-6)


def test_holdout_totals_are_close_to_actual(cdnow_summary: pd.DataFrame) -> None:
    """BG/NBD predicts the 39-week holdout total of the sample within 15% (1,653 against 1,882)."""
    bg = BetaGeo().fit(cdnow_summary)
    predicted = bg.expected_purchases(cdnow_summary["duration_holdout"].to_numpy(), cdnow_summary).sum()
    actual = cdnow_summary["frequency_holdout"].sum()
    assert abs(predicted / actual - 1) < 0.15
