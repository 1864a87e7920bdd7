"""Service signals: what a customer's service experience says, for the playbook's recovery action.

A signal is data (``kind`` + ``figures``, the numbers and the thresholds used) with an English
sentence rendered from it. The kinds (thresholds in ``[care.service_signals]``):

- ``low_csat``: the mean of the customer's last ``csat_recent`` CSAT answers (within ``window_days``)
  is at most ``csat_mean_max``;
- ``nps_detractor``: the latest NPS answer (within ``window_days``) is at most ``[care]
  nps_detractor_max``;
- ``open_complaint``: an unresolved conversation whose triage topic is in ``complaint_topics``;
- ``repeat_contacts``: at least ``repeat_contacts`` conversations opened within ``repeat_days`` days.

``signals_of`` works on the rows of one customer (``customer_rows``: its ``feedback`` and
``conversations`` sections, read in the loader's existing statements); ``signals_by_customer`` reads
the same columns for many customers in two statements and applies the same rule.

>>> from types import SimpleNamespace as Row
>>> from datetime import datetime
>>> from clientlens.care.config import CareSettings
>>> at = datetime(2026, 3, 1)
>>> fb = [Row(kind="csat", score=s, submitted_at=at) for s in (1, 1, 2)] + [Row(kind="nps", score=3, submitted_at=at)]
>>> [s.kind for s in signals_of(fb, [], CareSettings(), at)]
['low_csat', 'nps_detractor']
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from clientlens.care.config import CareSettings
from clientlens.store import models as m
from clientlens.store.care_models import Conversation

KINDS = ("low_csat", "nps_detractor", "open_complaint", "repeat_contacts")


@dataclass(frozen=True)
class ServiceSignal:
    """One service signal of a customer: its kind, the figures behind it and an English sentence."""

    kind: str
    figures: dict[str, Any] = field(default_factory=dict, compare=False, hash=False)
    text: str = ""


def _recent(at: datetime | None, now: datetime, days: int) -> bool:
    return at is not None and at <= now and (days <= 0 or at >= now - timedelta(days=days))


def _ordered(rows: Iterable[Any], kind: str, now: datetime, days: int) -> list[Any]:
    return sorted((r for r in rows if r.kind == kind and _recent(r.submitted_at, now, days)),
                  key=lambda r: r.submitted_at)


def signals_of(feedback: Sequence[Any], conversations: Sequence[Any], care: CareSettings,
               now: datetime) -> list[ServiceSignal]:
    """The service signals of one customer from its feedback rows (``kind``, ``score``, ``submitted_at``)
    and conversation rows (``id``, ``status``, ``opened_at`` and, once triaged, ``topic``) as of ``now``."""
    cfg = care.service_signals
    out: list[ServiceSignal] = []
    csat = _ordered(feedback, "csat", now, cfg.window_days)[-cfg.csat_recent:]
    if csat:
        mean = sum(int(r.score) for r in csat) / len(csat)
        if mean <= cfg.csat_mean_max:
            scores = [int(r.score) for r in csat]
            out.append(ServiceSignal("low_csat", {"scores": scores, "mean": round(mean, 2),
                                                  "csat_mean_max": cfg.csat_mean_max},
                                     f"CSAT {', '.join(map(str, scores))} (mean {mean:.1f}, "
                                     f"at most {cfg.csat_mean_max:g} is low)"))
    nps = _ordered(feedback, "nps", now, cfg.window_days)
    if cfg.nps_detractor and nps and int(nps[-1].score) <= care.nps_detractor_max:
        score = int(nps[-1].score)
        out.append(ServiceSignal("nps_detractor", {"score": score, "nps_detractor_max": care.nps_detractor_max},
                                 f"NPS {score} (a detractor: {care.nps_detractor_max} or less)"))
    complaints = sorted(c.id for c in conversations
                        if getattr(c, "topic", None) in cfg.complaint_topics and c.status != "resolved")
    if complaints:
        out.append(ServiceSignal("open_complaint", {"conversations": complaints},
                                 f"an open complaint (conversation {', '.join(map(str, complaints))})"))
    since = now - timedelta(days=cfg.repeat_days)
    recent = [c for c in conversations if c.opened_at is not None and since <= c.opened_at <= now]
    if len(recent) >= cfg.repeat_contacts:
        out.append(ServiceSignal("repeat_contacts", {"contacts": len(recent), "days": cfg.repeat_days,
                                                     "repeat_contacts": cfg.repeat_contacts},
                                 f"{len(recent)} contacts within {cfg.repeat_days} days "
                                 f"({cfg.repeat_contacts} or more)"))
    return out


def signals_by_customer(session: Session, shop_id: int, care: CareSettings, now: datetime,
                        customer_pks: list[int] | None = None) -> dict[int, list[ServiceSignal]]:
    """Service signals of the shop's customers (or of ``customer_pks``) by customer primary key; customers
    without any are left out. Two statements: the feedback and the conversations of those customers."""
    fq = select(m.Feedback.customer_id, m.Feedback.kind, m.Feedback.score, m.Feedback.submitted_at) \
        .where(m.Feedback.shop_id == shop_id)
    cols = [Conversation.customer_id, Conversation.id, Conversation.status, Conversation.opened_at]
    topic = getattr(Conversation, "topic", None)
    if topic is not None:
        cols.append(topic)
    cq = select(*cols).where(Conversation.shop_id == shop_id)
    if customer_pks is not None:
        fq = fq.where(m.Feedback.customer_id.in_(customer_pks))
        cq = cq.where(Conversation.customer_id.in_(customer_pks))
    feedback: dict[int, list[Any]] = defaultdict(list)
    for row in session.execute(fq):
        feedback[row.customer_id].append(row)
    conversations: dict[int, list[Any]] = defaultdict(list)
    for crow in session.execute(cq):
        conversations[crow.customer_id].append(crow)
    out = {}
    for pk in set(feedback) | set(conversations):
        found = signals_of(feedback.get(pk, []), conversations.get(pk, []), care, now)
        if found:
            out[pk] = found
    return out
