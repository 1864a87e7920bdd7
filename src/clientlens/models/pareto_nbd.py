"""Pareto/NBD: Schmittlein, Morrison & Colombo (1987), in the formulation of Fader & Hardie.

Schmittlein, D. C., Morrison, D. G. & Colombo, R. (1987). Counting Your Customers: Who Are They and
What Will They Do Next? *Management Science* 33(1), 1-24. Fader, P. S. & Hardie, B. G. S. (2005).
"A Note on Deriving the Pareto/NBD Model and Related Expressions" (note 009, cited as FH09), and
(2014) "The Conditional PMF of the Pareto/NBD" (note 028).

While alive a customer buys at Poisson rate lambda ~ Gamma(r, alpha) and dies after an exponential
lifetime with rate mu ~ Gamma(s, beta). The likelihood (FH09 eq. 18-19) is

    L = G(r+x) alpha^r beta^s / G(r) * [ (alpha+T)^-(r+x) (beta+T)^-s + s * I ],
    I = integral from t_x to T of (alpha+u)^-(r+x) (beta+u)^-(s+1) du,

and ``I = (term(t_x) - term(T)) / (r+s+x)`` with, after Euler's transformation of FH09's
2F1(r+s+x, .; r+s+x+1; z), a positive series ``F = 2F1(1, c; r+s+x+1; z)`` with z in [0, 1):

    alpha >= beta: term(u) = F(1, r+x; z=(alpha-beta)/(alpha+u)) (alpha+u)^-(r+x) (beta+u)^-s
    alpha <  beta: term(u) = F(1, s+1; z=(beta-alpha)/(beta+u)) (alpha+u)^(1-r-x) (beta+u)^-(s+1)

F >= 1 never overflows, the difference is taken in log space (log1mexp), so the likelihood stays
finite for large frequency and T.
"""

from __future__ import annotations

from typing import Any, ClassVar

import numpy as np
from scipy.special import digamma, gammaln, hyp2f1, logsumexp

from clientlens.models._base import TransactionModel, broadcast_t, check_count, compressed
from clientlens.models._data import Design, frt_arrays
from clientlens.models._special import betaln, dsum, log1mexp, log_hyp2f1_euler


def hyp2f1_one(b: Any, c: Any, z: Any) -> np.ndarray:
    """2F1(1, b; c; z) for c > b > 0 and 0 <= z < 1 (a convergent series of positive terms, >= 1).

    scipy's hyp2f1 is used first; where it fails (it returns inf for some integer c - 1 - b and near
    z = 1) the value comes from the series (z <= 0.99) or from the z -> 1 - z connection formula
    (Abramowitz & Stegun 15.3.6 with a = 1):
    F = (c-1)/(c-1-b) 2F1(1, b; b-c+2; 1-z) + (1-z)^(c-1-b) z^(1-c) G(c) G(b+1-c) / G(b),
    averaged over c -/+ 1e-3 around the pole where c - 1 - b is (nearly) a whole number.
    """
    b, c, z = (np.atleast_1d(np.asarray(v, float)) for v in np.broadcast_arrays(b, c, z))
    with np.errstate(all="ignore"):
        val = np.asarray(hyp2f1(1.0, b, c, z), dtype=float)
        bad = ~np.isfinite(val) | (val < 1.0 - 1e-9)
        if bad.any():
            bb, cb, zb = b[bad], c[bad], z[bad]
            fix = np.empty(len(bb))
            near = zb > 0.99
            if (~near).any():
                fix[~near] = _series_one(bb[~near], cb[~near], zb[~near])
            if near.any():
                fix[near] = _connection_one(bb[near], cb[near], zb[near])
            still = ~np.isfinite(fix) | (fix < 1.0 - 1e-9)
            if still.any():
                fix[still] = _series_one(bb[still], cb[still], zb[still])
            val[bad] = fix
    return val


def _connection_one(b: np.ndarray, c: np.ndarray, z: np.ndarray) -> np.ndarray:
    d = c - 1 - b
    whole = np.abs(d - np.round(d)) < 1e-3
    if whole.any():
        shift = np.round(d) - d  # evaluate symmetrically about the whole number
        lo = _connection_raw(b, np.where(whole, c + shift - 1e-3, c), z)
        hi = _connection_raw(b, np.where(whole, c + shift + 1e-3, c), z)
        return np.where(whole, (lo + hi) / 2, lo)
    return _connection_raw(b, c, z)


def _connection_raw(b: np.ndarray, c: np.ndarray, z: np.ndarray) -> np.ndarray:
    from scipy.special import gammasgn

    d = c - 1 - b
    y = 1 - z
    first = (c - 1) / d * hyp2f1(1.0, b, 1 - d, y)
    lg = gammaln(c) + gammaln(-d) - gammaln(b) + d * np.log(y) + (1 - c) * np.log(z)
    second = gammasgn(-d) * np.exp(lg)
    return np.asarray(first + second, dtype=float)


def _series_one(b: np.ndarray, c: np.ndarray, z: np.ndarray, max_terms: int = 4000) -> np.ndarray:
    term = np.ones_like(z)
    total = np.ones_like(z)
    ratio = z
    for k in range(max_terms):
        ratio = (b + k) / (c + k) * z
        term = term * ratio
        total += term
        if np.all(term < 1e-17 * total):
            return total
    return total + term * ratio / (1 - np.minimum(ratio, 1 - 1e-12))


def _log_term(x: np.ndarray, u: np.ndarray, r: float, alpha: float, s: float, beta: float) -> np.ndarray:
    """log term(u) of the module docstring (vectorised over x and u)."""
    a1 = r + s + x + 1.0
    with np.errstate(all="ignore"):
        if alpha >= beta:
            z = (alpha - beta) / (alpha + u)
            F = hyp2f1_one(r + x, a1, z)
            return np.log(F) - (r + x) * np.log(alpha + u) - s * np.log(beta + u)  # type: ignore[no-any-return]
        z = (beta - alpha) / (beta + u)
        F = hyp2f1_one(s + 1.0, a1, z)
        return np.log(F) + (1.0 - r - x) * np.log(alpha + u) - (s + 1.0) * np.log(beta + u)  # type: ignore[no-any-return]


def pareto_log_parts(params: np.ndarray, x: np.ndarray, tx: np.ndarray, T: np.ndarray,
                     lt_tx: np.ndarray | None = None, lt_T: np.ndarray | None = None
                     ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(log C, log first, log s*I) per row: log L = log C + logaddexp(first, s*I) (FH09 eq. 19)."""
    r, alpha, s, beta = params
    with np.errstate(all="ignore"):
        logC = gammaln(r + x) - gammaln(r) + r * np.log(alpha) + s * np.log(beta)
        first = -(r + x) * np.log(alpha + T) - s * np.log(beta + T)
        l1 = _log_term(x, tx, r, alpha, s, beta) if lt_tx is None else lt_tx
        l2 = _log_term(x, T, r, alpha, s, beta) if lt_T is None else lt_T
        diff = l1 + log1mexp(np.minimum(l2 - l1, 0.0))
        second = np.log(s) - np.log(r + s + x) + diff
    return logC, first, second


def _pareto_mean_nll_value(theta: np.ndarray, d: Design) -> float:
    r, alpha, s, beta = np.exp(theta)
    px, pt, tx_pair, T_pair = d.xt_pairs
    lt = _log_term(px, pt, r, alpha, s, beta)
    logC, first, second = pareto_log_parts(np.exp(theta), d.x, d.tx, d.T, lt[tx_pair], lt[T_pair])
    ll = logC + np.logaddexp(first, second)
    return -float(dsum(d.w * ll)) / float(d.w.sum())


class ParetoNBD(TransactionModel):
    """Pareto/NBD. ``params_``: ``r``, ``alpha``, ``s``, ``beta`` (alpha, beta in the summary's time unit).

    Deterministic start values (unlike lifetimes' random ones); L-BFGS-B with central-difference
    gradients on the distinct (x, t) pairs, so a fit costs little even for millions of customers.
    """

    param_names: ClassVar[tuple[str, ...]] = ("r", "alpha", "s", "beta")
    time_params: ClassVar[tuple[str, ...]] = ("alpha", "beta")
    prior_centre: ClassVar[tuple[float, ...]] = (0.553, 10.58 * 10 / 38.86, 0.606, 11.67 * 10 / 38.86)  # FH 2005
    # the b, c derivatives of 2F1 are central differences (~1e-9): ask no more of the gradient
    _gtol: ClassVar[float] = 1e-8

    def _start(self, d: Design) -> np.ndarray:
        m = dsum(d.T * d.w) / dsum(d.w)
        return np.array([1.0, m, 1.0, m])

    @staticmethod
    def _mean_nll(theta: np.ndarray, d: Design) -> tuple[float, np.ndarray]:
        return _pareto_value_and_grad(theta, d)

    # ------------------------------------------------------------------ predictions
    def _parts(self, summary: Any) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        x, tx, T = frt_arrays(summary)
        _, first, second = pareto_log_parts(self._pvec(), x, tx, T)
        return x, tx, T, first, second

    @compressed
    def p_alive(self, summary: Any) -> np.ndarray:
        """P(alive at T | x, t_x, T) = first / (first + s I) (FH09 eq. 21)."""
        _, _, _, first, second = self._parts(summary)
        return np.exp(first - np.logaddexp(first, second))

    @compressed
    def expected_purchases(self, t: Any, summary: Any) -> np.ndarray:
        """E[Y(t) | x, t_x, T] = P(alive) (r+x)(beta+T) / ((alpha+T)(s-1)) [1 - ((beta+T)/(beta+T+t))^(s-1)]
        (FH09 eq. 22; the s = 1 limit is taken where needed)."""
        r, alpha, s, beta = self._pvec()
        x, _, T, first, second = self._parts(summary)
        tt = broadcast_t(t, len(x))
        pa = np.exp(first - np.logaddexp(first, second))
        return pa * _nbd_pareto_mean(tt, r + x, alpha + T, s, beta + T)

    def expected_purchases_new(self, t: float | np.ndarray) -> np.ndarray:
        """E[X(t)] = r beta / (alpha (s-1)) [1 - (beta/(beta+t))^(s-1)] (FH09 eq. 17)."""
        r, alpha, s, beta = self._pvec()
        tt = np.atleast_1d(np.asarray(t, dtype=float))
        return _nbd_pareto_mean(tt, r, alpha, s, beta)

    @compressed
    def prob_purchases(self, n: int, t: Any, summary: Any) -> np.ndarray:
        """P(Y(t) = n | x, t_x, T), the conditional pmf of Fader & Hardie's note 028 (eq. 14)."""
        n = check_count(n)
        r, alpha, s, beta = self._pvec()
        x, _, T, first, second = self._parts(summary)
        tt = broadcast_t(t, len(x))
        pos = tt > 0
        tt_safe = np.where(pos, tt, 1.0)
        log_l = np.logaddexp(first, second)  # log L / C
        if alpha < beta:
            mn, mx, p = alpha, beta, r + x + n
        else:
            mn, mx, p = beta, alpha, s + 1.0
        d_ab = mx - mn
        with np.errstate(all="ignore"):
            log_p_zero = first - log_l  # P(alive)
            log_b1 = (gammaln(r + x + n) - gammaln(r + x) - (r + x + n) * np.log(alpha + T + tt_safe)
                      - s * np.log(beta + T + tt_safe))
            common = gammaln(r + s + x) - gammaln(r + x) - gammaln(s) + betaln(r + x + n, s + 1)
            lh2, _ = log_hyp2f1_euler(r + s + x, p, r + s + x + n + 1, d_ab / (mx + T))
            log_b2 = common + lh2 - (r + s + x) * np.log(mx + T)
            terms = []
            for i in range(n + 1):
                lh3, _ = log_hyp2f1_euler(r + s + x + i, p, r + s + x + n + 1, d_ab / (mx + T + tt_safe))
                terms.append(i * np.log(tt_safe) - gammaln(i + 1.0) + gammaln(r + s + x + i) - gammaln(r + s + x)
                             + common + lh3 - (r + s + x + i) * np.log(mx + T + tt_safe))
            third = logsumexp(np.array(terms), axis=0)
            first_term = n * np.log(tt_safe) - gammaln(n + 1.0) + log_b1
            # (log C + ...) - log L: the shared factor G(r+x) alpha^r beta^s / G(r) cancels
            val, _sign = logsumexp(np.array([first_term, log_b2, third]) - log_l, axis=0,
                                   b=np.array([1.0, 1.0, -1.0])[:, None] * np.ones((1, len(x))), return_sign=True)
            out = np.exp(val) + (1.0 - np.exp(log_p_zero) if n == 0 else 0.0)
        out = np.where(np.isfinite(out), out, 0.0)
        return np.clip(np.where(pos, out, 1.0 if n == 0 else 0.0), 0.0, 1.0)


def _nbd_pareto_mean(t: np.ndarray, r: Any, alpha: Any, s: float, beta: Any) -> np.ndarray:
    """r beta/(alpha (s-1)) [1 - (beta/(beta+t))^(s-1)], with its s -> 1 limit r beta/alpha ln(1+t/beta)."""
    u = np.log1p(t / beta)
    k = s - 1.0
    with np.errstate(all="ignore"):
        factor = np.where(np.abs(k * u) < 1e-12, u, -np.expm1(-k * u) / k if k != 0 else u)
    return np.asarray(r * beta / alpha * factor, dtype=float)


def _log_term_and_grad(x: np.ndarray, u: np.ndarray, r: float, alpha: float, s: float, beta: float
                       ) -> tuple[np.ndarray, np.ndarray]:
    """log term(u) and its gradient in (r, alpha, s, beta), shape (4, n).

    d log F uses dF/dz = (z b F - (c-1)(F-1)) / (z (1-z)) (from the series of 2F1(1, b; c; z)) and
    central differences in b and c (F is smooth in both)."""
    c = r + s + x + 1.0
    au, bu = alpha + u, beta + u
    la, lb = np.log(au), np.log(bu)
    zero, one = np.zeros_like(u), np.ones_like(u)
    if alpha >= beta:
        b = r + x
        z = (alpha - beta) / au
        dz = np.array([zero, bu / au**2, zero, -1.0 / au])
        db = (1.0, 0.0, 0.0, 0.0)
        lpow = -(r + x) * la - s * lb
        dpow = np.array([-la, -(r + x) / au, -lb, -s / bu * one])
    else:
        b = s + 1.0 + zero
        z = (beta - alpha) / bu
        dz = np.array([zero, -1.0 / bu, zero, au / bu**2])
        db = (0.0, 0.0, 1.0, 0.0)
        lpow = (1.0 - r - x) * la - (s + 1.0) * lb
        dpow = np.array([-la, (1.0 - r - x) / au, -lb, -(s + 1.0) / bu])
    with np.errstate(all="ignore"):
        F = hyp2f1_one(b, c, z)
        hb, hc = 1e-5 * b, 1e-5 * c
        Fb = (hyp2f1_one(b + hb, c, z) - hyp2f1_one(b - hb, c, z)) / (2 * hb)
        Fc = (hyp2f1_one(b, c + hc, z) - hyp2f1_one(b, c - hc, z)) / (2 * hc)
        Fz = np.where(z > 1e-8, (z * b * F - (c - 1) * (F - 1)) / (z * (1 - z)), b / c)
        dlogF = (np.array([Fb * db[k] for k in range(4)]) + Fc * np.array([one, zero, one, zero]) + Fz * dz) / F
    return np.log(F) + lpow, dlogF + dpow


def _pareto_value_and_grad(theta: np.ndarray, d: Design) -> tuple[float, np.ndarray]:
    """Mean negative log-likelihood (FH09 eq. 19) and its analytic gradient in log-parameters.

    Terms depending on x only or on T only are computed once per distinct value and gathered."""
    r, alpha, s, beta = np.exp(theta)
    px, pt, tx_pair, T_pair = d.xt_pairs
    lt, dlt = _log_term_and_grad(px, pt, r, alpha, s, beta)
    x, w = d.x, d.w
    xl, ix = d.lx.values, d.lx.ix
    Tl, iT = d.lT.values, d.lT.ix
    W = float(w.sum())
    with np.errstate(all="ignore"):
        laT, lbT = np.log(alpha + Tl), np.log(beta + Tl)
        log_rsx = np.log(r + s + xl)
        l1, l2 = lt[tx_pair], lt[T_pair]
        q = np.exp(np.minimum(l2 - l1, 0.0))
        first = -(r + x) * laT[iT] - s * lbT[iT]
        second = (np.log(s) - log_rsx)[ix] + l1 + log1mexp(np.log(q))
        lse = np.logaddexp(first, second)
        w1 = np.exp(first - lse)
        w2 = 1.0 - w1
        inv = np.where((q < 1.0) & (w2 > 0), w2 / (1.0 - q), 0.0)  # weight of d(second)
        # sum over rows of w * ll, with the x-only part of log C summed per level
        wx = np.bincount(ix, weights=w, minlength=len(xl))
        ll_sum = (dsum(wx * (gammaln(r + xl) - gammaln(r))) + W * (r * np.log(alpha) + s * np.log(beta))
                  + dsum(w * lse))
        ww1, ww2, winv = w * w1, w * w2, w * inv
        inv_rsx = (1.0 / (r + s + xl))[ix]
        g = np.empty(4)
        g[0] = (dsum(wx * (digamma(r + xl) - digamma(r))) + W * np.log(alpha) - dsum(ww1 * laT[iT])
                + dsum(winv * (dlt[0, tx_pair] - q * dlt[0, T_pair])) - dsum(ww2 * inv_rsx))
        g[1] = (W * r / alpha - dsum(ww1 * (r + x) / (alpha + d.T))
                + dsum(winv * (dlt[1, tx_pair] - q * dlt[1, T_pair])))
        g[2] = (W * np.log(beta) - dsum(ww1 * lbT[iT]) + dsum(winv * (dlt[2, tx_pair] - q * dlt[2, T_pair]))
                + dsum(ww2) / s - dsum(ww2 * inv_rsx))
        g[3] = (W * s / beta - dsum(ww1 * s / (beta + d.T))
                + dsum(winv * (dlt[3, tx_pair] - q * dlt[3, T_pair])))
    return -ll_sum / W, -g / W * np.array([r, alpha, s, beta])
