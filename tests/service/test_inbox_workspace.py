"""The inbox workspace through the API: filters, views, search, paging, notes, reopen, bulk actions,
assignee validation, the replying marker; business hours skip the shop country's public holidays."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

from fastapi.testclient import TestClient
from sqlalchemy import select
from typer.testing import CliRunner

from clientlens.app import create_app
from clientlens.care.business_time import add_business_hours, business_hours_between
from clientlens.cli.main import build_app
from clientlens.config import ShopSettings, load_settings
from clientlens.service.auth import add_user, create_token
from clientlens.store import auth_models as am
from clientlens.store.db import session_scope

SHOP = "desk"
CUSTOMERS = "customer_id,name,email\nc1,Ann Lee,ann@example.com\nc2,Bo Chen,bo@example.com\nc3,Cy Zed,cy@example.com\n"
ROWS = ["interaction_id,customer_id,channel,direction,occurred_at,thread_id,subject,body"]
for i in range(12):
    cust, channel = ("c1", "email") if i % 3 == 0 else (("c2", "chat") if i % 3 == 1 else ("c3", "email"))
    ROWS.append(f"m{i},{cust},{channel},inbound,2024-03-0{1 + i % 5} 09:{i:02d},T{i},Subject {i},"
                f"{'parcel never arrived' if i == 7 else 'hello there'}")


def _client(store_engine, store_url: str, tmp_path: Path) -> TestClient:
    runner, app = CliRunner(), build_app()
    for entity, body in (("customers", CUSTOMERS), ("interactions", "\n".join(ROWS) + "\n")):
        path = tmp_path / f"{entity}.csv"
        path.write_text(body, "utf-8")
        res = runner.invoke(app, ["--db", store_url, "import", entity, str(path), "--shop", SHOP], catch_exceptions=False)
        assert res.exit_code == 0, res.output
    with session_scope(store_engine) as s:
        token = create_token(s, "desk", "admin", actor="test")
        add_user(s, "alice", "agent", "a-long-password-1", actor="test")
    return TestClient(create_app(load_settings(search_cwd=False), store_engine),
                      headers={"Authorization": f"Bearer {token}"})


def test_filters_views_paging_notes_reopen_bulk(store_engine, store_url: str, tmp_path: Path) -> None:
    client = _client(store_engine, store_url, tmp_path)
    base = f"/api/v1/shops/{SHOP}/conversations"
    every = client.get(base, params={"status": "all", "limit": 5}).json()
    assert every["count"] == 12 and len(every["data"]) == 5
    seen = set()
    for offset in (0, 5, 10):  # paging through the view in SQL
        seen |= {c["id"] for c in client.get(base, params={"status": "all", "limit": 5, "offset": offset}).json()["data"]}
    assert len(seen) == 12
    chat = client.get(base, params={"channel": "chat"}).json()
    assert chat["count"] == 4 and {c["channel"] for c in chat["data"]} == {"chat"}
    found = client.get(base, params={"q": "PARCEL"}).json()["data"]
    assert [c["thread_id"] for c in found] == ["T7"]
    by_name = client.get(base, params={"q": "cy z"}).json()
    assert by_name["count"] == 4 and {c["customer_id"] for c in by_name["data"]} == {"c3"}
    assert client.get(base, params={"q": "100%"}).json()["count"] == 0  # % is a character, not a wildcard
    assert client.get(base, params={"topic": "no-such-topic"}).json()["count"] == 0
    assert client.get(base, params={"language": "xx"}).json()["count"] == 0
    first = every["data"][0]["id"]
    assert every["data"][0]["sla_countdown_unit"] in ("h", "d")

    bad = client.post(f"{base}/{first}/assign", json={"assignee": "nobody-here"})
    assert bad.status_code == 422 and "nobody-here" in bad.text
    assert client.post(f"{base}/{first}/assign", json={"assignee": "alice"}).json()["assignee"] == "alice"
    assert [c["id"] for c in client.get(base, params={"assignee": "alice"}).json()["data"]] == [first]
    assert client.get(base, params={"view": "mine"}).json()["count"] == 0  # the token's user is desk
    assert client.get(base, params={"view": "unassigned"}).json()["count"] == 11

    noted = client.post(f"{base}/{first}/notes", json={"body": "called her, waiting for the carrier"})
    assert noted.status_code == 201
    assert [n["body"] for n in noted.json()["notes"]] == ["called her, waiting for the carrier"]
    assert all("carrier" not in (h["body"] or "") for h in noted.json()["history"])  # never a message
    with session_scope(store_engine) as s:
        actions = set(s.scalars(select(am.AuditEvent.action)))
    assert {"conversation_note", "conversation_assigned"} <= actions

    assert client.post(f"{base}/{first}/reopen").status_code == 409  # not resolved
    assert client.post(f"{base}/{first}/resolve").json()["status"] == "resolved"
    assert first not in {c["id"] for c in client.get(base, params={"limit": 50}).json()["data"]}
    reopened = client.post(f"{base}/{first}/reopen").json()
    assert reopened["status"] == "new" and reopened["resolved_at"] is None

    ids = [c["id"] for c in chat["data"]]
    assert client.post(f"{base}/bulk", json={"action": "assign", "ids": ids, "assignee": "ghost"}).status_code == 422
    assert client.post(f"{base}/bulk", json={"action": "assign", "ids": ids, "assignee": "alice"}).json()["done"] == ids
    assert client.get(base, params={"assignee": "alice", "channel": "chat"}).json()["count"] == 4
    assert client.post(f"{base}/bulk", json={"action": "resolve", "ids": ids}).status_code == 200
    assert client.get(base, params={"channel": "chat"}).json()["count"] == 0
    assert client.get(base, params={"channel": "chat", "status": "resolved"}).json()["count"] == 4
    assert client.post(f"{base}/bulk", json={"action": "resolve", "ids": [999999]}).status_code == 404


def test_business_hours_skip_the_shop_countrys_public_holidays() -> None:
    poland = ShopSettings(timezone="Europe/Warsaw", home_country="PL")
    nowhere = ShopSettings(timezone="Europe/Warsaw")
    start = datetime(2025, 12, 31, 14, 0)  # Wednesday 15:00 in Warsaw: 2 business hours left that day
    due = add_business_hours(start, 4, poland)
    assert due.date() != datetime(2026, 1, 1).date()  # New Year's Day is a holiday in Poland
    assert due == datetime(2026, 1, 2, 10, 0)  # Friday 09:00 Warsaw (08:00 UTC) + 2 h
    assert add_business_hours(start, 4, nowhere) == datetime(2026, 1, 1, 10, 0)
    assert business_hours_between(start, due, poland) == 4.0
    assert add_business_hours(datetime(2026, 11, 10, 15, 0), 2, poland) == datetime(2026, 11, 12, 9, 0)  # 11 Nov
