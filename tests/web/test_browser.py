"""Acceptance in a real browser (Playwright driving Debian's chromium): log in, the dashboard draws
every chart, filter customers, open a customer 360, reply to and resolve a conversation, preview a
campaign in Vietnamese, switch the interface to Polish. Screenshots go to ``test-artifacts/``."""

from __future__ import annotations

import re
import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.api.conftest import PASSWORDS

pytestmark = [pytest.mark.browser, pytest.mark.slow]

ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"
CHARTS = ("segments", "rfm_grid", "pareto", "cohorts", "clv", "nps", "sla")


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture
def server(app) -> Iterator[str]:  # type: ignore[no-untyped-def]
    """The app served by uvicorn on a free loopback port, in a thread."""
    import uvicorn

    port = _free_port()
    srv = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=srv.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not srv.started and time.monotonic() < deadline:
        time.sleep(0.05)
    assert srv.started, "uvicorn did not start"
    yield f"http://127.0.0.1:{port}"
    srv.should_exit = True
    thread.join(timeout=10)


@pytest.fixture
def page(chromium_path: str, server: str):  # type: ignore[no-untyped-def]
    from playwright.sync_api import sync_playwright

    ARTIFACTS.mkdir(exist_ok=True)
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=chromium_path, headless=True,
                                     args=["--no-sandbox", "--disable-gpu", "--disable-background-networking"])
        context = browser.new_context(base_url=server, viewport={"width": 1400, "height": 1000}, locale="en-US")
        pg = context.new_page()
        outside: list[str] = []
        pg.on("request", lambda req: outside.append(req.url) if not req.url.startswith(server) else None)
        pg.set_default_timeout(20_000)
        yield pg
        context.close()
        browser.close()
        assert outside == [], f"requests left the app: {outside}"


def shot(page, name: str) -> None:  # type: ignore[no-untyped-def]
    page.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=True)


def test_the_main_journeys_in_a_browser(page, facts) -> None:  # type: ignore[no-untyped-def]
    from playwright.sync_api import expect

    # Log in.
    page.goto("/shops/cdnow/dashboard")
    expect(page).to_have_url(re.compile(r"/login\?next="))
    page.fill("#username", "admin")
    page.fill("#password", PASSWORDS["admin"])
    page.click("#login-submit")
    page.wait_for_url("**/shops/cdnow/dashboard")
    # The dashboard draws every chart (vega-embed renders an SVG into each).
    for chart in CHARTS:
        expect(page.locator(f'#chart-{chart}[data-rendered="1"] svg').first).to_be_visible()
    assert page.locator(".chart-card .empty").count() == 0
    expect(page.locator("#kpi-customers strong")).to_have_text("2,358")
    shot(page, "01-dashboard")

    # Filter customers on a segment (HTMX swaps the results in).
    page.click("#nav-customers")
    total = page.locator("#customer-count").inner_text()
    page.select_option("#filter-label", "rfm_segment=champions")
    expect(page.locator("#customer-count")).not_to_have_text(total)
    tags = page.locator("#customer-table tbody tr td:last-child").all_inner_texts()
    assert tags and all("Champions" in t for t in tags)
    shot(page, "02-customers-champions")

    # Open a customer 360.
    first = page.locator(".customer-link").first
    cid = first.inner_text()
    first.click()
    page.wait_for_url(f"**/customers/{cid}")
    expect(page.locator("#labels")).to_contain_text("Champions")
    expect(page.locator("#predictions")).to_contain_text("P(alive)")
    expect(page.locator("#timeline li").first).to_be_visible()
    shot(page, "03-customer-360")

    # Reply to a conversation and resolve it.
    page.click("#nav-inbox")
    page.locator(".conversation-link").first.click()
    expect(page.locator("#conversation-detail")).to_be_visible()
    page.fill("#reply-body", "Your parcel left our warehouse this morning.")
    page.click("#reply-send")
    expect(page.locator(".messages li.outbound").last).to_contain_text("Your parcel left our warehouse")
    page.click("#resolve")
    expect(page.locator("#conversation-detail")).to_have_attribute("data-status", "resolved")
    shot(page, "04-inbox-resolved")

    # Preview a campaign in Vietnamese.
    page.click("#nav-campaigns")
    page.fill("#campaign-name", "spring")
    page.select_option("#campaign-segment", "rfm_segment:champions")
    page.select_option("#campaign-template", "promotion")
    page.select_option("#preview-language", "vi")
    page.click("#campaign-preview")
    expect(page.locator("#campaign-preview-result")).to_have_attribute("data-language", "vi")
    expect(page.locator("#preview-subject")).to_contain_text("Một món quà")
    shot(page, "05-campaign-preview-vi")

    # Switch the interface to Polish.
    page.select_option("#lang-select", "pl")
    page.click("#lang-apply")
    expect(page.locator("#nav-customers")).to_have_text("Klienci")
    expect(page.locator("html")).to_have_attribute("lang", "pl")
    page.click("#nav-dashboard")
    expect(page.locator("#kpi-customers strong")).to_have_text("2\xa0358")
    for chart in CHARTS:
        expect(page.locator(f'#chart-{chart}[data-rendered="1"] svg').first).to_be_visible()
    shot(page, "06-dashboard-pl")
