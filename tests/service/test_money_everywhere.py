"""Orders in JPY (no minor unit), KWD (three digits), VND (none) and EUR (two), with exchange rates into the
shop's reporting currency (EUR): every surface shows each order in its own currency with its own digits,
and everything that adds money converts first (dashboard KPIs, loyalty, exports, campaign texts).

Imported and analysed through the CLI as a shop would; read through the API, the web page, the CLI,
the care layer's functions and an export.
"""

from __future__ import annotations

import csv
import io
from datetime import date
from decimal import Decimal
from typing import Any

import pandas as pd
import pytest
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from clientlens.app import create_app
from clientlens.care.audience import AudienceSpec, CampaignSpec
from clientlens.care.campaigns import preview_campaign
from clientlens.care.read_model import customer_view
from clientlens.cli.main import build_app
from clientlens.config import load_settings
from clientlens.money import MissingRateError, Rates, format_money
from clientlens.service.auth import create_token
from clientlens.store.db import make_engine, session_scope

SHOP = "fx"
CUSTOMERS = """customer_id,name,email,language,country,consent_email,created_at
c-jp,Haruto Sato,haruto@example.jp,en,JP,yes,2024-01-02
c-kw,Fatima Al-Sabah,fatima@example.kw,en,KW,yes,2024-01-02
c-vn,Nguyễn Văn An,an@example.vn,vi,VN,yes,2024-01-02
c-eu,Claire Martin,claire@example.fr,fr,FR,yes,2024-01-02
"""
# One order each in its own currency, a second EUR order so the shop has repeat buyers.
ORDERS = """order_id,customer_id,order_date,currency,total,status
o-jp,c-jp,2024-03-01,JPY,15000,completed
o-kw,c-kw,2024-03-02,KWD,10.500,completed
o-vn,c-vn,2024-03-03,VND,1500000,completed
o-eu,c-eu,2024-03-04,EUR,19.99,completed
o-eu2,c-eu,2024-05-04,EUR,5.01,completed
"""
RATES = """date,currency,rate_to_reporting
2024-01-01,JPY,0.0062
2024-01-01,KWD,2.98
2024-01-01,VND,0.000037
"""
# In EUR: 15000 * 0.0062 = 93.00; 10.5 * 2.98 = 31.29; 1,500,000 * 0.000037 = 55.50; 19.99 + 5.01 = 25.00.
IN_EUR = {"c-jp": Decimal("93.00"), "c-kw": Decimal("31.29"), "c-vn": Decimal("55.50"), "c-eu": Decimal("25.00")}
OWN = {"o-jp": ("JPY", Decimal("15000")), "o-kw": ("KWD", Decimal("10.500")), "o-vn": ("VND", Decimal("1500000")),
       "o-eu": ("EUR", Decimal("19.99"))}


@pytest.fixture(scope="module")
def shop(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    root = tmp_path_factory.mktemp("fx")
    for name, body in (("customers.csv", CUSTOMERS), ("orders.csv", ORDERS), ("rates.csv", RATES)):
        (root / name).write_text(body, "utf-8")
    config = root / "clientlens.toml"
    config.write_text(f'[shops.{SHOP}]\ncurrency = "EUR"\nhome_country = "FR"\n', "utf-8")
    db = f"sqlite:///{root / 'fx.db'}"
    runner, app = CliRunner(), build_app()

    def cli(*args: str) -> str:
        res = runner.invoke(app, ["--db", db, "--config", str(config), *args], catch_exceptions=False)
        assert res.exit_code == 0, res.output
        return res.output

    cli("init")
    for entity, name in (("customers", "customers.csv"), ("rates", "rates.csv"), ("orders", "orders.csv")):
        cli("import", entity, str(root / name), "--shop", SHOP)
    cli("analyze", "--shop", SHOP, "--as-of", "2024-06-30")
    settings = load_settings(config, search_cwd=False)
    engine = make_engine(db)
    with session_scope(engine) as s:
        token = create_token(s, "fx-test", "admin", actor="test")
    yield {"root": root, "db": db, "config": config, "cli": cli, "settings": settings, "engine": engine,
           "api": TestClient(create_app(settings, engine), headers={"Authorization": f"Bearer {token}"})}
    engine.dispose()


def test_the_order_list_gives_each_amount_in_its_own_currency(shop: dict[str, Any]) -> None:
    doc = shop["api"].get(f"/api/v1/shops/{SHOP}/orders", params={"limit": 50}).json()
    got = {o["order_id"]: (o["currency"], Decimal(str(o["total"]))) for o in doc["data"]}
    for order, expected in OWN.items():
        assert got[order] == expected, order


def test_the_360_json_and_page_show_the_same_amounts_with_the_currencys_digits(shop: dict[str, Any]) -> None:
    api = shop["api"]
    for cid, order, text in (("c-kw", "o-kw", "KWD10.500"), ("c-jp", "o-jp", "¥15,000"),
                             ("c-vn", "o-vn", "₫1,500,000"), ("c-eu", "o-eu", "€19.99")):
        doc = api.get(f"/api/v1/shops/{SHOP}/customers/{cid}").json()
        event = next(e for e in doc["timeline"] if e["kind"] == "order" and e["data"]["order_id"] == order)
        assert (event["data"]["currency"], Decimal(str(event["data"]["total"]))) == OWN[order]
        assert text in event["summary"]
        assert doc["loyalty"]["currency"] == doc["currency"] == "EUR"
        assert Decimal(str(doc["loyalty"]["spend"])) == IN_EUR[cid]
        page = api.get(f"/shops/{SHOP}/customers/{cid}", cookies={"clientlens_lang": "en"})
        assert page.status_code == 200
        assert text in page.text, cid
        assert format_money(IN_EUR[cid], "EUR", "en") in page.text  # loyalty spend, converted
    # "10.5" alone (two digits lost) appears nowhere for the KWD order.
    assert "KWD10.50<" not in api.get(f"/shops/{SHOP}/customers/c-kw").text


def test_loyalty_counts_spend_and_points_in_the_reporting_currency(shop: dict[str, Any]) -> None:
    with session_scope(shop["engine"]) as s:
        views = {cid: customer_view(s, shop["settings"], SHOP, cid, today=date(2024, 6, 30)) for cid in IN_EUR}
    for cid, spend in IN_EUR.items():
        assert views[cid].loyalty.spend == spend and views[cid].loyalty.currency == "EUR"
    # One point per euro, floored per order (c-eu: 19.99 -> 19, 5.01 -> 5).
    assert {cid: v.loyalty.points for cid, v in views.items()} == {"c-jp": 93, "c-kw": 31, "c-vn": 55, "c-eu": 24}
    # A single VND order of 1,500,000 is 55.50 EUR: 55 points and no gold tier (1,000 EUR).
    assert views["c-vn"].loyalty.points == 55 and views["c-vn"].loyalty.tier != "gold"


def test_dashboard_kpis_add_converted_amounts_and_say_the_currency(shop: dict[str, Any]) -> None:
    doc = shop["api"].get(f"/api/v1/shops/{SHOP}/dashboard").json()
    assert doc["kpis"]["currency"] == "EUR"
    assert Decimal(str(doc["kpis"]["revenue"])) == sum(IN_EUR.values())
    page = shop["api"].get(f"/shops/{SHOP}/dashboard", cookies={"clientlens_lang": "fr"})
    revenue = page.text[page.text.index('id="kpi-revenue"'):][:200]
    assert format_money(sum(IN_EUR.values()), "EUR", "fr") in revenue, revenue  # 204,79 €


def test_exports_round_money_to_the_reporting_currency(shop: dict[str, Any]) -> None:
    out = shop["root"] / "export.csv"
    shop["cli"]("export", "--shop", SHOP, "--label", "geography=international", "--label", "geography=domestic",
                "--out", str(out))
    table = pd.read_csv(out, dtype={"customer_id": str})
    assert set(table["currency"]) == {"EUR"}
    spend = {r.customer_id: Decimal(str(r.total_spend)) for r in table.itertuples()}
    assert spend == IN_EUR
    body = shop["api"].get(f"/api/v1/shops/{SHOP}/segments/export",
                           params={"taxonomy": "geography", "label": "international"}).text
    rows = list(csv.DictReader(io.StringIO(body)))
    assert rows and {r["currency"] for r in rows if r["clv"]} <= {"EUR"}
    for r in rows:
        if r["clv"]:
            assert len(r["clv"].split(".")[1]) == 2  # cents, never 577.8000000000001


def test_a_campaign_message_shows_the_converted_spend_in_the_customers_language(shop: dict[str, Any]) -> None:
    spec = CampaignSpec(name="fx-loyal", template="loyalty_invitation", audience=AudienceSpec(customers=("c-vn",)))
    with session_scope(shop["engine"]) as s:
        preview = preview_campaign(s, SHOP, spec, shop["settings"])
    body = preview.samples["vi"].body
    assert format_money(IN_EUR["c-vn"], "EUR", "vi") in body and "1.500.000" not in body


def test_the_cli_customer_shows_the_same_amounts(shop: dict[str, Any]) -> None:
    out = shop["cli"]("customer", "c-kw", "--shop", SHOP)
    assert "KWD10.500" in out and "€31.29" in out


def test_a_currency_without_rates_is_named_with_its_date() -> None:
    rates = Rates("EUR", [(date(2024, 1, 1), "PLN", Decimal("0.23"))])
    assert rates.convert(Decimal("100.00"), "PLN", date(2024, 2, 1)) == Decimal("23.00")
    with pytest.raises(MissingRateError, match=r"GBP on 2024-02-01.*reporting currency EUR"):
        rates.convert(Decimal("1"), "GBP", date(2024, 2, 1))


def test_amounts_convert_by_the_iso_exponent_of_every_currency() -> None:
    from babel.numbers import get_currency_precision

    from clientlens.money import exponent, known_currencies, to_major, to_minor

    for code in sorted(known_currencies()):
        digits = get_currency_precision(code)
        assert exponent(code) == digits
        assert to_major(123456, code) == Decimal(123456).scaleb(-digits)
        assert to_minor(to_major(123456, code), code) == 123456
    assert (exponent("JPY"), exponent("VND"), exponent("KWD"), exponent("BHD"), exponent("OMR"), exponent("EUR")) \
        == (0, 0, 3, 3, 3, 2)

