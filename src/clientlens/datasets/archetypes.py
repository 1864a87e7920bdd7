"""The sample shop's archetypes and population mix, kept as documented data.

Each :class:`Archetype` says who can have it, how often, what the generator makes a member do, and
the plain rule (feature, threshold) that recovers it. Members' realised behaviour is drawn from
``member`` and non-members' from ``non_member``; a ``borderline`` share of customers (members and
non-members alike) is drawn from the grey zone around the threshold instead, so that no label is
perfectly separable while sensible rules still reach precision and recall of about 0.95.

The generator reads every number from here (or from :class:`GeneratorSettings` overrides); none is
scattered as a literal in the generating code. ``docs/generator.md`` renders this table.

>>> ARCHETYPES["price_conscious"].threshold
0.4
"""

from __future__ import annotations

from dataclasses import dataclass
from types import MappingProxyType
from typing import Any

from pydantic import BaseModel, ConfigDict, Field


@dataclass(frozen=True)
class Archetype:
    """One behavioural archetype of the sample shop."""

    id: str
    #: who can have it (others are never members)
    eligible: str
    #: what a member does, in words
    behaviour: str
    #: the feature (INTERFACES feature table) that shows it, and the rule that recovers it
    feature: str
    rule: str
    threshold: float
    #: range of the generating parameter for members and non-members (see ``behaviour``)
    member: tuple[float, float]
    non_member: tuple[float, float]
    #: grey zone around the threshold used for ``borderline`` customers (either truth)
    grey_zone: tuple[float, float]


_ARCHETYPE_ROWS = (
    Archetype(
        id="price_conscious",
        eligible="purchasing customers",
        behaviour="a share t of the customer's items (lines of completed orders) is bought on promotion "
                  "(line discount 10-50%); members t in [0.5, 0.95], others t in [0, 0.25]",
        feature="promo_item_share", rule="promo_item_share >= 0.40", threshold=0.40,
        member=(0.50, 0.95), non_member=(0.0, 0.25), grey_zone=(0.28, 0.52),
    ),
    Archetype(
        id="brand_loyal",
        eligible="customers with at least 4 completed orders (regular or lapsing)",
        behaviour="a share t of items comes from one favourite category, and 70% of those (new arrivals "
                  "aside) re-buy one of 3 favourite products; members t in [0.78, 1], others spread their "
                  "items round-robin over 5-8 categories (so at most about 0.4 of their items share one)",
        feature="top_category_share", rule="orders >= 3 and top_category_share >= 0.60", threshold=0.60,
        member=(0.78, 1.0), non_member=(0.0, 0.0), grey_zone=(0.45, 0.72),
    ),
    Archetype(
        id="trend_seeker",
        eligible="purchasing customers",
        behaviour="a share t of items are new arrivals (bought within new_arrival_days of the product's "
                  "launch); members t in [0.5, 0.9], others t in [0, 0.15]",
        feature="new_arrival_share", rule="new_arrival_share >= 0.40", threshold=0.40,
        member=(0.50, 0.90), non_member=(0.0, 0.15), grey_zone=(0.28, 0.52),
    ),
    Archetype(
        id="bulk_buyer",
        eligible="purchasing customers (mostly professional and institutional)",
        behaviour="each line's quantity is about q (x0.7-1.3), q log-uniform in [15, 80]; others buy "
                  "1-3 units a line (80% one unit)",
        feature="quantity_per_order", rule="quantity_per_order >= 10", threshold=10.0,
        member=(15.0, 80.0), non_member=(1.0, 3.0), grey_zone=(3.5, 7.0),
    ),
    Archetype(
        id="occasional",
        eligible="purchasing customers who are not new and not lapsing",
        behaviour="2-5 completed orders with irregular gaps (log-normal, sigma 0.8) whose mean is g, "
                  "g in [120, 330] days; regular buyers have gamma gaps (cv about 0.6) with g in [7, 50]",
        feature="ipi_mean_days", rule="purchase_days >= 2 and ipi_mean_days >= 90", threshold=90.0,
        member=(120.0, 330.0), non_member=(7.0, 50.0), grey_zone=(60.0, 120.0),
    ),
    Archetype(
        id="lapsing",
        eligible="regular buyers (at least 3 completed orders)",
        behaviour="bought with its own rhythm g (mean gap) and then stopped: last purchase k x g before "
                  "the end (at least 120 days), k in [4, 12]; active customers' last purchase is at most "
                  "1.1 x g before the end",
        feature="recency_days / ipi_mean_days",
        rule="recency_days >= 3 * ipi_mean_days and recency_days >= 90", threshold=3.0,
        member=(4.0, 12.0), non_member=(0.0, 1.1), grey_zone=(1.8, 4.2),
    ),
    Archetype(
        id="prospect",
        eligible="every customer",
        behaviour="a known contact (newsletter, enquiry, account) who never bought: no orders at all",
        feature="orders", rule="no order of any status", threshold=0.0,
        member=(0.0, 0.0), non_member=(1.0, 1.0), grey_zone=(0.0, 0.0),
    ),
    Archetype(
        id="international",
        eligible="every customer",
        behaviour="lives outside the home country (GB): Vietnam, Poland or France, with that country's "
                  "language, phone, address, city and time zone; buys mostly online or on marketplaces",
        feature="country", rule="country != home country", threshold=0.0,
        member=(0.0, 0.0), non_member=(0.0, 0.0), grey_zone=(0.0, 0.0),
    ),
)

#: The archetypes by id (read-only).
ARCHETYPES: MappingProxyType[str, Archetype] = MappingProxyType({a.id: a for a in _ARCHETYPE_ROWS})
ARCHETYPE_IDS: tuple[str, ...] = tuple(ARCHETYPES)


class GeneratorSettings(BaseModel):
    """Every knob of the sample-shop generator, with its documented default.

    Pass an instance (or a dict of overrides) as ``settings`` to ``generate_shop``.
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    home_country: str = "GB"
    currency: str = "GBP"
    #: years of history before the as-of date
    history_days: int = 1095
    #: share of customers living abroad, and how they split over the other countries
    international_share: float = 0.20
    foreign_country_weights: dict[str, float] = Field(default_factory=lambda: {"FR": 0.4, "PL": 0.35, "VN": 0.25})
    customer_type_shares: dict[str, float] = Field(
        default_factory=lambda: {"individual": 0.86, "professional": 0.10, "institutional": 0.04})
    #: share of customers whose ``kind`` column is filled (the rest must be inferred)
    kind_given_share: float = 0.35
    #: share of professionals whose name has no legal form (a trade name only)
    unmarked_professional_share: float = 0.10
    prospect_share: float = 0.08
    #: frequency profile of purchasing customers (new = first and only orders in the last 90 days)
    frequency_shares: dict[str, float] = Field(
        default_factory=lambda: {"new": 0.06, "occasional": 0.22, "lapsing": 0.15, "regular": 0.57})
    new_customer_window_days: int = 90
    #: archetype shares among eligible customers
    price_conscious_share_by_income: dict[str, float] = Field(
        default_factory=lambda: {"low": 0.45, "middle": 0.28, "high": 0.12, "unknown": 0.25})
    brand_loyal_share: float = 0.30
    brand_loyal_min_orders: int = 4
    trend_seeker_share_by_age: dict[str, float] = Field(
        default_factory=lambda: {"under_35": 0.35, "35_and_over": 0.14, "unknown": 0.20})
    bulk_buyer_share_by_type: dict[str, float] = Field(
        default_factory=lambda: {"individual": 0.02, "professional": 0.55, "institutional": 0.60})
    #: share of customers whose behaviour for an archetype is drawn from its grey zone
    borderline_share: float = 0.04
    #: regular buyers' number of completed orders: 4 + Poisson(mean)
    regular_extra_orders_mean: float = 5.0
    #: lapsing buyers' completed orders before they stopped: 3 + Poisson(mean)
    lapsing_extra_orders_mean: float = 4.0
    #: occasional buyers' completed orders: 2 .. this
    occasional_max_orders: int = 5
    #: share of new customers with a second order inside the window
    new_second_order_share: float = 0.3
    #: lines per order: 1 + Poisson(mean), capped; bulk buyers have more lines
    extra_lines_mean: float = 0.8
    bulk_extra_lines_mean: float = 1.2
    max_lines_per_order: int = 8
    #: loyal buyers re-buy one of their favourite products in this share of their favourite-category items
    favourite_product_share: float = 0.7
    #: how often a customer uses its main channel: uniform in [low, 1]
    channel_stickiness_low: float = 0.55
    lapsing_min_days: int = 120
    #: a line is a new arrival when bought within this many days of the product's launch
    new_arrival_days: int = 30
    #: categories of the catalogue and products launched per category per month
    launches_per_category_per_month: float = 3.0
    base_products_per_category: int = 60
    #: share of customers with extra returned or cancelled orders, and the split
    returning_customer_share: float = 0.15
    returned_vs_cancelled: float = 0.7
    #: the shop's service desk (first responses wait for it outside these hours)
    shop_timezone: str = "Europe/London"
    business_hours: tuple[int, int] = (9, 17)
    business_days: tuple[int, ...] = (0, 1, 2, 3, 4)
    #: shape of regular buyers' gamma gaps (cv = 1/sqrt(shape)) and sigma of occasional log-normal gaps
    regular_gap_shape: float = 2.8
    occasional_gap_sigma: float = 0.8
    #: fewest completed orders per profile (regular, lapsing, occasional)
    min_orders: dict[str, int] = Field(default_factory=lambda: {"regular": 4, "lapsing": 3, "occasional": 2})
    #: first answers inside business hours: phone / in store within this many minutes, chat in this
    #: range of minutes, e-mail and social after a log-normal delay of this median (hours)
    live_reply_minutes: float = 4.0
    chat_reply_minutes: tuple[float, float] = (0.5, 8.0)
    written_reply_median_hours: float = 1.5
    #: a slow thread's backlog (hours) and the mean number of follow-up rounds
    backlog_hours: tuple[float, float] = (24.0, 96.0)
    followup_rounds_mean: float = 0.5
    #: median hours before a customer follows up on an answer
    followup_median_hours: float = 6.0
    #: service: share of customers opening threads, threads per such customer (1 + Poisson)
    contact_share: float = 0.35
    extra_threads_mean: float = 0.6
    slow_service_share: float = 0.18
    csat_response_share: float = 0.5
    nps_response_share: float = 0.25
    #: demographics: share of individuals with the field given, and 29 February births
    birth_date_given_share: float = 0.70
    gender_given_share: float = 0.65
    income_given_share: float = 0.55
    leap_day_birth_share: float = 0.005
    email_share: float = 0.92
    phone_share: float = 0.85
    country_missing_share: float = 0.02
    #: consent rates per channel, and the share of given consents later withdrawn
    consent_rates: dict[str, float] = Field(default_factory=lambda: {
        "email": 0.72, "sms": 0.38, "phone": 0.25, "post": 0.30, "chat": 0.40, "social": 0.20})
    consent_unknown_share: float = 0.05
    consent_withdrawn_share: float = 0.12


def resolve_settings(settings: GeneratorSettings | dict[str, Any] | None) -> GeneratorSettings:
    """Defaults, an instance, or a dict of overrides -> a validated :class:`GeneratorSettings`."""
    if settings is None:
        return GeneratorSettings()
    if isinstance(settings, GeneratorSettings):
        return settings
    return GeneratorSettings.model_validate(dict(settings))


#: channel mix of orders by (customer type or international)
CHANNEL_WEIGHTS: MappingProxyType[str, dict[str, float]] = MappingProxyType({
    "individual": {"online": 0.45, "in_store": 0.30, "phone": 0.05, "marketplace": 0.20},
    "professional": {"online": 0.45, "in_store": 0.15, "phone": 0.30, "marketplace": 0.10},
    "institutional": {"online": 0.50, "in_store": 0.05, "phone": 0.40, "marketplace": 0.05},
    "international": {"online": 0.68, "in_store": 0.0, "phone": 0.04, "marketplace": 0.28},
})


def archetype_table_markdown() -> str:
    """The archetype table as Markdown (``docs/generator.md`` embeds it verbatim)."""
    head = ("| archetype | who can have it | behaviour the generator gives a member | rule that recovers it |\n"
            "|---|---|---|---|\n")
    rows = "".join(f"| `{a.id}` | {a.eligible} | {a.behaviour} | `{a.rule}` |\n" for a in ARCHETYPES.values())
    return head + rows
