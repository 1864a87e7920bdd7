"""Every endpoint x every role and anonymous gives the documented status (docs/api.md).

``ROUTES`` is the documented table: for each (method, path) the permission it needs (see
``clientlens.service.security.PERMISSIONS``; ``public`` needs none, ``user`` any logged-in caller) and the
status a caller holding it gets. Anonymous callers get 401 from the API and a 303 to /login from
pages (401 with ``HX-Redirect`` when HTMX asks); callers without the permission get 403. The test fails when the app has a route that is not
in the table (or the table names a route the app lacks).
"""

from __future__ import annotations

import io
import json
import uuid
from datetime import date, datetime
from typing import Any

import pytest
from fastapi.routing import APIRoute, iter_route_contexts
from fastapi.testclient import TestClient

from clientlens.care.consent import unsubscribe_token
from clientlens.service.auth import create_token
from clientlens.service.security import PERMISSIONS
from clientlens.store import models as m
from clientlens.store.db import session_scope
from clientlens.store.repository import get_customer
from tests.api.conftest import PASSWORDS, login

S = "/api/v1/shops/{shop}"
ORDERS_CSV = "customer_id,order_id,order_date,total\n9001,x1,1998-01-02,10.5\n9002,x2,1998-01-03,20\n"
CAMPAIGN = {"name": "authz test", "template": "promotion", "labels": ["rfm_segment:champions"], "discount": 5}

# (method, path): (permission, status for a caller holding it, request extras). Order matters: the
# requests run top to bottom on one store, so state-changing ones come where they leave the rest valid.
ROUTES: dict[tuple[str, str], tuple[str, int, dict[str, Any]]] = {
    ("GET", "/healthz"): ("public", 200, {}),
    ("GET", "/api/v1/openapi.json"): ("public", 200, {}),
    ("GET", "/api/v1/me"): ("user", 200, {}),
    ("GET", "/api/v1/shops"): ("shops.read", 200, {}),
    ("GET", S): ("shops.read", 200, {}),
    ("GET", S + "/customers"): ("customers.read", 200, {"params": {"label": "value=high", "sort": "-clv"}}),
    ("GET", S + "/customers/{customer_id}"): ("customers.read", 200, {}),
    ("GET", S + "/customers/{customer_id}/labels"): ("customers.read", 200, {}),
    ("GET", S + "/customers/{customer_id}/predictions"): ("customers.read", 200, {}),
    ("GET", S + "/customers/{customer_id}/orders"): ("customers.read", 200, {}),
    ("GET", S + "/customers/{customer_id}/export"): ("privacy", 200, {}),
    ("POST", S + "/customers/{customer_id}/erase"): ("privacy", 200, {"path": {"customer_id": "2"}}),
    ("GET", S + "/orders"): ("customers.read", 200, {}),
    ("GET", S + "/interactions"): ("customers.read", 200, {}),
    ("GET", S + "/conversations"): ("customers.read", 200, {}),
    ("GET", S + "/conversations/{conversation_id}"): ("customers.read", 200, {}),
    ("POST", S + "/conversations/{conversation_id}/reply"): ("conversations.write", 200, {"json": {"body": "On its way."}}),
    ("POST", S + "/conversations/{conversation_id}/assign"): ("conversations.write", 200, {"json": {"assignee": "agent"}}),
    ("POST", S + "/conversations/{conversation_id}/resolve"): ("conversations.write", 200, {}),
    ("POST", S + "/conversations/{conversation_id}/reopen"): ("conversations.write", 200, {}),  # resolved above
    ("POST", S + "/conversations/{conversation_id}/notes"): ("conversations.write", 201, {"json": {"body": "authz"}}),
    ("POST", S + "/conversations/bulk"): ("conversations.write", 200, {"bulk": "assign"}),
    ("POST", S + "/interactions"): ("conversations.write", 201, {"unique": True, "json": {
        "interaction_id": "authz-{uid}", "email": "authz-{uid}@mail.example", "channel": "chat",
        "occurred_at": "2026-01-05T10:00:00", "body": "Where is my order?"}}),
    ("POST", S + "/inbound/email"): ("conversations.write", 201, {"unique": True, "headers": {
        "Content-Type": "message/rfc822"}, "content": "From: authz@mail.example\r\nTo: care@shop.example\r\n"
        "Subject: Where is my order\r\nMessage-ID: <authz-{uid}@mail.example>\r\n\r\nWhere is my order?\r\n"}),
    ("GET", S + "/feedback"): ("customers.read", 200, {}),
    ("GET", S + "/feedback/csat-report"): ("analytics.read", 200, {"params": {"by": "channel"}}),
    ("GET", S + "/conversations/{conversation_id}/suggested-reply"): ("customers.read", 200, {}),
    ("GET", S + "/canned-replies"): ("customers.read", 200, {"params": {"language": "fr"}}),
    ("POST", S + "/canned-replies"): ("conversations.write", 201, {"json": {
        "language": "en", "topic": "other", "name": "authz", "body": "{{ greeting }} Thanks."}}),
    ("GET", S + "/canned-replies/{reply_id}"): ("customers.read", 200, {"setup": "canned_reply"}),
    ("PATCH", S + "/canned-replies/{reply_id}"): ("conversations.write", 200, {"setup": "canned_reply",
                                                                           "json": {"priority": 3}}),
    ("DELETE", S + "/canned-replies/{reply_id}"): ("conversations.write", 204, {"setup": "canned_reply"}),
    ("GET", S + "/snapshots"): ("analytics.read", 200, {}),
    ("GET", S + "/segments"): ("analytics.read", 200, {}),
    ("GET", S + "/flows"): ("analytics.read", 200, {"params": {"taxonomy": "rfm_segment", "from_as_of": "1998-06-30",
                                                             "to_as_of": "1998-06-30"}}),
    ("GET", S + "/segments/export"): ("segments.export", 200, {"params": {"taxonomy": "value", "label": "high"}}),
    ("GET", S + "/dashboard"): ("analytics.read", 200, {}),
    ("GET", S + "/predictions"): ("customers.read", 200, {}),
    ("GET", S + "/actions"): ("customers.read", 200, {}),
    ("GET", S + "/campaigns"): ("campaigns.read", 200, {}),
    ("GET", S + "/campaigns/templates"): ("campaigns.read", 200, {}),
    ("POST", S + "/campaigns/preview"): ("campaigns.read", 200, {"json": CAMPAIGN, "params": {"language": "vi"}}),
    ("POST", S + "/campaigns/send"): ("campaigns.write", 200, {"json": CAMPAIGN}),
    ("POST", S + "/imports"): ("imports.write", 200, {"files": {"file": ("orders.csv", ORDERS_CSV, "text/csv")},
                                                      "data": {"entity": "orders"}}),
    ("GET", S + "/merges"): ("merges.read", 200, {}),
    ("POST", S + "/merges/{merge_id}/accept"): ("merges.write", 200, {}),
    ("POST", S + "/merges/{merge_id}/undo"): ("merges.write", 200, {}),
    ("POST", S + "/merges/{merge_id}/reject"): ("merges.write", 200, {"setup": "suggest_merge"}),
    ("POST", S + "/merges/separate"): ("merges.write", 200, {"json": {"first": "20", "second": "21"}}),
    ("DELETE", S + "/snapshots/{as_of}"): ("snapshots.delete", 200, {"path": {"as_of": "1997-03-31"}}),
    ("POST", "/api/v1/unsubscribe/{token}"): ("public", 200, {}),
    ("GET", "/api/v1/users"): ("users.admin", 200, {}),
    ("POST", "/api/v1/users"): ("users.admin", 201, {"json": {"name": "newbie", "role": "agent", "password": "long-enough-1"}}),
    ("PATCH", "/api/v1/users/{name}"): ("users.admin", 200, {"json": {"role": "analyst"}}),
    ("GET", "/api/v1/tokens"): ("users.admin", 200, {}),
    ("POST", "/api/v1/tokens"): ("users.admin", 201, {"json": {"name": "crm", "role": "agent"}}),
    ("DELETE", "/api/v1/tokens/{token_id}"): ("users.admin", 200, {}),
    ("GET", "/api/v1/audit"): ("audit.read", 200, {}),
    # Pages (session cookie; forms carry the CSRF token).
    ("GET", "/login"): ("public", 200, {}),
    ("GET", "/favicon.ico"): ("public", 301, {}),
    # A login form posted without the CSRF token of its page is refused.
    ("POST", "/login"): ("public", 403, {"data": {"username": "nobody", "password": "wrong-password", "csrf_token": "x"},
                                         "login_form": True}),
    ("GET", "/"): ("user", 200, {}),
    ("POST", "/language"): ("user", 303, {"data": {"lang": "fr", "back": "/"}}),
    ("GET", "/shops/{shop}/dashboard"): ("analytics.read", 200, {}),
    ("GET", "/shops/{shop}/customers"): ("customers.read", 200, {"params": {"label": "rfm_segment=lost"}}),
    ("GET", "/shops/{shop}/customers/{customer_id}"): ("customers.read", 200, {}),
    ("POST", "/shops/{shop}/customers/{customer_id}/erase"): ("privacy", 303, {"path": {"customer_id": "3"}}),
    ("GET", "/shops/{shop}/segments"): ("analytics.read", 200, {}),
    ("GET", "/admin"): ("users.admin", 200, {}),
    ("POST", "/admin/users"): ("users.admin", 303, {"data": {"name": "web-user", "role": "agent", "password": "long-enough-2"}}),
    ("POST", "/admin/users/{name}/role"): ("users.admin", 303, {"data": {"role": "agent"}}),
    ("POST", "/admin/tokens"): ("users.admin", 200, {"data": {"name": "web-token", "role": "agent"}}),
    ("GET", "/unsubscribe/{token}"): ("public", 200, {}),
    ("POST", "/unsubscribe/{token}"): ("public", 200, {}),
    ("GET", "/shops/{shop}/inbox"): ("customers.read", 200, {}),
    ("GET", "/shops/{shop}/inbox/{conversation_id}"): ("customers.read", 200, {"headers": {"HX-Request": "true"}}),
    ("POST", "/shops/{shop}/inbox/{conversation_id}/{action}"): ("conversations.write", 200, {
        "path": {"action": "assign"}, "data": {"assignee": "agent"}, "headers": {"HX-Request": "true"}}),
    ("GET", "/shops/{shop}/merges"): ("merges.read", 200, {"params": {"status": "all"}}),
    ("GET", "/shops/{shop}/merges/{merge_id}"): ("merges.read", 200, {"params": {"step": "confirm"}}),
    ("GET", "/shops/{shop}/canned-replies"): ("customers.read", 200, {}),
    ("POST", "/shops/{shop}/canned-replies"): ("conversations.write", 303, {"data": {
        "language": "pl", "topic": "praise", "name": "web", "body": "{{ greeting }} Dziękujemy!"}}),
    ("POST", "/shops/{shop}/canned-replies/{reply_id}/delete"): ("conversations.write", 303, {"setup": "canned_reply"}),
    ("GET", "/shops/{shop}/conversations/{conversation_id}/suggested-reply"): ("customers.read", 200, {}),
    ("GET", "/shops/{shop}/csat"): ("analytics.read", 200, {"params": {"by": "agent"}}),
    ("POST", "/shops/{shop}/merges/separate"): ("merges.write", 303, {"data": {"first": "22", "second": "23"}}),
    ("POST", "/shops/{shop}/snapshots/{as_of}/delete"): ("snapshots.delete", 303, {"path": {"as_of": "1997-06-30"}}),
    ("POST", "/shops/{shop}/merges/{merge_id}/{decision}"): ("merges.write", 303, {"path": {"decision": "accept"},
                                                                                   "setup": "suggest_merge"}),
    ("GET", "/shops/{shop}/campaigns"): ("campaigns.read", 200, {}),
    ("POST", "/shops/{shop}/campaigns/preview"): ("campaigns.read", 200, {"data": {"name": "x", "template": "promotion",
                                                                                   "preview_language": "pl"}}),
    ("POST", "/shops/{shop}/campaigns/send"): ("campaigns.write", 200, {"data": {"name": "web send", "template": "promotion",
                                                                                 "segment": "rfm_segment:champions"}}),
    ("POST", "/logout"): ("user", 303, {}),
}

PRINCIPALS = (None, "admin", "analyst", "agent")


def expected(permission: str, ok: int, role: str | None, page: bool, htmx: bool = False) -> int:
    """The documented status for ``role`` (None: anonymous; pages fetched by HTMX get 401 + HX-Redirect)."""
    if permission == "public":
        return ok
    if role is None:
        return 303 if page and not htmx else 401
    if permission == "user" or role in PERMISSIONS[permission]:
        return ok
    return 403


def app_routes(app) -> set[tuple[str, str]]:  # type: ignore[no-untyped-def]
    out = set()
    for ctx in iter_route_contexts(app.routes):
        if isinstance(ctx.original_route, APIRoute) or ctx.path == "/api/v1/openapi.json":
            for method in ctx.methods or ():
                if method != "HEAD":
                    out.add((method, ctx.path))
    return out


def test_every_route_has_an_entry(small_app) -> None:  # type: ignore[no-untyped-def]
    app = small_app
    routes = app_routes(app)
    missing = sorted(routes - set(ROUTES))
    stale = sorted(set(ROUTES) - routes)
    assert not missing, f"routes without an authorisation entry: {missing}"
    assert not stale, f"entries for routes the app does not have: {stale}"


def _setup(engine, facts) -> dict[str, str]:  # type: ignore[no-untyped-def]
    """Ids the paths need: customers, a conversation, a merge, a spare token, an unsubscribe token."""
    from clientlens.care.inbox import sync_conversations
    from clientlens.config import load_settings

    with session_scope(engine) as s:
        shop = s.query(m.Shop).filter_by(name=facts["shop"]).one()
        sync_conversations(s, shop.name, load_settings(search_cwd=False))
        from sqlalchemy import select

        from clientlens.store.care_models import Conversation

        conv = s.scalar(select(Conversation.id).where(Conversation.shop_id == shop.id).order_by(Conversation.id))
        spare = create_token(s, "spare", "agent", actor="test")
        from clientlens.store import auth_models as am

        spare_id = s.scalar(select(am.ApiToken.id).where(am.ApiToken.prefix == spare[:10]))
        unsub = unsubscribe_token(s, get_customer(s, shop.id, "5"), "email")
        merge_id = s.scalar(select(m.Merge.id).where(m.Merge.shop_id == shop.id))
        for day in (date(1997, 3, 31), date(1997, 6, 30)):  # older snapshots the delete routes remove
            s.add(m.Snapshot(shop_id=shop.id, as_of=day, created_at=datetime(1998, 7, 1), engine="duckdb", run="{}"))
    return {"shop": facts["shop"], "customer_id": facts["first_customer"], 
            "conversation_id": str(conv), "merge_id": str(merge_id), "token_id": str(spare_id), "token": unsub,
            "name": "agent", "action": "assign", "decision": "accept"}


def _suggest_merge(engine, facts) -> str:  # type: ignore[no-untyped-def]
    """A new suggested merge (pages accept it)."""

    with session_scope(engine) as s:
        shop = s.query(m.Shop).filter_by(name=facts["shop"]).one()
        a, b = get_customer(s, shop.id, "10"), get_customer(s, shop.id, "11")
        rec = m.Merge(shop_id=shop.id, survivor_id=a.id, merged_id=b.id, status="suggested", rule="fuzzy_name_address",
                      score=0.9, created_at=datetime(1998, 7, 1))
        s.add(rec)
        s.flush()
        return str(rec.id)


def _canned_reply(engine, facts) -> str:  # type: ignore[no-untyped-def]
    """A new canned reply of the shop (the routes on one reply read, change or delete it)."""
    import uuid

    from clientlens.care.canned import create_reply

    with session_scope(engine) as s:
        shop = s.query(m.Shop).filter_by(name=facts["shop"]).one()
        return str(create_reply(s, shop.id, language="en", topic="praise", name=f"r-{uuid.uuid4().hex[:8]}",
                                body="{{ greeting }} Thank you!").id)


@pytest.mark.parametrize("role", PRINCIPALS, ids=lambda r: r or "anonymous")
def test_status_of_every_endpoint_for(role: str | None, small_app, small_engine, facts) -> None:  # type: ignore[no-untyped-def]
    app, engine = small_app, small_engine
    ids = _setup(engine, facts)
    with session_scope(engine) as s:
        tokens = {r: create_token(s, f"authz-{r}", r, actor="test") for r in ("admin", "analyst", "agent")}
    api = TestClient(app, headers={"Authorization": f"Bearer {tokens[role]}"} if role else {})
    web = TestClient(app)
    csrf = login(web, role, PASSWORDS[role]) if role else ""
    failures = []
    for (method, path), (permission, ok, extra) in ROUTES.items():
        page = not (path.startswith("/api/") or path == "/healthz")
        values = {**ids, **extra.get("path", {})}
        if extra.get("setup") == "suggest_merge":
            values["merge_id"] = _suggest_merge(engine, facts)
        if extra.get("setup") == "canned_reply":
            values["reply_id"] = _canned_reply(engine, facts)
        url = path.format(**values)
        client = web if page else api
        kwargs: dict[str, Any] = {k: v for k, v in extra.items() if k in ("params", "json", "headers")}
        if "files" in extra:
            kwargs["files"] = {k: (n, io.BytesIO(c.encode()), t) for k, (n, c, t) in extra["files"].items()}
        if "data" in extra:
            kwargs["data"] = dict(extra["data"])
        if extra.get("bulk"):
            kwargs["json"] = {"action": extra["bulk"], "ids": [int(values["conversation_id"])], "assignee": "agent"}
        if "content" in extra:
            kwargs["content"] = extra["content"]
        if extra.get("unique"):  # a new message id per call (the endpoints are idempotent by it)
            uid = uuid.uuid4().hex
            if "json" in kwargs:
                kwargs["json"] = json.loads(json.dumps(kwargs["json"]).replace("{uid}", uid))
            if "content" in kwargs:
                kwargs["content"] = kwargs["content"].replace("{uid}", uid)
        if page and method == "POST" and role and not extra.get("login_form"):
            kwargs.setdefault("data", {})["csrf_token"] = csrf
        resp = client.request(method, url, follow_redirects=False, **kwargs)
        want = expected(permission, ok, role, page, "HX-Request" in extra.get("headers", {}))
        if resp.status_code != want:
            failures.append(f"{method} {path}: {resp.status_code} (expected {want}) {resp.text[:160]}")
    assert not failures, "\n".join(failures)
