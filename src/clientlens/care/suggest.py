"""Suggested replies: for a conversation, the best of the shop's canned replies for its topic and
language, personalised from the customer's read model (``care.read_model``).

- **Which reply**: the conversation's triage topic (``other`` when not triaged) and the first language of:
  the conversation's (triage), the customer's, the shop's (the official language of its home country),
  ``[care] language_fallback``, that has a reply (``care.canned.replies_for``: the shop's own, best
  first, else the packaged default).
- **Personalised**: ``greeting`` in the language's greeting form (a person by the given name, the
  last word in languages writing the family name first; an organisation, ``customer_type``
  professional or institutional, by its name); ``order``, the order a message names by its id, else the
  most recent one (id, date in the language, total through ``clientlens.money``, status); the loyalty
  ``tier`` and ``points``; ``offer``, the sentence of the customer's first next best action among
  ``[care.suggest] offer_actions``.
- **Rendered** in Jinja2's sandbox (a shop's template cannot reach Python objects), strict about unknown
  names; ``check_template`` validates a template when it is saved.

Texts (greetings, closings, tier and status names, offers) are in ``suggest_texts.toml``.
"""

from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass
from datetime import date
from functools import lru_cache
from importlib import resources
from typing import Any

from jinja2 import StrictUndefined, TemplateError
from jinja2.sandbox import SandboxedEnvironment
from sqlalchemy.orm import Session

from clientlens.care.campaigns import given_name
from clientlens.care.canned import Canned, replies_for
from clientlens.care.config import care_settings
from clientlens.care.read_model import CustomerView, view_of
from clientlens.care.render import long_date, primary_language
from clientlens.config import Settings
from clientlens.errors import CareError, ConfigError
from clientlens.money import format_money, to_major
from clientlens.store import models as m
from clientlens.store.care_models import Conversation

ORGANISATION_TYPES = ("professional", "institutional")


@lru_cache(maxsize=1)
def texts() -> dict[str, dict[str, Any]]:
    """``suggest_texts.toml``: per language, greetings, closing, tier and status names, offers."""
    return tomllib.loads(resources.files("clientlens.care").joinpath("suggest_texts.toml").read_text("utf-8"))


@lru_cache(maxsize=1)
def _env() -> SandboxedEnvironment:
    return SandboxedEnvironment(undefined=StrictUndefined, autoescape=False, keep_trailing_newline=False)


SAMPLE_CONTEXT: dict[str, Any] = {
    "greeting": "Hello Ana,", "name": "Ana Nowak", "given_name": "Ana", "shop": "shop", "agent": "agent",
    "order": {"id": "O1", "date": "1 March 2026", "total": "€10.00", "status": "completed"},
    "tier": "Gold", "points": 10, "offer": "", "signoff": "Kind regards", "language": "en", "topic": "other",
}


def check_template(body: str) -> None:
    """A ConfigError (a bad value) naming the problem when ``body`` is not a template the sandbox can render."""
    try:
        _env().from_string(body).render(SAMPLE_CONTEXT)
        _env().from_string(body).render({**SAMPLE_CONTEXT, "order": None, "tier": None})
    except TemplateError as exc:
        raise ConfigError(f"body: not a valid reply template: {exc}") from exc


def shop_language(settings: Settings, shop_name: str) -> str | None:
    """The official language of the shop's home country (Babel), if configured."""
    country = settings.shop(shop_name).home_country
    if not country:
        return None
    from babel.languages import get_official_languages

    langs = get_official_languages(country.upper(), de_facto=True)
    return primary_language(langs[0]) if langs else None


def language_chain(conv: Any, customer: m.Customer, settings: Settings, shop_name: str) -> list[str]:
    care = care_settings(settings)
    out: list[str] = []
    for lang in (getattr(conv, "language", None), customer.language, shop_language(settings, shop_name),
                 *care.language_fallback):
        code = primary_language(lang)
        if code and code not in out:
            out.append(code)
    return out


def order_about(view: CustomerView, conversation_id: int) -> Any:
    """The order a message of the conversation names by its id (the latest such message), else the most
    recent order; None when the customer has none."""
    orders = sorted(view.rows.orders, key=lambda o: o.ordered_at)
    if not orders:
        return None
    texts_in = [f"{i.subject or ''} {i.body or ''}" for i in sorted(view.rows.interactions, key=lambda i: i.occurred_at)
                if i.conversation_id == conversation_id and i.direction == "inbound"]
    for text in reversed(texts_in):
        for order in reversed(orders):
            if re.search(rf"(?<![\w-]){re.escape(str(order.external_id))}(?![\w-])", text, re.IGNORECASE):
                return order
    return orders[-1]


@dataclass(frozen=True)
class SuggestedReply:
    conversation_id: int
    reply_id: int | None  # None: a packaged default
    name: str
    language: str
    topic: str
    body: str
    order_id: str | None
    offer_action: str | None
    tier: str | None


def context_for(view: CustomerView, conversation_id: int, language: str, shop_name: str, agent: str,
                settings: Settings) -> tuple[dict[str, Any], Any, str | None]:
    """(template context, the order it is about, the offer's action)."""
    care = care_settings(settings)
    words = texts().get(language) or texts()["en"]
    customer = view.customer
    organisation = view.facts.label_by_taxonomy.get("customer_type") in ORGANISATION_TYPES
    name = (customer.name or "").strip()
    shown = name if organisation else given_name(name, language)
    if shown:
        greeting = words["greeting_organisation" if organisation else "greeting_person"].format(name=shown)
    else:
        greeting = words["greeting_anonymous"]
    order = order_about(view, conversation_id)
    order_ctx = None
    if order is not None:
        total = format_money(to_major(int(order.total_minor), order.currency), order.currency, language)
        order_ctx = {"id": str(order.external_id), "date": long_date(order.ordered_at, language), "total": total,
                     "status": words["statuses"].get(order.status, order.status)}
    tier = view.loyalty.tier
    tier_name = words["tiers"].get(tier, tier) if tier else None
    offer, offer_action = "", None
    for action in view.actions:
        if action.action in care.suggest.offer_actions and action.action in words["offers"]:
            offer = words["offers"][action.action].format(discount=care.suggest.offer_discount, tier=tier_name or "-",
                                                          points=view.loyalty.points)
            offer_action = action.action
            break
    ctx = {"greeting": greeting, "name": name, "given_name": given_name(name, language), "shop": shop_name,
           "agent": agent, "order": order_ctx, "tier": tier_name, "points": view.loyalty.points, "offer": offer,
           "signoff": words["signoff"].format(agent=agent, shop=shop_name), "language": language}
    return ctx, order, offer_action


def render_reply(canned: Canned, context: dict[str, Any], max_length: int) -> str:
    try:
        text = _env().from_string(canned.body).render({**context, "topic": canned.topic})
    except TemplateError as exc:
        raise CareError(f"canned reply {canned.name!r} ({canned.language} / {canned.topic}) failed to render: "
                        f"{exc}") from exc
    text = re.sub(r"\n{3,}", "\n\n", text).strip() + "\n"
    if len(text) > max_length:
        raise CareError(f"canned reply {canned.name!r} renders {len(text)} characters (at most {max_length})")
    return text


def suggest_reply(session: Session, settings: Settings, shop: m.Shop, conversation_id: int, *, agent: str,
                  today: date | None = None) -> SuggestedReply | None:
    """The suggested reply of a conversation of ``shop`` (None when no language of the chain has one)."""
    conv = session.get(Conversation, conversation_id)
    if conv is None or conv.shop_id != shop.id:
        from clientlens.errors import NotFoundError

        raise NotFoundError(f"conversation {conversation_id} does not exist in shop {shop.name!r}")
    customer = session.get(m.Customer, conv.customer_id)
    assert customer is not None
    topic = getattr(conv, "topic", None) or "other"
    for language in language_chain(conv, customer, settings, shop.name):
        candidates = replies_for(session, shop.id, language, topic)
        if candidates:
            break
    else:
        return None
    best = candidates[0]
    view = view_of(session, settings, shop.id, shop.name, customer, today=today)
    ctx, order, offer_action = context_for(view, conv.id, language, shop.name, agent, settings)
    body = render_reply(best, ctx, care_settings(settings).suggest.max_length)
    return SuggestedReply(conv.id, best.id, best.name, language, topic, body,
                          str(order.external_id) if order is not None else None, offer_action, ctx["tier"])
