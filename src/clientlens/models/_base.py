"""Estimator base classes: the scikit-learn contract shared by every clientlens model.

``__init__`` only stores its keyword arguments; ``fit`` validates, learns ``params_``,
``log_likelihood_`` and ``standard_errors_`` and returns ``self``; predicting before ``fit`` raises
:class:`~clientlens.errors.NotFittedError`; no reference to the training data is kept.
"""

from __future__ import annotations

import functools
import inspect
from collections.abc import Callable
from typing import Any, ClassVar

import numpy as np
import pandas as pd

from clientlens.errors import ModelError, NotFittedError
from clientlens.models._data import (
    Design,
    compress_rows,
    frt_arrays,
    make_design,
    weights_array,
    worth_compressing,
)
from clientlens.models._optim import ValueAndGrad, finish, minimise, newton_refine, penalised, standard_errors

#: Above this many distinct (x, t_x, T) rows, a fit first runs on times rounded to a coarse grid.
COARSE_MIN_ROWS = 20_000
#: Below this many rows, predictions are computed row by row (compression would not pay).
COMPRESS_MIN_ROWS = 5000


#: ``DataFrame.attrs`` key marking a summary whose rows are distinct histories (not compressed again).
UNIQUE_ROWS = "clientlens_unique_rows"


def unique_rows(x: np.ndarray, tx: np.ndarray, T: np.ndarray) -> pd.DataFrame:
    """A summary frame of distinct (or not worth compressing) histories, marked so that the
    prediction methods do not compress it again."""
    df = pd.DataFrame({"frequency": x, "recency": tx, "T": T})
    df.attrs[UNIQUE_ROWS] = True
    return df


def compressed(method: Callable[..., np.ndarray]) -> Callable[..., np.ndarray]:
    """Compute a per-customer prediction once per distinct (frequency, recency, T) row.

    Applies when every argument before the summary is a scalar (a horizon shared by all rows);
    customers with the same history get the same prediction, so a base of millions of customers
    costs as much as its distinct histories.
    """

    @functools.wraps(method)
    def wrapper(self: Any, *args: Any, **kwargs: Any) -> np.ndarray:
        *head, summary = args
        self._check_fitted()
        if getattr(summary, "attrs", {}).get(UNIQUE_ROWS):  # already one row per history
            return method(self, *head, summary, **kwargs)
        x, tx, T = frt_arrays(summary)
        if len(x) < COMPRESS_MIN_ROWS or any(np.ndim(a) > 0 for a in head):
            return method(self, *head, summary, **kwargs)
        if not worth_compressing(T):
            return method(self, *head, unique_rows(x, tx, T), **kwargs)
        xu, txu, Tu, inverse = compress_rows(x, tx, T)
        if len(xu) > 0.7 * len(x):
            return method(self, *head, unique_rows(x, tx, T), **kwargs)
        return method(self, *head, unique_rows(xu, txu, Tu), **kwargs)[inverse]

    return wrapper


def check_penalizer(value: Any) -> float:
    """The L2 penalty of a model's ``penalizer_coef``: a number >= 0 (one check for every model)."""
    if isinstance(value, bool) or not isinstance(value, int | float) or value < 0:
        raise ModelError(f"penalizer_coef must be a number >= 0, got {value!r}")
    return float(value)


def check_count(n: Any) -> int:
    """A purchase count ``n`` of a pmf: a whole number >= 0 (one check for every model)."""
    if isinstance(n, bool) or not isinstance(n, int | float | np.integer | np.floating) or n < 0 or n != int(n):
        raise ModelError(f"n must be a whole number >= 0, got {n!r}")
    return int(n)


class BaseModel:
    """``get_params`` / ``set_params`` / ``repr`` from the ``__init__`` signature, and the fitted check."""

    param_names: ClassVar[tuple[str, ...]] = ()

    def get_params(self, deep: bool = True) -> dict[str, Any]:
        sig = inspect.signature(type(self).__init__)
        return {name: getattr(self, name) for name in sig.parameters if name != "self"}

    def set_params(self, **params: Any) -> BaseModel:
        valid = self.get_params()
        for key, value in params.items():
            if key not in valid:
                raise ModelError(f"{type(self).__name__} has no parameter {key!r}")
            setattr(self, key, value)
        return self

    def __repr__(self) -> str:
        args = ", ".join(f"{k}={v!r}" for k, v in self.get_params().items())
        return f"{type(self).__name__}({args})"

    def _check_fitted(self) -> dict[str, float]:
        params: dict[str, float] | None = getattr(self, "params_", None)
        if params is None:
            raise NotFittedError(f"this {type(self).__name__} is not fitted yet; call fit(summary) first")
        return params

    def _pvec(self) -> np.ndarray:
        params = self._check_fitted()
        return np.array([params[k] for k in self.param_names], dtype=float)

    def _set_fit(self, params: np.ndarray, log_likelihood: float, se: np.ndarray, n: float) -> None:
        self.params_ = {k: float(v) for k, v in zip(self.param_names, params, strict=True)}
        self.log_likelihood_ = float(log_likelihood)
        self.standard_errors_ = {k: float(v) for k, v in zip(self.param_names, se, strict=True)}
        self.n_customers_ = int(round(n))


class TransactionModel(BaseModel):
    """Shared ``fit`` of the non-contractual transaction models (BG/NBD, MBG/NBD, Pareto/NBD).

    Subclasses give ``param_names``, ``time_params`` (parameters in units of time, rescaled after a
    fit on rescaled times), ``_start`` and ``_mean_nll`` (mean negative log-likelihood per customer
    over a :class:`Design`, with its gradient in log-parameters).
    """

    time_params: ClassVar[tuple[str, ...]] = ()
    #: Gradient tolerance of the optimiser (mean log-likelihood per customer, log-parameters).
    _gtol: ClassVar[float] = 1e-9

    #: Centre of the optional prior: the published CDNOW estimates (Fader, Hardie & Lee 2005a;
    #: Schmittlein et al. via FH; Batislam et al.) with the time parameters expressed for a base
    #: whose longest T is 10 (the fit's own time scale; CDNOW's is 38.86 weeks).
    prior_centre: ClassVar[tuple[float, ...]] = ()

    def __init__(self, penalizer_coef: float = 0.0, prior_strength: float = 0.0) -> None:
        self.penalizer_coef = penalizer_coef
        self.prior_strength = prior_strength

    # --- to be provided by each model -------------------------------------------------------
    def _start(self, d: Design) -> np.ndarray:
        raise NotImplementedError

    @staticmethod
    def _mean_nll(theta: np.ndarray, d: Design) -> tuple[float, np.ndarray]:
        raise NotImplementedError

    # --- fitting ------------------------------------------------------------------------------
    def fit(self, data: Any, weights: Any = None) -> TransactionModel:
        """Fit on a summary (``frequency``, ``recency``, ``T``; pandas, Polars or Arrow).

        ``weights`` optionally counts identical customers per row. Returns ``self``.
        """
        penalty = check_penalizer(self.penalizer_coef)
        strength = float(self.prior_strength)
        if not np.isfinite(strength) or strength < 0:
            raise ModelError(f"prior_strength must be a number >= 0, got {self.prior_strength!r}")
        x, tx, T = frt_arrays(data)
        if len(x) == 0:
            raise ModelError("the summary has no rows; nothing to fit")
        if np.all(T == 0):
            raise ModelError("every customer has T = 0; the observation period is empty")
        w = weights_array(data, len(x), weights)
        d = make_design(x, tx, T, w)
        scale = 10.0 / float(d.T.max())
        ds = d.scaled(scale)
        n = d.n_customers
        start = self._start(ds)
        if len(ds.x) > COARSE_MIN_ROWS:
            # Warm start: the same likelihood with times rounded to 1/50 of the longest T has far
            # fewer distinct rows; from its optimum, Newton steps with its Hessian reach the exact
            # optimum in a few gradient evaluations on the full data.
            grid = float(ds.T.max()) / 50.0
            coarse = make_design(ds.x, np.round(ds.tx / grid) * grid, np.round(ds.T / grid) * grid, ds.w)
            cvg: ValueAndGrad = self._objective(coarse, penalty, strength, n)
            cres = minimise(cvg, start, n_obs=n, what=type(self).__name__, gtol=1e-7)
            start = cres.params
        vg: ValueAndGrad = self._objective(ds, penalty, strength, n)
        res = None
        if len(ds.x) > COARSE_MIN_ROWS and cres.hessian is not None:
            theta, f, g = newton_refine(vg, np.log(start), cres.hessian, gtol=self._gtol)
            if np.isfinite(f) and np.max(np.abs(g)) <= self._gtol:  # converged: no BFGS run needed
                res = finish(vg, theta, f, g, n_obs=n, forward=True)
            start = np.exp(theta)
        if res is None:
            res = minimise(vg, start, n_obs=n, what=type(self).__name__, gtol=self._gtol)
        params = res.params.copy()
        factor = np.ones(len(params))
        for name in self.time_params:
            factor[self.param_names.index(name)] = 1.0 / scale
        params *= factor
        if penalty == 0 and strength == 0:
            # the likelihood of times multiplied by `scale` is that of the original times divided
            # by scale^(purchases): one Jacobian factor per purchase time density
            log_likelihood = -res.mean_nll * n + float(np.log(scale)) * float(np.sum(d.w * d.x))
        else:
            log_likelihood = -self._mean_nll(np.log(params), d)[0] * n
        se = standard_errors(res.params, res.log_param_cov) * factor
        self._set_fit(params, log_likelihood, se, n)
        self.fit_info_ = {"log_params": [float(v) for v in np.log(res.params)],
                          "gradient": res.gradient, "hessian_ok": res.log_param_cov is not None,
                          "iterations": res.iterations, "prior_strength": strength}
        return self

    def _objective(self, d: Design, penalty: float, strength: float, n: float) -> ValueAndGrad:
        """Mean NLL with the L2 penalty and, with ``strength`` > 0, a Gaussian prior on the
        log-parameters (sd 1/sqrt(strength)) around :attr:`prior_centre`, both per customer."""
        vg = penalised(lambda th: self._mean_nll(th, d), penalty)
        if strength == 0:
            return vg
        centre = np.log(np.asarray(self.prior_centre, dtype=float))
        k = strength / n

        def out(theta: np.ndarray) -> tuple[float, np.ndarray]:
            f, g = vg(theta)
            dev = theta - centre
            return f + 0.5 * k * float(dev @ dev), g + k * dev

        return out

    # --- predictions common to every transaction model ---------------------------------------
    def expected_purchases(self, t: Any, summary: Any) -> np.ndarray:
        raise NotImplementedError

    def p_alive(self, summary: Any) -> np.ndarray:
        raise NotImplementedError

    def prob_purchases(self, n: int, t: Any, summary: Any) -> np.ndarray:
        raise NotImplementedError

    def expected_purchases_new(self, t: float | np.ndarray) -> np.ndarray:
        raise NotImplementedError

    @compressed
    def median_time_to_next_purchase(self, summary: Any, *, given_alive: bool = False,
                                     max_time: float | None = None, tol: float = 1e-6) -> np.ndarray:
        """Median of the conditional time to the next purchase, in the summary's time unit.

        ``given_alive=False``: solves P(no purchase in (T, T + tau] | history) = 1/2; that probability
        falls to 1 - P(alive), so the median is infinite (``inf``) where P(alive) <= 1/2.
        ``given_alive=True``: the same for a customer known to be alive at T,
        P0_alive(tau) = (P0(tau) - (1 - P(alive))) / P(alive) (report it with P(alive)); infinite
        where even an alive customer may never buy again with probability >= 1/2 (Pareto/NBD).
        """
        self._check_fitted()
        _, _, T = frt_arrays(summary)
        alive = self.p_alive(summary)
        out = np.full(len(T), np.inf)
        finite = alive > (1e-12 if given_alive else 0.5)
        if not finite.any():
            return out
        sub = _take_rows(summary, np.flatnonzero(finite))
        pa = alive[finite]

        def p0(t: np.ndarray) -> np.ndarray:
            raw = self.prob_purchases(0, t, sub)
            return (raw - (1 - pa)) / pa if given_alive else raw

        hi = np.full(int(finite.sum()), max(float(T.max()), 1.0))
        limit = max_time if max_time is not None else 1e6 * max(float(T.max()), 1.0)
        for _ in range(60):  # grow the bracket until P0(hi) < 1/2
            grow = p0(hi) > 0.5
            if not grow.any() or hi.max() >= limit:
                break
            hi = np.where(grow, hi * 4, hi)
        unbracketed = p0(hi) > 0.5  # P0 never fell to 1/2 within the limit
        lo = np.zeros_like(hi)
        for _ in range(200):
            mid = (lo + hi) / 2
            above = p0(mid) > 0.5
            lo = np.where(above, mid, lo)
            hi = np.where(above, hi, mid)
            if np.max(hi - lo) < tol * max(1.0, float(np.max(hi))):
                break
        res = (lo + hi) / 2
        res[unbracketed] = np.inf
        out[finite] = res
        return out


def _take_rows(summary: Any, positions: np.ndarray) -> Any:
    """Rows of a summary by position (pandas, Polars or Arrow)."""
    if hasattr(summary, "iloc"):
        return summary.iloc[positions]
    if hasattr(summary, "column_names") and hasattr(summary, "take"):
        return summary.take(positions)
    return summary[positions]


def broadcast_t(t: Any, n: int) -> np.ndarray:
    """A horizon ``t`` (scalar or one per row) as a float array of length ``n``; must be >= 0."""
    arr = np.asarray(t, dtype=float)
    if arr.ndim == 0:
        arr = np.full(n, float(arr))
    if arr.shape != (n,):
        raise ModelError(f"t must be a number or one number per summary row ({n}), got shape {arr.shape}")
    if np.any(~np.isfinite(arr)) or np.any(arr < 0):
        raise ModelError("t must be finite and >= 0")
    return arr
