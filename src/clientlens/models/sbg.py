"""The shifted-beta-geometric (sBG) model of contractual retention, Fader & Hardie (2007, 2010).

Fader, P. S. & Hardie, B. G. S. (2007). How to Project Customer Retention. *Journal of Interactive
Marketing* 21(1), 76-90 (cited FH07); (2010). Customer-Base Valuation in a Contractual Setting: The
Perils of Ignoring Heterogeneity. *Marketing Science* 29(1), 85-93 (cited FH10).

Each customer churns at the end of a period with probability theta ~ Beta(alpha, beta):
P(T = t) = B(alpha+1, beta+t-1) / B(alpha, beta) (FH07 eq. 7), S(t) = B(alpha, beta+t) / B(alpha, beta)
(eq. 8), retention r_t = (beta+t-1) / (alpha+beta+t-1) (eq. 4).

>>> sbg = ShiftedBetaGeometric().fit([1000, 631, 468, 382, 326, 289, 262, 241])
>>> round(sbg.params_["alpha"], 3), round(sbg.params_["beta"], 3)
(0.704, 1.182)
"""

from __future__ import annotations

from typing import Any, ClassVar

import numpy as np
from scipy.special import betaln, digamma, hyp2f1

from clientlens.errors import MissingColumnsError, ModelError
from clientlens.models._base import BaseModel, check_penalizer
from clientlens.models._data import as_float, column_names, get_column
from clientlens.models._optim import minimise, penalised, standard_errors
from clientlens.models._special import dsum


def survival_counts_to_churn(alive: Any) -> tuple[np.ndarray, np.ndarray, float]:
    """Survival counts per period (``alive[0]`` at the start, then at the end of each period) as
    (periods 1..n, customers lost in each, customers still alive after period n)."""
    a = as_float(alive, "survival counts")
    if a.ndim != 1 or len(a) < 2:
        raise ModelError("survival counts need the starting cohort and at least one later period")
    if np.any(~np.isfinite(a)) or np.any(a < 0) or np.any(np.diff(a) > 0):
        raise ModelError("survival counts must be finite, >= 0 and never increase from one period to the next")
    lost = -np.diff(a)
    return np.arange(1, len(a), dtype=float), lost, float(a[-1])


def _tenure_to_churn(data: Any) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Per-customer ``tenure`` (periods observed, whole >= 1) and ``churned`` (bool) -> counts."""
    missing = [c for c in ("tenure", "churned") if c not in column_names(data)]
    if missing:
        raise MissingColumnsError(f"sBG input lacks column(s) {', '.join(missing)}; give survival counts or "
                                  "one row per customer with tenure (periods) and churned (bool)")
    ten = as_float(get_column(data, "tenure"), "tenure")
    churned = np.asarray(get_column(data, "churned")).astype(bool)
    bad = ~np.isfinite(ten) | (ten < 1) | (ten != np.round(ten))
    if bad.any():
        raise ModelError(f"column 'tenure' must be whole numbers >= 1; not so at row {int(np.flatnonzero(bad)[0]) + 1}")
    periods = np.arange(1, int(ten.max()) + 1, dtype=float)
    lost = np.bincount(ten[churned].astype(int), minlength=len(periods) + 1)[1:].astype(float)
    alive_at = np.bincount(ten[~churned].astype(int), minlength=len(periods) + 1)[1:].astype(float)
    return periods, lost, alive_at


def _mean_nll(theta: np.ndarray, t: np.ndarray, lost: np.ndarray, alive: np.ndarray) -> tuple[float, np.ndarray]:
    """FH07 eq. 9 (generalised to customers censored at any period): sum over t of
    lost_t ln P(T = t) + alive_t ln S(t)."""
    al, be = np.exp(theta)
    n = lost.sum() + alive.sum()
    lp = betaln(al + 1, be + t - 1) - betaln(al, be)
    ls = betaln(al, be + t) - betaln(al, be)
    ll = float(dsum(lost * lp)) + float(dsum(alive * ls))
    dab = digamma(al + be)
    g_al = lost * (digamma(al + 1) - digamma(al + be + t) - digamma(al) + dab) + alive * (
        digamma(al) - digamma(al + be + t) - digamma(al) + dab)
    g_be = lost * (digamma(be + t - 1) - digamma(al + be + t) - digamma(be) + dab) + alive * (
        digamma(be + t) - digamma(al + be + t) - digamma(be) + dab)
    return -ll / n, -np.array([dsum(g_al) * al, dsum(g_be) * be]) / n


class ShiftedBetaGeometric(BaseModel):
    """sBG. ``params_``: ``alpha``, ``beta``.

    ``fit(survival_counts)`` with the cohort size then the survivors at the end of each period
    (a list, array or one-column frame), or ``fit(frame)`` with one row per customer holding
    ``tenure`` (periods observed) and ``churned`` (whether the customer left at the end of it).
    """

    param_names: ClassVar[tuple[str, ...]] = ("alpha", "beta")

    def __init__(self, penalizer_coef: float = 0.0) -> None:
        self.penalizer_coef = penalizer_coef

    def fit(self, data: Any) -> ShiftedBetaGeometric:
        """Fit on survival counts or per-customer tenure and churn flag. Returns self."""
        check_penalizer(self.penalizer_coef)
        cols = None
        try:
            cols = column_names(data)
        except ModelError:
            cols = None
        if cols is not None and "tenure" in cols:
            t, lost, alive = _tenure_to_churn(data)
        else:
            values = get_column(data, cols[0]) if cols is not None and len(cols) == 1 else data
            t, lost, last = survival_counts_to_churn(values)
            alive = np.zeros_like(lost)
            alive[-1] = last
        n = float(lost.sum() + alive.sum())
        if n <= 0 or lost.sum() == 0:
            raise ModelError("sBG needs at least one churned customer to estimate churn")
        vg = penalised(lambda th: _mean_nll(th, t, lost, alive), float(self.penalizer_coef))
        res = minimise(vg, np.array([1.0, 1.0]), n_obs=n, what="ShiftedBetaGeometric")
        f, _ = _mean_nll(np.log(res.params), t, lost, alive)
        self._set_fit(res.params, -f * n, standard_errors(res.params, res.log_param_cov), n)
        return self

    def survival(self, t: Any) -> np.ndarray:
        """S(t) = B(alpha, beta+t) / B(alpha, beta) (FH07 eq. 8): share of a cohort alive after t periods."""
        al, be = self._pvec()
        tt = np.atleast_1d(np.asarray(t, dtype=float))
        return np.asarray(np.exp(betaln(al, be + tt) - betaln(al, be)), dtype=float)

    def retention_rate(self, t: Any) -> np.ndarray:
        """r_t = (beta + t - 1) / (alpha + beta + t - 1) (FH07 eq. 4): renewal rate in period t >= 1."""
        al, be = self._pvec()
        tt = np.atleast_1d(np.asarray(t, dtype=float))
        return np.asarray((be + tt - 1) / (al + be + tt - 1), dtype=float)

    def churn_probability(self, t: Any) -> np.ndarray:
        """P(T = t) = B(alpha+1, beta+t-1) / B(alpha, beta) (FH07 eq. 7)."""
        al, be = self._pvec()
        tt = np.atleast_1d(np.asarray(t, dtype=float))
        return np.asarray(np.exp(betaln(al + 1, be + tt - 1) - betaln(al, be)), dtype=float)

    def derl(self, discount_rate: float, renewals: Any = 0) -> np.ndarray:
        """Discounted expected residual lifetime (FH10 eq. 6) of a customer who has made ``renewals``
        = n - 1 renewals, just before her next renewal decision, in periods of payments:
        DERL = (beta+n-1)/(alpha+beta+n-1) 2F1(1, beta+n; alpha+beta+n; 1/(1+d)).
        Multiply by the payment per period for the residual value."""
        if discount_rate <= 0:
            raise ModelError("discount_rate must be > 0 (the sum does not converge otherwise)")
        al, be = self._pvec()
        n = np.atleast_1d(np.asarray(renewals, dtype=float)) + 1
        return np.asarray((be + n - 1) / (al + be + n - 1) * hyp2f1(1.0, be + n, al + be + n, 1 / (1 + discount_rate)),
                          dtype=float)

    def del_new(self, discount_rate: float) -> float:
        """Discounted expected lifetime of a customer just acquired (FH10 eq. 4), the first payment
        included: 2F1(1, beta; alpha+beta; 1/(1+d))."""
        al, be = self._pvec()
        return float(hyp2f1(1.0, be, al + be, 1 / (1 + discount_rate)))
