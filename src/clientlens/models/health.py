"""No silent nonsense: fits checked for degenerate optima and small bases, regularised or left empty.

:func:`fit_checked` is how the scoring and the validation fit a transaction model. The rules, with
the thresholds of ``[models]`` in ``defaults.toml``:

1. fewer than ``min_customers`` purchasing customers, or fewer than ``min_repeat_buyers`` repeat
   buyers: no model (status ``empty``); the scores stay empty.
2. fewer than ``small_base_customers``: the maximum a posteriori fit with a weak prior
   (``prior_strength``: a Gaussian on the log-parameters, sd 1/sqrt(strength), around the published
   CDNOW estimates on the fit's time scale) instead of plain maximum likelihood (status
   ``regularised``): on a few dozen customers the likelihood is flat and its optimum often sits on
   a boundary.
3. otherwise maximum likelihood; a *degenerate* optimum (a scaled log-parameter beyond
   ``boundary_log_param``, a Hessian that is not positive definite, or a final gradient above
   ``max_gradient``) is refitted with the prior (status ``regularised``).
4. a regularised fit that is still degenerate falls back to BG/NBD with the prior (``fallback``),
   and when that fails too there is no model (``empty``).

Every outcome carries its status and the reasons (``notes``), which the analysis writes to
``run.json`` and to the scores' ``model_status`` column.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from clientlens.errors import ModelError
from clientlens.models._base import TransactionModel
from clientlens.models._data import frt_arrays
from clientlens.models.config import ModelSettings

log = logging.getLogger(__name__)

#: The statuses of a fit, from best to worst.
STATUSES = ("ok", "regularised", "fallback", "empty")


@dataclass
class FitOutcome:
    """A checked fit: the model (None when ``status`` is ``empty``), its status and why."""

    model: TransactionModel | None
    status: str
    notes: list[str] = field(default_factory=list)
    name: str | None = None


def fit_problems(model: TransactionModel, cfg: ModelSettings) -> list[str]:
    """Why a fitted model's optimum is degenerate (empty when it is not)."""
    info = getattr(model, "fit_info_", None)
    if info is None:
        return ["the model records no fit diagnostics"]
    out = []
    names = model.param_names
    edge = [n for n, v in zip(names, info["log_params"], strict=True) if abs(v) > cfg.boundary_log_param]
    if edge:
        out.append(f"parameter(s) {', '.join(edge)} at the boundary (|log| > {cfg.boundary_log_param:g} on the "
                   "fit's scale)")
    if not info["hessian_ok"]:
        out.append("the likelihood's Hessian is not positive definite at the optimum")
    if info["gradient"] > cfg.max_gradient:
        out.append(f"the optimiser stopped with gradient {info['gradient']:.2g} > {cfg.max_gradient:g}")
    if not all(np.isfinite(v) for v in model.params_.values()):
        out.append("non-finite parameters")
    return out


def _fit(cls: type[TransactionModel], summary: Any, cfg: ModelSettings, strength: float) -> TransactionModel:
    return cls(penalizer_coef=cfg.penalizer_coef, prior_strength=strength).fit(summary)


def fit_checked(name: str, summary: Any, cfg: ModelSettings) -> FitOutcome:
    """Fit the transaction model ``name`` ("bg_nbd", ...) by the rules of the module docstring."""
    from clientlens.models import TRANSACTION_MODELS

    if name not in TRANSACTION_MODELS:
        raise ModelError(f"unknown transaction model {name!r}; use one of {', '.join(TRANSACTION_MODELS)}")
    x, _, _ = frt_arrays(summary)
    n, repeat = len(x), int((x > 0).sum())
    if n < cfg.min_customers:
        return FitOutcome(None, "empty", [f"only {n} purchasing customers (< [models] min_customers = "
                                          f"{cfg.min_customers}): no model scores"], name)
    if repeat < cfg.min_repeat_buyers:
        return FitOutcome(None, "empty", [f"only {repeat} repeat buyers (< [models] min_repeat_buyers = "
                                          f"{cfg.min_repeat_buyers}): no model scores"], name)
    cls = TRANSACTION_MODELS[name]
    notes: list[str] = []
    status = "ok"
    try:
        if n < cfg.small_base_customers:
            notes.append(f"{n} customers (< [models] small_base_customers = {cfg.small_base_customers}): "
                         f"fitted with a weak prior (strength {cfg.prior_strength:g})")
            model = _fit(cls, summary, cfg, cfg.prior_strength)
            status = "regularised"
        else:
            model = _fit(cls, summary, cfg, 0.0)
            problems = fit_problems(model, cfg)
            if problems:
                notes.append(f"{name}: degenerate maximum-likelihood fit ({'; '.join(problems)}): refitted "
                             f"with a weak prior (strength {cfg.prior_strength:g})")
                model = _fit(cls, summary, cfg, cfg.prior_strength)
                status = "regularised"
    except ModelError as exc:
        notes.append(f"{name} could not be fitted: {exc}")
        model, status = None, "regularised"
    problems = fit_problems(model, cfg) if model is not None else ["no fit"]
    if not problems:
        return FitOutcome(model, status, notes, name)
    notes.append(f"{name} with the prior is still degenerate ({'; '.join(problems)})")
    if name != "bg_nbd":
        try:
            fallback = _fit(TRANSACTION_MODELS["bg_nbd"], summary, cfg, cfg.prior_strength)
        except ModelError as exc:
            notes.append(f"bg_nbd could not be fitted either: {exc}")
        else:
            if not fit_problems(fallback, cfg):
                notes.append("fell back to bg_nbd with the prior")
                return FitOutcome(fallback, "fallback", notes, "bg_nbd")
    notes.append("no model scores")
    for note in notes:
        log.warning(note)
    return FitOutcome(None, "empty", notes, name)


def worst_status(statuses: list[str]) -> str:
    """The worst of several statuses (``ok`` < ``regularised`` < ``fallback`` < ``empty``)."""
    return max(statuses, key=STATUSES.index) if statuses else "ok"
