"""Per-customer scores for a snapshot: P(alive), expected purchases, CLV, next order date, next products.

``score_customers`` is what ``clientlens analyze`` calls (docs/interfaces.md, ``scores.parquet``):

>>> from clientlens.config import load_settings
>>> from clientlens.datasets import load_cdnow_sample
>>> scores = score_customers(load_cdnow_sample(), None, as_of="1997-09-30",
...                          settings=load_settings(search_cwd=False), model="bg_nbd")
>>> list(scores.columns)[:4]
['customer_id', 'model', 'p_alive', 'expected_purchases_90d']
"""

from __future__ import annotations

import json
import logging
from typing import Any

import numpy as np
import pandas as pd

from clientlens.errors import ModelError
from clientlens.features.btyd import unit_days
from clientlens.models import TRANSACTION_MODELS
from clientlens.models._base import TransactionModel, unique_rows
from clientlens.models._data import as_pandas
from clientlens.models.clv import clv, expected_next_order
from clientlens.models.config import ModelSettings, model_settings
from clientlens.models.gamma_gamma import GammaGamma
from clientlens.models.recommend import ItemToItemRecommender

log = logging.getLogger(__name__)

SCORE_COLUMNS = ["customer_id", "model", "p_alive", "expected_purchases_90d", "expected_purchases_365d", "clv",
                 "expected_next_order", "next_products"]
#: Columns after the interface's: ``model_status`` (ok, regularised, fallback, empty; see
#: :mod:`clientlens.models.health`).
EXTRA_COLUMNS = ["model_status"]
#: The 80% (``[models] interval_level``) intervals of purchases over the long horizon and of CLV
#: (:mod:`clientlens.models.intervals`), stored in ``snapshot_scores`` (migration 0017).
INTERVAL_COLUMNS = ["purchases_365d_low", "purchases_365d_high", "clv_low", "clv_high"]


def model_name(model: TransactionModel) -> str:
    """Configuration name of a fitted transaction model ("bg_nbd", ...)."""
    for key, cls in TRANSACTION_MODELS.items():
        if type(model) is cls:
            return key
    return type(model).__name__


def _mean_order_value(orders: pd.DataFrame, ids: pd.Index) -> np.ndarray:
    from clientlens.models.validation import purchases_only

    o = purchases_only(orders)
    mean = o.groupby(o["customer_id"].astype(str))["total"].mean()
    return mean.reindex(ids.astype(str)).to_numpy(dtype=float)


def _selection(settings: Any, cfg: ModelSettings) -> Any:
    """The selection file that ``clientlens validate`` writes for the settings' store."""
    from clientlens.models.validation import selection_path

    return selection_path(getattr(getattr(settings, "store", None), "url", None), cfg.selection_file)


def choose_transaction_model(orders: pd.DataFrame, *, as_of: Any, settings: Any, model: str | None = None,
                             shop: str | None = None) -> Any:
    """The :class:`~clientlens.models.validation.ModelChoice` of ``analyze``: the configured model, or
    for "best" the one choice shared with ``validate`` (:func:`~clientlens.models.validation.choose_model`)."""
    from clientlens.models.validation import ModelChoice, choose_model

    cfg = model_settings(settings)
    name = model or cfg.transaction_model
    if name != "best":
        if name not in TRANSACTION_MODELS:
            raise ModelError(f"unknown transaction model {name!r}; use one of best, {', '.join(TRANSACTION_MODELS)}")
        return ModelChoice(name, "configured" if model is None else "requested")
    time_unit = getattr(getattr(settings, "features", None), "time_unit", "W")
    # analyze reads the saved choice but never writes one (no file appears beside a store or in
    # the current folder as a side effect of an analysis); its automatic choice is deterministic.
    return choose_model(orders, as_of=as_of, settings=cfg, time_unit=time_unit,
                        selection=_selection(settings, cfg), shop=shop or "default", save=False)


def score_customers(transactions: Any, order_lines: Any, *, as_of: Any, settings: Any,
                    model: str | None = None, shop: str | None = None) -> pd.DataFrame:
    """Scores of every purchasing customer (one-time buyers included), ``SCORE_COLUMNS`` first.

    ``transactions`` is the canonical orders frame (customer_id, order_id, order_date, total,
    status); ``order_lines`` (order_id, product_id, ...) feeds the next-products recommender and
    may be None. ``model`` overrides ``[models] transaction_model`` ("best", "bg_nbd",
    "pareto_nbd", "mbg_nbd"). "best" is the model choice shared with ``clientlens validate``
    (:func:`choose_transaction_model`). The fit is checked (:mod:`clientlens.models.health`):
    ``model_status`` says whether it is a plain fit (``ok``), ``regularised``, a ``fallback`` or
    ``empty``, and ``scores.attrs["models"]`` holds the choice, the status and the reasons (the
    analysis writes them to ``run.json``).
    """
    from clientlens.features import rfm_summary
    from clientlens.models.health import fit_checked

    cfg = model_settings(settings)
    features = getattr(settings, "features", None)
    time_unit = getattr(features, "time_unit", "W")
    orders = as_pandas(transactions)
    summary = rfm_summary(orders, observation_end=as_of, time_unit=time_unit)
    if len(summary):
        from clientlens.models.regularity import add_litt

        summary = add_litt(summary, orders, end=as_of, time_unit=time_unit)  # regularity models' choice of k
    ids = summary.index.astype(str)
    n = len(summary)
    out = pd.DataFrame({"customer_id": np.asarray(ids, dtype=object)})
    out["model"] = "none"
    for col in ("p_alive", "expected_purchases_90d", "expected_purchases_365d", "clv", *INTERVAL_COLUMNS):
        out[col] = np.nan
    out["expected_next_order"] = pd.Series(pd.NaT, index=out.index, dtype="datetime64[ns]")
    out["next_products"] = "[]"
    out["model_status"] = "empty"
    info: dict[str, Any] = {"status": "empty", "model": None, "notes": [], "choice": None}
    if n == 0:
        info["notes"].append("no purchasing customers")
        return _finish(out, info)
    choice = choose_transaction_model(orders, as_of=as_of, settings=settings, model=model, shop=shop)
    info["choice"] = choice.as_dict()
    outcome = fit_checked(choice.name, summary, cfg)
    info.update(status=outcome.status, model=outcome.name, notes=list(outcome.notes))
    if outcome.model is not None:
        info["params"] = dict(outcome.model.params_)
        info["spend_model"] = _fill_transaction_scores(out, outcome.model, summary, orders, cfg, time_unit, as_of)
        out["model_status"] = outcome.status
    for note in outcome.notes:
        log.warning("scores: %s", note)
    if order_lines is not None:
        out["next_products"] = _next_products(orders, as_pandas(order_lines), out["customer_id"].tolist(), cfg)
    return _finish(out, info)


def _finish(out: pd.DataFrame, info: dict[str, Any]) -> pd.DataFrame:
    res = out[SCORE_COLUMNS + EXTRA_COLUMNS + INTERVAL_COLUMNS].copy()
    res.attrs["models"] = info
    return res


def predict_scores(transaction_model: TransactionModel, summary: Any, *, horizons: tuple[float, ...]
                   ) -> tuple[np.ndarray, list[np.ndarray]]:
    """P(alive) and expected purchases for each horizon (in the summary's time unit), computed once
    per distinct (frequency, recency, T) history and expanded to the summary's rows."""
    from clientlens.models._data import compress_rows, frt_arrays, worth_compressing

    x, tx, T = frt_arrays(summary)
    xu, txu, Tu, inverse = x, tx, T, np.arange(len(x))
    if worth_compressing(T):
        xu, txu, Tu, inverse = compress_rows(x, tx, T)
        if len(xu) > 0.7 * len(x):  # hardly any repeated history: no compression
            xu, txu, Tu, inverse = x, tx, T, np.arange(len(x))
    unique = unique_rows(xu, txu, Tu)
    alive = transaction_model.p_alive(unique)[inverse]
    return alive, [transaction_model.expected_purchases(h, unique)[inverse] for h in horizons]


def _fill_transaction_scores(out: pd.DataFrame, tm: TransactionModel, summary: pd.DataFrame, orders: pd.DataFrame,
                             cfg: ModelSettings, time_unit: str, as_of: Any) -> str:
    days = unit_days(time_unit)
    out["model"] = model_name(tm)
    alive, (short, long) = predict_scores(tm, summary, horizons=(cfg.short_horizon_days / days,
                                                                 cfg.long_horizon_days / days))
    out["p_alive"] = alive
    out["expected_purchases_90d"] = short
    out["expected_purchases_365d"] = long
    out["expected_next_order"] = expected_next_order(tm, summary, as_of, time_unit=time_unit, given_alive=True,
                                                     max_days=cfg.next_order_max_days).to_numpy()
    repeat = summary[(summary["frequency"] > 0) & (summary["monetary_value"] > 0)]
    spend_model: Any = None
    if len(repeat) >= cfg.min_repeat_buyers:
        try:
            spend_model = GammaGamma(penalizer_coef=cfg.penalizer_coef).fit(repeat)
        except ModelError as exc:
            log.warning("no Gamma-Gamma spend model: %s", exc)
    spend_name = "gamma_gamma"
    if spend_model is None:
        spend_model = _MeanSpend(_mean_order_value(orders, summary.index))
        spend_name = "mean_order_value"
    out["clv"] = clv(tm, spend_model, summary, horizon_months=cfg.clv_horizon_months,
                     monthly_discount_rate=cfg.monthly_discount_rate, time_unit=time_unit)
    _fill_intervals(out, tm, summary, cfg, days)
    return spend_name


def _fill_intervals(out: pd.DataFrame, tm: TransactionModel, summary: pd.DataFrame, cfg: ModelSettings,
                    days: float) -> None:
    """The purchase and CLV intervals (:mod:`clientlens.models.intervals`)."""
    from clientlens.models.intervals import clv_interval, purchase_intervals

    long_t = cfg.long_horizon_days / days
    lo, hi = purchase_intervals(tm, summary, long_t, level=cfg.interval_level, draws=cfg.interval_draws)
    out["purchases_365d_low"], out["purchases_365d_high"] = lo, hi
    clv_t = cfg.clv_horizon_months * 365.25 / 12 / days
    if abs(clv_t - long_t) * days > 1:  # the CLV horizon is not the long horizon: its own counts
        lo, hi = purchase_intervals(tm, summary, clv_t, level=cfg.interval_level, draws=cfg.interval_draws)
        expected = tm.expected_purchases(clv_t, summary)
    else:
        expected = out["expected_purchases_365d"].to_numpy(dtype=float)
    out["clv_low"], out["clv_high"] = clv_interval(out["clv"].to_numpy(dtype=float), expected, lo, hi)


class _MeanSpend:
    """Fallback spend model: each customer's own mean order value."""

    def __init__(self, values: np.ndarray) -> None:
        self.values = np.nan_to_num(values, nan=0.0)

    def expected_spend(self, summary: Any) -> np.ndarray:
        return self.values


def _next_products(orders: pd.DataFrame, lines: pd.DataFrame, customers: list[str], cfg: ModelSettings) -> list[str]:
    if lines.empty or "product_id" not in lines.columns:
        return ["[]"] * len(customers)
    try:
        rec = ItemToItemRecommender(n_neighbours=cfg.recommend_neighbours,
                                    popularity_alpha=cfg.recommend_popularity_alpha,
                                    exclude_purchased=cfg.recommend_exclude_purchased).fit(lines, orders)
    except ModelError as exc:
        log.warning("no next products: %s", exc)
        return ["[]"] * len(customers)
    recs = rec.recommend(customers, lines, k=cfg.next_products, orders=orders)
    return [json.dumps(recs.get(c, [])) for c in customers]
