"""Shopify and WooCommerce exports imported as the shop systems write them (SQLite and PostgreSQL).

The files are written from the documented export columns (tests/ingest/vendor_files.py): multi-line
orders, guest checkouts, every financial status, refunds, a customers export with apostrophe ids,
reordered and extra columns. Imported in either order, each person is one profile with the fields
of whichever file has them; the analysis at the default as-of date classifies every profile.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import Engine

from tests.ingest.helpers import rows, run_cli
from tests.ingest.vendor_files import (
    SHOPIFY_CUSTOMERS,
    SHOPIFY_ORDERS,
    WOO_ANALYTICS_CUSTOMERS,
    WOO_ANALYTICS_ORDERS,
    WOO_AOE,
    WOO_SNAKE,
    shopify_order,
    write,
)

SHOP = "boutique"
ANN_PHONE = "+33 1 23 45 67 89"
DANA_PHONE = "+33 6 12 34 56 78"


def _shopify_orders(path: Path, *, shuffle: int | None = None, pending_paid: bool = False) -> Path:
    rows_: list[dict[str, str]] = []
    rows_ += shopify_order("#1001", [("MUG-1", "Mug", 1, "10.00"), ("PLT-2", "Plate", 2, "10.00")],
                           Email="ann@example.com", Financial_Status="paid", Paid_at="2025-03-05 10:01:00 +0100",
                           Accepts_Marketing="yes", Currency="EUR", Subtotal="30.00", Shipping="5.00", Taxes="0.00",
                           Total="35.00", Discount_Code="SPRING", Discount_Amount="3.00",
                           Created_at="2025-03-05 10:00:00 +0100", Billing_Name="Ann Lee",
                           Billing_Address1="1 Rue A", Billing_City="Paris", Billing_Zip="'75001", Billing_Country="FR",
                           Billing_Phone=ANN_PHONE, Shipping_Name="Ann Lee", Shipping_Country="FR",
                           Refunded_Amount="0.00", Id="5550001", Source="web")
    # a guest checkout without e-mail: known by its phone (Dana in the customers export)
    rows_ += shopify_order("#1002", [("BWL-3", "Bowl", 1, "12.00")], Financial_Status="paid" if pending_paid else "pending",
                           Accepts_Marketing="no", Currency="EUR", Total="12.00", Created_at="2025-04-06 11:00:00 +0100",
                           Billing_Name="Dana Guest", Billing_City="Lyon", Billing_Country="FR",
                           Billing_Phone=f"'{DANA_PHONE}", Id="5550002", Source="pos")
    # a guest without e-mail or phone: a profile of its own, named from the billing name
    rows_ += shopify_order("#1003", [("BWL-3", "Bowl", 1, "20.00")], Financial_Status="voided", Currency="EUR",
                           Total="20.00", Created_at="2025-04-07 11:00:00 +0100", Billing_Name="Noé Contact",
                           Billing_Country="BE", Id="5550003", Source="shopify_draft_order")
    rows_ += shopify_order("#1004", [("VS-1", "Vase", 1, "50.00")], Email="ann@example.com",
                           Financial_Status="partially_refunded", Currency="EUR", Total="50.00",
                           Created_at="2025-05-07 11:00:00 +0100", Billing_Name="Ann Lee", Refunded_Amount="15.00",
                           Id="5550004", Source="iphone")
    rows_ += shopify_order("#1005", [("VS-1", "Vase", 1, "50.00"), ("MUG-1", "Mug", 1, "10.00")],
                           Email="erik@example.com", Financial_Status="refunded", Currency="EUR", Total="60.00",
                           Created_at="2025-05-08 09:00:00 +0100", Billing_Name="Erik Berg", Billing_Country="SE",
                           Refunded_Amount="60.00", Cancelled_at="2025-05-09 09:00:00 +0100", Id="5550005",
                           Source="web")
    rows_ += shopify_order("#1006", [("MUG-1", "Mug", 3, "10.00")], Email="erik@example.com",
                           Financial_Status="authorized", Currency="EUR", Total="30.00",
                           Created_at="2025-06-01 09:00:00 +0200", Billing_Name="Erik Berg", Id="5550006",
                           Source="5807741")  # a sales-channel app
    rows_ += shopify_order("#1007", [("PLT-2", "Plate", 4, "10.00")], Email="erik@example.com",
                           Financial_Status="partially_paid", Currency="EUR", Total="40.00",
                           Created_at="2025-06-02 09:00:00 +0200", Id="5550007", Source="web")
    rows_ += shopify_order("#1008", [("PLT-2", "Plate", 1, "10.00")], Email="ann@example.com",
                           Financial_Status="paid", Currency="EUR", Total="10.00", Refunded_Amount="10.00",
                           Created_at="2025-06-03 09:00:00 +0200", Cancelled_at="2025-06-03 10:00:00 +0200",
                           Id="5550008", Source="web")
    extra = ("Lineitem properties", "Shipping Address Phone 2", "Customer Segment") if shuffle is not None else ()
    return write(path, SHOPIFY_ORDERS, rows_, shuffle=shuffle, extra=extra)


def _shopify_customers(path: Path, *, shuffle: int | None = None) -> Path:
    return write(path, SHOPIFY_CUSTOMERS, [
        {"Customer ID": "'7210448301122", "First Name": "Ann", "Last Name": "Lee", "Email": "Ann@Example.com",
         "Accepts Email Marketing": "no", "Default Address Address1": "1 Rue A", "Default Address City": "Paris",
         "Default Address Country Code": "FR", "Default Address Zip": "'75001", "Accepts SMS Marketing": "yes",
         "Total Spent": "85.00", "Total Orders": "2", "Note": "VIP", "Tax Exempt": "no", "Tags": "vip, paris"},
        {"Customer ID": "'7210448301123", "First Name": "Carl", "Last Name": "Never", "Email": "carl@example.com",
         "Accepts Email Marketing": "yes", "Default Address Company": "Carl SARL", "Default Address City": "Lyon",
         "Default Address Country Code": "FR", "Phone": "'+33 6 00 00 00 01", "Accepts SMS Marketing": "no",
         "Total Spent": "0.00", "Total Orders": "0", "Tax Exempt": "yes"},
        {"Customer ID": "'7210448301124", "First Name": "Dana", "Last Name": "Dupont", "Email": "",
         "Accepts Email Marketing": "no", "Default Address Country Code": "FR", "Default Address Phone": DANA_PHONE,
         "Phone": f"'{DANA_PHONE}", "Accepts SMS Marketing": "yes", "Total Spent": "12.00", "Total Orders": "1"},
    ], shuffle=shuffle, extra=("Accepts WhatsApp Marketing", "Birthday (customer.metafields.facts.birth_date)")
        if shuffle is not None else ())


def _import(url: str, entity: str, path: Path) -> None:
    res = run_cli(url, "import", entity, str(path), "--shop", SHOP)
    assert res.code == 0, res.out


def _profiles(engine: Engine) -> dict[str, tuple]:
    """name -> (country, phone_e164, consent_email, consent_sms, kind) of every active profile."""
    got = rows(engine, "SELECT c.name, c.country, c.phone_e164, c.consent_email, c.consent_sms, c.kind FROM customers c "
                       "JOIN shops s ON s.id = c.shop_id WHERE s.name = 'boutique' AND c.merged_into_id IS NULL")
    out = {r[0]: (r[1], r[2], None if r[3] is None else bool(r[3]), None if r[4] is None else bool(r[4]), r[5])
           for r in got}
    assert len(out) == len(got), f"two profiles with one name: {got}"
    return out


def _orders(engine: Engine) -> dict[str, tuple]:
    """order -> (buyer's name, status, total in minor units, channel)."""
    return {r[0]: r[1:] for r in rows(
        engine, "SELECT o.external_id, c.name, o.status, o.total_minor, o.channel FROM orders o "
                "JOIN customers c ON c.id = o.customer_id")}


def _analyze(url: str, engine: Engine):  # type: ignore[no-untyped-def]
    from clientlens.analysis.store_io import load_snapshot

    res = run_cli(url, "analyze", "--shop", SHOP, "--no-scores")
    assert res.code == 0, res.out
    return load_snapshot(engine, SHOP)


@pytest.mark.parametrize("first", ["orders", "customers"])
def test_shopify_exports_in_either_order_make_one_profile_per_person(
        first: str, store_engine: Engine, store_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    files = {"orders": _shopify_orders(tmp_path / "orders_export.csv"),
             "customers": _shopify_customers(tmp_path / "customers_export.csv")}
    for entity in (first, "customers" if first == "orders" else "orders"):
        _import(store_url, entity, files[entity])
    # where both files name a person, the profile imported first keeps its name; the other fills gaps
    dana = "Dana Dupont" if first == "customers" else "Dana Guest"
    assert _profiles(store_engine) == {
        # e-mail consent: "yes" on the order, "no" in the customers export (none given, not a withdrawal)
        "Ann Lee": ("FR", "+33123456789", True, True, None),
        "Carl Never": ("FR", "+33600000001", True, None, "professional"),  # never bought
        dana: ("FR", "+33612345678", None, True, None),  # the guest checkout, linked by phone
        "Noé Contact": ("BE", None, None, None, None),  # a guest without e-mail or phone
        "Erik Berg": ("SE", None, None, None, None),
    }
    assert _orders(store_engine) == {
        "#1001": ("Ann Lee", "completed", 3500, "online"),
        "#1002": (dana, "pending", 1200, "in_store"),
        "#1003": ("Noé Contact", "cancelled", 2000, "phone"),
        "#1004": ("Ann Lee", "completed", 3500, "online"),  # 50.00 minus the 15.00 refunded
        "#1005": ("Erik Berg", "returned", 0, "online"),
        "#1006": ("Erik Berg", "pending", 3000, "online"),
        "#1007": ("Erik Berg", "completed", 4000, "online"),
        "#1008": ("Ann Lee", "cancelled", 0, "online"),
    }
    snap = _analyze(store_url, store_engine)
    f = snap.features.set_index("customer_id")
    ids = dict(rows(store_engine, "SELECT name, external_id FROM customers WHERE merged_into_id IS NULL"))
    assert set(f.index) == set(ids.values())  # every profile, the one who never bought included
    assert f.loc[ids["Ann Lee"], "total_spend"] == pytest.approx(70.0)
    assert f.loc[ids["Erik Berg"], "total_spend"] == pytest.approx(40.0)  # refunded, authorized: no spend
    assert f.loc[ids[dana], "total_spend"] == pytest.approx(0.0)  # pending: not a purchase yet
    labels = snap.labels
    lifecycle = labels[labels["taxonomy"] == "lifecycle"].set_index("customer_id")["label"]
    assert set(lifecycle.index) == set(ids.values())
    assert lifecycle[ids["Carl Never"]] == "potential" and lifecycle[ids[dana]] == "potential"
    geo = labels[labels["taxonomy"] == "geography"].set_index("customer_id")["label"]
    assert geo[ids["Ann Lee"]] == "domestic" and geo[ids["Erik Berg"]] == "international"
    ctype = labels[labels["taxonomy"] == "customer_type"].set_index("customer_id")["label"]
    assert ctype[ids["Carl Never"]] == "professional"
    channel = labels[labels["taxonomy"] == "channel"].set_index("customer_id")["label"]
    assert channel[ids["Ann Lee"]] == "online"


def test_a_later_export_that_says_paid_makes_the_order_a_purchase(
        store_engine: Engine, store_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    _import(store_url, "orders", _shopify_orders(tmp_path / "orders_export.csv"))
    assert _orders(store_engine)["#1002"][1] == "pending"
    res = run_cli(store_url, "import", "orders", str(_shopify_orders(tmp_path / "orders_export_2.csv", pending_paid=True)),
                  "--shop", SHOP)
    assert res.code == 0 and "updated 1" in res.out, res.out
    assert _orders(store_engine)["#1002"][1:3] == ("completed", 1200)


def test_shopify_exports_with_reordered_and_extra_columns(
        store_engine: Engine, store_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Newer Shopify versions add and move columns: the same profiles and orders."""
    monkeypatch.chdir(tmp_path)
    _import(store_url, "customers", _shopify_customers(tmp_path / "customers_export.csv", shuffle=11))
    _import(store_url, "orders", _shopify_orders(tmp_path / "orders_export.csv", shuffle=5))
    assert set(_profiles(store_engine)) == {"Ann Lee", "Carl Never", "Dana Dupont", "Noé Contact", "Erik Berg"}
    assert _orders(store_engine)["#1002"][0] == "Dana Dupont"
    assert _orders(store_engine)["#1004"] == ("Ann Lee", "completed", 3500, "online")
    # the order lines of the same export
    _import(store_url, "order-lines", tmp_path / "orders_export.csv")
    assert rows(store_engine, "SELECT COUNT(*) FROM order_lines")[0][0] == 10


def test_an_older_shopify_customers_export_without_customer_ids(
        store_engine: Engine, store_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    header = ("First Name,Last Name,Email,Company,Address1,Address2,City,Province,Province Code,Country,"
              "Country Code,Zip,Phone,Accepts Marketing,Total Spent,Total Orders,Tags,Note,Tax Exempt").split(",")
    old = write(tmp_path / "customers_export.csv", header, [
        {"First Name": "Ann", "Last Name": "Lee", "Email": "ann@example.com", "City": "Paris", "Country": "France",
         "Country Code": "FR", "Accepts Marketing": "yes", "Total Spent": "85.00", "Total Orders": "2"}])
    _import(store_url, "customers", old)
    _import(store_url, "orders", _shopify_orders(tmp_path / "orders_export.csv"))
    assert _profiles(store_engine)["Ann Lee"] == ("FR", "+33123456789", True, None, None)


def _woo_aoe(path: Path) -> Path:
    def order(n: str, status: str, date: str, total: str, items: list[tuple[str, str, str, str]],
              **fields: str) -> list[dict[str, str]]:
        base = {"Order Number": n, "Order Status": status, "Order Date": date, "Order Total Amount": total,
                "Order Subtotal Amount": total, **{k.replace("_", " ").replace("(B)", "(Billing)"): v
                                                    for k, v in fields.items()}}
        return [{**base, "SKU": sku, "Item #": str(i + 1), "Item Name": nm, "Quantity (- Refund)": q, "Item Cost": c}
                for i, (sku, nm, q, c) in enumerate(items)]  # the order's fields on every product row

    ana = {"First_Name_(B)": "Ana", "Last_Name_(B)": "Silva", "Email_(B)": "ana@example.pt",
           "Phone_(B)": "+351 912 345 678", "Country_Code_(B)": "PT", "City_(B)": "Lisboa"}
    return write(path, WOO_AOE, [
        *order("2001", "wc-completed", "2025-02-01 10:00", "45.00", [("T-1", "Tea", "2", "10.00"),
                                                                     ("C-1", "Cup", "1", "25.00")],
               Cart_Discount_Amount="0", **ana),
        *order("2002", "processing", "2025-03-01 10:00", "20.00", [("T-1", "Tea", "2", "10.00")],
               Order_Refund_Amount="5.00", **ana),
        *order("2003", "on-hold", "2025-03-02 10:00", "30.00", [("C-1", "Cup", "1", "30.00")],
               **{"First_Name_(B)": "Bo", "Last_Name_(B)": "Guest", "Phone_(B)": "+351 913 000 111",
                  "Country_Code_(B)": "PT"}),
        *order("2004", "refunded", "2025-03-03 10:00", "30.00", [("C-1", "Cup", "1", "30.00")],
               Order_Refund_Amount="30.00", **ana),
        *order("2005", "cancelled", "2025-03-04 10:00", "12.00", [("T-1", "Tea", "1", "12.00")],
               **{"First_Name_(B)": "Cy", "Last_Name_(B)": "Nobody", "Country_Code_(B)": "ES"}),
        *order("2006", "pending", "2025-03-05 10:00", "12.00", [("T-1", "Tea", "1", "12.00")], **ana),
    ])


@pytest.mark.parametrize("first", ["orders", "customers"])
def test_woocommerce_order_export_plugin_and_customers(
        first: str, store_engine: Engine, store_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    users = write(tmp_path / "customers.csv",
                  "ID,user_login,user_email,first_name,last_name,user_registered,billing_phone,billing_country,"
                  "billing_city,billing_company".split(","), [
                      {"ID": "7", "user_login": "ana", "user_email": "ana@example.pt", "first_name": "Ana",
                       "last_name": "Silva", "user_registered": "2024-11-02 08:00:00", "billing_country": "PT"},
                      {"ID": "8", "user_login": "bo", "user_email": "bo@example.pt", "first_name": "Bo",
                       "last_name": "Guest", "billing_phone": "+351 913 000 111", "billing_country": "PT"},
                      {"ID": "9", "user_login": "dee", "user_email": "dee@example.pt", "first_name": "Dee",
                       "last_name": "Later", "billing_country": "PT", "billing_company": "Dee Lda"}])
    files = {"orders": _woo_aoe(tmp_path / "orders.csv"), "customers": users}
    for entity in (first, "customers" if first == "orders" else "orders"):
        _import(store_url, entity, files[entity])
    assert _profiles(store_engine) == {
        "Ana Silva": ("PT", "+351912345678", None, None, None),
        "Bo Guest": ("PT", "+351913000111", None, None, None),  # the guest order linked by phone
        "Cy Nobody": ("ES", None, None, None, None),
        "Dee Later": ("PT", None, None, None, "professional"),
    }
    assert {k: v[1:3] for k, v in _orders(store_engine).items()} == {
        "2001": ("completed", 4500), "2002": ("completed", 1500), "2003": ("pending", 3000),
        "2004": ("returned", 0), "2005": ("cancelled", 1200), "2006": ("pending", 1200)}
    snap = _analyze(store_url, store_engine)
    ids = dict(rows(store_engine, "SELECT name, external_id FROM customers WHERE merged_into_id IS NULL"))
    f = snap.features.set_index("customer_id")
    assert f.loc[ids["Ana Silva"], "total_spend"] == pytest.approx(60.0)
    lifecycle = snap.labels[snap.labels["taxonomy"] == "lifecycle"].set_index("customer_id")["label"]
    assert set(lifecycle.index) == set(ids.values())
    assert lifecycle[ids["Dee Later"]] == "potential"


def test_woocommerce_snake_case_export_and_analytics_reports(
        store_engine: Engine, store_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    snake = write(tmp_path / "orders-export.csv", WOO_SNAKE, [
        {"order_id": "311", "order_number": "311", "order_date": "2025-01-10 09:00:00", "status": "completed",
         "order_total": "80.00", "refunded": "20.00", "order_currency": "EUR", "customer_user": "12",
         "billing_first_name": "Jan", "billing_last_name": "Novák", "billing_email": "JAN@example.cz",
         "billing_country": "CZ", "billing_city": "Brno", "line_item_1": "name:Tea|quantity:2|total:80.00"},
        {"order_id": "312", "order_number": "312", "order_date": "2025-01-11 09:00:00", "status": "wc-failed",
         "order_total": "15.00", "refunded": "0", "order_currency": "EUR", "customer_user": "0",
         "billing_first_name": "Eva", "billing_last_name": "Host", "billing_country": "SK"}])
    _import(store_url, "orders", snake)
    got = _orders(store_engine)
    assert got == {"311": ("Jan Novák", "completed", 6000, "online"), "312": ("Eva Host", "cancelled", 1500, "online")}
    # WooCommerce's own Analytics downloads: customers known by name in both
    other = "corner-shop"
    a_orders = write(tmp_path / "wc-orders-report.csv", WOO_ANALYTICS_ORDERS, [
        {"Date": "2025-02-01", "Order #": "901", "Status": "Completed", "Customer": "Lena Roth",
         "Customer type": "new", "Product(s)": "Tea", "Items sold": "2", "Net Sales": "18.50"},
        {"Date": "2025-02-03", "Order #": "902", "Status": "Pending payment", "Customer": "Lena Roth",
         "Customer type": "returning", "Product(s)": "Cup", "Items sold": "1", "Net Sales": "9.00"},
        {"Date": "2025-02-04", "Order #": "903", "Status": "Refunded", "Customer": "Otto Grau",
         "Customer type": "new", "Product(s)": "Cup", "Items sold": "1", "Net Sales": "0.00"}])
    a_customers = write(tmp_path / "wc-customers-report.csv", WOO_ANALYTICS_CUSTOMERS, [
        {"Name": "Lena Roth", "Username": "lena", "Date registered": "2024-12-01 10:00:00",
         "Email": "lena@example.de", "Orders": "2", "Total spend": "27.50", "Country / Region": "Germany",
         "City": "Köln"},
        {"Name": "Pia Neu", "Username": "pia", "Email": "pia@example.at", "Orders": "0", "Total spend": "0",
         "Country / Region": "Austria (AT)"}])
    for entity, path in (("customers", a_customers), ("orders", a_orders)):
        res = run_cli(store_url, "import", entity, str(path), "--shop", other)
        assert res.code == 0, res.out
    people = dict(rows(store_engine, "SELECT c.name, c.country FROM customers c JOIN shops s ON s.id = c.shop_id "
                                     "WHERE s.name = 'corner-shop' AND c.merged_into_id IS NULL"))
    assert people == {"Lena Roth": "DE", "Pia Neu": "AT", "Otto Grau": None}
    statuses = dict(rows(store_engine, "SELECT o.external_id, o.status FROM orders o JOIN shops s ON s.id = o.shop_id "
                                       "WHERE s.name = 'corner-shop'"))
    assert statuses == {"901": "completed", "902": "pending", "903": "returned"}


def test_a_bad_row_in_a_shopify_export_is_rejected_naming_its_row_and_column(
        store_engine: Engine, store_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The bad-input guarantees hold for vendor layouts: exit 3, the row, line and the export's own
    column named, every other order kept."""
    from tests.ingest.helpers import quarantine

    monkeypatch.chdir(tmp_path)
    import csv

    path = _shopify_orders(tmp_path / "orders_export.csv")
    with path.open(encoding="utf-8", newline="") as fh:
        data = list(csv.DictReader(fh))
    data[3]["Created at"] = "07/0x/2025"  # #1003's first row (data row 4)
    data[4]["Total"] = "fifty"  # #1004
    write(path, SHOPIFY_ORDERS, data)
    res = run_cli(store_url, "import", "orders", str(path), "--shop", SHOP)
    assert res.code == 3, res.out
    got = {(r["row"], r["line"], r["column"], r["rule"]) for r in quarantine(tmp_path / "orders_export.csv.rejected.csv")}
    assert got == {("4", "5", "order_date <- Created at", "date"),
                   ("5", "6", "total <- Total, Refunded Amount", "amount")}
    assert set(_orders(store_engine)) == {"#1001", "#1002", "#1005", "#1006", "#1007", "#1008"}


def test_an_order_whose_line_items_straddle_two_batches_is_one_order(
        store_engine: Engine, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from clientlens.config import load_settings
    from clientlens.ingest import import_file

    monkeypatch.chdir(tmp_path)
    settings = load_settings(search_cwd=False, overrides={"ingest": {"read_block_bytes": 1024, "batch_size": 2}})
    data: list[dict[str, str]] = []
    for i in range(150):  # ~100 kB: many read blocks, some cutting an order between its line items
        data += shopify_order(f"#{3000 + i}", [("A", "Tea", 1, "1.00"), ("B", "Cup", 2, "2.00"), ("C", "Pot", 1, "3.00")],
                              Email=f"c{i % 40}@example.com", Financial_Status="paid", Currency="EUR",
                              Total=f"{8 + i}.00", Created_at="2025-03-05 10:00:00 +0100", Billing_Name=f"C {i % 40}",
                              Source="web")
    path = write(tmp_path / "orders_export.csv", SHOPIFY_ORDERS, data)
    from clientlens.ingest.reading import FileReader
    from clientlens.store.repository import utcnow

    reader = FileReader(path, "orders", mapping=None, options=None, settings=settings, now=utcnow())
    assert len([b.kept.height for b in reader]) > 3  # the file is read in several batches
    report = import_file(store_engine, SHOP, "orders", path, settings=settings)
    assert report.rejected == 0 and report.inserted == 150 and report.read == 150
    got = _orders(store_engine)
    assert len(got) == 150 and all(got[f"#{3000 + i}"][2] == (8 + i) * 100 for i in range(150))
