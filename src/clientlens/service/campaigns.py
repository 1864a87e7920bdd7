"""Campaigns through the care layer: audience from labels, preview per language, send (consent,
quiet hours and frequency caps enforced by ``clientlens.care.campaigns``)."""

from __future__ import annotations

from datetime import timedelta
from importlib import resources
from typing import Any

from sqlalchemy import case, func, select
from sqlalchemy.orm import Session

from clientlens.care.audience import AudienceSpec, CampaignSpec
from clientlens.care.campaigns import given_name, plan_campaign, send_campaign
from clientlens.care.config import care_settings
from clientlens.care.render import TemplateRenderer, primary_language
from clientlens.care.senders import build_senders
from clientlens.config import Settings
from clientlens.errors import ConfigError
from clientlens.service import schemas as s
from clientlens.store import models as m
from clientlens.store.care_models import CareMessage
from clientlens.store.repository import utcnow


def templates() -> list[str]:
    """Campaign templates shipped with the care layer (their names)."""
    base = resources.files("clientlens.care") / "templates" / "en"
    return sorted(p.name.split(".")[0] for p in base.iterdir() if p.name.endswith(".txt.j2") and not p.name.startswith("_"))


def spec_of(body: s.CampaignCreate) -> CampaignSpec:
    if body.template not in templates():
        raise ConfigError(f"unknown template {body.template!r} (field: template); one of {', '.join(templates())}")
    for lab in body.labels:
        if ":" not in lab:
            raise ConfigError(f"label {lab!r} must look like taxonomy:label (field: labels)")
    return CampaignSpec(name=body.name, template=body.template, channels=tuple(body.channels),
                        discount=body.discount, offer_valid_days=body.offer_valid_days,
                        audience=AudienceSpec(labels_any=tuple(body.labels)))


def preview(session: Session, settings: Settings, shop: m.Shop, body: s.CampaignCreate,
            language: str) -> s.CampaignPreview:
    """Counts of the dry run, and the message as a customer speaking ``language`` gets it."""
    spec = spec_of(body)
    plan = plan_campaign(session, shop.name, spec, settings, dry_run=True)
    counts = plan.counts()
    sample = next((p for p in plan.messages if p.rendered.language == language), None)
    if sample is not None:
        rendered = sample.rendered
    else:
        # Nobody of the audience speaks it yet: render the template for a customer who would.
        care = care_settings(settings)
        first = plan.messages[0].customer if plan.messages else None
        name = (first.name if first else None) or ""
        today = utcnow().date()
        ctx = {"first_name": given_name(name, language), "name": name, "shop": shop.name,
               "discount": spec.discount, "celebration_date": None,
               "offer_valid_until": today + timedelta(days=spec.offer_valid_days) if spec.offer_valid_days else None,
               "unsubscribe_url": care.unsubscribe_url.format(token="preview"), "tier": "", "points": 0}
        rendered = TemplateRenderer(care.language_fallback, spec.templates_dir).render(spec.template, language, ctx)
    return s.CampaignPreview(language=rendered.language, template=spec.template, subject=rendered.subject,
                             body=rendered.body, audience=counts["audience"], messages=counts["messages"],
                             by_language={primary_language(k) or k: v for k, v in counts["by_language"].items()},
                             skipped=counts["skipped"])


def send(engine: Any, settings: Settings, shop: m.Shop, body: s.CampaignCreate) -> dict[str, Any]:
    """Send through the care layer's senders; safe to repeat (messages already sent are not sent again)."""
    spec = spec_of(body)
    report = send_campaign(engine, shop.name, spec, settings, build_senders(care_settings(settings)))
    return {"planned": report.planned, "sent": report.sent, "already_sent": report.already_sent,
            "deferred_quiet_hours": report.deferred_quiet_hours, "skipped": dict(report.skipped),
            "failed": len(report.failed)}


def list_campaigns(session: Session, shop: m.Shop) -> list[s.CampaignRead]:
    """Campaigns in the care send log, newest first."""
    rows = session.execute(select(CareMessage.campaign, CareMessage.channel, func.count(),
                                  func.sum(case((CareMessage.status == "sent", 1), else_=0)),
                                  func.min(CareMessage.created_at))
                           .where(CareMessage.shop_id == shop.id)
                           .group_by(CareMessage.campaign, CareMessage.channel)).all()
    per: dict[str, s.CampaignRead] = {}
    for name, channel, n, sent, first in rows:
        c = per.setdefault(name, s.CampaignRead(name=name, messages=0, sent=0, channels=[], first_at=first))
        c.messages += int(n)
        c.sent += int(sent or 0)
        c.channels.append(channel)
    return sorted(per.values(), key=lambda c: c.first_at or utcnow(), reverse=True)
