"""REST API behaviour: filters, sorting and keyset paging, error bodies, sessions, CSRF, throttling,
tokens, audit, imports, unsubscribe."""

from __future__ import annotations

import re
from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import func, select

from clientlens.care.consent import unsubscribe_token
from clientlens.service.auth import create_admin_with_random_password
from clientlens.store import models as m
from clientlens.store.db import session_scope
from clientlens.store.repository import get_customer
from tests.api.conftest import PASSWORDS, login

C = "/api/v1/shops/cdnow/customers"


def _all_pages(client: TestClient, params: dict[str, Any]) -> tuple[list[dict[str, Any]], int]:
    rows: list[dict[str, Any]] = []
    cursor = None
    count = -1
    while True:
        page = client.get(C, params={**params, **({"cursor": cursor} if cursor else {})}).json()
        count = page["count"] if count < 0 else count
        rows.extend(page["data"])
        cursor = page["next_cursor"]
        if not cursor:
            return rows, count


def test_label_filter_matches_the_segment_size_and_keyset_pages_cover_it(api, engine) -> None:  # type: ignore[no-untyped-def]
    with session_scope(engine) as s:
        size = s.scalar(select(m.SnapshotSummary.customers).where(m.SnapshotSummary.taxonomy == "rfm_segment",
                                                                  m.SnapshotSummary.label == "champions"))
    rows, count = _all_pages(api["agent"], {"label": "rfm_segment=champions", "limit": 37})
    assert count == size == len(rows) == len({r["customer_id"] for r in rows})
    assert all(r["labels"]["rfm_segment"] == ["champions"] for r in rows)
    ids = [r["customer_id"] for r in rows]
    assert ids == sorted(ids)


def test_sort_by_clv_descending_with_score_range_and_country(api) -> None:  # type: ignore[no-untyped-def]
    rows, count = _all_pages(api["analyst"], {"sort": "-clv", "clv_min": 50, "clv_max": 500, "country": "PL",
                                             "limit": 25})
    assert count == len(rows) > 0
    clvs = [r["clv"] for r in rows]
    assert clvs == sorted(clvs, reverse=True) and 50 <= min(clvs) and max(clvs) <= 500
    assert {r["country"] for r in rows} == {"PL"}
    both = api["analyst"].get(C, params={"label": ["rfm_segment=lost", "value=low"], "limit": 500}).json()
    assert all(r["labels"]["rfm_segment"] == ["lost"] and r["labels"]["value"] == ["low"] for r in both["data"])


def test_invalid_input_gives_422_naming_the_field(api) -> None:  # type: ignore[no-untyped-def]
    resp = api["admin"].get(C, params={"limit": 0})
    assert resp.status_code == 422
    body = resp.json()["error"]
    assert body["code"] == "invalid" and [f["field"] for f in body["fields"]] == ["limit"]
    resp = api["admin"].post("/api/v1/users", json={"name": "x", "role": "boss", "password": "long-enough-1"})
    assert resp.status_code == 422 and resp.json()["error"]["fields"][0]["field"] == "role"
    resp = api["admin"].get(C, params={"sort": "shoe_size"})
    assert resp.status_code == 400 and "sort" in resp.json()["error"]["message"]
    resp = api["admin"].get("/api/v1/shops/nowhere/customers")
    assert resp.status_code == 404 and "cdnow" in resp.json()["error"]["message"]


def test_customer_360_has_every_part(api, facts) -> None:  # type: ignore[no-untyped-def]
    doc = api["agent"].get(f"{C}/{facts['first_customer']}").json()
    assert doc["profile"]["customer_id"] == facts["first_customer"]
    assert set(doc["consents"]) == {"email", "sms", "phone", "post", "chat", "social"}
    assert {lab["taxonomy"] for lab in doc["labels"]} == {"rfm_segment", "value"}
    assert doc["labels"][0]["figures"] and doc["prediction"]["clv"] is not None
    assert any(e["kind"] == "order" for e in doc["timeline"])
    assert doc["conversations"] and doc["merged_from"] == []


def test_session_cookie_flags_csrf_and_logout(app) -> None:  # type: ignore[no-untyped-def]
    web = TestClient(app)
    page = web.get("/login")
    token = re.search(r'name="csrf_token" value="([^"]+)"', page.text).group(1)  # type: ignore[union-attr]
    resp = web.post("/login", data={"username": "agent", "password": PASSWORDS["agent"], "csrf_token": token},
                    follow_redirects=False, headers={"X-Forwarded-Proto": "https"})
    cookie = resp.headers["set-cookie"]
    assert "HttpOnly" in cookie and "SameSite=lax" in cookie and "Secure" in cookie
    csrf = login(web, "agent", PASSWORDS["agent"])
    conv = web.get("/api/v1/shops/cdnow/conversations").json()["data"][0]["id"]
    url = f"/api/v1/shops/cdnow/conversations/{conv}/assign"
    assert web.post(url, json={"assignee": "agent"}).status_code == 403  # cookie without the CSRF header
    assert web.post(url, json={"assignee": "agent"}, headers={"X-CSRF-Token": csrf}).status_code == 200
    web.post("/logout", data={"csrf_token": csrf})
    assert web.get("/api/v1/me").status_code == 401


def test_login_throttling_and_audit(app, api) -> None:  # type: ignore[no-untyped-def]
    web = TestClient(app)
    statuses = []
    for _ in range(7):
        page = web.get("/login")
        token = re.search(r'name="csrf_token" value="([^"]+)"', page.text).group(1)  # type: ignore[union-attr]
        statuses.append(web.post("/login", data={"username": "analyst", "password": "wrong-guess",
                                                 "csrf_token": token}).status_code)
    assert statuses[:5] == [401] * 5 and statuses[5:] == [429, 429]
    actions = [e["action"] for e in api["admin"].get("/api/v1/audit", params={"limit": 50}).json()["data"]]
    assert actions.count("login_failed") == 5 and "login_throttled" in actions


def test_revoked_token_is_refused(api, tokens) -> None:  # type: ignore[no-untyped-def]
    listed = api["admin"].get("/api/v1/tokens").json()
    agent_id = next(t["id"] for t in listed if t["name"] == "test-agent")
    assert api["agent"].get("/api/v1/shops").status_code == 200
    assert api["admin"].delete(f"/api/v1/tokens/{agent_id}").status_code == 200
    assert api["agent"].get("/api/v1/shops").status_code == 401


def test_role_change_and_export_are_audited(api) -> None:  # type: ignore[no-untyped-def]
    assert api["admin"].patch("/api/v1/users/agent", json={"role": "analyst"}).status_code == 200
    assert api["analyst"].get("/api/v1/shops/cdnow/segments/export",
                              params={"taxonomy": "value", "label": "high"}).status_code == 200
    events = api["admin"].get("/api/v1/audit").json()["data"]
    assert {"role_changed", "segment_exported"} <= {e["action"] for e in events}


def test_upload_import_gives_the_cli_report(api, engine) -> None:  # type: ignore[no-untyped-def]
    csv = "customer_id,order_id,order_date,total\n9001,n1,1998-01-02,10.5\n9002,n2,1998-01-03,abc\n"
    resp = api["analyst"].post("/api/v1/shops/cdnow/imports", files={"file": ("new.csv", csv, "text/csv")},
                               data={"entity": "orders"})
    assert resp.status_code == 200, resp.text
    body = resp.json()
    assert body["exit_code"] == 3 and body["report"]["counts"]["inserted"] == 1
    assert body["report"]["counts"]["rejected"] == 1 and body["report"]["quarantine"].endswith(".rejected.csv")
    with session_scope(engine) as s:
        assert s.scalar(select(func.count()).select_from(m.Order).where(m.Order.external_id == "n1")) == 1


def test_unsubscribe_link_withdraws_consent(api, engine) -> None:  # type: ignore[no-untyped-def]
    with session_scope(engine) as s:
        shop = s.scalar(select(m.Shop))
        token = unsubscribe_token(s, get_customer(s, shop.id, "2"), "email")  # type: ignore[union-attr]
    assert api[None].post("/api/v1/unsubscribe/not-a-real-token").status_code == 404
    assert api[None].post(f"/api/v1/unsubscribe/{token}").status_code == 200
    assert api["agent"].get(f"{C}/2").json()["consents"]["email"] is False


def test_demo_admin_password_logs_in(app, engine) -> None:  # type: ignore[no-untyped-def]
    password = create_admin_with_random_password(engine, "demo-admin")
    assert len(password) >= 12
    web = TestClient(app)
    login(web, "demo-admin", password)
    assert web.get("/api/v1/me").json() == {"name": "demo-admin", "role": "admin", "kind": "user"}


def test_healthz_and_openapi(api) -> None:  # type: ignore[no-untyped-def]
    assert api[None].get("/healthz").json()["status"] == "ok"
    doc = api[None].get("/api/v1/openapi.json").json()
    assert "/api/v1/shops/{shop}/customers" in doc["paths"]


def test_next_best_action_of_one_customer_equals_the_care_layers_shop_wide_answer(engine, settings) -> None:  # type: ignore[no-untyped-def]
    from clientlens.care.playbooks import next_best_actions
    from clientlens.service.customer360 import next_best_action

    with session_scope(engine) as s:
        shop = s.scalar(select(m.Shop))
        expected = next_best_actions(s, "cdnow", settings)
        ids = sorted(expected)[:40] + ["3", "4", "5"]
        for cid in ids:
            mine = next_best_action(s, settings, shop, get_customer(s, shop.id, cid))  # type: ignore[union-attr]
            theirs = expected.get(cid, [])
            assert (mine.rule_id if mine else None) == (theirs[0].rule_id if theirs else None), cid
        assert any(a[0].rule_id == "priority_care_top_clv" for a in expected.values())
