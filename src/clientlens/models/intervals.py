"""Per-customer prediction intervals for purchases and CLV, with parameter uncertainty.

For a fitted transaction model, :func:`purchase_intervals` gives each customer's ``level`` (80%)
interval of the number of purchases Y(t) in the next ``t`` time units: the ``(1 - level) / 2``
and ``(1 + level) / 2`` quantiles of the predictive distribution

    P(Y(t) = n | history) = mean over draws theta_d of P(Y(t) = n | history, theta_d),

the model's conditional pmf (``prob_purchases``) averaged over ``draws`` parameter draws from the
normal approximation of the fit's (penalised / prior) log-likelihood in log-parameters (mean: the
fitted log-parameters; covariance: the inverse numeric Hessian, the Laplace approximation). The
draws are deterministic (``seed``). The counts are whole numbers, so an interval covers at least
``level`` of the predictive probability.

:func:`clv_interval` scales each customer's CLV by the quantiles of her purchases over the CLV
horizon relative to her expected purchases there: the spend per purchase is held at its
(Gamma-Gamma) expectation, so the interval carries the uncertainty of the purchase count (the
larger part) but not that of the spend.
"""

from __future__ import annotations

import copy
from typing import Any

import numpy as np

from clientlens.errors import ModelError
from clientlens.models._base import TransactionModel, unique_rows
from clientlens.models._data import compress_rows, frt_arrays, make_design, worth_compressing
from clientlens.models._optim import hessian

#: Most purchase counts a pmf is summed over (the upper quantile stops the loop first).
MAX_COUNT = 2000


def parameter_draws(model: TransactionModel, summary: Any, draws: int, seed: int = 0) -> list[np.ndarray]:
    """``draws`` parameter vectors from the Laplace approximation around the fit (the fitted
    parameters themselves when ``draws`` is 0 or the Hessian is not positive definite)."""
    point = model._pvec()
    if draws <= 0:
        return [point]
    x, tx, T = frt_arrays(summary)
    d = make_design(x, tx, T, np.ones(len(x)))
    n = d.n_customers
    strength = float(getattr(model, "fit_info_", {}).get("prior_strength", 0.0))
    vg = model._objective(d, float(getattr(model, "penalizer_coef", 0.0)), strength, n)
    theta = np.log(point)
    H = hessian(vg, theta) * n  # of the total negative log-likelihood
    try:
        cov = np.linalg.inv((H + H.T) / 2)
        chol = np.linalg.cholesky(cov)
    except np.linalg.LinAlgError:
        return [point]
    rng = np.random.default_rng(seed)
    z = rng.standard_normal((draws, len(theta)))
    return [np.exp(theta + chol @ zi) for zi in z]


def _with_params(model: TransactionModel, params: np.ndarray) -> TransactionModel:
    m = copy.copy(model)
    m.params_ = {k: float(v) for k, v in zip(model.param_names, params, strict=True)}
    return m


def purchase_intervals(model: TransactionModel, summary: Any, t: float, *, level: float = 0.8, draws: int = 20,
                       seed: int = 0, with_mass: bool = False) -> tuple[np.ndarray, ...]:
    """(low, high) per summary row: the ``level`` interval of the purchases in the next ``t``;
    with ``with_mass`` also the predictive probability inside it (>= ``level``: counts are whole)."""
    if not 0 < level < 1:
        raise ModelError(f"level must be between 0 and 1, got {level!r}")
    x, tx, T = frt_arrays(summary)
    if len(x) == 0:
        return (np.zeros(0), np.zeros(0), np.zeros(0)) if with_mass else (np.zeros(0), np.zeros(0))
    if worth_compressing(T):
        xu, txu, Tu, inverse = compress_rows(x, tx, T)
    else:
        xu, txu, Tu, inverse = x, tx, T, np.arange(len(x))
    models = [_with_params(model, p) for p in parameter_draws(model, summary, draws, seed)]
    q_lo, q_hi = (1 - level) / 2, (1 + level) / 2
    cdf = np.zeros(len(xu))
    below = np.zeros(len(xu))  # predictive P(Y < low)
    lo = np.full(len(xu), -1.0)
    hi = np.full(len(xu), -1.0)
    active = np.arange(len(xu))
    for count in range(MAX_COUNT + 1):
        rows = unique_rows(xu[active], txu[active], Tu[active])  # only the rows whose interval is open
        p = np.clip(np.mean([m.prob_purchases(count, t, rows) for m in models], axis=0), 0.0, 1.0)
        before = cdf[active].copy()
        cdf[active] += p
        start = (lo[active] < 0) & (cdf[active] >= q_lo - 1e-12)
        lo[active[start]] = count
        below[active[start]] = before[start]
        done = cdf[active] >= q_hi - 1e-12
        hi[active[done]] = count
        active = active[~done]
        if not len(active):
            break
    hi = np.where(hi < 0, MAX_COUNT, hi)
    lo = np.where(lo < 0, hi, lo)
    if with_mass:
        return lo[inverse], hi[inverse], (cdf - below)[inverse]
    return lo[inverse], hi[inverse]


def clv_interval(clv: np.ndarray, expected: np.ndarray, low: np.ndarray, high: np.ndarray
                 ) -> tuple[np.ndarray, np.ndarray]:
    """CLV scaled by the purchase-count interval over the CLV horizon relative to the expected
    count (0 where nothing is expected)."""
    with np.errstate(divide="ignore", invalid="ignore"):
        ratio_lo = np.where(expected > 0, low / expected, 0.0)
        ratio_hi = np.where(expected > 0, high / expected, 0.0)
    return clv * ratio_lo, clv * ratio_hi


__all__ = ["clv_interval", "parameter_draws", "purchase_intervals"]
