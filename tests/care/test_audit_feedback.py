"""Relationship audit, the customer timeline, feedback and NPS reports."""

from __future__ import annotations

from datetime import date, datetime

import pandas as pd
import pytest
from sqlalchemy.orm import Session

from clientlens.care import inbox
from clientlens.care.audit import relationship_audit
from clientlens.care.feedback import nps_of, nps_report, record_feedback
from clientlens.care.timeline import customer_timeline
from clientlens.errors import CareError
from clientlens.store import models as m
from clientlens.store.repository import get_shop
from tests.care.conftest import NOW, SHOP, add_snapshot

AUDIT_SHOP = "audit-shop"


def _audit_shop(s: Session) -> m.Shop:
    shop = m.Shop(name=AUDIT_SHOP, created_at=NOW)
    s.add(shop)
    s.flush()
    custs = {}
    for ext in "ABCDEFG":
        c = m.Customer(shop_id=shop.id, external_id=ext, name=f"Customer {ext}")
        s.add(c)
        custs[ext] = c
    s.flush()
    prev, last = date(2026, 1, 31), date(2026, 2, 28)
    add_snapshot(s, shop.id, prev, {"A": {"rfm_segment": "champions"}, "G": {"rfm_segment": "at_risk"},
                                    "B": {"rfm_segment": "loyal_customers"}, "C": {"rfm_segment": "loyal_customers"}},
                 {"A": {"p_alive": 0.9}, "B": {"p_alive": 0.9}, "C": {"p_alive": 0.9}})
    add_snapshot(s, shop.id, last, {"A": {"rfm_segment": "at_risk"}, "G": {"rfm_segment": "champions"},
                                    "B": {"rfm_segment": "loyal_customers"}, "C": {"rfm_segment": "loyal_customers"}},
                 {"A": {"p_alive": 0.85}, "B": {"p_alive": 0.5}, "C": {"p_alive": 0.8}})
    s.add(m.Feedback(shop_id=shop.id, external_id="fD", customer_id=custs["D"].id, kind="nps", score=3,
                     submitted_at=datetime(2026, 2, 10)))
    s.add(m.Feedback(shop_id=shop.id, external_id="fE", customer_id=custs["E"].id, kind="nps", score=3,
                     submitted_at=datetime(2026, 1, 10)))  # before the previous snapshot: not new
    s.add(m.Feedback(shop_id=shop.id, external_id="fC", customer_id=custs["C"].id, kind="csat", score=5,
                     submitted_at=datetime(2026, 2, 10)))
    s.add(m.Interaction(shop_id=shop.id, external_id="iF", customer_id=custs["F"].id, channel="chat",
                        direction="inbound", occurred_at=datetime(2026, 2, 16, 10), thread_id="tF"))
    s.flush()
    return shop


def test_audit_lists_exactly_the_worsened_relationships(store_engine, settings) -> None:  # type: ignore[no-untyped-def]
    with Session(store_engine) as s:
        _audit_shop(s)
        inbox.sync_conversations(s, AUDIT_SHOP, settings, now=NOW)
        res = relationship_audit(s, AUDIT_SHOP, settings, now=NOW)
        s.commit()
    assert (res.previous_as_of, res.latest_as_of) == (date(2026, 1, 31), date(2026, 2, 28))
    found = {f.customer_id: [c.kind for c in f.changes] for f in res.findings}
    assert found == {"A": ["segment_down"], "B": ["p_alive_drop"], "D": ["detractor"],
                     "F": ["sla_breach", "sla_breach"]}
    a = next(f for f in res.findings if f.customer_id == "A")
    assert a.changes[0].text == "RFM segment champions -> at_risk" and a.name == "Customer A"
    b = next(f for f in res.findings if f.customer_id == "B")
    assert (b.changes[0].before, b.changes[0].after) == (0.9, 0.5)


def test_timeline_shows_everything_in_order(store_engine, settings) -> None:  # type: ignore[no-untyped-def]
    with Session(store_engine) as s:
        shop = _audit_shop(s)
        a = s.query(m.Customer).filter_by(shop_id=shop.id, external_id="A").one()
        s.add(m.Order(shop_id=shop.id, external_id="oA", customer_id=a.id, currency="EUR",
                      ordered_at=datetime(2026, 1, 5), total_minor=1999, status="completed"))
        s.add(m.Interaction(shop_id=shop.id, external_id="iA", customer_id=a.id, channel="email",
                            direction="inbound", occurred_at=datetime(2026, 2, 2, 9), thread_id="tA", subject="Hi"))
        s.flush()
        inbox.sync_conversations(s, AUDIT_SHOP, settings, now=NOW)
        conv = inbox.list_conversations(s, AUDIT_SHOP, include_resolved=True)
        conv_a = next(c for c in conv if c.thread_key == "tA")
        record_feedback(s, shop.id, a.id, "csat", 2, conversation_id=conv_a.id, now=datetime(2026, 2, 3))
        from clientlens.care.consent import withdraw_consent
        withdraw_consent(s, a, "email", "reply:x", datetime(2026, 2, 4))
        events = customer_timeline(s, AUDIT_SHOP, "A")
        s.commit()
    kinds = [e.kind for e in events]
    assert kinds == ["order", "conversation", "message", "feedback", "consent", "label_change"]
    assert events[0].summary == "order oA: €19.99 (completed)"  # the currency's own digits (clientlens.money)
    assert events[-1].summary == "rfm_segment: champions -> at_risk"
    assert events[3].summary == "CSAT 2"


def test_feedback_validation_and_nps() -> None:
    assert nps_of([10, 9, 8, 7, 0]) == pytest.approx(20.0)
    assert nps_of([]) is None


def test_nps_by_channel_month_and_label_equal_pandas(shop_engine, frames, settings) -> None:  # type: ignore[no-untyped-def]
    fb = frames["feedback"].copy()
    fb["submitted_at"] = fb["submitted_at"].dt.floor("us")
    inter = frames["interactions"][["interaction_id", "customer_id", "channel", "occurred_at"]].copy()
    inter["occurred_at"] = inter["occurred_at"].dt.floor("us")
    fb = fb.merge(inter[["interaction_id", "channel"]], on="interaction_id", how="left")
    nps = fb[fb["kind"] == "nps"].copy()
    # answers not linked to a message take the channel of the customer's last contact before them
    last = pd.merge_asof(nps.reset_index().sort_values("submitted_at"),
                         inter.sort_values("occurred_at").rename(columns={"channel": "last_channel"})
                         [["customer_id", "occurred_at", "last_channel"]],
                         left_on="submitted_at", right_on="occurred_at", by="customer_id",
                         direction="backward").set_index("index")
    nps["channel"] = nps["channel"].fillna(last["last_channel"])
    assert len(nps) >= 10

    def score(g: pd.Series) -> float:
        return 100.0 * ((g >= 9).sum() - (g <= 6).sum()) / len(g)

    with Session(shop_engine) as s:
        shop_id = get_shop(s, SHOP).id
        by_channel = {r.group: r for r in nps_report(s, shop_id, settings, by="channel")}
        want = nps.assign(ch=nps["channel"].fillna("(none)")).groupby("ch")["score"].apply(score)
        assert {k: v.nps for k, v in by_channel.items()} == pytest.approx(want.to_dict())
        by_month = {r.group: r.nps for r in nps_report(s, shop_id, settings, by="month")}
        want_m = nps.assign(mo=pd.to_datetime(nps["submitted_at"]).dt.strftime("%Y-%m")).groupby("mo")["score"].apply(score)
        assert by_month == pytest.approx(want_m.to_dict())
        custs = sorted(nps["customer_id"].unique())
        half = set(custs[: len(custs) // 2])
        add_snapshot(s, shop_id, date(2025, 12, 31), {c: {"rfm_segment": "champions" if c in half else "lost"} for c in custs})
        by_label = {r.group: r for r in nps_report(s, shop_id, settings, by="label")}
        want_l = nps.assign(lab=nps["customer_id"].map(lambda c: "champions" if c in half else "lost")).groupby("lab")["score"]
        assert {k: v.nps for k, v in by_label.items()} == pytest.approx(want_l.apply(score).to_dict())
        assert sum(r.responses for r in by_label.values()) == len(nps)
        with pytest.raises(CareError, match="outside 0-10"):
            record_feedback(s, shop_id, 1, "nps", 11)
