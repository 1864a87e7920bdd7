"""BG/NBD: the beta-geometric / negative binomial model of Fader, Hardie & Lee (2005a).

Fader, P. S., Hardie, B. G. S. & Lee, K. L. (2005). "Counting Your Customers" the Easy Way: An
Alternative to the Pareto/NBD Model. *Marketing Science* 24(2), 275-284 (cited as FHL below).

While active, a customer buys at Poisson rate lambda ~ Gamma(r, alpha); after each purchase she
drops out with probability p ~ Beta(a, b). :class:`~clientlens.models.ModifiedBetaGeo` (MBG/NBD)
reuses this module with a drop-out opportunity at time 0 as well.

>>> from clientlens.datasets import load_cdnow_sample
>>> from clientlens.features import rfm_summary
>>> s = rfm_summary(load_cdnow_sample(), observation_end="1997-09-30")
>>> bg = BetaGeo().fit(s)
>>> round(bg.params_["r"], 3), round(bg.log_likelihood_, 1)
(0.243, -9582.4)
"""

from __future__ import annotations

from typing import Any, ClassVar

import numpy as np
from scipy.special import betaln, digamma, expit, gammaln, hyp2f1

from clientlens.models._base import TransactionModel, broadcast_t, check_count, compressed
from clientlens.models._data import Design, frt_arrays
from clientlens.models._special import dsum, log_hyp2f1_euler, log_nb_pmf, nb_tail, one_minus_exp_signed


def bg_family_mean_nll(theta: np.ndarray, d: Design, modified: bool) -> tuple[float, np.ndarray]:
    """Mean negative log-likelihood and its gradient in log-parameters (FHL eq. 6; MBG: Batislam
    et al. 2007 eq. 3), evaluated on the distinct levels of x, t_x and T.

    log L = ln G(r+x) - ln G(r) + r ln alpha + ln B(a, b+x+k) - ln B(a, b) + A3 + softplus(D),
    A3 = -(r+x) ln(alpha+T), D = ln a - ln(b+x+k-1) + (r+x) (ln(alpha+T) - ln(alpha+t_x)),
    with k = 0 and the second term only for x > 0 (BG/NBD), k = 1 and always (MBG/NBD).
    Everything that depends on x only or T only is summed per level; only D is per row.
    """
    r, alpha, a, b = np.exp(theta)
    k = 1.0 if modified else 0.0
    st = d.level_sums
    xl, Tl = d.lx.values, d.lT.values
    W = st.W
    with np.errstate(all="ignore"):
        b1 = np.maximum(b + xl + k - 1, 1e-300)
        c4 = np.log(a) - np.log(b1)
        laT = np.log(alpha + Tl)
        lat = np.log(alpha + d.ltx.values)
        delta = laT[d.lT.ix] - lat[d.ltx.ix]
        D = c4[d.lx.ix] + (r + d.x) * delta
        wh = st.w_has_k[int(k)]  # weights of the rows that have the second term
        e = np.exp(-np.abs(D))  # one exponential for softplus(D) and expit(D)
        sp = np.maximum(D, 0.0) + np.log1p(e)
        w4 = wh * np.where(D >= 0, 1.0, e) / (1.0 + e)
    # log-likelihood: per-level parts + sum over rows of weight * softplus(D)
    ll = (dsum(st.wx * (gammaln(r + xl) - betaln(a, b) + betaln(a, b + xl + k))) - W * gammaln(r)
          + W * r * np.log(alpha) - dsum((r * st.wT + st.wxT) * laT) + dsum(wh * sp))
    s_w4 = dsum(w4)
    inv_aT = 1.0 / (alpha + Tl)
    g_r = (dsum(st.wx * digamma(r + xl)) - W * digamma(r) + W * np.log(alpha) - dsum(st.wT * laT)
           + dsum(w4 * delta))
    g_alpha = (W * r / alpha - dsum((r * st.wT + st.wxT) * inv_aT)
               + dsum(w4 * (r + d.x) * (inv_aT[d.lT.ix] - 1.0 / (alpha + d.tx))))
    dab = digamma(a + b)
    dabx = digamma(a + b + xl + k)
    g_a = dsum(st.wx * (dab - dabx)) + s_w4 / a
    w4x = np.bincount(d.lx.ix, weights=w4, minlength=len(xl))
    g_b = dsum(st.wx * (digamma(b + xl + k) - dabx - digamma(b) + dab)) - dsum(w4x / b1)
    grad = -np.array([g_r * r, g_alpha * alpha, g_a * a, g_b * b]) / W
    return -float(ll) / W, grad


#: Below this |t / alpha| * max(1, r + 1), E[X(t)] comes from its power series (no cancellation).
_SERIES_MAX = 0.3
_SERIES_TERMS = 64
#: Half-width of the symmetric nudge (Richardson-extrapolated) around a = 1 and whole r - a, where
#: the closed form has a removable singularity (a = 1) or scipy's 2F1 a degenerate case.
_NUDGE = 2e-3


def _expected_new_series(r: np.ndarray, a: np.ndarray, b: np.ndarray, w: np.ndarray) -> np.ndarray:
    """E[X(t)] = (r t / alpha) 3F2(1, r+1, a; 2, a+b; -t/alpha), summed term by term (small |w|)."""
    term = np.ones_like(w)
    total = np.ones_like(w)
    for k in range(_SERIES_TERMS):
        term *= (r + 1 + k) * (a + k) / ((2 + k) * (a + b + k)) * w
        total += term
        if k % 4 == 3 and np.max(np.abs(term)) < 1e-17:  # |total| >= 1 - 0.3 / (1 - 0.3) > 0.5
            break
    return -w * r * total


def _expected_new_closed(r: np.ndarray, a: np.ndarray, b: np.ndarray, w: np.ndarray) -> np.ndarray:
    """FHL eq. 9 after Pfaff's transformation, c/(a-1) [1 - 2F1(r, a-1; c; w)] with c = a+b-1 and
    w = -t/alpha (the factor (alpha/(alpha+t))^r cancels). For c < 1/2 (a + b < 3/2, including
    a + b <= 1, where c is negative or zero) c 2F1(c) comes from 2F1(c+1) and 2F1(c+2) by the
    contiguous relation DLMF 15.5.18, which is finite at c = 0 and keeps the sign of c."""
    c = a + b - 1
    am1 = a - 1
    out = np.empty_like(w)
    low = c < 0.5
    with np.errstate(all="ignore"):
        hi = ~low
        if hi.any():
            out[hi] = c[hi] * (1 - hyp2f1(r[hi], am1[hi], c[hi], w[hi]))
        if low.any():
            rl, ml, cl, wl = r[low], am1[low], c[low], w[low]
            c1 = cl + 1
            f1 = hyp2f1(rl, ml, c1, wl)
            f2 = hyp2f1(rl, ml, c1 + 1, wl)
            cf = -(c1 * (c1 - 1 - (2 * c1 - rl - ml - 1) * wl) * f1 + (c1 - rl) * (c1 - ml) * wl * f2) / (
                c1 * (wl - 1))
            out[low] = cl - cf
    return out / am1


def _expected_new_euler(r: np.ndarray, a: np.ndarray, b: np.ndarray, w: np.ndarray) -> np.ndarray:
    """FHL eq. 9 in its own variable z = t/(alpha+t), in log space with Euler's transformation and
    explicit signs: the fallback where scipy's 2F1 overflows for w < -1 (large r)."""
    c = a + b - 1
    with np.errstate(all="ignore"):
        log1z = -np.log1p(-w)  # log(alpha / (alpha + t))
        z = -np.expm1(log1z)
        lh, sh = log_hyp2f1_euler(r, b, c, z)
        lbr, sbr = one_minus_exp_signed(lh + r * log1z, sh)
        return sbr * np.sign(c) * np.sign(a - 1) * np.exp(  # type: ignore[no-any-return]
            np.log(np.abs(c)) - np.log(np.abs(a - 1)) + lbr)


def _symmetric_extrapolation(f: Any, x: np.ndarray, h: float) -> np.ndarray:
    """f(x) from f(x -/+ h) and f(x -/+ h/2) (Richardson): error O(h^4) for smooth f."""
    def mean(s: float) -> np.ndarray:
        return (f(x - s) + f(x + s)) / 2  # type: ignore[no-any-return]

    return (4 * mean(h / 2) - mean(h)) / 3


def bg_expected_new(t: Any, r: Any, alpha: Any, a: Any, b: Any) -> np.ndarray:
    """E[X(t)] of a BG/NBD customer starting now (FHL eq. 9), vectorised over every argument and
    valid for all a, b > 0 (a < 1, b < 1 and a + b < 1 included):
    (a+b-1)/(a-1) [1 - (alpha/(alpha+t))^r 2F1(r, b; a+b-1; t/(alpha+t))].

    Small t/alpha: the power series of (r t/alpha) 3F2(1, r+1, a; 2, a+b; -t/alpha); otherwise the
    closed form of :func:`_expected_new_closed`, with a symmetric nudge around a = 1 (removable
    singularity) and whole r - a (a degenerate case of scipy's 2F1 for w < -1). Checked against
    numerical quadrature over a parameter grid in tests/models/test_quadrature.py.
    """
    t, r, alpha, a, b = (np.array(v, dtype=float) for v in np.broadcast_arrays(t, r, alpha, a, b))
    w = -t / alpha
    out = np.zeros(t.shape)
    small = -w * np.maximum(1.0, r + 1) < _SERIES_MAX
    with np.errstate(all="ignore"):
        if small.any():
            out[small] = _expected_new_series(r[small], a[small], b[small], w[small])
        big = ~small
        if big.any():
            rb, ab, bb, wb = r[big], a[big], b[big], w[big]
            val = _expected_new_closed(rb, ab, bb, wb)
            d = rb - ab
            near_a = np.abs(ab - 1) < _NUDGE
            near = near_a | (np.abs(d - np.round(d)) < _NUDGE)
            if near.any():
                rn, an, bn, wn = rb[near], ab[near], bb[near], wb[near]
                along_a = _symmetric_extrapolation(lambda aa: _expected_new_closed(rn, aa, bn, wn), an, _NUDGE)
                along_r = _symmetric_extrapolation(lambda rr: _expected_new_closed(rr, an, bn, wn), rn, _NUDGE)
                val[near] = np.where(near_a[near], along_a, along_r)
            bad = ~np.isfinite(val)
            if bad.any():
                val[bad] = _expected_new_euler(rb[bad], ab[bad], bb[bad], wb[bad])
            out[big] = val
    return np.where(t > 0, np.maximum(out, 0.0), 0.0)


def bg_pmf_new(n: float, t: np.ndarray, r: Any, alpha: Any, a: Any, b: Any) -> np.ndarray:
    """P(X(t) = n) of a BG/NBD customer starting now (FHL eq. 8), with the finite sum written as
    the negative binomial tail (a regularised incomplete beta function)."""
    t = np.asarray(t, dtype=float)
    with np.errstate(all="ignore"):
        lp = np.log(alpha) - np.log(alpha + t)
        lq = np.log(t) - np.log(alpha + t)
        first = np.exp(betaln(a, b + n) - betaln(a, b) + log_nb_pmf(np.asarray(float(n)), r, lp, lq))
        if n > 0:
            second = np.exp(betaln(a + 1, b + n - 1) - betaln(a, b)) * nb_tail(np.asarray(float(n)), r, t / (alpha + t))
        else:
            second = 0.0
        out = first + second
    return np.where(t > 0, out, 1.0 if n == 0 else 0.0)


class BetaGeo(TransactionModel):
    """BG/NBD (FHL 2005). ``params_``: ``r``, ``alpha`` (in the summary's time unit), ``a``, ``b``.

    ``BetaGeo(penalizer_coef=0.0).fit(summary)`` with a summary holding ``frequency``, ``recency``
    and ``T`` (pandas, Polars or Arrow).
    """

    param_names: ClassVar[tuple[str, ...]] = ("r", "alpha", "a", "b")
    time_params: ClassVar[tuple[str, ...]] = ("alpha",)
    _modified: ClassVar[bool] = False
    prior_centre: ClassVar[tuple[float, ...]] = (0.243, 4.414 * 10 / 38.86, 0.793, 2.426)  # FHL 2005a

    def _start(self, d: Design) -> np.ndarray:
        return np.array([1.0, dsum(d.T * d.w) / dsum(d.w), 1.0, 1.0])

    @classmethod
    def _mean_nll(cls, theta: np.ndarray, d: Design) -> tuple[float, np.ndarray]:  # type: ignore[override]
        return bg_family_mean_nll(theta, d, cls._modified)

    # ------------------------------------------------------------------ predictions
    def _updated(self, x: np.ndarray, T: np.ndarray) -> tuple[Any, Any, Any, Any]:
        """Posterior parameters of a customer known to be alive at T (future = a new BG/NBD)."""
        r, alpha, a, b = self._pvec()
        k = 1.0 if self._modified else 0.0
        return r + x, alpha + T, a, b + x + k

    @compressed
    def p_alive(self, summary: Any) -> np.ndarray:
        """P(alive at T | x, t_x, T) (Fader, Hardie & Lee 2008, note 021, eq. 2):
        1 / (1 + [x > 0] a/(b+x-1) ((alpha+T)/(alpha+t_x))^(r+x))."""
        r, alpha, a, b = self._pvec()
        x, tx, T = frt_arrays(summary)
        k = 1.0 if self._modified else 0.0
        with np.errstate(all="ignore"):
            log_div = (r + x) * (np.log(alpha + T) - np.log(alpha + tx)) + np.log(a) - np.log(
                np.maximum(b + x + k - 1, 1e-300))
            p = expit(-log_div)
        if self._modified:
            return np.asarray(p, dtype=float)
        return np.where(x == 0, 1.0, p)

    @compressed
    def expected_purchases(self, t: Any, summary: Any) -> np.ndarray:
        """E[Y(t) | x, t_x, T]: expected purchases in (T, T+t] (FHL eq. 10), = P(alive) times the
        unconditional expectation with the updated parameters (r+x, alpha+T, a, b+x)."""
        x, _, T = frt_arrays(summary)
        tt = broadcast_t(t, len(x))
        r1, al1, a1, b1 = self._updated(x, T)
        return self.p_alive(summary) * bg_expected_new(tt, r1, al1, a1, b1)

    @compressed
    def prob_purchases(self, n: int, t: Any, summary: Any) -> np.ndarray:
        """P(Y(t) = n | x, t_x, T): alive customers follow FHL eq. 8 with the updated parameters,
        dead ones buy nothing (the conditional pmf of Fader, Hardie & Lee's note 2005 "BG/NBD
        conditional pmf")."""
        n = check_count(n)
        x, _, T = frt_arrays(summary)
        tt = broadcast_t(t, len(x))
        pa = self.p_alive(summary)
        r1, al1, a1, b1 = self._updated(x, T)
        out = pa * bg_pmf_new(int(n), tt, r1, al1, a1, b1) + (1 - pa) * (1.0 if n == 0 else 0.0)
        return np.clip(out, 0.0, 1.0)

    def expected_purchases_new(self, t: float | np.ndarray) -> np.ndarray:
        """E[X(t)] for a customer just acquired (FHL eq. 9)."""
        r, alpha, a, b = self._pvec()
        tt = np.atleast_1d(np.asarray(t, dtype=float))
        if self._modified:  # drop-out possible at time 0: P(active) = b/(a+b)
            return b / (a + b) * bg_expected_new(tt, r, alpha, a, b + 1)
        return bg_expected_new(tt, r, alpha, a, b)
