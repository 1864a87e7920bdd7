"""BG/NBD and MBG/NBD expectations against numerical quadrature, a + b < 1, a < 1 and b < 1 included.

The references integrate over the drop-out probability p with scipy.integrate.quad (the purchase
rate integrated out in closed form), independently of the hypergeometric formulas of the models:
E[X(t)] = E_p[(1 - (alpha/(alpha+pt))^r)/p] for a new customer, and for a customer with history
(x, t_x, T) the posterior ratio of the likelihood's "still alive" part times that expectation.
"""

from __future__ import annotations

import itertools
import warnings

import numpy as np
import pandas as pd
import pytest
from scipy import integrate
from scipy.special import betaln

from clientlens.models import BetaGeo, ModifiedBetaGeo
from clientlens.models.simulate import simulate_bg_nbd


def beta_integral(g, a: float, b: float, scale: float = 1.0) -> float:  # type: ignore[no-untyped-def]
    """int_0^1 p^(a-1) (1-p)^(b-1) g(p) dp / B(a, b); ``scale`` marks where g changes (p ~ scale)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        top = np.log(0.5)
        bottom = top - 60.0 / a
        pts = [s for s in (np.log(scale) + k for k in (-3.0, 0.0, 3.0)) if bottom < s < top]
        lo = integrate.quad(lambda s: np.exp(a * s) * (1 - np.exp(s)) ** (b - 1) * g(np.exp(s)), bottom, top,
                            points=pts or None, limit=500, epsabs=0, epsrel=1e-12)[0]
        hi = integrate.quad(lambda v: (1 - v ** (1 / b)) ** (a - 1) * g(1 - v ** (1 / b)) / b, 0, 0.5**b,
                            limit=500, epsabs=0, epsrel=1e-12)[0]
    return float((lo + hi) / np.exp(betaln(a, b)))


def one_minus_pow_over_p(r: float, scale: float, t: float):  # type: ignore[no-untyped-def]
    """p -> (1 - (scale/(scale + p t))^r) / p, with its limit r t / scale at p = 0."""
    return lambda p: -np.expm1(-r * np.log1p(p * t / scale)) / p if p > 0 else r * t / scale


def quad_expected_new(t: float, r: float, alpha: float, a: float, b: float, modified: bool) -> float:
    g = one_minus_pow_over_p(r, alpha, t)
    if modified:  # alive after the first purchase with probability 1 - p
        return beta_integral(lambda p: (1 - p) * g(p), a, b, alpha / t)
    return beta_integral(g, a, b, alpha / t)


def quad_conditional(t: float, x: float, tx: float, T: float, r: float, alpha: float, a: float, b: float,
                     modified: bool) -> float:
    k = 1.0 if modified else 0.0
    rx = r + x
    g = one_minus_pow_over_p(rx, alpha + T, t)
    ratio = ((alpha + T) / (alpha + tx)) ** rx
    num = beta_integral(lambda p: (1 - p) ** (x + k) * g(p), a, b, (alpha + T) / t)
    has_second = x > 0 or modified
    den = beta_integral(lambda p: (1 - p) ** (x + k) + (p * (1 - p) ** (x + k - 1) * ratio if has_second else 0.0),
                        a, b)
    return num / den


PARAMS = list(itertools.product([0.05, 0.25, 2.0], [0.5, 4.0, 60.0], [0.05, 0.2, 0.9, 1.0, 3.0],
                                [0.05, 0.5, 1.0, 6.0]))
HORIZONS = np.array([0.01, 1.0, 39.0, 400.0])


@pytest.mark.parametrize("model", [BetaGeo, ModifiedBetaGeo])
def test_unconditional_expectation_matches_quadrature(model: type) -> None:
    modified = model is ModifiedBetaGeo
    worst = 0.0
    for r, alpha, a, b in PARAMS:
        m = model()
        m.params_ = {"r": r, "alpha": alpha, "a": a, "b": b}
        got = m.expected_purchases_new(HORIZONS)
        want = np.array([quad_expected_new(t, r, alpha, a, b, modified) for t in HORIZONS])
        rel = np.abs(got - want) / np.maximum(want, 1e-12)
        worst = max(worst, float(rel.max()))
        assert np.all(rel < 1e-6), (r, alpha, a, b, got, want)
    assert worst < 1e-6


HISTORIES = [(0.0, 0.0, 20.0), (1.0, 3.0, 30.0), (4.0, 18.0, 20.0), (25.0, 50.0, 52.0)]


@pytest.mark.parametrize("model", [BetaGeo, ModifiedBetaGeo])
def test_conditional_expectation_matches_quadrature(model: type) -> None:
    modified = model is ModifiedBetaGeo
    df = pd.DataFrame(HISTORIES, columns=["frequency", "recency", "T"])
    grid = [p for p in PARAMS if p[1] != 60.0]
    for r, alpha, a, b in grid:
        m = model()
        m.params_ = {"r": r, "alpha": alpha, "a": a, "b": b}
        for t in (1.0, 39.0, 300.0):
            got = m.expected_purchases(t, df)
            want = np.array([quad_conditional(t, *h, r, alpha, a, b, modified) for h in HISTORIES])
            np.testing.assert_allclose(got, want, rtol=1e-6, atol=1e-12, err_msg=str((r, alpha, a, b, t)))


def test_published_case_a_plus_b_below_one() -> None:
    """r=0.25, alpha=4, a=0.2, b=0.5; a one-time buyer (x=0, T=20) over 39 weeks: 0.339 (quadrature)."""
    m = BetaGeo()
    m.params_ = {"r": 0.25, "alpha": 4.0, "a": 0.2, "b": 0.5}
    one = pd.DataFrame({"frequency": [0.0], "recency": [0.0], "T": [20.0]})
    got = float(m.expected_purchases(39.0, one)[0])
    assert got == pytest.approx(quad_conditional(39.0, 0.0, 0.0, 20.0, 0.25, 4.0, 0.2, 0.5, False), rel=1e-8)
    assert round(got, 3) == 0.339
    assert np.all(m.expected_purchases_new(np.array([1.0, 39.0, 78.0])) > 0)


@pytest.mark.parametrize("model", [BetaGeo, ModifiedBetaGeo])
def test_simulated_base_with_a_plus_b_below_one_predicts_its_holdout(model: type) -> None:
    """20,000 customers from r=0.25, alpha=4, a=0.2, b=0.5: the fitted model's holdout total is
    within 10% of what the simulated customers bought."""
    s = simulate_bg_nbd(20_000, r=0.25, alpha=4.0, a=0.2, b=0.5, modified=model is ModifiedBetaGeo, seed=14)
    m = model().fit(s)
    pred = m.expected_purchases(s["duration_holdout"].to_numpy(), s).sum()
    actual = s["frequency_holdout"].sum()
    assert abs(pred / actual - 1) < 0.10, (m.params_, pred, actual)
