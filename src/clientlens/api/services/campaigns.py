"""Campaigns: build an audience from a label, preview the message per language, send through care."""

from __future__ import annotations

from collections import Counter
from typing import Any

from jinja2.sandbox import SandboxedEnvironment
from sqlalchemy import and_, func, select
from sqlalchemy.orm import Session

from clientlens.api import schemas as s
from clientlens.api.services.bridge import optional_function, require_function
from clientlens.store import models as m
from clientlens.store.repository import latest_snapshot

_SANDBOX = SandboxedEnvironment(autoescape=False)


def _audience_query(session: Session, shop: m.Shop, taxonomy: str | None, label: str | None) -> Any:
    query = select(m.Customer).where(m.Customer.shop_id == shop.id, m.Customer.merged_into_id.is_(None))
    if taxonomy and label:
        snap = latest_snapshot(session, shop.id)
        query = query.join(m.SnapshotLabel, and_(m.SnapshotLabel.snapshot_id == (snap.id if snap else -1),
                                                 m.SnapshotLabel.taxonomy == taxonomy, m.SnapshotLabel.label == label,
                                                 m.SnapshotLabel.customer_id == m.Customer.external_id))
    return query


def audience(session: Session, shop: m.Shop, taxonomy: str | None, label: str | None, channel: str) -> dict[str, Any]:
    """Audience size, how many consented to ``channel``, and the split by language."""
    base = _audience_query(session, shop, taxonomy, label).subquery()
    consent = getattr(base.c, f"consent_{channel}")
    total = session.scalar(select(func.count()).select_from(base)) or 0
    consented = session.scalar(select(func.count()).select_from(base).where(consent.is_(True))) or 0
    langs = Counter({(lang or "").split("-")[0].lower() or "unknown": n for lang, n in session.execute(
        select(base.c.language, func.count()).group_by(base.c.language))})
    return {"audience": total, "consented": consented, "languages": dict(langs)}


def render(text: str, customer: m.Customer | None, extra: dict[str, Any]) -> str:
    """Render a campaign text (Jinja, sandboxed) for one customer."""
    name = (customer.name if customer else None) or ""
    ctx = {"name": name, "first_name": name.split(" ")[0] if name else "", **extra}
    return _SANDBOX.from_string(text).render(**ctx)


def sample_customer(session: Session, shop: m.Shop, taxonomy: str | None, label: str | None,
                    language: str) -> m.Customer | None:
    query = _audience_query(session, shop, taxonomy, label)
    cust = session.scalar(query.where(func.lower(m.Customer.language).like(f"{language}%")).limit(1))
    return cust or session.scalar(query.limit(1))


def preview(session: Session, shop: m.Shop, body: s.CampaignCreate, language: str,
            extra: dict[str, Any]) -> s.CampaignPreview:
    """The message as a customer speaking ``language`` would get it (care's templates when installed)."""
    care_preview = optional_function("clientlens.care.campaigns", "preview_message")
    aud = audience(session, shop, body.taxonomy, body.label, body.channel)
    cust = sample_customer(session, shop, body.taxonomy, body.label, language)
    if care_preview is not None and body.template:
        subject, text = care_preview(session, shop.name, body.template, language, cust)
    else:
        subject = render(body.subject, cust, extra)
        text = render(body.body, cust, extra)
    return s.CampaignPreview(language=language, subject=subject, body=text, audience=aud["audience"],
                             consented=aud["consented"])


def send(session: Session, shop: m.Shop, body: s.CampaignCreate, actor: str) -> dict[str, Any]:
    """Send through the care layer (consent checks, senders, send log)."""
    fn = require_function("clientlens.care.campaigns", "send_campaign")
    result = fn(session, shop.name, body.model_dump(), actor=actor)
    return result if isinstance(result, dict) else {"result": str(result)}


def list_campaigns(session: Session, shop: m.Shop) -> list[s.CampaignRead]:
    fn = optional_function("clientlens.care.campaigns", "list_campaigns")
    if fn is None:
        return []
    out = []
    for c in fn(session, shop.name):
        d = c if isinstance(c, dict) else getattr(c, "__dict__", {})
        out.append(s.CampaignRead(id=str(d.get("id")), name=str(d.get("name", "")), channel=str(d.get("channel", "")),
                                  status=str(d.get("status", "")), audience=d.get("audience"),
                                  data={k: v for k, v in d.items() if isinstance(v, str | int | float | bool)}))
    return out
