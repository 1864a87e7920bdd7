"""SLA targets, due times, breaches and metrics of the inbox (business hours of the shop).

Targets per channel come from ``[care.sla]``; a customer matching a tightening rule (a label such as
``rfm_segment:champions`` or the top CLV share of the latest snapshot) gets them multiplied by the
rule's factor and a higher priority. Elapsed times are business hours (``care.business_time``).
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime

import numpy as np
from sqlalchemy import select
from sqlalchemy.orm import Session

from clientlens.care.business_time import add_business_hours, business_hours_between
from clientlens.care.config import CareSettings
from clientlens.care.facts import CustomerFacts, latest_facts
from clientlens.config import ShopSettings
from clientlens.store import models as m
from clientlens.store.care_models import Conversation


@dataclass(frozen=True)
class SlaTarget:
    """Business-hour targets for one conversation, after tightening."""

    first_response_hours: float | None
    resolution_hours: float | None
    factor: float = 1.0
    priority: int = 0
    reason: str | None = None


def target_for(channel: str, facts: CustomerFacts, care: CareSettings) -> SlaTarget:
    """The SLA target of a conversation on ``channel`` with a customer having ``facts``."""
    factor, priority, reasons = 1.0, 0, []
    for rule in care.sla.tighten:
        if rule.taxonomy and rule.label:
            matched = facts.has(rule.taxonomy, rule.label)
            why = f"{rule.taxonomy} is {rule.label}"
        elif rule.clv_top_share is not None:
            matched = facts.clv_rank_share is not None and facts.clv_rank_share < rule.clv_top_share
            why = f"CLV in the top {rule.clv_top_share:.0%} of the shop"
        else:
            continue
        if matched:
            factor = min(factor, rule.factor)
            priority = max(priority, rule.priority)
            reasons.append(f"{why} (targets x{rule.factor:g}, priority {rule.priority})")
    fr = care.sla.first_response_hours.get(channel)
    res = care.sla.resolution_hours.get(channel)
    return SlaTarget(None if fr is None else fr * factor, None if res is None else res * factor,
                     factor, priority, "; ".join(reasons) or None)


def apply_target(conv: Conversation, target: SlaTarget, first_inbound_at: datetime | None,
                 shop: ShopSettings) -> None:
    """Set priority and due times of ``conv``; the clocks start at the first inbound message."""
    conv.priority = target.priority
    conv.priority_reason = target.reason
    if first_inbound_at is None:
        conv.first_response_due = conv.resolution_due = None
        return
    conv.first_response_due = (None if target.first_response_hours is None else
                               add_business_hours(first_inbound_at, target.first_response_hours, shop))
    conv.resolution_due = (None if target.resolution_hours is None else
                           add_business_hours(first_inbound_at, target.resolution_hours, shop))


@dataclass(frozen=True)
class SlaItem:
    """One SLA clock of a conversation that is breached or near breach."""

    conversation_id: int
    customer_id: int
    channel: str
    kind: str  # first_response | resolution
    state: str  # breached | near_breach
    due: datetime
    elapsed_hours: float
    target_hours: float


def sla_items(session: Session, shop_id: int, shop: ShopSettings, care: CareSettings,
              now: datetime) -> list[SlaItem]:
    """Breaches and near-breaches (share ``near_breach_share`` of the target elapsed) of a shop."""
    out: list[SlaItem] = []
    convs = session.scalars(select(Conversation).where(Conversation.shop_id == shop_id)
                            .order_by(Conversation.priority.desc(), Conversation.id))
    for conv in convs:
        for kind, due, done in (("first_response", conv.first_response_due, conv.first_response_at),
                                ("resolution", conv.resolution_due, conv.resolved_at)):
            if due is None:
                continue
            start = conv.opened_at
            target = business_hours_between(start, due, shop)
            end = done or now
            elapsed = business_hours_between(start, end, shop)
            if end > due:
                state = "breached"
            elif done is None and target > 0 and elapsed >= care.near_breach_share * target:
                state = "near_breach"
            else:
                continue
            out.append(SlaItem(conv.id, conv.customer_id, conv.channel, kind, state, due,
                               round(elapsed, 4), round(target, 4)))
    return out


@dataclass(frozen=True)
class SlaMetrics:
    """Median / p90 business hours to first response and to resolution, and attainment, of a group."""

    group: str
    conversations: int
    first_response_median: float | None
    first_response_p90: float | None
    resolution_median: float | None
    resolution_p90: float | None
    first_response_attainment: float | None  # share answered by the due time (of those decided)
    resolution_attainment: float | None


def _pct(values: list[float], q: float) -> float | None:
    return float(np.percentile(values, q)) if values else None


def _share(met: int, missed: int) -> float | None:
    return met / (met + missed) if met + missed else None


def sla_metrics(session: Session, shop_id: int, shop: ShopSettings, care: CareSettings, now: datetime,
                *, by: str = "channel", taxonomy: str | None = None) -> list[SlaMetrics]:
    """Metrics per ``by`` = channel, agent (assignee) or label (of ``taxonomy``, latest snapshot).

    Times are business hours from the first inbound message (``opened_at`` of the conversation).
    Attainment counts a clock as met when it stopped by its due time, missed when it stopped later or
    is still running past the due time; running clocks not yet due are not decided.
    """
    taxonomy = taxonomy or care.metrics_taxonomy
    facts = latest_facts(session, shop_id) if by == "label" else None
    rows = session.execute(select(Conversation, m.Customer.external_id)
                           .join(m.Customer, m.Customer.id == Conversation.customer_id)
                           .where(Conversation.shop_id == shop_id))
    groups: dict[str, list[Conversation]] = defaultdict(list)
    for conv, ext in rows:
        if by == "channel":
            key = conv.channel
        elif by == "agent":
            key = conv.assignee or "(unassigned)"
        elif by == "label":
            assert facts is not None
            key = facts.get(ext).label_by_taxonomy.get(taxonomy, "(none)")
        else:
            raise ValueError(f"sla metrics by {by!r}: use channel, agent or label")
        groups[key].append(conv)
    out = []
    for key in sorted(groups):
        fr, res = [], []
        fr_met = fr_missed = res_met = res_missed = 0
        for conv in groups[key]:
            if conv.first_response_at is not None:
                fr.append(business_hours_between(conv.opened_at, conv.first_response_at, shop))
            if conv.resolved_at is not None:
                res.append(business_hours_between(conv.opened_at, conv.resolved_at, shop))
            for due, done, counts in ((conv.first_response_due, conv.first_response_at, "fr"),
                                      (conv.resolution_due, conv.resolved_at, "res")):
                if due is None or (done is None and now <= due):
                    continue
                met = done is not None and done <= due
                if counts == "fr":
                    fr_met, fr_missed = fr_met + met, fr_missed + (not met)
                else:
                    res_met, res_missed = res_met + met, res_missed + (not met)
        out.append(SlaMetrics(key, len(groups[key]), _pct(fr, 50), _pct(fr, 90), _pct(res, 50),
                              _pct(res, 90), _share(fr_met, fr_missed), _share(res_met, res_missed)))
    return out
