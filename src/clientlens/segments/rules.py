"""The ``[segments.*]`` configuration, validated into typed, frozen pydantic models.

Every threshold used by a taxonomy lives in ``defaults.toml`` (documented there and in
docs/segments.md); the code reads them only through :class:`SegmentRules`.

>>> from clientlens.config import load_settings
>>> rules = SegmentRules.from_settings(load_settings(search_cwd=False))
>>> rules.psychology.price_conscious_min_promo_share
0.4
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from pydantic import BaseModel, ConfigDict, Field, model_validator

from clientlens.errors import ConfigError

if TYPE_CHECKING:
    from clientlens.config import Settings

#: The taxonomies and their label ids (docs/interfaces.md), in display order.
TAXONOMIES: dict[str, tuple[str, ...]] = {
    "customer_type": ("individual", "professional", "institutional"),
    "age_band": ("youth", "adult", "senior", "unknown"),
    "gender": ("female", "male", "other", "unknown"),
    "income_band": ("low", "middle", "high", "unknown"),
    "psychology": ("price_conscious", "brand_loyal", "trend_seeker"),
    "volume": ("bulk", "regular", "small"),
    "frequency": ("weekly", "monthly", "occasional", "one_off"),
    "value": ("high", "medium", "low"),
    "channel": ("online", "in_store", "phone", "marketplace", "omnichannel"),
    "lifecycle": ("potential", "new", "loyal", "occasional", "inactive"),
    "geography": ("domestic", "international"),
    "rfm_segment": ("champions", "loyal_customers", "potential_loyalist", "new_customers", "promising",
                    "need_attention", "about_to_sleep", "at_risk", "cant_lose_them", "hibernating", "lost"),
    "revenue_tier": ("top_20", "rest"),
}
#: Taxonomies where a customer may hold several labels.
MULTI_LABEL = frozenset({"psychology"})


class _Rules(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class GeneralRules(_Rules):
    significant_digits: int = Field(6, ge=1, le=17)


class CustomerTypeRules(_Rules):
    legal_forms: tuple[str, ...] = ()
    public_bodies: tuple[str, ...] = ()
    tax_id_words: tuple[str, ...] = ()
    tax_id_min_digits: int = Field(7, ge=1)
    trade_words: tuple[str, ...] = ()
    wholesale_quantity_per_order: float = Field(50.0, gt=0)
    wholesale_min_orders: int = Field(2, ge=1)
    wholesale_requires_no_personal_data: bool = True


class AgeBandRules(_Rules):
    youth_below: int = Field(25, ge=0)
    senior_from: int = Field(65, ge=0)

    @model_validator(mode="after")
    def _ordered(self) -> AgeBandRules:
        if self.youth_below > self.senior_from:
            raise ValueError("segments.age_band: youth_below must not exceed senior_from")
        return self


class IncomeBandRules(_Rules):
    low_below: float = 30000.0
    high_from: float = 80000.0


class PsychologyRules(_Rules):
    min_items: int = Field(4, ge=1)
    min_orders: int = Field(2, ge=1)
    price_conscious_min_promo_share: float = Field(0.4, ge=0, le=1)
    brand_loyal_min_top_category_share: float = Field(0.6, ge=0, le=1)
    brand_loyal_min_repeat_product_share: float = Field(0.5, ge=0, le=1)
    brand_loyal_min_orders: int = Field(3, ge=1)
    brand_loyal_min_items: int = Field(5, ge=1)
    trend_seeker_min_new_arrival_share: float = Field(0.4, ge=0, le=1)


class VolumeRules(_Rules):
    bulk_from: float = Field(10.0, gt=0)
    small_below: float = Field(1.5, gt=0)


class FrequencyRules(_Rules):
    weekly_max_days: float = Field(10.0, gt=0)
    weekly_min_purchase_days: int = Field(3, ge=2)
    monthly_max_days: float = Field(45.0, gt=0)


class ValueRules(_Rules):
    high_from_median_multiple: float = Field(3.0, gt=0)
    low_below_median_multiple: float = Field(0.5, ge=0)


class ChannelRules(_Rules):
    dominant_min_share: float = Field(0.7, gt=0, le=1)
    omnichannel_min_channels: int = Field(2, ge=2)


class LifecycleRules(_Rules):
    rhythm_multiple: float = Field(3.0, gt=0)
    floor_days: float = Field(90.0, ge=0)
    one_off_rhythm_days: float = Field(90.0, gt=0)
    p_alive_below: float = Field(0.3, ge=0, le=1)
    new_days: int = Field(90, ge=0)
    loyal_min_purchase_days: int = Field(4, ge=1)
    loyal_max_interval_days: float = Field(90.0, gt=0)


class GeographyRules(_Rules):
    pass


class RfmCell(_Rules):
    label: str
    r_min: int
    r_max: int
    fm_min: float
    fm_max: float


class RfmRules(_Rules):
    scores: int = Field(5, ge=2)
    segments: tuple[RfmCell, ...] = ()

    @model_validator(mode="after")
    def _complete(self) -> RfmRules:
        """Every (R, FM) cell must be covered, with labels of the rfm_segment taxonomy."""
        known = set(TAXONOMIES["rfm_segment"])
        for cell in self.segments:
            if cell.label not in known:
                raise ValueError(f"segments.rfm.segments: unknown label {cell.label!r}")
        for r in range(1, self.scores + 1):
            for half in range(2, 2 * self.scores + 1):
                fm = half / 2
                if not any(c.r_min <= r <= c.r_max and c.fm_min <= fm <= c.fm_max for c in self.segments):
                    raise ValueError(f"segments.rfm.segments: no row covers R={r}, FM={fm}")
        return self


class RevenueTierRules(_Rules):
    top_share: float = Field(0.2, gt=0, lt=1)
    lorenz_points: int = Field(201, ge=3)


class CohortRules(_Rules):
    max_months: int = Field(24, ge=1)


class DashboardRules(_Rules):
    """``[segments.dashboard]``: what the dashboard's figures of a snapshot count (``analysis.dashboard``)."""

    active_days: int = Field(365, ge=1)
    clv_bins: int = Field(30, ge=2)
    rfm_scores: int = Field(5, ge=2)


class SegmentRules(_Rules):
    """All the ``[segments.*]`` sections (every key comes from ``defaults.toml``)."""

    general: GeneralRules
    customer_type: CustomerTypeRules
    age_band: AgeBandRules
    income_band: IncomeBandRules
    psychology: PsychologyRules
    volume: VolumeRules
    frequency: FrequencyRules
    value: ValueRules
    channel: ChannelRules
    lifecycle: LifecycleRules
    geography: GeographyRules
    rfm: RfmRules
    revenue_tier: RevenueTierRules
    cohorts: CohortRules
    dashboard: DashboardRules

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> SegmentRules:
        try:
            return cls.model_validate(data)
        except Exception as exc:  # pydantic names the key
            raise ConfigError(f"invalid [segments] configuration: {exc}") from exc

    @classmethod
    def from_settings(cls, settings: Settings | None = None) -> SegmentRules:
        """The rules of ``settings`` (the packaged defaults when None)."""
        if settings is None:
            from clientlens.config import load_settings

            settings = load_settings(search_cwd=False)
        return cls.from_dict(dict(settings.segments))
