"""Bad values never break an import (issue 16), on SQLite and PostgreSQL, through the CLI.

Every one of these files crashed an import, aborted it on PostgreSQL or was misread before: an empty
required amount, a formula cell without a saved value, a NUL byte, a year-0000 date, ISO 8601 times
with ``Z``. Each now gives exit 3, keeps every valid row and names the rejected ones in the
quarantine file. A header naming a column twice is refused (exit 4); two imports of one file at once
both finish; a failure of the store rolls the whole import back and marks its run failed.
"""

from __future__ import annotations

import threading
from datetime import datetime
from pathlib import Path

import polars as pl
import pytest
from sqlalchemy import Engine

from clientlens.config import load_settings
from clientlens.errors import StoreError
from clientlens.ingest import import_file
from tests.ingest.helpers import count, nothing_written, quarantine, rows, run_cli

pytestmark = pytest.mark.xdist_group("ingest_hardening")


def _orders(engine: Engine) -> list[tuple[str, int]]:
    return sorted(rows(engine, "SELECT external_id, total_minor FROM orders"))


def _q(tmp_path: Path, name: str) -> list[tuple[str, str, str, str]]:
    return [(r["row"], r["column"], r["value"], r["rule"]) for r in quarantine(tmp_path / f"{name}.rejected.csv")]


def test_an_empty_required_amount_is_quarantined_not_a_crash(url: str, engine: Engine, tmp_path: Path) -> None:
    path = tmp_path / "orders_empty_total.csv"
    path.write_text("order_id,customer_id,order_date,total\nA1,K1,2024-01-02,10.00\nA2,K2,2024-01-03,\n"
                    "A3,K3,2024-01-04,  \nA4,K4,2024-01-05,30\n")
    res = run_cli(url, "import", "orders", str(path))
    assert res.code == 3, res.out
    assert "orders_empty_total.csv: row 2 (line 3), column total: total is required [missing]" in res.out
    assert _orders(engine) == [("A1", 1000), ("A4", 3000)]
    assert _q(tmp_path, path.name) == [("2", "total", "", "missing"), ("3", "total", "  ", "missing")]
    assert count(engine, "import_runs", "WHERE status = 'finished'") == 1


def test_an_empty_unit_price_on_order_lines_is_quarantined(url: str, engine: Engine, tmp_path: Path) -> None:
    orders = tmp_path / "orders.csv"
    orders.write_text("order_id,customer_id,order_date,total\nA1,K1,2024-01-02,10\n")
    assert run_cli(url, "import", "orders", str(orders)).code == 0
    lines = tmp_path / "lines.csv"
    lines.write_text("order_id,product_id,quantity,unit_price\nA1,P1,1,4.00\nA1,P2,2,\nA1,P3,1,6.00\n")
    res = run_cli(url, "import", "order-lines", str(lines))
    assert res.code == 3, res.out
    assert sorted(rows(engine, "SELECT p.external_id, l.unit_price_minor FROM order_lines l "
                               "JOIN products p ON p.id = l.product_id")) == [("P1", 400), ("P3", 600)]
    assert _q(tmp_path, "lines.csv") == [("2", "unit_price", "", "missing")]


def test_a_formula_cell_without_a_saved_value_is_quarantined(url: str, engine: Engine, tmp_path: Path) -> None:
    from openpyxl import Workbook

    wb = Workbook()
    ws = wb.active
    ws.append(["order_id", "customer_id", "order_date", "total"])
    ws.append(["X1", "K1", "2024-01-02", 12.5])
    ws.append(["X2", "K2", "2024-01-03", "=B2*2"])  # openpyxl saves the formula, never a value
    ws.append(["X3", "K3", "2024-01-04", 7])
    path = tmp_path / "orders_formula.xlsx"
    wb.save(path)
    res = run_cli(url, "import", "orders", str(path))
    assert res.code == 3, res.out
    assert "orders_formula.xlsx: row 2 (line 3), column total" in res.out and "[formula]" in res.out
    assert _orders(engine) == [("X1", 1250), ("X3", 700)]
    assert _q(tmp_path, path.name) == [("2", "total", "=B2*2", "formula")]


def test_nul_bytes_and_year_0000_reject_their_rows_only(url: str, engine: Engine, tmp_path: Path) -> None:
    # 3,000 rows; on PostgreSQL one NUL or one year-0000 date used to abort the whole import.
    path = tmp_path / "orders_nul_year0.csv"
    body = [f"N{i},K{i % 97},2024-02-{1 + i % 28:02d},{i}.50" for i in range(1, 3001)]
    body[1499] = "N1500,K\x00X,2024-02-01,1.00"
    body[1999] = "N2000,K7,0000-01-01,1.00"
    body[2499] = "N2500,K8,9999-12-31,1.00"
    path.write_bytes(("order_id,customer_id,order_date,total\n" + "\n".join(body) + "\n").encode())
    res = run_cli(url, "import", "orders", str(path), "--delimiter", ",")
    assert res.code == 3, res.out
    assert count(engine, "orders") == 2997
    assert count(engine, "orders", "WHERE external_id IN ('N1500', 'N2000', 'N2500')") == 0
    got = _q(tmp_path, path.name)
    assert ("1500", "customer_id", "K\\x00X", "nul_byte") in got
    assert ("2000", "order_date", "0000-01-01", "year_range") in got
    assert ("2500", "order_date", "9999-12-31", "year_range") in got
    assert {r[0] for r in got} == {"1500", "2000", "2500"}
    assert b"\x00" not in (tmp_path / f"{path.name}.rejected.csv").read_bytes()


def test_a_file_that_is_mostly_nul_bytes_is_still_binary(url: str, engine: Engine, tmp_path: Path) -> None:
    path = tmp_path / "orders.csv"
    path.write_bytes(b"order_id,customer_id,order_date,total\n" + b"\x00\x01\x02" * 2000)
    res = run_cli(url, "import", "orders", str(path))
    assert res.code == 4 and "binary file" in res.out
    assert nothing_written(engine)


def test_iso_8601_times_with_z_and_offsets_are_read(url: str, engine: Engine, tmp_path: Path) -> None:
    path = tmp_path / "orders_z.csv"
    path.write_text("order_id,customer_id,order_date,total\nZ1,K1,2024-03-01T10:15:00Z,1\n"
                    "Z2,K2,2024-03-01T10:15:00.250Z,2\nZ3,K3,2024-03-01T10:15:00+02:00,3\n"
                    "Z4,K4,2024-03-01T10:15:00-0500,4\nZ5,K5,not a time,5\n")
    res = run_cli(url, "import", "orders", str(path))
    assert res.code == 3, res.out
    got = {k: v if isinstance(v, datetime) else datetime.fromisoformat(str(v))
           for k, v in rows(engine, "SELECT external_id, ordered_at FROM orders")}
    assert got == {"Z1": datetime(2024, 3, 1, 10, 15), "Z2": datetime(2024, 3, 1, 10, 15, 0, 250000),
                   "Z3": datetime(2024, 3, 1, 8, 15), "Z4": datetime(2024, 3, 1, 15, 15)}
    assert _q(tmp_path, path.name) == [("5", "order_date", "not a time", "date")]


def test_parquet_batches_go_through_the_same_validation(url: str, engine: Engine, tmp_path: Path) -> None:
    path = tmp_path / "orders.parquet"
    pl.DataFrame({"order_id": ["P1", "P2", "P3", "P4"], "customer_id": ["K1", "K\x002", "K3", "K4"],
                  "order_date": ["2024-01-02", "2024-01-03", "0000-01-01", "2024-01-05T00:00:00Z"],
                  "total": ["1", "2", "3", None]}).write_parquet(path, row_group_size=2)
    res = run_cli(url, "import", "orders", str(path))
    assert res.code == 3, res.out
    assert _orders(engine) == [("P1", 100)]
    assert [(r[0], r[3]) for r in _q(tmp_path, path.name)] == [("2", "nul_byte"), ("3", "year_range"), ("4", "missing")]


@pytest.mark.parametrize("header, first, second", [
    ("order_id,customer_id,order_date,total,total", "'total' (column 4)", "'total' (column 5)"),
    ("order_id,Customer ID,order_date,customer_id,total", "'Customer ID' (column 2)", "'customer_id' (column 4)"),
])
def test_a_header_naming_a_column_twice_is_refused(url: str, engine: Engine, tmp_path: Path, header: str,
                                                   first: str, second: str) -> None:
    path = tmp_path / "orders_dup_header.csv"
    path.write_text(header + "\nD1,K1,2024-01-02,1,2\n")
    res = run_cli(url, "import", "orders", str(path))
    assert res.code == 4, res.out
    assert "orders_dup_header.csv: the header names the same column twice" in res.out
    assert first in res.out and second in res.out and "nothing was imported" in res.out
    assert nothing_written(engine)


def test_the_same_file_imported_twice_at_once(engine: Engine, tmp_path: Path) -> None:
    path = tmp_path / "orders_twice.csv"
    path.write_text("order_id,customer_id,order_date,total\n"
                    + "".join(f"T{i},K{i % 50},2024-01-{1 + i % 28:02d},{i}\n" for i in range(3000)))
    settings = load_settings(search_cwd=False, overrides={"ingest": {"batch_size": 500}})
    reports, errors = [], []
    start = threading.Barrier(2)

    def run() -> None:
        start.wait()
        try:
            reports.append(import_file(engine, "s", "orders", path, settings=settings, quarantine_dir=tmp_path))
        except Exception as exc:  # the test fails on any
            errors.append(exc)

    threads = [threading.Thread(target=run) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=300)
    assert errors == []
    assert sorted((r.inserted, r.unchanged) for r in reports) == [(0, 3000), (3000, 0)]
    assert count(engine, "orders") == 3000 and count(engine, "customers") == 50
    assert count(engine, "import_runs", "WHERE status = 'finished'") == 2


def test_a_second_import_that_cannot_wait_says_the_first_is_running(engine: Engine, tmp_path: Path) -> None:
    from clientlens.ingest.runs import import_transaction

    path = tmp_path / "orders.csv"
    path.write_text("order_id,customer_id,order_date,total\nW1,K1,2024-01-02,1\n")
    settings = load_settings(search_cwd=False, overrides={"ingest": {"lock_wait_seconds": 1}})
    with import_transaction(engine, "s", 5):  # the first import, still running
        with pytest.raises(StoreError, match="another import into this shop is still running"):
            import_file(engine, "s", "orders", path, settings=settings, quarantine_dir=tmp_path)
    assert count(engine, "orders") == 0
    assert import_file(engine, "s", "orders", path, settings=settings, quarantine_dir=tmp_path).inserted == 1


def test_a_store_failure_rolls_the_whole_import_back(url: str, engine: Engine, tmp_path: Path,
                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    from sqlalchemy.exc import OperationalError

    from clientlens.ingest import load

    path = tmp_path / "orders_store_dies.csv"
    path.write_text("order_id,customer_id,order_date,total\n"
                    + "".join(f"F{i},K{i},2024-01-02,{i}\n" for i in range(1, 11)) + "F11,K11,2024-01-02,\n")
    real, calls, fail_at = load.LOADERS["orders"], [], [3]

    def dying(conn, ctx, batch):  # type: ignore[no-untyped-def]
        calls.append(batch.height)
        if len(calls) == fail_at[0]:
            raise OperationalError("INSERT INTO orders ...", {}, Exception("server closed the connection"))
        return real(conn, ctx, batch)

    monkeypatch.setitem(load.LOADERS, "orders", dying)
    settings = load_settings(search_cwd=False, overrides={"ingest": {"batch_size": 3}})
    with pytest.raises(StoreError, match=r"orders_store_dies.csv: the import into shop 's' failed and was rolled back"):
        import_file(engine, "s", "orders", path, settings=settings, quarantine_dir=tmp_path)
    assert len(calls) == 3 and count(engine, "orders") == 0 and count(engine, "customers") == 0
    assert rows(engine, "SELECT status FROM import_runs") == [("failed",)]
    assert "server closed the connection" in rows(engine, "SELECT error FROM import_runs")[0][0]
    assert not (tmp_path / f"{path.name}.rejected.csv").exists()
    # Through the CLI: a message and exit 1, never a traceback.
    calls.clear()
    fail_at[0] = 1
    res = run_cli(url, "import", "orders", str(path), "--shop", "s")
    assert res.code == 1 and "failed and was rolled back" in res.out and "Traceback" not in res.out


def test_batches_read_a_file_as_one_piece_would(engine: Engine, tmp_path: Path) -> None:
    """Keys, duplicates, derived ids, positions and created orders carry across batches."""
    path = tmp_path / "lines.csv"
    lines = ["InvoiceNo,StockCode,Description,Quantity,InvoiceDate,UnitPrice,CustomerID,Country"]
    for i in range(3000):
        lines.append(f"{536000 + i // 9},S{i % 13},thing,{1 + i % 3},12/1/2010 8:{i % 60:02d},{i % 7}.25,{17000 + i % 31},"
                     "United Kingdom")
    lines.insert(120, "")  # a blank line and a bad row mid-file
    lines.insert(250, "536999,S1")
    path.write_text("\n".join(lines) + "\n")
    whole = load_settings(search_cwd=False)
    small = load_settings(search_cwd=False, overrides={"ingest": {"batch_size": 7, "read_block_bytes": 2048}})
    got = []
    for i, settings in enumerate((whole, small)):
        rep = import_file(engine, f"shop{i}", "order-lines", path, settings=settings, options={"currency": "GBP"},
                          quarantine_dir=tmp_path)
        got.append((rep.counts(), [(r.row, r.line, r.rule) for r in rep.rejections],
                    sorted(rows(engine, "SELECT o.external_id, o.total_minor FROM orders o JOIN shops s ON "
                                        f"s.id = o.shop_id WHERE s.name = 'shop{i}'"))))
    assert got[0] == got[1]
    assert got[0][1] == [(249, 251, "field_count")]
