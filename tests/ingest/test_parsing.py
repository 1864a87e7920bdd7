"""Vectorised parsers: exact money, dates, encodings, delimiters, column matching."""

from __future__ import annotations

from datetime import datetime

import polars as pl
import pytest

from clientlens.errors import InputError, MissingColumnsError
from clientlens.ingest.columns import match_columns
from clientlens.ingest.parsing import currency_exponents, datetime_expr, minor_units
from clientlens.ingest.sources import sniff_delimiter
from clientlens.ingest.textio import choose_encoding


def _minor(values: list[str], decimal: str, currency: str) -> list[int | None]:
    exp = currency_exponents().filter(pl.col("_cur") == currency).get_column("_exp").item()
    frame = pl.DataFrame({"v": values, "_exp": [exp] * len(values)})
    value, _, _ = minor_units("v", decimal, pl.col("_exp"))
    return frame.select(value.alias("m")).get_column("m").to_list()


def test_money_is_scaled_to_the_currency_minor_unit_without_floats() -> None:
    assert _minor(["0.1", "0.2", "1,234.56", "-3.5", ".5", "19.999", "0.005", "4"], ".", "USD") == [
        10, 20, 123456, -350, 50, 2000, 1, 400]
    assert _minor(["1234", "1234.5", "abc", "12.3.4"], ".", "JPY") == [1234, 1235, None, None]
    assert _minor(["1 234,50", "1.234,50", "0,07", "12,3"], ",", "EUR") == [123450, 123450, 7, 1230]
    assert _minor(["1.5"], ".", "KWD") == [1500]  # three decimals
    # 0.1 + 0.2 stays exact in minor units: no binary float on the way in.
    assert sum(_minor(["0.1", "0.2"], ".", "USD")) == 30  # type: ignore[arg-type]


def test_ambiguous_thousands_are_not_guessed() -> None:
    assert _minor(["12,5"], ".", "USD") == [None]  # a decimal comma in a '.' column is an error, not 125


def test_dates_pick_the_best_format_and_honour_a_time_zone() -> None:
    frame = pl.DataFrame({"d": ["2024-03-01", "2024-03-01 10:30:00", "2024-03-01T10:30:00+02:00", "nope"]})
    got = frame.select(datetime_expr("d", frame.get_column("d"), None, None)).get_column("d").to_list()
    assert got == [datetime(2024, 3, 1), datetime(2024, 3, 1, 10, 30), datetime(2024, 3, 1, 8, 30), None]
    frame = pl.DataFrame({"d": ["12/1/2010 8:26", "12/9/2011 12:50"]})
    got = frame.select(datetime_expr("d", frame.get_column("d"), None, "Europe/London")).get_column("d").to_list()
    assert got == [datetime(2010, 12, 1, 8, 26), datetime(2011, 12, 9, 12, 50)]


def test_encodings_are_detected_and_reported(tmp_path) -> None:  # type: ignore[no-untyped-def]
    text = "jméno;město\nŽofie Dvořáková;Plzeň\nŁukasz Wiśniewski;Łódź\nTomáš Šťastný;Brno\n"
    path = tmp_path / "f.csv"
    path.write_bytes(text.encode("cp1250"))
    assert choose_encoding(path, path.read_bytes(), None, "f.csv", 1 << 16) == "cp1250"
    path.write_bytes(b"\xef\xbb\xbfa,b\n")
    assert choose_encoding(path, path.read_bytes(), None, "f.csv", 1 << 16) == "utf-8-sig"
    path.write_bytes("a\nŁ\n".encode("cp1250"))
    with pytest.raises(InputError, match=r"f.csv: not valid utf-8 at line 2"):
        choose_encoding(path, path.read_bytes(), "utf-8", "f.csv", 1 << 16)


def test_sniff_delimiter() -> None:
    assert sniff_delimiter("a;b;c\n1;2,5;3\n") == ";"
    assert sniff_delimiter("a\tb\n1\t2\n") == "\t"
    assert sniff_delimiter("customer_id date number_of_cds dollar_value\n 00001 19970101 1 11.77\n") == " "


@pytest.mark.parametrize("entity, headers, expected", [
    ("orders", ["Customer ID", "Order Date", "Amount"], {"customer_id": "Customer ID", "order_date": "Order Date",
                                               "total": "Amount"}),
    ("order-lines", ["InvoiceNo", "StockCode", "Description", "Quantity", "InvoiceDate", "UnitPrice", "CustomerID", "Country"],
     {"order_id": "InvoiceNo", "customer_id": "CustomerID", "order_date": "InvoiceDate",
      "product_id": "StockCode", "unit_price": "UnitPrice", "product_name": "Description"}),
    ("orders", ["Name", "Email", "Financial Status", "Created at", "Currency", "Total", "Lineitem quantity"],
     {"order_id": "Name", "customer_id": "Email", "order_date": "Created at", "total": "Total"}),
    ("orders", ["cust_id", "purchase_date", "grand_total", "curr"], {"customer_id": "cust_id", "currency": "curr"}),
])
def test_known_layouts_and_alternative_headers(entity: str, headers: list[str], expected: dict[str, str]) -> None:
    got, _ = match_columns(entity, headers)
    assert {k: got[k] for k in expected} == expected


def test_missing_columns_name_the_file_and_what_to_do() -> None:
    with pytest.raises(MissingColumnsError, match=r"x.csv: required column\(s\) total missing for orders"):
        match_columns("orders", ["customer_id", "date"], source="x.csv")


def test_line_numbers_count_blank_lines_and_quoted_newlines(tmp_path) -> None:  # type: ignore[no-untyped-def]
    from clientlens.ingest.sources import read_source

    path = tmp_path / "blank.csv"
    path.write_text('a,b,c\n1,2,3\n\n4,5,6\n\n\n7,"x\ny",9\n8,8\n10,11,12\n\n')
    raw = read_source(path)
    assert raw.table.column("a").to_pylist() == ["1", "4", "7", "10"]
    assert raw.row.tolist() == [1, 2, 3, 5] and raw.line.tolist() == [2, 4, 7, 10]
    assert raw.rejections.select("row", "line", "rule").rows() == [(4, 9, "field_count")]
