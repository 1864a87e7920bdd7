"""The CSAT report on the bundled sample shop, against an independent pandas computation of the same
answers: by month, channel, agent, segment; unknown groupings are refused."""

from __future__ import annotations

import pandas as pd
import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from clientlens.care.feedback import csat_report
from clientlens.care.inbox import sync_conversations
from clientlens.errors import CareError
from clientlens.store import models as m
from clientlens.store.care_models import ConversationMessage
from clientlens.store.repository import get_shop
from tests.care.conftest import NOW, SHOP, add_snapshot


def _answers(s: Session, shop_id: int) -> pd.DataFrame:
    rows = s.execute(select(m.Feedback.score, m.Feedback.submitted_at, m.Feedback.customer_id, m.Interaction.channel,
                            m.Interaction.agent, ConversationMessage.conversation_id)
                     .outerjoin(m.Interaction, m.Interaction.id == m.Feedback.interaction_id)
                     .outerjoin(ConversationMessage, ConversationMessage.interaction_id == m.Feedback.interaction_id)
                     .where(m.Feedback.shop_id == shop_id, m.Feedback.kind == "csat")).all()
    return pd.DataFrame(rows, columns=["score", "at", "customer_id", "channel", "agent", "conversation_id"])


def test_csat_by_month_and_channel_match_pandas(sqlite_shop, settings) -> None:  # type: ignore[no-untyped-def]
    with Session(sqlite_shop) as s:
        shop = get_shop(s, SHOP)
        df = _answers(s, shop.id)
        assert len(df) > 20, "the sample shop has CSAT answers"
        df["month"] = df["at"].dt.strftime("%Y-%m")
        rows = {r.group: r for r in csat_report(s, shop.id, settings, by="month")}
        exp = df.groupby("month")["score"]
        assert set(rows) == set(exp.groups)
        for month, scores in exp:
            r = rows[month]
            assert r.responses == len(scores)
            assert r.mean == pytest.approx(round(scores.mean(), 2))
            assert r.csat == pytest.approx(round(100 * (scores >= 4).mean(), 1))
            assert r.unhappy == int((scores <= 2).sum())
        linked = df[df["channel"].notna()]
        by_channel = {r.group: r.responses for r in csat_report(s, shop.id, settings, by="channel")}
        for channel, n in linked.groupby("channel").size().items():
            assert by_channel[channel] >= n  # plus the unlinked answers placed by the last contact
        assert sum(by_channel.values()) == len(df)


def test_csat_by_agent_and_segment(sqlite_shop, settings) -> None:  # type: ignore[no-untyped-def]
    with Session(sqlite_shop) as s:
        sync_conversations(s, SHOP, settings, now=NOW)
        shop = get_shop(s, SHOP)
        by_agent = csat_report(s, shop.id, settings, by="agent")
        assert sum(r.responses for r in by_agent) == len(_answers(s, shop.id))
        named = [r for r in by_agent if r.group != "(none)"]
        assert named, "answers linked to answered conversations are credited to their agent"
        customers = list(s.scalars(select(m.Customer).where(m.Customer.shop_id == shop.id).order_by(m.Customer.id)))
        half = {c.external_id: {"rfm_segment": "champions" if k % 2 else "at_risk"} for k, c in enumerate(customers)}
        add_snapshot(s, shop.id, NOW.date(), half)
        seg = {r.group: r.responses for r in csat_report(s, shop.id, settings, by="segment")}
        df = _answers(s, shop.id)
        pk_to_label = {c.id: half[c.external_id]["rfm_segment"] for c in customers}
        expected = df["customer_id"].map(pk_to_label).value_counts().to_dict()
        assert seg == expected
        with pytest.raises(CareError, match="csat by 'weather'"):
            csat_report(s, shop.id, settings, by="weather")
