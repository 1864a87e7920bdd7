"""MBG/CNBD-k: the MBG/NBD with Erlang-k inter-purchase times (regular shoppers).

Reutterer, T., Platzer, M. & Schroeder, N. (2020). Leveraging purchase regularity for predicting
customer behavior the easy way. *International Journal of Research in Marketing* 38(1), 194-215;
Platzer, M. & Reutterer, T. (2016). Ticking away the moments: timing regularity helps to better
predict customer activity. *Marketing Science* 35(5), 779-799. Reference implementation: the R
package BTYDplus (``mbgcnbd.*``); this module is written from the model's definition.

While active, a customer's purchases are every k-th event of a Poisson process with rate
lambda ~ Gamma(r, alpha) (so inter-purchase times are Erlang-k: k = 1 is the MBG/NBD, larger k
more regular); after every purchase, the first one included, she drops out with probability
p ~ Beta(a, b). With ``k=None`` the fit tries k = 1, 2, ... (up to :data:`MAX_K`, stopping once
the log-likelihood has fallen twice in a row, as BTYDplus does) and keeps the k of the highest
log-likelihood; comparing k needs the sum over each customer's log inter-purchase times, the
summary's optional ``litt`` column (:func:`clientlens.models.regularity.add_litt`). Without it
``k=None`` fits k = 1 (the likelihoods of different k are then not comparable).

Predictions are exact (not BTYDplus's BG/NBD-based approximation with a bias correction): given
the history, the customer is alive with probability P(alive); if alive, the Poisson events since
her last purchase number j in {0, ..., k-1} with posterior weights w_j, lambda | j ~ Gamma(r + kx
+ j, alpha + T) and p ~ Beta(a, b + x + 1), independently. The m-th future purchase happens by T +
t when the future events N(t) reach mk - j (N negative binomial once lambda is integrated out:
P(N >= n) is a regularised beta function) and the customer survived the m - 1 earlier dropouts
(E[(1-p)^(m-1)] = B(a, b'+m-1)/B(a, b')), so E[Y(t)] = P(alive) sum_j w_j sum_m P(N >= mk-j)
B(a, b'+m-1)/B(a, b'), summed until the terms fall below 1e-12 of the total, and P(Y >= n)
is the same n-th term.
"""

from __future__ import annotations

from math import lgamma
from typing import Any, ClassVar

import numpy as np
from scipy.special import betainc, betaln, digamma, gammaln

from clientlens.errors import ModelError
from clientlens.models._base import TransactionModel, broadcast_t, compressed
from clientlens.models._data import Design, frt_arrays
from clientlens.models._special import dsum

#: Largest k of the grid search.
MAX_K = 12
#: Relative size of the last term of the series over future purchases.
SERIES_TOL = 1e-12
#: Most future purchases summed (a customer buying every day for 10 years is within it).
MAX_TERMS = 20_000


def _litt(data: Any, n: int) -> np.ndarray | None:
    """The summary's ``litt`` column (sum of log inter-purchase times), if it has one."""
    cols = getattr(data, "columns", None)
    if cols is None or "litt" not in list(cols):
        return None
    values = np.asarray(data["litt"], dtype=float)
    if values.shape != (n,) or not np.all(np.isfinite(values)):
        bad = np.flatnonzero(~np.isfinite(values))
        raise ModelError(f"column 'litt' must be finite; not so at row {int(bad[0]) if len(bad) else '?'}")
    return values


class ModifiedBetaGeoCNBD(TransactionModel):
    """MBG/CNBD-k. ``params_``: ``r``, ``alpha`` (time unit of the summary; the rate of the
    Poisson events, k per purchase), ``a``, ``b``; ``k_`` the regularity (1 = MBG/NBD)."""

    param_names: ClassVar[tuple[str, ...]] = ("r", "alpha", "a", "b")
    time_params: ClassVar[tuple[str, ...]] = ("alpha",)
    _gtol: ClassVar[float] = 1e-8

    def __init__(self, k: int | None = None, penalizer_coef: float = 0.0, prior_strength: float = 0.0) -> None:
        self.k = k
        self.penalizer_coef = penalizer_coef
        self.prior_strength = prior_strength

    @property
    def prior_centre(self) -> tuple[float, ...]:  # type: ignore[override]
        """MBG/NBD's CDNOW estimates, alpha divided by k (k events per purchase)."""
        k = getattr(self, "_k_fit", 1)
        return (0.525, 6.183 * 10 / 38.86 / k, 0.891, 1.614)

    # ------------------------------------------------------------------ fitting
    def _start(self, d: Design) -> np.ndarray:
        return np.array([1.0, dsum(d.T * d.w) / dsum(d.w) / self._k_fit, 1.0, 1.0])

    def _mean_nll(self, theta: np.ndarray, d: Design) -> tuple[float, np.ndarray]:  # type: ignore[override]
        ll, grad = _loglik_terms(np.exp(theta), d.x, d.tx, d.T, self._k_fit, with_grad=True)
        W = dsum(d.w)
        g = np.array([dsum(d.w * gi) for gi in grad]) * np.exp(theta)
        return -dsum(d.w * ll) / W, -g / W

    def fit(self, data: Any, weights: Any = None) -> ModifiedBetaGeoCNBD:
        """Fit on a summary (``frequency``, ``recency``, ``T``, optionally ``litt``). Returns ``self``."""
        x, tx, T = frt_arrays(data)
        litt = _litt(data, len(x))
        if self.k is not None:
            if isinstance(self.k, bool) or not isinstance(self.k, int | np.integer) or not 1 <= self.k <= 100:
                raise ModelError(f"k must be a whole number from 1 to 100 or None, got {self.k!r}")
            ks: list[int] = [int(self.k)]
        else:
            ks = list(range(1, MAX_K + 1)) if litt is not None else [1]
        w = np.ones(len(x)) if weights is None else np.asarray(weights, dtype=float)
        best: tuple[float, int, dict[str, Any]] | None = None
        lls: dict[int, float] = {}
        for k in ks:
            self._k_fit = k
            try:
                super().fit(data, weights)
            except ModelError:
                if best is None:
                    raise
                break
            ll = -float(np.sum(w * -_loglik_terms(self._pvec(), x, tx, T, k)[0]))  # on the data's own scale
            if litt is not None:
                ll += float(np.sum(w * ((k - 1) * litt - x * lgamma(k))))
            lls[k] = ll
            state = {key: getattr(self, key) for key in ("params_", "standard_errors_", "n_customers_", "fit_info_")}
            if best is None or ll > best[0]:
                best = (ll, k, state)
            if len(lls) >= 3 and lls[k] < lls[k - 1] < lls[k - 2]:
                break
        assert best is not None
        ll, k, state = best
        for key, value in state.items():
            setattr(self, key, value)
        self._k_fit = k
        self.k_ = k
        self.log_likelihood_ = ll
        self.log_likelihood_by_k_ = lls
        return self

    # ------------------------------------------------------------------ predictions
    def _k(self) -> int:
        self._check_fitted()
        return int(self.k_)

    def _posterior(self, summary: Any) -> tuple[np.ndarray, ...]:
        """P(alive), the weights w_j (rows x k), r + kx + j, alpha + T, b + x + 1 of each row."""
        r, alpha, a, b = self._pvec()
        k = self._k()
        x, tx, T = frt_arrays(summary)
        logs = _log_terms(np.array([r, alpha, a, b]), x, tx, T, k)  # (rows, k + 1): alive j = 0..k-1, dead
        top = logs.max(axis=1, keepdims=True)
        e = np.exp(logs - top)
        total = e.sum(axis=1)
        alive = e[:, :k].sum(axis=1) / total
        wj = e[:, :k] / np.maximum(e[:, :k].sum(axis=1, keepdims=True), 1e-300)
        rj = r + k * x[:, None] + np.arange(k)[None, :]
        return alive, wj, rj, alpha + T, b + x + 1.0

    @compressed
    def p_alive(self, summary: Any) -> np.ndarray:
        """P(alive at T | x, t_x, T)."""
        return self._posterior(summary)[0]

    def _tail_terms(self, t: np.ndarray, summary: Any, n_max: int | None) -> tuple[np.ndarray, list[np.ndarray]]:
        """P(alive) and, for m = 1, 2, ..., P(Y(t) >= m | alive) per row (up to ``n_max`` terms or
        until they are negligible)."""
        _, _, a, _ = self._pvec()
        k = self._k()
        alive, wj, rj, aT, bp = self._posterior(summary)
        q = (t / (aT + t))[:, None]
        base = betaln(a, bp)
        terms: list[np.ndarray] = []
        total = np.zeros(len(alive))
        limit = MAX_TERMS if n_max is None else n_max
        for m in range(1, limit + 1):
            n_events = m * k - np.arange(k)[None, :]
            with np.errstate(all="ignore"):
                tail = np.where(q > 0, betainc(n_events, rj, q), 0.0)
            term = (wj * tail).sum(axis=1) * np.exp(betaln(a, bp + m - 1) - base)
            terms.append(term)
            total += term
            if n_max is None and np.all(term <= SERIES_TOL * np.maximum(total, 1e-300)):
                break
        return alive, terms

    @compressed
    def expected_purchases(self, t: Any, summary: Any) -> np.ndarray:
        """E[Y(t) | x, t_x, T]: expected purchases in (T, T + t]."""
        self._check_fitted()
        x, _, _ = frt_arrays(summary)
        tt = broadcast_t(t, len(x))
        alive, terms = self._tail_terms(tt, summary, None)
        return alive * np.sum(terms, axis=0)

    @compressed
    def prob_purchases(self, n: int, t: Any, summary: Any) -> np.ndarray:
        """P(Y(t) = n | x, t_x, T)."""
        from clientlens.models._base import check_count

        n = check_count(n)
        self._check_fitted()
        x, _, _ = frt_arrays(summary)
        tt = broadcast_t(t, len(x))
        alive, terms = self._tail_terms(tt, summary, n + 1)
        ge = [np.ones(len(x)), *terms]  # P(Y >= m | alive), m = 0 .. n + 1
        p_alive_n = ge[n] - ge[n + 1]
        return alive * p_alive_n + (1 - alive) * (n == 0)

    def expected_purchases_new(self, t: float | np.ndarray) -> np.ndarray:
        """E[X(t)] for a customer just acquired (x = 0, t_x = T = 0)."""
        tt = np.atleast_1d(np.asarray(t, dtype=float))
        zero = np.zeros(len(tt))
        from clientlens.models._base import unique_rows

        return self.expected_purchases.__wrapped__(self, tt, unique_rows(zero, zero, zero))  # type: ignore[attr-defined]


def _log_terms(params: np.ndarray, x: np.ndarray, tx: np.ndarray, T: np.ndarray, k: int) -> np.ndarray:
    """Per row: log of the likelihood's alive terms (j = 0..k-1 Poisson events since the last
    purchase) and of its dead term, without the regularity term (k-1) litt - x log (k-1)!."""
    return _loglik_terms(params, x, tx, T, k, parts=True)[0]


def _loglik_terms(params: np.ndarray, x: np.ndarray, tx: np.ndarray, T: np.ndarray, k: int, *,
                  with_grad: bool = False, parts: bool = False) -> tuple[np.ndarray, list[np.ndarray]]:
    """Per-row log-likelihood (without the litt term) and, with ``with_grad``, its gradient in
    (r, alpha, a, b); with ``parts`` the (rows, k + 1) matrix of the log terms instead."""
    r, alpha, a, b = (float(v) for v in params)
    u = r + k * x
    j = np.arange(k, dtype=float)[None, :]
    gap = (T - tx)[:, None]
    log_gap = np.log(np.where(gap > 0, gap, 1.0))
    j_log_gap = np.where(gap > 0, j * log_gap, np.where(j > 0, -np.inf, 0.0))
    uj = u[:, None] + j
    beta_alive = betaln(a, b + x + 1) - betaln(a, b)
    beta_dead = betaln(a + 1, b + x) - betaln(a, b)
    common = -gammaln(r) + r * np.log(alpha)
    alive = (beta_alive[:, None] + gammaln(uj) + common - uj * np.log(alpha + T)[:, None]
             + j_log_gap - gammaln(j + 1))
    dead = beta_dead + gammaln(u) + common - u * np.log(alpha + tx)
    logs = np.concatenate([alive, dead[:, None]], axis=1)
    if parts:
        return logs, []
    top = logs.max(axis=1, keepdims=True)
    e = np.exp(logs - top)
    s = e.sum(axis=1, keepdims=True)
    ll = (top + np.log(s))[:, 0]
    if not with_grad:
        return ll, []
    wts = e / s
    wa, wd = wts[:, :k], wts[:, k]
    ab = digamma(a + b)
    d_r = ((wa * (digamma(uj) - np.log(alpha + T)[:, None])).sum(axis=1)
           + wd * (digamma(u) - np.log(alpha + tx)) - digamma(r) + np.log(alpha))
    d_alpha = r / alpha - (wa * uj).sum(axis=1) / (alpha + T) - wd * u / (alpha + tx)
    pa = wa.sum(axis=1)
    d_a = pa * (ab - digamma(a + b + x + 1)) + wd * (digamma(a + 1) - digamma(a) + ab - digamma(a + b + x + 1))
    d_b = (pa * (digamma(b + x + 1) - digamma(a + b + x + 1) - digamma(b) + ab)
           + wd * (digamma(b + x) - digamma(a + b + x + 1) - digamma(b) + ab))
    return ll, [d_r, d_alpha, d_a, d_b]


__all__ = ["MAX_K", "ModifiedBetaGeoCNBD"]
