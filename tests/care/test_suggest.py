"""Suggested replies on the bundled sample shop: the best canned reply of the conversation's topic and
language, personalised (given name in the language's greeting, organisations by name, the order the
message names or the latest one, money through clientlens.money, the playbook's offer), the shop's own
reply before the default, the language chain, and the sandbox."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from clientlens.care import canned
from clientlens.care.feedback import record_feedback
from clientlens.care.inbox import sync_conversations
from clientlens.care.suggest import suggest_reply
from clientlens.errors import CareError, ConfigError
from clientlens.money import format_money, to_major
from clientlens.store import models as m
from clientlens.store.care_models import Conversation
from clientlens.store.repository import get_shop
from tests.care.conftest import NOW, SHOP


def _conversations(s: Session, shop: m.Shop) -> list[tuple[Conversation, m.Customer]]:
    return list(s.execute(select(Conversation, m.Customer).join(m.Customer, m.Customer.id == Conversation.customer_id)
                          .where(Conversation.shop_id == shop.id).order_by(Conversation.id)).all())  # type: ignore[arg-type]


def _orders(s: Session, customer: m.Customer) -> list[m.Order]:
    return list(s.scalars(select(m.Order).where(m.Order.customer_id == customer.id).order_by(m.Order.ordered_at)))


@pytest.fixture
def shop_session(sqlite_shop, settings):  # type: ignore[no-untyped-def]
    with Session(sqlite_shop) as s:
        sync_conversations(s, SHOP, settings, now=NOW)
        yield s, get_shop(s, SHOP)


def test_every_sample_conversation_gets_a_personal_reply_in_its_customers_language(shop_session, settings) -> None:  # type: ignore[no-untyped-def]
    s, shop = shop_session
    pairs = _conversations(s, shop)
    assert len(pairs) > 50
    seen_languages = set()
    for conv, cust in pairs[:60]:
        r = suggest_reply(s, settings, shop, conv.id, agent="Ana", today=NOW.date())
        assert r is not None
        lang = (cust.language or "en").split("-")[0].lower()
        expected_lang = lang if lang in canned.LANGUAGES else "en"
        assert r.language == expected_lang
        seen_languages.add(r.language)
        assert r.topic == (getattr(conv, "topic", None) or "other")
        assert r.reply_id is None  # the shop has none of its own yet: the packaged default
        assert "{{" not in r.body and "{%" not in r.body
        assert "Ana" in r.body and shop.name in r.body
        orders = [o for o in _orders(s, cust)]
        if orders:
            assert r.order_id is not None
        else:
            assert r.order_id is None
    assert len(seen_languages) >= 3


def test_greeting_forms_person_and_organisation(shop_session, settings) -> None:  # type: ignore[no-untyped-def]
    s, shop = shop_session
    by_lang: dict[str, tuple[Conversation, m.Customer]] = {}
    for conv, cust in _conversations(s, shop):
        if cust.name and cust.language:
            by_lang.setdefault(cust.language.split("-")[0], (conv, cust))
    greetings = {"en": "Hello {},", "fr": "Bonjour {},", "pl": "Dzień dobry, {}!", "vi": "Chào {},"}
    for lang, (conv, cust) in by_lang.items():
        if lang not in greetings:
            continue
        r = suggest_reply(s, settings, shop, conv.id, agent="Ana", today=NOW.date())
        assert r is not None
        words = cust.name.split()  # type: ignore[union-attr]
        given = words[-1] if lang == "vi" else words[0]
        assert r.body.startswith(greetings[lang].format(given)), (lang, cust.name, r.body[:60])
    # an organisation (customer_type professional / institutional in a snapshot) is greeted by its name
    conv, cust = _conversations(s, shop)[0]
    snap = m.Snapshot(shop_id=shop.id, as_of=NOW.date(), created_at=NOW, engine="duckdb")
    s.add(snap)
    s.flush()
    s.add(m.SnapshotLabel(snapshot_id=snap.id, customer_id=cust.external_id, taxonomy="customer_type",
                          label="professional", rule_id="t", figures="{}", text="t"))
    cust.name, cust.language = "Acme Trading Ltd", "en"
    s.flush()
    r = suggest_reply(s, settings, shop, conv.id, agent="Ana", today=NOW.date())
    assert r is not None and r.body.startswith("Dear Acme Trading Ltd team,")


def test_the_order_named_in_the_message_else_the_latest_with_its_money(shop_session, settings) -> None:  # type: ignore[no-untyped-def]
    s, shop = shop_session
    target = next((conv, cust) for conv, cust in _conversations(s, shop) if len(_orders(s, cust)) >= 2)
    conv, cust = target
    orders = _orders(s, cust)
    r = suggest_reply(s, settings, shop, conv.id, agent="Ana", today=NOW.date())
    assert r is not None and r.order_id == orders[-1].external_id
    # a new inbound message naming the first order: that order is the one the reply is about
    first = orders[0]
    it = m.Interaction(shop_id=shop.id, external_id="msg-about-order", customer_id=cust.id, channel=conv.channel,
                       direction="inbound", occurred_at=NOW - timedelta(minutes=5), thread_id=conv.thread_key,
                       subject="Where is it?", body=f"Hello, my order {first.external_id} never arrived.")
    s.add(it)
    s.flush()
    sync_conversations(s, SHOP, settings, now=NOW)
    # the return/refund default mentions the total: write one for the topic the conversation has
    lang = r.language
    canned.create_reply(s, shop.id, language=lang, topic=r.topic, name="about the order",
                        body="{{ greeting }} {% if order %}{{ order.id }} {{ order.total }} {{ order.date }}{% endif %}", priority=1, actor="ana")
    r2 = suggest_reply(s, settings, shop, conv.id, agent="Ana", today=NOW.date())
    assert r2 is not None and r2.order_id == first.external_id and r2.reply_id is not None
    total = format_money(to_major(first.total_minor, first.currency), first.currency, lang)
    assert first.external_id in r2.body and total in r2.body


def test_the_shops_own_reply_wins_and_priority_orders_them(shop_session, settings) -> None:  # type: ignore[no-untyped-def]
    s, shop = shop_session
    conv, cust = _conversations(s, shop)[0]
    r = suggest_reply(s, settings, shop, conv.id, agent="Ana", today=NOW.date())
    assert r is not None
    low = canned.create_reply(s, shop.id, language=r.language, topic=r.topic, name="low", body="low {{ greeting }}")
    high = canned.create_reply(s, shop.id, language=r.language, topic=r.topic, name="high", priority=5,
                               body="high {{ greeting }}")
    got = suggest_reply(s, settings, shop, conv.id, agent="Ana", today=NOW.date())
    assert got is not None and got.reply_id == high.id and got.body.startswith("high ")
    canned.update_reply(s, shop.id, high.id, active=False)
    got = suggest_reply(s, settings, shop, conv.id, agent="Ana", today=NOW.date())
    assert got is not None and got.reply_id == low.id
    listed = canned.list_replies(s, shop.id, language=r.language)
    assert {c.name for c in listed if c.topic == r.topic} == {"low", "high"}  # the default is replaced
    assert len([c for c in listed if c.is_default]) == len(canned.TOPICS) - 1
    with pytest.raises(CareError, match="exists already"):
        canned.create_reply(s, shop.id, language=r.language, topic=r.topic, name="low", body="x")


def test_the_offer_comes_from_the_playbook_recovery(shop_session, settings) -> None:  # type: ignore[no-untyped-def]
    s, shop = shop_session
    conv, cust = next((c, k) for c, k in _conversations(s, shop) if (k.language or "").startswith("en"))
    for score in (1, 1, 2):
        record_feedback(s, shop.id, cust.id, "csat", score, now=NOW - timedelta(days=2))
    r = suggest_reply(s, settings, shop, conv.id, agent="Ana", today=NOW.date())
    assert r is not None and r.offer_action == "service_recovery"
    assert "we have added a 10% discount to your next order" in r.body


def test_bad_templates_are_refused_with_the_field_and_the_sandbox_holds(shop_session) -> None:  # type: ignore[no-untyped-def]
    s, shop = shop_session
    with pytest.raises(ConfigError, match="topic 'weather'"):
        canned.create_reply(s, shop.id, language="en", topic="weather", name="x", body="hi")
    with pytest.raises(ConfigError, match="body: not a valid reply template"):
        canned.create_reply(s, shop.id, language="en", topic="other", name="x", body="{% if %}")
    with pytest.raises(ConfigError, match="body: not a valid reply template"):
        canned.create_reply(s, shop.id, language="en", topic="other", name="x", body="{{ unknown_name }}")
    with pytest.raises(ConfigError, match="body: not a valid reply template"):  # the sandbox: no Python internals
        canned.create_reply(s, shop.id, language="en", topic="other", name="x",
                            body="{{ greeting.__class__.__mro__[1].__subclasses__() }}")
    with pytest.raises(ConfigError, match="language"):
        canned.create_reply(s, shop.id, language="EN!", topic="other", name="x", body="hi")
