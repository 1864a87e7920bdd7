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
from clientlens.models import TRANSACTION_MODELS
from clientlens.models._base import TransactionModel
from clientlens.models._data import as_pandas
from clientlens.models.clv import clv, expected_next_order, unit_days
from clientlens.models.config import ModelSettings, model_settings
from clientlens.models.gamma_gamma import GammaGamma
from clientlens.models.recommend import ItemToItemRecommender

log = logging.getLogger(__name__)

SCORE_COLUMNS = ["customer_id", "model", "p_alive", "expected_purchases_90d", "expected_purchases_365d", "clv",
                 "expected_next_order", "next_products"]


def fit_transaction_model(summary: pd.DataFrame, name: str, cfg: ModelSettings) -> TransactionModel:
    """Fit the named model, or for ``"best"`` every model, keeping the highest log-likelihood
    (they all have four parameters, so this is also the best AIC and BIC)."""
    if name != "best":
        if name not in TRANSACTION_MODELS:
            raise ModelError(f"unknown transaction model {name!r}; use one of best, {', '.join(TRANSACTION_MODELS)}")
        return TRANSACTION_MODELS[name](penalizer_coef=cfg.penalizer_coef).fit(summary)
    best: TransactionModel | None = None
    for key, cls in TRANSACTION_MODELS.items():
        try:
            m = cls(penalizer_coef=cfg.penalizer_coef).fit(summary)
        except ModelError as exc:
            log.warning("%s could not be fitted: %s", key, exc)
            continue
        if best is None or m.log_likelihood_ > best.log_likelihood_:
            best = m
    if best is None:
        raise ModelError("no transaction model could be fitted on this shop")
    return best


def model_name(model: TransactionModel) -> str:
    """Configuration name of a fitted transaction model ("bg_nbd", ...)."""
    for key, cls in TRANSACTION_MODELS.items():
        if type(model) is cls:
            return key
    return type(model).__name__


def _mean_order_value(orders: pd.DataFrame, ids: pd.Index) -> np.ndarray:
    o = orders
    if "status" in o.columns:
        o = o[~o["status"].astype("string").str.lower().isin(["returned", "cancelled"]).fillna(False)]
    mean = o.groupby(o["customer_id"].astype(str))["total"].mean()
    return mean.reindex(ids.astype(str)).to_numpy(dtype=float)


def score_customers(transactions: Any, order_lines: Any, *, as_of: Any, settings: Any,
                    model: str | None = None, shop: str | None = None) -> pd.DataFrame:
    """Scores of every purchasing customer (one-time buyers included), in ``SCORE_COLUMNS`` order.

    ``transactions`` is the canonical orders frame (customer_id, order_id, order_date, total,
    status); ``order_lines`` (order_id, product_id, ...) feeds the next-products recommender and
    may be None. ``model`` overrides ``[models] transaction_model`` ("best", "bg_nbd",
    "pareto_nbd", "mbg_nbd"). With ``shop`` given and "best" configured, the model that
    ``clientlens validate --save`` recorded for the shop (next to a SQLite store) is used.
    """
    from clientlens.features import rfm_summary

    cfg = model_settings(settings)
    features = getattr(settings, "features", None)
    time_unit = getattr(features, "time_unit", "W")
    orders = as_pandas(transactions)
    summary = rfm_summary(orders, observation_end=as_of, time_unit=time_unit)
    ids = summary.index.astype(str)
    n = len(summary)
    out = pd.DataFrame({"customer_id": np.asarray(ids, dtype=object)})
    out["model"] = "none"
    for col in ("p_alive", "expected_purchases_90d", "expected_purchases_365d", "clv"):
        out[col] = np.nan
    out["expected_next_order"] = pd.Series(pd.NaT, index=out.index, dtype="datetime64[ns]")
    out["next_products"] = "[]"
    if n == 0:
        return out[SCORE_COLUMNS]
    name = model or cfg.transaction_model
    if name == "best" and shop is not None:
        from clientlens.models.validation import load_selection, selection_path

        store = getattr(settings, "store", None)
        name = load_selection(selection_path(getattr(store, "url", None), cfg.selection_file), shop) or name
    if n >= cfg.min_customers:
        try:
            tm = fit_transaction_model(summary, name, cfg)
        except ModelError as exc:
            log.warning("no transaction model: %s", exc)
            tm = None
        if tm is not None:
            _fill_transaction_scores(out, tm, summary, orders, cfg, time_unit, as_of)
    else:
        log.warning("only %d purchasing customers (< [models] min_customers = %d): no model scores",
                    n, cfg.min_customers)
    if order_lines is not None:
        out["next_products"] = _next_products(orders, as_pandas(order_lines), out["customer_id"].tolist(), cfg)
    return out[SCORE_COLUMNS]


def predict_scores(transaction_model: TransactionModel, summary: Any, *, horizons: tuple[float, ...]
                   ) -> tuple[np.ndarray, list[np.ndarray]]:
    """P(alive) and expected purchases for each horizon (in the summary's time unit), computed once
    per distinct (frequency, recency, T) history and expanded to the summary's rows."""
    from clientlens.models._data import compress_rows, frt_arrays

    x, tx, T = frt_arrays(summary)
    xu, txu, Tu, inverse = compress_rows(x, tx, T)
    unique = pd.DataFrame({"frequency": xu, "recency": txu, "T": Tu})
    alive = transaction_model.p_alive(unique)[inverse]
    return alive, [transaction_model.expected_purchases(h, unique)[inverse] for h in horizons]


def _fill_transaction_scores(out: pd.DataFrame, tm: TransactionModel, summary: pd.DataFrame, orders: pd.DataFrame,
                             cfg: ModelSettings, time_unit: str, as_of: Any) -> None:
    days = unit_days(time_unit)
    out["model"] = model_name(tm)
    alive, (short, long) = predict_scores(tm, summary, horizons=(cfg.short_horizon_days / days,
                                                                 cfg.long_horizon_days / days))
    out["p_alive"] = alive
    out["expected_purchases_90d"] = short
    out["expected_purchases_365d"] = long
    out["expected_next_order"] = expected_next_order(tm, summary, as_of, time_unit=time_unit).to_numpy()
    repeat = summary[(summary["frequency"] > 0) & (summary["monetary_value"] > 0)]
    spend_model: Any = None
    if len(repeat) >= cfg.min_repeat_buyers:
        try:
            spend_model = GammaGamma(penalizer_coef=cfg.penalizer_coef).fit(repeat)
        except ModelError as exc:
            log.warning("no Gamma-Gamma spend model: %s", exc)
    if spend_model is None:
        spend_model = _MeanSpend(_mean_order_value(orders, summary.index))
    out["clv"] = clv(tm, spend_model, summary, horizon_months=cfg.clv_horizon_months,
                     monthly_discount_rate=cfg.monthly_discount_rate, time_unit=time_unit)


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
