"""Interface languages: complete catalogues shipped compiled, locale formatting, evidence in the
chosen language, and the interface switching language."""

from __future__ import annotations

import re
from datetime import date
from importlib import resources

import pytest
from babel.messages.pofile import read_po
from fastapi.testclient import TestClient

from clientlens.web.i18n import I18n, translations
from tests.api.conftest import PASSWORDS, login

WEB = resources.files("clientlens.web")
CALL = re.compile(r'''(?:\b_|\bN_|gettext)\(\s*("(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*')''')


def used_messages() -> set[str]:
    """Every message the templates and the web modules translate."""
    found: set[str] = set()
    for folder in (WEB / "templates", WEB):
        for item in folder.iterdir():
            if item.name.endswith((".html", ".py")):
                found.update(eval(m.group(1)) for m in CALL.finditer(item.read_text("utf-8")))  # noqa: S307
    return found


@pytest.mark.parametrize("lang", ["vi", "pl", "fr"])
def test_catalogue_translates_every_message_and_the_mo_matches_the_po(lang: str) -> None:
    with (WEB / "locale" / lang / "LC_MESSAGES" / "messages.po").open("rb") as fh:
        catalog = read_po(fh, locale=lang)
    translated = {msg.id: msg.string for msg in catalog if msg.id}
    missing = sorted(m for m in used_messages() if not translated.get(m))
    assert missing == [], f"{lang}: untranslated {missing}"
    compiled = translations(lang)
    assert all(compiled.gettext(mid) == text for mid, text in translated.items())


def test_numbers_money_and_dates_follow_the_locale() -> None:
    assert I18n("en").money(1234.5, "USD") == "$1,234.50"
    assert I18n("pl").number(1234567) == "1\xa0234\xa0567"
    assert I18n("fr").decimal(1234.5) == "1\u202f234,5"
    assert I18n("vi").number(1234567) == "1.234.567"
    assert "USD" in I18n("pl").money(10, "USD") and "10,00" in I18n("pl").money(10, "USD")
    assert I18n("fr").date(date(1998, 6, 30)) == "30 juin 1998"
    assert I18n("pl").percent(0.675) == "67,5%"


def test_label_names_and_evidence_are_rendered_in_the_language() -> None:
    pl = I18n("pl")
    assert pl.label("rfm_segment", "champions") == "Czempioni"
    assert pl.taxonomy("rfm_segment") == "Segment RFM"
    text = pl.evidence("rfm_segment", "champions", "rfm.champions", {"recency_days": 12, "total_spend": 1234.5})
    assert "Dni od ostatniego zakupu: 12" in text and "Łączne wydatki: 1\xa0234,5" in text
    assert I18n("vi").label("value", "high") == "Cao"


def test_user_switches_the_interface_to_polish(app, facts) -> None:  # type: ignore[no-untyped-def]
    web = TestClient(app)
    csrf = login(web, "agent", PASSWORDS["agent"])
    assert "Customers" in web.get("/shops/cdnow/customers").text
    resp = web.post("/language", data={"lang": "pl", "back": "/shops/cdnow/customers", "csrf_token": csrf},
                    follow_redirects=False)
    assert resp.status_code == 303 and resp.headers["location"] == "/shops/cdnow/customers"
    page = web.get(f"/shops/cdnow/customers/{facts['first_customer']}").text
    assert '<html lang="pl"' in page and "Etykiety i uzasadnienie" in page and "Dni od ostatniego zakupu" in page
    fresh = TestClient(app)
    login(fresh, "agent", PASSWORDS["agent"])  # the choice is kept with the user
    assert "Klienci" in fresh.get("/shops/cdnow/customers").text
