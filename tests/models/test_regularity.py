"""MBG/CNBD-k, the regularity statistic and the prediction intervals (issue 14)."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from scipy import integrate, stats

from clientlens.datasets import load_cdnow_sample
from clientlens.errors import ModelError
from clientlens.features import rfm_summary
from clientlens.models import BetaGeo, ModifiedBetaGeo, ModifiedBetaGeoCNBD
from clientlens.models.intervals import purchase_intervals
from clientlens.models.regularity import add_litt, wheat_morrison
from clientlens.models.simulate import simulate_bg_nbd


def _sample() -> pd.DataFrame:
    return rfm_summary(load_cdnow_sample(), calibration_end="1997-09-30", observation_end="1998-06-30")


def simulate_cnbd(n: int, *, k: int, r: float, alpha: float, a: float, b: float, calibration: float = 52.0,
                  holdout: float = 26.0, seed: int = 0) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(summary with litt and the holdout, the event log) of MBG/CNBD-k customers (continuous times)."""
    rng = np.random.default_rng(seed)
    first = rng.uniform(0, 12, n)
    lam = rng.gamma(r, 1 / alpha, n)
    p = rng.beta(a, b, n)
    rows = []
    for i in range(n):
        t, times = first[i], [first[i]]
        if rng.random() < p[i]:  # MBG: may drop out at the first purchase
            pass
        else:
            while True:
                t += rng.gamma(k, 1 / lam[i])
                if t >= calibration + holdout:
                    break
                times.append(t)
                if rng.random() < p[i]:
                    break
        ts = np.array(times)
        cal = ts[ts < calibration]
        gaps = np.diff(cal)
        rows.append((len(cal) - 1, cal[-1] - cal[0], calibration - cal[0], float(np.log(gaps).sum()),
                     int((ts >= calibration).sum())))
    s = pd.DataFrame(rows, columns=["frequency", "recency", "T", "litt", "frequency_holdout"])
    s["duration_holdout"] = holdout
    return s, s


def test_k1_equals_mbg_nbd() -> None:
    s = _sample()
    mbg = ModifiedBetaGeo().fit(s)
    c = ModifiedBetaGeoCNBD(k=1).fit(s)
    for key in mbg.params_:
        assert c.params_[key] == pytest.approx(mbg.params_[key], rel=1e-6)
    assert c.log_likelihood_ == pytest.approx(mbg.log_likelihood_, rel=1e-9)
    np.testing.assert_allclose(c.p_alive(s), mbg.p_alive(s), atol=1e-9)
    np.testing.assert_allclose(c.expected_purchases(39, s), mbg.expected_purchases(39, s), atol=1e-8)
    for n in (0, 1, 4):
        np.testing.assert_allclose(c.prob_purchases(n, 39, s), mbg.prob_purchases(n, 39, s), atol=1e-9)
    np.testing.assert_allclose(c.expected_purchases_new([1, 10, 39]), mbg.expected_purchases_new([1, 10, 39]),
                               rtol=1e-8)


@pytest.mark.slow
def test_conditional_expectation_against_quadrature() -> None:
    """E[Y(t) | x, t_x, T] of a k = 3 model against direct integration over lambda and p."""
    k, r, alpha, a, b = 3, 1.2, 2.0, 0.7, 3.0
    m = ModifiedBetaGeoCNBD(k=k)
    m.params_ = {"r": r, "alpha": alpha, "a": a, "b": b}
    m.k_ = k
    x, tx, T, t = 2, 5.0, 9.0, 6.0
    s = pd.DataFrame({"frequency": [x], "recency": [tx], "T": [T]})

    def joint(lam: float, p: float) -> tuple[float, float]:
        """(likelihood x prior, that times E[Y | lam, p, history])."""
        prior = stats.gamma.pdf(lam, r, scale=1 / alpha) * stats.beta.pdf(p, a, b)
        base = lam ** (k * x) * np.exp(-lam * tx)  # litt terms are constant
        dead = p * (1 - p) ** x * base
        alive_j = [(1 - p) ** (x + 1) * base * np.exp(-lam * (T - tx)) * (lam * (T - tx)) ** j
                   / math.factorial(j) for j in range(k)]
        mm = np.arange(1, 40)
        ey = sum(w * float(np.sum(stats.poisson.sf(mm * k - j - 1, lam * t) * (1 - p) ** (mm - 1)))
                 for j, w in enumerate(alive_j))
        return prior * (dead + sum(alive_j)), prior * ey

    num = integrate.dblquad(lambda p, lam: joint(lam, p)[1], 0, 15, 0, 1, epsabs=1e-9)[0]
    den = integrate.dblquad(lambda p, lam: joint(lam, p)[0], 0, 15, 0, 1, epsabs=1e-9)[0]
    assert m.expected_purchases(t, s)[0] == pytest.approx(num / den, rel=1e-4)


def test_k_recovered_and_holdout_total_on_regular_simulated_base() -> None:
    s, _ = simulate_cnbd(3000, k=3, r=3.0, alpha=6.0, a=0.5, b=8.0, seed=2)
    c = ModifiedBetaGeoCNBD().fit(s)
    assert c.k_ == 3
    pred = c.expected_purchases(26.0, s)
    assert pred.sum() == pytest.approx(s["frequency_holdout"].sum(), rel=0.1)
    mbg = ModifiedBetaGeo().fit(s)
    from clientlens.models.validation import holdout_log_likelihood

    y = s["frequency_holdout"].to_numpy(dtype=float)
    dur = s["duration_holdout"].to_numpy(dtype=float)
    assert holdout_log_likelihood(c, s, y, dur).mean() > holdout_log_likelihood(mbg, s, y, dur).mean()


def test_without_litt_k_is_one_and_bad_k_is_refused() -> None:
    s = _sample()
    assert ModifiedBetaGeoCNBD().fit(s).k_ == 1
    with pytest.raises(ModelError, match="k must be"):
        ModifiedBetaGeoCNBD(k=0).fit(s)
    bad = s.assign(litt=np.nan)
    with pytest.raises(ModelError, match="litt"):
        ModifiedBetaGeoCNBD().fit(bad)


def test_wheat_morrison_and_litt() -> None:
    rng = np.random.default_rng(0)
    rows = []
    for c in range(2000):
        for shape, tag in ((1, "p"), (4, "r")):
            days = np.cumsum(np.maximum(1, np.round(rng.gamma(shape, 20 / shape, 4))))
            rows += [(f"{tag}{c}", pd.Timestamp("2024-01-01") + pd.Timedelta(days=float(d)), 1.0) for d in days]
    orders = pd.DataFrame(rows, columns=["customer_id", "order_date", "total"])
    k_poisson, n = wheat_morrison(orders, customers=[f"p{c}" for c in range(2000)])
    k_regular, _ = wheat_morrison(orders, customers=[f"r{c}" for c in range(2000)])
    assert n == 2000
    assert 0.8 < k_poisson < 1.3 and 3.0 < k_regular < 5.5
    summary = rfm_summary(orders, observation_end="2026-01-01")
    with_litt = add_litt(summary, orders, end="2026-01-01")
    one = orders[orders["customer_id"] == "r0"].sort_values("order_date")
    gaps = one["order_date"].diff().dt.days.dropna().to_numpy() / 7
    assert with_litt.loc["r0", "litt"] == pytest.approx(np.log(gaps).sum())


def test_cdnow_regularity_is_poisson_like() -> None:
    from clientlens.datasets.cdnow import load_cdnow_sample as load

    k, _ = wheat_morrison(load(), end="1997-09-30")
    assert 0.8 < k < 1.4
    s = add_litt(_sample(), load(), end="1997-09-30")
    assert ModifiedBetaGeoCNBD().fit(s).k_ == 1  # the choice on CDNOW stays the MBG/NBD


@pytest.mark.parametrize("model", [BetaGeo, ModifiedBetaGeoCNBD])
def test_interval_coverage_on_simulated_base(model: type) -> None:
    """80% intervals cover at least 80% of the holdout counts, and as much as they predict."""
    s = simulate_bg_nbd(4000, r=0.25, alpha=4.0, a=0.8, b=2.5, seed=3, whole_days=True)
    m = model().fit(s)
    lo, hi, mass = purchase_intervals(m, s, 39.0, draws=10, with_mass=True)
    y = s["frequency_holdout"].to_numpy()
    inside = float(np.mean((y >= lo) & (y <= hi)))
    assert np.all(lo <= hi) and np.all(mass >= 0.8 - 1e-9)
    assert inside >= 0.8
    assert inside == pytest.approx(float(mass.mean()), abs=0.03)
    heavy = s["frequency"].to_numpy() >= 5
    assert np.mean(hi[heavy] - lo[heavy]) > np.mean(hi[~heavy] - lo[~heavy])  # wider for heavier buyers


def test_parameter_uncertainty_widens_small_base_intervals() -> None:
    s = simulate_bg_nbd(300, r=0.25, alpha=4.0, a=0.8, b=2.5, seed=5)
    m = BetaGeo().fit(s)
    lo0, hi0, m0 = purchase_intervals(m, s, 39.0, draws=0, with_mass=True)
    lo1, hi1, m1 = purchase_intervals(m, s, 39.0, draws=40, with_mass=True)
    assert np.sum(hi1 - lo1) >= np.sum(hi0 - lo0)
