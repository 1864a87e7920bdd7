"""The customer 360 read with a few Core queries (``api.services.fast360``) gives the care layer's answer.

The care layer's timeline, loyalty and facts functions are the reference; the API reads each
table once instead. Compared on the test store (CDNOW sample, conversations, feedback, consents,
campaign messages, a snapshot), for every customer with interactions and a sample of the rest.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from clientlens.care.config import care_settings
from clientlens.care.loyalty import loyalty_statuses
from clientlens.care.timeline import customer_timeline
from clientlens.service import conversations, customer360, customers, fast360
from clientlens.service.config import web_settings
from clientlens.store import models as m
from clientlens.store.db import session_scope
from clientlens.store.repository import get_customer, utcnow

C = "/api/v1/shops/cdnow/customers"


def _ids(s: Any, shop_id: int) -> list[str]:
    with_messages = set(s.scalars(select(m.Customer.external_id).join(
        m.Interaction, m.Interaction.customer_id == m.Customer.id).where(m.Customer.shop_id == shop_id)))
    others = list(s.scalars(select(m.Customer.external_id).where(m.Customer.shop_id == shop_id)
                            .order_by(m.Customer.id).limit(60)))
    return sorted(with_messages) + others


def test_core_reads_equal_the_care_layers_timeline_loyalty_and_facts(engine, settings) -> None:  # type: ignore[no-untyped-def]
    care = care_settings(settings)
    today = utcnow().date()
    with session_scope(engine) as s:
        shop = s.scalar(select(m.Shop).where(m.Shop.name == "cdnow"))
        assert shop is not None
        conversations.sync(s, settings, shop)  # group the messages into conversations (as the 360 does)
        ids = _ids(s, shop.id)
        kinds: set[str] = set()
        for ext in ids:
            cust = get_customer(s, shop.id, ext)
            data = fast360.load(s, shop.id, cust.id, cust.external_id)
            expected = customer_timeline(s, shop.name, cust.external_id)
            assert data.events == expected, ext
            kinds |= {e.kind for e in expected}
            assert fast360.loyalty(data, shop.id, cust.id, care, today) == \
                loyalty_statuses(s, shop.id, care, today, [cust.id])[cust.id], ext
            mine, theirs = fast360.facts(s, data), customer360.customer_facts(s, shop, cust.external_id)
            assert (mine.labels, mine.p_alive, mine.clv, mine.clv_rank_share) == \
                (theirs.labels, theirs.p_alive, theirs.clv, theirs.clv_rank_share), ext
    # The store exercises the kinds of events the Core reads rebuild.
    assert {"order", "message", "conversation", "resolved", "feedback"} <= kinds


def test_360_parts_equal_the_single_part_endpoints(engine, settings, api) -> None:  # type: ignore[no-untyped-def]
    cfg = web_settings(settings)
    with session_scope(engine) as s:
        shop = s.scalar(select(m.Shop).where(m.Shop.name == "cdnow"))
        assert shop is not None
        conversations.sync(s, settings, shop)
        ids = _ids(s, shop.id)[:40]
        for ext in ids:
            view = customer360.customer_360(s, settings, cfg, shop, ext)
            cust = get_customer(s, shop.id, ext)
            assert view.labels == customers.customer_labels(s, shop, cust.external_id), ext
            assert view.prediction == customers.prediction(s, shop, cust.external_id), ext
            assert [c.model_dump(exclude={"sla_breached"}) for c in view.conversations] == \
                [c.model_dump(exclude={"sla_breached"}) for c in conversations.of_customer(s, shop, cust.id)], ext
    # And over HTTP the 360 is the same document as its parts.
    doc = api["agent"].get(f"{C}/{ids[0]}").json()
    assert doc["labels"] == api["agent"].get(f"{C}/{ids[0]}/labels").json()
    assert doc["prediction"] == api["agent"].get(f"{C}/{ids[0]}/predictions").json()
