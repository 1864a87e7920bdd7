"""Gamma-Gamma spend model of Fader, Hardie & Lee (2005b), after Colombo & Jiang (1999).

Fader, P. S., Hardie, B. G. S. & Lee, K. L. (2005). RFM and CLV: Using Iso-Value Curves for Customer
Base Analysis. *Journal of Marketing Research* 42(4), 415-430; Fader & Hardie (2013), "The Gamma-Gamma
Model of Monetary Value" (note 025, cited as FH25).

Each transaction value is Gamma(p, nu) with nu ~ Gamma(q, v) across customers (``v`` is the papers'
gamma). It is fitted on repeat buyers (x > 0) with their mean repeat spend m.

>>> from clientlens.datasets import load_cdnow_sample
>>> from clientlens.features import rfm_summary
>>> s = rfm_summary(load_cdnow_sample(), observation_end="1997-09-30")
>>> gg = GammaGamma().fit(s[s["frequency"] > 0])
>>> round(gg.params_["p"], 2), round(gg.params_["q"], 2), round(gg.params_["v"], 2)
(6.25, 3.74, 15.44)
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, ClassVar

import numpy as np
import pandas as pd
from scipy.special import digamma, gammaln

from clientlens.errors import MissingColumnsError, ModelError
from clientlens.models._base import BaseModel, check_penalizer
from clientlens.models._data import as_float, column_names, get_column, row_index, weights_array
from clientlens.models._optim import minimise, penalised, standard_errors
from clientlens.models._special import dsum


def _fm_arrays(data: Any, *, fitting: bool) -> tuple[np.ndarray, np.ndarray]:
    missing = [c for c in ("frequency", "monetary_value") if c not in column_names(data)]
    if missing:
        raise MissingColumnsError(f"summary lacks column(s) {', '.join(missing)} (Gamma-Gamma needs them)")
    x = as_float(get_column(data, "frequency"), "frequency")
    m = as_float(get_column(data, "monetary_value"), "monetary_value")
    idx = row_index(data)

    def where(mask: np.ndarray) -> str:
        pos = int(np.flatnonzero(mask)[0])
        return f"row {pos + 1}" + (f" (customer {idx[pos]!r})" if idx is not None else "")

    for name, arr in (("frequency", x), ("monetary_value", m)):
        bad = ~np.isfinite(arr) | (arr < 0)
        if bad.any():
            raise ModelError(f"column {name!r} must be finite and >= 0; not so at {where(bad)}")
    bad = x != np.round(x)
    if bad.any():
        raise ModelError(f"column 'frequency' must hold whole numbers; not so at {where(bad)}")
    if fitting:
        bad = (x <= 0) | (m <= 0)
        if bad.any():
            raise ModelError(
                f"Gamma-Gamma is fitted on repeat buyers with positive spend (frequency > 0, monetary_value > 0);"
                f" not so at {where(bad)}: pass summary[summary['frequency'] > 0]")
    return x, m


@dataclass(frozen=True)
class _GGStats:
    """Sufficient statistics: the x levels with their weights, sums of the log terms, and the rows
    (x, m, w) needed for ln(v + x m)."""

    xl: np.ndarray
    wl: np.ndarray
    ix: np.ndarray
    x: np.ndarray
    m: np.ndarray
    w: np.ndarray
    s_xlogm: float
    s_logm: float
    s_xlogx: float

    @classmethod
    def of(cls, x: np.ndarray, m: np.ndarray, w: np.ndarray) -> _GGStats:
        ix, xl = pd.factorize(x, sort=True)
        xl = np.asarray(xl, dtype=float)
        wl = np.bincount(ix, weights=w, minlength=len(xl))
        lm = np.log(m)
        return cls(xl, wl, ix, x, m, w, float(dsum(w * x * lm)), float(dsum(w * lm)),
                   float(dsum(w * x * np.log(x))))


def _mean_nll(theta: np.ndarray, st: _GGStats) -> tuple[float, np.ndarray]:
    """FH25 eq. 3: ln f(m | p, q, v, x) = ln G(px+q) - ln G(px) - ln G(q) + q ln v + (px-1) ln m
    + px ln x - (px+q) ln(v + x m); mean over customers, gradient in log-parameters. The gamma
    functions are evaluated once per distinct x, the log terms are pre-summed."""
    p, q, v = np.exp(theta)
    W = float(st.wl.sum())
    pxl = p * st.xl
    lxm = np.log(v + st.x * st.m)
    wl_ = st.w * lxm
    s_lxm = float(dsum(wl_))
    s_xlxm = float(dsum(wl_ * st.x))
    ll = (float(dsum(st.wl * (gammaln(pxl + q) - gammaln(pxl)))) - W * gammaln(q) + W * q * np.log(v)
          + p * st.s_xlogm - st.s_logm + p * st.s_xlogx - p * s_xlxm - q * s_lxm)
    dpq = digamma(pxl + q)
    g_p = float(dsum(st.wl * st.xl * (dpq - digamma(pxl)))) + st.s_xlogm + st.s_xlogx - s_xlxm
    g_q = float(dsum(st.wl * dpq)) - W * digamma(q) + W * np.log(v) - s_lxm
    g_v = W * q / v - float(dsum(st.w * (p * st.x + q) / (v + st.x * st.m)))
    grad = -np.array([g_p * p, g_q * q, g_v * v]) / W
    return -float(ll) / W, grad


class GammaGamma(BaseModel):
    """Gamma-Gamma. ``params_``: ``p``, ``q``, ``v``. ``fit`` on repeat buyers only."""

    param_names: ClassVar[tuple[str, ...]] = ("p", "q", "v")

    def __init__(self, penalizer_coef: float = 0.0) -> None:
        self.penalizer_coef = penalizer_coef

    def fit(self, data: Any, weights: Any = None) -> GammaGamma:
        """Fit on a summary of repeat buyers (``frequency`` > 0, ``monetary_value`` > 0). Returns self."""
        check_penalizer(self.penalizer_coef)
        x, m = _fm_arrays(data, fitting=True)
        if len(x) == 0:
            raise ModelError("no repeat buyers to fit Gamma-Gamma on")
        w = weights_array(data, len(x), weights)
        scale = dsum(w) / dsum(m * w)  # money in units of the mean spend
        ms = m * scale
        stats = _GGStats.of(x, ms, w)
        vg = penalised(lambda th: _mean_nll(th, stats), float(self.penalizer_coef))
        res = minimise(vg, np.array([1.0, 1.0, 1.0]), n_obs=float(w.sum()), what="GammaGamma")
        params = res.params * np.array([1.0, 1.0, 1.0 / scale])
        f, _ = _mean_nll(np.log(params), _GGStats.of(x, m, w))
        se = standard_errors(res.params, res.log_param_cov) * np.array([1.0, 1.0, 1.0 / scale])
        self._set_fit(params, -f * float(w.sum()), se, float(w.sum()))
        return self

    def expected_spend(self, summary: Any) -> np.ndarray:
        """E[M | x, m] = (p (v + x m)) / (p x + q - 1) (FH25 eq. 5); the population mean
        p v / (q - 1) for customers without repeat purchases."""
        p, q, v = self._pvec()
        x, m = _fm_arrays(summary, fitting=False)
        with np.errstate(all="ignore"):
            out = p * (v + x * m) / (p * x + q - 1)
        return np.asarray(out, dtype=float)

    def expected_spend_new(self) -> float:
        """Mean spend per transaction of a new customer: p v / (q - 1) (infinite when q <= 1)."""
        p, q, v = self._pvec()
        return float(p * v / (q - 1)) if q > 1 else float("inf")
