"""A guarded as-of date, snapshots that can be listed and removed, and customers found by e-mail, phone or a
name typed without its accents (SQLite and PostgreSQL, through the CLI and the API)."""

from __future__ import annotations

import json
from datetime import date, timedelta
from pathlib import Path

from fastapi.testclient import TestClient
from sqlalchemy import select
from typer.testing import CliRunner

from clientlens.app import create_app
from clientlens.cli.main import build_app
from clientlens.config import load_settings
from clientlens.errors import ClientlensError
from clientlens.service.auth import create_token
from clientlens.store import models as m
from clientlens.store.db import session_scope

SHOP = "hanoi"
CUSTOMERS = """customer_id,name,email,phone,country
v1,Nguyễn Thị Ngọc,ngoc.nguyen@example.vn,+84 912 345 678,VN
p1,Agnieszka Zielińska,a.zielinska@example.pl,+48 601 234 567,PL
p2,Łukasz Wróbel,lukasz@example.pl,,PL
f1,Zoé Lefèvre,zoe@example.fr,,FR
"""
ORDERS = """order_id,customer_id,order_date,currency,total
o1,v1,2024-02-01,EUR,10.00
o2,v1,2024-04-01,EUR,12.00
o3,p1,2024-03-15,EUR,30.00
o4,f1,2024-05-20,EUR,8.50
"""


def _cli(url: str, *args: str) -> tuple[int, str]:
    """Run a command as the console script does (clientlens errors become their exit codes)."""
    res = CliRunner().invoke(build_app(), ["--db", url, *args])
    if isinstance(res.exception, ClientlensError):
        return res.exception.exit_code, res.output + str(res.exception)
    return res.exit_code, res.output + (str(res.exception) if res.exception else "")


def _load(url: str, tmp_path: Path) -> None:
    for entity, body in (("customers", CUSTOMERS), ("orders", ORDERS)):
        path = tmp_path / f"{entity}.csv"
        path.write_text(body, "utf-8")
        assert _cli(url, "import", entity, str(path), "--shop", SHOP)[0] == 0


def test_as_of_dates_outside_the_shops_history_are_refused(store_engine, store_url: str, tmp_path: Path) -> None:
    _load(store_url, tmp_path)
    tomorrow = date.today() + timedelta(days=1)
    code, out = _cli(store_url, "analyze", "--shop", SHOP, "--as-of", tomorrow.isoformat())
    assert code == 4, out
    assert tomorrow.isoformat() in out and "future" in out and "from 2024-02-01" in out
    code, out = _cli(store_url, "analyze", "--shop", SHOP, "--as-of", "2023-12-31")
    assert code == 4 and "before the shop's first order (2024-02-01)" in out, out
    with session_scope(store_engine) as s:
        assert s.scalar(select(m.Snapshot.id)) is None  # nothing was written
    assert _cli(store_url, "analyze", "--shop", SHOP)[0] == 0  # default: the last order, 2024-05-20
    assert _cli(store_url, "analyze", "--shop", SHOP, "--as-of", "2024-03-31")[0] == 0


def test_snapshots_are_listed_and_deleted_and_a_future_one_is_never_current(store_engine, store_url: str,
                                                                            tmp_path: Path) -> None:
    _load(store_url, tmp_path)
    for as_of in ("2024-03-31", "2024-05-20"):
        assert _cli(store_url, "analyze", "--shop", SHOP, "--as-of", as_of)[0] == 0
    code, out = _cli(store_url, "snapshots", "list", "--shop", SHOP, "--format", "json")
    assert code == 0 and [r["as_of"] for r in json.loads(out)] == ["2024-03-31", "2024-05-20"]
    settings = load_settings(search_cwd=False)
    with session_scope(store_engine) as s:
        admin = create_token(s, "snap-admin", "admin", actor="test")
        analyst = create_token(s, "snap-analyst", "analyst", actor="test")
        # A snapshot dated in the future (an old mistyped --as-of) is never the current one.
        shop = s.scalar(select(m.Shop).where(m.Shop.name == SHOP))
        assert shop is not None
        s.add(m.Snapshot(shop_id=shop.id, as_of=date.today() + timedelta(days=300), created_at=date.today(),
                         engine="duckdb", run="{}"))
    app = create_app(settings, store_engine)
    api = TestClient(app, headers={"Authorization": f"Bearer {admin}"})
    assert api.get(f"/api/v1/shops/{SHOP}/dashboard").json()["kpis"]["snapshot"] == "2024-05-20"
    refused = TestClient(app, headers={"Authorization": f"Bearer {analyst}"}).delete(
        f"/api/v1/shops/{SHOP}/snapshots/2024-05-20")
    assert refused.status_code == 403  # admins only
    assert api.delete(f"/api/v1/shops/{SHOP}/snapshots/2024-05-20").status_code == 200
    assert api.get(f"/api/v1/shops/{SHOP}/dashboard").json()["kpis"]["snapshot"] == "2024-03-31"
    assert api.delete(f"/api/v1/shops/{SHOP}/snapshots/2024-05-20").status_code == 404
    code, out = _cli(store_url, "snapshots", "delete", "2024-03-31", "--shop", SHOP)
    assert code == 0 and "deleted" in out
    code, out = _cli(store_url, "snapshots", "list", "--shop", SHOP, "--format", "json")
    assert [r["as_of"] for r in json.loads(out)] == [(date.today() + timedelta(days=300)).isoformat()]


def test_customers_are_found_by_email_phone_and_a_name_without_accents(store_engine, store_url: str,
                                                                       tmp_path: Path) -> None:
    _load(store_url, tmp_path)
    assert _cli(store_url, "analyze", "--shop", SHOP)[0] == 0
    for key, expected in (("NGOC.Nguyen@example.vn", "v1"), ("+84 912 345 678", "v1"), ("+48601234567", "p1"),
                          ("p2", "p2")):
        code, out = _cli(store_url, "customer", key, "--shop", SHOP, "--format", "json")
        assert code == 0, (key, out)
        assert json.loads(out)["customer_id"] == expected, key
    code, out = _cli(store_url, "customer", "nobody@example.com", "--shop", SHOP)
    assert code == 1 and "nobody@example.com" in out
    with session_scope(store_engine) as s:
        token = create_token(s, "search", "agent", actor="test")
    api = TestClient(create_app(load_settings(search_cwd=False), store_engine),
                     headers={"Authorization": f"Bearer {token}"})

    def found(q: str) -> list[str]:
        resp = api.get(f"/api/v1/shops/{SHOP}/customers", params={"q": q})
        assert resp.status_code == 200, resp.text
        return [r["customer_id"] for r in resp.json()["data"]]

    assert found("ngoc") == ["v1"] and found("NGUYEN thi") == ["v1"]
    assert found("zielinska") == ["p1"] and found("lukasz") == ["p2"] and found("wrob") == ["p2"]
    assert found("zoe lef") == ["f1"] and found("lefevre") == ["f1"]
    assert found("ngoc.nguyen@example.vn") == ["v1"] and found("+48601234567") == ["p1"]
    assert found("zielinski") == [] and found("ngoc zoe") == []
