"""Surveys: send the queued CSAT / NPS surveys (through the campaign send log, so consent, quiet
hours, capping and resumability apply) and record the answers customers reply with."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from clientlens.care.audience import CampaignSpec
from clientlens.care.campaigns import SendReport, send_campaign
from clientlens.care.config import care_settings
from clientlens.care.feedback import SCORE_RANGES, record_feedback
from clientlens.care.senders import Sender
from clientlens.config import Settings
from clientlens.store import models as m
from clientlens.store.care_models import Survey
from clientlens.store.repository import get_shop, utcnow

TEMPLATES = {"csat": "survey", "nps": "survey_nps"}
_NUMBER = re.compile(r"^\s*(\d{1,2})\s*[.!]?\s*$")


def survey_campaign(survey: Survey, customer_external_id: str) -> CampaignSpec:
    """The one-message campaign of a survey (its name makes the Message-ID stable)."""
    return CampaignSpec.model_validate({
        "name": f"survey-{survey.id}", "template": TEMPLATES[survey.kind], "channels": ["email", "sms", "chat"],
        "audience": {"customers": [customer_external_id]}})


@dataclass
class SurveySendReport:
    sent: int = 0
    not_sent: int = 0


def send_queued_surveys(engine: Engine, shop_name: str, settings: Settings, senders: dict[str, Sender], *,
                        now: datetime | None = None) -> SurveySendReport:
    """Send every queued survey of the shop; a survey sent is marked ``sent``."""
    now = now or utcnow()
    out = SurveySendReport()
    with Session(engine, expire_on_commit=False) as session:
        shop = get_shop(session, shop_name)
        queued = session.execute(select(Survey, m.Customer.external_id)
                                 .join(m.Customer, m.Customer.id == Survey.customer_id)
                                 .where(Survey.shop_id == shop.id, Survey.status == "queued")
                                 .order_by(Survey.id)).all()
    for survey, ext in queued:
        report: SendReport = send_campaign(engine, shop_name, survey_campaign(survey, ext), settings, senders,
                                           now=now)
        if report.sent or report.already_sent:
            with Session(engine) as session:
                row = session.get(Survey, survey.id)
                assert row is not None
                row.status, row.sent_at = "sent", now
                session.commit()
            out.sent += 1
        else:
            out.not_sent += 1
    return out


def process_survey_replies(session: Session, shop_name: str, settings: Settings) -> list[m.Feedback]:
    """An inbound message that is only a number, after a survey was sent to the customer (within
    ``survey_interval_days``), answers that survey: it becomes a CSAT / NPS feedback row."""
    care = care_settings(settings)
    shop = get_shop(session, shop_name)
    out = []
    sent = session.scalars(select(Survey).where(Survey.shop_id == shop.id, Survey.status == "sent")
                           .order_by(Survey.sent_at))
    for survey in list(sent):
        assert survey.sent_at is not None
        replies = session.scalars(select(m.Interaction).where(
            m.Interaction.customer_id == survey.customer_id, m.Interaction.direction == "inbound",
            m.Interaction.occurred_at >= survey.sent_at,
            m.Interaction.occurred_at <= survey.sent_at + timedelta(days=care.survey_interval_days))
            .order_by(m.Interaction.occurred_at))
        lo, hi = SCORE_RANGES[survey.kind]
        for reply in replies:
            match = _NUMBER.match(reply.body or "")
            if match and lo <= int(match.group(1)) <= hi:
                out.append(record_feedback(session, shop.id, survey.customer_id, survey.kind, int(match.group(1)),
                                           conversation_id=survey.conversation_id, now=reply.occurred_at))
                survey.status, survey.feedback_id = "answered", out[-1].id
                break
    session.flush()
    return out
