"""Thin adapters over the layers below: the feature table (``clientlens.features``) and the model
scores (``clientlens.models.scoring.score_customers``).
"""

from __future__ import annotations

import importlib.util
import logging
from datetime import date
from typing import Any

import ibis.expr.types as ir
import pandas as pd

from clientlens.config import Settings
from clientlens.errors import ClientlensError, EngineError, ModelError
from clientlens.models._data import as_pandas

log = logging.getLogger(__name__)

def to_pandas(result: Any, engine: Any) -> pd.DataFrame:
    """An Ibis expression (run on ``engine``), Arrow table or pandas frame as pandas."""
    if isinstance(result, ir.Table):
        return engine.to_pandas(result)  # type: ignore[no-any-return]
    try:
        return as_pandas(result)  # the models' one conversion of pandas, Polars or Arrow
    except ModelError as exc:
        raise EngineError(f"the feature table came back as {type(result).__name__}, not a table") from exc


def feature_frame(engine: Any, tables: dict[str, ir.Table], *, as_of: date, home_country: str | None,
                  settings: Settings, shop: str | None = None) -> pd.DataFrame:
    """The feature table (one row per customer) computed by ``clientlens.features`` on ``engine``."""
    from clientlens.features import customer_features

    expr = customer_features(tables, as_of=as_of, home_country=home_country, settings=settings, shop=shop,
                             engine=engine)
    return to_pandas(expr, engine)


def scoring_available() -> bool:
    """Whether the model layer is installed with this package (it ships with it)."""
    return importlib.util.find_spec("clientlens.models.scoring") is not None


def score(orders: pd.DataFrame, order_lines: pd.DataFrame | None, *, as_of: date,
          settings: Settings, shop: str | None = None) -> pd.DataFrame | None:
    """Model scores per customer (scores.parquet columns), or None when the models cannot score
    this shop (the reason is logged)."""
    from clientlens.models.scoring import score_customers

    try:
        result = score_customers(orders, order_lines, as_of=as_of, settings=settings, shop=shop)
    except ClientlensError as exc:
        log.warning("no model scores: %s", exc)
        return None
    return None if result is None else to_pandas(result, None)
