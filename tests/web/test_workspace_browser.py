"""In a real browser (Playwright, chromium): the conversation loads its suggested reply, Insert fills the
reply box, the agent edits it and sends it; the dashboard shows the CSAT report beside NPS; a merge is
compared and accepted only after its confirmation step."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from clientlens.store import models as m
from clientlens.store.care_models import Conversation
from clientlens.store.db import session_scope
from tests.api.conftest import PASSWORDS
from tests.web.test_browser import page, server, shot  # noqa: F401  (fixtures)

pytestmark = [pytest.mark.browser, pytest.mark.slow]


def test_insert_the_suggested_reply_edit_and_send_then_csat_and_a_confirmed_merge(page, engine) -> None:  # noqa: F811  # type: ignore[no-untyped-def]
    from playwright.sync_api import expect

    with session_scope(engine) as s:
        cid = s.scalar(select(Conversation.id).where(Conversation.status != "resolved").order_by(Conversation.id))
        merge_id = s.scalar(select(m.Merge.id).where(m.Merge.status == "suggested"))
    page.goto("/login")
    page.fill("#username", "admin")
    page.fill("#password", PASSWORDS["admin"])
    page.click("#login-submit")
    page.wait_for_url("**/")
    page.goto(f"/shops/cdnow/inbox?conversation={cid}")
    expect(page.locator("#suggested-reply-insert")).to_be_visible()
    suggestion = page.locator("#suggested-reply-body").input_value()
    assert suggestion.strip() and "{{" not in suggestion
    page.click("#suggested-reply-insert")
    expect(page.locator("#reply-body")).to_have_value(suggestion)
    page.fill("#reply-body", page.locator("#reply-body").input_value() + "\nP.S. edited by hand.")
    shot(page, "10-suggested-reply-inserted")
    page.click("#reply-send")
    expect(page.locator("#conversation-detail .messages")).to_contain_text("P.S. edited by hand.")

    page.goto("/shops/cdnow/dashboard")
    expect(page.locator("#card-csat #csat-report")).to_be_visible()
    page.select_option("#csat-by", "channel")
    expect(page.locator("#csat-by")).to_have_value("channel")

    page.goto("/shops/cdnow/merges")
    page.click(f'a[href="/shops/cdnow/merges/{merge_id}"] >> nth=0')
    expect(page.locator("#merge-sides")).to_be_visible()
    page.click("#merge-accept")
    expect(page.locator("#merge-confirm-text")).to_be_visible()
    with session_scope(engine) as s:
        assert s.get(m.Merge, merge_id).status == "suggested"  # type: ignore[union-attr]
    shot(page, "11-merge-confirm")
    page.click("#merge-confirm")
    page.wait_for_url("**/merges?status=accepted")
    with session_scope(engine) as s:
        assert s.get(m.Merge, merge_id).status == "accepted"  # type: ignore[union-attr]
