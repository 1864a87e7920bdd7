"""Awkward but valid files (tests/data/valid): all rows kept, values exact, exit 0."""

from __future__ import annotations

from datetime import date, datetime
from pathlib import Path

import polars as pl
import pytest
from sqlalchemy import Engine

from tests.ingest.helpers import VALID, count, quarantine, rows, run_cli

# One worker runs the whole module, so its store is migrated once per backend.
pytestmark = pytest.mark.xdist_group("ingest_valid_files")



def _day(value: object) -> str:
    return str(value)[:10]


def test_semicolon_cp1250_customers_keep_names_and_normalise_contacts(url: str, engine: Engine) -> None:
    res = run_cli(url, "import", "customers", str(VALID / "customers_cp1250_semicolon.csv"))
    assert res.code == 0, res.out
    got = sorted(rows(engine, "SELECT external_id, name, city, email_norm, phone_e164, consent_email FROM customers"))
    assert [g[:3] for g in got] == [("C1", "Žofie Dvořáková", "Plzeň"), ("C2", "Łukasz Wiśniewski", "Łódź"),
                                    ("C3", "Tomáš Šťastný", "Brno"), ("C4", "Zuzana Čermáková", "Ústí nad Labem")]
    assert got[0][3] == "zofie.dvorakova@example.cz"
    assert [g[4] for g in got] == ["+420603123456", "+48512345678", None, "+420777888999"]
    assert [None if g[5] is None else bool(g[5]) for g in got] == [True, False, None, True]
    events = sorted(rows(engine, "SELECT c.external_id, e.channel, e.granted, e.source FROM consent_events e "
                                 "JOIN customers c ON c.id = e.customer_id"))
    assert [(e[0], e[1], bool(e[2]), e[3]) for e in events] == [
        ("C1", "email", True, "import:customers_cp1250_semicolon.csv"),
        ("C2", "email", False, "import:customers_cp1250_semicolon.csv"),
        ("C4", "email", True, "import:customers_cp1250_semicolon.csv")]
    # Re-import: nothing changes, no new consent events.
    res = run_cli(url, "import", "customers", str(VALID / "customers_cp1250_semicolon.csv"))
    assert res.code == 0 and "read 4, inserted 0, updated 0, unchanged 4, rejected 0" in res.out
    assert count(engine, "consent_events") == 3


def test_semicolon_decimal_comma_cp1250_orders_are_exact(url: str, engine: Engine) -> None:
    res = run_cli(url, "import", "orders", str(VALID / "orders_cp1250_semicolon_decimal_comma.csv"))
    assert res.code == 0, res.out
    got = sorted(rows(engine, "SELECT external_id, total_minor, currency, status, channel FROM orders"))
    assert got == [("O-1", 123450, "CZK", "completed", "online"), ("O-2", 9990, "CZK", "completed", "other"),
                   ("O-3", 0, "PLN", "completed", "online"), ("O-4", 1200005, "CZK", "completed", "phone"),
                   ("O-5", -25000, "CZK", "returned", "online")]


def test_utf8_bom_headers_and_names(url: str, engine: Engine) -> None:
    res = run_cli(url, "import", "customers", str(VALID / "customers_utf8_bom.csv"))
    assert res.code == 0, res.out
    assert sorted(rows(engine, "SELECT external_id, name, email, country FROM customers")) == [
        ("B1", "Chloé Durand", "chloe@example.fr", "FR"), ("B2", "Nguyễn Thị Lan", "lan@example.vn", "VN"),
        ("B3", "Oliver Smith", "oliver@example.co.uk", "GB")]
    # The same with the encoding given: the BOM still does not end up in the first header.
    res = run_cli(url, "import", "customers", str(VALID / "customers_utf8_bom.csv"), "--encoding", "utf-8")
    assert res.code == 0 and "read 3, inserted 0, updated 0, unchanged 3, rejected 0" in res.out, res.out


def test_cp1258_and_latin1_are_detected(url: str, engine: Engine) -> None:
    assert run_cli(url, "import", "customers", str(VALID / "customers_cp1258.csv")).code == 0
    assert run_cli(url, "import", "customers", str(VALID / "customers_latin1.csv")).code == 0
    names = {r[0]: r[1] for r in rows(engine, "SELECT external_id, name FROM customers")}
    import unicodedata

    assert unicodedata.normalize("NFC", names["V1"]) == "Nguyễn Văn An"
    assert unicodedata.normalize("NFC", names["V3"]) == "Lê Hoàng Cường"
    assert names["F1"] == "Hélène Lefèvre" and names["F3"] == "Zoë Côté"


def test_day_first_dates_with_date_format(url: str, engine: Engine) -> None:
    res = run_cli(url, "import", "orders", str(VALID / "orders_dayfirst.csv"), "--date-format", "%d/%m/%Y")
    assert res.code == 0, res.out
    got = sorted((_day(r[0]), r[1]) for r in rows(engine, "SELECT ordered_at, total_minor FROM orders"))
    assert got == [("2024-01-31", 1000), ("2024-02-01", 2000), ("2024-02-12", 550), ("2024-03-13", 725)]


def test_day_first_dates_with_the_wrong_format_are_rejected_not_misread(url: str, engine: Engine) -> None:
    res = run_cli(url, "import", "orders", str(VALID / "orders_dayfirst.csv"), "--date-format", "%m/%d/%Y")
    assert res.code == 3
    assert "orders_dayfirst.csv: row 1 (line 2), column order_date" in res.out
    assert count(engine, "orders") == 2  # 01/02 and 12/02 parse as month-first; the others are rejected


def test_uci_online_retail_lines_create_orders_products_and_customers(url: str, engine: Engine) -> None:
    res = run_cli(url, "import", "order-lines", str(VALID / "orders_uci_online_retail.csv"), "--currency", "GBP")
    assert res.code == 0, res.out
    orders = sorted(rows(engine, "SELECT o.external_id, c.external_id, o.total_minor, o.currency FROM orders o "
                                 "JOIN customers c ON c.id = o.customer_id"))
    assert orders == [("536365", "17850", 3564, "GBP"), ("536366", "17850", 1110, "GBP"),
                      ("536367", "13047", 5408, "GBP")]
    assert count(engine, "products") == 4 and count(engine, "order_lines") == 4
    assert ("85123A", "WHITE HANGING HEART T-LIGHT HOLDER") in rows(engine, "SELECT external_id, name FROM products")
    res = run_cli(url, "import", "order-lines", str(VALID / "orders_uci_online_retail.csv"), "--currency", "GBP")
    assert res.code == 0 and count(engine, "order_lines") == 4 and count(engine, "orders") == 3


def test_exact_repeat_of_an_id_is_kept_once(url: str, engine: Engine) -> None:
    res = run_cli(url, "import", "orders", str(VALID / "orders_with_ids_repeated.csv"))
    assert res.code == 0
    assert "read 3, inserted 2, updated 0, unchanged 1, rejected 0" in res.out  # read, inserted, updated, unchanged, rejected
    assert count(engine, "orders") == 2


def test_changed_content_updates_the_record(url: str, engine: Engine, tmp_path: Path) -> None:
    first = tmp_path / "o.csv"
    first.write_text("order_id,customer_id,order_date,total\nU1,K1,2024-01-01,10.00\nU2,K2,2024-01-02,20.00\n")
    assert run_cli(url, "import", "orders", str(first)).code == 0
    first.write_text("order_id,customer_id,order_date,total\nU1,K1,2024-01-01,10.00\nU2,K2,2024-01-02,25.00\n")
    res = run_cli(url, "import", "orders", str(first))
    assert res.code == 0 and "read 2, inserted 0, updated 1, unchanged 1, rejected 0" in res.out
    assert sorted(rows(engine, "SELECT external_id, total_minor FROM orders")) == [("U1", 1000), ("U2", 2500)]


def test_mapping_file_maps_columns_and_parse_options(url: str, engine: Engine, tmp_path: Path) -> None:
    src = tmp_path / "export.txt"
    src.write_bytes("Klient|Datum nákupu|Částka\nA|05.03.2024|1.234,5\nB|06.03.2024|7\n".encode("cp1250"))
    mapping = tmp_path / "map.toml"
    mapping.write_text('[columns]\ncustomer_id = "Klient"\norder_date = "Datum nákupu"\ntotal = "Částka"\n\n'
                       '[parse]\ndate_format = "%d.%m.%Y"\ndecimal = ","\ndelimiter = "|"\nencoding = "cp1250"\n'
                       'currency = "CZK"\ntimezone = "Europe/Prague"\n', encoding="utf-8")
    res = run_cli(url, "import", "orders", str(src), "--mapping", str(mapping))
    assert res.code == 0, res.out
    got = sorted(rows(engine, "SELECT c.external_id, o.ordered_at, o.total_minor, o.currency FROM orders o "
                              "JOIN customers c ON c.id = o.customer_id"))
    assert [(g[0], str(g[1])[:16], g[2], g[3]) for g in got] == [
        ("A", "2024-03-04 23:00", 123450, "CZK"), ("B", "2024-03-05 23:00", 700, "CZK")]


def test_parquet_and_excel_sources(url: str, engine: Engine, tmp_path: Path) -> None:
    frame = pl.DataFrame({"Customer ID": ["P1", "P2"], "Order Date": [datetime(2024, 1, 5, 10), datetime(2024, 2, 1)],
                          "Amount": ["10.50", "3"], "Currency": ["EUR", "EUR"]})
    frame.write_parquet(tmp_path / "orders.parquet")
    from openpyxl import Workbook

    wb = Workbook()
    ws = wb.active
    ws.append(["Customer ID", "Order Date", "Amount", "Currency"])
    for rec in frame.with_columns(pl.col("Amount").cast(pl.Float64)).iter_rows():
        ws.append(list(rec))
    wb.save(tmp_path / "orders.xlsx")
    assert run_cli(url, "import", "orders", str(tmp_path / "orders.parquet")).code == 0
    res = run_cli(url, "import", "orders", str(tmp_path / "orders.xlsx"))
    assert res.code == 0 and "read 2, inserted 0, updated 0, unchanged 2, rejected 0" in res.out, res.out  # same rows: unchanged
    got = sorted((r[0], str(r[1])[:16], r[2]) for r in rows(
        engine, "SELECT c.external_id, o.ordered_at, o.total_minor FROM orders o JOIN customers c ON c.id = o.customer_id"))
    assert got == [("P1", "2024-01-05 10:00", 1050), ("P2", "2024-02-01 00:00", 300)]


def test_other_entities_products_interactions_feedback_rates(url: str, engine: Engine, tmp_path: Path) -> None:
    (tmp_path / "p.csv").write_text("sku,name,category,price,launched_at\nS1,Mug,Kitchen,4.99,2023-05-01\n")
    (tmp_path / "i.csv").write_text("interaction_id,customer_id,channel,direction,occurred_at,thread_id,subject\n"
                                    "I1,K1,email,in,2024-01-01 09:00,T1,Where is my order?\n"
                                    "I2,K1,email,out,2024-01-01 11:00,T1,Re: Where is my order?\n")
    (tmp_path / "f.csv").write_text("customer_id,kind,score,submitted_at,interaction_id\nK1,csat,5,2024-01-02,I2\n"
                                    "K1,nps,11,2024-01-03,\n")
    (tmp_path / "r.csv").write_text("date,currency,rate_to_reporting\n2024-01-01,EUR,1.0925\n2024-01-01,CZK,0.0443\n")
    assert run_cli(url, "import", "products", str(tmp_path / "p.csv")).code == 0
    assert run_cli(url, "import", "interactions", str(tmp_path / "i.csv")).code == 0
    res = run_cli(url, "import", "feedback", str(tmp_path / "f.csv"))
    assert res.code == 3 and "f.csv: row 2 (line 3), column score" in res.out
    assert run_cli(url, "import", "rates", str(tmp_path / "r.csv")).code == 0
    assert rows(engine, "SELECT external_id, price_minor, launched_at FROM products")[0][:2] == ("S1", 499)
    assert sorted(rows(engine, "SELECT external_id, direction FROM interactions")) == [("I1", "inbound"), ("I2", "outbound")]
    fb = rows(engine, "SELECT f.kind, f.score, i.external_id FROM feedback f JOIN interactions i ON i.id = f.interaction_id")
    assert fb == [("csat", 5, "I2")]
    rates = sorted((r[0], float(r[1])) for r in rows(engine, "SELECT currency, rate_to_reporting FROM exchange_rates"))
    assert rates == [("CZK", 0.0443), ("EUR", 1.0925)]
    assert _day(rows(engine, "SELECT date FROM exchange_rates")[0][0]) == str(date(2024, 1, 1))


def test_quarantine_is_replaced_each_run(url: str, engine: Engine, tmp_path: Path) -> None:
    src = tmp_path / "q.csv"
    src.write_text("customer_id,order_date,total\nK1,2024-01-01,x\n")
    assert run_cli(url, "import", "orders", str(src)).code == 3
    assert len(quarantine(tmp_path / "q.csv.rejected.csv")) == 1
    src.write_text("customer_id,order_date,total\nK1,2024-01-01,1\n")
    assert run_cli(url, "import", "orders", str(src)).code == 0
    assert not (tmp_path / "q.csv.rejected.csv").exists()


def test_shopify_export_orders_then_lines(url: str, engine: Engine) -> None:
    path = VALID / "orders_shopify_export.csv"
    res = run_cli(url, "import", "orders", str(path))
    assert res.code == 0, res.out
    got = sorted((r[0], r[1], str(r[2])[:16], r[3], r[4]) for r in rows(
        engine, "SELECT o.external_id, c.external_id, o.ordered_at, o.total_minor, o.status FROM orders o "
                "JOIN customers c ON c.id = o.customer_id"))
    assert got == [("#1001", "ann@example.com", "2024-01-05 09:00", 3500, "completed"),
                   ("#1002", "bob@example.com", "2024-01-06 10:00", 1200, "returned")]
    assert run_cli(url, "import", "order-lines", str(path)).code == 0
    assert sorted(rows(engine, "SELECT external_id, quantity FROM order_lines"))[0][0] == "#1001|MUG-1|1"
    assert count(engine, "order_lines") == 3 and count(engine, "orders") == 2


def test_a_partial_customers_file_updates_without_erasing(url: str, engine: Engine, tmp_path: Path) -> None:
    assert run_cli(url, "import", "customers", str(VALID / "customers_utf8_bom.csv")).code == 0
    partial = tmp_path / "moves.csv"
    partial.write_text("customer_id,city,email\nB1,Lyon,\n")
    res = run_cli(url, "import", "customers", str(partial))
    assert res.code == 0 and "read 1, inserted 0, updated 1" in res.out, res.out
    assert rows(engine, "SELECT city, email, email_norm, name FROM customers WHERE external_id = 'B1'") == [
        ("Lyon", "chloe@example.fr", "chloe@example.fr", "Chloé Durand")]


def test_amounts_without_a_currency_are_in_the_shops_currency(engine: Engine, tmp_path: Path) -> None:
    from clientlens.config import load_settings
    from clientlens.ingest import import_file

    settings = load_settings(search_cwd=False, overrides={"shops": {"euro-shop": {"currency": "EUR"}}})
    (tmp_path / "o.csv").write_text("customer_id,order_date,total\nE1,2024-01-01,12.50\n")
    (tmp_path / "p.csv").write_text("product_id,name,price\nP1,Mug,4.99\n")
    import_file(engine, "euro-shop", "orders", tmp_path / "o.csv", settings=settings, quarantine_dir=tmp_path)
    import_file(engine, "euro-shop", "products", tmp_path / "p.csv", settings=settings, quarantine_dir=tmp_path)
    import_file(engine, "other", "orders", tmp_path / "o.csv", settings=settings, quarantine_dir=tmp_path)
    import_file(engine, "other", "products", tmp_path / "p.csv", settings=settings, quarantine_dir=tmp_path)
    assert sorted(rows(engine, "SELECT currency, total_minor FROM orders")) == [("EUR", 1250), ("USD", 1250)]
    # A shop without a configured currency: the catalogue's prices stay in the shop's own (null).
    got = sorted(rows(engine, "SELECT currency, price_minor FROM products"), key=str)
    assert got == [("EUR", 499), (None, 499)]
