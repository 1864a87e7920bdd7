"""The real CDNOW log: imported twice it leaves exactly 69,659 orders and 23,570 customers."""

from __future__ import annotations

import pytest
from sqlalchemy import Engine

from clientlens.config import load_settings
from clientlens.datasets.cdnow import data_path, load_cdnow_master
from clientlens.ingest import import_file, read_table
from tests.ingest.helpers import count, rows

# One worker runs the whole module, so its store is migrated once per backend.
pytestmark = pytest.mark.xdist_group("ingest_cdnow")



@pytest.mark.slow
def test_cdnow_master_twice_is_idempotent(engine: Engine) -> None:
    settings = load_settings(search_cwd=False, overrides={"ingest": {"batch_size": 20_000}})
    path = data_path("CDNOW_master.txt.gz")
    first = import_file(engine, "cdnow", "orders", path, settings=settings)
    second = import_file(engine, "cdnow", "orders", path, settings=settings)
    assert (first.read, first.inserted, first.rejected, first.layout) == (69_659, 69_659, 0, "cdnow")
    assert (second.inserted, second.updated, second.unchanged) == (0, 0, 69_659)
    assert count(engine, "orders") == 69_659
    assert count(engine, "customers") == 23_570
    # Money is exact: the sum of minor units equals the file's cents.
    expected = int(round(load_cdnow_master()["total"].sum() * 100))
    assert rows(engine, "SELECT SUM(total_minor) FROM orders")[0][0] == expected
    assert count(engine, "import_runs", "WHERE finished_at IS NOT NULL") == 2


def test_cdnow_files_mode_matches_the_loader() -> None:
    res = read_table(data_path("CDNOW_master.txt.gz"), "orders", settings=load_settings(search_cwd=False))
    ref = load_cdnow_master()
    t = res.table
    assert t.column_names == ["customer_id", "order_id", "order_date", "channel", "currency", "total",
                              "discount_total", "status"]
    assert t.num_rows == 69_659 and res.rejected == 0
    assert t.column("customer_id").to_pylist()[:3] == ref["customer_id"].tolist()[:3]
    assert abs(sum(t.column("total").to_pylist()) - ref["total"].sum()) < 1e-6
    assert len(set(t.column("order_id").to_pylist())) == 69_659  # 255 repeat lines keep distinct keys
