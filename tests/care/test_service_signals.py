"""Service signals in the playbook, on the bundled sample shop: low CSAT, an NPS detractor, repeated
contacts and an open complaint give the service_recovery action with its reason; a happy customer does
not get it; the one-customer read model and the bulk playbook agree on real data."""

from __future__ import annotations

from datetime import timedelta

import pandas as pd
import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from clientlens.care.config import care_settings
from clientlens.care.feedback import record_feedback
from clientlens.care.inbox import sync_conversations
from clientlens.care.playbooks import load_playbook, next_best_actions
from clientlens.care.read_model import view_of
from clientlens.care.signals import signals_by_customer
from clientlens.config import load_settings
from clientlens.errors import ConfigError
from clientlens.store import models as m
from clientlens.store.care_models import Conversation
from clientlens.store.repository import get_shop
from tests.care.conftest import NOW, SHOP


def _without_feedback(s: Session, shop: m.Shop, n: int) -> list[m.Customer]:
    answered = select(m.Feedback.customer_id)
    return list(s.scalars(select(m.Customer).where(m.Customer.shop_id == shop.id, m.Customer.id.not_in(answered),
                                                   m.Customer.merged_into_id.is_(None))
                          .order_by(m.Customer.id).limit(n)))


def test_csat_1_1_2_and_nps_3_get_service_recovery_not_no_rule(shop_engine, settings) -> None:  # type: ignore[no-untyped-def]
    """On SQLite and PostgreSQL (its one-statement loader reads the feedback as JSON)."""
    with Session(shop_engine) as s:
        shop = get_shop(s, SHOP)
        unhappy, happy = _without_feedback(s, shop, 2)
        before = view_of(s, settings, shop.id, shop.name, unhappy, today=NOW.date())
        assert "service_recovery" not in [a.action for a in before.actions]
        for k, score in enumerate((1, 1, 2)):
            record_feedback(s, shop.id, unhappy.id, "csat", score, now=NOW - timedelta(days=10 - k))
        record_feedback(s, shop.id, unhappy.id, "nps", 3, now=NOW - timedelta(days=1))
        for k, score in enumerate((5, 4, 5)):
            record_feedback(s, shop.id, happy.id, "csat", score, now=NOW - timedelta(days=10 - k))
        record_feedback(s, shop.id, happy.id, "nps", 9, now=NOW - timedelta(days=1))
        view = view_of(s, settings, shop.id, shop.name, unhappy, today=NOW.date())
        first = view.actions[0]
        assert (first.action, first.rule_id) == ("service_recovery", "service_recovery")
        assert "CSAT 1, 1, 2 (mean 1.3" in first.reason and "NPS 3 (a detractor" in first.reason
        assert {sig.kind for sig in view.facts.signals} == {"low_csat", "nps_detractor"}
        happy_view = view_of(s, settings, shop.id, shop.name, happy, today=NOW.date())
        assert "service_recovery" not in [a.action for a in happy_view.actions]
        # the bulk path (clientlens actions) gives the same action and reason
        bulk = next_best_actions(s, SHOP, settings, customer_ids=[unhappy.external_id, happy.external_id],
                                 as_of=NOW.date())
        assert bulk[unhappy.external_id][0].reason == first.reason
        assert "service_recovery" not in [a.action for a in bulk.get(happy.external_id, [])]
        # older than window_days: not recent any more
        later = view_of(s, settings, shop.id, shop.name, unhappy, today=(NOW + timedelta(days=200)).date())
        assert "service_recovery" not in [a.action for a in later.actions]


def test_repeated_contacts_on_the_sample_shop_match_an_independent_count(sqlite_shop) -> None:  # type: ignore[no-untyped-def]
    # the sample shop's customers write a few times a year: a 90-day window shows the case on its data
    settings = load_settings(search_cwd=False, overrides={"care": {"service_signals": {"repeat_days": 90,
                                                                                      "repeat_contacts": 2}}})
    care = care_settings(settings)
    cfg = care.service_signals
    with Session(sqlite_shop) as s:
        sync_conversations(s, SHOP, settings, now=NOW)
        shop = get_shop(s, SHOP)
        convs = pd.DataFrame(s.execute(select(Conversation.customer_id, Conversation.opened_at)
                                       .where(Conversation.shop_id == shop.id)).all(),
                             columns=["customer_id", "opened_at"])
        now = convs["opened_at"].max()
        recent = convs[(convs["opened_at"] >= now - timedelta(days=cfg.repeat_days)) & (convs["opened_at"] <= now)]
        counts = recent.groupby("customer_id").size()
        expected = set(counts[counts >= cfg.repeat_contacts].index)
        got = {pk for pk, sigs in signals_by_customer(s, shop.id, care, now).items()
               if "repeat_contacts" in {x.kind for x in sigs}}
        assert got == expected
        assert expected, "the sample shop has customers who wrote again and again"
        if expected:  # the read model of one of them carries the same signal and the recovery action
            pk = sorted(expected)[0]
            cust = s.get(m.Customer, pk)
            assert cust is not None
            view = view_of(s, settings, shop.id, shop.name, cust, today=now.date())
            assert "repeat_contacts" in {x.kind for x in view.facts.signals}
            assert view.actions[0].action == "service_recovery"
            assert f"contacts within {cfg.repeat_days} days" in view.actions[0].reason


def test_open_complaint_is_a_signal_once_triaged(sqlite_shop, settings) -> None:  # type: ignore[no-untyped-def]
    if not hasattr(Conversation, "topic"):
        pytest.skip("conversation.topic arrives with the triage migration (0014)")
    care = care_settings(settings)
    with Session(sqlite_shop) as s:
        sync_conversations(s, SHOP, settings, now=NOW)
        conv = s.scalars(select(Conversation).where(Conversation.status != "resolved").limit(1)).one()
        conv.topic = "complaint"  # type: ignore[attr-defined]
        s.flush()
        sigs = signals_by_customer(s, conv.shop_id, care, NOW, [conv.customer_id])[conv.customer_id]
        assert any(x.kind == "open_complaint" and conv.id in x.figures["conversations"] for x in sigs)
        conv.status = "resolved"
        s.flush()
        sigs = signals_by_customer(s, conv.shop_id, care, NOW, [conv.customer_id]).get(conv.customer_id, [])
        assert "open_complaint" not in {x.kind for x in sigs}


def test_thresholds_come_from_config_and_unknown_signals_are_refused(sqlite_shop, tmp_path) -> None:  # type: ignore[no-untyped-def]
    strict = load_settings(search_cwd=False, overrides={"care": {"service_signals": {"csat_mean_max": 1.0}}})
    with Session(sqlite_shop) as s:
        shop = get_shop(s, SHOP)
        (cust,) = _without_feedback(s, shop, 1)
        for score in (1, 1, 2):
            record_feedback(s, shop.id, cust.id, "csat", score, now=NOW - timedelta(days=3))
        view = view_of(s, strict, shop.id, shop.name, cust, today=NOW.date())
        assert "low_csat" not in {x.kind for x in view.facts.signals}  # mean 1.33 > 1.0
    bad = tmp_path / "p.toml"
    bad.write_text('[[rules]]\nid = "x"\naction = "y"\nsignals_any = ["grumpy"]\n', "utf-8")
    with pytest.raises(ConfigError, match="unknown signal grumpy"):
        load_playbook(bad)
