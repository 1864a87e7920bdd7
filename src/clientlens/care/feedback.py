"""Feedback: CSAT (1-5) and NPS (0-10) linked to customer and conversation, NPS reports, surveys.

NPS = % promoters (score >= ``nps_promoter_min``) - % detractors (score <= ``nps_detractor_max``),
from -100 to 100.

>>> nps_of([10, 9, 8, 3])
25.0
"""

from __future__ import annotations

import bisect
import uuid
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import null, select, true
from sqlalchemy.orm import Session

from clientlens.care.config import CareSettings, care_settings
from clientlens.care.facts import latest_facts
from clientlens.config import Settings
from clientlens.errors import CareError
from clientlens.store import models as m
from clientlens.store.care_models import Conversation, ConversationMessage, Survey
from clientlens.store.repository import utcnow

SCORE_RANGES = {"csat": (1, 5), "nps": (0, 10)}


def nps_of(scores: list[int], promoter_min: int = 9, detractor_max: int = 6) -> float | None:
    """Net Promoter Score of ``scores`` (None when empty)."""
    if not scores:
        return None
    promoters = sum(s >= promoter_min for s in scores)
    detractors = sum(s <= detractor_max for s in scores)
    return 100.0 * (promoters - detractors) / len(scores)


def is_detractor(kind: str, score: int, care: CareSettings) -> bool:
    """An NPS detractor or an unhappy CSAT."""
    return score <= (care.nps_detractor_max if kind == "nps" else care.csat_low_max)


def record_feedback(session: Session, shop_id: int, customer_id: int, kind: str, score: int, *,
                    conversation_id: int | None = None, comment: str | None = None,
                    settings: Settings | None = None, now: datetime | None = None) -> m.Feedback:
    """Store a CSAT or NPS answer, linked to the conversation's last message; answers its survey."""
    if kind not in SCORE_RANGES:
        raise CareError(f"feedback kind {kind!r}: use csat (1-5) or nps (0-10)")
    lo, hi = SCORE_RANGES[kind]
    if not lo <= int(score) <= hi:
        raise CareError(f"{kind} score {score} is outside {lo}-{hi}")
    now = now or utcnow()
    interaction_id = None
    if conversation_id is not None:
        interaction_id = session.scalar(
            select(ConversationMessage.interaction_id)
            .where(ConversationMessage.conversation_id == conversation_id)
            .order_by(ConversationMessage.occurred_at.desc(), ConversationMessage.id.desc()).limit(1))
    fb = m.Feedback(shop_id=shop_id, external_id=f"care:{uuid.uuid4().hex}", customer_id=customer_id,
                    kind=kind, score=int(score), comment=comment, submitted_at=now,
                    interaction_id=interaction_id)
    session.add(fb)
    session.flush()
    survey = session.scalar(select(Survey).where(
        Survey.customer_id == customer_id, Survey.kind == kind, Survey.status != "answered",
        (Survey.conversation_id == conversation_id) if conversation_id is not None else true())
        .order_by(Survey.queued_at.desc()).limit(1))
    if survey is not None:
        survey.status, survey.feedback_id = "answered", fb.id
        session.flush()
    return fb


def queue_survey(session: Session, shop_id: int, customer_id: int, settings: Settings, *,
                 conversation_id: int | None = None, now: datetime | None = None) -> Survey | None:
    """Queue a survey unless the customer got one in the last ``survey_interval_days`` days."""
    care = care_settings(settings)
    now = now or utcnow()
    since = now - timedelta(days=care.survey_interval_days)
    recent = session.scalar(select(Survey.id).where(Survey.customer_id == customer_id,
                                                    Survey.queued_at > since).limit(1))
    if recent is not None:
        return None
    survey = Survey(shop_id=shop_id, customer_id=customer_id, conversation_id=conversation_id,
                    kind=care.survey_kind, status="queued", queued_at=now)
    session.add(survey)
    session.flush()
    return survey


@dataclass(frozen=True)
class NpsRow:
    group: str
    responses: int
    promoters: int
    passives: int
    detractors: int
    nps: float | None


def _last_contact_channels(session: Session, shop_id: int, rows: Sequence[Any]) -> dict[tuple[int, datetime], str]:
    """For answers not linked to a message: the channel of the customer's last contact before them."""
    wanted = {(r[4], r[1]) for r in rows if r[3] is None}
    if not wanted:
        return {}
    contacts: dict[int, list[tuple[datetime, str]]] = defaultdict(list)
    for cid, at, ch in session.execute(select(m.Interaction.customer_id, m.Interaction.occurred_at,
                                              m.Interaction.channel)
                                       .where(m.Interaction.shop_id == shop_id)
                                       .order_by(m.Interaction.occurred_at, m.Interaction.id)):
        contacts[cid].append((at, ch))
    out = {}
    for cid, at in wanted:
        seq = contacts.get(cid, [])
        i = bisect.bisect_right([t for t, _ in seq], at)
        if i:
            out[(cid, at)] = seq[i - 1][1]
    return out


def nps_report(session: Session, shop_id: int, settings: Settings, *, by: str = "label",
               taxonomy: str | None = None) -> list[NpsRow]:
    """NPS per ``by`` = label (of ``taxonomy`` in the latest snapshot), channel or month.

    The channel of an answer is that of the message it is linked to, else of the customer's last
    contact (interaction) at or before the answer, else ``(none)``.
    """
    care = care_settings(settings)
    taxonomy = taxonomy or care.metrics_taxonomy
    rows = session.execute(
        select(m.Feedback.score, m.Feedback.submitted_at, m.Customer.external_id, m.Interaction.channel,
               m.Feedback.customer_id)
        .join(m.Customer, m.Customer.id == m.Feedback.customer_id)
        .outerjoin(m.Interaction, m.Interaction.id == m.Feedback.interaction_id)
        .where(m.Feedback.shop_id == shop_id, m.Feedback.kind == "nps")).all()
    last_contact = _last_contact_channels(session, shop_id, rows) if by == "channel" else {}
    facts = latest_facts(session, shop_id) if by == "label" else None
    groups: dict[str, list[int]] = defaultdict(list)
    for score, at, ext, channel, cust_id in rows:
        if by == "label":
            assert facts is not None
            key = facts.get(ext).label_by_taxonomy.get(taxonomy, "(none)")
        elif by == "channel":
            key = channel or last_contact.get((cust_id, at)) or "(none)"
        elif by == "month":
            key = at.strftime("%Y-%m")
        else:
            raise CareError(f"nps by {by!r}: use label, channel or month")
        groups[key].append(int(score))
    out = []
    for key in sorted(groups):
        s = groups[key]
        pro = sum(x >= care.nps_promoter_min for x in s)
        det = sum(x <= care.nps_detractor_max for x in s)
        out.append(NpsRow(key, len(s), pro, len(s) - pro - det, det,
                          nps_of(s, care.nps_promoter_min, care.nps_detractor_max)))
    return out


@dataclass(frozen=True)
class CsatRow:
    group: str
    responses: int
    mean: float | None
    satisfied: int  # answers of 4 or 5 (the usual top-two boxes)
    unhappy: int  # answers at or below ``csat_low_max``
    csat: float | None  # % satisfied (4-5) of the answers


CSAT_BY = ("agent", "channel", "topic", "label", "segment", "month")


def csat_report(session: Session, shop_id: int, settings: Settings, *, by: str = "month",
                taxonomy: str | None = None) -> list[CsatRow]:
    """CSAT per ``by`` = agent (the conversation's assignee, else the agent of its last outbound message),
    channel (as ``nps_report``), topic (the conversation's triage topic), label / segment (of ``taxonomy`` in
    the latest snapshot) or month. CSAT = % of answers 4 or 5; ``unhappy`` counts answers at or below
    ``[care] csat_low_max``. An answer is linked to a conversation through its message."""
    if by not in CSAT_BY:
        raise CareError(f"csat by {by!r}: use {', '.join(CSAT_BY)}")
    care = care_settings(settings)
    taxonomy = taxonomy or care.metrics_taxonomy
    topic_col = getattr(Conversation, "topic", None)
    rows = session.execute(
        select(m.Feedback.score, m.Feedback.submitted_at, m.Customer.external_id, m.Interaction.channel,
               m.Feedback.customer_id, Conversation.assignee, Conversation.id,
               topic_col if topic_col is not None else null())
        .join(m.Customer, m.Customer.id == m.Feedback.customer_id)
        .outerjoin(m.Interaction, m.Interaction.id == m.Feedback.interaction_id)
        .outerjoin(ConversationMessage, ConversationMessage.interaction_id == m.Feedback.interaction_id)
        .outerjoin(Conversation, Conversation.id == ConversationMessage.conversation_id)
        .where(m.Feedback.shop_id == shop_id, m.Feedback.kind == "csat")).all()
    last_contact = _last_contact_channels(session, shop_id, rows) if by == "channel" else {}
    agents: dict[int, str] = {}
    if by == "agent":
        conv_ids = sorted({r[6] for r in rows if r[6] is not None and not r[5]})
        for start in range(0, len(conv_ids), 500):
            chunk = conv_ids[start:start + 500]
            for cid, agent in session.execute(
                    select(ConversationMessage.conversation_id, m.Interaction.agent)
                    .join(m.Interaction, m.Interaction.id == ConversationMessage.interaction_id)
                    .where(ConversationMessage.conversation_id.in_(chunk), m.Interaction.direction == "outbound",
                           m.Interaction.agent.is_not(None))
                    .order_by(m.Interaction.occurred_at, m.Interaction.id)):
                agents[cid] = agent or "(none)"  # the last outbound message's agent wins
    facts = latest_facts(session, shop_id) if by in ("label", "segment") else None
    groups: dict[str, list[int]] = defaultdict(list)
    for score, at, ext, channel, cust_id, assignee, conv_id, topic in rows:
        if by in ("label", "segment"):
            assert facts is not None
            key = facts.get(ext).label_by_taxonomy.get(taxonomy, "(none)")
        elif by == "channel":
            key = channel or last_contact.get((cust_id, at)) or "(none)"
        elif by == "agent":
            key = assignee or agents.get(conv_id) or "(none)"
        elif by == "topic":
            key = topic or "(none)"
        else:
            key = at.strftime("%Y-%m")
        groups[key].append(int(score))
    out = []
    for key in sorted(groups):
        s = groups[key]
        sat = sum(x >= 4 for x in s)
        out.append(CsatRow(key, len(s), round(sum(s) / len(s), 2), sat, sum(x <= care.csat_low_max for x in s),
                           round(100.0 * sat / len(s), 1)))
    return out
