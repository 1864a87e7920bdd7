"""Merge decisions stick: an undone merge, a rejected suggestion or two profiles declared two people are
never merged again by a later import (SQLite and PostgreSQL), from the CLI and the API alike."""

from __future__ import annotations

import json
from pathlib import Path

from fastapi.testclient import TestClient
from sqlalchemy import select
from typer.testing import CliRunner

from clientlens.app import create_app
from clientlens.cli.main import build_app
from clientlens.config import load_settings
from clientlens.service.auth import create_token
from clientlens.store import auth_models as am
from clientlens.store import models as m
from clientlens.store.db import session_scope

SHOP = "twins"
# Two sisters sharing the family mailbox and phone; a third customer with her own address.
CUSTOMERS = """customer_id,name,email,phone,country
A1,Anna Kowalska,kowalscy@example.pl,+48 601 234 567,PL
A2,Agata Kowalska,KOWALSCY@example.pl,601 234 567,PL
B1,Zofia Nowak,zofia@example.pl,,PL
"""


def _cli(url: str, *args: str) -> tuple[int, str]:
    res = CliRunner().invoke(build_app(), ["--db", url, *args], catch_exceptions=False)
    return res.exit_code, res.output


def _survivor(engine, ext: str) -> str | None:  # type: ignore[no-untyped-def]
    with session_scope(engine) as s:
        cust = s.scalar(select(m.Customer).where(m.Customer.external_id == ext))
        assert cust is not None
        if cust.merged_into_id is None:
            return None
        into = s.get(m.Customer, cust.merged_into_id)
        return into.external_id if into else None


def test_an_undone_merge_is_not_redone_by_the_next_import(store_engine, store_url: str, tmp_path: Path) -> None:
    path = tmp_path / "customers.csv"
    path.write_text(CUSTOMERS, "utf-8")
    assert _cli(store_url, "import", "customers", str(path), "--shop", SHOP)[0] == 0
    assert _survivor(store_engine, "A2") == "A1"  # same e-mail and phone: merged on import
    code, out = _cli(store_url, "merges", "list", "--shop", SHOP, "--format", "json")
    merge_id = next(r["id"] for r in json.loads(out) if r["status"] == "accepted")
    assert _cli(store_url, "merges", "undo", str(merge_id), "--shop", SHOP)[0] == 0
    assert _survivor(store_engine, "A2") is None
    for _ in range(2):  # the same export again, twice
        assert _cli(store_url, "import", "customers", str(path), "--shop", SHOP)[0] == 0
        assert _survivor(store_engine, "A2") is None
    rows = json.loads(_cli(store_url, "merges", "list", "--shop", SHOP, "--format", "json")[1])
    assert [r["status"] for r in rows] == ["undone"]  # no new merge record either
    with session_scope(store_engine) as s:  # the CLI's decision is audited like the API's
        actions = list(s.scalars(select(am.AuditEvent.action).where(am.AuditEvent.actor == "cli")))
    assert "merge_undo" in actions


def test_separate_any_pair_from_the_cli_and_the_api(store_engine, store_url: str, tmp_path: Path) -> None:
    path = tmp_path / "customers.csv"
    path.write_text(CUSTOMERS, "utf-8")
    assert _cli(store_url, "import", "customers", str(path), "--shop", SHOP)[0] == 0
    assert _survivor(store_engine, "A2") == "A1"
    # The CLI separates the merged sisters: the merge is undone and recorded as a decision.
    code, out = _cli(store_url, "merges", "separate", "A1", "A2", "--shop", SHOP)
    assert code == 0 and "two people" in out
    assert _survivor(store_engine, "A2") is None
    # The API separates a pair never merged; a later profile sharing Zofia's address is still merged.
    settings = load_settings(search_cwd=False)
    with session_scope(store_engine) as s:
        token = create_token(s, "merge-test", "analyst", actor="test")
    api = TestClient(create_app(settings, store_engine), headers={"Authorization": f"Bearer {token}"})
    resp = api.post(f"/api/v1/shops/{SHOP}/merges/separate", json={"first": "A1", "second": "B1"})
    assert resp.status_code == 200, resp.text
    assert resp.json()["status"] == "separated"
    assert api.post(f"/api/v1/shops/{SHOP}/merges/separate", json={"first": "A1", "second": "nobody"}).status_code == 404
    more = tmp_path / "more.csv"
    more.write_text("customer_id,name,email\nB2,Zofia Nowak,Zofia@example.pl\n", "utf-8")
    assert _cli(store_url, "import", "customers", str(more), "--shop", SHOP)[0] == 0
    assert _survivor(store_engine, "B2") == "B1"
    assert _cli(store_url, "import", "customers", str(path), "--shop", SHOP)[0] == 0
    assert _survivor(store_engine, "A2") is None
    statuses = {r["status"] for r in api.get(f"/api/v1/shops/{SHOP}/merges", params={"status": "all"}).json()["data"]}
    assert {"undone", "separated", "accepted"} <= statuses
