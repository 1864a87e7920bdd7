"""The priority of a conversation: segment value, triage and SLA state, with a readable reason.

priority = the highest ``priority`` of the ``[[care.sla.tighten]]`` rules the customer matches (a
label such as ``rfm_segment:champions`` or the top CLV share: the same matching as care.sla's
targets) + ``[care.triage.priority]`` points for the urgency, sentiment and topic of the newest inbound
message (care.triage) + points when the first response is overdue (or nearly due). With the defaults,
an angry refund demand (high urgency 2, negative 1, return_refund 1) from a champion (2) scores 6 and
comes before the same demand from anyone else (4) and before a champion's product question (2).

The reason is stored as data on the conversation (``priority_reason_data``: the priority and its
parts, each a key and parameters) and rendered in the agent's language by :func:`priority_reason_text`
from the care-owned catalogue ``care/messages.toml``; ``priority_reason`` keeps the English sentence.
"""

from __future__ import annotations

import tomllib
from datetime import datetime
from functools import cache
from importlib import resources
from typing import TYPE_CHECKING, Any

from babel.numbers import format_percent
from sqlalchemy.orm import Session

from clientlens.care.business_time import business_hours_between
from clientlens.care.config import CareSettings, care_settings
from clientlens.care.facts import CustomerFacts, latest_facts
from clientlens.care.triage import triage_latest
from clientlens.store import models as m
from clientlens.store.care_models import Conversation

if TYPE_CHECKING:
    from clientlens.config import Settings

DEFAULT_LANGUAGE = "en"


@cache
def _catalogue() -> dict[str, Any]:
    text = resources.files("clientlens.care").joinpath("messages.toml").read_text(encoding="utf-8")
    return tomllib.loads(text)


def segment_parts(facts: CustomerFacts, care: CareSettings) -> tuple[int, list[dict[str, Any]]]:
    """The highest priority of the tightening rules ``facts`` match, and one reason part per match."""
    priority, parts = 0, []
    part: dict[str, Any]
    for rule in care.sla.tighten:
        if rule.taxonomy and rule.label:
            if not facts.has(rule.taxonomy, rule.label):
                continue
            part = {"key": "segment", "params": {"taxonomy": rule.taxonomy, "label": rule.label}}
        elif rule.clv_top_share is not None:
            if facts.clv_rank_share is None or facts.clv_rank_share >= rule.clv_top_share:
                continue
            part = {"key": "clv_top", "params": {"share": rule.clv_top_share}}
        else:
            continue
        priority = max(priority, rule.priority)
        part["points"] = rule.priority
        parts.append(part)
    return priority, parts


def compute_priority(conv: Conversation, facts: CustomerFacts, care: CareSettings, now: datetime,
                     settings: Settings | None = None, shop_name: str | None = None) -> dict[str, Any]:
    """``{"priority": n, "parts": [...]}`` of ``conv`` from its triage, the customer's facts and its SLA."""
    rules = care.triage.priority
    base, seg_parts = segment_parts(facts, care)
    parts: list[dict[str, Any]] = []
    points = 0
    if conv.topic is not None and (conv.topic_confidence or 0.0) >= rules.min_topic_confidence:
        tri = (rules.urgency_points.get(conv.urgency or "", 0) + rules.sentiment_points.get(conv.sentiment or "", 0)
               + rules.topic_points.get(conv.topic, 0))
        if tri:
            points += tri
            parts.append({"key": "triage", "points": tri,
                          "params": {"topic": conv.topic, "sentiment": conv.sentiment, "urgency": conv.urgency}})
    parts.extend(seg_parts)
    waiting = conv.status != "resolved" and conv.first_response_at is None and conv.first_response_due is not None
    if waiting and conv.first_response_due is not None and now > conv.first_response_due:
        if rules.first_response_breached_points:
            points += rules.first_response_breached_points
            parts.append({"key": "sla_breached", "points": rules.first_response_breached_points, "params": {}})
    elif waiting and rules.near_breach_points and settings is not None and shop_name is not None:
        shop = settings.shop(shop_name)
        assert conv.first_response_due is not None
        target = business_hours_between(conv.opened_at, conv.first_response_due, shop)
        if target > 0 and business_hours_between(conv.opened_at, now, shop) >= care.near_breach_share * target:
            points += rules.near_breach_points
            parts.append({"key": "sla_near_breach", "points": rules.near_breach_points, "params": {}})
    return {"priority": base + points, "parts": parts}


def render_reason(data: dict[str, Any] | None, language: str) -> str:
    """The sentence of a reason's data in ``language`` (English when the catalogue has not that one)."""
    cat = _catalogue()
    lang = language if language in cat else (language.split("-")[0].split("_")[0].lower())
    if lang not in cat:
        lang = DEFAULT_LANGUAGE
    msgs = cat[lang]
    data = data or {"priority": 0, "parts": []}
    clauses = []
    for part in data.get("parts", []):
        key, params = part.get("key"), dict(part.get("params") or {})
        if key == "triage":
            topic = msgs["topics"].get(params.get("topic"), params.get("topic"))
            sentiment = msgs["sentiments"].get(params.get("sentiment"), params.get("sentiment"))
            template = msgs["triage_high"] if params.get("urgency") == "high" else msgs["triage"]
            clauses.append(template.format(topic=topic, sentiment=sentiment))
        elif key == "segment":
            clauses.append(msgs["segment"].format(label=str(params.get("label", "")).replace("_", " "),
                                                  taxonomy=params.get("taxonomy", "")))
        elif key == "clv_top":
            share = format_percent(float(params.get("share", 0)), locale=lang)
            clauses.append(msgs["clv_top"].format(share=share))
        elif key in ("sla_breached", "sla_near_breach"):
            clauses.append(msgs[key])
    body = msgs["separator"].join(clauses) if clauses else msgs["none"]
    return msgs["prefix"].format(priority=data.get("priority", 0)) + body + "."


def priority_reason_text(conv: Conversation, language: str) -> str:
    """Why ``conv`` has its priority, as a sentence in ``language`` (en, vi, pl, fr; others: English).

    A conversation prioritised before triage existed (no reason data) shows its stored text."""
    if conv.priority_reason_data is None and conv.priority_reason:
        return conv.priority_reason
    return render_reason(conv.priority_reason_data or {"priority": conv.priority, "parts": []}, language)


def apply_priority(session: Session, conv: Conversation, facts: CustomerFacts, care: CareSettings, now: datetime,
                   last_inbound_at: datetime | None = None, settings: Settings | None = None,
                   shop_name: str | None = None) -> None:
    """Triage ``conv``'s newest inbound message when it is newer than the one triaged (at
    ``last_inbound_at``), then set its priority and reason (care.inbox calls it after the SLA targets)."""
    if last_inbound_at is not None and (conv.triaged_message_at is None or conv.triaged_message_at < last_inbound_at):
        triage_latest(session, conv, care.triage, now)
    data = compute_priority(conv, facts, care, now, settings, shop_name)
    conv.priority = data["priority"]
    conv.priority_reason_data = data
    conv.priority_reason = render_reason(data, DEFAULT_LANGUAGE) if data["parts"] else None


def refresh_priority(session: Session, conv: Conversation, settings: Settings, now: datetime) -> None:
    """Recompute ``conv``'s priority from its stored triage and the latest snapshot's facts."""
    care = care_settings(settings)
    customer = session.get(m.Customer, conv.customer_id)
    shop = session.get(m.Shop, conv.shop_id)
    ext = customer.external_id if customer is not None else ""
    facts = latest_facts(session, conv.shop_id, [ext]).get(ext)
    data = compute_priority(conv, facts, care, now, settings, shop.name if shop is not None else None)
    conv.priority = data["priority"]
    conv.priority_reason_data = data
    conv.priority_reason = render_reason(data, DEFAULT_LANGUAGE) if data["parts"] else None
