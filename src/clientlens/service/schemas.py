"""Request and response schemas (``XCreate / XUpdate / XRead``, paged ``{data, count}``), apart from the ORM."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Annotated, Any, Generic, Literal, TypeVar

from pydantic import AfterValidator, BaseModel, ConfigDict, Field

T = TypeVar("T")


def _aware_utc(value: datetime) -> datetime:
    """The store keeps naive UTC; the API says so: every timestamp leaves with its offset (``Z``)."""
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


#: A timestamp serialised as aware UTC (RFC 3339 ``date-time``: ``2024-05-01T10:00:00Z``).
UtcDateTime = Annotated[datetime, AfterValidator(_aware_utc)]

RoleName = Literal["admin", "analyst", "agent"]


class Page(BaseModel, Generic[T]):
    """One page of a list: the rows, the total matching, and the cursor of the next page."""

    data: list[T]
    count: int
    next_cursor: str | None = None


class Message(BaseModel):
    message: str


class ShopRead(BaseModel):
    name: str
    customers: int
    orders: int
    last_order: date | None = None
    last_analysis: date | None = None


class CustomerRead(BaseModel):
    customer_id: str
    name: str | None = None
    email: str | None = None
    country: str | None = None
    city: str | None = None
    language: str | None = None
    preferred_channel: str | None = None
    kind: str | None = None
    created_at: UtcDateTime | None = None
    clv: float | None = None
    p_alive: float | None = None
    labels: dict[str, list[str]] = Field(default_factory=dict)


class LabelRead(BaseModel):
    taxonomy: str
    label: str
    rule_id: str
    figures: dict[str, Any]
    text: str


class PredictionRead(BaseModel):
    customer_id: str
    model: str
    p_alive: float | None = None
    expected_purchases_90d: float | None = None
    expected_purchases_365d: float | None = None
    clv: float | None = None
    expected_next_order: date | None = None
    next_products: list[Any] = Field(default_factory=list)
    as_of: date | None = None
    purchases_365d_low: float | None = Field(default=None, description="80% interval of the purchases in 365 days")
    purchases_365d_high: float | None = None
    clv_low: float | None = Field(default=None, description="80% interval of the CLV")
    clv_high: float | None = None


class OrderRead(BaseModel):
    order_id: str
    customer_id: str
    ordered_at: UtcDateTime
    channel: str | None = None
    currency: str = Field(description="ISO 4217 code; total and discount_total have its minor-unit digits")
    total: float = Field(description="the order's amount in its own currency (JPY 15000, KWD 10.5, EUR 19.99)")
    discount_total: float
    status: str


class InteractionRead(BaseModel):
    interaction_id: str
    customer_id: str
    channel: str
    direction: str
    occurred_at: UtcDateTime
    thread_id: str | None = None
    subject: str | None = None
    body: str | None = None
    agent: str | None = None


class FeedbackRead(BaseModel):
    feedback_id: str
    customer_id: str
    kind: str
    score: int
    comment: str | None = None
    submitted_at: UtcDateTime


class ConversationRead(BaseModel):
    id: int
    thread_id: str
    customer_id: str
    customer_name: str | None = None
    channel: str
    subject: str | None = None
    status: str  # new | open | waiting_on_customer | resolved
    assignee: str | None = None
    priority: int = 0
    priority_reason: str | None = None
    opened_at: UtcDateTime
    last_message_at: UtcDateTime
    first_response_at: UtcDateTime | None = None
    first_response_due: UtcDateTime | None = None
    resolution_due: UtcDateTime | None = None
    resolved_at: UtcDateTime | None = None
    sla_breached: bool = False
    topic: str | None = None
    language: str | None = None
    # to the first-response due time: business hours (unit "h") or calendar days ("d"); negative: breached
    sla_countdown: float | None = None
    sla_countdown_unit: str | None = None


class DeliveryRead(BaseModel):
    """The delivery of one reply (care.outbound): queued, sending, sent, retrying or failed."""

    interaction_id: str
    message_id: str
    channel: str
    state: str
    attempts: int
    reason: str | None = None
    next_attempt_at: UtcDateTime | None = None
    sent_at: UtcDateTime | None = None


class ConversationDetail(ConversationRead):
    history: list[InteractionRead]
    deliveries: list[DeliveryRead] = Field(default_factory=list)
    notes: list[NoteRead] = Field(default_factory=list)
    others_replying: list[str] = Field(default_factory=list)


class ReplyCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")
    body: str = Field(min_length=1, max_length=20_000)
    subject: str | None = Field(default=None, max_length=500)


class AssignUpdate(BaseModel):
    model_config = ConfigDict(extra="forbid")
    assignee: str | None = Field(default=None, max_length=100)


class NoteCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")
    body: str = Field(min_length=1, max_length=10_000)


class NoteRead(BaseModel):
    id: int
    author: str
    body: str
    created_at: UtcDateTime


class BulkAction(BaseModel):
    """Assign (``assignee``; null: unassign) or resolve several conversations at once."""

    model_config = ConfigDict(extra="forbid")
    action: Literal["assign", "resolve"]
    ids: list[int] = Field(min_length=1, max_length=500)
    assignee: str | None = Field(default=None, max_length=100)


class BulkResult(BaseModel):
    action: str
    done: list[int]


class TimelineEvent(BaseModel):
    at: UtcDateTime
    kind: str  # order | conversation | message | resolved | feedback | label_change | campaign_message | ...
    summary: str
    data: dict[str, Any] = Field(default_factory=dict)


class ActionRead(BaseModel):
    customer_id: str
    action: str
    rule_id: str | None = None
    priority: int = 0
    reason: str | None = None
    template: str | None = None
    language: str | None = None


class SeparateRequest(BaseModel):
    """Two profiles (external ids) that are different people."""

    first: str = Field(min_length=1, max_length=200)
    second: str = Field(min_length=1, max_length=200)


class LoyaltyRead(BaseModel):
    """Loyalty of one customer: completed orders up to today, spend in the shop's reporting currency."""

    tier: str | None = None
    points: int = 0
    orders: int = 0
    spend: float = 0.0
    currency: str
    tenure_days: int = 0


class Customer360(BaseModel):
    profile: dict[str, Any]
    consents: dict[str, bool | None]
    labels: list[LabelRead]
    prediction: PredictionRead | None = None
    timeline: list[TimelineEvent]
    next_best_action: ActionRead | None = None
    conversations: list[ConversationRead]
    merged_from: list[str] = Field(default_factory=list)
    loyalty: LoyaltyRead | None = None
    clv_rank_share: float | None = Field(None, description="share of the shop's customers with a higher CLV "
                                                           "(0 = the most valuable; ties share the better rank)")
    currency: str | None = Field(None, description="the reporting currency of CLV and loyalty spend")


class SegmentRead(BaseModel):
    taxonomy: str
    label: str
    customers: int
    customers_share: float
    revenue: float
    revenue_share: float


class SnapshotRead(BaseModel):
    as_of: date
    created_at: UtcDateTime
    engine: str


class FlowRead(BaseModel):
    taxonomy: str
    from_label: str | None
    to_label: str | None
    customers: int


class MergeRead(BaseModel):
    id: int
    survivor_id: str
    merged_id: str
    survivor_name: str | None = None
    merged_name: str | None = None
    status: str
    rule: str
    score: float | None = None
    created_at: UtcDateTime
    decided_at: UtcDateTime | None = None


class CampaignCreate(BaseModel):
    """A campaign: a care template sent to the customers holding any of ``labels`` (empty: everyone)."""

    model_config = ConfigDict(extra="forbid")
    name: str = Field(min_length=1, max_length=150)
    template: str = Field(default="promotion", pattern=r"^[a-z_]{1,50}$")
    channels: list[Literal["email", "sms", "chat"]] = Field(default=["email"], min_length=1)
    labels: list[str] = Field(default_factory=list, max_length=50, description="taxonomy:label, any of them")
    discount: int = Field(default=0, ge=0, le=100)
    offer_valid_days: int | None = Field(default=None, ge=1, le=3650)


class CampaignRead(BaseModel):
    name: str
    messages: int
    sent: int
    channels: list[str]
    first_at: UtcDateTime | None = None


class CampaignPreview(BaseModel):
    language: str
    template: str
    subject: str
    body: str
    audience: int
    messages: int
    by_language: dict[str, int]
    skipped: dict[str, int]


class ImportReport(BaseModel):
    entity: str
    file: str
    exit_code: int
    report: dict[str, Any]


class UserCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: str = Field(min_length=1, max_length=100)
    role: RoleName
    password: str = Field(min_length=8, max_length=500)


class UserUpdate(BaseModel):
    model_config = ConfigDict(extra="forbid")
    role: RoleName | None = None
    active: bool | None = None


class UserRead(BaseModel):
    name: str
    role: str
    active: bool
    language: str | None = None
    created_at: UtcDateTime
    last_login_at: UtcDateTime | None = None


class TokenCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: str = Field(min_length=1, max_length=100)
    role: RoleName


class TokenRead(BaseModel):
    id: int
    name: str
    role: str
    prefix: str
    created_at: UtcDateTime
    revoked_at: UtcDateTime | None = None


class TokenCreated(TokenRead):
    token: str


class AuditRead(BaseModel):
    at: UtcDateTime
    actor: str
    action: str
    target: str | None = None
    shop: str | None = None
    detail: dict[str, Any] | None = None


class ErasureReport(BaseModel):
    customer_id: str
    tables: dict[str, int]
    files: list[str]


class Health(BaseModel):
    status: str
    schema_version: str | None = None


# Parametrised pages built once (building a generic model per request is slow).
CustomerPage = Page[CustomerRead]
OrderPage = Page[OrderRead]
InteractionPage = Page[InteractionRead]
FeedbackPage = Page[FeedbackRead]
ConversationPage = Page[ConversationRead]
MergePage = Page[MergeRead]
PredictionPage = Page[PredictionRead]
ActionPage = Page[ActionRead]
AuditPage = Page[AuditRead]


class ErrorDetail(BaseModel):
    status: int
    code: str
    message: str
    fields: list[dict[str, Any]] | None = None


class ErrorBody(BaseModel):
    """Every error answer: ``{"error": {"status", "code", "message", "fields"?}}`` (clientlens.http.errors)."""

    error: ErrorDetail


#: The error answers any operation may give, declared on every operation of the OpenAPI document.
ERROR_RESPONSES: dict[int | str, dict[str, Any]] = {
    status: {"model": ErrorBody, "description": text} for status, text in (
        (400, "Bad value"), (401, "Authentication required"), (403, "Forbidden"), (404, "Not found"),
        (409, "Conflict with the store's state"), (413, "Too large"), (422, "Invalid input"),
        (429, "Too many requests"))}
