"""On PostgreSQL the 360 is read in one statement (``api.services.fast360_pg``): the same rows, events
and document as the statement-per-table reads of ``fast360`` (themselves checked against the care
layer in ``test_fast360.py``), and the hot routes' autocommit sessions still sync new messages."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from clientlens.app import create_app
from clientlens.service import conversations, customer360, fast360, fast360_pg
from clientlens.service.auth import create_token
from clientlens.service.config import web_settings
from clientlens.store import models as m
from clientlens.store.db import session_scope
from clientlens.store.repository import get_customer

from .builders import build_store


def _rows(rows: Any) -> list[str]:
    return [repr(tuple(r)) for r in rows]  # repr: NaN scores compare equal


@pytest.fixture
def pg_store(store_engine, settings):  # type: ignore[no-untyped-def]
    if store_engine.dialect.name != "postgresql":
        pytest.skip("PostgreSQL-only read path (SQLite runs fast360.load, tested in test_fast360.py)")
    build_store(store_engine, customers=120)
    return store_engine


def test_one_statement_reads_the_same_rows_as_one_statement_per_table(pg_store, settings) -> None:  # type: ignore[no-untyped-def]
    with session_scope(pg_store) as s:
        shop = s.scalar(select(m.Shop).where(m.Shop.name == "cdnow"))
        assert shop is not None
        ids = list(s.scalars(select(m.Customer.external_id).where(m.Customer.shop_id == shop.id)))
        unsynced_seen = False
        conversations.sync(s, settings, shop)
        kinds: set[str] = set()
        labelled = scored = 0
        for ext in ids:
            cust = get_customer(s, shop.id, ext)
            one = fast360_pg.load(s, shop.id, cust.id, cust.external_id)
            many = fast360.load(s, shop.id, cust.id, cust.external_id)
            unsynced_seen |= one.unsynced
            assert one.data.events == many.events, ext
            assert one.data.snapshot == many.snapshot, ext
            assert one.data.history == many.history, ext
            assert _rows(one.data.labels) == _rows(many.labels), ext
            assert _rows([one.data.score] if one.data.score else []) == _rows([many.score] if many.score else []), ext
            assert _rows(one.data.orders) == _rows(many.orders), ext
            assert _rows(one.data.conversations) == _rows(many.conversations), ext
            assert sorted(one.merged_from) == sorted(customer360.merged_from_ids(s, cust.id)), ext
            kinds |= {e.kind for e in one.data.events}
            labelled += bool(one.data.labels)
            scored += one.data.score is not None
        assert not unsynced_seen  # everything was synced above
    assert {"order", "message", "conversation", "feedback"} <= kinds
    assert labelled and scored  # the store has a snapshot with labels and scores


def test_http_360_in_autocommit_syncs_new_messages_and_matches_the_service(pg_store, settings) -> None:  # type: ignore[no-untyped-def]
    with session_scope(pg_store) as s:
        shop = s.scalar(select(m.Shop).where(m.Shop.name == "cdnow"))
        assert shop is not None
        with_messages = sorted(set(s.scalars(select(m.Customer.external_id).join(
            m.Interaction, m.Interaction.customer_id == m.Customer.id).where(m.Customer.shop_id == shop.id))))
        token = create_token(s, "test-pg", "admin", actor="test")
    assert with_messages
    cust0 = with_messages[0]
    with session_scope(pg_store) as s:
        cust = get_customer(s, shop.id, cust0)
        assert fast360_pg.load(s, shop.id, cust.id, cust.external_id).unsynced  # nothing synced yet
    client = TestClient(create_app(settings, pg_store), headers={"Authorization": f"Bearer {token}"})
    doc = client.get(f"/api/v1/shops/cdnow/customers/{cust0}")
    assert doc.status_code == 200, doc.text
    assert doc.json()["conversations"]  # the sync ran (in its own transaction) and was read back
    cfg = web_settings(settings)
    with session_scope(pg_store) as s:
        cust = get_customer(s, shop.id, cust0)
        assert not fast360_pg.load(s, shop.id, cust.id, cust.external_id).unsynced  # and was committed
        for ext in with_messages[:15]:
            expected = customer360.customer_360(s, settings, cfg, shop, ext).model_dump(mode="json")
            got = client.get(f"/api/v1/shops/cdnow/customers/{ext}").json()
            for doc_ in (expected, got):
                for c in doc_["conversations"]:
                    c.pop("sla_breached", None)
            assert got == expected, ext
    page = client.get("/api/v1/shops/cdnow/customers", params={"limit": 5})
    assert page.status_code == 200 and len(page.json()["data"]) == 5
