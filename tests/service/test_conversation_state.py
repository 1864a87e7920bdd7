"""Conversation state is updated where it changes (an import of interactions, an analysis), never on a page
view: the dashboard, the inbox and the 360 read it as it is."""

from __future__ import annotations

from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select
from typer.testing import CliRunner

from clientlens.app import create_app
from clientlens.care import inbox
from clientlens.cli.main import build_app
from clientlens.config import load_settings
from clientlens.service.auth import create_token
from clientlens.store.care_models import Conversation
from clientlens.store.db import session_scope

SHOP = "desk"
CUSTOMERS = "customer_id,name,email\nc1,Ann Lee,ann@example.com\nc2,Bo Chen,bo@example.com\n"
MESSAGES = """interaction_id,customer_id,channel,direction,occurred_at,thread_id,subject,body
m1,c1,email,inbound,2024-03-01 09:00,T1,Where is my order?,Hello
m2,c1,email,outbound,2024-03-01 11:00,T1,Re: Where is my order?,It ships today.
m3,c2,chat,inbound,2024-03-02 10:00,T2,Refund,I want a refund
"""


def test_imported_messages_are_in_the_inbox_without_any_page_view(store_engine, store_url: str, tmp_path: Path,
                                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    runner, app = CliRunner(), build_app()
    for entity, body in (("customers", CUSTOMERS), ("interactions", MESSAGES)):
        path = tmp_path / f"{entity}.csv"
        path.write_text(body, "utf-8")
        res = runner.invoke(app, ["--db", store_url, "import", entity, str(path), "--shop", SHOP], catch_exceptions=False)
        assert res.exit_code == 0, res.output
    with session_scope(store_engine) as s:
        convs = {c.thread_key: c for c in s.scalars(select(Conversation))}
        assert set(convs) == {"T1", "T2"}
        assert convs["T1"].first_response_at is not None and convs["T2"].status == "new"
        assert convs["T2"].first_response_due is not None  # the SLA clock started at the import
        token = create_token(s, "desk", "admin", actor="test")

    def no_sync(*args: object, **kwargs: object) -> None:
        raise AssertionError("a page view synced conversations")

    monkeypatch.setattr(inbox, "sync_conversations", no_sync)
    client = TestClient(create_app(load_settings(search_cwd=False), store_engine),
                        headers={"Authorization": f"Bearer {token}"})
    for path in (f"/api/v1/shops/{SHOP}/conversations", f"/api/v1/shops/{SHOP}/customers/c1",
                 f"/api/v1/shops/{SHOP}/dashboard", f"/shops/{SHOP}/inbox", f"/shops/{SHOP}/dashboard"):
        assert client.get(path).status_code == 200, path
    page = client.get(f"/api/v1/shops/{SHOP}/conversations", params={"status": "all"}).json()
    assert page["count"] == 2 and {c["thread_id"] for c in page["data"]} == {"T1", "T2"}
    with session_scope(store_engine) as s:
        assert s.scalar(select(func.count()).select_from(Conversation)) == 2
