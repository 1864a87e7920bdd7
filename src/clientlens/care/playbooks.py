"""Playbooks: declarative rules (TOML) from labels and scores to the next best action, with reasons.

The default playbook ships as ``clientlens/care/playbooks.toml`` (documented there); ``[care]
playbook`` points at another file.
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass
from datetime import date, datetime, time
from functools import lru_cache
from importlib import resources
from pathlib import Path

from pydantic import BaseModel, ConfigDict, field_validator
from sqlalchemy import select
from sqlalchemy.orm import Session

from clientlens.care.config import care_settings
from clientlens.care.facts import CustomerFacts, latest_facts
from clientlens.care.loyalty import LoyaltyStatus, loyalty_statuses, rates_for_shop
from clientlens.care.render import primary_language
from clientlens.care.signals import KINDS as SIGNAL_KINDS
from clientlens.care.signals import signals_by_customer
from clientlens.config import Settings
from clientlens.errors import ConfigError
from clientlens.money import format_money
from clientlens.store import models as m
from clientlens.store.repository import get_shop, utcnow


class PlaybookRule(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    id: str
    action: str
    priority: int = 0
    labels_any: tuple[str, ...] = ()
    labels_all: tuple[str, ...] = ()
    labels_none: tuple[str, ...] = ()
    clv_top_share: float | None = None
    min_p_alive: float | None = None
    max_p_alive: float | None = None
    needs_language: bool = False
    #: Service signals (care.signals: low_csat, nps_detractor, open_complaint, repeat_contacts): at least one.
    signals_any: tuple[str, ...] = ()
    template: str | None = None
    reason: str = "{labels}"

    @field_validator("signals_any")
    @classmethod
    def _known_signals(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        unknown = [v for v in value if v not in SIGNAL_KINDS]
        if unknown:
            raise ValueError(f"signals_any: unknown signal {', '.join(unknown)} (use {', '.join(SIGNAL_KINDS)})")
        return value


class Playbook(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    rules: tuple[PlaybookRule, ...] = ()


@lru_cache(maxsize=4)
def cached_playbook(path: str) -> Playbook:
    """``load_playbook`` read once per process (a server restarts to read an edited playbook)."""
    return load_playbook(path or None)


def load_playbook(path: str | Path | None = None) -> Playbook:
    """The playbook at ``path``, or the packaged default."""
    try:
        if path:
            text, where = Path(path).read_text("utf-8"), str(path)
        else:
            text = resources.files("clientlens.care").joinpath("playbooks.toml").read_text("utf-8")
            where = "clientlens/care/playbooks.toml"
        data = tomllib.loads(text)
    except OSError as exc:
        raise ConfigError(f"cannot read the playbook {path}: {exc}") from exc
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path}: not valid TOML: {exc}") from exc
    try:
        return Playbook.model_validate(data)
    except Exception as exc:
        raise ConfigError(f"{where}: invalid playbook: {exc}") from exc


@dataclass(frozen=True)
class Action:
    """A next best action for one customer, with the rule that chose it and why."""

    customer_id: str
    action: str
    rule_id: str
    priority: int
    reason: str
    template: str | None = None
    language: str | None = None


def _matched_labels(rule: PlaybookRule, facts: CustomerFacts) -> list[str] | None:
    """The labels that made ``rule`` match (None when it does not match)."""
    if not facts.meets(labels_any=rule.labels_any, labels_all=rule.labels_all, labels_none=rule.labels_none,
                       clv_top_share=rule.clv_top_share, min_p_alive=rule.min_p_alive,
                       max_p_alive=rule.max_p_alive):
        return None
    if rule.signals_any and not facts.signal_kinds() & set(rule.signals_any):
        return None
    return [lab for lab in (*rule.labels_any, *rule.labels_all) if lab in facts.labels]


def actions_for(customer: m.Customer, facts: CustomerFacts, playbook: Playbook,
                loyalty: LoyaltyStatus | None) -> list[Action]:
    """Every action of the playbook that applies to ``customer``, highest priority first."""
    out = []
    language = primary_language(customer.language)
    for rule in playbook.rules:
        matched = _matched_labels(rule, facts)
        if matched is None or (rule.needs_language and not language):
            continue
        values = {
            "labels": ", ".join(lab.replace(":", " = ") for lab in matched) or "scores",
            "clv": "-" if facts.clv is None else format_money(facts.clv, facts.currency or "USD"),
            "clv_top_share": "-" if rule.clv_top_share is None else f"{rule.clv_top_share:.0%}",
            "p_alive": "-" if facts.p_alive is None else f"{facts.p_alive:.2f}",
            "language": language or "-",
            "tier": (loyalty.tier if loyalty else None) or "-",
            "points": loyalty.points if loyalty else 0,
            "spend": format_money(loyalty.spend, loyalty.currency) if loyalty else "0",
            "signals": "; ".join(sig.text for sig in facts.signals if sig.kind in rule.signals_any) or "-",
        }
        try:
            reason = rule.reason.format(**values)
        except (KeyError, IndexError, ValueError) as exc:
            raise ConfigError(f"playbook rule {rule.id}: bad reason template {rule.reason!r}: {exc}") from exc
        out.append(Action(customer.external_id, rule.action, rule.id, rule.priority, reason, rule.template,
                          language if rule.needs_language else None))
    out.sort(key=lambda a: -a.priority)
    return out


def next_best_actions(session: Session, shop_name: str, settings: Settings, *,
                      customer_ids: list[str] | None = None, as_of: date | None = None,
                      playbook: Playbook | None = None) -> dict[str, list[Action]]:
    """Actions per customer (external id) from the latest snapshot; customers with none are left out."""
    care = care_settings(settings)
    playbook = playbook or load_playbook(care.playbook or None)
    shop = get_shop(session, shop_name)
    facts = latest_facts(session, shop.id)
    q = select(m.Customer).where(m.Customer.shop_id == shop.id, m.Customer.merged_into_id.is_(None))
    if customer_ids is not None:
        q = q.where(m.Customer.external_id.in_([str(c) for c in customer_ids]))
    customers = list(session.scalars(q.order_by(m.Customer.id)))
    now = datetime.combine(as_of, time(23, 59, 59)) if as_of is not None else utcnow()
    as_of = now.date()
    ids = [c.id for c in customers] if customer_ids is not None else None
    rates = rates_for_shop(session, settings, shop.id, shop.name)
    loyalty = loyalty_statuses(session, shop.id, care, as_of, rates, ids) if customers else {}
    signals = signals_by_customer(session, shop.id, care, now, ids) \
        if customers and any(rule.signals_any for rule in playbook.rules) else {}
    out: dict[str, list[Action]] = {}
    for cust in customers:
        facts_of = facts.get(cust.external_id)
        if cust.id in signals:
            facts_of = facts_of.with_signals(signals[cust.id])
        acts = actions_for(cust, facts_of, playbook, loyalty.get(cust.id))
        if acts:
            out[cust.external_id] = acts
    return out
