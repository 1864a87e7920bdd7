"""The shared optimiser: quasi-Newton (BFGS) on log-parameters, standard errors from the Hessian.

A model hands over a function ``nll(log_params) -> (value, gradient)`` (the *mean* negative
log-likelihood per customer, so the tolerances do not depend on the base size) and deterministic
start values. Gradients are analytic where the model provides them, otherwise central differences.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
from scipy.optimize import minimize

from clientlens.errors import ModelError

log = logging.getLogger(__name__)

ValueAndGrad = Callable[[np.ndarray], tuple[float, np.ndarray]]
ValueOnly = Callable[[np.ndarray], float]

#: Log-parameters are kept inside these bounds (parameters between about 1e-9 and 1e9).
LOG_BOUND = 20.0


def numeric_gradient(fun: ValueOnly, step: float = 1e-6) -> ValueAndGrad:
    """Wrap a value-only function into value-and-gradient by central differences."""

    def vg(theta: np.ndarray) -> tuple[float, np.ndarray]:
        f0 = fun(theta)
        g = np.empty_like(theta)
        for i in range(len(theta)):
            e = np.zeros_like(theta)
            e[i] = step
            g[i] = (fun(theta + e) - fun(theta - e)) / (2 * step)
        return f0, g

    return vg


def penalised(vg: ValueAndGrad, penalizer_coef: float) -> ValueAndGrad:
    """Add ``penalizer_coef * sum(params**2)`` (L2 on the natural parameters), as lifetimes does."""
    if penalizer_coef == 0:
        return vg

    def out(theta: np.ndarray) -> tuple[float, np.ndarray]:
        f, g = vg(theta)
        p = np.exp(theta)
        return f + penalizer_coef * float(np.sum(p**2)), g + 2 * penalizer_coef * p**2

    return out


@dataclass(frozen=True)
class FitResult:
    params: np.ndarray
    mean_nll: float
    log_param_cov: np.ndarray | None
    iterations: int
    hessian: np.ndarray | None = None  # of the mean NLL in log-parameters
    gradient: float = float("nan")  # largest absolute component at the optimum


def minimise(vg: ValueAndGrad, start: np.ndarray, *, n_obs: float, gtol: float = 1e-9,
             max_iter: int = 2000, what: str = "model") -> FitResult:
    """Minimise ``vg`` over log-parameters from ``start`` (natural parameters); deterministic."""
    theta0 = np.log(np.asarray(start, dtype=float))

    def safe(theta: np.ndarray) -> tuple[float, np.ndarray]:
        if np.any(np.abs(theta) > LOG_BOUND):
            return 1e300, np.zeros_like(theta)
        f, g = vg(theta)
        if not np.isfinite(f) or not np.all(np.isfinite(g)):
            return 1e300, np.zeros_like(theta)
        return f, g

    # BFGS (pure NumPy for a handful of parameters) needs fewer wall-clock seconds than L-BFGS-B here:
    # the likelihoods are cheap on compressed data, so the optimiser's own overhead counts.
    res = minimize(safe, theta0, jac=True, method="BFGS", options={"maxiter": max_iter, "gtol": gtol})
    theta = res.x
    # Polish: one Newton step on the numeric Hessian when the gradient is not yet negligible.
    f, g = vg(theta)
    H = hessian(vg, theta)
    if np.max(np.abs(g)) > 1e-9:
        try:
            step = np.linalg.solve(H, g)
            cand = np.clip(theta - step, -LOG_BOUND, LOG_BOUND)
            if np.all(np.isfinite(step)) and np.max(np.abs(step)) < 1.0:
                fc, gc = vg(cand)
                if np.isfinite(fc) and fc <= f:
                    theta, f, g = cand, fc, gc
        except np.linalg.LinAlgError:
            pass
    if not np.isfinite(f):
        raise ModelError(f"{what}: the likelihood is not finite at the optimum; check the summary")
    if np.max(np.abs(g)) > 1e-4:
        log.warning("%s: optimiser stopped with gradient %.2g (%s)", what, float(np.max(np.abs(g))), res.message)
    return _result(theta, f, g, H, n_obs, int(res.nit))


def _result(theta: np.ndarray, f: float, g: np.ndarray, H: np.ndarray, n_obs: float, iterations: int) -> FitResult:
    """The fit at ``theta`` with the covariance of the log-parameters from the mean-NLL Hessian ``H``."""
    cov: np.ndarray | None
    try:
        cov = np.linalg.inv(H * n_obs)
        if not np.all(np.isfinite(cov)) or np.any(np.diag(cov) < 0):
            cov = None
    except np.linalg.LinAlgError:
        cov = None
    return FitResult(np.exp(theta), float(f), cov, iterations, H, float(np.max(np.abs(g))))


def finish(vg: ValueAndGrad, theta: np.ndarray, f: float, g: np.ndarray, *, n_obs: float,
           forward: bool = False) -> FitResult:
    """The :class:`FitResult` at an optimum already reached (value ``f``, gradient ``g``): only the
    Hessian is computed, by forward differences of the gradient when ``forward`` (half the cost)."""
    H = hessian(vg, theta, g0=g if forward else None)
    return _result(theta, f, g, H, n_obs, 0)


def newton_refine(vg: ValueAndGrad, theta: np.ndarray, H: np.ndarray, *, gtol: float,
                  max_iter: int = 30) -> tuple[np.ndarray, float, np.ndarray]:
    """Newton iterations with a fixed Hessian ``H`` (from a nearby problem) and step halving:
    from a warm start this reaches the optimum in a few gradient evaluations. Returns
    (log-parameters, value, gradient) where it stopped."""
    f, g = vg(theta)
    for _ in range(max_iter):
        if not np.isfinite(f) or np.max(np.abs(g)) <= gtol:
            break
        try:
            step = np.linalg.solve(H, g)
        except np.linalg.LinAlgError:
            break
        t = 1.0
        while t > 1e-4:
            cand = np.clip(theta - t * step, -LOG_BOUND, LOG_BOUND)
            fc, gc = vg(cand)
            if np.isfinite(fc) and fc <= f:
                break
            t /= 2
        else:
            break
        theta, f, g = cand, fc, gc
    return theta, f, g


def hessian(vg: ValueAndGrad, theta: np.ndarray, step: float = 1e-5, g0: np.ndarray | None = None) -> np.ndarray:
    """Symmetrised Hessian by central differences of the gradient (forward differences from the
    gradient ``g0`` at ``theta`` when given)."""
    k = len(theta)
    H = np.empty((k, k))
    for i in range(k):
        e = np.zeros(k)
        e[i] = step
        if g0 is None:
            H[i] = (vg(theta + e)[1] - vg(theta - e)[1]) / (2 * step)
        else:
            H[i] = (vg(theta + e)[1] - g0) / step
    return (H + H.T) / 2


def standard_errors(params: np.ndarray, log_cov: np.ndarray | None) -> np.ndarray:
    """Delta method: SE of p = exp(theta) is p * SE(theta)."""
    if log_cov is None:
        return np.full(len(params), np.nan)
    return params * np.sqrt(np.diag(log_cov))
