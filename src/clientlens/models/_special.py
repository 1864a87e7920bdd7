"""Log-space special-function helpers shared by the models."""

from __future__ import annotations

import numpy as np
from scipy.special import betainc, betaln, gammaln, hyp2f1


def log1mexp(x: np.ndarray) -> np.ndarray:
    """log(1 - exp(x)) for x <= 0, accurate near 0 and for very negative x."""
    x = np.asarray(x, dtype=float)
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(x > -0.6931471805599453, np.log(-np.expm1(x)), np.log1p(-np.exp(x)))


def log_hyp2f1_euler(a: np.ndarray, b: np.ndarray, c: np.ndarray, z: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(log|2F1(a, b; c; z)| + log-prefactor, sign) trying Euler's transformation where direct fails.

    Returns ``(logabs, sign)`` of 2F1(a, b; c; z); for 0 <= z < 1 the direct series and Euler's
    ``(1 - z)^(c - a - b) 2F1(c - a, c - b; c; z)`` are tried in turn (as in lifetimes).
    """
    with np.errstate(all="ignore"):
        direct = hyp2f1(a, b, c, z)
        alt = hyp2f1(c - a, c - b, c, z)
        log1z = np.log1p(-z)
        use_alt = ~np.isfinite(direct) | (direct == 0)
        val = np.where(use_alt, alt, direct)
        logabs = np.log(np.abs(val)) + np.where(use_alt, (c - a - b) * log1z, 0.0)
        sign = np.sign(val)
    return logabs, sign


def one_minus_exp_signed(logabs: np.ndarray, sign: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(log|1 - s e^l|, sign of 1 - s e^l) for sign s in {-1, 0, 1}."""
    with np.errstate(all="ignore"):
        neg = sign <= 0  # 1 + |.| > 0
        lpos = np.logaddexp(0.0, np.where(neg, logabs, -np.inf))
        # 1 - e^l: positive when l < 0, negative when l > 0
        l_small = np.where(logabs < 0, logabs, -1.0)
        l_big = np.where(logabs >= 0, logabs, 1.0)
        below = log1mexp(l_small)
        above = l_big + log1mexp(-l_big)
        out = np.where(neg, lpos, np.where(logabs < 0, below, above))
        sgn = np.where(neg, 1.0, np.where(logabs < 0, 1.0, np.where(logabs == 0, 0.0, -1.0)))
    return out, sgn


def log_nb_pmf(n: np.ndarray, r: np.ndarray, log_p: np.ndarray, log_q: np.ndarray) -> np.ndarray:
    """log of the negative binomial pmf Gamma(r+n)/(Gamma(r) n!) p^r q^n (q = 1 - p)."""
    with np.errstate(all="ignore"):
        return gammaln(r + n) - gammaln(r) - gammaln(n + 1) + r * log_p + np.where(n > 0, n * log_q, 0.0)


def nb_tail(n: np.ndarray, r: np.ndarray, q: np.ndarray) -> np.ndarray:
    """P(N >= n) of a negative binomial with shape r and failure probability q (regularised beta)."""
    n = np.asarray(n, dtype=float)
    with np.errstate(all="ignore"):
        return np.where(n > 0, betainc(np.maximum(n, 1.0), r, q), 1.0)


__all__ = ["betaln", "gammaln", "log1mexp", "log_hyp2f1_euler", "log_nb_pmf", "nb_tail", "one_minus_exp_signed"]


def dsum(values: np.ndarray) -> float:
    """Sum that does not depend on where the array sits in memory.

    NumPy's pairwise, SIMD-unrolled sum peels a few leading elements depending on the pointer's
    alignment, so the same numbers can sum to results differing in the last bits. Copying into a
    64-byte-aligned buffer first makes fits bit-for-bit repeatable.
    """
    arr = np.asarray(values, dtype=float).ravel()
    buf = np.empty(arr.size + 8)
    off = (-buf.ctypes.data % 64) // 8
    out = buf[off:off + arr.size]
    out[...] = arr
    return float(out.sum())
