"""The ``[models]`` section of the settings as a typed, frozen model."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict

from clientlens.errors import ConfigError


class ModelSettings(BaseModel):
    """Thresholds and choices of the models layer (documented in ``defaults.toml`` ``[models]``)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    transaction_model: Literal["best", "bg_nbd", "pareto_nbd", "mbg_nbd", "mbg_cnbd_k"] = "best"
    penalizer_coef: float = 0.0
    min_customers: int = 20
    min_repeat_buyers: int = 10
    small_base_customers: int = 1000
    prior_strength: float = 1.0
    boundary_log_param: float = 8.0
    max_gradient: float = 1e-4
    default_model: Literal["bg_nbd", "pareto_nbd", "mbg_nbd"] = "bg_nbd"
    holdout_share: float = 1.0 / 3.0
    max_holdout_days: int = 365
    min_holdout_days: int = 28
    min_calibration_days: int = 56
    next_order_max_days: int = 730
    short_horizon_days: int = 90
    long_horizon_days: int = 365
    clv_horizon_months: int = 12
    monthly_discount_rate: float = 0.01
    interval_level: float = 0.8
    interval_draws: int = 20
    next_products: int = 5
    recommend_neighbours: int = 200
    recommend_popularity_alpha: float = 0.5
    recommend_exclude_purchased: bool = False
    selection_file: str = "clientlens.models.json"


def model_settings(settings: Any) -> ModelSettings:
    """``settings.models`` (a dict, a :class:`ModelSettings` or None) validated."""
    raw = getattr(settings, "models", settings)
    if isinstance(raw, ModelSettings):
        return raw
    try:
        return ModelSettings.model_validate(dict(raw or {}))
    except Exception as exc:
        raise ConfigError(f"invalid [models] configuration: {exc}") from exc
