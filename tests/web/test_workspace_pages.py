"""The suggested reply in the inbox (partial with Insert, via the page and the API), the canned-replies page
and API, the CSAT report beside NPS (web, API, CLI), on the test store."""

from __future__ import annotations

import re

from fastapi.testclient import TestClient
from sqlalchemy import select
from typer.testing import CliRunner

from clientlens.store.care_models import Conversation
from clientlens.store.db import session_scope
from tests.api.conftest import PASSWORDS, login


def _conversation(engine) -> int:  # type: ignore[no-untyped-def]
    with session_scope(engine) as s:
        cid = s.scalar(select(Conversation.id).order_by(Conversation.id))
        assert cid is not None
        return cid


def test_the_conversation_loads_its_suggested_reply_and_insert_fills_the_reply(small_app, small_engine) -> None:  # type: ignore[no-untyped-def]
    cid = _conversation(small_engine)
    web = TestClient(small_app)
    login(web, "agent", PASSWORDS["agent"])
    detail = web.get(f"/shops/cdnow/inbox/{cid}", headers={"HX-Request": "true"})
    assert f'hx-get="/shops/cdnow/conversations/{cid}/suggested-reply"' in detail.text
    part = web.get(f"/shops/cdnow/conversations/{cid}/suggested-reply")
    assert part.status_code == 200
    assert 'data-insert-into="reply-body"' in part.text and 'id="suggested-reply-body"' in part.text
    body = re.search(r'id="suggested-reply-body"[^>]*>(.*?)</textarea>', part.text, re.S)
    assert body is not None and "agent" in body.group(1) and "{{" not in body.group(1)
    assert web.get("/static/suggest.js").status_code == 200


def test_api_crud_and_suggested_reply(small_app, small_engine) -> None:  # type: ignore[no-untyped-def]
    from clientlens.service.auth import create_token

    with session_scope(small_engine) as s:
        tok = create_token(s, "t-agent", "agent", actor="test")
    api = TestClient(small_app, headers={"Authorization": f"Bearer {tok}"})
    cid = _conversation(small_engine)
    first = api.get(f"/api/v1/shops/cdnow/conversations/{cid}/suggested-reply").json()
    assert first["reply_id"] is None and first["topic"]
    made = api.post("/api/v1/shops/cdnow/canned-replies", json={
        "language": first["language"], "topic": first["topic"], "name": "ours",
        "body": "{{ greeting }} Ours.{% if order %} Order {{ order.id }}.{% endif %}", "priority": 2})
    assert made.status_code == 201, made.text
    got = api.get(f"/api/v1/shops/cdnow/conversations/{cid}/suggested-reply").json()
    assert got["reply_id"] == made.json()["id"] and "Ours." in got["body"]
    bad = api.post("/api/v1/shops/cdnow/canned-replies", json={"language": "en", "topic": "other", "name": "x",
                                                               "body": "{% for %}"})
    assert bad.status_code in (400, 422) and "body" in bad.text
    assert api.patch(f"/api/v1/shops/cdnow/canned-replies/{made.json()['id']}", json={"active": False}).json()["active"] is False
    listed = api.get("/api/v1/shops/cdnow/canned-replies", params={"language": "vi"}).json()
    assert len(listed) == 9 and all(r["is_default"] for r in listed)
    assert api.delete(f"/api/v1/shops/cdnow/canned-replies/{made.json()['id']}").status_code == 204


def test_canned_page_saves_a_default_as_the_shops_own(small_app) -> None:  # type: ignore[no-untyped-def]
    web = TestClient(small_app)
    csrf = login(web, "agent", PASSWORDS["agent"])
    page = web.get("/shops/cdnow/canned-replies", params={"language": "fr"})
    assert page.status_code == 200 and page.text.count("(default)") == 9
    resp = web.post("/shops/cdnow/canned-replies", follow_redirects=False, data={
        "csrf_token": csrf, "language": "fr", "topic": "praise", "name": "merci", "body": "{{ greeting }} Merci !"})
    assert resp.status_code == 303
    page = web.get("/shops/cdnow/canned-replies", params={"language": "fr"})
    assert page.text.count("(default)") == 8 and "merci" in page.text
    bad = web.post("/shops/cdnow/canned-replies", data={"csrf_token": csrf, "language": "fr", "topic": "praise",
                                                         "name": "x", "body": "{{ nope }}"})
    assert bad.status_code == 422 and "not a valid reply template" in bad.text


def test_csat_beside_nps_and_in_the_api_and_cli(small_app, small_engine, settings, tmp_path) -> None:  # type: ignore[no-untyped-def]
    from clientlens.care.feedback import record_feedback
    from clientlens.store import models as m

    with session_scope(small_engine) as s:
        conv = s.scalars(select(Conversation).order_by(Conversation.id)).first()
        assert conv is not None
        for score in (5, 2, 4):
            record_feedback(s, conv.shop_id, conv.customer_id, "csat", score, conversation_id=conv.id)
        channel = conv.channel
        url = str(s.get_bind().engine.url)
        assert s.get(m.Shop, conv.shop_id) is not None
    web = TestClient(small_app)
    login(web, "analyst", PASSWORDS["analyst"])
    dash = web.get("/shops/cdnow/dashboard")
    assert dash.text.index('id="card-nps"') < dash.text.index('id="card-csat"') < dash.text.index('id="card-sla"')
    part = web.get("/shops/cdnow/csat", params={"by": "channel"})
    assert 'id="csat-table"' in part.text
    from clientlens.service.auth import create_token

    with session_scope(small_engine) as s:
        tok = create_token(s, "t-analyst", "analyst", actor="test")
    api = TestClient(small_app, headers={"Authorization": f"Bearer {tok}"})
    rows = api.get("/api/v1/shops/cdnow/feedback/csat-report", params={"by": "channel"}).json()
    row = next(r for r in rows if r["group"] == channel)
    assert row["responses"] >= 3 and row["unhappy"] >= 1
    from clientlens.cli.main import build_app

    cli = build_app()

    out = CliRunner().invoke(cli, ["--db", url, "csat", "--shop", "cdnow", "--by", "channel", "--format", "json"])
    assert out.exit_code == 0, out.output
    assert any(r["group"] == channel and r["responses"] == row["responses"] for r in __import__("json").loads(out.output))
    out = CliRunner().invoke(cli, ["--db", url, "canned", "list", "--shop", "cdnow", "--language", "pl", "--format", "json"])
    assert out.exit_code == 0 and len(__import__("json").loads(out.output)) == 9
    out = CliRunner().invoke(cli, ["--db", url, "suggest", str(conv.id), "--shop", "cdnow", "--agent", "Ola"])
    assert out.exit_code == 0 and "Ola" in out.output
