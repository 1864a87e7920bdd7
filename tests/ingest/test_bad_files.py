"""One test per file of the bad-file corpus (tests/data/bad), through the CLI, on SQLite and PostgreSQL.

Each checks the exit code, a message naming file/row/column, that no valid row is lost and that
nothing is half-written.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import Engine

from tests.ingest.helpers import BAD, count, nothing_written, quarantine, rows, run_cli

# One worker runs the whole module, so its store is migrated once per backend.
pytestmark = pytest.mark.xdist_group("ingest_bad_files")



def _totals(engine: Engine) -> list[tuple[str, int]]:
    return sorted(rows(engine, "SELECT c.external_id, o.total_minor FROM orders o "
                               "JOIN customers c ON c.id = o.customer_id"))


@pytest.mark.parametrize("name, missing", [("orders_missing_column.csv", "total"),
                                           ("orders_wrong_columns.csv", "customer_id, order_date, total")])
def test_missing_or_wrong_columns_exit_4_and_write_nothing(url: str, engine: Engine, name: str,
                                                           missing: str) -> None:
    res = run_cli(url, "import", "orders", str(BAD / name))
    assert res.code == 4
    assert name in res.out and missing in res.out and "headers found" in res.out
    assert nothing_written(engine)


def test_missing_ids_rejects_those_rows_only(url: str, engine: Engine, tmp_path: Path) -> None:
    res = run_cli(url, "import", "orders", str(BAD / "orders_missing_ids.csv"))
    assert res.code == 3
    assert "orders_missing_ids.csv: row 2 (line 3), column customer_id" in res.out
    assert _totals(engine) == [("K1", 1000), ("K3", 3000)]
    q = quarantine(tmp_path / "orders_missing_ids.csv.rejected.csv")
    assert [(r["row"], r["line"], r["column"], r["rule"]) for r in q] == [
        ("2", "3", "customer_id", "missing"), ("4", "5", "customer_id", "missing")]
    assert q[0]["order_id"] == "M2"  # original fields follow


def test_unparseable_dates_are_rejected(url: str, engine: Engine, tmp_path: Path) -> None:
    res = run_cli(url, "import", "orders", str(BAD / "orders_bad_dates.csv"))
    assert res.code == 3
    assert "orders_bad_dates.csv: row 2 (line 3), column order_date" in res.out
    assert _totals(engine) == [("K1", 1000), ("K4", 4000)]  # 2024-02-29 is a real day
    q = quarantine(tmp_path / "orders_bad_dates.csv.rejected.csv")
    assert {(r["row"], r["value"], r["rule"]) for r in q} == {
        ("2", "2024-13-45", "date"), ("3", "yesterday", "date"), ("5", "2023-02-29", "date")}


def test_future_dates_are_rejected_with_an_injectable_clock(engine: Engine, tmp_path: Path) -> None:
    from datetime import datetime

    from clientlens.config import load_settings
    from clientlens.ingest import import_file

    rep = import_file(engine, "s", "orders", BAD / "orders_future_dates.csv",
                      settings=load_settings(search_cwd=False), now=datetime(2024, 6, 30, 12, 0),
                      quarantine_dir=tmp_path)
    assert (rep.read, rep.inserted, rep.rejected, rep.exit_code) == (3, 1, 2, 3)
    assert [(r.row, r.line, r.column, r.rule) for r in rep.rejections] == [
        (2, 3, "order_date", "future_date"), (3, 4, "order_date", "future_date")]
    assert _totals(engine) == [("K1", 1000)]


def test_future_dates_via_cli(url: str, engine: Engine) -> None:
    res = run_cli(url, "import", "orders", str(BAD / "orders_future_dates.csv"))
    assert res.code == 3
    assert "orders_future_dates.csv: row 2 (line 3), column order_date" in res.out and "future_date" in res.out
    assert count(engine, "orders") == 2


def test_negative_amounts_outside_a_return_are_rejected(url: str, engine: Engine) -> None:
    res = run_cli(url, "import", "orders", str(BAD / "orders_negative_amounts.csv"))
    assert res.code == 3
    assert "row 2 (line 3), column total" in res.out and "negative" in res.out
    assert sorted(rows(engine, "SELECT external_id, total_minor, status FROM orders")) == [
        ("N1", 1000, "completed"), ("N3", -3000, "returned"), ("N4", 0, "completed")]


def test_absurd_and_non_numeric_amounts_are_rejected(url: str, engine: Engine, tmp_path: Path) -> None:
    res = run_cli(url, "import", "orders", str(BAD / "orders_absurd_amounts.csv"))
    assert res.code == 3
    assert "orders_absurd_amounts.csv: row 2 (line 3), column total" in res.out
    assert _totals(engine) == [("K1", 1000), ("K4", 99999999999)]  # just below 1e9 is kept, exactly
    q = quarantine(tmp_path / "orders_absurd_amounts.csv.rejected.csv")
    assert {(r["row"], r["rule"]) for r in q} == {("2", "absurd"), ("3", "amount"), ("5", "absurd")}


def test_unknown_currency_is_rejected(url: str, engine: Engine) -> None:
    res = run_cli(url, "import", "orders", str(BAD / "orders_unknown_currency.csv"))
    assert res.code == 3
    assert "row 2 (line 3), column currency" in res.out and "ISO 4217" in res.out
    assert sorted(rows(engine, "SELECT currency, total_minor FROM orders")) == [("EUR", 1000), ("USD", 3000)]


def test_wrong_encoding_given_exits_4_naming_the_line(url: str, engine: Engine) -> None:
    res = run_cli(url, "import", "customers", str(BAD / "customers_wrong_encoding.csv"), "--encoding", "utf-8")
    assert res.code == 4
    assert "customers_wrong_encoding.csv: not valid utf-8 at line 2" in res.out
    assert nothing_written(engine)


def test_wrong_encoding_detected_when_not_given(url: str, engine: Engine) -> None:
    res = run_cli(url, "import", "customers", str(BAD / "customers_wrong_encoding.csv"))
    assert res.code == 0
    assert sorted(rows(engine, "SELECT name, city FROM customers")) == [
        ("Jan Novák", "Brno"), ("Žofie Dvořáková", "Plzeň")]


def test_exact_duplicate_rows_without_ids_are_all_kept_and_reimport_changes_nothing(
        url: str, engine: Engine) -> None:
    for expected in ("4", "0"):
        res = run_cli(url, "import", "orders", str(BAD / "orders_duplicated_rows.csv"))
        assert res.code == 0
        assert f"orders_duplicated_rows.csv: read 4, inserted {expected}" in res.out
    assert _totals(engine) == [("K1", 1000), ("K1", 1000), ("K1", 1000), ("K2", 2000)]


def test_same_id_with_other_content_rejects_the_later_row(url: str, engine: Engine,
                                                          tmp_path: Path) -> None:
    res = run_cli(url, "import", "orders", str(BAD / "orders_duplicate_ids.csv"))
    assert res.code == 3
    assert "orders_duplicate_ids.csv: row 3 (line 4), column order_id" in res.out
    assert sorted(rows(engine, "SELECT external_id, total_minor FROM orders")) == [
        ("D1", 1000), ("D2", 2000), ("D3", 3000)]
    q = quarantine(tmp_path / "orders_duplicate_ids.csv.rejected.csv")
    assert [(r["rule"], r["total"]) for r in q] == [("duplicate_key", "99.00")]


def test_truncated_file_keeps_every_complete_row(url: str, engine: Engine, tmp_path: Path) -> None:
    res = run_cli(url, "import", "customers", str(BAD / "customers_truncated.csv"))
    assert res.code == 3
    assert "customers_truncated.csv: row 4 (line 6)" in res.out and "unterminated quote" in res.out
    assert sorted(rows(engine, "SELECT external_id, name FROM customers")) == [
        ("T1", "Alice Archer"), ("T2", 'Bob "the builder" Brown'), ("T3", "Carol\nCarter")]
    q = quarantine(tmp_path / "customers_truncated.csv.rejected.csv")
    assert [(r["row"], r["line"], r["rule"], r["customer_id"]) for r in q] == [("4", "6", "truncated", "T4")]


def test_rows_with_a_wrong_field_count_are_rejected(url: str, engine: Engine) -> None:
    res = run_cli(url, "import", "orders", str(BAD / "orders_field_count.csv"))
    assert res.code == 3
    assert "orders_field_count.csv: row 2 (line 3)" in res.out and "field_count" in res.out
    assert _totals(engine) == [("K1", 1000), ("K4", 4000)]


@pytest.mark.parametrize("name, words", [("empty.csv", "empty file"), ("orders_header_only.csv", "no data rows"),
                                         ("binary.csv", "binary file"), ("not_a_table.txt", "missing")])
def test_unusable_files_exit_4_and_write_nothing(url: str, engine: Engine, name: str, words: str) -> None:
    res = run_cli(url, "import", "orders", str(BAD / name))
    assert res.code == 4
    assert name in res.out and words in res.out and "nothing was imported" in res.out
    assert nothing_written(engine)


def test_a_10_mb_field_is_rejected_and_kept_out_of_the_quarantine(url: str, engine: Engine,
                                                                  tmp_path: Path) -> None:
    path = tmp_path / "customers_big_field.csv"
    with path.open("w", encoding="utf-8") as fh:
        fh.write("customer_id,name,address\nG1,Ann,1 Main St\n")
        fh.write(f'G2,Ben,"{"x" * 10_000_000}"\n')
        fh.write("G3,Cy,3 Elm St\n")
    res = run_cli(url, "import", "customers", str(path))
    assert res.code == 3
    assert "customers_big_field.csv: row 2 (line 3), column address" in res.out and "field_too_long" in res.out
    assert sorted(rows(engine, "SELECT external_id FROM customers")) == [("G1",), ("G3",)]
    assert (tmp_path / "customers_big_field.csv.rejected.csv").stat().st_size < 10_000
