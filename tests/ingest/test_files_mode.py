"""Files mode: ``read_table`` validates like import and gives the canonical analysis frame."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

import pyarrow as pa

from clientlens.config import load_settings
from clientlens.ingest import read_table, write_quarantine
from tests.ingest.helpers import BAD, VALID, quarantine


def test_read_table_rejects_like_import_and_writes_the_quarantine(tmp_path: Path) -> None:
    res = read_table(BAD / "orders_negative_amounts.csv", "orders", settings=load_settings(search_cwd=False),
                     now=datetime(2025, 1, 1))
    assert res.read == 4 and res.rejected == 1
    assert res.table.column("order_id").to_pylist() == ["N1", "N3", "N4"]
    assert res.table.column("total").to_pylist() == [10.0, -30.0, 0.0]
    assert res.table.schema.field("total").type == pa.float64()
    path = write_quarantine(res, BAD / "orders_negative_amounts.csv", directory=tmp_path)
    assert path == tmp_path / "orders_negative_amounts.csv.rejected.csv"
    q = quarantine(path)
    assert list(q[0])[:6] == ["row", "line", "column", "value", "rule", "message"]
    assert (q[0]["row"], q[0]["line"], q[0]["column"], q[0]["rule"], q[0]["order_id"]) == ("2", "3", "total", "negative", "N2")


def test_read_table_order_lines_frame() -> None:
    res = read_table(VALID / "orders_uci_online_retail.csv", "order_lines", settings=load_settings(search_cwd=False),
                     options={"currency": "GBP"})
    t = res.table
    assert t.column_names == ["order_id", "product_id", "category", "quantity", "unit_price", "discount",
                              "is_new_arrival"]
    assert t.column("unit_price").to_pylist() == [2.55, 3.39, 1.85, 1.69]
    assert t.column("quantity").to_pylist() == [6.0, 6.0, 6.0, 32.0]
    assert t.column("is_new_arrival").to_pylist() == [False] * 4


def test_validated_batches_leave_rejected_rows_out() -> None:
    from clientlens.ingest import validated_batches

    settings = load_settings(search_cwd=False, overrides={"ingest": {"batch_size": 2}})
    batches = list(validated_batches(BAD / "orders_absurd_amounts.csv", "orders", settings=settings))
    assert [b.height for b in batches] == [2]
    assert batches[0].get_column("total").to_list() == [1000, 99999999999]
    assert batches[0].get_column("_line").to_list() == [2, 5]
