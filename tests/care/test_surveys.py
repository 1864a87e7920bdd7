"""A survey queued on resolve is sent (with consent) and a numeric reply becomes its feedback."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from clientlens.care import inbox
from clientlens.care.senders import MemorySender
from clientlens.care.surveys import process_survey_replies, send_queued_surveys
from clientlens.config import load_settings
from clientlens.store import models as m
from clientlens.store.care_models import Survey
from tests.care.conftest import NOW, SHOP


def test_survey_round_trip(store_engine) -> None:  # type: ignore[no-untyped-def]
    settings = load_settings(search_cwd=False, overrides={"care": {"quiet_hours_start": "00:00:00",
                                                                   "quiet_hours_end": "00:00:00"}})
    with Session(store_engine) as s:
        shop = m.Shop(name=SHOP, created_at=NOW)
        s.add(shop)
        s.flush()
        a = m.Customer(shop_id=shop.id, external_id="A", name="Nguyễn Thị Lan", language="vi",
                       email="lan@example.org", consent_email=True)
        b = m.Customer(shop_id=shop.id, external_id="B", name="Jan Nowak", language="pl",
                       email="jan@example.org", consent_email=False)
        s.add_all([a, b])
        s.flush()
        for c in (a, b):
            s.add(m.Interaction(shop_id=shop.id, external_id=f"q{c.external_id}", customer_id=c.id,
                                channel="email", direction="inbound", occurred_at=NOW - timedelta(hours=2),
                                thread_id=f"t{c.external_id}", subject="?"))
        s.flush()
        inbox.sync_conversations(s, SHOP, settings, now=NOW)
        for conv in inbox.list_conversations(s, SHOP):
            inbox.resolve(s, SHOP, conv.id, settings=settings, now=NOW)
        s.commit()
    sender = MemorySender()
    report = send_queued_surveys(store_engine, SHOP, settings, {"email": sender}, now=NOW)
    assert (report.sent, report.not_sent) == (1, 1)  # B has no consent for any channel
    assert [x.customer_id for x in sender.sent] == ["A"]
    assert sender.sent[0].subject == "Chúng tôi đã phục vụ bạn thế nào?"
    assert sender.sent[0].body.startswith("Chào Lan,")
    with Session(store_engine) as s:
        a_id = s.scalar(select(m.Customer.id).where(m.Customer.external_id == "A"))
        s.add(m.Interaction(shop_id=s.scalar(select(m.Shop.id)), external_id="r1", customer_id=a_id, channel="email",
                            direction="inbound", occurred_at=NOW + timedelta(hours=1), body="thanks!"))
        s.add(m.Interaction(shop_id=s.scalar(select(m.Shop.id)), external_id="r2", customer_id=a_id, channel="email",
                            direction="inbound", occurred_at=NOW + timedelta(hours=2), body=" 4 "))
        s.flush()
        answers = process_survey_replies(s, SHOP, settings)
        assert [(f.kind, f.score) for f in answers] == [("csat", 4)]
        statuses = {sv.customer_id: sv.status for sv in s.scalars(select(Survey))}
        assert statuses[a_id] == "answered" and sorted(statuses.values()) == ["answered", "queued"]
        assert process_survey_replies(s, SHOP, settings) == []
        s.commit()
